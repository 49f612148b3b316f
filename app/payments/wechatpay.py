"""WeChat Pay API v3, behind a thin adapter of ours: Native (a QR the user scans with WeChat), JSAPI (inside
WeChat: the page calls WeixinJSBridge with parameters signed here) and H5 (a phone browser outside WeChat:
WeChat Pay's h5_url opens WeChat to pay).

The maintained ``wechatpayv3`` SDK signs every request (WECHATPAY2-SHA256-RSA2048 with the merchant
key), verifies the signature of every 2xx response and every notification with the platform public
key, and decrypts notifications (AEAD_AES_256_GCM with the APIv3 key). What it leaves out, this adapter
adds: responses and notifications whose timestamp is five minutes or more away from our clock are
refused (a replayed notification), a serial other than our platform key's is refused without the
SDK's certificate download, and every failure becomes one exception, PayError, with WeChat's code.
The rest of the app never sees the SDK. The gateway is a setting: tests aim it at a fake server on a
loopback port, and `make run` at the built-in simulator (app/payments/simulator.py).
"""
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

import requests
from wechatpayv3 import SignType, WeChatPay, WeChatPayType

from app.core.clock import SHANGHAI

MAX_SKEW_SECONDS = 300


class PayError(Exception):
    """WeChat Pay refused (``code`` is its code, e.g. ORDER_NOT_EXIST), or could not be reached or
    trusted (NETWORK, SIGNATURE). Never carries keys or personal data."""

    def __init__(self, code, message="", status=None):
        super().__init__(f"WeChat Pay {status or ''} {code}: {message}".strip())
        self.code = code
        self.message = message
        self.status = status


class NotificationRefused(Exception):
    """A notification we must not act on: bad or stale signature, undecryptable resource."""


@dataclass(frozen=True)
class Settings:
    mchid: str
    appid: str
    private_key: str  # the merchant's API key (PEM, or its base64 body)
    cert_serial_no: str  # the merchant certificate's serial
    apiv3_key: str
    public_key: str  # the WeChat Pay platform public key (PEM, or its base64 body)
    public_key_id: str  # PUB_KEY_ID_…
    base_url: str
    notify_url: str
    timeout: float = 5.0


class WeChatPayClient:
    def __init__(self, settings: Settings, clock):
        self.settings = settings
        self.clock = clock
        self._sdk = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=settings.mchid,
                              private_key=settings.private_key, cert_serial_no=settings.cert_serial_no,
                              appid=settings.appid, apiv3_key=settings.apiv3_key, notify_url=settings.notify_url,
                              public_key=settings.public_key, public_key_id=settings.public_key_id,
                              timeout=(settings.timeout, settings.timeout))
        core = self._sdk._core
        core._gate_way = settings.base_url.rstrip("/")
        verify = core._verify_signature

        def verify_fresh(headers, body):
            if headers.get("Wechatpay-Serial") != settings.public_key_id:
                return False
            try:
                skew = abs(self.clock().timestamp() - int(headers.get("Wechatpay-Timestamp", "")))
            except ValueError:
                return False
            return skew < MAX_SKEW_SECONDS and verify(headers, body)
        core._verify_signature = verify_fresh

    def _call(self, method, *args, **kwargs):
        try:
            status, body = getattr(self._sdk, method)(*args, **kwargs)
        except requests.RequestException as error:
            raise PayError("NETWORK", type(error).__name__) from None
        except Exception as error:  # the SDK raises bare Exceptions: a signature it cannot verify, a missing field
            code = "SIGNATURE" if "signature" in str(error) else "CLIENT"
            raise PayError(code, str(error)[:100]) from None
        if 200 <= status < 300:
            return json.loads(body) if body else {}
        try:
            answer = json.loads(body)
            raise PayError(answer.get("code", "UNKNOWN"), answer.get("message", ""), status)
        except (TypeError, ValueError, AttributeError):
            raise PayError("UNKNOWN", "", status) from None

    def create_native(self, *, out_trade_no, description, total_fen, time_expire: datetime, attach=None) -> str:
        """Create (or, with the same fields, find again) the transaction; its code_url is the QR."""
        answer = self._call("pay", description=description, out_trade_no=out_trade_no,
                            amount={"total": total_fen, "currency": "CNY"},
                            time_expire=time_expire.astimezone(SHANGHAI).isoformat(timespec="seconds"),
                            attach=attach)
        if not answer.get("code_url"):
            raise PayError("UNKNOWN", "no code_url")
        return answer["code_url"]

    def create_jsapi(self, *, out_trade_no, description, total_fen, time_expire: datetime, payer_openid,
                     attach=None) -> str:
        """Create (or, with the same fields, find again) the transaction of a payer inside WeChat; its
        prepay_id goes to the page through jsapi_request()."""
        answer = self._call("pay", description=description, out_trade_no=out_trade_no,
                            amount={"total": total_fen, "currency": "CNY"}, payer={"openid": payer_openid},
                            time_expire=time_expire.astimezone(SHANGHAI).isoformat(timespec="seconds"),
                            attach=attach, pay_type=WeChatPayType.JSAPI)
        if not answer.get("prepay_id"):
            raise PayError("UNKNOWN", "no prepay_id")
        return answer["prepay_id"]

    def jsapi_request(self, prepay_id) -> dict:
        """The parameters of WeixinJSBridge.invoke('getBrandWCPayRequest', …): paySign is SHA256withRSA with
        the merchant key over appId, timeStamp, nonceStr and package, one per line (the SDK's sign())."""
        params = {"appId": self.settings.appid, "timeStamp": str(int(self.clock().timestamp())),
                  "nonceStr": secrets.token_hex(16), "package": f"prepay_id={prepay_id}", "signType": "RSA"}
        params["paySign"] = self._sdk.sign([params["appId"], params["timeStamp"], params["nonceStr"],
                                            params["package"]], SignType.RSA_SHA256)
        return params

    def create_h5(self, *, out_trade_no, description, total_fen, time_expire: datetime, payer_client_ip,
                  h5_type="Wap", attach=None) -> str:
        """Create (or find again) the transaction of a phone browser outside WeChat; its h5_url (valid for
        five minutes) opens WeChat to pay, and WeChat sends the browser back to a redirect_url the caller
        appends (``&redirect_url=<urlencoded>``)."""
        answer = self._call("pay", description=description, out_trade_no=out_trade_no,
                            amount={"total": total_fen, "currency": "CNY"},
                            scene_info={"payer_client_ip": payer_client_ip, "h5_info": {"type": h5_type}},
                            time_expire=time_expire.astimezone(SHANGHAI).isoformat(timespec="seconds"),
                            attach=attach, pay_type=WeChatPayType.H5)
        if not answer.get("h5_url"):
            raise PayError("UNKNOWN", "no h5_url")
        return answer["h5_url"]

    def query(self, out_trade_no) -> dict:
        return self._call("query", out_trade_no=out_trade_no)

    def close(self, out_trade_no):
        self._call("close", out_trade_no=out_trade_no)

    def refund(self, *, out_trade_no, out_refund_no, refund_fen, total_fen, reason) -> dict:
        return self._call("refund", out_refund_no=out_refund_no, out_trade_no=out_trade_no, reason=reason,
                          amount={"refund": refund_fen, "total": total_fen, "currency": "CNY"})

    def query_refund(self, out_refund_no) -> dict:
        return self._call("query_refund", out_refund_no=out_refund_no)

    def parse_notification(self, headers, body: bytes) -> dict:
        """The notification with its resource decrypted, or NotificationRefused."""
        try:
            event = self._sdk.callback(headers, body)
        except Exception:  # unsupported algorithm or signature type, malformed JSON
            event = None
        if not event or not isinstance(event.get("resource"), dict):
            raise NotificationRefused()
        return event
