// app.js: what every page shares. The CSRF token, the messages of the
// page's language, a fetch wrapper for the JSON API, and the sign-out
// button. No page builds HTML from strings: user data goes through
// textContent and attributes only.
"use strict";
(function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const i18nEl = document.getElementById("i18n");
  const messages = i18nEl ? JSON.parse(i18nEl.textContent) : {};

  // t returns the message key with {0}, {1}… replaced by args.
  function t(key, ...args) {
    const msg = messages[key] || key;
    return msg.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)]));
  }

  // api calls the JSON API with the session cookie and the CSRF token,
  // and returns {status, body}; body is the parsed JSON or null.
  async function api(method, url, body) {
    const headers = {};
    if (meta && meta.content) headers["X-CSRF-Token"] = meta.content;
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(url, init);
    let data = null;
    try { data = await res.json(); } catch (_) { /* empty body */ }
    return { status: res.status, body: data };
  }

  // localMessage picks the page's language from the API's bilingual
  // messages, written "español / English".
  function localMessage(msg) {
    const parts = String(msg).split(" / ");
    if (parts.length !== 2) return msg;
    return document.documentElement.lang.startsWith("es") ? parts[0] : parts[1];
  }

  // errorMessage is the API's message for a failed call.
  function errorMessage(r) {
    const msg = r.body && r.body.error && r.body.error.message;
    return msg ? localMessage(msg) : "HTTP " + r.status;
  }

  function bytes(n) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    const s = i === 0 ? String(Math.round(n)) : n.toFixed(1);
    return (document.documentElement.lang.startsWith("es") ? s.replace(".", ",") : s) + " " + units[i];
  }

  function clock(sec) {
    if (!isFinite(sec) || sec < 0) return "–";
    sec = Math.round(sec);
    const h = Math.floor(sec / 3600), m = Math.floor(sec / 60) % 60, s = sec % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  // spriteTiles reads sprite.vtt, which maps even stretches of a video to
  // tiles of sprite.jpg ("sprite.jpg#xywh=x,y,w,h"): [[x, y, w, h], …].
  const vttCache = new Map();
  function spriteTiles(url) {
    if (!vttCache.has(url)) {
      vttCache.set(url, fetch(url, { credentials: "same-origin" }).then((r) => r.text()).then((text) => {
        const out = [];
        for (const m of text.matchAll(/#xywh=(\d+),(\d+),(\d+),(\d+)/g)) out.push(m.slice(1).map(Number));
        return out;
      }).catch(() => []));
    }
    return vttCache.get(url);
  }
  const sprites = new Map();
  function spriteImage(url) {
    if (!sprites.has(url)) {
      const img = new Image();
      img.src = url;
      sprites.set(url, img);
    }
    return sprites.get(url);
  }
  // drawTile draws the tile at fraction frac (0–1) of the video into canvas;
  // false while the sprite is not loaded yet.
  async function drawTile(canvas, vtt, spriteURL, frac) {
    const list = await spriteTiles(vtt);
    const img = spriteImage(spriteURL);
    if (!list.length || !img.complete || !img.naturalWidth) return false;
    const [x, y, w, h] = list[Math.min(list.length - 1, Math.max(0, Math.floor(frac * list.length)))];
    canvas.width = w;
    canvas.height = h;
    canvas.getContext("2d").drawImage(img, x, y, w, h, 0, 0, w, h);
    return true;
  }

  window.acervo = { t, api, errorMessage, localMessage, bytes, clock, drawTile, csrf: meta ? meta.content : "" };

  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      await api("POST", "/api/v1/logout");
      window.location.assign("/login");
    });
  }
})();
