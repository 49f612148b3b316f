// Partner redeem page: scan a voucher's QR with the phone's camera where the browser can
// (BarcodeDetector), and get the code box ready for the next voucher after a redemption.
(function () {
  "use strict";
  var button = document.querySelector("[data-scan]");
  var video = document.querySelector("[data-scan-video]");
  var input = button && document.querySelector(button.getAttribute("data-scan"));
  if (button && video && input && "BarcodeDetector" in window && navigator.mediaDevices) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        var stop = function () {
          stream.getTracks().forEach(function (track) { track.stop(); });
          video.hidden = true;
        };
        var look = function () {
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              stop();
              input.value = codes[0].rawValue;
              input.form.requestSubmit();
            } else if (!video.hidden) {
              window.requestAnimationFrame(look);
            }
          }, stop);
        };
        look();
      }, function () { button.textContent = "无法使用摄像头"; });
    });
  }
  document.body.addEventListener("htmx:afterSettle", function () {
    if (input && document.querySelector("#lookup [data-redeemed]")) {
      input.value = "";
      input.focus();
    }
  });
})();
