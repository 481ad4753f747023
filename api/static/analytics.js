/* ShopAssist analytics page: charts drawn here as SVG (no chart library, no CDN).
 * The staff key is shared with the console (sessionStorage) and sent as a Bearer token; every text
 * from the logs is inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLOURS = ["#2f6fdb", "#e07b12", "#1b9e5a", "#b8326b", "#6b4fc8", "#0f9bb0", "#8a8d12", "#7a5a3a"];
  var STEP_NAMES = {
    sessions: "Sessions",
    searched: "Searched",
    viewed_details: "Viewed details",
    added_to_cart: "Added to cart",
    checkout_started: "Checkout started",
    order_placed: "Order placed",
  };

  var S = window.ShopAssistStaff;
  var $ = S.$;
  var el = S.el;
  var key = S.key;
  var flash = S.flash;

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, String(attrs[k]));
    });
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function call(path, raw) {
    return S.call("GET", path, undefined, raw, function () {
      signOut("Your key was not accepted; sign in again.");
    });
  }

  function pct(x) {
    return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %";
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /* ------------------------------------------------------------------ sign in */

  function signOut(message) {
    S.clearKey();
    $("board").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    flash(message || "");
  }

  function signedIn() {
    $("signin").hidden = true;
    $("board").hidden = false;
    $("who").hidden = false;
    if (!$("r-since").value) preset(7);
    load();
  }

  /* ------------------------------------------------------------------ range */

  function isoDay(d) {
    return d.toISOString().slice(0, 10);
  }

  function preset(days) {
    var until = new Date();
    var since = new Date(until.getTime() - days * 86400000);
    $("r-since").value = isoDay(since);
    $("r-until").value = isoDay(new Date(until.getTime() + 86400000));
  }

  function query() {
    var q = [];
    if ($("r-since").value) q.push("since=" + encodeURIComponent($("r-since").value + "T00:00:00Z"));
    if ($("r-until").value) q.push("until=" + encodeURIComponent($("r-until").value + "T00:00:00Z"));
    if ($("r-simulated").checked) q.push("simulated=true");
    return q.join("&");
  }

  /* ------------------------------------------------------------------ charts */

  function barChart(target, rows, opts) {
    /* rows: [{label, value, note}] drawn as horizontal bars */
    clear(target);
    var width = 560;
    var rowH = 26;
    var labelW = opts.labelWidth || 130;
    var height = Math.max(rowH * rows.length + 8, 40);
    var max = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1]));
    var root = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": opts.title });
    root.appendChild(svg("title", {}, opts.title));
    rows.forEach(function (r, i) {
      var y = 4 + i * rowH;
      var w = Math.max(1, ((width - labelW - 110) * r.value) / max);
      root.appendChild(svg("text", { x: labelW - 6, y: y + 15, "text-anchor": "end" }, r.label));
      var bar = svg("rect", { x: labelW, y: y + 3, width: w, height: rowH - 8, rx: 3, fill: opts.colour || COLOURS[0] });
      bar.appendChild(svg("title", {}, r.label + ": " + r.value));
      root.appendChild(bar);
      root.appendChild(svg("text", { x: labelW + w + 6, y: y + 15 }, r.value + (r.note ? "  " + r.note : "")));
    });
    if (!rows.length) root.appendChild(svg("text", { x: 8, y: 24 }, "No data in this range"));
    target.appendChild(root);
  }

  function lineChart(target, legend, rows, series) {
    /* rows: [{day, <series>: n}], one line per series */
    clear(target);
    clear(legend);
    var width = 560;
    var height = 220;
    var left = 36;
    var bottom = 24;
    var root = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "Intents by day" });
    root.appendChild(svg("title", {}, "Intents by day"));
    if (!rows.length) {
      root.appendChild(svg("text", { x: 8, y: 24 }, "No data in this range"));
      target.appendChild(root);
      return;
    }
    var max = 1;
    rows.forEach(function (r) {
      series.forEach(function (s) {
        max = Math.max(max, r[s] || 0);
      });
    });
    var plotW = width - left - 10;
    var plotH = height - bottom - 10;
    function x(i) {
      return left + (rows.length === 1 ? plotW / 2 : (plotW * i) / (rows.length - 1));
    }
    function y(v) {
      return 10 + plotH - (plotH * v) / max;
    }
    root.appendChild(svg("line", { x1: left, y1: 10 + plotH, x2: width - 10, y2: 10 + plotH, class: "an-axis" }));
    root.appendChild(svg("line", { x1: left, y1: 10, x2: left, y2: 10 + plotH, class: "an-axis" }));
    root.appendChild(svg("text", { x: left - 4, y: 14, "text-anchor": "end" }, max));
    root.appendChild(svg("text", { x: left - 4, y: 10 + plotH, "text-anchor": "end" }, 0));
    var step = Math.max(1, Math.ceil(rows.length / 6));
    rows.forEach(function (r, i) {
      if (i % step === 0 || i === rows.length - 1) {
        root.appendChild(svg("text", { x: x(i), y: height - 6, "text-anchor": "middle" }, r.day.slice(5)));
      }
    });
    series.forEach(function (s, k) {
      var colour = COLOURS[k % COLOURS.length];
      var points = rows.map(function (r, i) {
        return x(i).toFixed(1) + "," + y(r[s] || 0).toFixed(1);
      });
      root.appendChild(svg("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 2 }));
      rows.forEach(function (r, i) {
        var dot = svg("circle", { cx: x(i), cy: y(r[s] || 0), r: 2.5, fill: colour });
        dot.appendChild(svg("title", {}, s + " " + r.day + ": " + (r[s] || 0)));
        root.appendChild(dot);
      });
      var item = el("span");
      var swatch = el("i");
      swatch.style.background = colour;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(s));
      legend.appendChild(item);
    });
    target.appendChild(root);
  }

  /* ------------------------------------------------------------------ tables and tiles */

  function rowsInto(tbody, rows, cells) {
    clear(tbody);
    rows.forEach(function (r) {
      var tr = el("tr");
      cells(r).forEach(function (c) {
        tr.appendChild(el("td", null, c));
      });
      tbody.appendChild(tr);
    });
    if (!rows.length) {
      var tr = el("tr");
      var td = el("td", "st-muted", "None in this range");
      td.setAttribute("colspan", "4");
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
  }

  function tiles(s) {
    var t = $("tiles");
    clear(t);
    var revenue = Object.keys(s.revenue || {})
      .map(function (c) {
        return s.revenue[c].toFixed(2) + " " + c;
      })
      .join(", ");
    [
      ["Sessions", s.sessions],
      ["Orders", s.orders],
      ["Conversion", pct(s.conversion)],
      ["Revenue", revenue || "0"],
      ["Low NLU confidence", pct(s.nlu_low_confidence_rate)],
      ["Handed off", pct(s.handoff_rate)],
      ["Median turns", s.median_turns_per_session === null ? "–" : s.median_turns_per_session],
      ["Median time to order", s.median_seconds_to_order === null ? "–" : (s.median_seconds_to_order / 60).toFixed(1) + " min"],
    ].forEach(function (pair) {
      var tile = el("div", "an-tile");
      tile.appendChild(el("b", null, pair[1]));
      tile.appendChild(el("span", null, pair[0]));
      t.appendChild(tile);
    });
  }

  function render(data) {
    $("range-text").textContent = "Sessions started " + data.since.slice(0, 16).replace("T", " ") + " – " +
      data.until.slice(0, 16).replace("T", " ") + " UTC";
    tiles(data.summary);
    barChart(
      $("funnel"),
      data.funnel.map(function (r, i) {
        return { label: STEP_NAMES[r.step] || r.step, value: r.sessions, note: i ? pct(r.conversion) : "" };
      }),
      { title: "Funnel", labelWidth: 130 }
    );
    barChart(
      $("intents"),
      data.intents.slice(0, 10).map(function (r) {
        return { label: r.intent, value: r.turns };
      }),
      { title: "Top intents", labelWidth: 130, colour: COLOURS[2] }
    );
    var series = data.intent_trend.length
      ? Object.keys(data.intent_trend[0]).filter(function (k) { return k !== "day"; }).slice(0, 6)
      : [];
    lineChart($("trend"), $("trend-legend"), data.intent_trend, series);
    rowsInto($("zero-rows"), data.zero_results, function (r) {
      return [r.query, r.searches, r.max_results];
    });
    rowsInto($("query-rows"), data.queries, function (r) {
      return [r.query, r.searches, r.median_results];
    });
    rowsInto($("product-rows"), data.products, function (r) {
      return [r.title || r.product_id, r.clicks, r.cart_adds];
    });
  }

  function loadRisk() {
    call("/v1/staff/at-risk")
      .then(function (data) {
        var rows = data.sessions || [];
        if (data.model === null) {
          clear($("risk-rows"));
          $("risk-empty").hidden = false;
          $("risk-empty").textContent = "No abandonment model yet (shopassist train abandonment).";
          return;
        }
        rowsInto($("risk-rows"), rows, function (r) {
          var last = Date.parse(r.last_activity);
          var idle = isNaN(last) ? "" : Math.max(0, Math.round((Date.now() - last) / 60000)) + " min";
          return [String(r.session_id).slice(0, 10) + "…", pct(r.risk), r.last_message || "", idle];
        });
        $("risk-empty").hidden = true;
      })
      .catch(function (err) {
        clear($("risk-rows"));
        $("risk-empty").hidden = false;
        $("risk-empty").textContent = err.message;
      });
  }

  function load() {
    flash("");
    call("/v1/staff/analytics?" + query())
      .then(render)
      .catch(function (err) {
        flash(err.message);
      });
    loadRisk();
  }

  function downloadCsv(report) {
    call("/v1/staff/analytics/" + report + "?format=csv&" + query(), true)
      .then(function (text) {
        var url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
        var a = el("a");
        a.href = url;
        a.download = "shopassist-" + report + ".csv";
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () {
          URL.revokeObjectURL(url);
        }, 1000);
      })
      .catch(function (err) {
        flash(err.message);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("signin-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      S.setKey($("key").value.trim());
      $("key").value = "";
      signedIn();
    });
    $("signout").addEventListener("click", function () {
      signOut("Signed out.");
    });
    $("range").addEventListener("submit", function (ev) {
      ev.preventDefault();
      load();
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-days]"), function (b) {
      b.addEventListener("click", function () {
        preset(Number(b.getAttribute("data-days")));
        load();
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll(".an-csv"), function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        downloadCsv(a.getAttribute("data-report"));
      });
    });
    if (key()) signedIn();
  });
})();
