// trust.js: the islands of collections, share links and users (issue #5).
// Each part starts only when its element is on the page. User data goes
// through textContent and values only.
"use strict";
(function () {
  const { t, api, errorMessage } = window.acervo;
  const byId = (id) => document.getElementById(id);
  const say = (el, msg) => { if (el) el.textContent = msg; };
  // field is a form's control by name ("name" and "title" would otherwise
  // read as the form's own properties in some browsers).
  const field = (form, n) => form.elements.namedItem(n);

  // New collection: create it, then open it.
  const newCol = byId("new-collection");
  if (newCol) {
    newCol.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await api("POST", "/api/v1/collections", { name: field(newCol, "name").value, description: field(newCol, "description").value });
      if (r.status === 201) window.location.assign("/collections/" + encodeURIComponent(r.body.id));
      else say(byId("new-collection-status"), t("error", errorMessage(r)));
    });
  }

  // Add this asset to a collection.
  const add = byId("add-to-collection");
  if (add) {
    add.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await api("PATCH", "/api/v1/collections/" + encodeURIComponent(field(add, "collection").value), { add: [add.dataset.asset] });
      say(byId("add-status"), r.status === 200 ? t("added") : t("error", errorMessage(r)));
    });
  }

  // A collection's order: move up or down, remove; each change is saved.
  const list = byId("collection-items");
  if (list) {
    const status = byId("collection-status");
    const order = () => [...list.querySelectorAll("li[data-asset]")].map((li) => li.dataset.asset);
    const save = async (body) => {
      const r = await api("PATCH", "/api/v1/collections/" + encodeURIComponent(list.dataset.collection), body);
      say(status, r.status === 200 ? t("saved") : t("error", errorMessage(r)));
      return r.status === 200;
    };
    list.addEventListener("click", async (ev) => {
      const btn = ev.target.closest("button");
      const li = btn && btn.closest("li[data-asset]");
      if (!li) return;
      if (btn.classList.contains("remove")) {
        if (await save({ remove: [li.dataset.asset] })) li.remove();
        return;
      }
      const up = btn.classList.contains("move-up");
      const other = up ? li.previousElementSibling : li.nextElementSibling;
      if (!other) return;
      if (up) list.insertBefore(li, other); else list.insertBefore(other, li);
      await save({ assets: order() });
      btn.focus();
    });
  }

  // Share form: a link for an asset, a collection or an event. The token
  // comes back once; the page shows it with a copy button.
  const share = byId("share-form");
  if (share) {
    const expires = field(share, "expires");
    if (!expires.value) {
      const d = new Date(Date.now() + 30 * 864e5);
      expires.value = d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
    }
    share.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = {
        recipient: field(share, "recipient").value, title: field(share, "title").value,
        expires_at: new Date(expires.value + "T23:59:59").toISOString(),
        allow_download: field(share, "allow_download").checked, public: field(share, "public").checked, max_downloads: Number(field(share, "max_downloads").value) || 0,
        watermark: field(share, "watermark").value, credit: field(share, "credit").value, password: field(share, "password").value,
      };
      if (field(share, "starts").value) body.starts_at = new Date(field(share, "starts").value).toISOString();
      const target = share.dataset.target;
      if (target === "assets") body.assets = [share.dataset.id]; else body[target] = share.dataset.id;
      const r = await api("POST", "/api/v1/shares", body);
      if (r.status !== 201) {
        say(byId("share-status"), t("error", errorMessage(r)));
        return;
      }
      say(byId("share-status"), t("created"));
      byId("share-url").value = r.body.url;
      byId("share-result").hidden = false;
      byId("share-url").select();
    });
    byId("share-copy").addEventListener("click", async () => {
      const input = byId("share-url");
      input.select();
      try { await navigator.clipboard.writeText(input.value); } catch (_) { document.execCommand("copy"); }
      say(byId("share-status"), t("copied"));
    });
  }

  // Link list: revoke.
  const shares = byId("shares");
  if (shares) {
    shares.addEventListener("click", async (ev) => {
      const btn = ev.target.closest("button.revoke");
      const tr = btn && btn.closest("tr[data-share]");
      if (!tr || !window.confirm(t("confirmrevoke"))) return;
      const r = await api("DELETE", "/api/v1/shares/" + encodeURIComponent(tr.dataset.share));
      if (r.status === 200) {
        tr.querySelector(".state").textContent = t("revoked");
        btn.remove();
      } else say(byId("shares-status"), t("error", errorMessage(r)));
    });
  }

  // Users: change a role, disable or enable, sign out everywhere, create.
  const users = byId("users");
  if (users) {
    const status = byId("users-status");
    const patch = (tr, body) => api("PATCH", "/api/v1/users/" + encodeURIComponent(tr.dataset.user), body);
    users.addEventListener("change", async (ev) => {
      const sel = ev.target.closest("select.role");
      if (!sel) return;
      const r = await patch(sel.closest("tr"), { role: sel.value });
      say(status, r.status === 200 ? t("saved") : t("error", errorMessage(r)));
    });
    users.addEventListener("click", async (ev) => {
      const btn = ev.target.closest("button");
      const tr = btn && btn.closest("tr[data-user]");
      if (!tr) return;
      if (btn.classList.contains("signout")) {
        const r = await api("DELETE", "/api/v1/users/" + encodeURIComponent(tr.dataset.user) + "/sessions");
        say(status, r.status === 204 ? t("signedout") : t("error", errorMessage(r)));
        return;
      }
      if (btn.classList.contains("toggle")) {
        const disable = btn.dataset.disabled !== "true";
        const r = await patch(tr, { disabled: disable });
        if (r.status !== 200) { say(status, t("error", errorMessage(r))); return; }
        btn.dataset.disabled = String(disable);
        btn.textContent = disable ? t("enable") : t("disable");
        tr.querySelector(".state").textContent = disable ? t("disabled") : t("enabled");
        say(status, t("saved"));
      }
    });
    const form = byId("new-user");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const r = await api("POST", "/api/v1/users", {
        username: field(form, "username").value, name: field(form, "name").value, area: field(form, "area").value, role: field(form, "role").value, password: field(form, "password").value,
      });
      if (r.status === 201) window.location.reload();
      else say(byId("new-user-status"), t("error", errorMessage(r)));
    });
  }
})();
