"""Logging in inside WeChat (the H5 channel): no QR code; WeChat's silent authorization for a returning
user, its consent page for a first visit or a stale profile; the fake WeChat on a loopback port."""
import re
from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import select

from app.auth.models import LoginEvent, User
from app.extensions import db
from tests.support.web import token

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.44(0x18002c2d) NetType/WIFI Language/zh_CN")
SAFARI_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.0 Mobile/15E148 Safari/604.1")


class WeChatPhone:
    """A phone: WeChat's built-in browser on our site (a test client with WeChat's user agent), and WeChat
    itself (the fake's pages, with this phone's cookies: who its WeChat user is)."""

    def __init__(self, app, nickname="微信里的用户", wechat=None):
        self.nickname = nickname
        self.client = app.test_client()
        self.client.environ_base["HTTP_USER_AGENT"] = WECHAT_UA
        self.wechat = wechat or requests.Session()  # the same phone's WeChat: who it is, remembered
        self.consent_pages = []

    def visit(self, path):
        """Open a page of ours and follow every redirect, through WeChat's pages too, answering WeChat's
        page (choosing who this phone's WeChat is, or consenting) when it shows one."""
        response = self.client.get(path)
        for _ in range(10):
            if response.status_code != 302:
                return response
            location = response.headers["Location"]
            if location.startswith("http") and "/dev/wechat/" in location:
                response = self._wechat(location)
            else:
                response = self.client.get(location)
        raise AssertionError("redirected too many times")

    def _wechat(self, authorize_url):
        url = authorize_url.split("#")[0]
        page = self.wechat.get(url, allow_redirects=False)
        if page.status_code == 200:  # WeChat shows a page: who this phone is, or the consent to userinfo
            query = parse_qs(urlsplit(url).query)
            self.consent_pages.append(query["scope"][0])
            page = self.wechat.post(url, allow_redirects=False, data={
                "user": "new", "nickname": self.nickname, "action": "allow", "scope": query["scope"][0],
                "redirect_uri": query["redirect_uri"][0], "state": query.get("state", [""])[0]})
        assert page.status_code == 302, page.text
        back = urlsplit(page.headers["Location"])
        return self.client.get(f"{back.path}?{back.query}")


def logged_in_as(client):
    html = client.get("/me").get_data(as_text=True)
    found = re.search(r'<span>([^<]+)</span>\s*</a>\s*<form action="/logout"', html)
    return found.group(1) if found else None


def test_a_wechat_browser_that_must_log_in_goes_into_wechat_authorization_not_to_a_qr(app, wechat):
    phone = WeChatPhone(app)
    response = phone.client.get("/buy/anxin-million-medical")
    assert response.headers["Location"] == "/login/wechat?next=/buy/anxin-million-medical"
    authorize = phone.client.get(response.headers["Location"]).headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(wechat.base + "/connect/oauth2/authorize?appid=")
    assert query["scope"] == ["snsapi_base"] and query["redirect_uri"][0].endswith("/auth/wechat/callback")
    assert len(query["state"][0]) == 32
    assert phone.client.get("/login").headers["Location"] == "/login/wechat?next=/"  # no QR inside WeChat


def test_a_first_visit_consents_once_then_a_returning_user_is_logged_in_silently(app, wechat, clock):
    phone = WeChatPhone(app, "首次来访的用户")
    page = phone.visit("/me")
    assert page.status_code == 200 and logged_in_as(phone.client) == "首次来访的用户"
    # silent first (who is this phone), then the consent page for the profile: a first visit
    assert phone.consent_pages == ["snsapi_base", "snsapi_userinfo"]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.nickname == "首次来访的用户"))
        event = db.session.scalar(select(LoginEvent).where(LoginEvent.user_id == user.id))
        assert (event.browser, event.os) == ("WeChat Browser 8", "iOS 17")  # the phone itself, in /me's logins

    again = WeChatPhone(app, "首次来访的用户", wechat=phone.wechat)  # a new visit from the same phone: its WeChat knows who it is
    page = again.visit("/me")
    assert page.status_code == 200 and logged_in_as(again.client) == "首次来访的用户"
    assert again.consent_pages == []  # no page at all: WeChat answered silently

    clock.advance(days=31)  # the profile is stale: WeChat's consent page again, to bring it up to date
    later = WeChatPhone(app, "首次来访的用户", wechat=phone.wechat)
    later.visit("/me")
    assert later.consent_pages == ["snsapi_userinfo"] and logged_in_as(later.client) == "首次来访的用户"


def test_the_state_must_be_the_one_this_browser_was_given(app, wechat):
    phone = WeChatPhone(app)
    phone.client.get("/login/wechat?next=/me")
    response = phone.client.get("/auth/wechat/callback?code=x&state=" + "0" * 32)
    assert response.status_code == 400 and "授权校验失败" in response.get_data(as_text=True)
    assert logged_in_as(phone.client) is None


def test_refusing_the_consent_page_says_so(app, wechat):
    phone = WeChatPhone(app)
    authorize = phone.client.get("/login/wechat?next=/me").headers["Location"]
    query = parse_qs(urlsplit(authorize.split("#")[0]).query)
    refused = phone.wechat.post(authorize.split("#")[0], allow_redirects=False, data={
        "action": "deny", "redirect_uri": query["redirect_uri"][0], "state": query["state"][0]})
    back = urlsplit(refused.headers["Location"])
    page = phone.client.get(f"{back.path}?{back.query}").get_data(as_text=True)
    assert "你已拒绝授权" in page and "/login/wechat?next=/me" in page


def test_a_banned_account_is_told_and_not_logged_in(app, wechat):
    phone = WeChatPhone(app, "被限制的用户")
    phone.visit("/me")
    set_status(app, "被限制的用户", "banned")
    again = WeChatPhone(app, "被限制的用户", wechat=phone.wechat)
    page = again.visit("/me")
    assert page.status_code == 403 and "该微信账号已被限制使用" in page.get_data(as_text=True)
    assert logged_in_as(again.client) is None
    set_status(app, "被限制的用户", "active")


def set_status(app, nickname, status):
    with app.app_context():
        for user in db.session.scalars(select(User).where(User.nickname == nickname)):
            user.status = status
        db.session.commit()


def test_logging_out_on_the_phone_ends_the_session(app, wechat):
    phone = WeChatPhone(app, "要退出的用户")
    phone.visit("/me")
    page = phone.client.get("/me").get_data(as_text=True)
    csrf = token(page)
    assert phone.client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert logged_in_as(phone.client) is None


def test_a_phone_browser_outside_wechat_is_told_to_open_the_page_in_wechat(app, client):
    client.environ_base["HTTP_USER_AGENT"] = SAFARI_UA
    page = client.get("/login?next=/me/policies").get_data(as_text=True)
    assert "在微信中打开" in page and 'class="qr-image"' in page  # and still a code for another device
    assert re.search(r'id="share-url" type="text" value="http://[^"]+/me/policies" readonly', page)
    desktop = app.test_client().get("/login").get_data(as_text=True)
    assert 'id="share-url"' not in desktop
