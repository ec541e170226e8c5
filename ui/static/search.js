// search.js: the grid's infinite scroll and hover scrubbing of videos.
// The next cards come from the server as an HTML fragment rendered (and
// escaped) by the same template as the first ones; they are parsed with
// DOMParser and moved in as nodes.
"use strict";
(function () {
  const grid = document.getElementById("grid");
  if (!grid) return;

  let loading = false;
  async function loadMore(li) {
    if (loading) return;
    loading = true;
    try {
      const res = await fetch(li.dataset.next, { credentials: "same-origin" });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString("<ul>" + await res.text() + "</ul>", "text/html");
      const items = Array.from(doc.body.firstElementChild.children);
      li.remove();
      for (const item of items) {
        grid.appendChild(document.adoptNode(item));
      }
      watch();
    } finally {
      loading = false;
    }
  }

  const io = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (e.isIntersecting) { io.unobserve(e.target); loadMore(e.target); }
    }
  }, { rootMargin: "600px" }) : null;

  function watch() {
    const more = grid.querySelector("li.more[data-next]");
    if (more && io) io.observe(more);
  }
  watch();

  // Hover scrubbing: the pointer's position across a video card picks a
  // tile of its sprite, drawn over the thumbnail on a canvas.
  async function scrub(thumb, ev) {
    let canvas = thumb.querySelector("canvas.scrub");
    if (!canvas) {
      canvas = document.createElement("canvas");
      canvas.className = "scrub";
      canvas.hidden = true;
      canvas.setAttribute("aria-hidden", "true");
      thumb.appendChild(canvas);
    }
    const rect = thumb.getBoundingClientRect();
    const frac = Math.min(0.999, Math.max(0, (ev.clientX - rect.left) / rect.width));
    if (await window.acervo.drawTile(canvas, thumb.dataset.vtt, thumb.dataset.sprite, frac)) canvas.hidden = false;
  }

  grid.addEventListener("pointermove", (ev) => {
    const thumb = ev.target.closest && ev.target.closest(".thumb[data-vtt][data-sprite]");
    if (thumb) scrub(thumb, ev);
  });
  grid.addEventListener("pointerout", (ev) => {
    const thumb = ev.target.closest && ev.target.closest(".thumb[data-vtt]");
    if (thumb && !thumb.contains(ev.relatedTarget)) {
      const c = thumb.querySelector("canvas.scrub");
      if (c) c.hidden = true;
    }
  });
})();
