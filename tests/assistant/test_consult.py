"""在线客服, the user's side: a consultation started (from 智能管家 with the conversation attached, only the user's
own), its page with the working hours (outside them: when someone will answer), messages sent (bad input told on
the field), the poll that shows new messages and marks the user as on the page, closing and rating once; another
user's consultation is not there."""
import pytest
from sqlalchemy import func, select

from app.account import services as account_services
from app.assistant.models import Consultation, ConsultMessage, Conversation
from app.auth.models import User
from app.core.clock import SHANGHAI, db_now
from app.extensions import db
from tests.support.agreements import accepted_user
from tests.support.assistant_consult import consultation_row, new_consultation
from tests.support.web import HX, csrf_token, token


def at_local(clock, hour, minute=0):
    """Moves the injected clock to today's ``hour`` in Beijing time."""
    local = clock.now.astimezone(SHANGHAI).replace(hour=hour, minute=minute, second=0, microsecond=0)
    clock.now = local.astimezone(clock.now.tzinfo)


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def start(user, content="请问理赔需要多久？", source=None):
    data = {"csrf_token": csrf_token(user.client, "/consult"), "content": content}
    if source:
        data["source"] = source
    return user.client.post("/consult", data=data)


def public_id_of(response):
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    return response.headers["Location"].rsplit("/", 1)[-1]


def send(user, public_id, content):
    path = f"/consult/{public_id}"
    return user.client.post(path, data={"csrf_token": token(page(user.client, path)), "content": content})


def test_a_consultation_is_started_and_its_messages_shown(app, member):
    user = accepted_user(member)
    public_id = public_id_of(start(user, "请问理赔需要多久？我的手机号是13800138000"))
    html = page(user.client, f"/consult/{public_id}")
    assert "等待接入" in html
    assert "请问理赔需要多久？" in html
    assert "请问理赔需要多久？我的手机号是138" in html and "13800138000" not in html  # masked at rest
    listed = page(user.client, "/consult")
    assert f"/consult/{public_id}" in listed


def test_from_the_assistant_the_users_own_conversation_is_attached(app, member, conversation_of):
    user = accepted_user(member)
    conversation = conversation_of(user.id)
    html = page(user.client, f"/consult?from={conversation}")
    assert "你与智能管家的对话会一并发给客服" in html
    public_id = public_id_of(start(user, source=conversation))
    row = consultation_row(app, public_id)
    assert row.conversation_id is not None
    assert "已附上你与智能管家的对话" in page(user.client, f"/consult/{public_id}")


def test_someone_elses_conversation_is_not_attached(app, member, conversation_of):
    user, other = accepted_user(member), accepted_user(member)
    theirs = conversation_of(other.id)
    assert "一并发给客服" not in page(user.client, f"/consult?from={theirs}")
    public_id = public_id_of(start(user, source=theirs))
    assert consultation_row(app, public_id).conversation_id is None


def test_another_users_consultation_is_not_found(app, member):
    user, other = accepted_user(member), accepted_user(member)
    theirs = new_consultation(app, other.id)
    path = f"/consult/{theirs}"
    csrf = csrf_token(user.client, "/consult")
    assert user.client.get(path).status_code == 404
    for action in ("", "/close", "/rating"):
        assert user.client.post(path + action, data={"csrf_token": csrf, "content": "你好", "rating": "5"}
                                ).status_code == 404
    assert len(consultation_row(app, theirs).messages) == 1
    assert f"/consult/{theirs}" not in page(user.client, "/consult")


@pytest.mark.parametrize("content, message", [("", "请输入消息内容"), ("   ", "请输入消息内容"),
                                              ("问" * 501, "一次最多500个字")])
def test_a_bad_message_is_told_on_the_field(app, member, content, message):
    user = accepted_user(member)
    public_id = new_consultation(app, user.id)
    response = send(user, public_id, content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="content-error">{message}' in html
    assert len(consultation_row(app, public_id).messages) == 1


def test_a_message_is_sent_and_a_closed_consultation_takes_none(app, member):
    user = accepted_user(member)
    public_id = new_consultation(app, user.id)
    assert send(user, public_id, "补充一下：是住院医疗").status_code == 302
    assert "补充一下：是住院医疗" in page(user.client, f"/consult/{public_id}")
    closed = new_consultation(app, user.id, status="closed")
    path = f"/consult/{closed}"
    response = user.client.post(path, data={"csrf_token": csrf_token(user.client, "/consult"), "content": "还在吗"})
    assert response.status_code == 409
    assert "本次咨询已结束，如有新的问题请发起新的咨询" in response.get_data(as_text=True)


def test_working_hours_are_shown_and_outside_them_when_someone_answers(app, member, clock, monkeypatch):
    monkeypatch.setitem(app.config, "CONSULT_HOURS", "09:00-21:00")
    user = accepted_user(member)
    public_id = new_consultation(app, user.id)
    at_local(clock, 10)
    html = page(user.client, f"/consult/{public_id}")
    assert "每天 09:00–21:00（北京时间）" in html
    assert "非服务时间" not in html
    at_local(clock, 22, 30)
    html = page(user.client, f"/consult/{public_id}")
    assert "现在是非服务时间，你的留言已收到，客服将于明天 09:00后回复" in html
    assert send(user, public_id, "晚上也可以留言吗").status_code == 302  # taken all the same
    at_local(clock, 7)
    assert "客服将于今天 09:00后回复" in page(user.client, f"/consult/{public_id}")


def test_the_poll_shows_new_messages_and_marks_the_user_on_the_page(app, member, clock):
    user = accepted_user(member)
    public_id = new_consultation(app, user.id, status="open")
    seen = consultation_row(app, public_id).user_seen_at
    clock.advance(minutes=5)
    response = user.client.get(f"/consult/{public_id}?poll=open", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="messages"')
    assert "hx-trigger=\"every 3s\"" in html
    assert consultation_row(app, public_id).user_seen_at > seen
    with app.app_context():
        from app.assistant.models import Consultation, ConsultMessage
        from app.core.clock import db_now
        from app.extensions import db
        row = db.session.scalar(db.select(Consultation).where(Consultation.public_id == public_id))
        db.session.add(ConsultMessage(consultation_id=row.id, sender="staff", content="您好，我来为您查询", created_at=db_now()))
        db.session.commit()
    assert "您好，我来为您查询" in user.client.get(f"/consult/{public_id}?poll=open", headers=HX).get_data(as_text=True)


def test_the_poll_refreshes_the_page_once_the_consultation_has_changed(app, member):
    user = accepted_user(member)
    public_id = new_consultation(app, user.id, status="closed")
    response = user.client.get(f"/consult/{public_id}?poll=open", headers=HX)
    assert response.headers.get("HX-Refresh") == "true"


def test_the_user_closes_and_rates_it_once(app, member):
    user = accepted_user(member)
    public_id = new_consultation(app, user.id, status="open")
    path = f"/consult/{public_id}"
    early = user.client.post(path + "/rating", data={"csrf_token": token(page(user.client, path)), "rating": "5"})
    assert early.status_code == 409 and "咨询结束后才能评价" in early.get_data(as_text=True)
    response = user.client.post(path + "/close", data={"csrf_token": token(page(user.client, path))})
    assert response.status_code == 302
    html = page(user.client, response.headers["Location"])
    assert "本次咨询已结束" in html and "评价本次服务" in html and 'name="content"' not in html
    rated = user.client.post(path + "/rating", data={"csrf_token": token(html), "rating": "4", "comment": "很耐心"})
    assert rated.status_code == 302
    row = consultation_row(app, public_id)
    assert (row.status, row.rating, row.rating_comment) == ("closed", 4, "很耐心")
    assert "你的评价：4 星 · 很耐心" in page(user.client, path)
    again = user.client.post(path + "/rating", data={"csrf_token": token(html), "rating": "1"})
    assert again.status_code == 409 and "你已经评价过本次咨询" in again.get_data(as_text=True)
    assert consultation_row(app, public_id).rating == 4


@pytest.mark.parametrize("data, message", [({}, "请选择评分"), ({"rating": "6"}, None),
                                           ({"rating": "5", "comment": "好" * 201}, "评价最多200个字")])
def test_a_bad_rating_is_told_on_the_field(app, member, data, message):
    user = accepted_user(member)
    public_id = new_consultation(app, user.id, status="closed")
    path = f"/consult/{public_id}"
    response = user.client.post(path + "/rating", data={"csrf_token": token(page(user.client, path)), **data})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in html and (message is None or message in html)
    assert consultation_row(app, public_id).rating is None


def test_the_pages_need_a_login(client):
    assert client.get("/consult").status_code == 302
    assert client.get("/consult/abc").status_code == 302


def test_a_closed_consultation_no_longer_polls(app, member):
    user = accepted_user(member)
    public_id = new_consultation(app, user.id, status="closed")
    assert "hx-trigger" not in page(user.client, f"/consult/{public_id}").split('id="messages"', 1)[1].split(">", 1)[0]



def test_deleting_the_account_deletes_its_conversations_and_consultations(app, member):
    """注销: talk with the assistant and with 客服 is personal data no law makes us keep."""

    someone = member()
    with app.app_context():
        now = db_now()
        conversation = Conversation(public_id=f"c-{someone.id}", user_id=someone.id, title="等待期多久", created_at=now,
                                    updated_at=now)
        db.session.add(conversation)
        db.session.flush()
        consultation = Consultation(public_id=f"k-{someone.id}", user_id=someone.id, conversation_id=conversation.id,
                                    created_at=now, updated_at=now)
        consultation.messages = [ConsultMessage(sender="user", content="请问等待期多久", created_at=now)]
        db.session.add(consultation)
        db.session.commit()
        account_services.delete_account(db.session.get(User, someone.id), now)
        db.session.commit()
        for model in (Conversation, Consultation):
            assert db.session.scalar(select(func.count()).select_from(model).where(model.user_id == someone.id)) == 0
