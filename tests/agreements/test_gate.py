"""The acceptance gate, the evidence it writes, declining, minors."""
from datetime import date

import pytest
from sqlalchemy import select, text

from app.agreements.models import Consent, ImmutableLedger
from app.extensions import db
from tests.support.agreements import accept, gate_form, rows, step_on
from tests.support.clock import NOW
from tests.support.concurrency import at_once, clone
from tests.support.web import HX
from tests.support.wechat import PHONE_UA


def test_a_new_user_is_sent_to_the_agreements_and_back(app, member):
    m = member()
    step = step_on(m.client, "/me")
    assert step == "/agreements/accept?next=/me"
    page = m.client.get(step).get_data(as_text=True)
    for title in ("微保服务协议", "微保隐私政策", "个人信息授权协议"):
        assert f"{title}</a>》" in page
    assert page.count("我已阅读并同意") == 3 and "同意并继续" in page and "不同意" in page
    response = accept(m.client, page)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    assert step_on(m.client, "/me") is None
    assert len(rows(app, m.id)) == 3


def test_each_acceptance_is_evidence(app, member):
    m = member(user_agent=PHONE_UA)
    page = m.client.get("/agreements/accept?next=/").get_data(as_text=True)
    accept(m.client, page)
    written = rows(app, m.id)
    assert {r.version.agreement.kind for r in written} == {"service", "privacy", "pi-authorization"}
    for row in written:
        assert row.action == "accept" and row.at == NOW.replace(tzinfo=None)
        assert row.ip == "127.0.0.1" and "MicroMessenger" in row.user_agent and row.channel == "phone"


def test_browsing_pages_need_no_acceptance(member):
    m = member()
    for path in ("/", "/products", "/products/anxin-million-medical", "/agreements/service"):
        response = m.client.get(path)
        assert response.status_code in (200, 302)
    assert m.client.get("/agreements/service").status_code == 200


def test_with_htmx_the_step_is_a_modal_over_the_page(member):
    m = member()
    response = m.client.get(step_on(m.client, "/me"), headers=HX)  # what the page's trigger loads
    assert response.headers["HX-Retarget"] == "#modal"
    response = m.client.get("/products?q=医疗", headers=HX)  # any htmx request meets it too
    html = response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#modal" and response.headers["HX-Reswap"] == "innerHTML"
    assert 'role="dialog"' in html and "<html" not in html and "同意并继续" in html
    response = accept(m.client, html, **HX)
    assert response.headers["HX-Redirect"] == "/products?q=%E5%8C%BB%E7%96%97"  # back to the same results


def test_every_box_must_be_ticked(app, member):
    m = member()
    page = m.client.get("/agreements/accept?next=/me").get_data(as_text=True)
    _, offered = gate_form(page)
    response = accept(m.client, page, versions=offered[:2])
    assert response.status_code == 422 and "请逐项勾选“我已阅读并同意”" in response.get_data(as_text=True)
    assert rows(app, m.id) == []


def test_a_tampered_or_outdated_version_is_refused(app, member):
    m = member()
    page = m.client.get("/agreements/accept?next=/me").get_data(as_text=True)
    _, offered = gate_form(page)
    response = accept(m.client, page, versions=offered[:2] + ["999999"])
    assert response.status_code == 422 and "协议版本已更新" in response.get_data(as_text=True)
    response = accept(m.client, page, versions=offered[:2] + ["abc"])
    assert response.status_code == 422
    assert rows(app, m.id) == []


def test_a_double_submit_writes_one_set_of_rows(app, member):
    m = member()
    page = m.client.get("/agreements/accept?next=/me").get_data(as_text=True)
    first, second = accept(m.client, page), accept(m.client, page)
    assert first.status_code == second.status_code == 302
    assert len(rows(app, m.id)) == 3


@pytest.mark.parametrize("birth_date, message", [
    ("", "请填写你的出生日期"), ("2030-01-01", "出生日期不能晚于今天"), ("1990-13-01", "请按 年-月-日 填写出生日期")])
def test_birth_date_is_asked_once_and_checked(app, member, birth_date, message):
    m = member()
    page = m.client.get("/agreements/accept?next=/me").get_data(as_text=True)
    response = accept(m.client, page, birth_date=birth_date)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert rows(app, m.id) == []


def test_a_minor_cannot_accept_alone(app, member):
    m = member()
    page = m.client.get("/agreements/accept?next=/me").get_data(as_text=True)
    response = accept(m.client, page, birth_date="2010-06-01")
    assert response.status_code == 200 and "请监护人扫码同意" in response.get_data(as_text=True)
    assert rows(app, m.id) == []
    seventeen = member(birth_date=date(2008, 11, 26))  # 18 tomorrow (Shanghai), so still a minor today
    page = seventeen.client.get("/agreements/accept?next=/me").get_data(as_text=True)
    assert "你的出生日期" not in page  # already known
    assert "请监护人扫码同意" in accept(seventeen.client, page, birth_date=None).get_data(as_text=True)
    adult = member(birth_date=date(2008, 11, 25))
    page = adult.client.get("/agreements/accept?next=/me").get_data(as_text=True)
    assert accept(adult.client, page, birth_date=None).status_code == 302


def test_declining_logs_out_and_browsing_stays_open(member):
    m = member()
    page = m.client.get("/agreements/accept?next=/me").get_data(as_text=True)
    fields, _ = gate_form(page)
    response = m.client.post("/agreements/decline", data={"csrf_token": fields["gate-csrf_token"]})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = m.client.get("/").get_data(as_text=True)
    assert "你未同意相关协议，已退出登录" in home and "你仍可以浏览保险产品" in home
    assert m.client.get("/me").headers["Location"].startswith("/login")


def test_the_next_address_cannot_leave_the_site(member):
    m = member()
    page = m.client.get("/agreements/accept?next=https://evil.example/").get_data(as_text=True)
    assert accept(m.client, page).headers["Location"] == "/"


def test_consent_rows_are_never_changed_or_deleted(app, member):
    m = member()
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True))
    with app.app_context():
        row = db.session.scalar(select(Consent).where(Consent.user_id == m.id))
        row.channel = "phone"
        with pytest.raises(ImmutableLedger):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("UPDATE consent SET channel = 'x' WHERE user_id = :u"), {"u": m.id})
        db.session.rollback()
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("DELETE FROM consent WHERE user_id = :u"), {"u": m.id})
        db.session.rollback()
    assert len(rows(app, m.id)) == 3


def test_the_same_form_sent_twice_at_once_writes_one_set_of_rows(app, member):
    m = member()
    page = m.client.get("/agreements/accept?next=/me").get_data(as_text=True)
    twin = clone(app, m.client, [("session", "/")])
    results = at_once(2, lambda i: accept((m.client, twin)[i], page))
    assert [r.status_code for r in results] == [302, 302]
    assert len(rows(app, m.id)) == 3
