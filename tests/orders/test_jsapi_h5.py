"""Paying inside WeChat (JSAPI) and in a phone's browser (H5), beside the desktop's Native QR: the clients
against the fake WeChat Pay, the paySign, the pay page choosing by device, the way back from H5, and one order
with three transactions that never keeps two payments."""
import logging
import re
import secrets
from base64 import b64decode
from datetime import UTC, timedelta
from html import unescape
from urllib.parse import quote

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select

from app.auth.models import WeChatIdentity
from app.core.clock import db_now
from app.extensions import db
from app.jobs import run_due
from app.orders import services
from app.orders.models import Order, PaymentAttempt
from app.payments import PayError
from tests.support.clock import CLOCK
from tests.support.concurrency import at_once
from tests.support.identity import ME
from tests.support.pay import client_for, notification, order_row, out_trade_no, place_order, policies
from tests.support.web import HX, csrf_token, token

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN")
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Mobile Safari/537.36")
SAFARI_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.4 Mobile/15E148 Safari/604.1")
DESKTOP_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0.0.0 Safari/537.36")


@pytest.fixture()
def fake(fake_pay):
    yield fake_pay
    fake_pay.state.fail_next.clear()
    fake_pay.state.undelivered.clear()


def expiry():
    return CLOCK() + timedelta(minutes=30)


def jsapi(client, number, openid="oPayer0000000000000000000001", total=29000):
    return client.create_jsapi(out_trade_no=number, description="安心百万医疗-基础版", total_fen=total,
                               time_expire=expiry(), payer_openid=openid)


def h5(client, number, ip="203.0.113.7", h5_type="Wap", total=29000):
    return client.create_h5(out_trade_no=number, description="安心百万医疗-基础版", total_fen=total,
                            time_expire=expiry(), payer_client_ip=ip, h5_type=h5_type)


def merchant_public_key(fake):
    key = serialization.load_pem_private_key(fake.state.keys.merchant_key.encode(), None)
    return key.public_key()


def verify_pay_sign(fake, params):
    message = "".join(params[k] + "\n" for k in ("appId", "timeStamp", "nonceStr", "package")).encode()
    merchant_public_key(fake).verify(b64decode(params["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())


# The clients against the fake WeChat Pay

def test_a_jsapi_transaction_gives_a_prepay_id_and_the_same_fields_find_it_again(fake):
    client = client_for(fake)
    number = out_trade_no()
    prepay_id = jsapi(client, number)
    assert re.fullmatch(r"wx\w{20,40}", prepay_id)
    assert jsapi(client, number) == prepay_id  # a second page: the same transaction
    trade = fake.state.transaction(number)
    assert trade["trade_type"] == "JSAPI" and trade["payer"] == {"openid": "oPayer0000000000000000000001"}
    assert client.query(number)["trade_state"] == "NOTPAY"
    with pytest.raises(PayError) as refused:
        jsapi(client, number, openid="oSomeoneElse0000000000000002")  # another payer for the same number
    assert (refused.value.status, refused.value.code) == (403, "OUT_TRADE_NO_USED")


@pytest.mark.parametrize("openid", ["", "   "])
def test_a_jsapi_transaction_needs_the_payers_openid(fake, openid):
    with pytest.raises(PayError) as refused:
        jsapi(client_for(fake), out_trade_no(), openid=openid)
    assert (refused.value.status, refused.value.code) == (400, "PARAM_ERROR")
    assert "payer.openid" in refused.value.message


def test_the_pay_sign_is_verifiable_with_the_merchants_public_key(fake):
    client = client_for(fake)
    prepay_id = jsapi(client, out_trade_no())
    params = client.jsapi_request(prepay_id)
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["appId"] == fake.state.keys.appid and params["signType"] == "RSA"
    assert params["package"] == f"prepay_id={prepay_id}"
    assert params["timeStamp"] == str(int(CLOCK().timestamp()))  # the injected clock's
    verify_pay_sign(fake, params)
    for name, value in (("package", "prepay_id=wx0000"), ("timeStamp", str(int(CLOCK().timestamp()) + 1)),
                        ("nonceStr", "x" + params["nonceStr"][1:])):
        with pytest.raises(InvalidSignature):
            verify_pay_sign(fake, {**params, name: value})
    again = client.jsapi_request(prepay_id)
    assert again["nonceStr"] != params["nonceStr"] and again["paySign"] != params["paySign"]


def test_an_h5_transaction_gives_an_h5_url(fake):
    client = client_for(fake)
    number = out_trade_no()
    url = h5(client, number)
    assert re.fullmatch(re.escape(fake.base) + r"/checkmweb\?prepay_id=wx\w+&package=\d+", url)
    assert h5(client, number, ip="198.51.100.9") == url  # the phone changed networks: the same transaction
    assert fake.state.transaction(number)["trade_type"] == "MWEB"
    with pytest.raises(PayError) as changed:
        h5(client, number, h5_type="iOS")
    assert changed.value.code == "OUT_TRADE_NO_USED"


@pytest.mark.parametrize("changes", [{"ip": ""}, {"h5_type": "PC"}])
def test_an_h5_transaction_needs_the_payers_ip_and_an_h5_type(fake, changes):
    with pytest.raises(PayError) as refused:
        h5(client_for(fake), out_trade_no(), **changes)
    assert (refused.value.status, refused.value.code) == (400, "PARAM_ERROR")


def test_an_out_trade_no_is_bound_to_one_trade_type(fake):
    client = client_for(fake)
    number = out_trade_no()
    client.create_native(out_trade_no=number, description="安心百万医疗-基础版", total_fen=29000, time_expire=expiry())
    for create in (lambda: jsapi(client, number), lambda: h5(client, number)):
        with pytest.raises(PayError) as refused:
            create()
        assert refused.value.code == "OUT_TRADE_NO_USED"


@pytest.mark.parametrize("endpoint", ["jsapi", "h5"])
@pytest.mark.parametrize("failure, code, status", [
    ((500, "SYSTEM_ERROR", "系统错误"), "SYSTEM_ERROR", 500),
    ((400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配"), "APPID_MCHID_NOT_MATCH", 400),
    ("garbage", "UNKNOWN", 502),
    ("tampered", "SIGNATURE", None),
    ("unsigned", "SIGNATURE", None),
])
def test_error_answers_become_pay_errors(fake, endpoint, failure, code, status):
    fake.state.fail_next[f"wechatpay_simulator.{endpoint}"] = [failure]
    with pytest.raises(PayError) as refused:
        (jsapi if endpoint == "jsapi" else h5)(client_for(fake), out_trade_no())
    assert (refused.value.code, refused.value.status) == (code, status)


def test_an_absent_server_is_a_network_error(fake):
    import socket
    absent = socket.socket()
    absent.bind(("127.0.0.1", 0))
    port = absent.getsockname()[1]
    absent.close()
    client = client_for(fake, timeout=0.5, base=f"http://127.0.0.1:{port}")
    for create in (lambda: jsapi(client, out_trade_no()), lambda: h5(client, out_trade_no())):
        with pytest.raises(PayError) as failed:
            create()
        assert failed.value.code == "NETWORK"


# The simulator's stand-ins for what the user sees: WeixinJSBridge's cashier and H5's page

def bridge(fake, params, confirm=False):
    return requests.post(fake.base + "/bridge/brand-wcpay", json={"params": params, "confirm": confirm},
                         timeout=5).json()


def test_the_bridge_checks_the_pay_sign_as_wechat_does_and_pays(fake):
    client = client_for(fake)
    number = out_trade_no()
    params = client.jsapi_request(jsapi(client, number, total=35298))
    shown = bridge(fake, params)
    assert shown == {"ready": True, "description": "安心百万医疗-基础版", "amount": "352.98"}
    forged = {**params, "paySign": client_for(fake, private_key=fake.state.keys.platform_key).jsapi_request(
        params["package"].removeprefix("prepay_id="))["paySign"]}  # signed with a key not the merchant's
    assert bridge(fake, forged, confirm=True) == {"err_msg": "get_brand_wcpay_request:fail",
                                                  "err_desc": "支付验证签名失败"}
    assert bridge(fake, {**params, "package": "prepay_id=wx0"})["err_desc"] == "支付验证签名失败"
    assert bridge(fake, {**params, "appId": "wx0000000000000000"})["err_desc"] == "appId与商户号不匹配"
    assert fake.state.transaction(number)["trade_state"] == "NOTPAY"
    assert bridge(fake, params, confirm=True) == {"err_msg": "get_brand_wcpay_request:ok"}
    assert client.query(number)["trade_state"] == "SUCCESS"
    assert client.query(number)["payer"] == {"openid": "oPayer0000000000000000000001"}
    assert bridge(fake, params)["err_desc"] == "该订单已支付"


def test_the_h5_page_shows_the_amount_and_goes_back_to_redirect_url(fake):
    client = client_for(fake)
    number = out_trade_no()
    back = "http://127.0.0.1:9/orders/DD1/return"
    url = h5(client, number, total=35298) + "&redirect_url=" + quote(back, safe="")
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "¥352.98" in page.text and "确认支付" in page.text and "取消" in page.text
    cancelled = requests.post(url, data={"action": "cancel"}, allow_redirects=False, timeout=5)
    assert cancelled.status_code == 302 and cancelled.headers["Location"] == back
    assert client.query(number)["trade_state"] == "NOTPAY"
    paid = requests.post(url, data={"action": "pay"}, allow_redirects=False, timeout=5)
    assert paid.status_code == 302 and paid.headers["Location"] == back
    assert client.query(number)["trade_state"] == "SUCCESS"
    assert requests.get(fake.base + "/checkmweb?prepay_id=wx0", timeout=5).status_code == 404


# The pay page chooses by device

def link_wechat(app, user_id, appid, openid=None):
    """The user's WeChat identity in the app WeChat Pay charges for (what logging in inside WeChat leaves)."""
    openid = openid or "o" + secrets.token_hex(14)
    with app.app_context():
        db.session.add(WeChatIdentity(user_id=user_id, appid=appid, openid=openid, created_at=db_now()))
        db.session.commit()
    return openid


def pay_page(client, number, user_agent):
    response = client.get(f"/orders/{number}/pay", headers={"User-Agent": user_agent})
    return response, response.get_data(as_text=True)


def data_params(page):
    box = re.search(r"<div class=\"pay-action\" data-wechat-pay ([^>]+)>", page).group(1)
    names = {"app-id": "appId", "time-stamp": "timeStamp", "nonce-str": "nonceStr", "package": "package",
             "sign-type": "signType", "pay-sign": "paySign"}
    found = dict(re.findall(r'data-([\w-]+)="([^"]*)"', box))
    return {names[k]: unescape(v) for k, v in found.items()}


def test_inside_wechat_the_pay_page_opens_wechat_pays_cashier(app, customer, pay):
    openid = link_wechat(app, customer.id, pay.state.keys.appid)
    link_wechat(app, customer.id, "wx0ther0ther0ther0")  # another app's openid is not the payer
    number = place_order(customer.client)
    response, page = pay_page(customer.client, number, WECHAT_UA)
    assert response.status_code == 200 and "<h1>微信支付</h1>" in page
    assert "qr-image" not in page and "微信扫一扫" not in page
    assert "/static/js/wechat-pay.js" in page and "wechat-bridge.js" not in page  # no stand-in: a real merchant
    assert "立即支付" in page and "我已支付" in page  # without JavaScript: 我已支付 asks WeChat Pay
    assert f'hx-get="/orders/{number}/status" hx-trigger="every 2s"' in page
    params = data_params(page)
    trade = pay.state.transaction(number + "J")
    assert trade["trade_type"] == "JSAPI" and trade["payer"] == {"openid": openid}
    assert trade["amount"]["total"] == 29000 and trade["expires"] == order_row(app, number).expires_at.replace(tzinfo=UTC)
    assert params["package"] == "prepay_id=" + trade["prepay_id"] and params["appId"] == pay.state.keys.appid
    verify_pay_sign(pay, params)
    assert pay.state.transaction(number) is None  # no Native transaction was made
    _, again = pay_page(customer.client, number, WECHAT_UA)
    assert data_params(again)["package"] == params["package"]  # the prepay_id is kept, the signature new


def test_inside_wechat_a_boosted_form_loads_the_pay_page_whole(app, customer, pay):
    """The application's last step is a boosted form: htmx would swap the body and never run the head's
    scripts, so the pay page asks to be loaded whole before it creates anything."""
    link_wechat(app, customer.id, pay.state.keys.appid)
    number = place_order(customer.client)
    boosted = customer.client.get(f"/orders/{number}/pay", headers={
        "User-Agent": WECHAT_UA, "HX-Request": "true", "HX-Boosted": "true"})
    assert boosted.status_code == 200 and boosted.headers["HX-Redirect"] == f"/orders/{number}/pay"
    assert pay.state.transaction(number + "J") is None


def test_in_development_the_pay_page_brings_the_bridge_stand_in(app, customer, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "SITE_URL", live_server)  # the simulator answers at the site's address
    link_wechat(app, customer.id, app.extensions["wechatpay_simulator"].keys.appid)
    number = place_order(customer.client)
    response, page = pay_page(customer.client, number, WECHAT_UA)
    assert response.status_code == 200
    script = re.search(r'<script src="(/dev/wechatpay/static/wechat-bridge\.js)" '
                       r'data-endpoint="(/dev/wechatpay/bridge/brand-wcpay)" defer></script>', page)
    assert script and '<link rel="stylesheet" href="/dev/wechatpay/static/wechat-bridge.css">' in page
    assert page.index("wechat-bridge.js") < page.index("/static/js/wechat-pay.js")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    stand_in = customer.client.get(script.group(1))
    code = stand_in.get_data(as_text=True)
    assert stand_in.status_code == 200 and "javascript" in stand_in.content_type
    assert "WeixinJSBridgeReady" in code and ".style" not in code and "style=" not in code  # classes only
    assert customer.client.get("/dev/wechatpay/static/wechat-bridge.css").status_code == 200
    params = data_params(page)
    shown = customer.client.post(script.group(2), json={"params": params}).get_json()
    assert shown == {"ready": True, "description": "安心百万医疗2026-基础版", "amount": "290.00"}
    assert customer.client.post(script.group(2), json={"params": params, "confirm": True}).get_json() == {
        "err_msg": "get_brand_wcpay_request:ok"}
    poll = customer.client.get(f"/orders/{number}/status", headers={**HX, "User-Agent": WECHAT_UA})
    assert poll.headers["HX-Redirect"].startswith("/policies/P")


def test_inside_wechat_without_a_linked_wechat_the_page_says_so_and_shows_the_qr(customer, pay):
    number = place_order(customer.client)
    response, page = pay_page(customer.client, number, WECHAT_UA)
    assert response.status_code == 200 and "还没有关联这个微信" in page and "请用另一台手机的微信扫一扫付款" in page
    assert 'class="qr-image"' in page and "data-wechat-pay" not in page and "wechat-pay.js" not in page
    assert pay.state.transaction(number)["trade_type"] == "NATIVE" and pay.state.transaction(number + "J") is None


@pytest.mark.parametrize("user_agent", [PHONE_UA, SAFARI_UA])
def test_a_phone_browser_gets_h5_and_the_way_back_to_the_order(app, customer, pay, user_agent):
    number = place_order(customer.client)
    response, page = pay_page(customer.client, number, user_agent)
    assert response.status_code == 200 and "qr-image" not in page and "data-wechat-pay" not in page
    trade = pay.state.transaction(number + "H")
    assert trade["trade_type"] == "MWEB"
    back = app.config["SITE_URL"].rstrip("/") + f"/orders/{number}/return"
    link = unescape(re.search(r'<a class="button button-block" href="([^"]+)">微信支付</a>', page).group(1))
    assert link == trade["h5_url"] + "&redirect_url=" + quote(back, safe="")
    assert "我已支付" in page and f'hx-get="/orders/{number}/status"' in page


def test_a_desktop_gets_the_native_qr_as_before(app, customer, pay):
    number = place_order(customer.client)
    response, page = pay_page(customer.client, number, DESKTOP_UA)
    assert response.status_code == 200 and "<h1>微信扫码支付</h1>" in page and 'class="qr-image"' in page
    assert "data-wechat-pay" not in page and "redirect_url" not in page
    assert pay.state.transaction(number)["trade_type"] == "NATIVE"
    assert order_row(app, number).code_url == pay.state.transaction(number)["code_url"]
    assert attempts(app, number) == {number: ("native", "open")}


@pytest.mark.parametrize("endpoint, user_agent", [("jsapi", WECHAT_UA), ("h5", PHONE_UA)])
def test_the_pay_page_says_so_when_wechat_pay_is_unavailable(app, customer, pay, endpoint, user_agent):
    link_wechat(app, customer.id, pay.state.keys.appid)
    number = place_order(customer.client)
    pay.state.fail_next[f"wechatpay_simulator.{endpoint}"] = [(500, "SYSTEM_ERROR", "系统繁忙")]
    response, page = pay_page(customer.client, number, user_agent)
    assert response.status_code == 503 and "暂时无法发起微信支付" in page and "重新发起支付" in page
    response, page = pay_page(customer.client, number, user_agent)
    assert response.status_code == 200 and ("data-wechat-pay" in page or "redirect_url" in page)


def test_coming_back_from_h5_asks_wechat_pay(app, customer, pay, monkeypatch):
    number = place_order(customer.client)
    pay_page(customer.client, number, PHONE_UA)
    back = customer.client.get(f"/orders/{number}/return", headers={"User-Agent": PHONE_UA})
    assert back.headers["Location"] == f"/orders/{number}/pay"  # cancelled in WeChat: still to pay
    assert "暂未收到支付结果" in customer.client.get(back.headers["Location"]).get_data(as_text=True)
    monkeypatch.setitem(pay.state.transaction(number + "H"), "notify_url", "http://127.0.0.1:9/late")
    assert pay.state.pay(number + "H")  # paid in WeChat; the notification is late
    back = customer.client.get(f"/orders/{number}/return", headers={"User-Agent": PHONE_UA})
    assert re.fullmatch(r"/policies/P\d{18}", back.headers["Location"])
    assert order_row(app, number).status == "issued"


# One order, three transactions, never two payments kept

def attempts(app, number):
    with app.app_context():
        rows = db.session.execute(select(PaymentAttempt.out_trade_no, PaymentAttempt.method, PaymentAttempt.status)
                                  .join(Order).where(Order.number == number)).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def refunds(pay, number):
    """The fake's refunds of this order's transactions (it keeps every test's)."""
    return [r for r in pay.state.refunds.values() if r["out_trade_no"].startswith(number)]


def three_ways(app, customer, pay):
    """An order whose pay page was opened on a desktop, inside WeChat and in a phone's browser."""
    link_wechat(app, customer.id, pay.state.keys.appid)
    number = place_order(customer.client)
    for user_agent in (DESKTOP_UA, WECHAT_UA, PHONE_UA):
        assert pay_page(customer.client, number, user_agent)[0].status_code == 200
    assert {no: status for no, (_, status) in attempts(app, number).items()} == {
        number: "open", number + "J": "open", number + "H": "open"}
    return number, [number, number + "J", number + "H"]


def test_paying_one_way_closes_the_others(app, customer, pay):
    number, trades = three_ways(app, customer, pay)
    assert pay.state.pay(number + "J")
    assert order_row(app, number).status == "issued" and policies(app, number) == 1
    assert [pay.state.transaction(no)["trade_state"] for no in trades] == ["CLOSED", "SUCCESS", "CLOSED"]
    assert attempts(app, number) == {number: ("native", "closed"), number + "J": ("jsapi", "paid"),
                                     number + "H": ("h5", "closed")}
    assert order_row(app, number).transaction_id == pay.state.transaction(number + "J")["transaction_id"]
    assert not refunds(pay, number)


def test_one_order_paid_three_ways_at_once_keeps_one_payment(app, live_server, customer, pay, monkeypatch, caplog):
    number, trades = three_ways(app, customer, pay)
    for no in trades:  # all three paid in WeChat before any notification arrives
        monkeypatch.setitem(pay.state.transaction(no), "notify_url", "http://127.0.0.1:9/late")
        assert pay.state.pay(no)
    caplog.set_level(logging.INFO)
    notices = [notification(app, pay, pay.state.public_transaction(pay.state.transaction(no))) for no in trades]
    answers = at_once(3, lambda i: requests.post(f"{live_server}/pay/wechat/notify", data=notices[i][0].encode(),
                                                 headers=notices[i][1], timeout=30))
    assert [a.status_code for a in answers] == [204, 204, 204]
    assert policies(app, number) == 1 and order_row(app, number).status == "issued"
    kept = order_row(app, number).transaction_id
    winner = next(no for no in trades if pay.state.transaction(no)["transaction_id"] == kept)
    others = sorted(set(trades) - {winner})
    given_back = {r["out_trade_no"]: r for r in refunds(pay, number)}
    assert sorted(given_back) == others  # each payment too many refunded once, under its own refund number
    assert {r["out_refund_no"] for r in given_back.values()} == {no + "R" for no in others}
    assert all(r["amount"]["refund"] == 29000 for r in given_back.values())
    assert attempts(app, number)[winner][1] == "paid"
    assert {attempts(app, number)[no][1] for no in others} == {"refunding"}
    pay.state.complete_refunds()  # WeChat Pay refunds and notifies
    assert {attempts(app, number)[no][1] for no in others} == {"refunded"}
    assert [pay.state.transaction(no)["trade_state"] for no in others] == ["REFUND", "REFUND"]
    assert pay.state.transaction(winner)["trade_state"] == "SUCCESS"
    assert order_row(app, number).status == "issued" and policies(app, number) == 1
    assert caplog.text.count("was paid again") == 2
    assert ME not in caplog.text and "张伟" not in caplog.text and "13800138000" not in caplog.text
    assert not any(pay.state.transaction(no)["payer"]["openid"] in caplog.text for no in trades)


def test_three_payments_racing_at_wechat_pay_keep_one(app, customer, pay):
    """The three paid at the same moment, each notification sent as WeChat Pay sends it: whichever win, one
    payment is kept and every other one that went through is refunded."""
    number, trades = three_ways(app, customer, pay)
    paid = at_once(3, lambda i: pay.state.pay(trades[i]))
    went_through = {no for no, ok in zip(trades, paid) if ok}  # the others were closed before they were paid
    assert went_through and policies(app, number) == 1 and order_row(app, number).status == "issued"
    refunded = {r["out_trade_no"] for r in refunds(pay, number)}
    kept = went_through - refunded
    assert len(kept) == 1 and refunded == went_through - kept and len(refunds(pay, number)) == len(refunded)
    rows = attempts(app, number)
    assert [no for no in trades if rows[no][1] == "paid"] == list(kept)
    assert all(rows[no][1] == "refunding" for no in refunded)
    assert all(pay.state.transaction(no)["trade_state"] == "CLOSED" and rows[no][1] == "closed"
               for no in set(trades) - went_through)


def test_a_payment_after_the_order_was_paid_is_refunded_whatever_told_us(app, customer, pay, monkeypatch, clock):
    """A transaction paid after the order was paid, which we had not closed yet (the close failed): found by the
    poll's query rather than a notification, and refunded."""
    number, trades = three_ways(app, customer, pay)
    pay.state.fail_next["wechatpay_simulator.close"] = [(500, "SYSTEM_ERROR", "系统繁忙")] * 2
    assert pay.state.pay(number)
    assert [pay.state.transaction(no)["trade_state"] for no in trades] == ["SUCCESS", "NOTPAY", "NOTPAY"]
    monkeypatch.setitem(pay.state.transaction(number + "H"), "notify_url", "http://127.0.0.1:9/lost")
    assert pay.state.pay(number + "H")
    with app.app_context():
        order = services.by_number(number)
        services.close_other_transactions(order.id)  # the job, run again
    assert [pay.state.transaction(no)["trade_state"] for no in trades] == ["SUCCESS", "CLOSED", "SUCCESS"]
    assert [r["out_trade_no"] for r in refunds(pay, number)] == [number + "H"]
    assert attempts(app, number)[number + "H"] == ("h5", "refunding") and policies(app, number) == 1


def test_a_refund_that_failed_is_asked_for_again_later(app, customer, pay, monkeypatch, clock):
    number, trades = three_ways(app, customer, pay)
    for no in trades[:2]:
        monkeypatch.setitem(pay.state.transaction(no), "notify_url", "http://127.0.0.1:9/late")
        pay.state.pay(no)
    pay.state.fail_next["wechatpay_simulator.refund"] = [(500, "SYSTEM_ERROR", "系统繁忙")]
    for no in trades[:2]:
        body, headers = notification(app, pay, pay.state.public_transaction(pay.state.transaction(no)))
        assert customer.client.post("/pay/wechat/notify", data=body.encode(), headers=headers).status_code == 204
    assert not refunds(pay, number) and attempts(app, number)[number + "J"] == ("jsapi", "refunding")
    clock.advance(minutes=1)
    with app.app_context():
        run_due()  # the job asks again: in progress at WeChat Pay
    assert [r["out_refund_no"] for r in refunds(pay, number)] == [number + "JR"]
    assert attempts(app, number)[number + "J"] == ("jsapi", "refunding")
    for refund in refunds(pay, number):
        monkeypatch.setitem(refund, "notify_url", "http://127.0.0.1:9/lost")
    pay.state.complete_refunds()  # done, but its notification is lost
    clock.advance(minutes=5)
    with app.app_context():
        run_due()  # asked again, WeChat Pay says it is done
    assert attempts(app, number)[number + "J"] == ("jsapi", "refunded")
    assert attempts(app, number)[number] == ("native", "paid") and policies(app, number) == 1
    assert len(refunds(pay, number)) == 1


def test_settle_refunds_asks_again_by_hand(app, customer, pay, monkeypatch):
    number, trades = three_ways(app, customer, pay)
    for no in trades[1:]:
        monkeypatch.setitem(pay.state.transaction(no), "notify_url", "http://127.0.0.1:9/late")
        pay.state.pay(no)
    pay.state.fail_next["wechatpay_simulator.refund"] = [(500, "SYSTEM_ERROR", "系统繁忙")]
    for no in trades[1:]:
        body, headers = notification(app, pay, pay.state.public_transaction(pay.state.transaction(no)))
        customer.client.post("/pay/wechat/notify", data=body.encode(), headers=headers)
    assert not refunds(pay, number)
    result = app.test_cli_runner().invoke(args=["orders", "settle-refunds"])
    assert result.exit_code == 0 and "still waiting" in result.output
    assert [r["out_refund_no"] for r in refunds(pay, number)] == [number + "HR"]
    pay.state.complete_refunds()
    assert attempts(app, number)[number + "H"] == ("h5", "refunded")


def test_an_expired_order_closes_all_its_transactions(app, customer, pay, clock):
    number, trades = three_ways(app, customer, pay)
    clock.advance(minutes=30)
    page = customer.client.get(f"/orders/{number}", follow_redirects=True).get_data(as_text=True)
    assert "订单已关闭" in page and order_row(app, number).status == "closed"
    assert [pay.state.transaction(no)["trade_state"] for no in trades] == ["CLOSED"] * 3
    assert {status for _, status in attempts(app, number).values()} == {"closed"}
    assert not any(pay.state.pay(no) for no in trades)


def test_an_order_paid_inside_wechat_is_surrendered_through_that_transaction(app, customer, pay):
    link_wechat(app, customer.id, pay.state.keys.appid)
    number = place_order(customer.client)
    pay_page(customer.client, number, WECHAT_UA)
    assert pay.state.pay(number + "J")
    poll = customer.client.get(f"/orders/{number}/status", headers={**HX, "User-Agent": WECHAT_UA})
    policy_number = re.fullmatch(r"/policies/(P\d{18})", poll.headers["HX-Redirect"]).group(1)
    page = customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    customer.client.post(f"/policies/{policy_number}/surrender", data={"csrf_token": token(page), "confirmed": "y"})
    assert [r["out_trade_no"] for r in refunds(pay, number)] == [number + "J"]
    pay.state.complete_refunds()
    assert "已退保" in customer.client.get(f"/policies/{policy_number}").get_data(as_text=True)
    assert order_row(app, number).status == "refunded"
    assert attempts(app, number) == {number + "J": ("jsapi", "paid")}


def test_i_have_paid_asks_about_every_open_transaction(app, customer, pay, monkeypatch):
    number, _ = three_ways(app, customer, pay)
    monkeypatch.setitem(pay.state.transaction(number + "H"), "notify_url", "http://127.0.0.1:9/lost")
    pay.state.pay(number + "H")
    check = customer.client.post(f"/orders/{number}/check", data={"csrf_token": csrf_token(customer.client)})
    assert check.headers["Location"].startswith("/policies/P")
    assert attempts(app, number)[number + "H"] == ("h5", "paid")
