"""推广信息: promotional template messages, only to users who have the switch on (隐私管理). The
notifications module checks the switch again when each message is sent (someone may switch off while a
long run is queued). A reminder of one's own unfinished application is not a promotion: it has its own
switch."""
from sqlalchemy import select

from app.auth.models import User, WeChatIdentity
from app.auth.services import wechat_credentials
from app.extensions import db
from app.notifications import PROMOTION, notify


def recipients():
    """Every active user who allows promotions and follows our official account."""
    appid = wechat_credentials()[0]
    return db.session.scalars(
        select(User).join(WeChatIdentity, WeChatIdentity.user_id == User.id)
        .where(WeChatIdentity.appid == appid, User.status == "active", User.promotions_enabled)
        .order_by(User.id)).all()


def send(*, title, url, remark):
    """Queue one message to each recipient (sent when the caller commits). Returns how many."""
    users = recipients()
    for user in users:
        notify(user, PROMOTION, url=url, data={"first": title, "remark": remark})
    return len(users)
