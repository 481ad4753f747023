/* ShopAssist staff console.  The API key lives in sessionStorage and goes out as a Bearer token.
 * Every piece of conversation text is inserted as text (textContent / setAttribute), never as HTML. */
(function () {
  "use strict";
  var INTENTS = [
    "greet", "goodbye", "search", "refine", "product_info", "compare", "recommend", "add_to_cart",
    "remove_from_cart", "view_cart", "checkout", "order_status", "price_advice", "price_alert",
    "human_handoff", "affirm", "deny", "out_of_scope",
  ];
  var STATUSES = ["placed", "shipped", "delivered", "cancelled"];
  var current = null;

  var S = window.ShopAssistStaff;
  var $ = S.$;
  var el = S.el;
  var key = S.key;
  var flash = S.flash;

  function call(method, path, body, raw) {
    return S.call(method, path, body, raw, function () {
      signOut("Your key was not accepted; sign in again.");
    });
  }

  function fail(err) {
    flash(err.message || String(err));
  }

  /* ------------------------------------------------------------------ sign in */

  function signOut(message) {
    S.clearKey();
    $("console").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    flash(message || "");
  }

  function signedIn(role) {
    $("signin").hidden = true;
    $("console").hidden = false;
    $("who").hidden = false;
    $("who-role").textContent = "Signed in as " + role;
    document.body.setAttribute("data-role", role);
    $("keys").hidden = role !== "admin";
    if (role === "admin") loadKeys();
    loadList();
    loadAtRisk();
  }

  /* ------------------------------------------------------------------ live sessions at risk */

  /* Live conversations the abandonment model says may end without an order (GET /v1/staff/at-risk);
   * the panel stays hidden without a trained model or where the route is not served. */
  function loadAtRisk() {
    return call("GET", "/v1/staff/at-risk?minutes=30&limit=20")
      .then(function (data) {
        var box = $("at-risk");
        if (!data.model) {
          box.hidden = true;
          return;
        }
        box.hidden = false;
        var rows = data.sessions || [];
        $("at-risk-note").textContent = rows.length
          ? rows.length + (rows.length === 1 ? " live conversation" : " live conversations") +
            " may end without an order (risk \u2265 " + data.threshold + ")."
          : "No live conversation is at risk right now.";
        var ul = $("at-risk-list");
        ul.replaceChildren();
        rows.forEach(function (c) {
          var li = el("li", "st-conv", null, { "data-session-id": c.session_id });
          var b = el("button", null, null, { type: "button" });
          b.appendChild(el("span", "st-conv-first", c.last_message || "(no message)"));
          var meta = el("span", "st-conv-meta");
          meta.appendChild(el("span", "st-tag st-tag-warn", "risk " + Math.round(c.risk * 100) + "%"));
          if (c.handoff) meta.appendChild(el("span", "st-tag st-tag-alert", "handed off"));
          meta.appendChild(
            document.createTextNode(c.last_activity + " \u00B7 " + c.turns + " turns \u00B7 " + c.last_action)
          );
          b.appendChild(meta);
          b.addEventListener("click", function () {
            openConversation(c.session_id);
          });
          li.appendChild(b);
          ul.appendChild(li);
        });
      })
      .catch(function (err) {
        $("at-risk").hidden = true;
        if (err && err.status === 404) atRiskServed = false; // this server has no such route
      });
  }

  var atRiskServed = true;
  window.setInterval(function () {
    if (atRiskServed && key() && !$("console").hidden) loadAtRisk();
  }, 30000);

  function verify() {
    return call("GET", "/v1/staff/conversations?limit=1").then(function () {
      return call("GET", "/v1/staff/keys").then(
        function (data) {
          signedIn("admin");
          renderKeys(data.keys || []);
        },
        function (err) {
          if (err.status === 403) signedIn("staff");
          else throw err;
        }
      );
    });
  }

  $("signin-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var value = $("key").value.trim();
    if (!value) return;
    if (!S.setKey(value)) flash("This browser keeps no session storage; the key is not kept.");
    $("key").value = "";
    flash("");
    verify().catch(fail);
  });
  $("signout").addEventListener("click", function () {
    signOut("Signed out.");
  });

  $("export").addEventListener("click", function (e) {
    e.preventDefault();
    call("GET", "/v1/staff/labels/export", undefined, true)
      .then(function (text) {
        var url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
        var a = el("a", null, null, { href: url, download: "labels.jsonl" });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () {
          URL.revokeObjectURL(url);
        }, 1000);
      })
      .catch(fail);
  });

  /* ------------------------------------------------------------------ list */

  INTENTS.forEach(function (name) {
    $("f-intent").appendChild(el("option", null, name, { value: name }));
  });

  function listQuery() {
    var p = new URLSearchParams();
    var q = $("f-q").value.trim();
    if (q) p.set("q", q);
    if ($("f-since").value) p.set("since", $("f-since").value + "T00:00:00Z");
    if ($("f-until").value) p.set("until", $("f-until").value + "T23:59:59Z");
    [
      ["f-intent", "intent"],
      ["f-handoff", "handoff"],
      ["f-low", "low_confidence"],
      ["f-ordered", "ordered"],
    ].forEach(function (pair) {
      var v = $(pair[0]).value;
      if (v) p.set(pair[1], v);
    });
    p.set("limit", "100");
    return p.toString();
  }

  function loadList() {
    return call("GET", "/v1/staff/conversations?" + listQuery())
      .then(function (data) {
        var ul = $("conversations");
        ul.replaceChildren();
        $("list-count").textContent = data.total + (data.total === 1 ? " conversation" : " conversations");
        (data.conversations || []).forEach(function (c) {
          var li = el("li", "st-conv" + (c.id === current ? " st-active" : ""), null, { "data-session-id": c.id });
          var b = el("button", null, null, { type: "button" });
          b.appendChild(el("span", "st-conv-first", c.first_message || "(no message)"));
          var meta = el("span", "st-conv-meta");
          meta.appendChild(document.createTextNode(c.updated_at + " \u00B7 " + c.turns + " turns \u00B7 "));
          if (c.handoff) meta.appendChild(el("span", "st-tag st-tag-alert", "handed off"));
          if (c.ordered) meta.appendChild(el("span", "st-tag st-tag-ok", "ordered"));
          if (c.min_confidence < 0.5) meta.appendChild(el("span", "st-tag st-tag-warn", "low confidence"));
          meta.appendChild(document.createTextNode((c.intents || []).join(", ")));
          b.appendChild(meta);
          b.addEventListener("click", function () {
            openConversation(c.id);
          });
          li.appendChild(b);
          ul.appendChild(li);
        });
      })
      .catch(fail);
  }

  $("filters").addEventListener("submit", function (e) {
    e.preventDefault();
    loadList();
  });

  /* ------------------------------------------------------------------ transcript */

  function json(v) {
    return JSON.stringify(v || {});
  }

  function labelForm(turn) {
    var form = el("form", "st-label-form", null, { "aria-label": "Correct the label of this turn" });
    var intentLabel = el("label", null, "Intent ");
    var select = el("select", "st-label-intent");
    INTENTS.forEach(function (name) {
      var o = el("option", null, name, { value: name });
      if (name === turn.intent) o.selected = true;
      select.appendChild(o);
    });
    intentLabel.appendChild(select);
    var slotsLabel = el("label", null, "Slots (JSON) ");
    var slots = el("textarea", "st-label-slots", null, { spellcheck: "false" });
    slots.value = json(turn.slots);
    slotsLabel.appendChild(slots);
    var save = el("button", "st-label-save", "Save label", { type: "submit" });
    form.appendChild(intentLabel);
    form.appendChild(slotsLabel);
    form.appendChild(save);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var parsed;
      try {
        parsed = JSON.parse(slots.value || "{}");
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      } catch (err) {
        flash("Slots must be a JSON object: " + err.message);
        return;
      }
      call("POST", "/v1/staff/turns/" + encodeURIComponent(turn.turn_id) + "/label", {
        intent: select.value,
        slots: parsed,
      })
        .then(function () {
          flash("Label saved.", true);
          return openConversation(current);
        })
        .catch(fail);
    });
    return form;
  }

  function renderTurn(t) {
    var box = el("div", "st-turn", null, { "data-turn-id": t.turn_id });
    box.appendChild(el("p", "st-msg", "Shopper: " + t.message));
    var nlu = el("p", "st-nlu");
    nlu.appendChild(document.createTextNode("intent "));
    nlu.appendChild(el("code", "st-intent", t.intent));
    var conf = el("span", t.low_confidence ? "st-conf st-low" : "st-conf", " " + Number(t.confidence).toFixed(2));
    nlu.appendChild(conf);
    nlu.appendChild(document.createTextNode(" \u00B7 action "));
    nlu.appendChild(el("code", "st-action", t.action));
    nlu.appendChild(document.createTextNode(" \u00B7 slots "));
    nlu.appendChild(el("code", "st-slots", json(t.slots)));
    nlu.appendChild(document.createTextNode(" \u00B7 " + Number(t.total_ms).toFixed(0) + " ms"));
    box.appendChild(nlu);
    if (t.products && t.products.length) {
      box.appendChild(el("p", "st-nlu", "products: " + t.products.join(", ") + " (" + t.n_results + " results)"));
    }
    if (t.latency_ms && Object.keys(t.latency_ms).length) {
      var parts = Object.keys(t.latency_ms).map(function (k) {
        return k + " " + t.latency_ms[k] + " ms";
      });
      box.appendChild(el("p", "st-nlu", "latency: " + parts.join(", ")));
    }
    box.appendChild(el("p", "st-reply", "Assistant: " + t.reply));
    (t.labels || []).forEach(function (lab) {
      box.appendChild(el("p", "st-labels", "Corrected by " + lab.by + ": " + lab.intent + " " + json(lab.slots)));
    });
    box.appendChild(labelForm(t));
    return box;
  }

  function renderOrders(orders) {
    var box = el("div", "st-orders");
    box.appendChild(el("h3", null, "Orders"));
    orders.forEach(function (o) {
      var row = el("p", "st-order", null, { "data-order-id": o.id });
      row.appendChild(
        document.createTextNode(o.id + " \u00B7 " + o.total + " " + o.currency + " \u00B7 " + o.email + " \u00B7 ")
      );
      var sel = el("select", "st-order-status", null, { "aria-label": "Status of order " + o.id });
      STATUSES.forEach(function (s) {
        var opt = el("option", null, s, { value: s });
        if (s === o.status) opt.selected = true;
        sel.appendChild(opt);
      });
      var btn = el("button", null, "Update", { type: "button" });
      btn.addEventListener("click", function () {
        call("PATCH", "/v1/staff/orders/" + encodeURIComponent(o.id), { status: sel.value })
          .then(function () {
            flash("Order " + o.id + " is " + sel.value + ".", true);
          })
          .catch(fail);
      });
      row.appendChild(sel);
      row.appendChild(btn);
      box.appendChild(row);
    });
    return box;
  }

  function replyForm(id) {
    var form = el("form", "st-reply-form", null, { "aria-label": "Reply to the shopper" });
    var label = el("label", null, "Reply to the shopper", { for: "st-reply-text" });
    var text = el("textarea", null, null, { id: "st-reply-text", maxlength: "4000" });
    var btn = el("button", null, "Send reply", { type: "submit" });
    form.appendChild(label);
    form.appendChild(text);
    form.appendChild(btn);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!text.value.trim()) return;
      call("POST", "/v1/staff/conversations/" + encodeURIComponent(id) + "/messages", { text: text.value })
        .then(function () {
          text.value = "";
          flash("Reply sent.", true);
          return openConversation(id);
        })
        .catch(fail);
    });
    return form;
  }

  function openConversation(id) {
    current = id;
    return call("GET", "/v1/staff/conversations/" + encodeURIComponent(id))
      .then(function (c) {
        $("transcript-empty").hidden = true;
        var body = $("transcript-body");
        body.replaceChildren();
        body.setAttribute("data-session-id", c.id);
        var head = el("p", "st-muted", c.id + " \u00B7 " + c.channel + " \u00B7 started " + c.created_at);
        if (c.handoff) head.appendChild(el("span", "st-tag st-tag-alert", " handed off"));
        body.appendChild(head);
        if (c.open_handoff || c.handoff) body.appendChild(replyForm(c.id));
        if (c.orders && c.orders.length) body.appendChild(renderOrders(c.orders));
        (c.turns || []).forEach(function (t) {
          body.appendChild(renderTurn(t));
        });
        if (c.notices && c.notices.length) {
          var n = el("div", "st-orders");
          n.appendChild(el("h3", null, "Notices"));
          c.notices.forEach(function (x) {
            n.appendChild(el("p", null, x.created_at + " " + x.kind + ": " + x.text));
          });
          body.appendChild(n);
        }
        Array.prototype.forEach.call($("conversations").children, function (li) {
          li.classList.toggle("st-active", li.getAttribute("data-session-id") === id);
        });
      })
      .catch(fail);
  }

  /* ------------------------------------------------------------------ keys (admin) */

  function renderKeys(keys) {
    var rows = $("key-rows");
    rows.replaceChildren();
    keys.forEach(function (k) {
      var tr = el("tr", null, null, { "data-key-id": k.id });
      [k.id, k.name, k.role, k.created_at, k.revoked_at ? "revoked" : "active"].forEach(function (v) {
        tr.appendChild(el("td", null, v === undefined || v === null ? "" : v));
      });
      var td = el("td");
      if (!k.revoked_at) {
        var b = el("button", null, "Revoke", { type: "button" });
        b.addEventListener("click", function () {
          if (!window.confirm("Revoke key " + k.id + "?")) return;
          call("DELETE", "/v1/staff/keys/" + encodeURIComponent(k.id)).then(loadKeys).catch(fail);
        });
        td.appendChild(b);
      }
      tr.appendChild(td);
      rows.appendChild(tr);
    });
  }

  function loadKeys() {
    return call("GET", "/v1/staff/keys")
      .then(function (data) {
        renderKeys(data.keys || []);
      })
      .catch(fail);
  }

  $("key-form").addEventListener("submit", function (e) {
    e.preventDefault();
    call("POST", "/v1/staff/keys", { role: $("key-role").value, name: $("key-name").value })
      .then(function (k) {
        var p = $("new-key");
        p.hidden = false;
        p.textContent = "New key (shown once): " + k.key;
        $("key-name").value = "";
        return loadKeys();
      })
      .catch(fail);
  });

  if (key()) verify().catch(fail);
})();
