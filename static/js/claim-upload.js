// 理赔材料: drag files onto an item, or choose them, and watch them upload (a progress bar), then the checklist
// is swapped in place. Without this file each item's form posts the ordinary way.
(function () {
  function checklistFrom(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    return holder.querySelector("#checklist");
  }

  function send(form, files) {
    var data = new FormData(form);
    if (files) {
      data.delete("files");
      Array.prototype.forEach.call(files, function (file) { data.append("files", file); });
    }
    var bar = form.querySelector("progress") || document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "上传进度");
    form.appendChild(bar);
    form.classList.add("uploading");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round(event.loaded * 100 / event.total);
    });
    xhr.addEventListener("load", function () {
      var fresh = checklistFrom(xhr.responseText);
      var current = document.getElementById("checklist");
      if (fresh && current) {
        current.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
      } else {
        form.classList.remove("uploading");
        form.querySelector(".field-error").textContent = "上传失败，请稍后重试";
      }
    });
    xhr.addEventListener("error", function () {
      form.classList.remove("uploading");
      form.querySelector(".field-error").textContent = "网络连接失败，请检查网络后重试";
    });
    xhr.send(data);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest(".upload-form");
    if (!form || !window.FormData) return;
    event.preventDefault();
    send(form);
  });
  document.addEventListener("change", function (event) {
    var form = event.target.closest(".upload-form");
    if (form && event.target.files && event.target.files.length) send(form);
  });
  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var form = event.target.closest && event.target.closest(".upload-form");
      if (!form) return;
      event.preventDefault();
      form.classList.add("dragging");
    });
  });
  document.addEventListener("dragleave", function (event) {
    var form = event.target.closest && event.target.closest(".upload-form");
    if (form) form.classList.remove("dragging");
  });
  document.addEventListener("drop", function (event) {
    var form = event.target.closest && event.target.closest(".upload-form");
    if (!form) return;
    event.preventDefault();
    form.classList.remove("dragging");
    if (event.dataTransfer.files.length) send(form, event.dataTransfer.files);
  });
})();
