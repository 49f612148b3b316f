"""协议管理 in the back office: agreements listed with their versions in every state; a new version written as a
draft (each bad value told on its field, nothing saved), edited, previewed as users will see it (the page and the
re-acceptance step, nothing written), submitted, approved by a colleague (never by who wrote it) or sent back;
users read it from its release date and must accept it again from its effective date, on the injected clock; a
draft or a version awaiting approval reaches no user; every step audited; the shell's `flask agreements publish`."""
import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.admin.models import AuditEvent
from app.admin.roles import ROLES, permissions_of
from app.agreements import services
from app.agreements.models import Agreement, AgreementVersion, Consent
from app.extensions import db
from tests.support.admin import audit_rows
from tests.support.admin_agreements import BODY, new_version
from tests.support.agreements import accept, step_on
from tests.support.clock import NOW
from tests.support.web import csrf_token

TODAY = NOW.date()  # 2026-11-25 in Shanghai too


def form(label="2.0", released=TODAY + timedelta(days=3), effective=TODAY + timedelta(days=10),
         summary="新增第三方服务的说明", body=BODY):
    return {"version": label, "released_on": str(released), "effective_on": str(effective), "summary": summary,
            "body": body}


def page_of(response):
    """The version's page a draft saved goes to (without its ?done=)."""
    return response.headers["Location"].split("?")[0]


def version_of(app, version_id):
    with app.app_context():
        version = db.session.get(AgreementVersion, version_id)
        db.session.expunge(version)
        return version


def versions_of(app, agreement_id):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AgreementVersion)
                                 .where(AgreementVersion.agreement_id == agreement_id))


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def platform_id(app, kind):
    with app.app_context():
        return services.get_agreement(kind).id


def until(clock, day):
    """The clock moved on to 10:00 in Shanghai on ``day``."""
    clock.now = NOW + (day - TODAY)


def test_a_draft_is_written_edited_and_submitted(app, signed_in, own_agreement):
    writer, staff = signed_in("compliance")
    agreement_id = own_agreement(title="安心保产品服务协议")
    new = f"/admin/agreements/{agreement_id}/versions/new"
    assert "协议正文（Markdown）" in writer.client.get(new).get_data(as_text=True)
    response = writer.post(new, form(), page=new)
    assert response.status_code == 302
    version_id = int(re.search(r"/versions/(\d+)", response.headers["Location"]).group(1))
    page = writer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "草稿已保存" in page and "新增第三方服务的说明" in page and "草稿" in page
    saved = version_of(app, version_id)
    assert (saved.state, saved.prepared_by_id, saved.released_on, saved.effective_on) == (
        "draft", staff.id, TODAY + timedelta(days=3), TODAY + timedelta(days=10))
    assert saved.body == BODY.strip()

    edit = f"/admin/agreements/versions/{version_id}/edit"
    assert "新增第三方服务的说明" in writer.client.get(edit).get_data(as_text=True)
    response = writer.post(edit, form(label="2.1", summary="改为：新增第三方服务与投诉渠道的说明"), page=edit)
    assert "草稿已修改" in writer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert version_of(app, version_id).version == "2.1"

    page = f"/admin/agreements/versions/{version_id}"
    response = writer.post(f"{page}/submit", page=page)
    assert "已提交审核" in writer.client.get(response.headers["Location"]).get_data(as_text=True)
    saved = version_of(app, version_id)
    assert saved.state == "pending" and saved.submitted_at == NOW.replace(tzinfo=None)
    assert writer.client.get(edit).headers["Location"] == page  # no more changes once submitted
    response = writer.post(edit, form(label="2.2"), page=page)
    assert response.status_code == 409 and "不能再修改" in response.get_data(as_text=True)
    assert version_of(app, version_id).version == "2.1"


def test_a_new_version_starts_from_the_newest_published_text(app, signed_in):
    writer, _ = signed_in("compliance")
    page = writer.client.get(f"/admin/agreements/{platform_id(app, 'service')}/versions/new").get_data(as_text=True)
    with app.app_context():
        latest = services.get_agreement("service").versions[0]
    assert latest.body[:40] in page and f"正文已按版本 {latest.version} 填好" in page and "现行版本为" in page


@pytest.mark.parametrize("change, field, message", [
    ({"version": ""}, "version", "请填写版本号"),
    ({"version": "第二版"}, "version", "版本号为字母、数字或 . _ -"),
    ({"version": "1.0"}, "version", "已有版本 1.0"),
    ({"released_on": ""}, "released_on", "请填写发布日期"),
    ({"released_on": "2026/12/01"}, "released_on", "请按 年-月-日 填写日期"),
    ({"released_on": str(TODAY - timedelta(days=1))}, "released_on", "发布日期不能早于今天"),
    ({"effective_on": str(TODAY - timedelta(days=1)), "released_on": str(TODAY)}, "effective_on", "生效日期不能早于今天"),
    ({"effective_on": str(TODAY + timedelta(days=2))}, "effective_on", "生效日期不能早于发布日期"),
    ({"effective_on": "9999-12-31"}, "effective_on", "请填写 1900–2100 年之间的日期"),
    ({"summary": "   "}, "summary", "请填写本次更新的内容"),
    ({"summary": "改" * 501}, "summary", "更新内容最多500个字"),
    ({"body": ""}, "body", "请填写协议正文"),
    ({"body": "条" * 50001}, "body", "协议正文最多50000个字"),
])
def test_each_bad_value_is_told_on_its_field_and_nothing_is_saved(app, signed_in, own_agreement, make_staff, change,
                                                                 field, message):
    writer, _ = signed_in("compliance")
    agreement_id = own_agreement()
    new_version(app, agreement_id, make_staff("compliance").id, label="1.0")
    before, events = versions_of(app, agreement_id), count(app, AuditEvent)
    new = f"/admin/agreements/{agreement_id}/versions/new"
    response = writer.post(new, {**form(), **change}, page=new)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', body).group(1)
    assert message in error
    assert f'id="{field}" ' in body and 'aria-invalid="true"' in body
    assert versions_of(app, agreement_id) == before and count(app, AuditEvent) == events


def test_the_effective_date_comes_after_every_published_version(app, signed_in, own_agreement):
    """Else the older text would take over again once the newer one is in force."""
    writer, _ = signed_in("compliance")
    agreement_id = own_agreement()
    with app.app_context():
        services.publish(db.session.get(Agreement, agreement_id).kind, "1.0", TODAY, TODAY + timedelta(days=30),
                         "首次发布", BODY, NOW.replace(tzinfo=None))
        db.session.commit()
    new = f"/admin/agreements/{agreement_id}/versions/new"
    for effective in (TODAY + timedelta(days=20), TODAY + timedelta(days=30)):
        response = writer.post(new, form(released=TODAY, effective=effective), page=new)
        assert response.status_code == 422
        assert "生效日期须晚于已发布的版本 1.0 的生效日期（2026-12-25）" in response.get_data(as_text=True)
    assert versions_of(app, agreement_id) == 1
    assert writer.post(new, form(released=TODAY, effective=TODAY + timedelta(days=31)), page=new).status_code == 302


def test_the_list_shows_each_agreement_with_its_versions_in_every_state(app, signed_in, own_agreement, drafted,
                                                                       make_staff, staff_browser, clock):
    writer, staff = signed_in("compliance")
    checker = make_staff("compliance")
    agreement_id = own_agreement(title="列表里的协议")
    drafted(agreement_id, staff, label="3.0-draft", released_in=40, effective_in=50)
    drafted(agreement_id, staff, label="2.0-pending", released_in=20, effective_in=30, submitted=True)
    later = drafted(agreement_id, checker, label="1.1", released_in=1, effective_in=10, submitted=True)
    first = drafted(agreement_id, checker, label="1.0", released_in=0, effective_in=0, submitted=True)
    for version_id in (first, later):
        page = f"/admin/agreements/versions/{version_id}"
        assert writer.post(f"{page}/approve", {"approve-reason": ""}, page=page).status_code == 302
    clock.advance(days=1)  # 1.1 released (tomorrow, so that no other test's pages announce it)
    writer = staff_browser().sign_in(staff)  # a new day, a new session
    page = writer.client.get("/admin/agreements").get_data(as_text=True)
    for title in ("《微保服务协议》", "《微保隐私政策》", "《个人信息授权协议》", "《列表里的协议》"):
        assert title in page
    mine = page[page.index("《列表里的协议》"):]
    mine = mine[:mine.index("</table>")]
    rows = re.findall(r'<a href="/admin/agreements/versions/\d+">([^<]+)</a></td>\s*<td data-label="状态"><span class="tag[^"]*">([^<]+)<', mine)
    assert rows == [("3.0-draft", "草稿"), ("2.0-pending", "待审核"), ("1.1", "已发布 · 即将生效"), ("1.0", "现行版本")]
    nav = re.search(r'<nav class="admin-nav".*?</nav>', page, re.S).group(0)
    assert 'href="/admin/agreements" aria-current="page">协议管理' in nav


def test_a_colleague_approves_and_users_read_it_from_release_and_accept_it_from_effect(app, signed_in, member, client,
                                                                                      clock):
    """Far ahead (2029–2030), so that no other test sharing this database meets this version in force."""
    writer, _ = signed_in("compliance")
    checker, checker_staff = signed_in("compliance")
    released, effective = date(2029, 12, 1), date(2030, 3, 1)
    new = f"/admin/agreements/{platform_id(app, 'privacy')}/versions/new"
    response = writer.post(new, form(label="9.0-admin", released=released, effective=effective,
                                     summary="新增车险理赔信息的共享说明"), page=new)
    page = page_of(response)
    writer.post(f"{page}/submit", page=page)
    assert "审核通过并发布" in checker.client.get(page).get_data(as_text=True)
    response = checker.post(f"{page}/approve", {"approve-reason": "已核对条款与日期"}, page=page)
    assert "已审核通过并发布" in checker.client.get(response.headers["Location"]).get_data(as_text=True)
    version_id = int(page.rsplit("/", 1)[1])
    saved = version_of(app, version_id)
    assert saved.state == "published" and saved.reviewed_by_id == checker_staff.id
    assert "已发布 · 待公布" in writer.client.get(page).get_data(as_text=True)
    assert client.get("/agreements/privacy?version=9.0-admin").status_code == 404  # not released yet
    assert "9.0-admin" not in client.get("/agreements/privacy").get_data(as_text=True)

    until(clock, released)
    m = member()
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True))  # whatever is in force
    assert "《微保隐私政策》已更新，将于 2030年3月1日 生效" in client.get("/").get_data(as_text=True)
    upcoming = client.get("/agreements/privacy?version=9.0-admin").get_data(as_text=True)
    assert "尚未生效" in upcoming and "新增车险理赔信息的共享说明" in upcoming
    assert step_on(m.client, "/me") is None  # readable, not yet to be accepted

    until(clock, effective - timedelta(days=1))
    assert step_on(m.client, "/me") is None
    until(clock, effective)
    step = m.client.get(step_on(m.client, "/me")).get_data(as_text=True)
    assert "微保隐私政策" in step and "版本 9.0-admin，2030-03-01 生效" in step
    assert "更新内容：新增车险理赔信息的共享说明" in step and "你此前同意的是" in step
    assert accept(m.client, step, birth_date=None).status_code == 302
    assert step_on(m.client, "/me") is None


def test_who_wrote_a_version_cannot_approve_it_and_is_told(app, signed_in, own_agreement, make_staff, clock):
    writer, writer_staff = signed_in("compliance")
    editor, _ = signed_in("compliance")
    agreement_id = own_agreement()
    new = f"/admin/agreements/{agreement_id}/versions/new"
    page = page_of(writer.post(new, form(), page=new))
    writer.post(f"{page}/submit", page=page)
    assert "此版本由你起草或修改过，不能由你审核" in writer.client.get(page).get_data(as_text=True)
    assert "审核通过并发布" not in writer.client.get(page).get_data(as_text=True)
    for action, data in (("approve", {"approve-reason": ""}), ("return", {"return-reason": "自己退回"})):
        response = writer.post(f"{page}/{action}", data, page=page)
        assert response.status_code == 409, action
        assert "提交人不能审核自己提交的内容，请由另一位同事审核" in response.get_data(as_text=True)
    assert version_of(app, int(page.rsplit("/", 1)[1])).state == "pending"

    # Whoever edited a draft cannot approve it either, even after a colleague saved it again.
    editor.post(f"{page}/return", {"return-reason": "请补充投诉渠道"}, page=page)
    assert "退回原因：请补充投诉渠道" in writer.client.get(page).get_data(as_text=True)
    edit = page + "/edit"
    editor.post(edit, form(summary="补充投诉渠道"), page=edit)
    writer.post(edit, form(summary="补充投诉渠道与时限"), page=edit)
    writer.post(f"{page}/submit", page=page)
    response = editor.post(f"{page}/approve", {"approve-reason": ""}, page=page)
    assert response.status_code == 409 and "你起草或修改过此版本，不能审核" in response.get_data(as_text=True)
    assert version_of(app, int(page.rsplit("/", 1)[1])).state == "pending"
    assert not audit_rows(app, action="agreement_version.approved", object_id=page.rsplit("/", 1)[1])


def test_the_database_refuses_a_version_approved_by_its_preparer(app, own_agreement, make_staff):
    staff = make_staff("compliance")
    version_id = new_version(app, own_agreement(), staff.id, submitted=True)
    with app.app_context():
        version = db.session.get(AgreementVersion, version_id)
        version.state, version.reviewed_by_id = "published", staff.id
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_draft_or_a_version_awaiting_approval_reaches_no_user(app, signed_in, member, client, clock):
    """Written for the personal-information authorization, dated to be in force by 2030; never approved."""
    writer, _ = signed_in("compliance")
    new = f"/admin/agreements/{platform_id(app, 'pi-authorization')}/versions/new"
    draft = writer.post(new, form(label="8.8-draft", released=TODAY, effective=date(2030, 1, 10)), page=new)
    pending = writer.post(new, form(label="8.9-pending", released=TODAY, effective=date(2030, 1, 20)), page=new)
    page = page_of(pending)
    writer.post(f"{page}/submit", page=page)
    ids = [int(page_of(r).rsplit("/", 1)[1]) for r in (draft, pending)]
    assert [version_of(app, i).state for i in ids] == ["draft", "pending"]
    m = member()
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True))

    for day in (TODAY, date(2030, 2, 1)):
        until(clock, day)
        reading = client.get("/agreements/pi-authorization").get_data(as_text=True)
        assert "8.8-draft" not in reading and "8.9-pending" not in reading and "版本 1.0" in reading
        for label in ("8.8-draft", "8.9-pending"):
            assert client.get(f"/agreements/pi-authorization?version={label}").status_code == 404
        assert "《个人信息授权协议》已更新" not in client.get("/").get_data(as_text=True)
        with app.app_context():
            from app.auth.models import User
            owed = services.pending_agreements(db.session.get(User, m.id), day)
            assert all(p.version.state == "published" for p in owed)
            assert "pi-authorization" not in {p.agreement.kind for p in owed}
        gate = m.client.get("/agreements/accept?next=/me").get_data(as_text=True)
        asked = " ".join(re.findall(r'<ul class="gate-list">.*?</ul>', gate, re.S))  # what the step asks to accept
        assert "8.8-draft" not in gate and "8.9-pending" not in gate and "个人信息授权协议" not in asked
        if "gate-agreements" in gate:
            accept(m.client, gate)  # what other tests published meanwhile
        # A draft's id slipped into the form is refused, and nothing is written.
        rows = count(app, Consent)
        response = m.client.post("/agreements/accept", data={
            "gate-csrf_token": csrf_token(m.client), "gate-submission": "tampered", "gate-agreements": ids,
            "gate-original": json.dumps({"method": "GET", "url": "/me", "fields": []})})
        assert response.status_code == 422 and "协议版本已更新" in response.get_data(as_text=True)
        assert count(app, Consent) == rows


def test_previews_show_the_users_pages_and_write_nothing(app, signed_in, own_agreement, drafted, make_staff):
    writer, staff = signed_in("compliance")
    agreement_id = own_agreement(title="预览用产品协议")
    with app.app_context():
        kind = db.session.get(Agreement, agreement_id).kind
        services.publish(kind, "1.0", TODAY, TODAY, "首次发布", "## 旧条款\n\n旧的内容。", NOW.replace(tzinfo=None))
        db.session.commit()
    version_id = drafted(agreement_id, staff, label="2.0", summary="新增犹豫期说明")
    preview = f"/admin/agreements/versions/{version_id}/preview"
    consents, events = count(app, Consent), count(app, AuditEvent)

    page = writer.client.get(preview).get_data(as_text=True)
    assert "<h1>《预览用产品协议》</h1>" in page and "版本 2.0 · 发布日期：2026-11-30 · 生效日期：2026-12-05" in page
    assert "尚未生效" in page and "<h2>本次更新</h2><p>新增犹豫期说明</p>" in page
    assert "<strong>在法律允许的范围内，我们对因不可抗力造成的损失不承担责任。</strong>" in page
    assert f'<a href="/agreements/{kind}?version=1.0">1.0</a>' in page and "<strong>2.0</strong>" in page
    assert "预览（用户自 2026-11-30 起看到的协议页面）" in page and 'name="robots" content="noindex' in page
    assert 'class="site"' in page  # the users' layout, not the back office's
    assert writer.client.get(f"/agreements/{kind}?version=2.0").status_code == 404

    step = writer.client.get(f"{preview}/accept").get_data(as_text=True)
    assert "请阅读并同意以下协议" in step and "版本 2.0，2026-12-05 生效（你此前同意的是 1.0）" in step
    assert "更新内容：新增犹豫期说明" in step and f'name="gate-agreements" value="{version_id}"' in step
    assert f'action="{preview}/accept"' in step and f'action="{preview}/decline"' in step
    assert f'href="{preview}" target="_blank"' in step  # the agreement's link opens this version
    assert "/agreements/accept" not in step and "/agreements/decline" not in step

    response = writer.post(f"{preview}/accept", {"gate-agreements": []}, page=f"{preview}/accept")
    assert response.status_code == 422 and "请逐项勾选" in response.get_data(as_text=True)
    response = writer.post(f"{preview}/accept", {"gate-agreements": [str(version_id)]}, page=f"{preview}/accept",
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "本次预览未记录任何内容" in response.get_data(as_text=True)
    response = writer.post(f"{preview}/decline", page=f"{preview}/accept")
    assert response.headers["Location"] == f"{preview}/accept?declined=1"
    assert "用户点“不同意”后会退出登录" in writer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert count(app, Consent) == consents and count(app, AuditEvent) == events
    assert version_of(app, version_id).state == "draft"


def test_every_step_is_audited_without_the_text(app, signed_in, own_agreement):
    writer, writer_staff = signed_in("compliance")
    checker, checker_staff = signed_in("compliance")
    agreement_id = own_agreement(title="审计用协议")
    new = f"/admin/agreements/{agreement_id}/versions/new"
    page = page_of(writer.post(new, form(), page=new))
    version_id = page.rsplit("/", 1)[1]
    writer.post(page + "/edit", form(effective=TODAY + timedelta(days=12)), page=page)
    writer.post(f"{page}/submit", page=page)
    checker.post(f"{page}/return", {"return-reason": "生效日期请与公告一致"}, page=page)
    writer.post(page + "/edit", form(effective=TODAY + timedelta(days=12), body=BODY + "\n新增一段。"), page=page)
    writer.post(f"{page}/submit", page=page)
    checker.post(f"{page}/approve", {"approve-reason": "已核对"}, page=page)

    rows = audit_rows(app, object_type="agreement_version", object_id=version_id)
    assert [(r.action, r.staff_username) for r in rows] == [
        ("agreement_version.drafted", writer_staff.username), ("agreement_version.edited", writer_staff.username),
        ("agreement_version.submitted", writer_staff.username), ("agreement_version.returned", checker_staff.username),
        ("agreement_version.edited", writer_staff.username), ("agreement_version.submitted", writer_staff.username),
        ("agreement_version.approved", checker_staff.username)]
    first, moved, _, returned, rewritten, _, approved = rows
    after = json.loads(first.after)
    assert after["agreement"] == "审计用协议" and after["version"] == "2.0" and after["state"] == "draft"
    assert after["released_on"] == str(TODAY + timedelta(days=3)) and after["effective_on"] == str(TODAY + timedelta(days=10))
    assert after["body_length"] == len(BODY.strip()) and len(after["body_digest"]) == 64
    assert (json.loads(moved.before), json.loads(moved.after)) == (
        {"effective_on": str(TODAY + timedelta(days=10))}, {"effective_on": str(TODAY + timedelta(days=12))})
    assert set(json.loads(rewritten.after)) == {"body_length", "body_digest"}
    assert returned.reason == "生效日期请与公告一致" and json.loads(returned.after) == {"state": "draft"}
    assert approved.reason == "已核对" and json.loads(approved.after)["state"] == "published"
    assert all("不可抗力" not in r.before + r.after for r in rows) and all(r.ip == "127.0.0.1" for r in rows)
    history = writer.client.get(page).get_data(as_text=True)
    assert "审核通过并发布协议版本" in history and "生效日期请与公告一致" in history and "正文校验码" in history


def test_the_shell_still_publishes_at_once_and_is_audited(app, tmp_path, client):
    """Dated in the past, before 1.0: a published version no user is asked to accept."""
    source = tmp_path / "text.md"
    source.write_text("## 旧文本\n\n命令行发布。", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=[
        "agreements", "publish", "--kind", "service", "--version", "0.9-shell", "--released", "2026-01-01",
        "--effective", "2026-01-02", "--summary", "命令行", str(source)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.scalar(select(AgreementVersion).where(AgreementVersion.version == "0.9-shell"))
        assert row.state == "published" and row.prepared_by_id is None
        version_id = row.id
    assert client.get("/agreements/service?version=0.9-shell").status_code == 200
    audited = audit_rows(app, action="agreement_version.published", object_id=str(version_id))
    assert len(audited) == 1 and audited[0].staff_username == "flask agreements"
    assert json.loads(audited[0].after)["state"] == "published"


# Who may do what: every 协议管理 endpoint against every role

def _endpoints(app):
    return sorted((rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("admin.agreement") for method in rule.methods & {"GET", "POST"})


@pytest.mark.parametrize("role", [*ROLES, "none"])
def test_each_role_without_the_permission_gets_403_and_nothing_happens(app, role, signed_in, own_agreement, make_staff):
    from app.admin import access
    browser, _ = signed_in(*([] if role == "none" else [role]))
    granted = permissions_of([] if role == "none" else [role])
    agreement_id = own_agreement()
    version_id = new_version(app, agreement_id, make_staff("compliance").id, submitted=True)
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', browser.client.get("/admin/").get_data(as_text=True)).group(1)
    endpoints = _endpoints(app)
    assert len(endpoints) == 13
    refused = []
    for endpoint, method, rule in endpoints:
        path = rule.replace("<int:agreement_id>", str(agreement_id)).replace("<int:version_id>", str(version_id))
        declared = access.access_of(app.view_functions[endpoint])
        events = count(app, AuditEvent)
        if set(declared) <= granted:
            if method == "GET":
                assert browser.client.get(path).status_code in (200, 302), (role, path)
            continue
        response = browser.client.open(path, method=method, data={"csrf_token": csrf, **form(),
                                                                  "approve-reason": "", "return-reason": "越权"})
        assert response.status_code == 403, (role, method, path, response.status_code)
        assert "你的角色没有此操作的权限" in response.get_data(as_text=True)
        assert count(app, AuditEvent) == events and versions_of(app, agreement_id) == 1
        refused.append(endpoint)
    assert version_of(app, version_id).state == "pending"
    if role == "compliance":
        assert not refused
    else:
        assert len(refused) == len(endpoints)
        nav = re.search(r'<nav class="admin-nav".*?</nav>', browser.client.get("/admin/").get_data(as_text=True), re.S)
        assert "协议管理" not in nav.group(0)
