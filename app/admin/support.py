"""Support lookups (客服): find a user by nickname, by an order, policy, application or voucher number, or
by the last four digits of a mobile number with their name; then their timeline, personal data masked.

Nothing here decrypts more than it must: the mobile search reads the keyed-hash index (mobile_index.py) and
decrypts the names of the few users it finds; a timeline shows masks; a value is shown whole only through
``reveal``, which the view records in the audit log with the reason given. A user's personal data leaves as a
file only through ``personal_data_file`` (合规), recorded the same way.
"""
import json
from dataclasses import dataclass

from sqlalchemy import func, select

from app.account import services as account_services
from app.admin.mobile_index import last4_hash
from app.admin.models import UserMobileIndex
from app.agreements.models import PRIVACY_SETTINGS, Consent, PrivacyChoice
from app.auth.models import LoginEvent, User
from app.core.forms import normalise_legal_name
from app.core.masking import mask_id_number, mask_name, mask_phone
from app.extensions import db
from app.orders.models import Order, Policy
from app.purchase.models import Application
from app.vouchers.models import Voucher
from app.vouchers.services import by_code, normalise_code

RESULTS = 20  # at most this many users per search


def _like(text):
    """A LIKE pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_users(kind, query):
    """Users matching ``query`` as ``kind`` (a key of forms.LOOKUP_KINDS)."""
    query = (query or "").strip()
    if not query:
        return []
    if kind == "nickname":
        return db.session.scalars(select(User).where(User.nickname.ilike(_like(query), escape="\\"))
                                  .order_by(User.id.desc()).limit(RESULTS)).all()
    user_id = None
    if kind == "order":
        user_id = db.session.scalar(select(Order.user_id).where(Order.number == query.upper()))
    elif kind == "policy":
        user_id = db.session.scalar(select(Policy.user_id).where(Policy.number == query.upper()))
    elif kind == "application":
        user_id = db.session.scalar(select(Application.user_id).where(Application.number == query.upper()))
    elif kind == "voucher":
        code = normalise_code(query)
        voucher = by_code(code) if code else None
        user_id = voucher.user_id if voucher is not None else None
    user = db.session.get(User, user_id) if user_id is not None else None
    return [user] if user is not None else []


def _same_name(typed, real_name):
    try:
        typed = normalise_legal_name(typed)
    except ValueError:
        typed = " ".join(typed.split())
    return bool(real_name) and typed.casefold() == real_name.casefold()


def find_by_mobile(last4, name):
    """Users whose contact or latest applicant mobile ends in ``last4`` and whose real name is ``name``."""
    candidates = db.session.scalars(select(User).where(User.id.in_(
        select(UserMobileIndex.user_id).where(UserMobileIndex.last4_hash == last4_hash(last4))))
        .order_by(User.id.desc()).limit(200)).all()
    return [user for user in candidates if _same_name(name, user.real_name)][:RESULTS]


# One user

def _applicant(user):
    """The applicant details of the user's latest application (their mobile there, when the account centre
    has none)."""
    data = db.session.scalar(select(Application.data).where(Application.user_id == user.id)
                             .order_by(Application.updated_at.desc(), Application.id.desc()).limit(1))
    try:
        return (json.loads(data or "{}").get("applicant") or {}) if data else {}
    except ValueError:
        return {}


def personal_values(user):
    """The personal data support may reveal, whole: {field: value} (empty where we hold none)."""
    applicant = None

    def from_application(key):
        nonlocal applicant
        if applicant is None:
            applicant = _applicant(user)
        return applicant.get(key) or ""

    return {"mobile": user.mobile or from_application("mobile"), "real_name": user.real_name or "",
            "id_number": user.id_number or "", "email": user.email or from_application("email")}


def mask_email(value):
    """zhang.san@example.com -> z*******@example.com"""
    if not value:
        return ""
    local, _, domain = value.partition("@")
    return (local[:1] + "*" * max(len(local) - 1, 1)) + ("@" + domain if domain else "")


MASKS = {"mobile": mask_phone, "real_name": mask_name, "id_number": mask_id_number, "email": mask_email}


def masked_values(values):
    return {key: MASKS[key](value) for key, value in values.items()}


def mask_code(code):
    """A voucher code is a bearer credential: support sees its first and last four characters."""
    if not code:
        return ""
    return code[:4] + "*" * max(len(code) - 8, 4) + code[-4:] if len(code) > 8 else "*" * len(code)


@dataclass
class Entry:
    at: object  # naive UTC
    kind: str  # application | order | policy | voucher | consent | privacy | login
    title: str
    detail: str
    ref: str = ""


KIND_LABELS = {"application": "投保单", "order": "订单", "policy": "保单", "voucher": "权益券", "consent": "协议",
               "privacy": "隐私设置", "login": "登录"}
APPLICATION_STATUS = {"draft": "填写中", "awaiting_payment": "待支付", "paid": "已支付", "declined": "未通过"}


def timeline(user, today, limit=200):
    """What the user has done with us, newest first, without personal data."""
    entries = []
    for app_ in db.session.scalars(select(Application).where(Application.user_id == user.id)):
        entries.append(Entry(app_.updated_at, "application", app_.product.name,
                             f"{APPLICATION_STATUS.get(app_.status, app_.status)} · 第{app_.step}步", app_.number))
    for order in db.session.scalars(select(Order).where(Order.user_id == user.id)):
        entries.append(Entry(order.created_at, "order", order.product.name,
                             f"{order.status_text} · {order.amount_fen // 100}.{order.amount_fen % 100:02d}元", order.number))
    for policy in db.session.scalars(select(Policy).where(Policy.user_id == user.id)):
        entries.append(Entry(policy.issued_at, "policy", policy.product.name,
                             f"{policy.state_text_on(today)} · {policy.starts_on}至{policy.ends_on}", policy.number))
    for voucher in db.session.scalars(select(Voucher).where(Voucher.user_id == user.id)):
        state = {"used": "已核销"}.get(voucher.status, "未使用")
        entries.append(Entry(voucher.claimed_at, "voucher", voucher.offer.title, state, mask_code(voucher.code)))
    for consent in db.session.scalars(select(Consent).where(Consent.user_id == user.id)):
        action = "同意" if consent.action == "accept" else "撤回"
        entries.append(Entry(consent.at, "consent", f"《{consent.version.agreement.title}》",
                             f"{action} · 版本{consent.version.version} · {'手机' if consent.channel == 'phone' else '电脑'}"))
    for choice in db.session.scalars(select(PrivacyChoice).where(PrivacyChoice.user_id == user.id)):
        entries.append(Entry(choice.at, "privacy", PRIVACY_SETTINGS.get(choice.setting, choice.setting),
                             "开启" if choice.enabled else "关闭"))
    for login in db.session.scalars(select(LoginEvent).where(LoginEvent.user_id == user.id)):
        entries.append(Entry(login.at, "login", f"{login.browser} · {login.os}", login.ip))
    entries.sort(key=lambda e: (e.at is not None, e.at), reverse=True)
    return entries[:limit]


def counts(user):
    def count(model, column):
        return db.session.scalar(select(func.count()).select_from(model).where(column == user.id))
    return {"applications": count(Application, Application.user_id), "orders": count(Order, Order.user_id),
            "policies": count(Policy, Policy.user_id), "vouchers": count(Voucher, Voucher.user_id)}


def personal_data_file(user, today):
    """Everything we hold about the user, as the file their own privacy centre gives them (我的数据)."""
    return json.dumps(account_services.export(user, today), ensure_ascii=False, indent=2)
