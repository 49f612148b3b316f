"""断点续保: remind once of an application left unfinished, and forget old breakpoints.

Periodic jobs (app/purchase/jobs.py; `flask reminders send` and `flask applications purge` by hand):
every few minutes, drafts idle for more than 30 minutes and less than 7 days, whose owner allows
reminders, get one WeChat template message linking back to the step to resume (sent, and retried, by the
notifications module); every night, drafts idle for more than 30 days are deleted.

send_reminders commits each claim; purge and stop_reminders leave the commit to their caller.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from app.auth.models import User, WeChatIdentity
from app.auth.services import wechat_credentials
from app.core.database import begin_write
from app.extensions import db
from app.notifications import APPLICATION_REMINDER, notify
from app.purchase.models import STEPS, Application, SavedCarQuote

QUIET = timedelta(minutes=30)
TOO_OLD_TO_REMIND = timedelta(days=7)
KEPT = timedelta(days=30)


def due(now):
    """Applications to remind now (of users we can reach on our official account)."""
    appid = wechat_credentials()[0]
    stmt = (select(Application)
            .join(User, User.id == Application.user_id)
            .join(WeChatIdentity, (WeChatIdentity.user_id == User.id) & (WeChatIdentity.appid == appid))
            .where(Application.status == "draft", Application.reminded_at.is_(None), User.reminders_enabled,
                   Application.updated_at <= now - QUIET, Application.updated_at > now - TOO_OLD_TO_REMIND))
    return db.session.scalars(stmt).all()


def send_reminders(now):
    """Remind each due application once: the row is claimed with a conditional UPDATE in the same
    transaction that records the notification, so two runs at once never remind twice; a failed send is
    retried by the notification's job. Commits each claim. Returns how many reminders were queued."""
    queued = 0
    paths = current_app.url_map.bind("")  # a job has no request to take a host from: SITE_URL does
    for application in due(now):
        application_id, user_id = application.id, application.user_id
        resume = current_app.config["SITE_URL"].rstrip("/") + paths.build("purchase.step", {
            "slug": application.product.slug, "number": application.number, "step": application.step})
        data = {"first": "你有一份投保单尚未完成", "keyword1": application.product.name,
                "keyword2": f"停在“{STEPS[application.step]}”", "remark": "点击继续投保，已填写的内容都在。"}
        begin_write()
        claimed = db.session.execute(update(Application).where(
            Application.id == application_id, Application.status == "draft",
            Application.reminded_at.is_(None)).values(reminded_at=now)).rowcount
        if claimed:
            notify(db.session.get(User, user_id), APPLICATION_REMINDER, url=resume, data=data)
            queued += 1
        db.session.commit()
    return queued


def purge(now):
    """Delete drafts and saved car quotes (and the personal data in them) idle for more than 30 days."""
    result = db.session.execute(delete(Application).where(Application.status == "draft",
                                                           Application.updated_at < now - KEPT))
    quotes = db.session.execute(delete(SavedCarQuote).where(SavedCarQuote.updated_at < now - KEPT))
    return result.rowcount + quotes.rowcount


def stop_reminders(user):
    """Reminders off: and the saved breakpoints go at once, as promised."""
    user.reminders_enabled = False
    db.session.execute(delete(SavedCarQuote).where(SavedCarQuote.user_id == user.id))
    return db.session.execute(delete(Application).where(Application.user_id == user.id,
                                                        Application.status == "draft")).rowcount
