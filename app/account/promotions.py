"""推广信息: promotional template messages, sent only to users who have the switch on (隐私管理). A
reminder of one's own unfinished application is not a promotion: it has its own switch."""
from flask import current_app
from sqlalchemy import select

from app.auth.models import User, WeChatIdentity
from app.auth.services import wechat_credentials
from app.auth.wechat import WeChatError
from app.extensions import db
from app.purchase.notifier import TemplateMessages


def notifier():
    appid, secret, api_base, _ = wechat_credentials()
    config = current_app.config
    return TemplateMessages(appid, secret, api_base=api_base, template_id=config["WECHAT_TEMPLATE_PROMOTION"],
                            timeout=config["WECHAT_TIMEOUT"])


def recipients():
    """(user id, openid) of every active user who allows promotions, on our official account."""
    appid = wechat_credentials()[0]
    return db.session.execute(
        select(User.id, WeChatIdentity.openid).join(WeChatIdentity, WeChatIdentity.user_id == User.id)
        .where(WeChatIdentity.appid == appid, User.status == "active", User.promotions_enabled)
        .order_by(User.id)).all()


def send(messages, *, title, url, remark):
    """One message to each recipient; the switch is read again just before each send (someone may
    switch off while a long run goes on). Returns how many were sent."""
    sent = 0
    for user_id, openid in recipients():
        if not db.session.scalar(select(User.promotions_enabled).where(User.id == user_id)):
            continue
        try:
            messages.send(openid, url, {"first": title, "remark": remark})
        except WeChatError:
            current_app.logger.warning("Promotion to user %s not sent", user_id)
            continue
        sent += 1
    return sent
