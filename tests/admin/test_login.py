"""Signing in to the back office: the first login (own password, TOTP enrolment, recovery codes shown once), a
code login with pyotp at the injected clock's time, a code used once, recovery codes used once, the lockout
after five failures of either factor, rate limits, the idle timeout, logout ending every session, and
`flask admin create-user`."""
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.admin import auth as staff_auth
from app.admin.demo import ACCOUNTS
from app.admin.demo import PASSWORD as DEMO_PASSWORD
from app.admin.models import AdminRecoveryCode, AdminStaff
from app.extensions import db
from tests.support.admin import PASSWORD, Browser, audit_rows, code_at, last_audit
from tests.support.web import field


def test_first_login_sets_a_password_enrols_totp_and_shows_ten_recovery_codes(app, clock, make_staff):
    staff = make_staff("admin", enrolled=False, must_change=True)
    b = Browser(app, clock)
    response = b.password(staff)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login/password"
    assert b.client.get("/admin/").status_code == 302  # half way is not signed in
    response = b.post("/admin/login/password", {"password": "short", "confirm": "short"}, page="/admin/login/password")
    assert response.status_code == 422 and "密码长度为10–200个字符" in response.get_data(as_text=True)
    response = b.post("/admin/login/password", {"password": staff.username + "-long-enough", "confirm": "x"},
                      page="/admin/login/password")
    assert "密码不能包含用户名" in response.get_data(as_text=True) and "两次输入的密码不一致" in response.get_data(as_text=True)
    response = b.post("/admin/login/password", {"password": "a brand new secret", "confirm": "a brand new secret"},
                      page="/admin/login/password")
    assert response.headers["Location"] == "/admin/login/enrol"
    assert last_audit(app, action="staff.password_changed").staff_id == staff.id

    page = b.client.get("/admin/login/enrol").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code of the otpauth URI, drawn on the server
    sealed = field(page, "sealed")
    assert secret not in sealed  # the form carries it encrypted
    with app.app_context():
        assert staff_auth.provisioning_uri(db.session.get(AdminStaff, staff.id), secret).startswith(
            "otpauth://totp/%E5%BE%AE%E4%BF%9D%E8%BF%90%E8%90%A5%E5%90%8E%E5%8F%B0:" + staff.username)
    wrong = "123456" if code_at(secret, clock) != "123456" else "654321"
    response = b.post("/admin/login/enrol", {"code": wrong, "sealed": sealed}, page="/admin/login/enrol")
    assert response.status_code == 422 and "验证码错误" in response.get_data(as_text=True)
    response = b.post("/admin/login/enrol", {"code": code_at(secret, clock), "sealed": sealed}, page="/admin/login/enrol")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert b.client.get("/admin/").status_code == 200  # signed in now
    with app.app_context():
        row = db.session.get(AdminStaff, staff.id)
        assert row.totp_secret == secret and not row.must_change_password
        stored = db.session.scalars(select(AdminRecoveryCode.code_hash).where(AdminRecoveryCode.staff_id == staff.id)).all()
        assert len(stored) == 10 and not set(codes) & set(stored)  # hashed, never the codes
    assert "<code>" not in b.client.get("/admin/account").get_data(as_text=True)  # shown once, never again
    assert last_audit(app, action="staff.totp_enrolled").staff_id == staff.id
    assert last_audit(app, action="staff.login").staff_id == staff.id


def test_an_enrolment_form_cannot_carry_someone_elses_secret(app, clock, make_staff):
    one, other = make_staff("ops", enrolled=False), make_staff("ops", enrolled=False)
    a, b = Browser(app, clock), Browser(app, clock)
    a.password(one)
    b.password(other)
    sealed = field(a.client.get("/admin/login/enrol").get_data(as_text=True), "sealed")
    response = b.post("/admin/login/enrol", {"code": "123456", "sealed": sealed}, page="/admin/login/enrol")
    assert response.status_code == 422 and "页面已过期" in response.get_data(as_text=True)


def test_a_code_logs_in_once_and_a_replayed_code_is_refused(app, clock, make_staff):
    staff = make_staff("support")
    Browser(app, clock).sign_in(staff)
    again = Browser(app, clock)
    again.password(staff)
    response = again.verify(code_at(staff.secret, clock))  # the same 30 s: the same code
    assert response.status_code == 422 and "验证码错误" in response.get_data(as_text=True)
    clock.advance(seconds=30)
    assert again.verify(code_at(staff.secret, clock)).status_code == 302
    clock.advance(seconds=60)
    late = Browser(app, clock)
    late.password(staff)
    assert late.verify(code_at(staff.secret, clock, offset=-1)).status_code == 302  # a phone 30 s slow still works
    assert last_audit(app, action="staff.login", staff_id=staff.id) is not None


def test_recovery_codes_work_once_each(app, clock, make_staff):
    staff = make_staff("support")
    b = Browser(app, clock).sign_in(staff)
    clock.advance(seconds=30)
    response = b.post("/admin/account/recovery-codes", {"code": code_at(staff.secret, clock)}, page="/admin/account")
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.get_data(as_text=True))
    assert len(codes) == 10

    first = Browser(app, clock)
    first.password(staff)
    assert first.verify(codes[0].upper().replace("-", " ")).status_code == 302  # as typed: case and spaces
    event = last_audit(app, action="staff.recovery_code_used", staff_id=staff.id)
    assert '"left": 9' in event.after
    second = Browser(app, clock)
    second.password(staff)
    response = second.verify(codes[0])
    assert response.status_code == 422 and "验证码错误" in response.get_data(as_text=True)
    assert second.verify(codes[1]).status_code == 302

    clock.advance(seconds=30)
    b.post("/admin/account/recovery-codes", {"code": code_at(staff.secret, clock)}, page="/admin/account")
    third = Browser(app, clock)
    third.password(staff)
    assert third.verify(codes[2]).status_code == 422  # a new set voids the old one


def test_five_wrong_passwords_lock_the_account_for_15_minutes(app, clock, make_staff):
    staff = make_staff("ops")
    b = Browser(app, clock)
    for left in (4, 3, 2, 1):
        response = b.password(staff, "wrong password")
        assert response.status_code == 422 and f"再输错{left}次账号将被锁定15分钟" in response.get_data(as_text=True)
    response = b.password(staff, "wrong password")
    assert "账号已锁定15分钟" in response.get_data(as_text=True)
    assert "账号已锁定15分钟" in b.password(staff).get_data(as_text=True)  # even the right password
    assert last_audit(app, action="staff.locked_out", staff_id=staff.id) is not None
    assert len([e for e in _events(app, staff, "staff.login_failed")]) == 5
    clock.advance(minutes=16)
    b.sign_in(staff)


def test_wrong_codes_count_toward_the_lockout_too(app, clock, make_staff):
    staff = make_staff("ops")
    b = Browser(app, clock)
    b.password(staff)
    wrong = "000000" if code_at(staff.secret, clock) != "000000" else "111111"
    for _ in range(4):
        assert b.verify(wrong).status_code == 422
    assert "账号已锁定15分钟" in b.verify(wrong).get_data(as_text=True)
    assert b.client.get("/admin/login/verify").headers["Location"] == "/admin/login"  # the half-login is over
    assert "账号已锁定15分钟" in b.password(staff).get_data(as_text=True)


def test_an_unknown_username_is_refused_like_a_wrong_password_and_recorded(app, clock):
    b = Browser(app, clock)
    response = b.password(type("S", (), {"username": "no-such-staff", "password": "whatever 123"}))
    assert response.status_code == 422 and "用户名或密码错误" in response.get_data(as_text=True)
    event = last_audit(app, action="staff.login_failed")
    assert event.staff_id is None and event.staff_username == "" and "no-such-staff" not in event.after


def test_logins_and_codes_are_rate_limited(app, clock, make_staff, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ADMIN_LOGIN", "3 per minute")
    staff = make_staff("ops")
    b = Browser(app, clock)
    b.client.environ_base["REMOTE_ADDR"] = "10.20.30.40"
    answers = [b.password(staff, "guess guess").status_code for _ in range(4)]
    assert answers == [422, 422, 422, 429]


def test_an_idle_session_ends_after_30_minutes(app, clock, make_staff):
    staff = make_staff("support")
    b = Browser(app, clock).sign_in(staff)
    clock.advance(minutes=25)
    assert b.client.get("/admin/users").status_code == 200  # activity renews the session
    clock.advance(minutes=25)
    assert b.client.get("/admin/users").status_code == 200
    clock.advance(minutes=31)
    response = b.client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login?next=/admin/users&idle=1"
    assert "由于长时间未操作" in b.client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_idle_timeout_is_a_setting(app, clock, make_staff, monkeypatch):
    monkeypatch.setitem(app.config, "ADMIN_IDLE_MINUTES", 5)
    b = Browser(app, clock).sign_in(make_staff("support"))
    clock.advance(minutes=6)
    assert b.client.get("/admin/").status_code == 302


def test_a_session_ends_12_hours_after_its_login_however_active(app, clock, make_staff):
    b = Browser(app, clock).sign_in(make_staff("support"))
    started, answers = clock.now, []
    for _ in range(26):  # a request every 29 minutes: never idle
        clock.advance(minutes=29)
        answers.append((clock.now - started, b.client.get("/admin/").status_code))
    assert all(status == 200 for since, status in answers if since <= timedelta(hours=12))
    assert all(status == 302 for since, status in answers if since > timedelta(hours=12))


def test_logout_ends_every_session_of_the_account(app, clock, make_staff):
    staff = make_staff("support")
    desk = Browser(app, clock).sign_in(staff)
    clock.advance(seconds=30)
    laptop = Browser(app, clock).sign_in(staff)
    stolen = laptop.client.get_cookie("admin_session", path="/admin").value
    assert desk.client.get("/admin/").status_code == 200 and laptop.client.get("/admin/").status_code == 200
    response = desk.post("/admin/logout", page="/admin/")
    assert response.headers["Location"] == "/admin/login"
    assert desk.client.get("/admin/").status_code == 302
    assert laptop.client.get("/admin/").status_code == 302  # the other browser too
    replay = app.test_client()
    replay.set_cookie("admin_session", stolen, path="/admin")
    assert replay.get("/admin/").status_code == 302  # and a copied cookie
    assert last_audit(app, action="staff.logout", staff_id=staff.id) is not None


def test_changing_ones_password_ends_the_other_sessions(app, clock, make_staff):
    staff = make_staff("support")
    here = Browser(app, clock).sign_in(staff)
    clock.advance(seconds=30)
    there = Browser(app, clock).sign_in(staff)
    response = here.post("/admin/account/password", {"current": "wrong", "password": "another long one",
                                                      "confirm": "another long one"}, page="/admin/account")
    assert response.status_code == 422 and "当前密码不正确" in response.get_data(as_text=True)
    response = here.post("/admin/account/password", {"current": PASSWORD, "password": "another long one",
                                                      "confirm": "another long one"}, page="/admin/account")
    assert response.status_code == 200 and "其他设备上的登录已全部退出" in response.get_data(as_text=True)
    assert here.client.get("/admin/").status_code == 200
    assert there.client.get("/admin/").status_code == 302


def test_a_forged_or_foreign_cookie_is_nobody(app, clock, make_staff):
    b = Browser(app, clock).sign_in(make_staff("admin"))
    value = b.client.get_cookie("admin_session", path="/admin").value
    forged = app.test_client()
    forged.set_cookie("admin_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/admin")
    assert forged.get("/admin/").status_code == 302
    partner = app.test_client()  # the partner portal's cookie is signed for another purpose
    partner.set_cookie("partner_session", value, path="/partner")
    assert partner.get("/partner/redeem").status_code == 302


def test_the_admin_cookie_is_scoped_strict_and_http_only(app, clock, make_staff):
    b = Browser(app, clock)
    response = b.password(make_staff("admin"))
    cookie = response.headers["Set-Cookie"]
    assert "Path=/admin" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


@pytest.mark.parametrize("username, role", [(a[0], a[2]) for a in ACCOUNTS])
def test_the_demo_accounts_sign_in_with_their_readme_secrets(app, clock, username, role):
    clock.advance(seconds=30 * (1 + [a[0] for a in ACCOUNTS].index(username)))
    secret = dict((a[0], a[3]) for a in ACCOUNTS)[username]
    b = Browser(app, clock)
    b.password(type("S", (), {"username": username, "password": DEMO_PASSWORD}))
    assert b.verify(pyotp.TOTP(secret).at(clock.now)).status_code == 302
    with app.app_context():
        staff = db.session.scalar(select(AdminStaff).where(AdminStaff.username == username))
        assert staff.roles == [role] and staff.is_demo


def test_demo_accounts_are_refused_and_never_seeded_in_production(app, clock, monkeypatch):
    from app.admin.demo import seed_demo_staff
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    response = Browser(app, clock).password(type("S", (), {"username": "admin-demo", "password": DEMO_PASSWORD}))
    assert response.status_code == 422 and "用户名或密码错误" in response.get_data(as_text=True)
    with app.test_request_context():
        assert seed_demo_staff(None) is None


def test_flask_admin_create_user_makes_the_first_administrator(app, clock):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["admin", "create-user", "--username", "first-boss", "--name", "王总",
                                 "--role", "管理员", "--role", "客服"])
    assert result.exit_code == 0, result.output
    password = re.search(r"One-time password: (\S+)", result.output).group(1)
    with app.app_context():
        staff = db.session.scalar(select(AdminStaff).where(AdminStaff.username == "first-boss"))
        assert staff.roles == ["admin", "support"] and staff.must_change_password and not staff.enrolled
    event = last_audit(app, action="staff.created", object_id=str(staff.id))
    assert event.staff_username == "flask admin" and "管理员" in event.after and password not in event.after
    response = Browser(app, clock).password(type("S", (), {"username": "first-boss", "password": password}))
    assert response.headers["Location"] == "/admin/login/password"
    again = runner.invoke(args=["admin", "create-user", "--username", "first-boss", "--name", "x", "--role", "admin"])
    assert again.exit_code != 0 and "已被使用" in again.output
    unknown = runner.invoke(args=["admin", "create-user", "--username", "someone", "--name", "x", "--role", "老板"])
    assert unknown.exit_code != 0 and "Unknown role" in unknown.output


def test_flask_admin_create_user_can_ask_for_the_password(app, clock):
    result = app.test_cli_runner().invoke(
        args=["admin", "create-user", "--username", "asked-pw", "--name", "李四", "--role", "admin", "--ask-password"],
        input="typed password 1\ntyped password 1\n")
    assert result.exit_code == 0, result.output and "One-time password" not in result.output
    with app.app_context():
        staff = db.session.scalar(select(AdminStaff).where(AdminStaff.username == "asked-pw"))
        assert not staff.must_change_password
    response = Browser(app, clock).password(type("S", (), {"username": "asked-pw", "password": "typed password 1"}))
    assert response.headers["Location"] == "/admin/login/enrol"


def _events(app, staff, action):
    return audit_rows(app, action=action, staff_id=staff.id)
