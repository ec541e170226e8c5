// The /verify page: posts the chosen file to /api/v1/verify and shows the
// answer. No inline script (the CSP forbids it); the file goes only to
// this server, and the preview of the visitor's own file is an object URL.
"use strict";
(function () {
  var form = document.getElementById("verify-form");
  var input = document.getElementById("file");
  var drop = document.getElementById("drop");
  var status = document.getElementById("status");
  var result = document.getElementById("result");
  var verdicts = { exact: "Idéntico a un original del acervo", similar: "Parecido a un original del acervo, con cambios", none: "No se encontró en el acervo" };

  function el(tag, text) { var e = document.createElement(tag); if (text) { e.textContent = text; } return e; }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function media(kind, url) {
    var m;
    if (kind === "video") { m = el("video"); m.controls = true; }
    else if (kind === "audio") { m = el("audio"); m.controls = true; }
    else { m = el("img"); m.alt = ""; }
    m.src = url;
    return m;
  }

  function fmtTime(s) { var m = Math.floor(s / 60), r = Math.round(s % 60); return m + ":" + (r < 10 ? "0" : "") + r; }

  function show(file, ans) {
    result.hidden = false;
    var v = document.getElementById("verdict");
    v.textContent = verdicts[ans.match] || ans.match;
    v.className = ans.match;
    document.getElementById("explanation").textContent = ans.explanation.es;
    document.getElementById("explanation-en").textContent = ans.explanation.en;
    var mine = document.getElementById("mine");
    clear(mine);
    mine.appendChild(media(ans.kind || "photo", URL.createObjectURL(file)));
    var off = document.getElementById("official");
    var fig = document.getElementById("official-fig");
    clear(off);
    fig.hidden = true;
    var facts = document.getElementById("facts");
    clear(facts);
    var a = ans.asset;
    if (a) {
      if (a.preview) {
        fig.hidden = false;
        var img = el("img"); img.alt = a.title || "Original"; img.src = a.preview.url;
        off.appendChild(img);
        (ans.regions || []).forEach(function (r) {
          var box = el("div"); box.className = "region";
          box.style.left = (100 * r.x / a.preview.width) + "%";
          box.style.top = (100 * r.y / a.preview.height) + "%";
          box.style.width = (100 * r.w / a.preview.width) + "%";
          box.style.height = (100 * r.h / a.preview.height) + "%";
          off.appendChild(box);
        });
      }
      var rows = [["Título", a.title], ["Evento", a.event], ["Fecha del evento", a.event_date],
        ["Fecha de captura", a.captured_at], ["Crédito", a.credit], ["Tipo", a.kind]];
      if (ans.score && ans.match === "similar") { rows.push(["Similitud", Math.round(ans.score * 100) + " %"]); }
      if (ans.regions) { rows.push(["Zonas distintas", ans.regions.length ? ans.regions.length + " (marcadas en rojo)" : "ninguna visible"]); }
      if (ans.time_range) { rows.push(["Corresponde a", fmtTime(ans.time_range.start) + " – " + fmtTime(ans.time_range.end) + " del original"]); }
      rows.forEach(function (r) { if (r[1]) { facts.appendChild(el("dt", r[0])); facts.appendChild(el("dd", String(r[1]))); } });
      if (a.public_links && a.public_links.length) {
        facts.appendChild(el("dt", "Publicado en"));
        a.public_links.forEach(function (u) {
          if (!/^https?:\/\//.test(u)) { return; }
          var dd = el("dd"), link = el("a", u); link.href = u; link.rel = "noopener";
          dd.appendChild(link); facts.appendChild(dd);
        });
      }
    }
    var box = document.getElementById("manifest-box");
    box.hidden = !ans.provenance;
    if (ans.provenance) {
      document.getElementById("manifest").textContent = "payload: " + ans.provenance.payload + "\n\nsignature: " + ans.provenance.signature + "\nkey_id: " + ans.provenance.key_id;
    }
  }

  function send(file) {
    if (!file) { return; }
    status.textContent = "Verificando…";
    result.hidden = true;
    var body = new FormData();
    body.append("file", file);
    fetch("/api/v1/verify", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, status: r.status, body: j }; }); })
      .then(function (r) {
        if (!r.ok) {
          status.textContent = (r.body.error && r.body.error.message) || ("Error " + r.status);
          return;
        }
        status.textContent = "";
        show(file, r.body);
      })
      .catch(function () { status.textContent = "No se pudo contactar al servidor."; });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.files[0]); });
  input.addEventListener("change", function () { send(input.files[0]); });
  ["dragenter", "dragover"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); }); });
  ["dragleave", "drop"].forEach(function (t) { drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); }); });
  drop.addEventListener("drop", function (e) { if (e.dataTransfer.files.length) { send(e.dataTransfer.files[0]); } });
})();
