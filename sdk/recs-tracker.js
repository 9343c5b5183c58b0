/*
 * recs-tracker.js: event tracking and recommendations for the shop's pages.
 * Plain JavaScript, no dependencies, no build step. Guide: docs/frontend.md.
 *
 *   var recs = RecsTracker.create({ apiBase: "https://api.example.com", userId: shopUserIdOrNull,
 *                                   getToken: function () { return shopSession.idToken(); } });
 *   recs.view("sku_00042", { context: "product-page" });
 *   recs.recommendations({ context: "homepage", limit: 8 }).then(render);
 *   recs.clickRecommendation("sku_00017", response.recommendationId, "homepage");
 *
 * Events are queued in localStorage, sent in batches to POST /api/events, and removed only once
 * the API took them (or rejected them for good), so a failed send is retried with the same
 * eventId and the server counts each event once.
 *
 * The anonymous id is issued signed by the API (POST /api/visitors) and kept in localStorage; it
 * lets this browser's visitor, and nobody else, opt out or erase their data:
 *   recs.optOut(); recs.optIn(); recs.privacy(); recs.erase().then(function (receipt) { ... });
 * It is a secret: it is sent in the X-Recs-Visitor header (privacy calls) or as anonId (events,
 * recommendations), never logged. When the API cannot be reached, a local id stands in, and a
 * signed one is asked for again later (docs/frontend.md).
 */
(function (global) {
  "use strict";

  var DEFAULTS = {
    apiBase: "",                 // same origin by default
    userId: null,                // the shop's pseudonymous customer id, never an e-mail
    flushIntervalMs: 2000,       // a batch leaves at most this long after its first event
    maxBatch: 50,                // the API takes up to 500; small batches fit sendBeacon's 64 KB
    sessionTimeoutMs: 30 * 60 * 1000,
    maxQueue: 1000,              // oldest events are dropped beyond this (a shopper offline for long)
    maxBackoffMs: 60000,
    storagePrefix: "recs:",
    // When the API checks callers (AuthIssuerUrl set): returns the signed-in shopper's bearer
    // token of the shop's identity provider, or a Promise of it. Events about the user and their
    // recommendations are sent with it; anonymous ones never need it.
    getToken: null,
    // The shop's sampling rules (SamplingRules in template.yaml), e.g. { view: 4 }: only the one
    // view in four that ingest would keep is sent, stamped sampleRate 4 (chosen by eventId, as
    // ingest chooses). Fewer requests, but the live session then sees only those views; leave it
    // null to let ingest sample, which still shows the session every view. docs/frontend.md.
    sampling: null,
    // Ask the API for a signed anonymous id (POST /api/visitors): the visitor's rights need one.
    // false keeps the local id only (an API without the route).
    signedAnonId: true,
    // How long events and recommendations wait for the first signed id before using a local one.
    anonIdWaitMs: 3000,
    // After a failed request for a signed id, how long before asking again.
    anonIdRetryMs: 60000
  };
  var SIGNED = /^v1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/;
  var VISITOR_HEADER = "X-Recs-Visitor";
  var ID = /^[A-Za-z0-9_\-.:]{1,128}$/;

  function uuid() {
    var c = global.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    var b = c.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // FNV-1a, 32 bits, of the id's UTF-8 bytes: recs.ingest.sampling.fnv1a_32 computes the same.
  function fnv1a(text) {
    var bytes = new TextEncoder().encode(text);
    var h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
    return h;
  }

  // Storage can throw (private mode, quota, disabled cookies): the tracker then works in memory.
  function store(area) {
    var memory = {};
    return {
      get: function (k) {
        try { var v = global[area].getItem(k); return v === null ? memory[k] : JSON.parse(v); } catch (e) { return memory[k]; }
      },
      set: function (k, v) {
        memory[k] = v;
        try { global[area].setItem(k, JSON.stringify(v)); } catch (e) { /* memory only */ }
      }
    };
  }

  function create(options) {
    var o = {};
    var k;
    for (k in DEFAULTS) o[k] = DEFAULTS[k];
    for (k in options || {}) o[k] = options[k];
    var local = store("localStorage");
    var session = store("sessionStorage");
    var P = o.storagePrefix;
    var sending = false;
    var timer = null;
    var backoffMs = 0;
    var userId = null;
    var lastToken = null;     // for the page-hide flush, which cannot wait for getToken

    var issuing = null;       // the request for a signed anonymous id in flight, if any
    var issueFailedAt = -Infinity;

    // The stored anonymous id: signed when the API issued one, else a local stand-in.
    function anonId() {
      var id = local.get(P + "anonId");
      if (!id) { id = "a_" + uuid(); local.set(P + "anonId", id); }
      return id;
    }

    function hasSignedId() { return SIGNED.test(local.get(P + "anonId") || ""); }

    // Ask the API for a signed anonymous id unless this browser holds one; resolves either way
    // (the local id stands in after a failure, and the next call after anonIdRetryMs asks again).
    // A local id used before is replaced: its browsing stays under it, unprovable, and ages out.
    function issueAnonId() {
      if (!o.signedAnonId || hasSignedId()) return Promise.resolve(hasSignedId());
      if (issuing) return issuing;
      if (Date.now() - issueFailedAt < o.anonIdRetryMs) return Promise.resolve(false);
      issuing = global.fetch(o.apiBase + "/api/visitors", { method: "POST", credentials: "omit" })
        .then(function (response) {
          if (response.status !== 201) throw new Error("POST /api/visitors answered " + response.status);
          return response.json();
        })
        .then(function (body) {
          if (!SIGNED.test(body.anonId || "")) throw new Error("not a signed anonymous id");
          local.set(P + "anonId", body.anonId);
          return true;
        })
        .catch(function () { issueFailedAt = Date.now(); return false; })
        .then(function (signed) { issuing = null; return signed; });
      return issuing;
    }

    // Events and recommendations wait a little for the first signed id, never for long.
    function settled() {
      return Promise.race([
        issueAnonId(),
        new Promise(function (resolve) { setTimeout(resolve, o.anonIdWaitMs); })
      ]);
    }

    // A new session after sessionTimeoutMs without activity, and in each new tab.
    function sessionId() {
      var now = Date.now();
      var s = session.get(P + "session");
      if (!s || now - s.last > o.sessionTimeoutMs) s = { id: "s_" + uuid(), last: now };
      s.last = now;
      session.set(P + "session", s);
      return s.id;
    }

    function setUser(id) {
      if (id !== null && id !== undefined && !ID.test(id)) {
        throw new Error("userId must be the shop's opaque id (letters, digits, _-.: only), never an e-mail or name");
      }
      userId = id || null;
    }

    function queue() { return local.get(P + "queue") || []; }
    function saveQueue(q) { local.set(P + "queue", q.slice(-o.maxQueue)); }
    function attribution() { return session.get(P + "attribution") || {}; }

    // Only the fields the event schema defines leave the page: anything else a caller passes is dropped.
    var FIELDS = ["productId", "category", "quantity", "price", "context", "recommendationId", "query", "results"];

    function track(eventType, fields) {
      fields = fields || {};
      var event = {
        eventId: uuid(),
        eventType: eventType,
        timestamp: new Date().toISOString(),
        sessionId: sessionId()
      };
      if (userId) event.userId = userId;
      var oneIn = (o.sampling && o.sampling[eventType]) || 1;
      if (oneIn > 1) {
        if (fnv1a(event.eventId.toLowerCase()) % oneIn !== 0) return null;  // not the one ingest keeps
        event.sampleRate = oneIn;
      }
      FIELDS.forEach(function (f) {
        if (fields[f] !== undefined && fields[f] !== null) event[f] = fields[f];
      });
      // Add-to-cart and purchase of a product reached from a recommendation are credited to it.
      if (!event.recommendationId && event.productId && (eventType === "add_to_cart" || eventType === "purchase")) {
        var rec = attribution()[event.productId];
        if (rec) event.recommendationId = rec;
      }
      var q = queue();
      q.push(event);
      saveQueue(q);
      if (q.length >= o.maxBatch) flush(); else schedule(o.flushIntervalMs);
      return event.eventId;
    }

    function schedule(delay) {
      if (timer === null) timer = setTimeout(function () { timer = null; flush(); }, delay);
    }

    // The anonymous id is stamped when an event first leaves (the signed id may still be on its
    // way when the event is tracked), and kept in the queue, so a resent event carries the same id.
    function stamp(batch) {
      var missing = batch.some(function (e) { return !e.anonId; });
      if (!missing) return batch;
      var id = anonId();
      var q = queue().map(function (e) { if (!e.anonId) e.anonId = id; return e; });
      saveQueue(q);
      return batch.map(function (e) { if (!e.anonId) e.anonId = id; return e; });
    }

    function forget(sent) {
      var ids = {};
      sent.forEach(function (e) { ids[e.eventId] = true; });
      saveQueue(queue().filter(function (e) { return !ids[e.eventId]; }));
    }

    function aboutAUser(batch) {
      return batch.some(function (e) { return !!e.userId; });
    }

    // The bearer token for a request about the signed-in user (null without getToken); a
    // failing getToken leaves the last token, and the API's 401 then sends the events again later.
    function token() {
      if (!o.getToken) return Promise.resolve(null);
      return Promise.resolve().then(o.getToken).then(function (t) {
        lastToken = t || null;
        return lastToken;
      }, function () { return lastToken; });
    }

    // text/plain is a "simple" content type: no CORS preflight, and what sendBeacon sends. A
    // bearer token (events about a user, when the API checks callers) makes it a preflighted one.
    function post(batch, keepalive, bearer) {
      var headers = { "content-type": "text/plain;charset=UTF-8" };
      if (bearer) headers.authorization = "Bearer " + bearer;
      return global.fetch(o.apiBase + "/api/events", {
        method: "POST",
        headers: headers,
        body: JSON.stringify({ events: batch }),
        keepalive: !!keepalive,
        credentials: "omit"
      });
    }

    function flush() {
      if (sending) return Promise.resolve();
      var batch = queue().slice(0, o.maxBatch);
      if (!batch.length) return Promise.resolve();
      sending = true;
      var bearer = o.getToken && aboutAUser(batch) ? token() : Promise.resolve(null);
      return settled().then(function () {
        batch = stamp(batch);
        return bearer;
      }).then(function (t) { return post(batch, false, t); }).then(function (response) {
        sending = false;
        // 401 with getToken: the token was missing or expired; kept, and sent again with a new one.
        var retryable = response.status === 401 && !!o.getToken;
        if (retryable || response.status === 503 || response.status === 429 || response.status >= 500) {
          var after = Number(response.headers.get("retry-after")) * 1000;
          return retry(after);
        }
        // 2xx: stored (any `rejected` events are invalid and would be rejected again); 4xx: never valid.
        backoffMs = 0;
        forget(batch);
        response.json().then(function (body) {
          if (response.status >= 400 || body.rejectedCount) warn("events refused (" + response.status + ")", body);
        }, function () {});
        if (queue().length) return flush();
        return undefined;
      }, function () {
        sending = false;
        return retry(0);
      });
    }

    function retry(afterMs) {
      backoffMs = Math.min(o.maxBackoffMs, backoffMs ? backoffMs * 2 : 1000);
      schedule(Math.max(backoffMs, afterMs || 0));
    }

    // The page may be gone before a fetch answers: hand the queue to the browser instead.
    function flushOnHide() {
      var q = queue();
      if (q.length) { stamp(q); q = queue(); }
      while (q.length) {
        var batch = q.slice(0, o.maxBatch);
        q = q.slice(o.maxBatch);
        var body = JSON.stringify({ events: batch });
        // sendBeacon cannot carry a token: events about a user go as a keepalive fetch with one.
        var needsToken = !!o.getToken && aboutAUser(batch);
        var queued = !needsToken && global.navigator.sendBeacon &&
          global.navigator.sendBeacon(o.apiBase + "/api/events", new Blob([body], { type: "text/plain;charset=UTF-8" }));
        if (queued) {
          forget(batch);
        } else {
          // Kept in the queue: if this keepalive request does not land, the next page resends it.
          post(batch, true, needsToken ? lastToken : null).catch(function () {});
        }
      }
    }

    function warn(message, detail) {
      if (global.console) global.console.warn("[recs-tracker] " + message, detail);
    }

    function recommendations(params) {
      params = params || {};
      var query = [];
      function add(name, value) { query.push(name + "=" + encodeURIComponent(value)); }
      if (userId) add("userId", userId);
      if (params.context) add("context", params.context);
      if (params.productId) add("productId", params.productId);
      if (params.cartProductIds && params.cartProductIds.length) add("cartProductIds", params.cartProductIds.join(","));
      if (params.limit) add("limit", params.limit);
      if (params.category) add("category", params.category);
      if (params.categories && params.categories.length) add("categories", params.categories.join(","));
      if (params.exclude && params.exclude.length) add("exclude", params.exclude.join(","));
      if (params.brands && params.brands.length) add("brand", params.brands.join(","));
      else if (params.brand) add("brand", params.brand);
      if (params.tags && params.tags.length) add("tag", params.tags.join(","));
      else if (params.tag) add("tag", params.tag);
      if (params.minPrice != null) add("minPrice", params.minPrice);
      if (params.maxPrice != null) add("maxPrice", params.maxPrice);
      var bearer = userId && o.getToken ? token() : Promise.resolve(null);
      return settled().then(function () { return bearer; }).then(function (t) {
        var init = { credentials: "omit" };
        if (t) init.headers = { authorization: "Bearer " + t };
        // The anonymous id goes in the query like every parameter of this GET (no preflight);
        // API Gateway's access log holds route keys only, never query strings (docs/privacy.md).
        var all = query.concat(["anonId=" + encodeURIComponent(anonId())]);
        return global.fetch(o.apiBase + "/api/recommendations?" + all.join("&"), init);
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            var error = new Error("recommendations answered " + response.status);
            error.status = response.status;
            error.body = body;
            throw error;
          }
          return body;
        });
      });
    }

    // An anonymous visitor's rights, exercised with the signed id (the API refuses any other: 401).
    function visitorCall(method, path, body) {
      return issueAnonId().then(function (signed) {
        if (!signed) {
          var missing = new Error("no signed anonymous id: the API could not be reached; try again later");
          missing.status = 0;
          throw missing;
        }
        var headers = {};
        headers[VISITOR_HEADER] = local.get(P + "anonId");
        if (body !== undefined) headers["content-type"] = "application/json";
        return global.fetch(o.apiBase + path, {
          method: method,
          headers: headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          credentials: "omit"
        });
      }).then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) {
            var error = new Error(method + " " + path + " answered " + response.status);
            error.status = response.status;
            error.body = answer;
            throw error;
          }
          return answer;
        });
      });
    }

    function setRecommendations(on) {
      return visitorCall("PUT", "/api/visitor/preferences", { preferences: { recommendations: on } });
    }

    // Erase this browser's anonymous visitor: the API removes what it holds under the id (at once
    // from the live stores, from the event lake at its next training run). The unsent events go
    // too, and a new signed id is asked for; the receipt can be read with `erasure()`.
    function erase() {
      var erased = local.get(P + "anonId");
      return visitorCall("POST", "/api/visitor/erasure").then(function (receipt) {
        local.set(P + "erasure", { receiptId: receipt.receiptId, anonId: erased });
        // Unsent anonymous events were the erased visitor's; a signed-in shopper's stay theirs.
        saveQueue(queue().filter(function (e) { return !!e.userId; }).map(function (e) {
          if (e.anonId === erased) delete e.anonId;
          return e;
        }));
        local.set(P + "anonId", null);
        // The erasure deleted the erased id's exports too.
        local.set(P + "export", null);
        issueAnonId();
        return receipt;
      });
    }

    // The receipt of this browser's last anonymous erasure (null when there was none).
    function erasure() {
      var last = local.get(P + "erasure");
      if (!last) return Promise.resolve(null);
      var headers = {};
      headers[VISITOR_HEADER] = last.anonId;
      return global.fetch(o.apiBase + "/api/visitor/erasures/" + encodeURIComponent(last.receiptId), {
        headers: headers, credentials: "omit"
      }).then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) {
            var error = new Error("erasure receipt answered " + response.status);
            error.status = response.status;
            throw error;
          }
          return answer;
        });
      });
    }

    // A copy of what the API holds about this browser's anonymous visitor: the export is written
    // asynchronously; `dataExport()` reads its receipt (a short-lived download URL once ready).
    // Unsent events go first, so that the export has them once the lake does.
    function exportData() {
      return flush().then(function () {
        return visitorCall("POST", "/api/visitor/export");
      }).then(function (receipt) {
        local.set(P + "export", { receiptId: receipt.receiptId });
        return receipt;
      });
    }

    // The receipt of this browser's last export (null when there was none): `status` pending,
    // ready (with `url`, valid for minutes: download it at once, never store or share it),
    // failed, or expired (410: ask for a new one).
    function dataExport() {
      var last = local.get(P + "export");
      if (!last) return Promise.resolve(null);
      return visitorCall("GET", "/api/visitor/exports/" + encodeURIComponent(last.receiptId))
        .catch(function (error) {
          if (error.status === 410) return error.body;
          throw error;
        });
    }

    function clickRecommendation(productId, recommendationId, context, fields) {
      var a = attribution();
      a[productId] = recommendationId;
      session.set(P + "attribution", a);
      var f = { productId: productId, recommendationId: recommendationId, context: context };
      for (var key in fields || {}) if (f[key] === undefined) f[key] = fields[key];
      return track("click", f);
    }

    function withProduct(type) {
      return function (productId, fields) {
        var f = { productId: productId };
        for (var key in fields || {}) f[key] = fields[key];
        return track(type, f);
      };
    }

    global.addEventListener("visibilitychange", function () {
      if (global.document.visibilityState === "hidden") flushOnHide();
    });
    global.addEventListener("pagehide", flushOnHide);

    setUser(o.userId);
    issueAnonId();
    // Events left by the previous page (or a failed send) go out now.
    if (queue().length) schedule(0);

    return {
      track: track,
      view: withProduct("view"),
      click: withProduct("click"),
      addToCart: withProduct("add_to_cart"),
      purchase: withProduct("purchase"),
      search: function (query, results, fields) {
        var f = { query: query, results: results };
        for (var key in fields || {}) f[key] = fields[key];
        return track("search", f);
      },
      clickRecommendation: clickRecommendation,
      recommendations: recommendations,
      setUser: setUser,
      flush: flush,
      pending: function () { return queue().length; },
      anonId: anonId,
      sessionId: sessionId,
      optOut: function () { return setRecommendations(false); },
      optIn: function () { return setRecommendations(true); },
      privacy: function () { return visitorCall("GET", "/api/visitor/privacy"); },
      erase: erase,
      erasure: erasure,
      exportData: exportData,
      dataExport: dataExport
    };
  }

  global.RecsTracker = { create: create, version: "1.2.0" };
})(window);
