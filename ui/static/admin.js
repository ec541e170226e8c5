// admin.js: the retry buttons of failed jobs (POST /api/v1/jobs/{id}/retry).
"use strict";
(function () {
  const { t, api, errorMessage } = window.acervo;
  const status = document.getElementById("retry-status");
  for (const btn of document.querySelectorAll("button.retry[data-job]")) {
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      const r = await api("POST", "/api/v1/jobs/" + encodeURIComponent(btn.dataset.job) + "/retry");
      if (r.status === 200) {
        status.textContent = t("retried");
        btn.closest("tr").classList.add("retried");
      } else {
        status.textContent = t("error", errorMessage(r));
        btn.disabled = false;
      }
    });
  }
})();
