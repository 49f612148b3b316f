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
    var xhr = event.detail.xhr;
    // Error responses to htmx requests carry one Chinese sentence (templates/errors/fragment.html).
    var text = (xhr.responseText || "").replace(/<[^>]*>/g, "").trim();
    notice(text && text.length < 200 ? text : "服务器开小差了，请稍后再试。");
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
  // A link to copy (a QR code a phone cannot scan on its own screen): the button appears only with JavaScript.
  function copyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-copy"));
        navigator.clipboard.writeText(field.value).then(function () { button.textContent = "已复制"; },
          function () { field.select(); });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { copyButtons(document); });
})();
