// 沂蒙教育治理平台 — small enhancements; every page works without them.
(function () {
  "use strict";
  // Ask before destructive or irreversible actions: <form data-confirm="…">.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
  // Filters apply as soon as a select changes: <select data-autosubmit>.
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]") && e.target.form) { e.target.form.submit(); }
  });
  // Disable a submit button after the first click (imports take a while).
  document.addEventListener("submit", function (e) {
    var b = e.target.querySelector("button[data-busy]");
    if (b) { b.disabled = true; b.textContent = b.getAttribute("data-busy"); }
  });
})();
