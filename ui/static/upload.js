// upload.js: the batch upload page. Files go over tus (tus-js-client,
// vendored) to /api/v1/uploads/ in chunks, two at a time, with the
// batch's event, tags, people and credit as metadata. tus-js-client keeps
// each upload's URL in localStorage under a fingerprint of the file, so a
// dropped connection retries from the last byte the server has, and after
// a closed tab choosing the same file again resumes it. When a file is
// done the server names its asset (Acervo-Asset-Id); the page polls it
// until its thumbnail is ready.
"use strict";
(function () {
  const { t, api, bytes, clock, csrf, localMessage } = window.acervo;
  const form = document.getElementById("upload-form");
  if (!form || !window.tus) return;
  const endpoint = form.dataset.endpoint;
  const chunkSize = Number(form.dataset.chunk) || Infinity;
  const list = document.getElementById("u-list");
  const tpl = document.getElementById("u-item");
  const overall = document.getElementById("overall");
  const bar = document.getElementById("u-progress");
  const summary = document.getElementById("u-summary");
  const input = document.getElementById("u-files");
  const drop = document.getElementById("drop");
  const PARALLEL = 2;
  const items = [];

  // Uploads a closed tab left unfinished.
  window.tus.defaultOptions.urlStorage.findAllUploads().then((prev) => {
    if (prev.length) {
      const p = document.getElementById("u-pending");
      p.textContent = prev.length === 1 ? t("pending1") : t("pending", prev.length);
      p.hidden = false;
    }
  }).catch(() => {});

  function field(name) { return form.elements.namedItem(name).value.trim(); }

  function addFiles(files) {
    const meta = { event: field("event"), tags: field("tags"), people: field("people"), credit: field("credit") };
    for (const file of files) {
      const el = tpl.content.firstElementChild.cloneNode(true);
      el.querySelector(".uname").textContent = file.name + " · " + bytes(file.size);
      const item = { file, el, meta, sent: 0, state: "waiting", upload: null };
      setState(item, "waiting", t("waiting"));
      const pause = el.querySelector(".upause");
      pause.textContent = t("pause");
      pause.addEventListener("click", () => togglePause(item));
      list.appendChild(el);
      items.push(item);
    }
    overall.hidden = false;
    pump();
  }

  function setState(item, state, text) {
    item.state = state;
    item.el.dataset.state = state;
    item.el.querySelector(".ustatus").textContent = text;
    const pause = item.el.querySelector(".upause");
    pause.hidden = !(state === "uploading" || state === "paused" || state === "retrying");
    pause.textContent = state === "paused" ? t("resume") : t("pause");
  }

  function active() { return items.filter((i) => i.state === "uploading" || i.state === "retrying").length; }

  function pump() {
    for (const item of items) {
      if (active() >= PARALLEL) break;
      if (item.state === "waiting") start(item);
    }
  }

  function start(item) {
    setState(item, "uploading", t("uploading", 0));
    const meta = { filename: item.file.name, filetype: item.file.type || "" };
    for (const [k, v] of Object.entries(item.meta)) if (v) meta[k] = v;
    const upload = new window.tus.Upload(item.file, {
      endpoint, chunkSize, metadata: meta,
      headers: { "X-CSRF-Token": csrf },
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000],
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress(sent, total) {
        item.sent = sent;
        if (item.state === "retrying") setState(item, "uploading", "");
        item.el.querySelector("progress").value = total ? sent / total : 0;
        item.el.querySelector(".ustatus").textContent = t("uploading", total ? Math.floor(sent / total * 100) : 0);
      },
      onShouldRetry(err) {
        const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
        const retry = !(status >= 400 && status < 500 && status !== 409 && status !== 423);
        if (retry) setState(item, "retrying", t("retrying"));
        return retry;
      },
      onAfterResponse(req, res) {
        const asset = res.getHeader("Acervo-Asset-Id");
        if (asset) {
          item.assetId = asset;
          item.duplicate = res.getHeader("Acervo-Duplicate") === "true";
        }
      },
      onError(err) {
        const res = err.originalResponse;
        let msg = err.message;
        if (res) {
          try { msg = localMessage(JSON.parse(res.getBody()).error.message); } catch (_) { msg = "HTTP " + res.getStatus(); }
        }
        const refused = res && res.getStatus() === 415;
        // A refusal is final: forget the upload so no page offers to resume it.
        if (res && res.getStatus() >= 400 && res.getStatus() < 500) forget(upload);
        setState(item, refused ? "refused" : "error", refused ? t("refused", msg) : t("error", msg));
        pump();
      },
      async onSuccess() {
        item.sent = item.file.size;
        item.el.querySelector("progress").value = 1;
        if (!item.assetId && upload.url) await finishComplete(item, upload.url);
        finished(item);
        pump();
      },
    });
    item.upload = upload;
    upload.findPreviousUploads().then((prev) => {
      if (prev.length) upload.resumeFromPreviousUpload(prev[0]);
      upload.start();
    });
  }

  function forget(upload) {
    const storage = window.tus.defaultOptions.urlStorage;
    upload.findPreviousUploads().then((prev) => {
      for (const p of prev) storage.removeUpload(p.urlStorageKey);
    }).catch(() => {});
  }

  function togglePause(item) {
    if (!item.upload) return;
    if (item.state === "paused") {
      setState(item, "uploading", t("uploading", Math.floor(item.sent / item.file.size * 100)));
      item.upload.start();
    } else {
      item.upload.abort();
      setState(item, "paused", t("paused"));
      pump();
    }
  }

  // A resumed upload whose bytes had all reached the server, but whose
  // last answer a crash lost: tus-js-client stops at its HEAD without a
  // PATCH, so no answer names the asset. An empty PATCH at the full offset
  // asks the server to finish it, as it does for any complete upload.
  async function finishComplete(item, url) {
    try {
      const res = await fetch(url, {
        method: "PATCH", credentials: "same-origin",
        headers: {
          "Tus-Resumable": "1.0.0", "Upload-Offset": String(item.file.size),
          "Content-Type": "application/offset+octet-stream", "X-CSRF-Token": csrf,
        },
      });
      const id = res.headers.get("Acervo-Asset-Id");
      if (res.ok && id) {
        item.assetId = id;
        item.duplicate = res.headers.get("Acervo-Duplicate") === "true";
      }
    } catch (_) { /* finished() shows the error */ }
  }

  function finished(item) {
    if (!item.assetId) {
      setState(item, "error", t("error", "?"));
      return;
    }
    item.el.dataset.assetId = item.assetId;
    const open = item.el.querySelector(".uopen");
    open.href = "/assets/" + encodeURIComponent(item.assetId);
    open.textContent = t("open");
    open.hidden = false;
    setState(item, item.duplicate ? "duplicate" : "processing", item.duplicate ? t("duplicate") : t("processing"));
    poll(item);
  }

  async function poll(item) {
    const r = await api("GET", "/api/v1/assets/" + encodeURIComponent(item.assetId));
    if (r.status === 200) {
      const a = r.body;
      const thumb = a.renditions && a.renditions["thumb.jpg"];
      if (thumb) {
        const img = item.el.querySelector(".uthumb img");
        img.alt = a.title || a.filename;
        img.src = thumb.url;
        img.hidden = false;
      }
      if (a.status === "ready") {
        if (!item.duplicate) setState(item, "ready", t("ready"));
        return;
      }
      if (a.status === "failed") {
        setState(item, "failed", t("failed", a.error || ""));
        return;
      }
    }
    setTimeout(() => poll(item), 1500);
  }

  // Overall progress, speed and time left, once a second.
  let lastBytes = 0, lastTime = performance.now(), speed = 0;
  setInterval(() => {
    if (!items.length) return;
    const total = items.reduce((s, i) => s + i.file.size, 0);
    const sent = items.reduce((s, i) => s + (["refused", "error"].includes(i.state) ? i.file.size : i.sent), 0);
    const now = performance.now();
    const inst = Math.max(0, (sent - lastBytes) / ((now - lastTime) / 1000));
    speed = speed ? speed * 0.7 + inst * 0.3 : inst;
    lastBytes = sent; lastTime = now;
    bar.value = total ? sent / total : 0;
    const done = items.filter((i) => !["waiting", "uploading", "retrying", "paused"].includes(i.state)).length;
    let text = t("summary", done, items.length, bytes(sent), bytes(total));
    if (active() && speed > 0) text += " · " + t("speed", bytes(speed)) + " · " + t("left", clock((total - sent) / speed));
    summary.textContent = text;
  }, 1000);

  input.addEventListener("change", () => { addFiles(Array.from(input.files)); input.value = ""; });
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer && ev.dataTransfer.files.length) addFiles(Array.from(ev.dataTransfer.files));
  });
  form.addEventListener("submit", (ev) => ev.preventDefault());
})();
