"""Reading and publishing versions, the banner, re-acceptance, the consent ledger and withdrawal."""
import csv
import io
import json
import re

from flask import request
from flask_login import login_required

from app import create_app
from app.agreements.gate import consent_required
from tests.support.agreements import accept, rows, step_on
from tests.support.config import TEST_CONFIG
from tests.support.web import csrf_token, token


def test_reading_shows_the_version_in_force_with_its_dates(client):
    html = client.get("/agreements/service").get_data(as_text=True)
    assert "<h1>《微保服务协议》</h1>" in html
    assert "发布日期：2026-11-11" in html and "生效日期：2026-11-18" in html and "现行版本" in html
    assert "<strong>请你在使用服务前仔细阅读本协议的全部内容" in html  # bold clauses stay bold
    assert "未满 18 周岁" in html
    assert client.get("/agreements/nope").status_code == 404
    assert client.get("/agreements/service?version=9.9").status_code == 404


def publish(app, tmp_path, body, *args):
    source = tmp_path / "text.md"
    source.write_text(body, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["agreements", "publish", *args, str(source)])


def test_publish_refuses_bad_dates_and_duplicates(app, tmp_path):
    result = publish(app, tmp_path, "x", "--kind", "service", "--version", "bad", "--released", "2026-12-01",
                     "--effective", "2026-11-30")
    assert result.exit_code != 0 and "生效日期不能早于发布日期" in result.output
    result = publish(app, tmp_path, "x", "--kind", "service", "--version", "1.0", "--released", "2026-12-01",
                     "--effective", "2026-12-02")
    assert result.exit_code != 0 and "已有版本 1.0" in result.output
    result = publish(app, tmp_path, "x", "--kind", "service", "--version", "2", "--released", "2026-13-01",
                     "--effective", "2026-12-02")
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


def test_a_new_version_is_announced_then_must_be_accepted(app, client, member, tmp_path, clock):
    m = member()
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True))
    result = publish(app, tmp_path, "## 一、变更\n\n新的条款。<script>alert(1)</script> **加粗的免责条款**",
                     "--kind", "privacy", "--version", "2.0", "--released", "2026-11-20",
                     "--effective", "2027-03-01", "--summary", "新增第三方权益的信息共享说明")
    assert result.exit_code == 0, result.output

    home = client.get("/").get_data(as_text=True)
    assert "《微保隐私政策》已更新，将于 2027年3月1日 生效" in home
    assert 'href="/agreements/privacy?version=2.0"' in home
    upcoming = client.get("/agreements/privacy?version=2.0").get_data(as_text=True)
    assert "尚未生效" in upcoming and "&lt;script&gt;" in upcoming and "<script>alert" not in upcoming
    assert "<strong>加粗的免责条款</strong>" in upcoming and "新增第三方权益的信息共享说明" in upcoming
    assert step_on(m.client, "/me") is None  # not in force yet: nothing to accept

    clock.advance(days=96)  # 2027-03-01 in Shanghai
    assert "《微保隐私政策》已更新" not in client.get("/").get_data(as_text=True)  # (other tests may announce theirs)
    assert "版本 2.0" in client.get("/agreements/privacy").get_data(as_text=True)
    old = client.get("/agreements/privacy?version=1.0").get_data(as_text=True)
    assert "历史版本" in old
    step = step_on(m.client, "/me")
    assert step == "/agreements/accept?next=/me"
    page = m.client.get(step).get_data(as_text=True)
    assert page.count("我已阅读并同意") == 1 and "微保隐私政策" in page
    assert "你此前同意的是 1.0" in page and "更新内容：新增第三方权益的信息共享说明" in page
    assert accept(m.client, page, birth_date=None).status_code == 302
    assert step_on(m.client, "/me") is None
    assert [r.version.version for r in rows(app, m.id)][-1] == "2.0"


def test_the_ledger_lists_downloads_and_withdraws(app, member):
    m = member()
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True))
    page = m.client.get("/me/consents").get_data(as_text=True)
    assert page.count("<td>《") == 3 and "撤回授权" in page and "127.0.0.*" in page
    assert 'href="/agreements/service?version=1.0"' in page

    exported = m.client.get("/me/consents.csv")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="wesure-consents.csv"'
    table = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r["kind"] for r in table} == {"service", "privacy", "pi-authorization"}
    assert all(r["action"] == "accept" and r["at_shanghai"] == "2026-11-25 10:00:00" for r in table)
    data = json.loads(m.client.get("/me/consents.json").get_data(as_text=True))
    assert len(data["consents"]) == 3 and data["consents"][0]["ip"] == "127.0.0.*"

    csrf = token(page)
    response = m.client.post("/me/consents/pi-authorization/withdraw", data={"csrf_token": csrf})
    assert response.status_code == 302
    page = m.client.get("/me/consents").get_data(as_text=True)
    assert "已撤回《个人信息授权协议》" in page and page.index("撤回</td>") < page.index("同意</td>")
    assert len(rows(app, m.id)) == 4 and rows(app, m.id)[-1].action == "withdraw"
    assert m.client.post("/me/consents/service/withdraw", data={"csrf_token": csrf}).status_code == 302
    assert "该协议不能单独撤回" in m.client.get("/me/consents").get_data(as_text=True)

    gate = m.client.get(step_on(m.client, "/me")).get_data(as_text=True)  # the withdrawn one only
    assert gate.count("我已阅读并同意") == 1 and "个人信息授权协议" in gate


def gated_app(database_url, method, view):
    """An app with one action behind @consent_required, as purchase and vouchers will have."""
    gated = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    gated.add_url_rule("/needs-consent", "needs_consent", login_required(consent_required(view)),
                       methods=[method])
    return gated


def signed_in_to(gated, member):
    """A new member's session, in a client of the gated app."""
    m = member()
    client = gated.test_client()
    with m.client.session_transaction() as s:
        user_token = s["_user_id"]
    with client.session_transaction() as s:
        s["_user_id"] = user_token
    return client


def test_actions_that_need_consent_check_it_every_time(database_url, member):
    """@consent_required: the gate in front of purchase, vouchers, the assistant."""
    client = signed_in_to(gated_app(database_url, "GET", lambda: "done"), member)
    assert client.get("/needs-consent").headers["Location"] == "/agreements/accept?next=/needs-consent"
    page = client.get("/agreements/accept?next=/needs-consent").get_data(as_text=True)
    assert accept(client, page).headers["Location"] == "/needs-consent"
    assert client.get("/needs-consent").get_data(as_text=True) == "done"
    assert client.get("/needs-consent", headers={"HX-Request": "true"}).get_data(as_text=True) == "done"


def test_a_posted_action_continues_with_its_fields_after_accepting(database_url, member):
    """A form posted into the gate is not lost: after accepting it is sent again, with what was typed."""
    def action():
        return f"got {request.form['plan']} {request.form['note']}"

    client = signed_in_to(gated_app(database_url, "POST", action), member)
    page = client.post("/needs-consent", data={"csrf_token": csrf_token(client), "plan": "plus", "note": "你好"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "请阅读并同意以下协议" in html
    step = accept(client, html)
    resend = step.get_data(as_text=True)
    assert step.status_code == 200 and 'action="/needs-consent"' in resend
    assert 'name="plan" value="plus"' in resend and 'name="note" value="你好"' in resend
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', resend))
    assert client.post("/needs-consent", data=fields).get_data(as_text=True) == "got plus 你好"
