// Submits every form marked data-autosubmit once the page has loaded (no inline script needed).
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
  form.submit();
});
