"""在线客服: a user's consultation with a person, and the support team's work on it. A consultation waits
until someone takes it (one conditional UPDATE: of two taking at once, one wins), is answered by whoever holds
it (canned replies or their own words), may be passed to a colleague, and is closed by either side; the user
rates it once it is closed. A reply to a user who has not looked at the page for a while also goes out as a
WeChat message (at most one every NOTIFY_EVERY). Every staff action has its audit row in the same
transaction, holding states and who, never what anyone wrote. The pages are consult_views.py's (the user's)
and consult_admin.py's (the back office's)."""
import secrets
from dataclasses import dataclass
from datetime import time, timedelta

from flask import current_app
from sqlalchemy import case, func, or_, select, update

from app.admin import audit
from app.admin.models import AdminStaff, AdminStaffRole
from app.admin.roles import ROLES
from app.assistant.models import (
    CONSULT_STATES,
    AssistantMessage,
    CannedReply,
    Consultation,
    ConsultMessage,
    Conversation,
)
from app.auth.models import User
from app.core.clock import to_local
from app.core.domain import DomainError
from app.core.logs import redact
from app.core.masking import mask_name
from app.core.routing import is_token
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.services import notify
from app.notifications.templates import CONSULT_REPLY

PERMISSION = "users.lookup"  # who answers: 客服 (and whoever else holds it)
MESSAGE_MAX = 500  # a user's message
REPLY_MAX = 1000  # a staff member's reply (a canned one with words of their own)
AWAY_AFTER = timedelta(minutes=2)  # the user's page has not polled for this long: they are away
NOTIFY_EVERY = timedelta(minutes=10)  # at most one WeChat message a user in this time
SEEN_EVERY = timedelta(seconds=30)  # how often a poll writes user_seen_at (not every few seconds)

audit.register(
    actions={"consult.taken": "接入在线咨询", "consult.replied": "回复在线咨询", "consult.transferred": "转接在线咨询",
             "consult.closed": "结束在线咨询", "consult.canned_saved": "保存常用回复"},
    object_types={"consultation": "在线咨询", "canned_reply": "常用回复"},
    field_labels={"consult_status": "咨询状态", "consult_staff": "接待客服", "consult_canned": "使用常用回复",
                  "consult_notified": "微信提醒用户", "canned_title": "标题", "canned_length": "正文字数"},
    value_labels={"consult_status": CONSULT_STATES},
)


class ConsultError(DomainError):
    pass


# Working hours (CONSULT_HOURS, Beijing time, e.g. "09:00-21:00")

@dataclass(frozen=True)
class Hours:
    opens: time
    closes: time

    @property
    def label(self):
        return f"每天 {self.opens:%H:%M}–{self.closes:%H:%M}（北京时间）"

    def open_at(self, now):
        """Whether someone answers at ``now`` (naive UTC)."""
        local = to_local(now).time()
        return self.opens <= local < self.closes

    def next_opening(self, now):
        """When someone will answer a message sent at ``now`` outside hours, as the user reads it."""
        local = to_local(now)
        day = local.date() if local.time() < self.opens else local.date() + timedelta(days=1)
        when = "今天" if day == local.date() else "明天"
        return f"{when} {self.opens:%H:%M}"


def hours():
    opens, closes = current_app.config["CONSULT_HOURS"].split("-")
    return Hours(time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip()))


# The user's side

def _new_id():
    return secrets.token_urlsafe(18)


def consultations_of(user):
    return db.session.scalars(select(Consultation).where(Consultation.user_id == user.id)
                              .order_by(Consultation.updated_at.desc(), Consultation.id.desc())).all()


def find(user, public_id):
    """The user's own consultation, or None (anyone else's is not there for them)."""
    if not isinstance(public_id, str) or len(public_id) > 32:
        return None
    return db.session.scalar(select(Consultation).where(Consultation.public_id == public_id,
                                                        Consultation.user_id == user.id))


def own_conversation(user, public_id):
    """The user's own conversation with 智能管家, or None."""
    if not is_token(public_id) or len(public_id) > 32:
        return None
    return db.session.scalar(select(Conversation).where(Conversation.public_id == public_id,
                                                        Conversation.user_id == user.id))


def _say(consultation, sender, content, now, staff=None):
    db.session.add(ConsultMessage(consultation_id=consultation.id, sender=sender, content=content, created_at=now,
                                  staff_id=staff.id if staff is not None else None))


def start(user, content, *, conversation=None, now):
    """A new consultation with the user's first message (ID and mobile numbers masked, as at rest everywhere),
    the conversation with 智能管家 attached when there is one."""
    consultation = Consultation(public_id=_new_id(), user_id=user.id, status="waiting", created_at=now,
                                updated_at=now, user_seen_at=now,
                                conversation_id=conversation.id if conversation is not None else None)
    db.session.add(consultation)
    db.session.flush()
    if conversation is not None:
        _say(consultation, "system", "已附上你与智能管家的对话，客服可以看到，无需重复描述。", now)
    _say(consultation, "user", redact(content), now)
    return consultation


def send(consultation, user, content, *, now):
    if consultation.status == "closed":
        raise ConsultError("本次咨询已结束，如有新的问题请发起新的咨询")
    _say(consultation, "user", redact(content), now)
    consultation.updated_at = now
    consultation.user_seen_at = now


def stale(consultation, now):
    """Whether the poll at ``now`` is to write user_seen_at (seen()): at most every SEEN_EVERY."""
    return consultation.user_seen_at is None or now - consultation.user_seen_at >= SEEN_EVERY


def seen(consultation, now):
    """The user's page polled: written at most every SEEN_EVERY (a poll every few seconds is not a write each)."""
    done = db.session.execute(update(Consultation).where(
        Consultation.id == consultation.id,
        or_(Consultation.user_seen_at.is_(None), Consultation.user_seen_at <= now - SEEN_EVERY))
        .values(user_seen_at=now)).rowcount
    return bool(done)


def user_close(consultation, user, *, now):
    if consultation.status == "closed":
        return
    _close(consultation, now)
    _say(consultation, "system", "你结束了本次咨询。", now)


def rate(consultation, user, rating, comment, *, now):
    """Once, when closed (by either side)."""
    if consultation.status != "closed":
        raise ConsultError("咨询结束后才能评价")
    done = db.session.execute(update(Consultation).where(
        Consultation.id == consultation.id, Consultation.status == "closed", Consultation.rating.is_(None))
        .values(rating=rating, rating_comment=redact(comment or ""), updated_at=now)).rowcount
    if not done:
        raise ConsultError("你已经评价过本次咨询")
    db.session.refresh(consultation)


def attached(consultation):
    """The conversation with 智能管家 the user opened it from (its questions were masked when stored)."""
    if consultation.conversation_id is None:
        return []
    return db.session.scalars(select(AssistantMessage).where(
        AssistantMessage.conversation_id == consultation.conversation_id).order_by(AssistantMessage.id)).all()


# The back office

def _holders():
    """The roles that grant PERMISSION."""
    return [code for code, role in ROLES.items() if PERMISSION in role.permissions]


def colleagues(staff):
    """Who a consultation may be passed to: the other staff holding PERMISSION whose account is usable."""
    ids = select(AdminStaffRole.staff_id).where(AdminStaffRole.role.in_(_holders()))
    return db.session.scalars(select(AdminStaff).where(
        AdminStaff.id.in_(ids), AdminStaff.id != staff.id, AdminStaff.disabled_at.is_(None))
        .order_by(AdminStaff.display_name, AdminStaff.id)).all()


def names(staff_ids):
    ids = {i for i in staff_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(AdminStaff.id, AdminStaff.display_name).where(AdminStaff.id.in_(ids))).all())


@dataclass(frozen=True)
class Row:
    consultation: Consultation
    user: str  # the nickname, masked
    waited: timedelta  # since it opened (waiting) or since its last message (open)
    last: str  # who spoke last: user | staff | system

    @property
    def waited_text(self):
        minutes = int(self.waited.total_seconds() // 60)
        if minutes < 1:
            return "不到 1 分钟"
        if minutes < 60:
            return f"{minutes} 分钟"
        hours, minutes = divmod(minutes, 60)
        return f"{hours} 小时 {minutes} 分钟" if hours < 24 else f"{hours // 24} 天"


def inbox(staff, now):
    """The open consultations: those waiting first (the longest waiting first), then the staff member's own, then
    the others' (the longest without an answer first)."""
    last_sender = (select(ConsultMessage.sender).where(ConsultMessage.consultation_id == Consultation.id)
                   .order_by(ConsultMessage.id.desc()).limit(1).scalar_subquery())
    order = case((Consultation.status == "waiting", 0), (Consultation.staff_id == staff.id, 1), else_=2)
    found = db.session.execute(
        select(Consultation, User.nickname, last_sender).join(User, User.id == Consultation.user_id)
        .where(Consultation.status.in_(("waiting", "open")))
        .order_by(order, case((Consultation.status == "waiting", Consultation.created_at),
                              else_=Consultation.updated_at), Consultation.id)).all()
    return [Row(c, mask_name(nickname) or "—", now - (c.created_at if c.status == "waiting" else c.updated_at), last or "")
            for c, nickname, last in found]


def counts():
    found = dict(db.session.execute(select(Consultation.status, func.count()).group_by(Consultation.status)).all())
    return {code: found.get(code, 0) for code in CONSULT_STATES}


def by_public_id(public_id):
    if not isinstance(public_id, str) or len(public_id) > 32:
        return None
    return db.session.scalar(select(Consultation).where(Consultation.public_id == public_id))


def user_of(consultation):
    """The user as the support team sees them here: the nickname, masked."""
    user = db.session.get(User, consultation.user_id)
    return mask_name(user.nickname if user is not None else "") or "—"


def _audited(action, consultation, staff, *, ip, after=None, before=None):
    audit.record(action, staff=staff, object_type="consultation", object_id=consultation.public_id,
                 before=before, after=after, ip=ip)


def take(consultation, staff, *, now, ip):
    """接入: a waiting consultation becomes the staff member's (of two taking it at once, one wins)."""
    done = db.session.execute(update(Consultation).where(
        Consultation.id == consultation.id, Consultation.status == "waiting")
        .values(status="open", staff_id=staff.id, updated_at=now)).rowcount
    if not done:
        db.session.refresh(consultation)
        raise ConsultError("这条咨询已由其他同事接入" if consultation.status == "open" else "这条咨询已经结束")
    db.session.refresh(consultation)
    _say(consultation, "system", "客服已接入，正在为你服务。", now, staff)
    _audited("consult.taken", consultation, staff, ip=ip, before={"consult_status": "waiting"},
             after={"consult_status": "open", "consult_staff": staff.display_name})


def _holding(consultation, staff):
    if consultation.status != "open" or consultation.staff_id != staff.id:
        raise ConsultError("这条咨询不由你接待（可能已转接或已结束），请刷新页面")


def reply(consultation, staff, content, *, canned=None, now, ip):
    """The staff member's reply: a canned one, their own words, or both (the canned first). A user who has not
    looked at the page for AWAY_AFTER is told by WeChat, at most once every NOTIFY_EVERY."""
    _holding(consultation, staff)
    text = "\n".join(part for part in ((canned.body if canned is not None else ""), content or "") if part)
    if not text:
        raise ConsultError("请输入回复内容，或选择一条常用回复", "content")
    if len(text) > REPLY_MAX:
        raise ConsultError(f"回复最多{REPLY_MAX}个字（含常用回复）", "content")
    _say(consultation, "staff", text, now, staff)
    consultation.updated_at = now
    notified = _tell_if_away(consultation, now)
    _audited("consult.replied", consultation, staff, ip=ip,
             after={"consult_canned": canned.title if canned is not None else None, "consult_notified": notified})


def _tell_if_away(consultation, now):
    seen_at = consultation.user_seen_at
    if seen_at is not None and now - seen_at < AWAY_AFTER:
        return False
    recent = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == consultation.user_id, Notification.template == CONSULT_REPLY.key,
        Notification.created_at > now - NOTIFY_EVERY))
    if recent:
        return False
    user = db.session.get(User, consultation.user_id)
    url = current_app.config["SITE_URL"].rstrip("/") + f"/consult/{consultation.public_id}"
    notify(user, CONSULT_REPLY, url=url, data={
        "first": "客服回复了你的咨询", "keyword1": "在线客服", "keyword2": "已回复",
        "remark": "点击查看回复（内容请在页面中查看）。"})
    return True


def transfer(consultation, staff, to_id, *, now, ip):
    """转接: to a colleague holding the permission; they answer from then on."""
    _holding(consultation, staff)
    colleague = next((c for c in colleagues(staff) if str(c.id) == str(to_id)), None)
    if colleague is None:
        raise ConsultError("请选择一位可以接待咨询的同事", "to")
    done = db.session.execute(update(Consultation).where(
        Consultation.id == consultation.id, Consultation.status == "open", Consultation.staff_id == staff.id)
        .values(staff_id=colleague.id, updated_at=now)).rowcount
    if not done:
        raise ConsultError("这条咨询不由你接待（可能已转接或已结束），请刷新页面")
    db.session.refresh(consultation)
    _say(consultation, "system", "已为你转接另一位客服，请稍候。", now, staff)
    _audited("consult.transferred", consultation, staff, ip=ip, before={"consult_staff": staff.display_name},
             after={"consult_staff": colleague.display_name})
    return colleague


def _close(consultation, now):
    consultation.status, consultation.closed_at, consultation.updated_at = "closed", now, now


def staff_close(consultation, staff, *, now, ip):
    _holding(consultation, staff)
    before = consultation.status
    _close(consultation, now)
    _say(consultation, "system", "客服结束了本次咨询。欢迎为本次服务评价。", now, staff)
    _audited("consult.closed", consultation, staff, ip=ip, before={"consult_status": before},
             after={"consult_status": "closed"})


# Canned replies

def canned_replies():
    return db.session.scalars(select(CannedReply).order_by(CannedReply.title)).all()


def canned(reply_id):
    try:
        return db.session.get(CannedReply, int(reply_id))
    except (TypeError, ValueError, OverflowError):
        return None


def save_canned(row, staff, title, body, *, now, ip):
    """A new canned reply (``row`` None) or an edit; titles are unique."""
    clash = db.session.scalar(select(CannedReply).where(CannedReply.title == title,
                                                        CannedReply.id != (row.id if row is not None else -1)))
    if clash is not None:
        raise ConsultError("已有同名的常用回复", "title")
    before = {} if row is None else {"canned_title": row.title, "canned_length": len(row.body)}
    if row is None:
        row = CannedReply(title=title, body=body, created_at=now)
        db.session.add(row)
    else:
        row.title, row.body = title, body
    db.session.flush()
    changed_before, changed_after = audit.changes(before, {"canned_title": title, "canned_length": len(body)})
    audit.record("consult.canned_saved", staff=staff, object_type="canned_reply", object_id=row.id,
                 before=changed_before, after=changed_after, ip=ip)
    return row
