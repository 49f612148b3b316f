"""Browser-test helpers: the site with the WeChat simulator, a phone context, reading a QR code off the
screen, the acceptance step."""
import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.vouchers.conftest import make_offer, staff_of  # noqa: F401  (fixtures of the voucher flows)


@pytest.fixture()
def site(app, live_server, monkeypatch):
    """The simulator calls back into the live server, and the QR code carries its address."""
    monkeypatch.setitem(app.config, "SITE_URL", live_server)
    monkeypatch.setitem(app.config, "WECHAT_APPID", "")
    return live_server


@pytest.fixture()
def phone_page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    yield context.new_page()
    context.close()


def accept_agreements(page, birth_date="1990-05-01"):
    """The acceptance step a first login meets: tick each agreement, give a birth date, continue."""
    expect(page.get_by_role("heading", name="请阅读并同意以下协议")).to_be_visible()
    expect(page.get_by_role("checkbox").first).to_be_visible()
    for box in page.get_by_role("checkbox").all():
        box.check()
    birth = page.get_by_label("你的出生日期")
    if birth.count():  # asked only while the birth date is unknown
        birth.fill(birth_date)
    page.get_by_role("button", name="同意并继续").click()
    expect(page.get_by_role("heading", name="请阅读并同意以下协议")).to_have_count(0)


def as_new_wechat_user(phone_page, nickname):
    """In the simulator, a WeChat user no other test has used."""
    phone_page.get_by_text("新建模拟用户，昵称：").click()
    phone_page.get_by_label("新建模拟用户的昵称").fill(nickname)


def read_qr(page):
    """Decode the QR image as rendered on screen, as a phone camera would."""
    png = page.locator(".qr-image").screenshot()
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(codes) == 1
    return codes[0].text


@pytest.fixture()
def signed_in(browser, member, site):
    """A browser already signed in as a new user (their session cookie, from the test client)."""
    contexts = []

    def make(java_script_enabled=True, **user):
        m = member(**user)
        m.client.get("/healthz")
        cookie = m.client.get_cookie("session")
        context = browser.new_context(java_script_enabled=java_script_enabled, locale="zh-CN")
        context.add_cookies([{"name": "session", "value": cookie.value, "url": site}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
