// Reloads a page that waits for something (the bank's answer, a licence being prepared) after
// the seconds its script tag names in data-seconds; without scripts a link reloads by hand.
(function () {
  var script = document.currentScript;
  var seconds = Number(script && script.getAttribute("data-seconds")) || 5;
  window.setTimeout(function () {
    window.location.reload();
  }, seconds * 1000);
})();
