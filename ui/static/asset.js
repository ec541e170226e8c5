// asset.js: the asset page's islands. Photo zoom, in/out points and the
// clip link for video and audio, the audio waveform on a canvas (from
// waveform.json, the audiowaveform/peaks.js v2 format), and the edit form
// (PATCH /api/v1/assets/{id}).
"use strict";
(function () {
  const { t, api, errorMessage, clock } = window.acervo;
  const article = document.querySelector("article.asset");
  if (!article) return;
  const id = article.dataset.id;

  // Zoom: the preview fits the page; toggled, it shows at full size in a
  // scrollable box. A button, so Enter and Space work too.
  const zoom = document.getElementById("zoom");
  if (zoom) {
    zoom.addEventListener("click", (ev) => {
      const on = zoom.classList.toggle("zoomed");
      zoom.setAttribute("aria-pressed", String(on));
      if (on) {
        const img = document.getElementById("photo");
        const r = img.getBoundingClientRect();
        const fx = (ev.clientX - r.left) / r.width || 0.5, fy = (ev.clientY - r.top) / r.height || 0.5;
        requestAnimationFrame(() => {
          zoom.scrollLeft = fx * zoom.scrollWidth - zoom.clientWidth / 2;
          zoom.scrollTop = fy * zoom.scrollHeight - zoom.clientHeight / 2;
        });
      }
    });
  }

  const player = document.getElementById("player");
  const duration = Number(article.dataset.duration) || 0;
  let markIn = 0, markOut = duration;

  // Seek bar with preview: hovering or dragging shows the sprite's tile
  // of that moment above the bar; releasing seeks the video there.
  const seek = document.getElementById("seek");
  if (seek && player) {
    const range = document.getElementById("seek-range");
    const preview = document.getElementById("seek-preview");
    const show = async (frac) => {
      if (!(await window.acervo.drawTile(preview, seek.dataset.vtt, seek.dataset.sprite, frac))) return;
      const w = range.getBoundingClientRect().width;
      preview.style.left = Math.max(0, Math.min(w - preview.width, frac * w - preview.width / 2)) + "px";
      preview.hidden = false;
    };
    const max = () => Number(range.max) || 1;
    range.addEventListener("pointermove", (ev) => {
      const r = range.getBoundingClientRect();
      show(Math.min(0.999, Math.max(0, (ev.clientX - r.left) / r.width)));
    });
    range.addEventListener("pointerleave", () => { preview.hidden = true; });
    range.addEventListener("input", () => show(Number(range.value) / max()));
    range.addEventListener("change", () => { player.currentTime = Number(range.value); preview.hidden = true; });
    player.addEventListener("timeupdate", () => { if (document.activeElement !== range) range.value = String(player.currentTime); });
  }

  const link = document.getElementById("clip-link");
  function updateClip() {
    document.getElementById("in-time").textContent = clock(markIn);
    document.getElementById("out-time").textContent = clock(markOut);
    const ok = markOut > markIn;
    link.href = "/api/v1/assets/" + encodeURIComponent(id) + "/clip?start=" + markIn.toFixed(3) + "&end=" + markOut.toFixed(3);
    link.setAttribute("aria-disabled", String(!ok));
    link.classList.toggle("disabled", !ok);
    drawWave();
  }
  if (player && link) {
    document.getElementById("mark-in").addEventListener("click", () => {
      markIn = player.currentTime;
      if (markOut <= markIn) markOut = duration;
      updateClip();
    });
    document.getElementById("mark-out").addEventListener("click", () => {
      markOut = player.currentTime;
      if (markOut <= markIn) markIn = 0;
      updateClip();
    });
    link.addEventListener("click", (ev) => { if (markOut <= markIn) ev.preventDefault(); });
  }

  // Waveform: min/max pairs per pixel column, drawn over the canvas
  // width; the played part and the in/out range are shaded.
  const canvas = document.getElementById("waveform");
  let peaks = null;
  function drawWave() {
    if (!canvas || !peaks) return;
    const ctx = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height, mid = h / 2;
    const styles = getComputedStyle(canvas);
    ctx.clearRect(0, 0, w, h);
    const total = peaks.length;
    const dur = (player && isFinite(player.duration) && player.duration) || duration || 1;
    ctx.fillStyle = styles.getPropertyValue("--range").trim() || "rgba(0,90,160,.15)";
    ctx.fillRect(markIn / dur * w, 0, (markOut - markIn) / dur * w, h);
    const played = player ? player.currentTime / dur * w : 0;
    const scale = peaks.top || 1;
    for (let x = 0; x < w; x++) {
      const a = Math.floor(x / w * total), b = Math.max(a + 1, Math.floor((x + 1) / w * total));
      let lo = 0, hi = 0;
      for (let i = a; i < b && i < total; i++) {
        lo = Math.min(lo, peaks.lo[i]);
        hi = Math.max(hi, peaks.hi[i]);
      }
      ctx.fillStyle = x < played ? (styles.getPropertyValue("--played").trim() || "#0b5cab") : (styles.getPropertyValue("--wave").trim() || "#6b7c93");
      const top = mid - hi / scale * (mid - 2), bottom = mid - lo / scale * (mid - 2);
      ctx.fillRect(x, top, 1, Math.max(1, bottom - top));
    }
  }
  async function loadWave() {
    const res = await fetch(canvas.dataset.src, { credentials: "same-origin" });
    if (!res.ok) return;
    const wf = await res.json();
    const ch = wf.channels || 1, n = wf.length;
    const min = new Float32Array(n), max = new Float32Array(n);
    let top = 1;
    for (let i = 0; i < n; i++) {
      // Channels interleave per point: [min0, max0, min1, max1, …].
      let lo = 0, hi = 0;
      for (let c = 0; c < ch; c++) {
        lo = Math.min(lo, wf.data[(i * ch + c) * 2]);
        hi = Math.max(hi, wf.data[(i * ch + c) * 2 + 1]);
      }
      min[i] = lo; max[i] = hi;
      top = Math.max(top, hi, -lo);
    }
    peaks = { lo: min, hi: max, length: n, top };
    drawWave();
  }
  if (canvas && canvas.dataset.src) {
    canvas.width = Math.max(300, Math.round(canvas.clientWidth * (window.devicePixelRatio || 1))) || canvas.width;
    loadWave();
    const seekTo = (frac) => {
      if (!player) return;
      const dur = isFinite(player.duration) ? player.duration : duration;
      player.currentTime = Math.max(0, Math.min(dur, frac * dur));
    };
    canvas.addEventListener("click", (ev) => {
      const r = canvas.getBoundingClientRect();
      seekTo((ev.clientX - r.left) / r.width);
    });
    canvas.addEventListener("keydown", (ev) => {
      if (!player) return;
      if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
        ev.preventDefault();
        player.currentTime = Math.max(0, player.currentTime + (ev.key === "ArrowRight" ? 5 : -5));
      } else if (ev.key === " " || ev.key === "Enter") {
        ev.preventDefault();
        if (player.paused) player.play(); else player.pause();
      }
    });
    if (player) {
      player.addEventListener("timeupdate", drawWave);
      player.addEventListener("seeked", drawWave);
    }
  }

  const form = document.getElementById("edit-form");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const status = document.getElementById("edit-status");
      const field = (n) => form.elements.namedItem(n);
      const tags = field("tags").value.split(",").map((s) => s.trim()).filter(Boolean);
      const people = Array.from(field("people").selectedOptions).map((o) => o.value);
      const r = await api("PATCH", "/api/v1/assets/" + encodeURIComponent(id), {
        title: field("title").value, caption: field("caption").value, credit: field("credit").value,
        tags, people, event: field("event").value || null,
      });
      if (r.status !== 200) {
        status.textContent = t("savefail", errorMessage(r));
        return;
      }
      document.getElementById("asset-title").textContent = r.body.title || r.body.filename;
      status.textContent = t("saved");
    });
  }
})();
