"""Browser-test fixtures: the site with the WeChat simulator, a phone context, a browser already signed in.
The steps several browser tests take (the acceptance step, reading a QR code off the screen…) are in
tests/support/browser.py."""
import pytest


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
