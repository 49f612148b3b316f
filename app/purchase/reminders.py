"""断点续保: remind once of an application left unfinished, and forget old breakpoints.

`flask reminders send` (cron, every few minutes) reminds of drafts idle for more than 30 minutes and
less than 7 days, whose owner allows reminders, through a WeChat template message linking back to the
step to resume. `flask applications purge` deletes drafts idle for more than 30 days.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from app.auth.models import User, WeChatIdentity
from app.auth.services import wechat_credentials
from app.auth.wechat import WeChatError
from app.extensions import db
from app.purchase.models import STEPS, Application, SavedCarQuote
from app.purchase.notifier import TemplateMessages

QUIET = timedelta(minutes=30)
TOO_OLD_TO_REMIND = timedelta(days=7)
KEPT = timedelta(days=30)


def notifier():
    appid, secret, api_base, _ = wechat_credentials()
    config = current_app.config
    return TemplateMessages(appid, secret, api_base=api_base, template_id=config["WECHAT_TEMPLATE_REMINDER"],
                            timeout=config["WECHAT_TIMEOUT"])


def due(now):
    """(application, openid) pairs to remind now."""
    appid = wechat_credentials()[0]
    stmt = (select(Application, WeChatIdentity.openid)
            .join(User, User.id == Application.user_id)
            .join(WeChatIdentity, (WeChatIdentity.user_id == User.id) & (WeChatIdentity.appid == appid))
            .where(Application.status == "draft", Application.reminded_at.is_(None), User.reminders_enabled,
                   Application.updated_at <= now - QUIET, Application.updated_at > now - TOO_OLD_TO_REMIND))
    return db.session.execute(stmt).all()


def send_reminders(messages, now):
    """Remind each due application once: the row is claimed with a conditional UPDATE first, so two
    runs never send twice; a failed send is released for the next run. Returns how many were sent."""
    sent = 0
    paths = current_app.url_map.bind("")  # a cron job has no request to take a host from: SITE_URL does
    for application, openid in due(now):
        claimed = db.session.execute(update(Application).where(
            Application.id == application.id, Application.reminded_at.is_(None)).values(reminded_at=now)).rowcount
        db.session.commit()
        if not claimed:
            continue
        resume = current_app.config["SITE_URL"].rstrip("/") + paths.build("purchase.step", {
            "slug": application.product.slug, "number": application.number, "step": application.step})
        try:
            messages.send(openid, resume, {
                "first": "你有一份投保单尚未完成", "keyword1": application.product.name,
                "keyword2": f"停在“{STEPS[application.step]}”", "remark": "点击继续投保，已填写的内容都在。"})
        except WeChatError:
            current_app.logger.warning("Reminder for application %s not sent", application.id)
            db.session.execute(update(Application).where(Application.id == application.id).values(reminded_at=None))
            db.session.commit()
            continue
        sent += 1
    return sent


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
