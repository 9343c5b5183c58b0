/*
 * The demo storefront: three pages that call the real API through sdk/recs-tracker.js.
 * data/shop.json (written by `make demo`) holds the synthetic shop's catalog and a few of its
 * shoppers, standing in for the shop's own product pages and sign-in.
 */
(function () {
  "use strict";

  var REASONS = {
    "similar-users": "Shoppers with your taste chose this",
    "similar-items": "Similar to this product",
    "bought-together": "Often bought together",
    "session": "Because of what you just viewed",
    "category-popular": "Popular in its category",
    "popular": "Popular in the shop",
    "trending": "Trending now",
    "buy-again": "Buy it again",
    "new-arrival": "New in the shop",
    "rule": "Featured by the shop"
  };
  // How a product is linked to what it is based on (the API's basedOn, docs/frontend.md).
  var RELATIONS = {
    "viewed": "Because you viewed ",
    "in-cart": "Goes with your cart's ",
    "bought": "Because you bought "
  };
  var USER_KEY = "storefront:user";
  var CART_KEY = "storefront:cart";

  var shop = null;
  var products = {};
  var tracker = null;

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    for (var name in attributes || {}) node.setAttribute(name, attributes[name]);
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function read(key, fallback) {
    try { var v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); } catch (e) { return fallback; }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: this page only */ }
  }

  function cart() { return read(CART_KEY, []); }
  function price(p) { return p ? "€" + Number(p.price).toFixed(2) : ""; }
  // A colour per category, so a shelf shows at a glance whether it stays on topic.
  function hue(text) {
    var h = 0;
    for (var i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) % 360;
    return "hsl(" + h + ", 55%, 78%)";
  }

  function header() {
    var select = el("select", { id: "identity" }, [el("option", { value: "" }, ["Anonymous visitor"])]);
    shop.users.forEach(function (id) {
      var option = el("option", { value: id }, ["Signed in as " + id]);
      select.appendChild(option);
    });
    select.value = read(USER_KEY, "") || "";
    select.addEventListener("change", function () {
      write(USER_KEY, select.value || "");
      location.reload();
    });
    var count = el("span", { id: "cart-count" }, [String(cart().length)]);
    var root = document.getElementById("site-header");
    root.appendChild(el("a", { class: "brand", href: "index.html" }, ["Demo shop"]));
    root.appendChild(el("nav", {}, [
      el("label", {}, ["Visitor ", select]),
      el("a", { id: "cart-widget", href: "cart.html" }, ["Cart (", count, ")"])
    ].concat(read(USER_KEY, "") ? [] : visitorPrivacy())));
  }

  // An anonymous visitor's rights, through the tracker's signed anonymous id.
  function visitorPrivacy() {
    var status = el("span", { id: "privacy-status" }, [""]);
    var personalize = el("input", { id: "personalize", type: "checkbox", disabled: "disabled" });
    var erase = el("button", { id: "erase", type: "button" }, ["Erase my browsing"]);
    function say(text) { status.textContent = text; }
    tracker.privacy().then(function (state) {
      personalize.checked = state.preferences.recommendations;
      personalize.disabled = false;
    }, function (error) { say("privacy controls unavailable (" + error.status + ")"); });
    personalize.addEventListener("change", function () {
      var change = personalize.checked ? tracker.optIn() : tracker.optOut();
      change.then(function () {
        say(personalize.checked ? "personalized" : "not personalized");
        location.reload();
      }, function (error) { say("not changed (" + error.status + ")"); });
    });
    erase.addEventListener("click", function () {
      tracker.erase().then(function (receipt) {
        link.hidden = true;
        say("erasure " + receipt.status);
      }, function (error) { say("not erased (" + error.status + ")"); });
    });
    var download = el("button", { id: "export", type: "button" }, ["Download my data"]);
    var link = el("a", { id: "export-link", rel: "noreferrer" }, ["Your data (link valid for minutes)"]);
    link.hidden = true;
    download.addEventListener("click", function () {
      say("export pending");
      tracker.exportData().then(function () { return exportReady(15); }).then(function (receipt) {
        if (receipt.status === "ready") {
          link.href = receipt.url;
          link.hidden = false;
        }
        say("export " + receipt.status);
      }, function (error) { say("no export (" + error.status + ")"); });
    });
    return [el("label", {}, [personalize, " Personalize"]), erase, download, link, status];
  }

  // The export's receipt once it is no longer pending (the job reads the whole event lake).
  function exportReady(tries) {
    return tracker.dataExport().then(function (receipt) {
      if (receipt.status !== "pending" || tries <= 1) return receipt;
      return new Promise(function (resolve) { setTimeout(resolve, 2000); }).then(function () {
        return exportReady(tries - 1);
      });
    });
  }

  function card(productId, extra, onClick) {
    var p = products[productId] || { id: productId, category: "", price: 0 };
    var children = [
      el("div", { class: "thumb", style: "background:" + hue(p.category) }),
      el("div", { class: "name" }, [p.id]),
      el("div", { class: "category" }, [p.category]),
      el("div", { class: "price" }, [price(p)])
    ].concat(extra || []);
    var link = el("a", { href: "product.html?id=" + encodeURIComponent(productId) }, children);
    if (onClick) link.addEventListener("click", onClick);
    return el("li", { class: "card", "data-product-id": productId }, [link]);
  }

  // What the shopper reads under a product: the product it is based on when the API names one
  // ("Because you viewed sku_00042"), else its reason's wording.
  function explanation(item) {
    if (!item.basedOn) return REASONS[item.reason] || item.reason;
    if (item.reason === "buy-again") return "You bought this before";
    // The demo's products have no names: the id stands for one.
    return (RELATIONS[item.basedOn.relation] || "Based on ") + item.basedOn.productId;
  }

  // One recommendation shelf: the API's list, each product with its reason, clicks attributed.
  function shelf(sectionId, params) {
    var section = document.getElementById(sectionId);
    var list = section.querySelector(".cards");
    var meta = section.querySelector(".meta");
    var context = section.getAttribute("data-context");
    params.context = context;
    return tracker.recommendations(params).then(function (body) {
      meta.textContent = "source " + body.source + " · model " + body.modelVersion +
        (body.variant ? " · variant " + body.variant : "");
      body.products.forEach(function (item) {
        // A product a merchandising rule placed or moved names the rule (docs/frontend.md).
        var code = item.ruleId ? item.reason + " " + item.ruleId : item.reason;
        var reason = el("span", { class: "reason", title: "score " + item.score },
          [explanation(item), " ", el("code", {}, [code])]);
        var li = card(item.id, [reason], function () {
          // The link still navigates; the click is queued first and sent on page hide.
          tracker.clickRecommendation(item.id, body.recommendationId, context);
        });
        li.setAttribute("data-recommendation-id", body.recommendationId);
        li.setAttribute("data-reason", item.reason);
        if (item.ruleId) li.setAttribute("data-rule-id", item.ruleId);
        if (item.basedOn) li.setAttribute("data-based-on", item.basedOn.productId);
        list.appendChild(li);
      });
      section.setAttribute("data-loaded", "true");
      return body.products.map(function (item) { return item.id; });
    }, function (error) {
      meta.className = "meta error";
      meta.textContent = error.status === 503
        ? "No recommendations yet: the first model has not been trained."
        : "Recommendations unavailable (" + (error.status || error.message) + ").";
      section.setAttribute("data-loaded", "error");
      return [];
    });
  }

  function home() {
    var browse = document.querySelector("#browse .cards");
    shop.products.filter(function (p) { return p.available; }).slice(0, 12).forEach(function (p) {
      browse.appendChild(card(p.id));
    });
    return shelf("recommended", { limit: 8 });
  }

  function productPage() {
    var id = new URLSearchParams(location.search).get("id");
    var p = products[id];
    if (!p) {
      document.querySelector("#product .product-id").textContent = "Unknown product";
      return Promise.resolve();
    }
    document.title = p.id + " - Demo shop";
    document.querySelector("#product .product-id").textContent = p.id;
    document.querySelector("#product .product-details").textContent = p.category + " · " + price(p);
    tracker.view(p.id, { category: p.category, price: p.price, context: "product-page" });
    var button = document.getElementById("add-to-cart");
    button.addEventListener("click", function () {
      var lines = cart();
      lines.push({ productId: p.id });
      write(CART_KEY, lines);
      tracker.addToCart(p.id, { category: p.category, price: p.price, quantity: 1, context: "product-page" });
      document.getElementById("cart-count").textContent = String(lines.length);
      button.textContent = "Added";
    });
    // A second shelf never repeats the first: what "Similar items" shows is excluded from it.
    return shelf("similar", { productId: p.id, limit: 6 }).then(function (shown) {
      return shelf("more", { exclude: shown.concat([p.id]), limit: 6 });
    });
  }

  function cartPage() {
    var lines = cart();
    var list = document.getElementById("cart-lines");
    document.getElementById("cart-empty").hidden = lines.length > 0;
    document.getElementById("checkout").hidden = lines.length === 0;
    lines.forEach(function (line) {
      var p = products[line.productId] || { id: line.productId, price: 0 };
      list.appendChild(el("li", { "data-product-id": p.id }, [p.id + " · " + price(p)]));
    });
    document.getElementById("checkout").addEventListener("click", function () {
      lines.forEach(function (line) {
        var p = products[line.productId] || {};
        tracker.purchase(line.productId, { price: p.price, quantity: 1, context: "cart" });
      });
      write(CART_KEY, []);
      location.reload();
    });
    var ids = lines.map(function (line) { return line.productId; });
    return shelf("complete-cart", { cartProductIds: ids, limit: 6 });
  }

  fetch("data/shop.json").then(function (response) { return response.json(); }).then(function (data) {
    shop = data;
    shop.products.forEach(function (p) { products[p.id] = p; });
    tracker = RecsTracker.create({ userId: read(USER_KEY, "") || null });
    window.storefront = { tracker: tracker };
    header();
    var page = document.body.getAttribute("data-page");
    var render = page === "product" ? productPage : page === "cart" ? cartPage : home;
    return render();
  }).then(function () {
    document.body.setAttribute("data-ready", "true");
  });
})();
