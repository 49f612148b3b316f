// Development only: a stand-in for WeixinJSBridge, the object WeChat's built-in browser gives pages. Served by
// the WeChat Pay simulator (app/payments/simulator.py), and included by the pay page only while the simulator
// is on. Like WeChat, it defines window.WeixinJSBridge once the page has loaded and fires WeixinJSBridgeReady.
// invoke("getBrandWCPayRequest", params, callback) asks the simulator to check the parameters (the paySign with
// the merchant's public key, as WeChat does), shows a cashier sheet like WeChat's (确认支付 / 取消) and pays
// through the simulator; callback gets {err_msg: "get_brand_wcpay_request:ok" | ":cancel" | ":fail"}.
// No inline styles: the sheet's look is in wechat-bridge.css, beside this file.
(function () {
  "use strict";
  if (window.WeixinJSBridge) return;
  var endpoint = document.currentScript && document.currentScript.getAttribute("data-endpoint");
  var open = false;

  function ask(params, confirm) {
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ params: params, confirm: confirm })
    }).then(function (response) { return response.json(); });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // The cashier sheet: who is paid, how much, for what; 确认支付 pays, 取消 (or Escape) does not.
  function sheet(info, params, callback) {
    var before = document.activeElement;
    var backdrop = element("div", "wxsim-backdrop");
    var panel = element("div", "wxsim-sheet");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "true");
    panel.setAttribute("aria-labelledby", "wxsim-title");
    var title = element("p", "wxsim-title", "微信支付");
    title.id = "wxsim-title";
    var merchant = element("p", "wxsim-merchant", "微保（模拟商户）");
    var amount = element("p", "wxsim-amount", "¥" + info.amount);
    var description = element("p", "wxsim-description", info.description);
    var method = element("dl", "wxsim-method");
    method.appendChild(element("dt", "", "付款方式"));
    method.appendChild(element("dd", "", "零钱"));
    var problem = element("p", "wxsim-problem");
    problem.setAttribute("role", "alert");
    problem.hidden = true;
    var confirm = element("button", "wxsim-confirm", "确认支付");
    confirm.type = "button";
    var cancel = element("button", "wxsim-cancel", "取消");
    cancel.type = "button";
    var tag = element("p", "wxsim-tag", "开发环境 · 微信支付模拟器");
    [title, merchant, amount, description, method, problem, confirm, cancel, tag].forEach(function (node) {
      panel.appendChild(node);
    });
    backdrop.appendChild(panel);
    document.body.appendChild(backdrop);
    document.body.classList.add("wxsim-open");
    confirm.focus();

    function close(result) {
      document.removeEventListener("keydown", onKey);
      backdrop.remove();
      document.body.classList.remove("wxsim-open");
      open = false;
      if (before && before.focus) before.focus();
      callback(result);
    }
    function onKey(event) {
      if (event.key === "Escape" && !confirm.disabled) close({ err_msg: "get_brand_wcpay_request:cancel" });
    }
    document.addEventListener("keydown", onKey);
    cancel.addEventListener("click", function () { close({ err_msg: "get_brand_wcpay_request:cancel" }); });
    confirm.addEventListener("click", function () {
      confirm.disabled = cancel.disabled = true;
      confirm.textContent = "支付中…";
      ask(params, true).then(function (answer) {
        if (answer.err_msg === "get_brand_wcpay_request:ok") {
          close(answer);
        } else {
          problem.textContent = answer.err_desc || "支付失败";
          problem.hidden = false;
          confirm.textContent = "确认支付";
          cancel.disabled = false;
        }
      }, function () {
        close({ err_msg: "get_brand_wcpay_request:fail", err_desc: "网络错误" });
      });
    });
  }

  function ready() {
    window.WeixinJSBridge = {
      invoke: function (name, params, callback) {
        callback = callback || function () {};
        if (name !== "getBrandWCPayRequest") {
          callback({ err_msg: name + ":fail", err_desc: "模拟器只实现了 getBrandWCPayRequest" });
          return;
        }
        if (open) return;  // one cashier at a time, as in WeChat
        open = true;
        ask(params, false).then(function (answer) {
          if (!answer.ready) {
            open = false;
            if (window.console) window.console.warn("getBrandWCPayRequest:", answer.err_desc);
            callback(answer);
            return;
          }
          sheet(answer, params, callback);
        }, function () {
          open = false;
          callback({ err_msg: "get_brand_wcpay_request:fail", err_desc: "网络错误" });
        });
      },
      on: function () {},
      call: function () {}
    };
    document.dispatchEvent(new Event("WeixinJSBridgeReady"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    window.setTimeout(ready, 0);
  }
})();
