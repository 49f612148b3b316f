"""后台账号 as a 管理员 manages them: a new account with a one-time password shown once, roles, lock and unlock
(sessions end at once), a reset (the staff member sets a password and enrols TOTP again), and the last
administrator kept."""
import re

from sqlalchemy import select

from app.admin.models import AdminRecoveryCode, AdminStaff
from app.extensions import db
from tests.support.admin import Browser, last_audit


def _one_time(response):
    return re.search(r'data-testid="one-time-password">([^<]+)<', response.get_data(as_text=True)).group(1)


def test_a_new_account_gets_a_one_time_password_and_must_replace_it(app, clock, signed_in):
    admin, _ = signed_in("admin")
    response = admin.post("/admin/staff/new", {"username": "New.Person", "display_name": "新同事",
                                               "roles": ["support", "claims"]}, page="/admin/staff/new")
    assert response.status_code == 200
    password = _one_time(response)
    with app.app_context():
        staff = db.session.scalar(select(AdminStaff).where(AdminStaff.username == "new.person"))
        assert staff.roles == ["claims", "support"] and staff.must_change_password and not staff.enrolled
        assert password not in staff.password_hash
    assert password not in admin.client.get(f"/admin/staff/{staff.id}").get_data(as_text=True)  # shown once
    first = Browser(app, clock)
    response = first.password(type("S", (), {"username": "new.person", "password": password}))
    assert response.headers["Location"] == "/admin/login/password"


def test_a_new_account_form_says_what_is_wrong(app, signed_in):
    admin, _ = signed_in("admin")
    response = admin.post("/admin/staff/new", {"username": "x", "display_name": "", "roles": ["boss"]},
                          page="/admin/staff/new")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "用户名为3–40位小写字母" in body and "请填写姓名" in body
    admin.post("/admin/staff/new", {"username": "taken-name", "display_name": "甲", "roles": ["ops"]}, page="/admin/staff/new")
    response = admin.post("/admin/staff/new", {"username": "taken-name", "display_name": "乙", "roles": ["ops"]},
                          page="/admin/staff/new")
    assert response.status_code == 422 and "该用户名已被使用" in response.get_data(as_text=True)
    response = admin.post("/admin/staff/new", {"username": "no-roles", "display_name": "丙"}, page="/admin/staff/new")
    assert response.status_code == 422 and "请至少选择一个角色" in response.get_data(as_text=True)


def test_roles_change_what_the_staff_member_may_open_at_once(app, clock, signed_in, make_staff):
    admin, _ = signed_in("admin")
    staff = make_staff("ops")
    them = Browser(app, clock).sign_in(staff)
    assert them.client.get("/admin/users").status_code == 403
    page = f"/admin/staff/{staff.id}"
    response = admin.post(f"{page}/roles", {"roles": ["ops", "support"]}, page=page)
    assert response.status_code == 302 and "角色已更新" in admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert them.client.get("/admin/users").status_code == 200
    admin.post(f"{page}/roles", {"roles": []}, page=page)
    assert them.client.get("/admin/users").status_code == 403
    assert them.client.get("/admin/").status_code == 200  # no role: the home page only


def test_lock_ends_the_sessions_and_unlock_lets_the_staff_member_back(app, clock, signed_in, make_staff):
    admin, me = signed_in("admin")
    staff = make_staff("support")
    them = Browser(app, clock).sign_in(staff)
    page = f"/admin/staff/{staff.id}"
    response = admin.post(f"{page}/lock", {"lock-reason": ""}, page=page)
    assert response.status_code == 422 and "请填写原因" in response.get_data(as_text=True)
    assert admin.post(f"{page}/lock", {"lock-reason": "岗位调整"}, page=page).status_code == 302
    assert them.client.get("/admin/").status_code == 302
    clock.advance(seconds=30)
    response = Browser(app, clock).password(staff)
    assert "账号已被管理员锁定" in response.get_data(as_text=True)
    response = Browser(app, clock).password(staff, "a wrong password")  # not said to a guesser
    assert "用户名或密码错误" in response.get_data(as_text=True) and "锁定" not in response.get_data(as_text=True)
    assert "已锁定" in admin.client.get(page).get_data(as_text=True)
    assert admin.post(f"{page}/unlock", {"lock-reason": "恢复上岗"}, page=page).status_code == 302
    Browser(app, clock).sign_in(staff)
    response = admin.post(f"/admin/staff/{me.id}/lock", {"lock-reason": "试试锁自己"}, page=page)
    assert response.status_code == 409 and "不能锁定自己的账号" in response.get_data(as_text=True)


def test_unlock_lifts_a_lockout_after_failures(app, clock, signed_in, make_staff):
    admin, _ = signed_in("admin")
    staff = make_staff("support")
    for _ in range(5):
        Browser(app, clock).password(staff, "wrong wrong")
    page = f"/admin/staff/{staff.id}"
    assert "输错锁定中" in admin.client.get(page).get_data(as_text=True)
    assert admin.post(f"{page}/unlock", {"lock-reason": "本人来电确认"}, page=page).status_code == 302
    Browser(app, clock).sign_in(staff)


def test_a_reset_means_a_new_password_and_a_new_authenticator(app, clock, signed_in, make_staff):
    admin, me = signed_in("admin")
    staff = make_staff("support")
    them = Browser(app, clock).sign_in(staff)
    clock.advance(seconds=30)
    them.post("/admin/account/recovery-codes", {"code": __import__("pyotp").TOTP(staff.secret).at(clock.now)},
              page="/admin/account")
    page = f"/admin/staff/{staff.id}"
    response = admin.post(f"{page}/reset", {"reset-reason": "手机丢失"}, page=page)
    password = _one_time(response)
    assert them.client.get("/admin/").status_code == 302  # signed out everywhere
    with app.app_context():
        row = db.session.get(AdminStaff, staff.id)
        assert row.must_change_password and row.totp_secret is None
        assert not db.session.scalars(select(AdminRecoveryCode).where(AdminRecoveryCode.staff_id == staff.id)).all()
    assert Browser(app, clock).password(staff).status_code == 422  # the old password is gone
    fresh = Browser(app, clock)
    assert fresh.password(type("S", (), {"username": staff.username, "password": password})).headers["Location"] == \
        "/admin/login/password"
    fresh.post("/admin/login/password", {"password": "after the reset", "confirm": "after the reset"},
               page="/admin/login/password")
    assert "绑定身份验证器" in fresh.client.get("/admin/login/enrol").get_data(as_text=True)
    assert last_audit(app, action="staff.password_reset", object_id=str(staff.id)).reason == "手机丢失"
    response = admin.post(f"/admin/staff/{me.id}/reset", {"reset-reason": "重置自己"}, page=page)
    assert response.status_code == 409 and "不能重置自己的密码" in response.get_data(as_text=True)


def test_the_last_administrator_stays_one(app, clock, make_staff):
    """Taking the 管理员 role from, or locking, the only unlocked administrator is refused."""
    with app.app_context():
        others = db.session.scalars(select(AdminStaff).where(AdminStaff.disabled_at.is_(None))).all()
        admins = [s for s in others if "admin" in s.roles]
        from app.core.clock import db_now
        for staff in admins:  # this test's administrator is alone
            staff.disabled_at = db_now()
        db.session.commit()
        locked = [s.id for s in admins]
    try:
        only = make_staff("admin")
        b = Browser(app, clock).sign_in(only)
        page = f"/admin/staff/{only.id}"
        response = b.post(f"{page}/roles", {"roles": ["support"]}, page=page)
        assert response.status_code == 422 and "这是最后一位管理员" in response.get_data(as_text=True)
        with app.app_context():
            assert db.session.get(AdminStaff, only.id).roles == ["admin"]
    finally:
        with app.app_context():
            for staff_id in locked:
                db.session.get(AdminStaff, staff_id).disabled_at = None
            db.session.commit()


def test_the_staff_pages_list_accounts_without_secrets(app, signed_in, make_staff):
    admin, _ = signed_in("admin")
    staff = make_staff("ops", name="列表里的人")
    page = admin.client.get("/admin/staff").get_data(as_text=True)
    assert staff.username in page and "列表里的人" in page and "运营" in page
    detail = admin.client.get(f"/admin/staff/{staff.id}").get_data(as_text=True)
    assert staff.secret not in detail and "$argon2" not in detail
