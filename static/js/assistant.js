// 智能管家: an answer streams into the page as it is generated (chunked HTML from the stream URL: drafts of the
// text, then the answer rendered whole, which replaces its placeholder), and 复制 copies an answer with its AI
// label. Without this file the question's POST waits for the whole answer and the page shows it.
(function () {
  function stream(bubble) {
    var turn = bubble.closest(".turn");
    var holder = document.createElement("div");
    holder.className = "answer-stream";
    bubble.replaceChildren(holder);
    var decoder = new TextDecoder();
    var html = "";

    function show() {
      holder.innerHTML = html;  // the server's own HTML: drafts escaped, the answer sanitised
      var drafts = holder.querySelectorAll(".answer-draft");
      for (var i = 0; i < drafts.length - 1; i++) drafts[i].hidden = true;
    }

    function finish() {
      var done = holder.querySelector(".turn");
      if (done) {
        turn.replaceWith(done);
        prepare(done);
      } else {
        bubble.removeAttribute("aria-busy");
      }
    }

    fetch(bubble.dataset.stream, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        var reader = response.body.getReader();
        function read() {
          return reader.read().then(function (part) {
            if (part.done) {
              html += decoder.decode();
              show();
              finish();
              return;
            }
            html += decoder.decode(part.value, {stream: true});
            show();
            return read();
          });
        }
        return read();
      })
      .catch(function () {
        bubble.textContent = "回答没有加载完，请刷新页面查看。";
        bubble.removeAttribute("aria-busy");
      });
  }

  function copy(button) {
    var body = document.getElementById(button.dataset.copy);
    var text = body.innerText.trim() + "\n\n（" + button.dataset.label + "）";
    navigator.clipboard.writeText(text).then(function () {
      button.textContent = "已复制";
      setTimeout(function () { button.textContent = "复制"; }, 2000);
    });
  }

  function prepare(root) {
    root.querySelectorAll("[data-stream]:not([data-started])").forEach(function (bubble) {
      bubble.setAttribute("data-started", "");
      stream(bubble);
    });
    if (navigator.clipboard) {
      root.querySelectorAll(".copy-answer[hidden]").forEach(function (button) { button.hidden = false; });
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".copy-answer");
    if (button) copy(button);
  });
  document.addEventListener("htmx:load", function (event) { prepare(event.target); });
  document.addEventListener("DOMContentLoaded", function () { prepare(document); });
})();
