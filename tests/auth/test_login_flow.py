"""The QR login over HTTP: desktop and phone as two browsers, WeChat as a fake server on a loopback port."""
import re

import pytest
from sqlalchemy import func, select

from app.auth.models import QRLogin, User, WeChatIdentity
from app.auth.qrlogin import hash_secret
from app.extensions import db
from tests.support.web import HX, csrf_token, token


def logged_in_as(client):
    """Whose nickname the header shows on /me (or on the agreements step it leads to), else None."""
    response = client.get("/me", follow_redirects=True)
    chip = re.search(r'<a class="user-chip"[^>]*>.*?<span>([^<]+)</span>', response.get_data(as_text=True), re.S)
    return chip.group(1) if chip else None


def test_scan_confirm_and_the_desktop_is_logged_in(desktop, phone):
    d, p = desktop("/products/anxin-million-medical"), phone()
    assert "请使用微信扫一扫登录" in d.html and 'src="data:image/svg+xml;base64,' in d.html
    _, status = d.poll()
    assert "等待扫码" in status and 'hx-trigger="every 2s"' in status

    response, page = p.authorize(d.token, user="li")
    assert response.status_code == 200
    assert "登录微保网页版" in page and "李晓红" in page
    assert "127.0.0.*" in page and "请确认是你本人在电脑上发起的登录" in page
    _, status = d.poll()
    assert "已扫码，请在手机上确认" in status and "李晓红" in status and 'hx-trigger="every 2s"' in status

    response, done = p.press(d.token, "confirm")
    assert response.status_code == 200 and "已确认登录，请回到电脑上继续操作" in done
    session_before = d.client.get_cookie("session")
    response, _ = d.poll()
    assert response.headers["HX-Redirect"] == "/products/anxin-million-medical"
    assert d.client.get_cookie("session").value != (session_before.value if session_before else None)
    assert logged_in_as(d.client) == "李晓红"
    assert logged_in_as(p.client) is None  # the phone approved; it did not log itself in


def test_the_token_is_spent_once_used(app, desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token)
    p.press(d.token, "confirm")
    d.poll()
    assert "该二维码已使用" in p.open(d.token).get_data(as_text=True)
    response, page = p.press(d.token, "confirm")  # the same button pressed again later
    assert response.status_code == 403 and "请重新扫码后再操作" in page
    assert logged_in_as(p.client) is None
    with app.app_context():
        row = db.session.scalar(select(QRLogin).where(QRLogin.public_id == d.public_id))
        assert row.status == "consumed"
        assert row.token_hash == hash_secret(d.token) and d.token not in (row.token_hash, row.nonce_hash)


def test_without_javascript_the_refresh_link_completes_the_login(desktop, phone):
    d, p = desktop("/products"), phone()
    response, page = d.poll(htmx=False)
    assert response.status_code == 200 and "我已扫码确认" in page and "<html" in page
    assert 'src="data:image/svg+xml;base64,' in page  # the same code is shown again, not a new one
    p.authorize(d.token)
    p.press(d.token, "confirm")
    response, _ = d.poll(htmx=False)
    assert response.status_code == 302 and response.headers["Location"] == "/products"
    assert logged_in_as(d.client) == "张小明"


def test_another_browser_can_neither_watch_nor_complete_the_login(app, desktop, phone):
    d, p = desktop(), phone()
    intruder = app.test_client()
    response = intruder.get(d.poll_url, headers=HX)
    assert "二维码已失效" in response.get_data(as_text=True) and "hx-trigger" not in response.get_data(as_text=True)
    p.authorize(d.token)
    p.press(d.token, "confirm")
    intruder.set_cookie(f"qrl_{d.public_id}", "guessed-nonce", path="/login")
    for headers in (HX, {}):
        response = intruder.get(d.poll_url, headers=headers)
        assert "张小明" not in response.get_data(as_text=True)
    assert logged_in_as(intruder) is None
    assert d.poll()[0].headers["HX-Redirect"] == "/"  # the right browser still gets in


def test_oauth_state_must_be_the_one_given_for_this_login(desktop, phone):
    d, p = desktop(), phone()
    p.open(d.token)
    response, page = p.callback("/auth/wechat/callback?code=anything&state=forged")
    assert response.status_code == 400 and "授权校验失败" in page
    assert "等待扫码" in d.poll()[1]


def test_refusing_authorization_logs_nobody_in(desktop, phone):
    d, p = desktop(), phone()
    response, page = p.authorize(d.token, action="deny")
    assert "你已拒绝授权" in page and "重新授权" in page
    assert "等待扫码" in d.poll()[1]


@pytest.mark.parametrize("endpoint, errcode, message", [
    ("access_token", 40029, "授权码无效"),
    ("access_token", 40163, "授权码已被使用"),
    ("access_token", 42003, "授权已过期"),
    ("access_token", -1, "暂时连不上微信"),
    ("access_token", 40013, "微信授权失败"),
    ("userinfo", 42001, "授权已过期"),
    ("userinfo", 48001, "微信授权失败"),
])
def test_each_wechat_error_shows_a_retry_page_and_logs_nobody_in(app, wechat, desktop, phone, endpoint,
                                                               errcode, message):
    d, p = desktop(), phone()
    wechat.state.fail_next[endpoint] = [errcode]
    response, page = p.authorize(d.token)
    assert response.status_code == 502 and message in page and "重新授权" in page
    assert "等待扫码" in d.poll()[1]
    with app.app_context():
        assert db.session.scalar(select(QRLogin.status).where(QRLogin.public_id == d.public_id)) == "pending"


def test_wechat_unreachable_is_a_friendly_page(app, desktop, phone, monkeypatch):
    d, p = desktop(), phone()
    response = p.open(d.token)
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    state = re.search(r"state=(\w+)", response.headers["Location"]).group(1)
    response, page = p.callback(f"/auth/wechat/callback?code=abc&state={state}")
    assert response.status_code == 502 and "暂时连不上微信" in page


def test_a_snapshot_visit_creates_no_account(app, desktop, phone):
    with app.app_context():
        users_before = db.session.scalar(select(func.count(User.id)))
    d, p = desktop(), phone()
    _, page = p.authorize(d.token, user="snapshot")
    assert "快照页" in page and "使用完整服务" in page
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == users_before
    assert "等待扫码" in d.poll()[1]


def test_an_account_without_unionid_is_found_again_by_openid(app, desktop, phone):
    for _ in range(2):
        d, p = desktop(), phone()
        p.authorize(d.token, user="no-unionid")
        p.press(d.token, "confirm")
        d.poll()
        assert logged_in_as(d.client) == "赵六（未关注公众号）"
    with app.app_context():
        identities = db.session.scalars(select(WeChatIdentity).join(User).where(
            User.nickname == "赵六（未关注公众号）")).all()
        assert len(identities) == 1 and identities[0].unionid is None


def test_a_banned_account_gets_a_message_and_no_session(app, desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token, user="wang")
    p.press(d.token, "confirm")
    d.poll()
    with app.app_context():
        db.session.execute(User.__table__.update().where(User.nickname == "王大伟").values(status="banned"))
        db.session.commit()
    assert logged_in_as(d.client) is None  # the existing session ends too
    d2, p2 = desktop(), phone()
    p2.authorize(d2.token, user="wang")
    response, page = p2.press(d2.token, "confirm")
    assert response.status_code == 409 and "该微信账号已被限制使用" in page
    _, status = d2.poll()
    assert "该微信账号已被限制登录" in status and "hx-trigger" not in status
    assert logged_in_as(d2.client) is None
    with app.app_context():
        db.session.execute(User.__table__.update().where(User.nickname == "王大伟").values(status="active"))
        db.session.commit()


def test_cancel_on_the_phone_ends_the_login_on_the_desktop(desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token)
    response, page = p.press(d.token, "cancel")
    assert "已取消本次登录" in page
    _, status = d.poll()
    assert "已取消登录" in status and "重新扫码" in status and "hx-trigger" not in status
    response, page = p.press(d.token, "confirm")
    assert response.status_code in (403, 409) and logged_in_as(d.client) is None


def test_the_code_expires_after_two_minutes(desktop, phone, clock):
    d, p = desktop(), phone()
    p.authorize(d.token)
    clock.advance(seconds=119)
    assert "已扫码" in d.poll()[1]
    clock.advance(seconds=2)
    _, status = d.poll()
    assert "二维码已过期" in status and "刷新二维码" in status and "hx-trigger" not in status
    response, page = p.press(d.token, "confirm")
    assert response.status_code in (403, 409)
    assert "二维码已过期" in p.open(d.token).get_data(as_text=True)
    assert logged_in_as(d.client) is None


def test_a_second_phone_cannot_take_over_a_scanned_code(desktop, phone):
    d, first, second = desktop(), phone(), phone()
    first.authorize(d.token, user="zhang")
    _, page = second.authorize(d.token, user="li")
    assert "该二维码已被其他微信扫描" in page
    second.csrf = csrf_token(second.client)  # a valid form token from any page: still not the scanner
    response, page = second.press(d.token, "confirm")
    assert response.status_code == 403 and "请重新扫码后再操作" in page
    first.press(d.token, "confirm")
    d.poll()
    assert logged_in_as(d.client) == "张小明"


def test_profile_is_synced_on_every_login(app, desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token, user="new", nickname="小新")
    p.press(d.token, "confirm")
    d.poll()
    with app.app_context():
        db.session.execute(User.__table__.update().where(User.nickname == "小新").values(nickname="旧昵称", city=""))
        db.session.commit()
    d, p = desktop(), phone()
    p.authorize(d.token, user="new", nickname="小新")
    p.press(d.token, "confirm")
    d.poll()
    assert logged_in_as(d.client) == "小新"
    assert "小新" in d.client.get("/", follow_redirects=True).get_data(as_text=True)  # shown in the header


def test_logout_ends_the_session_and_every_copy_of_it(app, desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token)
    p.press(d.token, "confirm")
    d.poll()
    stolen = d.client.get_cookie("session").value
    page = d.client.get("/me", follow_redirects=True).get_data(as_text=True)
    assert d.client.post("/logout", data={"csrf_token": token(page)}).status_code == 302
    assert logged_in_as(d.client) is None
    copy = app.test_client()
    copy.set_cookie("session", stolen)
    assert logged_in_as(copy) is None


def test_logout_needs_the_csrf_token(desktop, phone):
    d, p = desktop(), phone()
    p.authorize(d.token)
    p.press(d.token, "confirm")
    d.poll()
    assert d.client.post("/logout").status_code == 400
    assert logged_in_as(d.client) == "张小明"


def test_pages_that_need_login_send_you_there_and_back(client):
    response = client.get("/me")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/me"
    response = client.get("/me", headers=HX)
    assert response.headers["HX-Redirect"] == "/login?next=/me"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "/logout", "/login?next=/me"])
def test_next_only_allows_our_own_paths(app, desktop, target):
    d = desktop(target)
    with app.app_context():
        assert db.session.scalar(select(QRLogin.next_url).where(QRLogin.public_id == d.public_id)) == "/"


def test_creating_codes_and_polling_are_rate_limited(app, desktop, monkeypatch):
    d = desktop()
    monkeypatch.setitem(app.config, "RATELIMIT_QR_POLL", "2 per minute")
    statuses = [d.poll()[0].status_code for _ in range(3)]
    response, body = d.poll()
    assert statuses == [200, 200, 429] and "操作太频繁" in body and "<html" not in body
    monkeypatch.setitem(app.config, "RATELIMIT_QR_CREATE", "1 per minute")
    client = app.test_client()
    client.get("/login")
    response = client.get("/login")
    assert response.status_code == 429 and "操作太频繁" in response.get_data(as_text=True)
