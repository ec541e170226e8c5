// login.js: the sign-in form posts JSON to /api/v1/login, then goes on to
// the page the user wanted.
"use strict";
(function () {
  const form = document.getElementById("login-form");
  const err = document.getElementById("login-error");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const r = await window.acervo.api("POST", "/api/v1/login", {
      username: form.username.value, password: form.password.value,
    });
    if (r.status !== 200) {
      err.textContent = window.acervo.errorMessage(r) || window.acervo.t("loginfail");
      err.hidden = false;
      form.password.focus();
      return;
    }
    const next = form.dataset.next || "/";
    window.location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
  });
})();
