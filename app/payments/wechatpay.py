"""WeChat Pay API v3, behind a thin adapter of ours: Native (a QR the user scans with WeChat), JSAPI (inside
WeChat: the page calls WeixinJSBridge with parameters signed here) and H5 (a phone browser outside WeChat:
WeChat Pay's h5_url opens WeChat to pay); and 商家转账到零钱, the merchant's transfer to a user's WeChat
balance (claims are paid out with it).

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
from wechatpayv3.type import RequestType

from app.core.clock import SHANGHAI

MAX_SKEW_SECONDS = 300
# 商家转账到零钱: from 2,000 yuan a transfer detail must carry the payee's real name, encrypted with the platform
# key, which WeChat Pay checks against the account. This client sends none, so it transfers less than that.
TRANSFER_NAME_REQUIRED_FEN = 200000
# Why a transfer detail failed (its fail_reason), as WeChat Pay names them.
TRANSFER_FAIL_REASONS = {
    "ACCOUNT_FROZEN": "该用户账户被冻结", "REAL_NAME_CHECK_FAIL": "收款人未实名认证", "NAME_NOT_CORRECT": "收款人姓名校验不通过",
    "OPENID_INVALID": "Openid校验失败", "TRANSFER_QUOTA_EXCEED": "超过用户单笔收款额度",
    "DAY_RECEIVED_QUOTA_EXCEED": "超过用户单日收款额度", "MONTH_RECEIVED_QUOTA_EXCEED": "超过用户单月收款额度",
    "DAY_RECEIVED_COUNT_EXCEED": "超过用户单日收款次数", "ACCOUNT_NOT_EXIST": "该用户账户不存在",
    "TRANSFER_RISK": "该笔转账可能存在风险，已被微信拦截", "PAYEE_ACCOUNT_ABNORMAL": "用户账户收款异常",
    "PAYER_ACCOUNT_ABNORMAL": "商户账户付款受限", "OTHER_FAIL_REASON_TYPE": "其它失败原因",
}
TRANSFER_CLOSE_REASONS = {"MERCHANT_REVOCATION": "商户主动撤销", "OVERDUE_CLOSE": "系统超时关闭"}


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

    def _call(self, method, /, *args, **kwargs):
        """The SDK's ``method`` (a name, or a callable over its core) called; its answer as a dict."""
        call = getattr(self._sdk, method) if isinstance(method, str) else method
        try:
            status, body = call(*args, **kwargs)
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

    def transfer(self, *, out_batch_no, out_detail_no, amount_fen, openid, batch_name, remark) -> dict:
        """商家转账到零钱 of one detail: ``POST /v3/transfer/batches``, answered with ``{out_batch_no, batch_id,
        create_time, batch_status}``. Accepted is not paid: query_transfer() tells when it is. WeChat Pay keys a
        batch by out_batch_no: the same number with the same body again is the same batch (asked again after
        an error or a timeout, as its documentation requires: never under a new number), with another body it
        is refused (400 INVALID_REQUEST). No notify_url is sent: the batch's outcome is queried."""
        if amount_fen >= TRANSFER_NAME_REQUIRED_FEN:
            raise PayError("PARAM_ERROR", "amount needs the payee's name")
        body = {"appid": self.settings.appid, "out_batch_no": out_batch_no, "batch_name": batch_name,
                "batch_remark": remark, "total_amount": amount_fen, "total_num": 1,
                "transfer_detail_list": [{"out_detail_no": out_detail_no, "transfer_amount": amount_fen,
                                          "transfer_remark": remark, "openid": openid}]}
        answer = self._call(self._sdk._core.request, "/v3/transfer/batches", method=RequestType.POST, data=body)
        if not answer.get("batch_id"):
            raise PayError("UNKNOWN", "no batch_id")
        return answer

    def query_transfer(self, out_batch_no) -> dict:
        """The batch and its details: ``{transfer_batch: {batch_status: ACCEPTED|PROCESSING|FINISHED|CLOSED,
        close_reason?, total_amount, success_num, fail_num, …}, transfer_detail_list: [{out_detail_no,
        detail_status: INIT|WAIT_PAY|PROCESSING|SUCCESS|FAIL}]}``; PayError NOT_FOUND when WeChat Pay has none."""
        return self._call("transfer_query_out_batch_no", out_batch_no=out_batch_no, need_query_detail=True,
                          detail_status="ALL")

    def transfer_detail(self, out_batch_no, out_detail_no) -> dict:
        """One detail, with its fail_reason when it failed."""
        return self._call("transfer_query_out_detail_no", out_detail_no=out_detail_no, out_batch_no=out_batch_no)

    def parse_notification(self, headers, body: bytes) -> dict:
        """The notification with its resource decrypted, or NotificationRefused."""
        try:
            event = self._sdk.callback(headers, body)
        except Exception:  # unsupported algorithm or signature type, malformed JSON
            event = None
        if not event or not isinstance(event.get("resource"), dict):
            raise NotificationRefused()
        return event
