// scanscribe review: keyboard handling for the queue view and word fixing in the page view.
// Plain JavaScript, no build step, nothing fetched from elsewhere.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.dataset.csrf;
  var busy = false;

  function show(message) {
    var el = document.getElementById("message");
    el.textContent = message;
    el.hidden = false;
  }

  // POST a JSON body with the CSRF header; calls done(response JSON) on success. A conflict
  // (409) means another reviewer wrote first: go to conflictUrl, which shows the message.
  function post(url, payload, done, conflictUrl) {
    busy = true;
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload),
      credentials: "same-origin",
    }).then(function (r) {
      return r.json().catch(function () { return { message: r.statusText }; }).then(function (j) {
        if (r.ok) { done(j); return; }
        busy = false;
        if (r.status === 409) { show(j.message + " Reloading..."); location.assign(conflictUrl); return; }
        show("Not saved: " + (j.message || r.status));
      });
    }).catch(function (e) { busy = false; show("Not saved: " + e); });
  }

  // Key press to the next item fully drawn (images included), measured across the page load:
  // shown to nobody, read by bench/review_latency.py from data-roundtrip-ms.
  window.addEventListener("load", function () {
    var at = sessionStorage.getItem("scanscribe-key-at");
    if (at !== null) {
      sessionStorage.removeItem("scanscribe-key-at");
      body.dataset.roundtripMs = String(Date.now() - parseInt(at, 10));
    }
  });

  function queueView() {
    var item = parseInt(body.dataset.item, 10);
    var reading = body.dataset.reading;
    var notChar = body.dataset.notchar;
    function go(i) { if (i !== "") { location.assign("/?i=" + i); } }
    function decide(text) {
      sessionStorage.setItem("scanscribe-key-at", String(Date.now()));
      post("/api/decide", { item: item, text: text, seen: body.dataset.seen }, function (j) {
        document.getElementById("progress").textContent = j.reviewed + " of " + j.total + " reviewed";
        location.assign(j.next === null ? "/" : "/?i=" + j.next);
      }, "/?i=" + item + "&notice=conflict");
    }
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || busy) { return; }
      var k = e.key;
      if (k === "Enter") { decide(reading); }
      else if (k === "Backspace" || k === "ArrowLeft") { go(body.dataset.prev); }
      else if (k === "ArrowRight") { go(body.dataset.next); }
      else if (k === notChar || k === "Delete") { decide(null); }
      else if (/^[a-zA-Z0-9]$/.test(k)) { decide(k.toUpperCase()); }
      else { return; }
      e.preventDefault();
    });
  }

  function place(el) {
    var b = el.dataset.box.split(",");
    el.style.left = b[0] + "%";
    el.style.top = b[1] + "%";
    el.style.width = b[2] + "%";
    el.style.height = b[3] + "%";
    if (el.dataset.colour) { el.style.borderColor = el.dataset.colour; }
  }

  function pageView() {
    var result = body.dataset.result;
    var editor = document.getElementById("word-editor");
    var input = document.getElementById("word-input");
    var current = null;
    document.querySelectorAll("[data-box]").forEach(place);
    document.querySelectorAll(".wbox").forEach(function (btn) {
      btn.addEventListener("click", function () {
        current = btn;
        document.getElementById("word-old").textContent = "\u201c" + btn.title + "\u201d";
        editor.hidden = false;
        input.value = btn.dataset.typed;
        input.maxLength = btn.dataset.typed.length;
        input.focus();
        input.select();
      });
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { editor.hidden = true; if (current) { current.focus(); } return; }
      if (e.key !== "Enter" || busy || current === null) { return; }
      e.preventDefault();
      var here = location.pathname + location.search.replace(/&?notice=[^&]*/, "");
      post("/api/word", {
        result: result,
        line: parseInt(current.dataset.line, 10),
        word: parseInt(current.dataset.word, 10),
        text: input.value,
        seen: current.dataset.seen.split("|"),
      }, function () { location.reload(); }, here + "&notice=conflict");
    });
  }

  if (body.dataset.view === "queue") { queueView(); }
  if (body.dataset.view === "page") { pageView(); }
})();
