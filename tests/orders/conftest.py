"""A fake WeChat Pay on a loopback port (the simulator's blueprint in a server of its own, with its own
keys), the app configured as a real merchant aimed at it, and its notifications reaching the app
through the live server."""
import re
import threading
from types import SimpleNamespace

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import ROOT
from app.payments import simulator
from tests.conftest import CLOCK
from tests.purchase.conftest import customer  # noqa: F401
from tests.purchase.test_application import Buyer


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


@pytest.fixture()
def pay(app, fake_pay, live_server, monkeypatch):
    """The app as a merchant with WeChat Pay credentials, aimed at the fake."""
    for key, value in merchant_config(fake_pay.state.keys, fake_pay.base, live_server + "/pay/wechat/notify").items():
        monkeypatch.setitem(app.config, key, value)
    yield fake_pay
    fake_pay.state.fail_next.clear()
    fake_pay.state.undelivered.clear()


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
