/* ShopAssist chat widget: <script src="HOST/widget.js" data-api="HOST" defer></script>
 * Plain JS, no dependencies.  All catalog and shopper text is inserted as text (textContent,
 * createTextNode, setAttribute), never as HTML. */
(function () {
  "use strict";
  if (window.ShopAssistWidget) return;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var scriptSrc = script && script.src ? script.src : location.href;
  var API = ((script && script.getAttribute("data-api")) || new URL(scriptSrc, location.href).origin).replace(
    /\/+$/,
    ""
  );
  var STORE_KEY = "shopassist.session:" + API;
  var POLL_MS = 20000;

  var state = {
    sessionId: null,
    open: false,
    busy: false,
    restored: false,
    cart: null,
    lastNoticeAt: null,
    seenNotices: {},
    pollTimer: null,
    lastFocus: null,
  };
  try {
    state.sessionId = window.localStorage.getItem(STORE_KEY);
  } catch (e) {
    state.sessionId = null;
  }

  /* ------------------------------------------------------------------ helpers */

  function el(tag, cls, attrs, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        node.setAttribute(k, String(attrs[k]));
      });
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svgEl(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, String(attrs[k]));
    });
    return node;
  }

  function money(value, currency) {
    if (value === null || value === undefined || isNaN(Number(value))) return "";
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(
        Number(value)
      );
    } catch (e) {
      return Number(value).toFixed(2) + " " + (currency || "");
    }
  }

  function abs(url) {
    if (!url) return "";
    try {
      var u = new URL(String(url), API + "/");
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : "";
    } catch (e) {
      return "";
    }
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  function setSession(id) {
    if (!id || id === state.sessionId) return;
    state.sessionId = id;
    try {
      window.localStorage.setItem(STORE_KEY, id);
    } catch (e) {
      /* private mode: the session lives for this page only */
    }
  }

  function clearSession() {
    state.sessionId = null;
    try {
      window.localStorage.removeItem(STORE_KEY);
    } catch (e) {
      /* ignore */
    }
  }

  function api(method, path, body) {
    var init = { method: method, headers: {} };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(function (res) {
      var ct = res.headers.get("content-type") || "";
      var parsed = ct.indexOf("json") >= 0 ? res.json() : res.text();
      return parsed.then(function (data) {
        if (!res.ok) {
          var err = new Error((data && data.error && data.error.message) || "HTTP " + res.status);
          err.status = res.status;
          err.code = data && data.error ? data.error.code : null;
          throw err;
        }
        return data;
      });
    });
  }

  function sendEvent(type, productId) {
    if (!state.sessionId || !productId) return;
    api("POST", "/v1/events", { session_id: state.sessionId, type: type, product_id: productId }).catch(
      function () {
        /* analytics are best effort */
      }
    );
  }

  var ICONS = {
    chat: [["path", { d: "M4 5h16v11H9l-5 4z" }]],
    cart: [
      ["path", { d: "M3 4h3l2 11h10l2-8H7" }],
      ["circle", { cx: 9, cy: 19, r: 1.5 }],
      ["circle", { cx: 17, cy: 19, r: 1.5 }],
    ],
    camera: [
      ["rect", { x: 3, y: 7, width: 18, height: 13, rx: 2 }],
      ["path", { d: "M8 7l2-3h4l2 3" }],
      ["circle", { cx: 12, cy: 13.5, r: 3.5 }],
    ],
    close: [["path", { d: "M6 6l12 12M18 6L6 18" }]],
  };

  function icon(name) {
    var svg = svgEl("svg", {
      class: "sa-svg-icon",
      viewBox: "0 0 24 24",
      width: 20,
      height: 20,
      fill: "none",
      stroke: "currentColor",
      "stroke-width": 2,
      "stroke-linecap": "round",
      "stroke-linejoin": "round",
      "aria-hidden": "true",
      focusable: "false",
    });
    ICONS[name].forEach(function (part) {
      svg.appendChild(svgEl(part[0], part[1]));
    });
    return svg;
  }

  /* ------------------------------------------------------------------ DOM */

  var css = el("link", null, { rel: "stylesheet", href: new URL("widget.css", scriptSrc).href });
  document.head.appendChild(css);

  var root = el("div", "sa-root", { "data-shopassist": "" });
  var launcher = el("button", "sa-launcher", {
    type: "button",
    "aria-label": "Open shopping assistant",
    "aria-expanded": "false",
    "aria-controls": "sa-panel",
  });
  launcher.appendChild(icon("chat"));

  var panel = el("div", "sa-panel", {
    id: "sa-panel",
    role: "dialog",
    "aria-modal": "false",
    "aria-labelledby": "sa-title",
    hidden: "",
  });
  var header = el("div", "sa-header");
  header.appendChild(el("h2", "sa-title", { id: "sa-title" }, "Shopping assistant"));
  var cartButton = el("button", "sa-icon-btn sa-cart-btn", { type: "button", "aria-label": "Open cart" });
  cartButton.appendChild(icon("cart"));
  var cartBadge = el("span", "sa-badge", { "aria-hidden": "true" }, "0");
  cartButton.appendChild(cartBadge);
  var closeButton = el("button", "sa-icon-btn sa-close", { type: "button", "aria-label": "Close assistant" });
  closeButton.appendChild(icon("close"));
  header.appendChild(cartButton);
  header.appendChild(closeButton);

  var statusBar = el("div", "sa-status", { role: "status", hidden: "" });
  var messages = el("div", "sa-messages", { role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var typing = el("div", "sa-typing", { hidden: "" });
  typing.appendChild(el("span", "sa-dot", { "aria-hidden": "true" }));
  typing.appendChild(el("span", "sa-dot", { "aria-hidden": "true" }));
  typing.appendChild(el("span", "sa-dot", { "aria-hidden": "true" }));
  typing.appendChild(el("span", "sa-visually-hidden", null, "Assistant is typing"));
  var chips = el("div", "sa-chips", { role: "group", "aria-label": "Suggested replies" });

  var form = el("form", "sa-form", { "aria-label": "Send a message" });
  var fileInput = el("input", "sa-file", {
    type: "file",
    accept: "image/jpeg,image/png,image/webp",
    "aria-label": "Upload a photo",
    tabindex: "-1",
  });
  var photoButton = el("button", "sa-icon-btn sa-photo", {
    type: "button",
    "aria-label": "Find products like a photo",
  });
  photoButton.appendChild(icon("camera"));
  var input = el("input", "sa-input", {
    type: "text",
    "aria-label": "Message",
    placeholder: "Ask for a product\u2026",
    maxlength: "2000",
    autocomplete: "off",
  });
  var sendButton = el("button", "sa-send", { type: "submit" }, "Send");
  form.appendChild(photoButton);
  form.appendChild(fileInput);
  form.appendChild(input);
  form.appendChild(sendButton);

  var drawer = el("div", "sa-cart", { role: "region", "aria-label": "Cart", hidden: "" });
  var drawerHead = el("div", "sa-cart-head");
  drawerHead.appendChild(el("h3", "sa-cart-title", null, "Your cart"));
  var drawerClose = el("button", "sa-icon-btn sa-cart-close", { type: "button", "aria-label": "Close cart" });
  drawerClose.appendChild(icon("close"));
  drawerHead.appendChild(drawerClose);
  var drawerList = el("ul", "sa-cart-lines");
  var drawerTotal = el("p", "sa-cart-total");
  var checkoutButton = el("button", "sa-checkout", { type: "button" }, "Checkout");
  drawer.appendChild(drawerHead);
  drawer.appendChild(drawerList);
  drawer.appendChild(drawerTotal);
  drawer.appendChild(checkoutButton);

  panel.appendChild(header);
  panel.appendChild(statusBar);
  panel.appendChild(messages);
  panel.appendChild(typing);
  panel.appendChild(chips);
  panel.appendChild(form);
  panel.appendChild(drawer);
  root.appendChild(panel);
  root.appendChild(launcher);

  function mount() {
    document.body.appendChild(root);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  /* ------------------------------------------------------------------ rendering */

  function scrollDown() {
    messages.scrollTop = messages.scrollHeight;
  }

  function addUser(text, imageUrl) {
    var msg = el("div", "sa-msg sa-msg-user");
    if (imageUrl) msg.appendChild(el("img", "sa-upload-thumb", { src: imageUrl, alt: "Your photo" }));
    msg.appendChild(el("p", "sa-bubble", null, text));
    messages.appendChild(msg);
    scrollDown();
    return msg;
  }

  function addBot() {
    var msg = el("div", "sa-msg sa-msg-bot");
    var bubble = el("p", "sa-bubble");
    msg.appendChild(bubble);
    messages.appendChild(msg);
    return { msg: msg, bubble: bubble, cards: null };
  }

  function addSystem(text, cls) {
    var msg = el("div", "sa-msg sa-msg-system " + (cls || ""));
    msg.appendChild(el("p", "sa-bubble", null, text));
    messages.appendChild(msg);
    scrollDown();
    return msg;
  }

  function stars(rating) {
    if (rating === null || rating === undefined) return "";
    return "\u2605 " + Number(rating).toFixed(1);
  }

  function renderCards(bot, products, live) {
    if (bot.cards) bot.cards.remove();
    bot.cards = null;
    if (!products || !products.length) return;
    var list = el("div", "sa-cards", { role: "list", "aria-label": "Products" });
    products.forEach(function (p) {
      var card = el("div", "sa-card", { role: "listitem", "data-product-id": p.id });
      var src = abs(p.image_url);
      if (src) {
        var img = el("img", "sa-card-img", { src: src, alt: p.title || "", loading: "lazy" });
        img.addEventListener("error", function () {
          img.remove();
        });
        card.appendChild(img);
      }
      card.appendChild(el("p", "sa-card-title", null, p.title));
      var meta = el("p", "sa-card-meta");
      meta.appendChild(el("span", "sa-card-price", null, money(p.price, p.currency)));
      if (p.rating !== null && p.rating !== undefined) {
        meta.appendChild(
          el("span", "sa-card-rating", { "aria-label": "rated " + p.rating + " of 5" }, stars(p.rating))
        );
      }
      card.appendChild(meta);
      if (p.why) card.appendChild(el("p", "sa-card-why", null, p.why));
      var actions = el("div", "sa-card-actions");
      var add = el("button", "sa-btn sa-add", { type: "button", "aria-label": "Add " + p.title + " to cart" }, "Add to cart");
      var det = el("button", "sa-btn sa-btn-ghost sa-details", { type: "button", "aria-label": "Details of " + p.title }, "Details");
      add.addEventListener("click", function () {
        addToCart(p, add);
      });
      det.addEventListener("click", function () {
        sendEvent("click", p.id);
        send("tell me about " + p.title);
      });
      actions.appendChild(add);
      actions.appendChild(det);
      card.appendChild(actions);
      list.appendChild(card);
      if (live) sendEvent("view", p.id);
    });
    bot.msg.appendChild(list);
    bot.cards = list;
    scrollDown();
  }

  function renderSuggestions(list) {
    while (chips.firstChild) chips.removeChild(chips.firstChild);
    (list || []).slice(0, 6).forEach(function (s) {
      var chip = el("button", "sa-chip", { type: "button" }, s);
      chip.addEventListener("click", function () {
        send(String(s));
      });
      chips.appendChild(chip);
    });
  }

  function noticeKey(n) {
    return [n.kind, n.created_at, n.text].join("|");
  }

  function renderNotices(list) {
    (list || []).forEach(function (n) {
      var key = noticeKey(n);
      if (state.seenNotices[key]) return;
      state.seenNotices[key] = true;
      if (n.created_at && (!state.lastNoticeAt || n.created_at > state.lastNoticeAt)) {
        state.lastNoticeAt = n.created_at;
      }
      var label = { staff_message: "Message from our team", price_alert: "Price alert", order_update: "Order update" };
      var box = addSystem(n.text, "sa-notice sa-notice-" + String(n.kind || "info").replace(/[^a-z_]/g, ""));
      box.insertBefore(el("p", "sa-notice-kind", null, label[n.kind] || "Notice"), box.firstChild);
    });
  }

  function renderOrder(bot, order) {
    if (!order || !order.id) return;
    var box = el("div", "sa-order", { "data-order-id": order.id });
    box.appendChild(el("span", "sa-order-label", null, "Order "));
    box.appendChild(el("strong", "sa-order-id", null, order.id));
    box.appendChild(
      el("span", "sa-order-status", null, " \u00B7 " + (order.status || "") + " \u00B7 " + money(order.total, order.currency))
    );
    bot.msg.appendChild(box);
  }

  function sparkline(history, currency) {
    var w = 120,
      h = 32,
      pad = 2;
    var prices = history.map(function (pt) {
      return Number(pt.price);
    });
    var min = Math.min.apply(null, prices),
      max = Math.max.apply(null, prices);
    var span = max - min || 1;
    var pts = prices
      .map(function (v, i) {
        var x = pad + (i * (w - 2 * pad)) / Math.max(1, prices.length - 1);
        var y = h - pad - ((v - min) * (h - 2 * pad)) / span;
        return x.toFixed(1) + "," + y.toFixed(1);
      })
      .join(" ");
    var svg = svgEl("svg", {
      class: "sa-spark",
      width: w,
      height: h,
      viewBox: "0 0 " + w + " " + h,
      role: "img",
      "aria-label": "Price history from " + money(min, currency) + " to " + money(max, currency),
    });
    svg.appendChild(svgEl("polyline", { points: pts, fill: "none", stroke: "currentColor", "stroke-width": "1.5" }));
    return svg;
  }

  function renderPriceAdvice(bot, advice) {
    if (!advice || !advice.product_id) return;
    var target = null;
    if (bot.cards) {
      Array.prototype.forEach.call(bot.cards.children, function (c) {
        if (c.getAttribute("data-product-id") === advice.product_id) target = c;
      });
    }
    if (!target) {
      target = el("div", "sa-advice", { "data-product-id": advice.product_id });
      bot.msg.appendChild(target);
    }
    var box = el("div", "sa-price-advice");
    var verdict = { buy_now: "Good time to buy", wait: "Consider waiting", not_enough_history: "Little price history" };
    box.appendChild(el("p", "sa-verdict", null, verdict[advice.verdict] || advice.verdict));
    target.appendChild(box);
    api("GET", "/v1/products/" + encodeURIComponent(advice.product_id) + "/price")
      .then(function (data) {
        if (data && data.history && data.history.length > 1) {
          box.insertBefore(sparkline(data.history, data.currency), box.firstChild);
        }
      })
      .catch(function () {
        /* the verdict text stays */
      });
  }

  function updateCart(cart) {
    if (!cart) return;
    state.cart = cart;
    var n = (cart.items || []).reduce(function (a, it) {
      return a + Number(it.quantity || 0);
    }, 0);
    cartBadge.textContent = String(n);
    cartButton.setAttribute("aria-label", "Open cart, " + n + (n === 1 ? " item" : " items"));
    if (!drawer.hasAttribute("hidden")) renderDrawer();
  }

  function renderResponse(bot, resp, live) {
    if (!resp) return;
    bot.bubble.textContent = resp.reply || "";
    if (resp.turn_id) bot.msg.setAttribute("data-turn-id", resp.turn_id);
    if (resp.action) bot.msg.setAttribute("data-action", resp.action);
    renderCards(bot, resp.products, live);
    renderOrder(bot, resp.order);
    if (live) renderPriceAdvice(bot, resp.price_advice);
    renderSuggestions(resp.suggestions);
    updateCart(resp.cart);
    renderNotices(resp.notices);
    scrollDown();
  }

  /* ------------------------------------------------------------------ chat */

  function setStatus(text) {
    if (text) {
      statusBar.textContent = text;
      statusBar.removeAttribute("hidden");
    } else {
      statusBar.textContent = "";
      statusBar.setAttribute("hidden", "");
    }
  }

  function setBusy(b) {
    state.busy = b;
    sendButton.disabled = b;
    photoButton.disabled = b;
    if (b) typing.removeAttribute("hidden");
    else typing.setAttribute("hidden", "");
    root.setAttribute("data-busy", b ? "true" : "false");
  }

  function parseSSE(block) {
    var ev = { event: "message", data: "" };
    var data = [];
    block.split(/\r?\n/).forEach(function (line) {
      if (!line || line.charAt(0) === ":") return;
      var i = line.indexOf(":");
      var field = i < 0 ? line : line.slice(0, i);
      var value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "event") ev.event = value;
      else if (field === "data") data.push(value);
    });
    ev.data = data.join("\n");
    return ev;
  }

  /* One streamed turn.  Resolves with the `done` object; rejects with err.retry when nothing was received
   * and the network (or a 5xx / 429) failed, so the caller can retry. */
  function streamTurn(body, bot) {
    var received = false;
    return fetch(API + "/v1/chat/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
    })
      .then(function (res) {
        if (!res.ok) {
          return res
            .json()
            .catch(function () {
              return {};
            })
            .then(function (data) {
              var err = new Error((data.error && data.error.message) || "HTTP " + res.status);
              err.status = res.status;
              err.code = data.error ? data.error.code : null;
              err.retry = res.status >= 500 || res.status === 429;
              throw err;
            });
        }
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buf = "";
        var done = null;
        function handle(ev) {
          if (!ev.data) return;
          var data = JSON.parse(ev.data);
          received = true;
          if (ev.event === "meta") {
            setSession(data.session_id);
          } else if (ev.event === "products") {
            renderCards(bot, data.products, false);
          } else if (ev.event === "delta") {
            typing.setAttribute("hidden", "");
            bot.bubble.appendChild(document.createTextNode(data.text || ""));
            scrollDown();
          } else if (ev.event === "done") {
            done = data;
          } else if (ev.event === "error") {
            var err = new Error((data.error && data.error.message) || "error");
            err.code = data.error ? data.error.code : null;
            throw err;
          }
        }
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.value) buf += decoder.decode(chunk.value, { stream: true });
            var parts = buf.split(/\r?\n\r?\n/);
            buf = parts.pop();
            parts.forEach(function (p) {
              handle(parseSSE(p));
            });
            if (chunk.done) {
              if (buf.trim()) handle(parseSSE(buf));
              if (!done) {
                var err = new Error("the reply was cut off");
                err.retry = !received;
                throw err;
              }
              return done;
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (err) {
        if (err instanceof TypeError && !received) err.retry = true;
        throw err;
      });
  }

  function send(text, imageId, opts) {
    text = String(text || "").trim();
    if (!text || state.busy) return Promise.resolve(null);
    if (!(opts && opts.skipUserBubble)) addUser(text);
    renderSuggestions([]);
    setBusy(true);
    var bot = addBot();
    bot.msg.setAttribute("data-pending", "true");
    var attempt = 0;
    function tryOnce() {
      var body = { session_id: state.sessionId, message: text, image_id: imageId || null };
      return streamTurn(body, bot).then(
        function (resp) {
          setStatus("");
          bot.msg.removeAttribute("data-pending");
          renderResponse(bot, resp, true);
          return resp;
        },
        function (err) {
          if (err.code === "session_not_found" && body.session_id) {
            clearSession();
            return tryOnce();
          }
          if (err.retry && attempt < 6) {
            var wait = Math.min(16000, 1000 * Math.pow(2, attempt));
            attempt += 1;
            setStatus("Reconnecting\u2026");
            root.setAttribute("data-reconnecting", "true");
            return sleep(wait).then(tryOnce);
          }
          bot.msg.removeAttribute("data-pending");
          bot.msg.classList.add("sa-msg-error");
          bot.bubble.textContent = "Sorry, something went wrong: " + err.message;
          setStatus(err.retry ? "Can't reach the shop right now. Please try again later." : "");
          return null;
        }
      );
    }
    return tryOnce().then(function (r) {
      root.removeAttribute("data-reconnecting");
      setBusy(false);
      return r;
    });
  }

  function addToCart(p, button) {
    function go() {
      return api("POST", "/v1/sessions/" + encodeURIComponent(state.sessionId) + "/cart/items", {
        product_id: p.id,
        quantity: 1,
      });
    }
    if (!state.sessionId) return;
    button.disabled = true;
    go()
      .then(function (cart) {
        updateCart(cart);
        addSystem("Added " + p.title + " to your cart.", "sa-cart-note");
      })
      .catch(function (err) {
        addSystem("Couldn't add " + p.title + ": " + err.message, "sa-msg-error");
      })
      .then(function () {
        button.disabled = false;
      });
  }

  /* ------------------------------------------------------------------ cart drawer */

  function cartCall(method, productId, body) {
    var path = "/v1/sessions/" + encodeURIComponent(state.sessionId) + "/cart";
    if (productId) path += "/items/" + encodeURIComponent(productId);
    return api(method, path, body).then(updateCart, function (err) {
      addSystem("Cart: " + err.message, "sa-msg-error");
    });
  }

  function renderDrawer() {
    while (drawerList.firstChild) drawerList.removeChild(drawerList.firstChild);
    var cart = state.cart || { items: [], total: 0, currency: "USD" };
    if (!cart.items || !cart.items.length) {
      drawerList.appendChild(el("li", "sa-cart-empty", null, "Your cart is empty."));
    }
    (cart.items || []).forEach(function (it) {
      var li = el("li", "sa-cart-line", { "data-product-id": it.product_id });
      li.appendChild(el("span", "sa-cart-line-title", null, it.title));
      li.appendChild(el("span", "sa-cart-line-price", null, money(it.unit_price, cart.currency)));
      var qty = el("span", "sa-qty");
      var minus = el("button", "sa-icon-btn sa-minus", { type: "button", "aria-label": "One fewer " + it.title }, "\u2212");
      var count = el("span", "sa-qty-n", { "aria-label": "quantity" }, it.quantity);
      var plus = el("button", "sa-icon-btn sa-plus", { type: "button", "aria-label": "One more " + it.title }, "+");
      var rm = el("button", "sa-btn-link sa-remove", { type: "button", "aria-label": "Remove " + it.title }, "Remove");
      minus.addEventListener("click", function () {
        cartCall("PATCH", it.product_id, { quantity: Math.max(0, it.quantity - 1) });
      });
      plus.addEventListener("click", function () {
        cartCall("PATCH", it.product_id, { quantity: Math.min(99, it.quantity + 1) });
      });
      rm.addEventListener("click", function () {
        cartCall("DELETE", it.product_id);
      });
      qty.appendChild(minus);
      qty.appendChild(count);
      qty.appendChild(plus);
      li.appendChild(qty);
      li.appendChild(rm);
      drawerList.appendChild(li);
    });
    drawerTotal.textContent = "Total: " + money(cart.total || 0, cart.currency);
    checkoutButton.disabled = !(cart.items && cart.items.length);
  }

  function openDrawer() {
    renderDrawer();
    drawer.removeAttribute("hidden");
    cartButton.setAttribute("aria-expanded", "true");
    drawerClose.focus();
    if (state.sessionId) cartCall("GET");
  }

  function closeDrawer() {
    drawer.setAttribute("hidden", "");
    cartButton.setAttribute("aria-expanded", "false");
    cartButton.focus();
  }

  /* ------------------------------------------------------------------ history, notices */

  function restore() {
    if (state.restored || !state.sessionId) {
      state.restored = true;
      return Promise.resolve();
    }
    state.restored = true;
    return api("GET", "/v1/sessions/" + encodeURIComponent(state.sessionId))
      .then(function (h) {
        (h.turns || []).forEach(function (t) {
          addUser(t.message);
          var bot = addBot();
          renderResponse(bot, t.response || { reply: "" }, false);
        });
        if (h.cart) updateCart(h.cart);
      })
      .catch(function (err) {
        if (err.status === 404 || err.status === 422) clearSession();
      });
  }

  function pollNotices() {
    if (!state.sessionId || !state.open) return;
    var q = state.lastNoticeAt ? "?after=" + encodeURIComponent(state.lastNoticeAt) : "";
    api("GET", "/v1/sessions/" + encodeURIComponent(state.sessionId) + "/notices" + q)
      .then(function (data) {
        renderNotices(data.notices);
        scrollDown();
      })
      .catch(function () {
        /* next poll */
      });
  }

  /* ------------------------------------------------------------------ open / close */

  function openPanel() {
    if (state.open) return;
    state.open = true;
    state.lastFocus = document.activeElement;
    panel.removeAttribute("hidden");
    root.classList.add("sa-open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close shopping assistant");
    restore().then(function () {
      if (!messages.childNodes.length) {
        addSystem("Hi! Tell me what you're looking for, or send a photo.", "sa-greeting");
      }
      scrollDown();
      pollNotices();
    });
    state.pollTimer = setInterval(pollNotices, POLL_MS);
    input.focus();
  }

  function closePanel() {
    if (!state.open) return;
    state.open = false;
    panel.setAttribute("hidden", "");
    drawer.setAttribute("hidden", "");
    root.classList.remove("sa-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open shopping assistant");
    clearInterval(state.pollTimer);
    state.pollTimer = null;
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (state.open) closePanel();
    else openPanel();
  });
  closeButton.addEventListener("click", closePanel);
  cartButton.addEventListener("click", function () {
    if (drawer.hasAttribute("hidden")) openDrawer();
    else closeDrawer();
  });
  drawerClose.addEventListener("click", closeDrawer);
  checkoutButton.addEventListener("click", function () {
    closeDrawer();
    input.focus();
    send("checkout");
  });
  panel.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    e.preventDefault();
    if (!drawer.hasAttribute("hidden")) closeDrawer();
    else closePanel();
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim() || state.busy) return;
    input.value = "";
    send(text);
  });
  photoButton.addEventListener("click", function () {
    fileInput.click();
  });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file || state.busy) return;
    var fd = new FormData();
    fd.append("file", file);
    var preview = "";
    try {
      preview = URL.createObjectURL(file);
    } catch (e) {
      preview = "";
    }
    var text = "Find products like this photo";
    addUser(text, preview);
    setBusy(true);
    api("POST", "/v1/images", fd)
      .then(function (img) {
        setBusy(false);
        return send(text, img.image_id, { skipUserBubble: true });
      })
      .catch(function (err) {
        setBusy(false);
        addSystem("Couldn't upload the photo: " + err.message, "sa-msg-error");
      })
      .then(function () {
        fileInput.value = "";
      });
  });

  window.ShopAssistWidget = {
    open: openPanel,
    close: closePanel,
    send: send,
    api: API,
    session: function () {
      return state.sessionId;
    },
    /* Render a response object as an assistant message (used by tests and host pages). */
    _render: function (resp) {
      renderResponse(addBot(), resp, false);
    },
  };
})();
