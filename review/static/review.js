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

  // Key press to the next item fully drawn (images included): shown to nobody, read by
  // bench/review_latency.py from data-roundtrip-ms. Kept across a page load if there is one.
  function drawn(at) {
    var images = Array.prototype.slice.call(document.images);
    Promise.all(images.map(function (im) { return im.decode().catch(function () {}); }))
      .then(function () { document.body.dataset.roundtripMs = String(Date.now() - at); });
  }
  window.addEventListener("load", function () {
    var at = sessionStorage.getItem("scanscribe-key-at");
    if (at !== null) {
      sessionStorage.removeItem("scanscribe-key-at");
      document.body.dataset.roundtripMs = String(Date.now() - parseInt(at, 10));
    }
  });

  function queueView() {
    // The next item's page is fetched while the reviewer looks at this one (its pictures
    // too, into the browser cache), so a decision only waits for its own POST.
    var ready = {};
    function prefetch(i) {
      if (i === "" || i === undefined || ready[i]) { return; }
      ready[i] = fetch("/?i=" + i, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error(r.statusText); }
        return r.text();
      }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        doc.querySelectorAll("img").forEach(function (im) { new Image().src = im.getAttribute("src"); });
        return doc;
      });
      ready[i].catch(function () { delete ready[i]; });
    }
    function go(i, at, progress) {
      if (i === "" || i === null) { location.assign("/"); return; }
      var pending = ready[i];
      if (!pending) {
        if (at) { sessionStorage.setItem("scanscribe-key-at", String(at)); }
        location.assign("/?i=" + i);
        return;
      }
      delete ready[i];
      pending.then(function (doc) {
        document.title = doc.title;
        document.body.replaceWith(document.adoptNode(doc.body));
        history.replaceState(null, "", "/?i=" + i);
        busy = false;
        if (progress) { document.getElementById("progress").textContent = progress; }
        if (at) { drawn(at); }
        prefetch(document.body.dataset.next);
      }).catch(function () { location.assign("/?i=" + i); });
    }
    function decide(text) {
      var at = Date.now();
      var d = document.body.dataset;
      var item = parseInt(d.item, 10);
      post("/api/decide", { item: item, text: text, seen: d.seen }, function (j) {
        if (j.next === null) { location.assign("/"); return; }
        go(String(j.next), at, j.reviewed + " of " + j.total + " reviewed");
      }, "/?i=" + item + "&notice=conflict");
    }
    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || busy) { return; }
      var d = document.body.dataset;
      var k = e.key;
      if (k === "Enter") { decide(d.reading); }
      else if (k === "Backspace" || k === "ArrowLeft") { busy = true; go(d.prev); }
      else if (k === "ArrowRight") { busy = true; go(d.next); }
      else if (k === d.notchar || k === "Delete") { decide(null); }
      else if (/^[a-zA-Z0-9]$/.test(k)) { decide(k.toUpperCase()); }
      else { return; }
      e.preventDefault();
    });
    prefetch(document.body.dataset.next);
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
