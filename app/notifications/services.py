"""Recording and sending notifications. ``notify`` does not commit (the send is queued when its caller
commits); ``deliver``, the send job's unit of work, commits each move of the record."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.auth.models import User, WeChatIdentity
from app.auth.services import wechat_credentials
from app.auth.wechat import WeChatError
from app.core.clock import db_now
from app.core.database import begin_write
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.templates import TEMPLATES
from app.notifications.wechat import TemplateMessages

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)  # then five times as long after each failure: 1, 5, 25, 125 minutes


def notify(user, template, *, url, data):
    """Record a message to ``user`` and queue its send for when the caller's transaction commits. A user
    whose switch is off gets none: the record says skipped, and why. Returns the Notification."""
    refusal = template.refusal(user)
    row = Notification(user_id=user.id, template=template.key, created_at=db_now(),
                       status="skipped" if refusal else "queued", last_error=refusal)
    db.session.add(row)
    db.session.flush()  # its id, for the job
    if not refusal:
        from app.notifications.jobs import send
        send.enqueue_after_commit(row.id, url, data)
    return row


def retry_delay(attempts):
    return FIRST_RETRY * 5 ** (attempts - 1)


def deliver(notification_id, url, data):
    """One attempt at sending a queued notification: the switches are read again (someone may have
    switched off since), the attempt is claimed with a conditional UPDATE (of two workers holding the same
    job, one sends), WeChat is called outside any write transaction. Returns when to try again after a
    failure, or None when there is nothing more to do."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.status != "queued":
        return None  # done already: a job that runs twice sends once
    template, seen = TEMPLATES[row.template], row.attempts
    user = db.session.get(User, row.user_id)
    refusal = template.refusal(user)
    openid = None if refusal else _openid(user.id)
    if refusal or openid is None:
        _move(notification_id, seen, status="skipped", last_error=refusal or "no_wechat")
        return None
    attempt = seen + 1
    if not _move(notification_id, seen, attempts=attempt):
        return None  # another worker took this attempt
    now = db_now()
    try:
        _client(template).send(openid, url, data)
    except WeChatError as error:
        code = "unavailable" if error.errcode is None else str(error.errcode)
        final = attempt >= MAX_ATTEMPTS
        current_app.logger.warning("Notification %s (%s) attempt %s of %s failed: %s", notification_id,
                                   template.key, attempt, MAX_ATTEMPTS, code)
        _move(notification_id, attempt, last_error=code, **({"status": "failed"} if final else {}))
        return None if final else now + retry_delay(attempt)
    _move(notification_id, attempt, status="sent", sent_at=now)
    return None


def _move(notification_id, seen, /, **values):
    """Change a record that is still queued after ``seen`` attempts; commits. Whether it was."""
    begin_write()
    moved = db.session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.status == "queued",
        Notification.attempts == seen).values(**values)).rowcount
    db.session.commit()
    return moved == 1


def _openid(user_id):
    """The user's openid on our official account; None once the WeChat link is gone (注销)."""
    appid = wechat_credentials()[0]
    return db.session.scalar(select(WeChatIdentity.openid).where(
        WeChatIdentity.user_id == user_id, WeChatIdentity.appid == appid))


def _client(template):
    appid, secret, api_base, _ = wechat_credentials()
    config = current_app.config
    return TemplateMessages(appid, secret, api_base=api_base, template_id=config[template.setting],
                            timeout=config["WECHAT_TIMEOUT"])
