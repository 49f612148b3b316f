"""Partners, stores, offers and partner staff accounts as the back office manages them (商户管理, and 运营 for
offers): create and edit, a staff account's password reset, lock and unlock. Each writes its audit row with the
fields that changed (never a password, nothing personal); flushes, the view commits.

An offer's stock changes by one conditional UPDATE that moves stock_left by as much as stock_total, in the
database: vouchers claimed at that very moment (each a conditional UPDATE of stock_left) stay claimed, and the
stock can neither go below zero nor below what is already claimed.
"""
import re

from sqlalchemy import func, select, update

from app.admin import audit
from app.admin.auth import one_time_password
from app.admin.models import AuditEvent
from app.agreements.models import Agreement
from app.catalog.models import Category
from app.core.domain import DomainError
from app.extensions import db
from app.vouchers import staff as staff_auth
from app.vouchers.models import KINDS, Offer, Partner, PartnerStaff, Store, Voucher
from app.vouchers.services import CITY_SEPARATOR

audit.register(
    actions={
        "partner.created": "新增合作商户", "partner.updated": "修改合作商户",
        "store.created": "新增门店", "store.updated": "修改门店",
        "offer.created": "新建权益券活动", "offer.updated": "修改权益券活动",
        "partner_staff.created": "开设商户员工账号", "partner_staff.password_reset": "重置商户员工密码",
        "partner_staff.locked": "锁定商户员工账号", "partner_staff.unlocked": "解除商户员工锁定",
    },
    object_types={"partner": "合作商户", "store": "门店", "offer": "权益券活动", "partner_staff": "商户员工账号"},
    field_labels={
        "slug": "商户代码", "name": "名称", "kind": "类型", "description": "简介", "agreement_kind": "用户协议",
        "partner": "商户", "store": "门店", "city": "城市", "address": "地址", "phone": "电话",
        "title": "标题", "service": "服务内容", "terms": "使用须知", "price_fen": "到店价（分）",
        "settlement_fen": "结算价（分）", "stock_total": "总数量", "stock_left": "剩余数量",
        "per_user_limit": "每人限领", "valid_days": "有效天数", "starts_on": "开始领取", "ends_on": "领取截止",
        "cities": "适用城市", "required_category": "领取条件",
    },
    value_labels={"kind": KINDS, "cities": {"": "全部门店所在城市"}, "required_category": {"": "不限"}},
)

SLUG = re.compile(r"[a-z][a-z0-9-]{1,39}")


class ManageError(DomainError):
    pass


def _record(action, actor, obj, object_type, before=None, after=None, *, reason="", ip, now):
    if before is not None and after is not None:
        before, after = audit.changes(before, after)
        if not after:
            return False
    audit.record(action, staff=actor, object_type=object_type, object_id=obj.id, before=before, after=after,
                 reason=reason, ip=ip, now=now)
    return True


def recent_events(object_type, object_id, limit=20):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)).all()


# Partners

def all_partners():
    """Partners with how many stores and staff accounts each has: [(partner, stores, staff)]."""
    stores = dict(db.session.execute(select(Store.partner_id, func.count()).group_by(Store.partner_id)).all())
    staff = dict(db.session.execute(select(Store.partner_id, func.count()).select_from(PartnerStaff)
                                    .join(Store, Store.id == PartnerStaff.store_id).group_by(Store.partner_id)).all())
    partners = db.session.scalars(select(Partner).order_by(Partner.name)).all()
    return [(partner, stores.get(partner.id, 0), staff.get(partner.id, 0)) for partner in partners]


def get_partner(partner_id):
    return db.session.get(Partner, partner_id)


def partner_by_slug(slug):
    return db.session.scalar(select(Partner).where(Partner.slug == slug))


def partner_agreements(partner):
    """The agreements a partner's users may be asked to accept: those scoped to it (Agreement.scope_ref)."""
    return db.session.scalars(select(Agreement).where(Agreement.scope == "partner", Agreement.scope_ref == partner.slug)
                              .order_by(Agreement.position, Agreement.id)).all()


def _partner_facts(partner):
    return {"slug": partner.slug, "name": partner.name, "kind": partner.kind, "description": partner.description,
            "agreement_kind": partner.agreement_kind}


def create_partner(actor, *, slug, name, kind, description, now, ip):
    """A new partner and its user agreement (no version yet: 合规 writes and publishes it; until then its users
    are asked for none)."""
    if kind not in KINDS:
        raise ManageError("请选择商户类型", "kind")
    if db.session.scalar(select(Partner.id).where(Partner.slug == slug)):
        raise ManageError("该商户代码已被使用", "slug")
    agreement_kind = f"partner-{slug}"
    if db.session.scalar(select(Agreement.id).where(Agreement.kind == agreement_kind)):
        raise ManageError("已有同名的协议，请换一个商户代码", "slug")
    position = db.session.scalar(select(func.coalesce(func.max(Agreement.position), 0))) + 1
    db.session.add(Agreement(kind=agreement_kind, title=f"{name}用户服务协议"[:60], scope="partner", scope_ref=slug,
                             position=position))
    partner = Partner(slug=slug, name=name, kind=kind, description=description, agreement_kind=agreement_kind)
    db.session.add(partner)
    db.session.flush()
    _record("partner.created", actor, partner, "partner", after=_partner_facts(partner), ip=ip, now=now)
    return partner


def update_partner(actor, partner, *, name, kind, description, agreement_kind, now, ip):
    """Returns whether anything changed. The code (slug) stays: the consent ledger names the partner by it."""
    if kind not in KINDS:
        raise ManageError("请选择商户类型", "kind")
    if agreement_kind not in {a.kind for a in partner_agreements(partner)}:
        raise ManageError("请选择本商户的用户协议", "agreement_kind")
    before = _partner_facts(partner)
    partner.name, partner.kind, partner.description, partner.agreement_kind = name, kind, description, agreement_kind
    db.session.flush()
    return _record("partner.updated", actor, partner, "partner", before, _partner_facts(partner), ip=ip, now=now)


# Stores

def get_store(store_id):
    return db.session.get(Store, store_id)


def _store_facts(store):
    return {"partner": store.partner.name, "name": store.name, "city": store.city, "address": store.address,
            "phone": store.phone}


def _unique_store_name(name, partner_id, store_id=None):
    taken = db.session.scalar(select(Store.id).where(Store.partner_id == partner_id, Store.name == name,
                                                     Store.id != (store_id or 0)))
    if taken:
        raise ManageError("该商户已有同名门店", "name")


def create_store(actor, partner, *, name, city, address, phone, now, ip):
    _unique_store_name(name, partner.id)
    store = Store(partner=partner, name=name, city=city, address=address, phone=phone)
    db.session.add(store)
    db.session.flush()
    _record("store.created", actor, store, "store", after=_store_facts(store), ip=ip, now=now)
    return store


def update_store(actor, store, *, name, city, address, phone, now, ip):
    _unique_store_name(name, store.partner_id, store.id)
    before = _store_facts(store)
    store.name, store.city, store.address, store.phone = name, city, address, phone
    db.session.flush()
    return _record("store.updated", actor, store, "store", before, _store_facts(store), ip=ip, now=now)


def staff_of_store(store):
    return db.session.scalars(select(PartnerStaff).where(PartnerStaff.store_id == store.id)
                              .order_by(PartnerStaff.username)).all()


# Offers

def all_offers():
    return db.session.scalars(select(Offer).order_by(Offer.ends_on.desc(), Offer.position, Offer.id)).all()


def get_offer(offer_id):
    return db.session.get(Offer, offer_id)


def category_choices():
    return [(c.slug, c.name) for c in Category.ordered()]


def redeemed_count(offer):
    return db.session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.offer_id == offer.id, Voucher.status == "used"))


def _offer_facts(offer):
    return {"partner": offer.partner.name if offer.partner else None, "title": offer.title, "service": offer.service,
            "terms": offer.terms, "price_fen": offer.price_fen, "settlement_fen": offer.settlement_fen,
            "stock_total": offer.stock_total, "stock_left": offer.stock_left, "per_user_limit": offer.per_user_limit,
            "valid_days": offer.valid_days, "starts_on": offer.starts_on.isoformat(),
            "ends_on": offer.ends_on.isoformat(), "cities": offer.cities, "required_category": offer.required_category or ""}


def normalise_cities(text, partner):
    """The cities typed (separated by 、 , ， or spaces) as Offer.cities keeps them, each one where the partner has a
    store; "" for every store."""
    cities = list(dict.fromkeys(c for c in re.split(r"[、,，;；\s]+", text or "") if c))
    have = {store.city for store in partner.stores}
    missing = [c for c in cities if c not in have]
    if missing:
        where = "、".join(sorted(have)) or "无"
        raise ManageError(f"{partner.name}在{'、'.join(missing)}没有门店（现有门店所在城市：{where}）", "cities")
    return CITY_SEPARATOR.join(cities)


def _check_category(slug):
    if slug and not db.session.scalar(select(Category.id).where(Category.slug == slug)):
        raise ManageError("请选择领取条件", "required_category")


def _offer_values(values, partner):
    values = dict(values)
    values["cities"] = normalise_cities(values.get("cities"), partner)
    values["required_category"] = values.get("required_category") or None
    _check_category(values["required_category"])
    if values["ends_on"] < values["starts_on"]:
        raise ManageError("领取截止日期不能早于开始日期", "ends_on")
    return values


def create_offer(actor, partner, *, now, ip, **values):
    """A new offer of ``partner``, its whole stock left. ``values``: the columns the form edits."""
    values = _offer_values(values, partner)
    position = db.session.scalar(select(func.coalesce(func.max(Offer.position), 0))) + 1
    offer = Offer(partner_id=partner.id, kind=partner.kind, stock_left=values["stock_total"], position=position,
                  **values)
    db.session.add(offer)
    db.session.flush()
    _record("offer.created", actor, offer, "offer", after=_offer_facts(offer), ip=ip, now=now)
    return offer


def update_offer(actor, offer, *, now, ip, **values):
    """Returns whether anything changed. The stock goes through set_stock; the other columns as given."""
    values = _offer_values(values, offer.partner)
    before = _offer_facts(offer)
    total = values.pop("stock_total")
    for name, value in values.items():
        setattr(offer, name, value)
    db.session.flush()
    if total != offer.stock_total:
        set_stock(offer, total)
    return _record("offer.updated", actor, offer, "offer", before, _offer_facts(offer), ip=ip, now=now)


def set_stock(offer, total):
    """stock_total becomes ``total`` and stock_left moves by as much, in one conditional UPDATE (values of the
    row as it is when the UPDATE runs, claims of this instant included). Refused when fewer than are claimed."""
    change = total - Offer.stock_total
    done = db.session.execute(update(Offer).where(Offer.id == offer.id, Offer.stock_left + change >= 0)
                              .values(stock_total=total, stock_left=Offer.stock_left + change)
                              .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(offer)
    if not done:
        claimed = offer.stock_total - offer.stock_left
        raise ManageError(f"已领取 {claimed} 张，总数量不能少于 {claimed}", "stock_total")


def claimed_count(offer):
    return offer.stock_total - offer.stock_left


# Partner staff accounts

def get_staff(staff_id):
    return db.session.get(PartnerStaff, staff_id)


def _staff_facts(staff):
    return {"username": staff.username, "display_name": staff.display_name, "store": staff.store.name,
            "locked": not staff.is_active}


def create_staff(actor, store, *, username, display_name, now, ip):
    """A new account for a store; returns (staff, its password, to be shown once)."""
    if db.session.scalar(select(PartnerStaff.id).where(PartnerStaff.username == username)):
        raise ManageError("该用户名已被使用", "username")
    password = one_time_password()
    staff = PartnerStaff(store=store, username=username, display_name=display_name,
                         password_hash=staff_auth.hash_password(password), session_token=staff_auth.new_session_token(),
                         created_at=now)
    db.session.add(staff)
    db.session.flush()
    _record("partner_staff.created", actor, staff, "partner_staff", after=_staff_facts(staff), ip=ip, now=now)
    return staff, password


def locked(staff, now):
    """Locked by the back office, or for failed logins."""
    return not staff.is_active or bool(staff.locked_until and staff.locked_until > now)


def lock(actor, staff, *, reason, now, ip):
    """Until the back office unlocks it: every session ends now, and no login is accepted."""
    if not staff.is_active:
        raise ManageError("该账号已处于锁定状态")
    staff.is_active = False
    staff_auth.end_sessions(staff)
    _record("partner_staff.locked", actor, staff, "partner_staff", before={"locked": False}, after={"locked": True},
            reason=reason, ip=ip, now=now)


def unlock(actor, staff, *, reason, now, ip):
    """Lifts the back office's lock and a lockout after failures alike."""
    if not locked(staff, now) and not staff.failed_logins:
        raise ManageError("该账号未被锁定")
    before = {"locked": not staff.is_active,
              "locked_until": staff.locked_until.isoformat(timespec="minutes") if locked(staff, now)
              and staff.locked_until else None}
    staff.is_active = True
    staff.locked_until, staff.failed_logins = None, 0
    _record("partner_staff.unlocked", actor, staff, "partner_staff", before=before,
            after={"locked": False, "locked_until": None}, reason=reason, ip=ip, now=now)


def reset_password(actor, staff, *, reason, now, ip):
    """A new password, returned to be shown once; every session of the account ends."""
    password = one_time_password()
    staff_auth.set_password(staff, password)
    _record("partner_staff.password_reset", actor, staff, "partner_staff", after={"other_sessions": "已全部退出"},
            reason=reason, ip=ip, now=now)
    return password
