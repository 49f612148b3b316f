"""在线客服 in the back office: only users.lookup (客服) opens it; the inbox (waiting first, then mine, then the
others', with how long each has waited; the user by masked nickname); 接入 (two at once: one wins), 回复 (canned
and/or one's own words; bad input on the field), 转接 to a colleague holding the permission, 结束, each audited
without what anyone wrote; the conversation with 智能管家 shown masked; canned replies; a WeChat message when the
user is away (on the injected clock), at most one every 10 minutes."""
import re

import pytest
from sqlalchemy import select

from app.admin.roles import ROLES, permissions_of
from app.assistant.models import CannedReply
from app.extensions import db
from app.notifications.models import Notification
from tests.support.admin import audit_rows, last_audit
from tests.support.agreements import accepted_user
from tests.support.assistant_consult import consultation_row, new_canned
from tests.support.concurrency import at_once
from tests.support.web import HX, token


def page(browser, path):
    response = browser.client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def act(browser, public_id, action, data=None):
    """Posts one of the consultation page's forms, as the page's own form would."""
    consult_page = f"/admin/consult/{public_id}"
    return browser.post(f"{consult_page}/{action}", data or {}, page=consult_page)


def positions(html, names):
    found = {name: html.find(name) for name in names if name in html}
    return sorted(found, key=found.get)


def notifications(app, user_id):
    with app.app_context():
        return db.session.scalars(select(Notification.template).where(Notification.user_id == user_id)
                                  .order_by(Notification.id)).all()


# Who may

ENDPOINTS = [("GET", "/admin/consult"), ("GET", "/admin/consult/{consult_id}"),
             ("POST", "/admin/consult/{consult_id}/take"), ("POST", "/admin/consult/{consult_id}/reply"),
             ("POST", "/admin/consult/{consult_id}/transfer"), ("POST", "/admin/consult/{consult_id}/close"),
             ("GET", "/admin/consult/canned"), ("GET", "/admin/consult/canned/new"),
             ("POST", "/admin/consult/canned/new"), ("GET", "/admin/consult/canned/{reply_id}"),
             ("POST", "/admin/consult/canned/{reply_id}")]


@pytest.mark.parametrize("role", [*ROLES, "none"])
def test_only_users_lookup_opens_the_consultation_screens(app, role, signed_in, consultation):
    browser, _ = signed_in(*([] if role == "none" else [role]))
    values = {"consult_id": consultation(), "reply_id": new_canned(app)}
    csrf = token(browser.client.get("/admin/").get_data(as_text=True))
    may = "users.lookup" in permissions_of([] if role == "none" else [role])
    assert may == (role in ("support", "claims"))
    for method, path in ENDPOINTS:
        before = len(audit_rows(app))
        response = browser.client.open(path.format(**values), method=method, data={
            "csrf_token": csrf, "content": "您好", "title": f"问候{role}", "body": "您好"} if method == "POST" else None)
        if may:
            assert response.status_code != 403, (method, path)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert "你的角色没有此操作的权限（需要：查询用户、订单、保单与权益券）" in response.get_data(as_text=True)
            assert len(audit_rows(app)) == before, (role, path)
    if not may:
        assert consultation_row(app, values["consult_id"]).status == "waiting"
        nav = re.search(r'<nav class="admin-nav".*?</nav>', page(browser, "/admin/"), re.S).group(0)
        assert "在线客服" not in nav


# The inbox

def test_the_inbox_lists_waiting_first_then_mine_then_the_others(app, signed_in, make_staff, consultation, member,
                                                                  clock):
    browser, me = signed_in("support")
    colleague = make_staff("support", name="王同事")
    users = {name: member(nickname=name) for name in ("赵一一", "钱二二", "孙三三", "李四四")}
    theirs = consultation(users["赵一一"].id, status="open", staff_id=colleague.id)
    clock.advance(minutes=1)
    mine = consultation(users["钱二二"].id, status="open", staff_id=me.id)
    clock.advance(minutes=1)
    older = consultation(users["孙三三"].id)
    clock.advance(minutes=7)
    newer = consultation(users["李四四"].id)
    clock.advance(minutes=3)
    html = page(browser, "/admin/consult")
    assert positions(html, [f"/admin/consult/{p}" for p in (theirs, mine, older, newer)]) == [
        f"/admin/consult/{p}" for p in (older, newer, mine, theirs)]
    assert "孙*三" in html and "孙三三" not in html  # the nickname, masked
    assert "10 分钟" in html and "3 分钟" in html  # how long each has waited
    assert "王同事" in html
    fragment = browser.client.get("/admin/consult", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="inbox"') and 'hx-trigger="every 3s"' in fragment


# Taking, replying, transferring, closing

def test_taking_a_consultation_makes_it_mine_and_tells_the_user(app, signed_in, consultation):
    browser, me = signed_in("support")
    public_id = consultation()
    response = act(browser, public_id, "take")
    assert response.status_code == 302
    row = consultation_row(app, public_id)
    assert (row.status, row.staff_id) == ("open", me.id)
    assert row.messages[-1].sender == "system" and "客服已接入" in row.messages[-1].content
    event = last_audit(app, action="consult.taken")
    assert event.object_id == public_id and event.staff_id == me.id and "请问" not in event.after + event.before
    html = page(browser, response.headers["Location"])
    assert "发送回复" in html and "转接" in html and "结束咨询" in html


def test_two_staff_taking_one_consultation_at_once_one_wins(app, signed_in, consultation):
    public_id = consultation()
    staff = [signed_in("support") for _ in range(2)]
    path = f"/admin/consult/{public_id}"
    tokens = [token(browser.client.get(path).get_data(as_text=True)) for browser, _ in staff]
    with app.app_context():
        db.engine.dispose()  # each thread its own connection
    statuses = at_once(2, lambda i: staff[i][0].client.post(f"{path}/take", data={"csrf_token": tokens[i]}).status_code)
    assert sorted(statuses) == [302, 409]
    winner = staff[statuses.index(302)][1]
    row = consultation_row(app, public_id)
    assert row.staff_id == winner.id
    assert [m.content for m in row.messages].count("客服已接入，正在为你服务。") == 1
    assert [e.staff_id for e in audit_rows(app, action="consult.taken", object_id=public_id)] == [winner.id]
    loser = staff[1 - statuses.index(302)][0]
    assert "这条咨询已由其他同事接入" in act(loser, public_id, "take").get_data(as_text=True)


def test_a_reply_of_a_canned_text_and_ones_own_words(app, signed_in, consultation):
    browser, me = signed_in("support")
    public_id = consultation(status="open", staff_id=me.id)
    canned_id = new_canned(app, title="理赔时效", body="材料齐全后30日内核定。")
    assert "理赔时效" in page(browser, f"/admin/consult/{public_id}")
    response = act(browser, public_id, "reply", {"canned": str(canned_id), "content": "您的案件我已催办。"})
    assert response.status_code == 302
    row = consultation_row(app, public_id)
    assert (row.messages[-1].sender, row.messages[-1].content) == ("staff", "材料齐全后30日内核定。\n您的案件我已催办。")
    event = last_audit(app, action="consult.replied")
    assert "理赔时效" in event.after and "催办" not in event.after  # which canned reply, never the words


@pytest.mark.parametrize("data, message", [({"content": ""}, "请输入回复内容，或选择一条常用回复"),
                                           ({"content": "   "}, "请输入回复内容，或选择一条常用回复"),
                                           ({"content": "好" * 1001}, "回复最多1000个字"),
                                           ({"canned": "999999"}, None)])
def test_a_bad_reply_is_told_on_the_field(app, signed_in, consultation, data, message):
    browser, me = signed_in("support")
    public_id = consultation(status="open", staff_id=me.id)
    response = act(browser, public_id, "reply", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = "content" if "content" in data else "canned"
    error = re.search(rf'id="{field}-error">([^<]+)<', html)
    assert error and (message is None or error.group(1) == message)
    assert len(consultation_row(app, public_id).messages) == 1
    assert last_audit(app, action="consult.replied", object_id=public_id) is None


def test_only_the_one_holding_it_replies(app, signed_in, make_staff, consultation):
    browser, _ = signed_in("support")
    public_id = consultation(status="open", staff_id=make_staff("support").id)
    html = page(browser, f"/admin/consult/{public_id}")
    assert "发送回复" not in html and "这条咨询由" in html
    response = act(browser, public_id, "reply", {"content": "您好"})
    assert response.status_code == 409 and "这条咨询不由你接待" in response.get_data(as_text=True)
    assert len(consultation_row(app, public_id).messages) == 1


def test_a_transfer_to_a_colleague_who_answers_from_then_on(app, signed_in, make_staff, consultation, clock):
    browser, me = signed_in("support")
    colleague = make_staff("support", name="李同事")
    outsider = make_staff("ops", name="运营同事")
    public_id = consultation(status="open", staff_id=me.id)
    html = page(browser, f"/admin/consult/{public_id}")
    assert "李同事" in html and "运营同事" not in html  # only those holding the permission
    refused = act(browser, public_id, "transfer", {"to": str(outsider.id)})
    assert refused.status_code == 422 and consultation_row(app, public_id).staff_id == me.id
    response = act(browser, public_id, "transfer", {"to": str(colleague.id)})
    assert response.status_code == 302
    row = consultation_row(app, public_id)
    assert row.staff_id == colleague.id and "已为你转接另一位客服" in row.messages[-1].content
    event = last_audit(app, action="consult.transferred")
    assert "李同事" in event.after and event.staff_id == me.id
    assert act(browser, public_id, "reply", {"content": "还是我"}).status_code == 409
    # The page polling with the old hands is refreshed whole.
    stale = browser.client.get(f"/admin/consult/{public_id}?poll=open/{me.id}", headers=HX)
    assert stale.headers.get("HX-Refresh") == "true"


def test_closing_ends_it_and_the_user_may_rate(app, signed_in, consultation):
    browser, me = signed_in("support")
    public_id = consultation(status="open", staff_id=me.id)
    assert act(browser, public_id, "close").status_code == 302
    row = consultation_row(app, public_id)
    assert row.status == "closed" and row.closed_at is not None
    assert last_audit(app, action="consult.closed").object_id == public_id
    html = page(browser, f"/admin/consult/{public_id}")
    assert "尚未评价" in html and "发送回复" not in html and "hx-trigger" not in html


def test_the_conversation_with_the_assistant_is_shown_masked(app, signed_in, consultation, conversation_of, member):
    browser, _ = signed_in("support")
    user = member(nickname="周小明")
    public_id = consultation(user.id, conversation=conversation_of(user.id))
    html = page(browser, f"/admin/consult/{public_id}")
    assert "用户与智能管家的对话（2 条" in html
    assert "138****8000" in html and "¥356.00" in html
    assert "周*明" in html and "周小明" not in html


def test_the_messages_block_polls_and_shows_the_users_new_message(app, signed_in, consultation):
    browser, me = signed_in("support")
    public_id = consultation(status="open", staff_id=me.id, text="第一条消息")
    path = f"/admin/consult/{public_id}?poll=open/{me.id}"
    fragment = browser.client.get(path, headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="messages"') and "第一条消息" in fragment


# A notification when the user is away

def test_a_reply_to_a_user_away_is_told_by_wechat_at_most_every_ten_minutes(app, signed_in, consultation, member,
                                                                            clock):
    browser, me = signed_in("support")
    user = accepted_user(member)
    public_id = consultation(user.id, status="open", staff_id=me.id)  # the user's page polled just now
    act(browser, public_id, "reply", {"content": "您好"})
    assert notifications(app, user.id) == []  # still on the page
    clock.advance(minutes=3)  # the page has not polled since: away
    act(browser, public_id, "reply", {"content": "还在吗？"})
    assert notifications(app, user.id) == ["consult_reply"]
    assert '"consult_notified": true' in last_audit(app, action="consult.replied").after
    clock.advance(minutes=5)
    act(browser, public_id, "reply", {"content": "我先记下了"})
    assert notifications(app, user.id) == ["consult_reply"]  # one is enough for now
    clock.advance(minutes=6)
    act(browser, public_id, "reply", {"content": "已为您处理好"})
    assert notifications(app, user.id) == ["consult_reply", "consult_reply"]
    clock.advance(minutes=11)
    assert user.client.get(f"/consult/{public_id}?poll=open", headers=HX).status_code == 200  # back on the page
    act(browser, public_id, "reply", {"content": "看到了吗"})
    assert len(notifications(app, user.id)) == 2


# Canned replies

def test_canned_replies_added_and_edited(app, signed_in):
    browser, me = signed_in("support")
    response = browser.post("/admin/consult/canned/new", {"title": "问候语", "body": "您好，很高兴为您服务。"},
                            page="/admin/consult/canned/new")
    assert response.status_code == 302
    assert "问候语" in page(browser, "/admin/consult/canned")
    with app.app_context():
        reply_id = db.session.scalar(select(CannedReply.id).where(CannedReply.title == "问候语"))
    path = f"/admin/consult/canned/{reply_id}"
    assert "您好，很高兴为您服务。" in page(browser, path)
    assert browser.post(path, {"title": "问候", "body": "您好！"}, page=path).status_code == 302
    with app.app_context():
        row = db.session.get(CannedReply, reply_id)
        assert (row.title, row.body) == ("问候", "您好！")
    events = audit_rows(app, action="consult.canned_saved", object_id=str(reply_id))
    assert len(events) == 2 and "问候" in events[-1].after and "您好" not in events[-1].after
    duplicate = browser.post("/admin/consult/canned/new", {"title": "问候", "body": "另一条"},
                             page="/admin/consult/canned/new")
    assert duplicate.status_code == 422 and "已有同名的常用回复" in duplicate.get_data(as_text=True)


@pytest.mark.parametrize("data, field, message", [({"title": "", "body": "正文"}, "title", "请填写标题"),
                                                  ({"title": "标" * 41, "body": "正文"}, "title", "标题最多40个字"),
                                                  ({"title": "标题", "body": " "}, "body", "请填写正文"),
                                                  ({"title": "标题", "body": "文" * 1001}, "body", "正文最多1000个字")])
def test_a_bad_canned_reply_is_told_on_the_field(app, signed_in, data, field, message):
    browser, _ = signed_in("support")
    response = browser.post("/admin/consult/canned/new", data, page="/admin/consult/canned/new")
    assert response.status_code == 422
    assert f'id="{field}-error">{message}<' in response.get_data(as_text=True)


def test_an_unknown_consultation_is_not_found(signed_in):
    browser, _ = signed_in("support")
    assert browser.client.get("/admin/consult/nothing-here").status_code == 404
    assert browser.client.get("/admin/consult/canned/999999").status_code == 404


