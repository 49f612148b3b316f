"""A fake WeChat Pay on a loopback port (the simulator's blueprint in a server of its own, with its own
keys), the app configured as a real merchant aimed at it, and its notifications reaching the app
through the live server; our WeChat Pay client aimed at the fake. Orders placed and paid, policies counted,
notifications made as WeChat Pay's; the transfer batches of a claim's payouts.
Fixtures: ``fake_pay``, ``pay``."""
import re
import secrets
import threading
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app import ROOT
from app.extensions import db
from app.orders.models import Order, Policy
from app.payments import simulator
from app.payments.wechatpay import Settings, WeChatPayClient
from tests.support.clock import CLOCK
from tests.support.purchase import Buyer


@pytest.fixture(scope="session")
def fake_pay():
    fake = Flask("fake_wechatpay", template_folder=f"{ROOT}/templates", static_folder=f"{ROOT}/static")
    fake.config.update(SECRET_KEY="fake-wechatpay", CLOCK=CLOCK, TESTING=True)
    simulator.init_app(fake, keys=simulator.SimulatorKeys.generate())
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    yield SimpleNamespace(url=url, base=url + "/dev/wechatpay", state=fake.extensions["wechatpay_simulator"])
    server.shutdown()


def merchant_config(keys, base, notify_url):
    return {"WECHATPAY_MCHID": keys.mchid, "WECHATPAY_APPID": keys.appid, "WECHATPAY_PRIVATE_KEY": keys.merchant_key,
            "WECHATPAY_CERT_SERIAL_NO": keys.cert_serial_no, "WECHATPAY_APIV3_KEY": keys.apiv3_key,
            "WECHATPAY_PUBLIC_KEY": simulator.SimulatorKeys.public_pem(keys.platform_key),
            "WECHATPAY_PUBLIC_KEY_ID": keys.public_key_id, "WECHATPAY_BASE": base,
            "WECHATPAY_NOTIFY_URL": notify_url}


def client_for(fake, timeout=2.0, base=None, **changes):
    keys = fake.state.keys
    settings = Settings(mchid=keys.mchid, appid=keys.appid, private_key=keys.merchant_key,
                        cert_serial_no=keys.cert_serial_no, apiv3_key=keys.apiv3_key,
                        public_key=simulator.SimulatorKeys.public_pem(keys.platform_key),
                        public_key_id=keys.public_key_id, base_url=base or fake.base,
                        notify_url="http://127.0.0.1:9/pay/wechat/notify", timeout=timeout)
    return WeChatPayClient(Settings(**{**settings.__dict__, **changes}), clock=CLOCK)


def out_trade_no():
    return "T" + secrets.token_hex(8)


@pytest.fixture()
def pay(app, fake_pay, live_server, monkeypatch):
    """The app as a merchant with WeChat Pay credentials, aimed at the fake."""
    for key, value in merchant_config(fake_pay.state.keys, fake_pay.base, live_server + "/pay/wechat/notify").items():
        monkeypatch.setitem(app.config, key, value)
    yield fake_pay
    fake_pay.state.fail_next.clear()
    fake_pay.state.undelivered.clear()


def batches_of(pay, claim_number):
    """The transfer batches at the fake for a claim's payout (their out_batch_no starts with its number)."""
    return [batch for number, batch in list(pay.state.transfers.items()) if number.startswith(claim_number)]


def place_order(client, slug="anxin-million-medical"):
    """An application filled in and confirmed: the number of its order."""
    response = Buyer(client, slug).through(6)
    return re.fullmatch(r"/orders/(\w+)/pay", response.headers["Location"]).group(1)


def paid_policy(client, pay, number=None):
    """An order placed, its pay page visited, paid at the fake; the policy's number."""
    number = number or place_order(client)
    assert client.get(f"/orders/{number}/pay").status_code == 200
    assert pay.state.pay(number)
    response = client.get(f"/orders/{number}")
    return re.search(r'href="/policies/(\w+)"', response.get_data(as_text=True)).group(1)


def order_row(app, number):
    with app.app_context():
        order = db.session.scalar(select(Order).where(Order.number == number))
        db.session.expunge_all()
        return order


def transaction(app, pay, number, **changes):
    """WeChat Pay's view of the order, as if paid, with changes."""
    trade = pay.state.transaction(number)
    keys = pay.state.keys
    return {"appid": keys.appid, "mchid": keys.mchid, "out_trade_no": number, "transaction_id": "4200000000001",
            "trade_type": "NATIVE", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
            "success_time": "2026-11-25T10:05:00+08:00", "payer": {"openid": "o-payer"},
            "amount": {"total": trade["amount"]["total"], "payer_total": trade["amount"]["total"], "currency": "CNY"},
            **changes}


def notification(app, pay, resource, event_type="TRANSACTION.SUCCESS"):
    with app.app_context():
        return pay.state.notification(event_type, "transaction", resource, "支付成功")


def policies(app, number):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Policy).join(Order).where(Order.number == number))
