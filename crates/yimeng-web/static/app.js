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
  // The phone menu button (a label for a hidden checkbox, so it works without this) also opens
  // with the keyboard.
  document.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target.classList && e.target.classList.contains("menu-btn")) {
      e.preventDefault();
      var t = document.getElementById("nav-toggle");
      if (t) { t.checked = !t.checked; }
    }
  });
  // Disable a submit button after the first click (imports take a while).
  document.addEventListener("submit", function (e) {
    var b = e.target.querySelector("button[data-busy]");
    if (b) { b.disabled = true; b.textContent = b.getAttribute("data-busy"); }
  });
})();
