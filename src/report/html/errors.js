// Records every script error on <html data-script-errors="…">, so a reader or a test can see that the page broke.
(function () {
  "use strict";
  var root = document.documentElement;
  var errors = [];
  function record(message) {
    errors.push(String(message));
    root.setAttribute("data-script-errors", errors.join("\n"));
  }
  window.addEventListener("error", function (event) {
    record(event.message || "error");
  });
  window.addEventListener("unhandledrejection", function (event) {
    record("unhandled rejection: " + event.reason);
  });
  document.addEventListener("securitypolicyviolation", function (event) {
    record("blocked by the content security policy: " + event.violatedDirective);
  });
})();
