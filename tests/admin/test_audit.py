"""The audit log: every action of the back office writes its row (who, their roles, what, on which object, the
fields before and after without personal data, when, the IP, the reason where one is asked); rows can be neither
changed nor deleted, by the ORM or by SQL (triggers on SQLite and PostgreSQL); the 管理员 filters it and
exports it as CSV."""
import csv
import io
import json
import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError

from app.account import services as account_services
from app.admin.audit import ACTIONS
from app.admin.models import AuditEvent, ImmutableAuditLog
from app.auth.models import User
from app.extensions import db
from tests.support.admin import Browser, audit_rows, code_at
from tests.support.web import field, token


@pytest.fixture()
def customer(app, member):
    m = member(nickname="审计测试用户")
    with app.app_context():
        user = db.session.get(User, m.id)
        user.real_name, user.id_number = "赵审计", "110101198801011234"
        account_services.save_contact(user, mobile="13800007777", email="", province="", city="", district="", detail="")
        db.session.commit()
    return m


def test_every_action_writes_its_row(app, clock, make_staff, customer):
    """One pass through everything the back office's own pages do (accounts, lookups, the log); afterwards each of
    their actions has its row, with the actor's roles, the object, the IP, and no personal data anywhere in it.
    (Each capability's screens register their actions and their tests check those rows: rate tables, products,
    agreements, partners, exports, claims.)"""
    start = db_max_id(app)
    admin = make_staff("admin", "support", name="审计管理员")
    b = Browser(app, clock)
    b.client.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    b.password(admin, "not the password")  # staff.login_failed
    b.sign_in(admin)  # staff.login

    # staff.created, staff.roles_changed, staff.locked, staff.unlocked, staff.password_reset
    response = b.post("/admin/staff/new", {"username": "audited-new", "display_name": "新来的", "roles": ["ops"]},
                      page="/admin/staff/new")
    assert response.status_code == 200
    new_id = int(re.search(r"/admin/staff/(\d+)", response.get_data(as_text=True)).group(1))
    page = f"/admin/staff/{new_id}"
    assert b.post(f"/admin/staff/{new_id}/roles", {"roles": ["ops", "merchant"], "reason": "兼管商户"}, page=page).status_code == 302
    assert b.post(f"/admin/staff/{new_id}/lock", {"lock-reason": "离职交接中"}, page=page).status_code == 302
    assert b.post(f"/admin/staff/{new_id}/unlock", {"lock-reason": "交接完成"}, page=page).status_code == 302
    response = b.post(f"/admin/staff/{new_id}/reset", {"reset-reason": "忘记密码"}, page=page)
    one_time = re.search(r'data-testid="one-time-password">([^<]+)<', response.get_data(as_text=True)).group(1)

    # user.search, user.viewed, pii.revealed, audit.exported
    assert b.client.get("/admin/users?last4=7777&name=赵审计").status_code == 200
    assert b.client.get(f"/admin/users/{customer.id}").status_code == 200
    response = b.post(f"/admin/users/{customer.id}/reveal", {"field": "id_number", "reason": "核对投保人身份"},
                      page=f"/admin/users/{customer.id}")
    assert "110101198801011234" in response.get_data(as_text=True)
    assert b.client.get("/admin/audit.csv").status_code == 200

    # staff.password_changed, staff.recovery_codes_renewed, staff.logout
    assert b.post("/admin/account/password", {"current": admin.password, "password": "a changed password",
                                              "confirm": "a changed password"}, page="/admin/account").status_code == 200
    clock.advance(seconds=30)
    assert b.post("/admin/account/recovery-codes", {"code": code_at(admin.secret, clock)},
                  page="/admin/account").status_code == 200
    assert b.post("/admin/logout", page="/admin/").status_code == 302

    # staff.totp_enrolled (the reset account's first login), staff.recovery_code_used, staff.locked_out
    newcomer = Browser(app, clock)
    newcomer.password(type("S", (), {"username": "audited-new", "password": one_time}))
    newcomer.post("/admin/login/password", {"password": "newcomer password", "confirm": "newcomer password"},
                  page="/admin/login/password")
    enrol = newcomer.client.get("/admin/login/enrol").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', enrol).group(1).replace(" ", "")
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", newcomer.post(
        "/admin/login/enrol", {"code": code_at(secret, clock), "sealed": field(enrol, "sealed")},
        page="/admin/login/enrol").get_data(as_text=True))
    newcomer.post("/admin/logout", page="/admin/")
    again = Browser(app, clock)
    again.password(type("S", (), {"username": "audited-new", "password": "newcomer password"}))
    assert again.verify(codes[0]).status_code == 302
    victim = make_staff("ops")
    for _ in range(5):
        Browser(app, clock).password(victim, "wrong wrong")

    rows = [row for row in audit_rows(app) if row.id > start]
    seen = {row.action for row in rows}
    own = {action for action in ACTIONS if action.split(".")[0] in ("staff", "user", "audit") or action == "pii.revealed"}
    assert seen >= own, f"no row for {own - seen}"
    by_admin = [row for row in rows if row.staff_id == admin.id]
    assert by_admin and all(row.roles == "admin,support" and row.staff_username == admin.username for row in by_admin)
    assert all(row.ip == "198.51.100.23" for row in by_admin)
    for row in rows:
        stored = " ".join((row.before, row.after, row.reason))
        for secret_value in ("13800007777", "110101198801011234", "赵审计", admin.password, one_time, "newcomer password",
                             secret, *codes):
            assert secret_value not in stored, (row.action, secret_value)
        json.loads(row.before), json.loads(row.after)
    reveal = next(row for row in rows if row.action == "pii.revealed")
    assert (reveal.object_type, reveal.object_id, reveal.reason) == ("user", str(customer.id), "核对投保人身份")
    assert json.loads(reveal.after) == {"field": "id_number"}
    roles = next(row for row in rows if row.action == "staff.roles_changed")
    assert json.loads(roles.before) == {"roles": ["运营"]} and json.loads(roles.after) == {"roles": ["运营", "商户管理"]}
    assert roles.reason == "兼管商户" and roles.object_id == str(new_id)
    lock = next(row for row in rows if row.action == "staff.locked")
    assert lock.reason == "离职交接中" and json.loads(lock.after) == {"locked": True}


def db_max_id(app):
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))


def _a_row(app, signed_in):
    browser, staff = signed_in("admin")
    browser.post("/admin/logout", page="/admin/")
    with app.app_context():
        return db.session.scalar(select(AuditEvent.id).where(AuditEvent.staff_id == staff.id)
                                 .order_by(AuditEvent.id.desc()).limit(1))


def test_the_orm_refuses_to_change_or_delete_a_row(app, signed_in):
    row_id = _a_row(app, signed_in)
    with app.app_context():
        row = db.session.get(AuditEvent, row_id)
        row.reason = "改写"
        with pytest.raises(ImmutableAuditLog):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, row_id))
        with pytest.raises(ImmutableAuditLog):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET reason = 'rewritten' WHERE id = :id",
    "UPDATE audit_event SET staff_id = NULL WHERE id = :id",
    "DELETE FROM audit_event WHERE id = :id",
])
def test_the_database_refuses_to_change_or_delete_a_row(app, signed_in, statement):
    """The triggers, on whichever database this run uses (tests/run.sh runs SQLite, then PostgreSQL)."""
    row_id = _a_row(app, signed_in)
    with app.app_context():
        with pytest.raises((DatabaseError, IntegrityError)) as refused:
            with db.engine.begin() as connection:
                connection.execute(text(statement), {"id": row_id})
        assert "append-only" in str(refused.value)
        assert db.session.get(AuditEvent, row_id).reason != "rewritten"


def test_postgresql_refuses_truncate_too(app, signed_in):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("TRUNCATE is PostgreSQL's (SQLite has none)")
    _a_row(app, signed_in)
    with app.app_context():
        with pytest.raises(DatabaseError):
            with db.engine.begin() as connection:
                connection.execute(text("TRUNCATE audit_event CASCADE"))


def test_the_log_filters_by_staff_action_object_and_date(app, clock, signed_in):
    admin, me = signed_in("admin")
    other, them = signed_in("support")
    other.client.get("/admin/users?kind=nickname&q=某人")
    page = admin.client.get(f"/admin/audit?staff={them.id}").get_data(as_text=True)
    assert int(re.search(r'data-testid="event-count">(\d+)<', page).group(1)) == 2  # their login, their search
    page = admin.client.get(f"/admin/audit?staff={them.id}&action=user.search").get_data(as_text=True)
    assert int(re.search(r'data-testid="event-count">(\d+)<', page).group(1)) == 1 and "查询用户" in page
    page = admin.client.get(f"/admin/audit?object_type=admin_staff&object_id={them.id}&action=staff.login").get_data(as_text=True)
    assert int(re.search(r'data-testid="event-count">(\d+)<', page).group(1)) == 1
    page = admin.client.get(f"/admin/audit?staff={them.id}&from=2026-11-26").get_data(as_text=True)
    assert int(re.search(r'data-testid="event-count">(\d+)<', page).group(1)) == 0
    page = admin.client.get(f"/admin/audit?staff={them.id}&from=2026-11-25&to=2026-11-25").get_data(as_text=True)
    assert int(re.search(r'data-testid="event-count">(\d+)<', page).group(1)) == 2
    assert "127.0.0.*" in page and "127.0.0.1" not in page  # the IP masked where shown
    response = admin.client.get(f"/admin/audit?staff={them.id}&from=not-a-date", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and 'id="events"' in body and "年-月-日" in body


def test_csv_export_is_the_filtered_log_masked_and_itself_recorded(app, signed_in):
    admin, me = signed_in("admin")
    response = admin.client.get(f"/admin/audit.csv?staff={me.id}")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["时间", "操作人", "用户名", "角色", "操作"]
    assert len(rows) == 2 and rows[1][4] == "登录" and rows[1][3] == "管理员" and rows[1][-1] == "127.0.0.*"
    export = audit_rows(app, action="audit.exported", staff_id=me.id)[-1]
    assert json.loads(export.after) == {"filters": {"staff_id": me.id}, "rows": 1}


def test_compliance_reads_the_log_but_only_the_administrator_exports_it(app, signed_in):
    compliance, _ = signed_in("compliance")
    page = compliance.client.get("/admin/audit").get_data(as_text=True)
    assert "导出CSV" not in page
    assert compliance.client.get("/admin/audit.csv").status_code == 403


def test_a_reason_with_a_phone_number_in_it_is_redacted(app, signed_in, customer):
    browser, staff = signed_in("support")
    page = f"/admin/users/{customer.id}"
    browser.post(f"{page}/reveal", {"field": "mobile", "reason": "用户来电 13800007777 要求核对"}, page=page)
    row = audit_rows(app, action="pii.revealed", staff_id=staff.id)[-1]
    assert "13800007777" not in row.reason and "138********" in row.reason


def test_the_csrf_token_of_a_page_is_what_htmx_sends(app, signed_in):
    """The admin layout gives htmx the token (hx-headers), so swapped requests pass CSRF as forms do."""
    browser, _ = signed_in("support")
    page = browser.client.get("/admin/users").get_data(as_text=True)
    assert token(page)
