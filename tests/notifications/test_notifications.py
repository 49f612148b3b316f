"""One way to message a user: notify() records the message (no text, no personal data), a job sends it to
the fake WeChat, retries it with a growing delay, gives up after five attempts, and the user's switches
are read when it is queued and again when it is sent. Jobs run where they are queued; a retry waits until
the test moves the clock and calls run_due()."""
import logging

import pytest
import requests
from sqlalchemy import inspect, select

from app.auth.models import User
from app.auth.simulator import SIM_APPID, SIM_SECRET
from app.extensions import db
from app.jobs import run_due
from app.notifications import APPLICATION_REMINDER, PROMOTION, notify
from app.notifications import services as notifications
from app.notifications.models import Notification
from app.notifications.wechat import TemplateMessages
from tests.support.concurrency import at_once

URL = "http://127.0.0.1:5000/buy/anxin-million-medical/WB0001/3"
DATA = {"first": "你有一份投保单尚未完成", "keyword1": "安心百万医疗2026"}


def send(app, user_id, template=PROMOTION, data=DATA):
    """notify() in a unit of work that commits, as a service's caller does. The notification's id."""
    with app.app_context():
        row = notify(db.session.get(User, user_id), template, url=URL, data=data)
        db.session.commit()
        return row.id


def record(app, notification_id):
    with app.app_context():
        return db.session.get(Notification, notification_id)


def received(wechat, user):
    return [m for m in wechat.state.messages if m["touser"] == user.openid]


def later(app, clock, **delta):
    clock.advance(**delta)
    with app.app_context():
        run_due()


def test_a_notification_is_sent_once_and_recorded_without_personal_data(app, wechat, reachable, caplog):
    user = reachable(nickname="张三丰")
    caplog.set_level(logging.INFO)
    notification_id = send(app, user.id, APPLICATION_REMINDER)
    [message] = received(wechat, user)
    assert message["url"] == URL and message["data"]["keyword1"]["value"] == "安心百万医疗2026"
    assert message["template_id"] == app.config["WECHAT_TEMPLATE_REMINDER"]
    row = record(app, notification_id)
    assert (row.user_id, row.template, row.status, row.attempts, row.last_error) == (
        user.id, "application_reminder", "sent", 1, None)
    assert row.created_at and row.sent_at
    # What the table can hold at all: the user id is the only thing about the person.
    with app.app_context():
        columns = {column["name"] for column in inspect(db.engine).get_columns("notification")}
    assert columns == {"id", "user_id", "template", "status", "attempts", "created_at", "sent_at", "last_error"}
    logged = caplog.text
    assert user.openid not in logged and "张三丰" not in logged and "安心百万医疗" not in logged


def test_each_notification_reaches_the_fake_wechat_exactly_once(app, wechat, reachable):
    users = [reachable() for _ in range(3)]
    for user in users:
        send(app, user.id)
    with app.app_context():
        run_due()  # nothing is left to run again
    assert [len(received(wechat, user)) for user in users] == [1, 1, 1]


def test_nothing_is_queued_when_the_caller_rolls_back(app, wechat, reachable):
    user = reachable()
    with app.app_context():
        notify(db.session.get(User, user.id), PROMOTION, url=URL, data=DATA)
        db.session.rollback()
        assert db.session.scalar(select(Notification).where(Notification.user_id == user.id)) is None
    assert received(wechat, user) == []


def test_a_failed_send_is_retried_with_a_growing_delay_then_sent(app, wechat, reachable, clock, caplog):
    user = reachable()
    wechat.state.fail_next["template_send"] = [45009, -1]
    notification_id = send(app, user.id)
    row = record(app, notification_id)
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, "45009")
    later(app, clock, seconds=59)
    assert record(app, notification_id).attempts == 1  # not yet
    later(app, clock, seconds=1)  # a minute after the first attempt
    assert record(app, notification_id).attempts == 2 and received(wechat, user) == []
    later(app, clock, minutes=4, seconds=59)
    assert record(app, notification_id).attempts == 2  # the second wait is five minutes
    later(app, clock, seconds=1)
    row = record(app, notification_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "-1")
    assert len(received(wechat, user)) == 1
    assert user.openid not in caplog.text


def test_a_notification_fails_after_five_attempts(app, wechat, reachable, clock):
    user = reachable()
    wechat.state.fail_next["template_send"] = [45009] * 5
    notification_id = send(app, user.id)
    for minutes in (1, 5, 25, 125):
        later(app, clock, minutes=minutes)
    row = record(app, notification_id)
    assert (row.status, row.attempts, row.last_error, row.sent_at) == ("failed", 5, "45009", None)
    later(app, clock, days=1)
    assert record(app, notification_id).attempts == 5 and received(wechat, user) == []


def test_promotions_off_skips_a_promotion_queued_or_waiting_for_its_retry(app, wechat, reachable, clock):
    off, switching = reachable(), reachable()
    with app.app_context():
        db.session.get(User, off.id).promotions_enabled = False
        db.session.commit()
    skipped = record(app, send(app, off.id))
    assert (skipped.status, skipped.attempts, skipped.last_error) == ("skipped", 0, "promotions_off")

    wechat.state.fail_next["template_send"] = [45009]
    waiting = send(app, switching.id)
    with app.app_context():
        db.session.get(User, switching.id).promotions_enabled = False  # between the attempts
        db.session.commit()
    later(app, clock, minutes=1)
    row = record(app, waiting)
    assert (row.status, row.attempts, row.last_error) == ("skipped", 1, "promotions_off")
    assert received(wechat, off) == [] and received(wechat, switching) == []


def test_reminders_off_skips_a_reminder_but_a_service_message_is_no_promotion(app, wechat, reachable):
    user = reachable()
    with app.app_context():
        db.session.get(User, user.id).promotions_enabled = False
        db.session.commit()
    assert record(app, send(app, user.id, APPLICATION_REMINDER)).status == "sent"
    with app.app_context():
        db.session.get(User, user.id).reminders_enabled = False
        db.session.commit()
    row = record(app, send(app, user.id, APPLICATION_REMINDER))
    assert (row.status, row.last_error) == ("skipped", "reminders_off")
    assert len(received(wechat, user)) == 1


def test_a_user_without_wechat_is_skipped(app, wechat, member):
    user = member()
    row = record(app, send(app, user.id, APPLICATION_REMINDER))
    assert (row.status, row.attempts, row.last_error) == ("skipped", 0, "no_wechat")


def test_two_workers_holding_the_same_job_send_once(app, wechat, reachable):
    user = reachable()
    wechat.state.fail_next["template_send"] = [45009]
    notification_id = send(app, user.id)  # failed once: queued for a retry, which two workers now both hold
    def worker(i):
        with app.app_context():
            return notifications.deliver(notification_id, URL, DATA)

    results = at_once(2, worker)
    assert results == [None, None]
    assert len(received(wechat, user)) == 1
    row = record(app, notification_id)
    assert (row.status, row.attempts) == ("sent", 2)


class CountingSession(requests.Session):
    def __init__(self):
        super().__init__()
        self.paths = []

    def request(self, method, url, **kwargs):
        self.paths.append(url.rsplit("/cgi-bin/", 1)[-1])
        return super().request(method, url, **kwargs)


@pytest.mark.parametrize("expired", [40001, 42001])
def test_the_access_token_is_fetched_once_per_process_until_wechat_refuses_it(fake_wechat, expired):
    from app.auth.wechat import WeChatError
    http = CountingSession()

    def client():  # one per job, as the send job makes them
        return TemplateMessages(SIM_APPID, SIM_SECRET, api_base=fake_wechat.base + "/", template_id="t1", http=http)

    client().send("o-token", URL, DATA)
    client().send("o-token", URL, DATA)
    assert http.paths.count("token") <= 1 and http.paths.count("message/template/send") == 2
    fake_wechat.state.fail_next["template_send"] = [expired]
    with pytest.raises(WeChatError):
        client().send("o-token", URL, DATA)
    http.paths.clear()
    client().send("o-token", URL, DATA)
    assert http.paths == ["token", "message/template/send"]
