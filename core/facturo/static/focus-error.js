// After a form comes back with errors, move the focus to what went wrong: the error summary,
// else the first alert in the page's content (autofocus does the same without this script).
(function () {
  var target = document.getElementById("error-summary") || document.querySelector("main [role=alert]");
  if (!target) {
    return;
  }
  if (!target.hasAttribute("tabindex")) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();
})();
