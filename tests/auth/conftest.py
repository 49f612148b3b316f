"""A fake WeChat on a loopback port (the simulator's blueprint in a server of its own), and the steps
of a login as a desktop browser and a phone perform them over HTTP."""
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
from tests.conftest import CLOCK, HX


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
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        if csrf:
            self.csrf = csrf.group(1)  # kept, as the page stays open on the phone
        return response, html

    def press(self, token, button):
        response = self.client.post(f"{self.pages}/{token}/{button}", data={"csrf_token": self.csrf})
        return response, response.get_data(as_text=True)


@pytest.fixture()
def desktop(app, wechat):
    return lambda next_path=None: Desktop(app, next_path)


@pytest.fixture()
def phone(app, wechat):
    return lambda: Phone(app)
