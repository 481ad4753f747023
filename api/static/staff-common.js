/* What the staff console and the analytics page share: the staff key (sessionStorage, sent as a
 * Bearer token), DOM helpers that insert text only as text, the flash line and the API call that
 * reads the error envelope.  Loaded before each page's own script. */
(function () {
  "use strict";
  var KEY = "shopassist.staff.key";

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, cls, text, attrs) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, String(attrs[k]));
    });
    return node;
  }

  function key() {
    try {
      return window.sessionStorage.getItem(KEY);
    } catch (e) {
      return null;
    }
  }

  /* false when the browser keeps no session storage (the key is then not kept) */
  function setKey(value) {
    try {
      window.sessionStorage.setItem(KEY, value);
      return true;
    } catch (e) {
      return false;
    }
  }

  function clearKey() {
    try {
      window.sessionStorage.removeItem(KEY);
    } catch (e) {
      /* ignore */
    }
  }

  function flash(text, ok) {
    var f = $("flash");
    f.textContent = text || "";
    f.className = "st-flash" + (ok ? " st-ok" : "");
  }

  /* method, path, optional JSON body; raw = the text of a 2xx answer; a 401 calls onUnauthorized */
  function call(method, path, body, raw, onUnauthorized) {
    var init = { method: method, headers: { Authorization: "Bearer " + key() } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      if (raw && res.ok) return res.text();
      return res
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!res.ok) {
            var err = new Error((data.error && data.error.message) || "HTTP " + res.status);
            err.status = res.status;
            if (res.status === 401 && onUnauthorized) onUnauthorized();
            throw err;
          }
          return data;
        });
    });
  }

  window.ShopAssistStaff = { $: $, el: el, key: key, setKey: setKey, clearKey: clearKey, flash: flash, call: call };
})();
