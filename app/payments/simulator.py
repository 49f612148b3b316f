"""A simulator of WeChat Pay's side of API v3 (Native, JSAPI, H5, and 商家转账到零钱), for development and tests.

It speaks the protocol of app/payments/wechatpay.py with its own keys: it checks the merchant's
signature (and the timestamp against the wall clock, as the SDK stamps requests with it) on every
request, signs every answer (204 too) with its platform key, keeps transactions by (mchid,
out_trade_no; transfer batches by out_batch_no), and posts signed notifications with an AEAD_AES_256_GCM
resource. What a person sees of
WeChat Pay is here too, so `make run` pays with no phone: the 模拟支付 page (Native's cashier, after
scanning), a stand-in for WeixinJSBridge (JSAPI: a script in static/ that the pay page includes while
the simulator is on, showing WeChat's cashier sheet and paying through /bridge/brand-wcpay, which checks
the paySign with the merchant's public key as WeChat does) and the page of H5's h5_url (/checkmweb). `make run` serves it at /dev/wechatpay
when no WECHATPAY_MCHID is configured; tests mount it in a separate server on a loopback port as the
fake WeChat Pay. Production config never registers it. Transactions live in this process's memory.
"""
import json
import os
import re
import secrets
import threading
import time
from base64 import b64decode, b64encode
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for

from app.auth.simulator import SIM_APPID  # the WeChat simulator's app: JSAPI pays its users
from app.core.clock import SHANGHAI, utcnow
from app.payments.wechatpay import TRANSFER_FAIL_REASONS, TRANSFER_NAME_REQUIRED_FEN  # as WeChat Pay has them

# Its static files (the WeixinJSBridge stand-in and its stylesheet) are served only where it is registered.
bp = Blueprint("wechatpay_simulator", __name__, url_prefix="/dev/wechatpay", static_folder="static",
               static_url_path="/static")

OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
OUT_BATCH_NO = re.compile(r"^[0-9A-Za-z]{5,32}$")  # a batch's and a detail's numbers: digits and letters only
AUTHORIZATION = re.compile(r'(\w+)="([^"]*)"')
# WeChat's own retry schedule for notifications that were not acknowledged.
RETRY_SECONDS = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600]


@dataclass(frozen=True)
class SimulatorKeys:
    """The merchant's key pair and the platform's, as a test merchant account would have them."""
    mchid: str
    appid: str
    merchant_key: str  # PEM
    cert_serial_no: str
    platform_key: str  # PEM
    public_key_id: str
    apiv3_key: str

    @classmethod
    def generate(cls):
        def pem():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
        return cls(mchid="1900000109", appid=SIM_APPID, merchant_key=pem(),
                   cert_serial_no=secrets.token_hex(20).upper(), platform_key=pem(),
                   public_key_id="PUB_KEY_ID_" + secrets.token_hex(16).upper(),
                   apiv3_key=secrets.token_urlsafe(24)[:32])

    @staticmethod
    def public_pem(private_pem):
        key = serialization.load_pem_private_key(private_pem.encode(), None)
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    @classmethod
    def of_instance(cls, instance_path):
        """The development keys, made once and shared by every process of `make run` (a file in
        instance/, git-ignored, created exclusively so two workers cannot make two)."""
        path = os.path.join(instance_path, "wechatpay-simulator.json")
        try:
            with open(path, encoding="utf-8") as file:
                return cls(**json.load(file))
        except FileNotFoundError:
            pass
        os.makedirs(instance_path, exist_ok=True)
        keys = cls.generate()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls.of_instance(instance_path)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(asdict(keys), file)
        return keys


class SimulatedWeChatPay:
    """Transactions, refunds, transfer batches and notifications not yet acknowledged; and failures a test
    asks the next call of an endpoint to answer with."""

    def __init__(self, app, keys, autopilot):
        self.app = app
        self.keys = keys
        self.autopilot = autopilot  # development: retries and refund completion run on timers
        self.merchant_public = serialization.load_pem_private_key(keys.merchant_key.encode(), None).public_key()
        self.platform_key = serialization.load_pem_private_key(keys.platform_key.encode(), None)
        self.platform_public = SimulatorKeys.public_pem(keys.platform_key)
        self.transactions = {}
        self.refunds = {}
        self.create_calls = 0
        self.transfers = {}  # out_batch_no → the batch and its one detail
        self.transfer_calls = 0
        self.transfer_failure = None  # development: a fail_reason makes the batches the autopilot finishes fail
        self.undelivered = []
        self.deliveries = []  # every notification posted, and the HTTP status the merchant answered
        self.fail_next = {}
        self.late_seconds = 1.0  # how long a "late" answer waits (tests give their client less)
        self.lock = threading.Lock()

    def take_failure(self, endpoint):
        with self.lock:
            queue = self.fail_next.get(endpoint) or []
            return queue.pop(0) if queue else None

    def transaction(self, out_trade_no):
        return self.transactions.get((self.keys.mchid, out_trade_no))

    def by_code(self, pr):
        return next((t for t in self.transactions.values() if t.get("code_url", "").endswith("pr=" + pr)), None)

    def by_prepay_id(self, prepay_id):
        return next((t for t in self.transactions.values() if prepay_id and t.get("prepay_id") == prepay_id), None)

    # What WeChat Pay does on its own

    def pay(self, out_trade_no, openid="oSimulatedPayer0000000000000"):
        """The user pays: the transaction succeeds and the merchant is notified. Returns False when it
        cannot be paid (closed, expired, paid already). A JSAPI transaction is paid by its own payer."""
        with self.app.app_context():
            now = utcnow()
            with self.lock:
                trade = self.transaction(out_trade_no)
                if trade is None or trade["trade_state"] != "NOTPAY" or now >= trade["expires"]:
                    return False
                trade.update(trade_state="SUCCESS", trade_state_desc="支付成功",
                             transaction_id="4200" + now.strftime("%Y%m%d") + f"{secrets.randbelow(10**14):014d}",
                             success_time=now.astimezone(SHANGHAI).isoformat(timespec="seconds"),
                             payer=trade.get("payer") or {"openid": openid})
            self.notify(trade["notify_url"], "TRANSACTION.SUCCESS", "transaction", self.public_transaction(trade),
                        "支付成功")
            return True

    def complete_refunds(self):
        """Refunds in progress succeed, and the merchant is told."""
        with self.app.app_context():
            now = utcnow()
            with self.lock:
                done = [r for r in self.refunds.values() if r["status"] == "PROCESSING"]
                for refund in done:
                    refund.update(status="SUCCESS",
                                  success_time=now.astimezone(SHANGHAI).isoformat(timespec="seconds"))
                    trade = self.transaction(refund["out_trade_no"])
                    trade.update(trade_state="REFUND", trade_state_desc="转入退款")
            for refund in done:
                resource = {k: v for k, v in refund.items() if k not in ("notify_url", "status")}
                self.notify(refund["notify_url"], "REFUND.SUCCESS", "refund",
                            {"mchid": self.keys.mchid, "refund_status": "SUCCESS", **resource}, "退款成功")

    def finish_transfer(self, out_batch_no, fail_reason=None):
        """A transfer batch accepted earlier is done: its detail transferred, or failed for ``fail_reason``
        (a key of TRANSFER_FAIL_REASONS). False when there is no such batch in progress."""
        if fail_reason is not None and fail_reason not in TRANSFER_FAIL_REASONS:
            raise ValueError(fail_reason)
        with self.app.app_context():
            now = utcnow().astimezone(SHANGHAI).isoformat(timespec="seconds")
            with self.lock:
                batch = self.transfers.get(out_batch_no)
                if batch is None or batch["batch_status"] not in ("ACCEPTED", "PROCESSING"):
                    return False
                amount = batch["total_amount"]
                for detail in batch["details"]:
                    detail.update(detail_status="FAIL" if fail_reason else "SUCCESS", update_time=now,
                                  **({"fail_reason": fail_reason} if fail_reason else {}))
                batch.update(batch_status="FINISHED", update_time=now, success_amount=0 if fail_reason else amount,
                             success_num=0 if fail_reason else 1, fail_amount=amount if fail_reason else 0,
                             fail_num=1 if fail_reason else 0)
        return True

    def public_transfer(self, batch, details="ALL"):
        """The batch as its query answers, with its details of ``details`` status (ALL, SUCCESS, FAIL) or none."""
        answer = {"transfer_batch": {k: v for k, v in batch.items() if k not in ("details", "fingerprint")},
                  "offset": 0, "limit": 20}
        if details:
            answer["transfer_detail_list"] = [
                {k: detail[k] for k in ("detail_id", "out_detail_no", "detail_status")} for detail in batch["details"]
                if details == "ALL" or detail["detail_status"] == details]
        return answer

    def public_transaction(self, trade):
        fields = ("appid", "mchid", "out_trade_no", "transaction_id", "trade_type", "trade_state",
                  "trade_state_desc", "success_time", "payer", "attach")
        answer = {k: trade[k] for k in fields if trade.get(k) is not None}
        paid = trade["trade_state"] in ("SUCCESS", "REFUND")
        answer["amount"] = {"total": trade["amount"]["total"], "currency": "CNY",
                            **({"payer_total": trade["amount"]["total"], "payer_currency": "CNY"} if paid else {})}
        return answer

    def notification(self, event_type, original_type, resource, summary):
        """The body and headers of a signed notification with the resource encrypted."""
        nonce = secrets.token_urlsafe(9)[:12]
        ciphertext = AESGCM(self.keys.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(), original_type.encode())
        body = json.dumps({
            "id": secrets.token_hex(16), "create_time": utcnow().astimezone(SHANGHAI).isoformat(timespec="seconds"),
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": summary,
            "resource": {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": b64encode(ciphertext).decode(), "associated_data": original_type,
                         "nonce": nonce}}, ensure_ascii=False)
        return body, {"Content-Type": "application/json", **self.signature_headers(body)}

    def notify(self, url, event_type, original_type, resource, summary, attempt=0):
        """POST a notification; one not acknowledged is tried again (on timers in development, on
        ``redeliver()`` in tests)."""
        with self.app.app_context():
            body, headers = self.notification(event_type, original_type, resource, summary)
        try:
            status = requests.post(url, data=body.encode(), headers=headers, timeout=5).status_code
        except requests.RequestException:
            status = None
        self.deliveries.append({"event_type": event_type, "status": status, "body": body, "headers": headers})
        if status in (200, 204):
            return True
        entry = (url, event_type, original_type, resource, summary, attempt + 1)
        if self.autopilot and attempt < len(RETRY_SECONDS):
            threading.Timer(RETRY_SECONDS[attempt], self.notify, entry[:5], {"attempt": attempt + 1}).start()
        else:
            self.undelivered.append(entry)
        return False

    def redeliver(self):
        """Try the notifications not yet acknowledged once more (WeChat's retries, on demand)."""
        pending, self.undelivered = self.undelivered, []
        return [self.notify(*entry[:5], attempt=entry[5]) for entry in pending]

    def signature_headers(self, body, timestamp=None):
        timestamp = str(int(utcnow().timestamp())) if timestamp is None else str(timestamp)
        nonce = secrets.token_hex(16)
        signature = self.platform_key.sign(f"{timestamp}\n{nonce}\n{body}\n".encode(), padding.PKCS1v15(),
                                           hashes.SHA256())
        return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": b64encode(signature).decode(), "Wechatpay-Serial": self.keys.public_key_id,
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}


def init_app(app, keys=None):
    from app.extensions import csrf
    keys = keys or SimulatorKeys.of_instance(app.instance_path)
    app.extensions["wechatpay_simulator"] = SimulatedWeChatPay(app, keys, autopilot=not app.testing)
    csrf.exempt(bp)  # it stands for WeChat Pay's servers and pages, not ours
    app.register_blueprint(bp)


def _state() -> SimulatedWeChatPay:
    return current_app.extensions["wechatpay_simulator"]


def _answer(status, payload=None, forgery=None):
    """A signed answer. ``forgery`` (tests) breaks the signature in one of the ways a client must catch."""
    body = "" if payload is None else json.dumps(payload, ensure_ascii=False)
    response = Response(body, status, content_type="application/json; charset=utf-8")
    signed = _state().signature_headers(
        body if forgery != "tampered" else body.replace("pr=", "pr=x"),
        timestamp=int(utcnow().timestamp()) - 600 if forgery == "stale" else None)
    if forgery == "signtest":
        signed["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + signed["Wechatpay-Signature"]
    if forgery == "serial":
        signed["Wechatpay-Serial"] = "PUB_KEY_ID_0000000000000000000000000000"
    response.headers.update(signed)
    return response


def _error(status, code, message):
    return _answer(status, {"code": code, "message": message})


@bp.before_request
def authenticate():
    """API calls must carry the merchant's valid signature; the cashier pages are the user's."""
    if not request.path.startswith(bp.url_prefix + "/v3/"):
        return None
    failure = _state().take_failure(request.endpoint)
    if failure == "garbage":
        return Response("<html>502 Bad Gateway</html>", 502, content_type="text/html")
    if failure == "unsigned":
        return Response('{"code_url": "weixin://wxpay/bizpayurl?pr=unsigned"}', 200, content_type="application/json")
    if failure == "late":  # the request is done, and the answer comes after the client has given up
        g.answer_late = True
        failure = None
    if failure in ("tampered", "stale", "signtest", "serial"):
        return _answer(200, {"code_url": "weixin://wxpay/bizpayurl?pr=forged", "trade_state": "SUCCESS"}, failure)
    if failure:
        return _error(*failure)
    keys = _state().keys
    scheme, _, rest = request.headers.get("Authorization", "").partition(" ")
    fields = dict(AUTHORIZATION.findall(rest))
    if scheme != "WECHATPAY2-SHA256-RSA2048" or fields.get("mchid") != keys.mchid \
            or fields.get("serial_no") != keys.cert_serial_no:
        return _error(401, "SIGN_ERROR", "签名错误")
    try:
        timestamp = int(fields.get("timestamp", ""))
        signature = b64decode(fields.get("signature", ""), validate=True)
    except ValueError:
        return _error(401, "SIGN_ERROR", "签名错误")
    if abs(time.time() - timestamp) > 300:  # the SDK stamps requests with the wall clock
        return _error(401, "SIGN_ERROR", "请求时间戳与当前时间相差过大")
    path = request.path[len(bp.url_prefix):] + ("?" + request.query_string.decode() if request.query_string else "")
    message = f"{request.method}\n{path}\n{timestamp}\n{fields.get('nonce_str', '')}\n{request.get_data(as_text=True)}\n"
    try:
        _state().merchant_public.verify(signature, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return _error(401, "SIGN_ERROR", "签名错误")
    return None


@bp.after_request
def answer_late(response):
    if g.get("answer_late"):
        time.sleep(_state().late_seconds)
    return response


def _json():
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else None


# What each trade type adds to the common fields, and answers with.
TRADE_TYPES = {"native": "NATIVE", "jsapi": "JSAPI", "h5": "MWEB"}
H5_TYPES = ("Wap", "iOS", "Android")


@bp.post("/v3/pay/transactions/native")
def native():
    return _create("native")


@bp.post("/v3/pay/transactions/jsapi")
def jsapi():
    return _create("jsapi")


@bp.post("/v3/pay/transactions/h5")
def h5():
    return _create("h5")


def _create(kind):
    """Native, JSAPI or H5: the same out_trade_no with the same fields finds the same transaction; with
    other fields (another amount, payer, trade type) it is refused, as WeChat Pay binds an out_trade_no
    to one transaction. The payer's IP may change between two calls (a phone moving between networks):
    it is not one of the fields compared (inferred)."""
    state, body = _state(), _json()
    if body is None:
        return _error(400, "PARAM_ERROR", "请求体不是合法的JSON")
    missing = [k for k in ("appid", "mchid", "description", "out_trade_no", "notify_url", "amount") if not body.get(k)]
    if missing:
        return _error(400, "PARAM_ERROR", f"缺少参数 {missing[0]}")
    total = body["amount"].get("total") if isinstance(body["amount"], dict) else None
    if type(total) is not int or total <= 0:
        return _error(400, "PARAM_ERROR", "amount.total 必须为正整数（单位：分）")
    if not OUT_TRADE_NO.match(str(body["out_trade_no"])):
        return _error(400, "PARAM_ERROR", "out_trade_no 格式错误")
    notify = urlsplit(str(body["notify_url"]))
    if notify.scheme not in ("http", "https") or not notify.netloc or notify.query:
        return _error(400, "PARAM_ERROR", "notify_url 须为不带参数的完整地址")
    if body["mchid"] != state.keys.mchid or body["appid"] != state.keys.appid:
        return _error(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
    payer, h5_type = None, None
    if kind == "jsapi":
        payer = body.get("payer")
        if not isinstance(payer, dict) or not isinstance(payer.get("openid"), str) or not payer["openid"].strip():
            return _error(400, "PARAM_ERROR", "缺少参数 payer.openid")
    if kind == "h5":
        scene = body.get("scene_info")
        if not isinstance(scene, dict) or not isinstance(scene.get("payer_client_ip"), str) \
                or not scene["payer_client_ip"].strip():
            return _error(400, "PARAM_ERROR", "缺少参数 scene_info.payer_client_ip")
        h5_type = (scene.get("h5_info") or {}).get("type") if isinstance(scene.get("h5_info"), dict) else None
        if h5_type not in H5_TYPES:
            return _error(400, "PARAM_ERROR", "scene_info.h5_info.type 须为 Wap、iOS 或 Android")
    try:
        expires = (datetime.fromisoformat(body["time_expire"]) if body.get("time_expire")
                   else utcnow() + timedelta(hours=2))
    except (TypeError, ValueError):
        expires = None
    if expires is None or expires.tzinfo is None:
        return _error(400, "PARAM_ERROR", "time_expire 格式错误")
    fingerprint = json.dumps({"trade_type": TRADE_TYPES[kind], "payer": payer, "h5_type": h5_type,
                              **{k: body.get(k) for k in ("appid", "description", "notify_url", "amount",
                                                          "time_expire", "attach")}}, sort_keys=True)
    with state.lock:
        state.create_calls += 1
        trade = state.transaction(body["out_trade_no"])
        if trade is not None:
            if trade["trade_state"] == "CLOSED":
                return _error(400, "ORDER_CLOSED", "订单已关闭")
            if trade["trade_state"] != "NOTPAY":
                return _error(400, "ORDERPAID", "该订单已支付")
            if trade["fingerprint"] != fingerprint:
                return _error(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            return _answer(200, _created(trade))
        trade = {"appid": body["appid"], "mchid": body["mchid"], "out_trade_no": body["out_trade_no"],
                 "description": body["description"], "notify_url": body["notify_url"], "attach": body.get("attach"),
                 "amount": {"total": total}, "expires": expires, "trade_type": TRADE_TYPES[kind],
                 "trade_state": "NOTPAY", "trade_state_desc": "订单未支付", "fingerprint": fingerprint}
        if kind == "native":
            trade["code_url"] = "weixin://wxpay/bizpayurl?pr=" + secrets.token_urlsafe(6)
        else:
            trade["prepay_id"] = "wx" + utcnow().astimezone(SHANGHAI).strftime("%d%H%M%S") + secrets.token_hex(13)
        if kind == "jsapi":
            trade["payer"] = {"openid": payer["openid"]}
        if kind == "h5":
            trade["h5_url"] = url_for(".checkmweb", prepay_id=trade["prepay_id"], package=secrets.randbelow(10**10),
                                      _external=True)
        state.transactions[(body["mchid"], body["out_trade_no"])] = trade
    return _answer(200, _created(trade))


def _created(trade):
    key = {"NATIVE": "code_url", "JSAPI": "prepay_id", "MWEB": "h5_url"}[trade["trade_type"]]
    return {key: trade[key]}


@bp.get("/v3/pay/transactions/out-trade-no/<out_trade_no>")
def query(out_trade_no):
    trade = _state().transaction(out_trade_no)
    if request.args.get("mchid") != _state().keys.mchid:
        return _error(400, "PARAM_ERROR", "mchid 错误")
    if trade is None:
        return _error(404, "ORDER_NOT_EXIST", "订单不存在")
    return _answer(200, _state().public_transaction(trade))


@bp.post("/v3/pay/transactions/out-trade-no/<out_trade_no>/close")
def close(out_trade_no):
    state, body = _state(), _json()
    if not body or body.get("mchid") != state.keys.mchid:
        return _error(400, "PARAM_ERROR", "mchid 错误")
    with state.lock:
        trade = state.transaction(out_trade_no)
        if trade is None:
            return _error(404, "ORDER_NOT_EXIST", "订单不存在")
        if trade["trade_state"] in ("SUCCESS", "REFUND"):
            return _error(400, "ORDERPAID", "该订单已支付")
        trade.update(trade_state="CLOSED", trade_state_desc="已关闭")
    return _answer(204)


@bp.post("/v3/refund/domestic/refunds")
def refund():
    state, body = _state(), _json()
    amount = (body or {}).get("amount")
    if not body or not body.get("out_refund_no") or not body.get("out_trade_no") or not isinstance(amount, dict):
        return _error(400, "PARAM_ERROR", "缺少参数")
    if type(amount.get("refund")) is not int or type(amount.get("total")) is not int or amount["refund"] <= 0:
        return _error(400, "PARAM_ERROR", "金额须为正整数（单位：分）")
    with state.lock:
        existing = state.refunds.get(body["out_refund_no"])
        if existing is not None:
            return _answer(200, existing)
        trade = state.transaction(body["out_trade_no"])
        if trade is None:
            return _error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        if trade["trade_state"] != "SUCCESS":
            return _error(400, "INVALID_REQUEST", "订单未支付或已全额退款")
        if amount["total"] != trade["amount"]["total"]:
            return _error(400, "PARAM_ERROR", "订单金额与原订单不一致")
        refunded = sum(r["amount"]["refund"] for r in state.refunds.values() if r["out_trade_no"] == trade["out_trade_no"])
        if amount["refund"] > trade["amount"]["total"] - refunded:
            return _error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        record = {"refund_id": "5030" + f"{secrets.randbelow(10**24):024d}", "out_refund_no": body["out_refund_no"],
                  "transaction_id": trade["transaction_id"], "out_trade_no": trade["out_trade_no"],
                  "channel": "ORIGINAL", "status": "PROCESSING",
                  "create_time": utcnow().astimezone(SHANGHAI).isoformat(timespec="seconds"),
                  "amount": {"total": amount["total"], "refund": amount["refund"], "payer_total": amount["total"],
                             "payer_refund": amount["refund"], "currency": "CNY"},
                  "notify_url": body.get("notify_url") or trade["notify_url"]}
        state.refunds[body["out_refund_no"]] = record
    if state.autopilot:
        threading.Timer(2, state.complete_refunds).start()
    return _answer(200, {k: v for k, v in record.items() if k != "notify_url"})


@bp.get("/v3/refund/domestic/refunds/<out_refund_no>")
def query_refund(out_refund_no):
    record = _state().refunds.get(out_refund_no)
    if record is None:
        return _error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    return _answer(200, {k: v for k, v in record.items() if k != "notify_url"})


# 商家转账到零钱: a batch of one or more details, each to a user's balance by openid

@bp.post("/v3/transfer/batches")
def transfer_batches():
    """The same out_batch_no with the same body is the same batch, answered again (WeChat Pay's batches are
    idempotent on out_batch_no, and its documentation asks for the same number after any error); with another
    body it is refused as WeChat Pay words it. The batch is accepted; it finishes when finish_transfer() is
    called (development: two seconds later, failing with transfer_failure when set)."""
    state, body = _state(), _json()
    if body is None:
        return _error(400, "PARAM_ERROR", "请求体不是合法的JSON")
    missing = [k for k in ("appid", "out_batch_no", "batch_name", "batch_remark", "total_amount", "total_num",
                           "transfer_detail_list") if not body.get(k)]
    if missing:
        return _error(400, "PARAM_ERROR", f"缺少参数 {missing[0]}")
    details = body["transfer_detail_list"]
    if not OUT_BATCH_NO.match(str(body["out_batch_no"])):
        return _error(400, "PARAM_ERROR", "out_batch_no 只能由数字、大小写字母组成")
    if any(not isinstance(body[k], str) or len(body[k]) > 32 for k in ("batch_name", "batch_remark")):
        return _error(400, "PARAM_ERROR", "批次名称和批次备注最多32个字符")
    if type(body["total_amount"]) is not int or type(body["total_num"]) is not int or not isinstance(details, list):
        return _error(400, "PARAM_ERROR", "转账批次参数不正确")
    for detail in details:
        if not isinstance(detail, dict) or not OUT_BATCH_NO.match(str(detail.get("out_detail_no", ""))) \
                or type(detail.get("transfer_amount")) is not int or detail["transfer_amount"] <= 0 \
                or not isinstance(detail.get("transfer_remark"), str) or not detail["transfer_remark"] \
                or len(detail["transfer_remark"]) > 32 or not isinstance(detail.get("openid"), str) \
                or not detail["openid"]:
            return _error(400, "PARAM_ERROR", "转账明细参数不正确")
        if detail["transfer_amount"] >= TRANSFER_NAME_REQUIRED_FEN and not detail.get("user_name"):
            return _error(400, "PARAM_ERROR", "明细金额大于等于2000元时，收款用户姓名必填")
    if body["total_amount"] != sum(d["transfer_amount"] for d in details) or body["total_num"] != len(details):
        return _error(400, "PARAM_ERROR", "转账总金额或总笔数与明细不一致")
    if body["appid"] != state.keys.appid:
        return _error(400, "INVALID_REQUEST", "商户号与AppID不匹配")
    fingerprint = json.dumps(body, sort_keys=True, ensure_ascii=False)
    with state.lock:
        state.transfer_calls += 1
        batch = state.transfers.get(body["out_batch_no"])
        if batch is not None:
            if batch["fingerprint"] != fingerprint:
                return _error(400, "INVALID_REQUEST", "单号已存在但信息不一致，请查单后比较确认")
            return _answer(200, _accepted(batch))
        now = utcnow().astimezone(SHANGHAI).isoformat(timespec="seconds")
        batch_id = "1030000" + f"{secrets.randbelow(10**33):033d}"
        batch = {"mchid": state.keys.mchid, "appid": body["appid"], "out_batch_no": body["out_batch_no"],
                 "batch_id": batch_id, "batch_status": "ACCEPTED", "batch_type": "API",
                 "batch_name": body["batch_name"], "batch_remark": body["batch_remark"],
                 "total_amount": body["total_amount"], "total_num": body["total_num"], "create_time": now,
                 "update_time": now, "success_amount": 0, "success_num": 0, "fail_amount": 0, "fail_num": 0,
                 "fingerprint": fingerprint,
                 "details": [{"detail_id": "1040000" + f"{secrets.randbelow(10**33):033d}",
                              "out_detail_no": d["out_detail_no"], "detail_status": "INIT",
                              "transfer_amount": d["transfer_amount"], "transfer_remark": d["transfer_remark"],
                              "openid": d["openid"], "initiate_time": now, "update_time": now}
                             for d in details]}
        state.transfers[body["out_batch_no"]] = batch
    if state.autopilot:
        threading.Timer(2, state.finish_transfer, (batch["out_batch_no"], state.transfer_failure)).start()
    return _answer(200, _accepted(batch))


def _accepted(batch):
    return {k: batch[k] for k in ("out_batch_no", "batch_id", "create_time", "batch_status")}


@bp.get("/v3/transfer/batches/out-batch-no/<out_batch_no>")
def transfer_batch(out_batch_no):
    batch = _state().transfers.get(out_batch_no)
    if batch is None:
        return _error(404, "NOT_FOUND", "记录不存在")
    wanted = request.args.get("need_query_detail") == "true"
    return _answer(200, _state().public_transfer(batch, request.args.get("detail_status", "ALL") if wanted else None))


@bp.get("/v3/transfer/batches/out-batch-no/<out_batch_no>/details/out-detail-no/<out_detail_no>")
def transfer_detail(out_batch_no, out_detail_no):
    batch = _state().transfers.get(out_batch_no)
    detail = next((d for d in (batch or {}).get("details", ()) if d["out_detail_no"] == out_detail_no), None)
    if detail is None:
        return _error(404, "NOT_FOUND", "记录不存在")
    return _answer(200, {"mchid": batch["mchid"], "appid": batch["appid"], "out_batch_no": out_batch_no,
                         "batch_id": batch["batch_id"], **detail})


# The cashier: what the user sees in WeChat after scanning the QR

@bp.get("/cashier/<pr>")
def cashier(pr):
    trade = _state().by_code(pr)
    if trade is None:
        abort(404)
    return render_template("payments/cashier.html", trade=trade, expired=utcnow() >= trade["expires"],
                           paid=request.args.get("paid"))


@bp.post("/cashier/<pr>")
def cashier_pay(pr):
    trade = _state().by_code(pr)
    if trade is None:
        abort(404)
    _state().pay(trade["out_trade_no"])
    return redirect(url_for(".cashier", pr=pr, paid=1))


# The stand-in for WeixinJSBridge (static/wechat-bridge.js): what getBrandWCPayRequest asks WeChat

def _bridge_trade(params):
    """The JSAPI transaction that getBrandWCPayRequest's parameters stand for, checked as WeChat checks
    them (the app, signType, the paySign with the merchant's public key, the prepay_id): (trade, None),
    or (None, why not)."""
    keys = _state().keys
    names = ("appId", "timeStamp", "nonceStr", "package", "signType", "paySign")
    if not isinstance(params, dict) or not all(isinstance(params.get(k), str) and params[k] for k in names):
        return None, "调用支付JSAPI缺少参数"
    if params["appId"] != keys.appid:
        return None, "appId与商户号不匹配"
    if params["signType"] != "RSA":
        return None, "signType错误"
    message = "".join(params[k] + "\n" for k in ("appId", "timeStamp", "nonceStr", "package"))
    try:
        _state().merchant_public.verify(b64decode(params["paySign"], validate=True), message.encode(),
                                        padding.PKCS1v15(), hashes.SHA256())
    except (ValueError, InvalidSignature):
        return None, "支付验证签名失败"
    trade = _state().by_prepay_id(params["package"].removeprefix("prepay_id="))
    if trade is None or trade["trade_type"] != "JSAPI" or not params["package"].startswith("prepay_id="):
        return None, "prepay_id无效"
    return trade, None


def _yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


@bp.post("/bridge/brand-wcpay")
def bridge_pay():
    """``{"params": …}``: what the cashier sheet shows; ``{"params": …, "confirm": true}``: pay. Answers as
    the bridge's callback would: ``err_msg`` get_brand_wcpay_request:ok or :fail (with err_desc)."""
    body = _json() or {}
    trade, problem = _bridge_trade(body.get("params"))
    if trade is not None and trade["trade_state"] in ("SUCCESS", "REFUND"):
        problem = "该订单已支付"
    elif trade is not None and (trade["trade_state"] != "NOTPAY" or utcnow() >= trade["expires"]):
        problem = "订单已关闭"
    if problem:
        return {"err_msg": "get_brand_wcpay_request:fail", "err_desc": problem}
    if not body.get("confirm"):
        return {"ready": True, "description": trade["description"], "amount": _yuan(trade["amount"]["total"])}
    if not _state().pay(trade["out_trade_no"]):
        return {"err_msg": "get_brand_wcpay_request:fail", "err_desc": "订单已关闭"}
    return {"err_msg": "get_brand_wcpay_request:ok"}


# H5: the page h5_url opens (in WeChat this launches the app and its cashier), then back to redirect_url

def _h5_trade():
    trade = _state().by_prepay_id(request.args.get("prepay_id", ""))
    if trade is None or trade["trade_type"] != "MWEB":
        abort(404)
    return trade


def _redirect_url():
    """The merchant's page to go back to (appended by the merchant to h5_url): an absolute http(s) address."""
    url = request.args.get("redirect_url", "")
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


@bp.get("/checkmweb")
def checkmweb():
    trade = _h5_trade()
    return render_template("payments/h5.html", trade=trade, amount=_yuan(trade["amount"]["total"]),
                           expired=utcnow() >= trade["expires"], back=_redirect_url())


@bp.post("/checkmweb")
def checkmweb_pay():
    """确认支付 pays, 取消 does not; either way WeChat sends the browser back to redirect_url."""
    trade = _h5_trade()
    if request.form.get("action") == "pay":
        _state().pay(trade["out_trade_no"])
    back = _redirect_url()
    if back is None:
        return redirect(url_for(".checkmweb", prepay_id=trade["prepay_id"]))
    return redirect(back)
