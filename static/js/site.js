// Small enhancements only; every page works without this file.
// When an htmx request fails (server error, rate limit, network), say so instead of silently doing nothing.
(function () {
  function notice(text) {
    var box = document.getElementById("flash");
    if (!box) return;
    box.innerHTML = "";
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.textContent = text;
    box.appendChild(p);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    notice(status === 429 ? "操作太频繁了，请稍等一分钟后再试。"
      : status === 400 ? "页面已过期，请刷新后重试。"
      : "服务器开小差了，请稍后再试。");
  });
  document.addEventListener("htmx:sendError", function () {
    notice("网络连接失败，请检查网络后重试。");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      var box = document.getElementById("flash");
      if (box && box.querySelector(".flash-error")) box.innerHTML = "";
    }
  });
})();
