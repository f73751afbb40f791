/*! Clarion web snippet: page views, UTM, a first-party anonymous id, identify(), custom events.
 *
 * <script src="https://clarion.example/t/clarion.js" data-write-key="clr_wk_..." async></script>
 * Options (attributes of that tag): data-endpoint (default: where this file came from),
 * data-respect-dnt (send nothing when the browser says Do Not Track).
 *
 * Calls made before it loads are queued and replayed:
 *   window.clarion = window.clarion || [];
 *   clarion.push(["track", "signup", {plan: "pro"}]);
 * or, to call methods before load, this one-line stub:
 *   ["track","page","identify"].forEach(m => clarion[m] = clarion[m] || ((...a) => clarion.push([m, ...a])));
 * After load: clarion.track(type, properties), clarion.page(properties), clarion.identify(idOrEmail).
 */
(function () {
  "use strict";
  var FLUSH_MS = 2000, FLUSH_AT = 20, MAX_BODY = 60000; // beacons are capped near 64 KB
  var AID = "clarion_aid", YEAR = 31536000;
  var w = window, d = document, n = navigator;
  try {
    if (w.clarion && w.clarion.loaded) return; // the snippet was included twice
    var script = d.currentScript || d.querySelector("script[data-write-key]");
    if (!script) return;
    var writeKey = script.getAttribute("data-write-key");
    var base = (script.getAttribute("data-endpoint") ||
      script.src.split(/[?#]/)[0].replace(/\/t\/clarion\.js$/, "")).replace(/\/+$/, "");
    var off = script.hasAttribute("data-respect-dnt") &&
      (n.doNotTrack === "1" || w.doNotTrack === "1");
    var waiting = Array.isArray(w.clarion) ? w.clarion : [];
    var queue = [], timer = null, aid = null;

    // Random v4 UUID: randomUUID needs a secure context; getRandomValues does not.
    var uuid = function () {
      var c = w.crypto;
      if (c && c.randomUUID) return c.randomUUID();
      var b = new Uint8Array(16);
      if (c && c.getRandomValues) c.getRandomValues(b);
      else for (var i = 0; i < 16; i++) b[i] = Math.random() * 256;
      b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
      var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
      return h.replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
    };

    // The anonymous id lives in a first-party cookie, with localStorage as a second copy
    // (some browsers cap script-set cookies at 7 days; storage may be blocked instead).
    var anonymousId = function () {
      if (aid) return aid;
      var m = d.cookie.match(/(?:^|;\s*)clarion_aid=([^;]+)/);
      try { aid = (m && decodeURIComponent(m[1])) || w.localStorage.getItem(AID); } catch (e) { /* blocked */ }
      aid = aid || uuid();
      try {
        d.cookie = AID + "=" + encodeURIComponent(aid) + "; Max-Age=" + YEAR + "; Path=/; SameSite=Lax" +
          (location.protocol === "https:" ? "; Secure" : "");
        w.localStorage.setItem(AID, aid);
      } catch (e) { /* storage blocked: the id lasts for this page */ }
      return aid;
    };

    // One POST as text/plain (a "simple" request: no CORS preflight); the key rides in the body.
    var post = function (path, body) {
      var url = base + path, json = JSON.stringify(Object.assign({ write_key: writeKey }, body));
      try {
        if (n.sendBeacon && n.sendBeacon(url, new Blob([json], { type: "text/plain" }))) return;
      } catch (e) { /* fall through to fetch */ }
      if (w.fetch) {
        w.fetch(url, { method: "POST", body: json, keepalive: true, credentials: "omit",
          headers: { "Content-Type": "text/plain" } }).catch(function () {});
      }
    };

    var send = function (events) {
      if (JSON.stringify(events).length > MAX_BODY && events.length > 1) {
        var half = events.length >> 1;
        send(events.slice(0, half)); send(events.slice(half));
      } else if (events.length) {
        post("/v1/events", { batch: events });
      }
    };

    var flush = function () {
      try {
        if (timer) { clearTimeout(timer); timer = null; }
        if (queue.length) send(queue.splice(0, queue.length));
      } catch (e) { /* runs from timers and page events too: never throw */ }
    };

    var cut = function (s, max) { return s ? String(s).slice(0, max) : undefined; };

    var enqueue = function (type, properties, extra) {
      if (!type) return;
      var event = Object.assign({
        event_id: uuid(), type: cut(type, 64), ts: new Date().toISOString(),
        anonymous_id: anonymousId(), url: cut(location.href, 2048),
      }, extra);
      if (properties && typeof properties === "object") event.properties = properties;
      JSON.stringify(event); // a cyclic object throws here, not later with the whole batch
      queue.push(event);
      if (queue.length >= FLUSH_AT) flush();
      else if (!timer) timer = setTimeout(flush, FLUSH_MS);
    };

    // Each public call is wrapped: a mistake here must never break the host page.
    var safe = function (fn) {
      return function () { try { if (!off) fn.apply(null, arguments); } catch (e) { /* ignore */ } };
    };

    var api = {
      loaded: true,
      track: safe(function (type, properties) { enqueue(type, properties); }),
      page: safe(function (properties) {
        var extra = { referrer: cut(d.referrer, 2048) };
        new URLSearchParams(location.search).forEach(function (value, key) {
          if (/^utm_(source|medium|campaign|term|content)$/.test(key) && value) extra[key] = cut(value, 200);
        });
        enqueue("page_view", Object.assign({ title: cut(d.title, 500) }, properties), extra);
      }),
      identify: safe(function (who) {
        who = String(who || "").trim();
        if (!who) return;
        flush(); // the events so far go first; stitching links them either way
        post("/v1/identify", who.indexOf("@") !== -1
          ? { anonymous_id: anonymousId(), email: who }
          : { anonymous_id: anonymousId(), contact_id: who });
      }),
      flush: safe(flush),
      anonymousId: function () { try { return off ? null : anonymousId(); } catch (e) { return null; } },
      push: function (call) {
        try {
          var fn = Array.isArray(call) && api[call[0]];
          if (typeof fn === "function" && call[0] !== "push") fn.apply(null, call.slice(1));
        } catch (e) { /* ignore */ }
      },
    };
    w.clarion = api;

    // Leaving the page (tab hidden, navigation, close): send what is left while we still can.
    d.addEventListener("visibilitychange", function () { if (d.visibilityState === "hidden") api.flush(); });
    w.addEventListener("pagehide", api.flush);
    // A page restored from the back/forward cache runs no script again: count the view here.
    w.addEventListener("pageshow", function (e) { if (e.persisted) api.page(); });

    api.page();
    waiting.forEach(api.push);
  } catch (e) { /* never throw into the host page */ }
})();
