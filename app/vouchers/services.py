"""Offers, claiming vouchers, and redeeming them at a partner's store.

Every rule that two requests could race on is the database's: stock is taken by a conditional UPDATE
(never below zero, a CHECK too), the per-user limit is a unique (offer, user, seq) with seq ≤ the
limit, a code is unique by its keyed hash, and a redemption is one conditional UPDATE from unused to
used. Reading first only chooses the message.

Flushes at most and the view commits, except redeem(), which commits its one UPDATE at once.
"""
import secrets
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select, update
from stdnum import luhn

from app.agreements import services as agreements
from app.auth.models import User
from app.catalog.models import Category, Product
from app.core.clock import SHANGHAI, format_local, to_local
from app.core.domain import DomainError
from app.core.pii import keyed_hash
from app.extensions import db
from app.orders.models import Order, Policy
from app.vouchers.models import KINDS, Offer, PartnerStaff, Store, Voucher

# 31 characters: no 0/O, 1/I/L, so what is read aloud or typed is what was printed. Prime, so the Luhn
# mod-31 check character catches every single wrong character and most swaps of neighbours.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12  # 11 random characters (about 54 bits) and the check character
CITY_SEPARATOR = "、"  # between the cities of Offer.cities


class VoucherError(DomainError):
    """A claim or a redemption refused; the message is for the user (or the staff member)."""


def new_code():
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH - 1))
    return body + luhn.calc_check_digit(body, alphabet=ALPHABET)


def normalise_code(text):
    """What a person or a scanner typed: case, spaces and hyphens do not matter."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -\t\r\n")


def check_code(text):
    """The code, or VoucherError: wrong length, characters a code never has, or a typo the check
    character catches."""
    code = normalise_code(text)
    if not code:
        raise VoucherError("请输入或扫描券码", "code")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        raise VoucherError(f"券码为{CODE_LENGTH}位字母和数字（不含 0、O、1、I、L），请核对", "code")
    if not luhn.is_valid(code, alphabet=ALPHABET):
        raise VoucherError("券码校验不通过，可能有输错的字符，请核对后重新输入", "code")
    return code


def grouped(code):
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def state(voucher, now):
    """unused, used or expired, as the user and the staff see it."""
    if voucher.status == "used":
        return "used"
    return "expired" if now >= voucher.expires_at else "unused"


# Offers

def cities():
    return db.session.scalars(select(Store.city).distinct().order_by(Store.city)).all()


def offer_cities(offer):
    """The cities whose stores honour the offer (Offer.cities); empty: every store of its partner."""
    return [city for city in (offer.cities or "").split(CITY_SEPARATOR) if city]


def honoured_at(offer, store):
    """Whether a store may redeem the offer's vouchers: its partner's, and in one of the offer's cities."""
    cities = offer_cities(offer)
    return store.partner_id == offer.partner_id and (not cities or store.city in cities)


def list_offers(today, kind=None, city=None):
    """Offers still claimable or coming up, with the cities of the stores that honour them."""
    stmt = select(Offer).where(Offer.ends_on >= today).order_by(Offer.position, Offer.id)
    if kind in KINDS:
        stmt = stmt.where(Offer.kind == kind)
    if city:
        stmt = stmt.where(Offer.partner_id.in_(select(Store.partner_id).where(Store.city == city)))
    offers = db.session.scalars(stmt).all()
    stores = db.session.scalars(select(Store).where(Store.partner_id.in_({o.partner_id for o in offers}))).all()
    listed = []
    for offer in offers:
        cities = sorted({store.city for store in stores if honoured_at(offer, store)})
        if not city or city in cities:
            listed.append((offer, cities))
    return listed


def open_offers(today, limit):
    """Offers claimable today, first by their position: for the home page."""
    return db.session.scalars(select(Offer).where(Offer.starts_on <= today, Offer.ends_on >= today)
                              .order_by(Offer.position, Offer.id).limit(limit)).all()


def get_offer(offer_id):
    return db.session.get(Offer, offer_id)


def stores_of(partner_id):
    return db.session.scalars(select(Store).where(Store.partner_id == partner_id)
                              .order_by(Store.city, Store.name)).all()


def stores_for(offer):
    """The stores where the offer's vouchers can be used."""
    return [store for store in stores_of(offer.partner_id) if honoured_at(offer, store)]


def category_name(slug):
    return db.session.scalar(select(Category.name).where(Category.slug == slug))


def holds_policy(user, category_slug):
    """A paid policy of that category, in force or waiting to start (not surrendered)."""
    return db.session.scalar(select(func.count()).select_from(Policy)
                             .join(Order, Order.id == Policy.order_id)
                             .join(Product, Product.id == Policy.product_id)
                             .join(Category, Category.id == Product.category_id)
                             .where(Policy.user_id == user.id, Policy.status == "active",
                                    Order.status == "issued", Category.slug == category_slug)) > 0


def claimed_count(user, offer):
    return db.session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.offer_id == offer.id, Voucher.user_id == user.id))


def claim_problem(user, offer, today, claimed):
    """Why this user, who holds ``claimed`` vouchers of this offer, cannot claim it now, or None."""
    if today < offer.starts_on:
        return f"{offer.starts_on:%Y-%m-%d} 开始领取"
    if today > offer.ends_on:
        return "活动已结束"
    if offer.required_category and not holds_policy(user, offer.required_category):
        return f"本券为{category_name(offer.required_category)}保单持有人专享，投保后即可领取"
    if claimed >= offer.per_user_limit:
        return f"每人限领{offer.per_user_limit}张，你已领过"
    if offer.stock_left <= 0:
        return "已领完"
    return None


def partner_pending(user, offer, today):
    """The partner's agreement version the user still has to accept before claiming, or None."""
    pending = agreements.pending_agreements(user, today, scope_refs=[("partner", offer.partner.slug)])
    return next((p for p in pending if p.agreement.scope == "partner"), None)


def minor_problem(user, pending, today):
    """A minor cannot accept a partner's agreement alone (our own agreements took a guardian's approval)."""
    if pending is not None and agreements.is_minor(user.birth_date, today):
        return f"未满18周岁，需由监护人同意《{pending.agreement.title}》，暂不能在线领取本券"
    return None


def claim_with_agreement(user, offer, *, agreed, version_id, submission, today, now, ip, user_agent, channel):
    """领取 as one step: the partner's agreement, if the user has not accepted its version in force,
    accepted here (written to the consent ledger), then the voucher (see claim). VoucherError or
    AgreementError when refused; flushes, the caller commits."""
    pending = partner_pending(user, offer, today)
    problem = minor_problem(user, pending, today)
    if problem:
        raise VoucherError(problem)
    if pending is not None:
        if not agreed:
            raise VoucherError(f"请阅读并同意《{pending.agreement.title}》", field="agreement")
        agreements.record_acceptance(user, [version_id], submission=submission, today=today, now=now, ip=ip,
                                     user_agent=user_agent, channel=channel,
                                     scope_refs=[("partner", offer.partner.slug)])
    return claim(user, offer, today, now)


def claim(user, offer, today, now):
    """A voucher for the user, or VoucherError. Flushes; a twin request that raced it to the same
    (offer, user, seq) fails on the unique constraint (IntegrityError) and gets nothing."""
    claimed = claimed_count(user, offer)
    problem = claim_problem(user, offer, today, claimed)
    if problem:
        raise VoucherError(problem)
    taken = db.session.execute(update(Offer).where(Offer.id == offer.id, Offer.stock_left > 0)
                               .values(stock_left=Offer.stock_left - 1)
                               .execution_options(synchronize_session=False)).rowcount
    if not taken:
        raise VoucherError("已领完")
    code = new_code()
    voucher = Voucher(offer_id=offer.id, user_id=user.id, seq=claimed + 1, code=code,
                      code_hash=keyed_hash(code), status="unused", claimed_at=now,
                      expires_at=expiry(now, offer.valid_days))
    db.session.add(voucher)
    db.session.flush()
    return voucher


def expiry(now, valid_days):
    """Usable until 24:00 (Asia/Shanghai) of the last of ``valid_days`` days counted from the claim's
    day: the naive UTC instant."""
    end = datetime.combine(to_local(now).date() + timedelta(days=valid_days), time(0), tzinfo=SHANGHAI)
    return end.astimezone(UTC).replace(tzinfo=None)


def vouchers_of(user):
    return db.session.scalars(select(Voucher).where(Voucher.user_id == user.id)
                              .order_by(Voucher.claimed_at.desc(), Voucher.id.desc())).all()


def find_voucher(user, code):
    """The user's own voucher by its code, or None (someone else's is as good as missing)."""
    voucher = by_code(normalise_code(code))
    return voucher if voucher is not None and voucher.user_id == user.id else None


def by_code(code):
    return db.session.scalar(select(Voucher).where(Voucher.code_hash == keyed_hash(code)))


# Redemption

def lookup(staff, text):
    """The voucher a staff member typed or scanned, if their store honours it (their partner's, and in one of
    the offer's cities); VoucherError otherwise."""
    code = check_code(text)
    voucher = by_code(code)
    if voucher is None:
        raise VoucherError("券码不存在，请核对后重新输入", "code")
    if voucher.offer.partner_id != staff.store.partner_id:
        # Whose voucher it is stays with its holder (it tells what they bought and where they go).
        raise VoucherError("该券不能在本店核销，请让顾客在券详情中查看适用门店", "code")
    if not honoured_at(voucher.offer, staff.store):
        cities = "、".join(offer_cities(voucher.offer))
        raise VoucherError(f"该券仅限{cities}的门店使用，不能在本店（{staff.store.city}）核销", "code")
    return voucher


def used_message(voucher):
    return f"已于 {format_local(voucher.redeemed_at)} 在 {voucher.redeemed_store.name} 核销"


def redeem(staff, voucher, now):
    """核销: one conditional UPDATE from unused (and not expired) to used. Of any number of attempts, from
    any stores, exactly one succeeds; the others learn when and where it was used."""
    done = db.session.execute(update(Voucher).where(
        Voucher.id == voucher.id, Voucher.status == "unused", Voucher.expires_at > now).values(
        status="used", redeemed_at=now, redeemed_store_id=staff.store_id, redeemed_staff_id=staff.id)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    db.session.refresh(voucher)
    if done:
        return voucher
    if voucher.status == "used":
        raise VoucherError(used_message(voucher))
    raise VoucherError(f"该券已过期（有效期至 {format_local(voucher.expires_at)}），不能核销")


def redemptions(store_id, since, until):
    """The store's redemptions in [since, until) (UTC), newest first."""
    return db.session.scalars(select(Voucher).where(
        Voucher.redeemed_store_id == store_id, Voucher.redeemed_at >= since, Voucher.redeemed_at < until)
        .order_by(Voucher.redeemed_at.desc())).all()


def staff_names(store_id):
    return dict(db.session.execute(select(PartnerStaff.id, PartnerStaff.display_name)
                                   .where(PartnerStaff.store_id == store_id)).all())


def holder_nickname(voucher):
    """The holder's WeChat nickname (the page masks it): the staff can ask "张*?", nothing more."""
    return db.session.scalar(select(User.nickname).where(User.id == voucher.user_id)) or "微信用户"
