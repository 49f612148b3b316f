"""断点续保 reminders through WeChat template messages (the fake WeChat), purge, and the opt-out. Jobs run
where they are queued (JOBS_IMMEDIATE); a retry waits until the clock reaches it and run_due() runs it."""
import pytest
from sqlalchemy import select

from app.auth.models import WeChatIdentity
from app.auth.simulator import SIM_APPID
from app.core.clock import db_now
from app.extensions import db
from app.jobs import run_due
from app.purchase.models import Application
from tests.support.purchase import Buyer
from tests.support.web import token


@pytest.fixture()
def with_wechat(app, customer):
    """The customer's WeChat identity on the configured official account."""
    with app.app_context():
        db.session.add(WeChatIdentity(user_id=customer.id, appid=SIM_APPID, openid=f"o-reminder-{customer.id}",
                                      created_at=db_now()))
        db.session.commit()
    return customer


def run(app, *command):
    result = app.test_cli_runner().invoke(args=list(command))
    assert result.exit_code == 0, result.output
    return result.output


def mine(messages, customer):
    return [m for m in messages if m["touser"] == f"o-reminder-{customer.id}"]


def test_one_reminder_after_half_an_hour_linking_back(app, wechat, with_wechat, clock):
    buyer = Buyer(with_wechat.client)
    buyer.through(2)
    clock.advance(minutes=29)
    run(app, "reminders", "send")
    assert mine(wechat.state.messages, with_wechat) == []
    clock.advance(minutes=2)
    run(app, "reminders", "send")
    sent = mine(wechat.state.messages, with_wechat)
    assert len(sent) == 1 and sent[0]["url"].endswith(f"/buy/anxin-million-medical/{buyer.number}/3")
    assert sent[0]["data"]["keyword2"]["value"] == "停在“被保险人”"
    clock.advance(hours=2)
    run(app, "reminders", "send")
    assert len(mine(wechat.state.messages, with_wechat)) == 1  # at most one


def test_no_reminder_after_a_week_or_when_switched_off(app, wechat, with_wechat, clock):
    Buyer(with_wechat.client).through(1)
    clock.advance(days=8)
    run(app, "reminders", "send")
    assert mine(wechat.state.messages, with_wechat) == []


def test_a_failed_send_is_tried_again(app, wechat, with_wechat, clock):
    Buyer(with_wechat.client).through(1)
    clock.advance(minutes=31)
    wechat.state.fail_next["template_send"] = [43004] * 50  # every send of this run (other tests' drafts too)
    run(app, "reminders", "send")
    assert mine(wechat.state.messages, with_wechat) == []
    wechat.state.fail_next.clear()
    run(app, "reminders", "send")  # the application is claimed: retrying its reminder is the job's
    assert mine(wechat.state.messages, with_wechat) == []
    clock.advance(minutes=1)  # the first retry's delay
    with app.app_context():
        run_due()
    assert len(mine(wechat.state.messages, with_wechat)) == 1


def test_switching_reminders_off_deletes_the_breakpoints(app, wechat, with_wechat, clock):
    buyer = Buyer(with_wechat.client)
    buyer.through(2)
    page = with_wechat.client.get("/me/privacy").get_data(as_text=True)
    assert "已开启" in page
    response = with_wechat.client.post("/me/privacy/reminders", data={"enabled": "0", "csrf_token": token(page)})
    assert response.status_code == 302
    page = with_wechat.client.get("/me/privacy").get_data(as_text=True)
    assert "已关闭投保断点提醒，并删除了 1 份未完成投保中保存的信息" in page and "已关闭" in page
    with app.app_context():
        assert db.session.scalar(select(Application).where(Application.number == buyer.number)) is None
    Buyer(with_wechat.client).through(1)  # applying still works; it just is never reminded
    clock.advance(minutes=40)
    run(app, "reminders", "send")
    assert mine(wechat.state.messages, with_wechat) == []


def test_purge_removes_breakpoints_older_than_30_days(app, customer, clock):
    old = Buyer(customer.client)
    old.through(1)
    clock.advance(days=31)
    recent = Buyer(customer.client, "kanghu-lifetime-ci")
    recent.through(1, plan="sa30")
    assert "Breakpoints deleted:" in run(app, "applications", "purge")
    with app.app_context():
        numbers = set(db.session.scalars(select(Application.number).where(Application.user_id == customer.id)))
    assert numbers == {recent.number}


def test_the_notifier_speaks_wechats_protocol(fake_wechat):
    from app.auth.wechat import WeChatError
    from app.notifications.wechat import TemplateMessages
    messages = TemplateMessages(SIM_APPID, "wrong", api_base=fake_wechat.base, template_id="t1")
    with pytest.raises(WeChatError) as error:
        messages.send("o-x", "https://example/", {"first": "x"})
    assert error.value.errcode == 40125
    good = TemplateMessages(SIM_APPID, "simulator-secret-not-for-production", api_base=fake_wechat.base,
                            template_id="t1")
    good.send("o-notifier", "https://example/resume", {"first": "你好"})
    sent = [m for m in fake_wechat.state.messages if m["touser"] == "o-notifier"]
    assert sent == [{"touser": "o-notifier", "template_id": "t1", "url": "https://example/resume",
                     "data": {"first": {"value": "你好"}}}]
