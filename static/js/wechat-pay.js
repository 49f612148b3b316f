// The pay page inside WeChat (JSAPI): once WeChat's WeixinJSBridge is ready, open WeChat Pay's cashier with
// the parameters the server signed (the data- attributes of [data-wechat-pay]). What the cashier answers is
// only a hint: the order is paid when WeChat Pay tells the server, and the page's poll (htmx) then moves on to
// the policy by itself. Without this script the page still offers 我已支付.
(function () {
  "use strict";
  var box = document.querySelector("[data-wechat-pay]");
  if (!box) return;
  var button = box.querySelector("[data-wechat-pay-button]");
  var hint = box.querySelector("[data-wechat-pay-hint]");
  var params = {
    appId: box.dataset.appId,
    timeStamp: box.dataset.timeStamp,
    nonceStr: box.dataset.nonceStr,
    package: box.dataset.package,
    signType: box.dataset.signType,
    paySign: box.dataset.paySign
  };
  var busy = false;

  function say(text, offerAgain) {
    hint.textContent = text;
    hint.hidden = !text;
    hint.classList.toggle("pay-hint-waiting", !offerAgain);
    button.hidden = !offerAgain;
  }

  function pay() {
    if (busy || !window.WeixinJSBridge) return;
    busy = true;
    button.disabled = true;
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (result) {
      busy = false;
      button.disabled = false;
      var message = (result && result.err_msg) || "";
      if (message === "get_brand_wcpay_request:ok") {
        say("支付结果确认中…", false);
      } else if (message === "get_brand_wcpay_request:cancel") {
        say("你已取消支付。", true);
      } else {
        say("支付未完成，请稍后再试。", true);
      }
    });
  }

  button.addEventListener("click", pay);
  button.hidden = false;
  if (typeof window.WeixinJSBridge === "undefined") {
    document.addEventListener("WeixinJSBridgeReady", pay, false);
  } else {
    pay();
  }
})();
