"""A fake WeChat on a loopback port (the simulator's blueprint in a server of its own), and the steps of a
QR bridge as a desktop browser and a phone perform them over HTTP: a login's, and a minor's whose guardian
approves on their own phone. Fixtures: ``fake_wechat``, ``wechat``, ``desktop``, ``phone``."""
import re
import threading
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from app import ROOT
from app.auth import simulator
from app.auth.qrlogin import derive_token
from tests.support import web
from tests.support.agreements import accept
from tests.support.clock import CLOCK
from tests.support.identity import ADULT_ID
from tests.support.web import HX

# WeChat's own browser on an iPhone.
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Mobile/15E148 MicroMessenger/8.0.44")


@pytest.fixture(scope="session")
def fake_wechat():
    fake = Flask("fake_wechat", template_folder=f"{ROOT}/templates", static_folder=f"{ROOT}/static")
    fake.config.update(SECRET_KEY="fake-wechat", CLOCK=CLOCK)
    simulator.init_app(fake)
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    fake.config["SITE_URL"] = url
    yield SimpleNamespace(url=url, base=url + "/dev/wechat", state=fake.extensions["wechat_simulator"])
    server.shutdown()


@pytest.fixture()
def wechat(app, fake_wechat, monkeypatch):
    """The app configured with real WeChat credentials, aimed at the fake server."""
    for key, value in {"WECHAT_APPID": simulator.SIM_APPID, "WECHAT_SECRET": simulator.SIM_SECRET,
                       "WECHAT_OPEN_BASE": fake_wechat.base, "WECHAT_API_BASE": fake_wechat.base}.items():
        monkeypatch.setitem(app.config, key, value)
    yield fake_wechat
    fake_wechat.state.fail_next.clear()


class Desktop:
    def __init__(self, app, next_path=None):
        self.app = app
        self.client = app.test_client()
        page = self.client.get("/login" + (f"?next={next_path}" if next_path else ""))
        assert page.status_code == 200
        self.html = page.get_data(as_text=True)
        self.poll_url = re.search(r'hx-get="(/login/qr/[^"]+/status)"', self.html).group(1)
        self.public_id = self.poll_url.split("/")[3]
        nonce = self.client.get_cookie(f"qrl_{self.public_id}", path="/login").value
        with app.app_context():
            self.token = derive_token(self.public_id, nonce)

    def poll(self, htmx=True):
        response = self.client.get(self.poll_url, headers=HX if htmx else {})
        return response, response.get_data(as_text=True)


class Phone:
    """A phone that scans a code: a login's (/m/login/…) or, with ``pages``, another QR bridge's."""

    def __init__(self, app, pages="/m/login"):
        self.client = app.test_client()
        self.csrf = ""
        self.pages = pages

    def open(self, token):
        return self.client.get(f"{self.pages}/{token}")

    def authorize(self, token, user="zhang", action="allow", nickname=""):
        """Open the QR link, let WeChat (the fake) authorize, and come back through the callback."""
        response = self.open(token)
        assert response.status_code == 302, response.get_data(as_text=True)
        authorize_url = response.headers["Location"]
        query = parse_qs(urlsplit(authorize_url).query)
        wechat = requests.post(authorize_url.split("#")[0], allow_redirects=False, timeout=5, data={
            "user": user, "action": action, "nickname": nickname,
            "redirect_uri": query["redirect_uri"][0], "state": query["state"][0]})
        callback = urlsplit(wechat.headers["Location"])
        return self.callback(f"{callback.path}?{callback.query}")

    def callback(self, path):
        response = self.client.get(path)
        if response.status_code == 302:
            response = self.client.get(response.headers["Location"])
        html = response.get_data(as_text=True)
        if 'name="csrf_token"' in html:
            self.csrf = web.token(html)  # kept, as the page stays open on the phone
        return response, html

    def press(self, token, button):
        response = self.client.post(f"{self.pages}/{token}/{button}", data={"csrf_token": self.csrf})
        return response, response.get_data(as_text=True)


def bridge_token(app, client, poll_url, cookie_prefix, cookie_path):
    """The token a desktop's code carries (what its QR encodes), from the poll URL and the browser's nonce."""
    public_id = poll_url.rstrip("/").split("/")[-2]
    nonce = client.get_cookie(f"{cookie_prefix}_{public_id}", path=cookie_path).value
    with app.app_context():
        return derive_token(public_id, nonce)


@pytest.fixture()
def desktop(app, wechat):
    return lambda next_path=None: Desktop(app, next_path)


@pytest.fixture()
def phone(app, wechat):
    return lambda: Phone(app)


class MinorDesktop:
    """A minor at the acceptance step, who gets a code for their guardian."""

    def __init__(self, app, client, next_path="/me"):
        self.app, self.client = app, client
        page = client.get(f"/agreements/accept?next={next_path}").get_data(as_text=True)
        response = accept(client, page, birth_date="2010-06-01")
        self.html = response.get_data(as_text=True)
        self.poll_url = re.search(r'hx-get="(/agreements/guardian/[^"]+/status)"', self.html).group(1)
        self.public_id = self.poll_url.split("/")[3]
        nonce = client.get_cookie(f"qrg_{self.public_id}", path="/agreements/guardian").value
        with app.app_context():
            self.token = derive_token(self.public_id, nonce)

    def poll(self, htmx=True):
        response = self.client.get(self.poll_url, headers=HX if htmx else {})
        return response, response.get_data(as_text=True)


def guardian_opens(phone, token, user="zhang"):
    """The guardian's phone: the code's link, WeChat authorization, the form."""
    response = phone.client.get(f"/m/guardian/{token}")
    assert response.status_code == 302
    authorize = response.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    back = requests.post(authorize.split("#")[0], allow_redirects=False, timeout=5, data={
        "user": user, "action": "allow", "redirect_uri": query["redirect_uri"][0], "state": query["state"][0]})
    callback = urlsplit(back.headers["Location"])
    return phone.callback(f"{callback.path}?{callback.query}")


def approve(phone, token, name="张建国", number=ADULT_ID, relationship="father"):
    response = phone.client.post(f"/m/guardian/{token}/approve", data={
        "csrf_token": phone.csrf, "name": name, "id_number": number, "relationship": relationship})
    return response, response.get_data(as_text=True)
