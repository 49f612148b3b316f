"""Personal-data exports (合规): a user's data as the very file their own privacy centre gives them, downloaded by
a POST with a reason and CSRF, never cached, recorded in the audit log without the data; refused without a
reason (said on the field) and to every role without 导出用户个人信息."""
import json

import pytest
from sqlalchemy import select

from app.account import services as account_services
from app.admin.models import AuditEvent
from app.admin.roles import ROLES, permissions_of
from app.auth.models import User
from app.extensions import db
from tests.support.admin import audit_rows
from tests.support.web import token

REASON = "用户来电申请导出个人信息，工单 CS-2041"


@pytest.fixture()
def customer(app, member, business):
    """A user with a real name, an ID number, a mobile, and an application, order, policy and voucher."""
    m = member(nickname="导出测试")
    held = business(m.id, mobile="13712345678", name="周导出")
    with app.app_context():
        user = db.session.get(User, m.id)
        user.real_name, user.id_number = "周导出", held.id_number
        account_services.save_contact(user, mobile="13712345678", email="zhou@example.com", province="", city="",
                                      district="", detail="")
        db.session.commit()
    m.id_number = held.id_number
    return m


def _export(browser, user_id, reason=REASON, page=None):
    return browser.post(f"/admin/users/{user_id}/export", {"export-reason": reason},
                        page=page or f"/admin/users/{user_id}/export")


def test_compliance_downloads_the_users_own_export_recorded_without_the_data(app, customer, signed_in):
    compliance, staff = signed_in("compliance")
    page = compliance.client.get(f"/admin/users/{customer.id}/export")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "导出个人信息" in body and 'name="export-reason"' in body
    assert "13712345678" not in body and customer.id_number not in body  # the page itself shows nothing personal

    response = _export(compliance, customer.id)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="wesure-user-{customer.id}-data.json"'
    assert "no-store" in response.headers["Cache-Control"]
    own = customer.client.get("/me/data.json")
    assert own.status_code == 200
    assert response.get_data() == own.get_data()  # the privacy centre's file, byte for byte
    exported = json.loads(response.get_data(as_text=True))
    assert exported["profile"]["id_number"] == customer.id_number and exported["contact"]["mobile"] == "13712345678"
    assert len(exported["orders"]) == len(exported["policies"]) == len(exported["vouchers"]) == 1

    event = audit_rows(app, action="pii.exported")[-1]
    assert (event.staff_id, event.object_type, event.object_id, event.reason) == (staff.id, "user", str(customer.id),
                                                                                  REASON)
    assert "compliance" in event.roles and event.ip
    recorded = event.before + event.after + event.reason
    assert all(value not in recorded for value in ("13712345678", customer.id_number, "周导出", "zhou@example.com"))
    log = compliance.client.get(f"/admin/audit?action=pii.exported&object_id={customer.id}").get_data(as_text=True)
    assert "导出用户个人信息" in log and REASON in log


def test_an_export_without_a_reason_is_refused_on_the_field_and_not_recorded(app, customer, signed_in):
    compliance, _ = signed_in("compliance")
    before = len(audit_rows(app, action="pii.exported"))
    for reason in ("", "   ", "看看"):
        response = _export(compliance, customer.id, reason=reason)
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and response.mimetype == "text/html"
        assert "Content-Disposition" not in response.headers and customer.id_number not in body
        message = "请填写导出原因" if not reason else "原因为4–200个字"
        assert f'<p class="field-error" id="export-reason-error">{message}</p>' in body
        assert 'id="export-reason"' in body and 'aria-invalid="true"' in body
    assert len(audit_rows(app, action="pii.exported")) == before


def test_support_with_compliance_exports_from_the_users_page(app, customer, signed_in):
    both, staff = signed_in("support", "compliance")
    page = both.client.get(f"/admin/users/{customer.id}").get_data(as_text=True)
    assert f'action="/admin/users/{customer.id}/export"' in page and "导出个人信息（JSON）" in page
    response = _export(both, customer.id, page=f"/admin/users/{customer.id}")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment;")
    assert audit_rows(app, action="pii.exported", staff_id=staff.id)[-1].object_id == str(customer.id)


@pytest.mark.parametrize("role", [*(code for code in ROLES if "pii.export" not in permissions_of([code])), "none"])
def test_every_role_without_the_permission_gets_403_and_nothing_recorded(app, role, customer, signed_in):
    browser, _ = signed_in(*([] if role == "none" else [role]))
    with app.app_context():
        before = db.session.scalar(select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "pii.exported"))
    csrf = token(browser.client.get("/admin/").get_data(as_text=True))
    response = browser.client.post(f"/admin/users/{customer.id}/export", data={"csrf_token": csrf, "export-reason": REASON})
    body = response.get_data(as_text=True)
    assert response.status_code == 403 and "无权访问" in body and "需要：导出用户个人信息" in body
    assert customer.id_number not in body and "Content-Disposition" not in response.headers
    assert browser.client.get(f"/admin/users/{customer.id}/export").status_code == 403
    if role == "support":  # the user's page shows no export to whoever may not make one
        assert "导出个人信息" not in browser.client.get(f"/admin/users/{customer.id}").get_data(as_text=True)
    with app.app_context():
        after = db.session.scalar(select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "pii.exported"))
    assert after == before


def test_an_export_needs_the_csrf_token_and_a_post(app, customer, signed_in):
    compliance, _ = signed_in("compliance")
    before = len(audit_rows(app, action="pii.exported"))
    response = compliance.client.post(f"/admin/users/{customer.id}/export", data={"export-reason": REASON})
    assert response.status_code == 400 and "Content-Disposition" not in response.headers
    assert compliance.client.get(f"/admin/users/{customer.id}/export?export-reason=x").mimetype == "text/html"
    assert len(audit_rows(app, action="pii.exported")) == before


def test_compliance_alone_may_export_but_not_look_users_up(app, customer, signed_in):
    compliance, _ = signed_in("compliance")
    assert compliance.client.get(f"/admin/users/{customer.id}").status_code == 403
    assert compliance.client.get(f"/admin/users/{customer.id + 10**6}/export").status_code == 404
