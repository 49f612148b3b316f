"""Orders, payment and policies.

State machine of an order (every move is a conditional UPDATE on the status it leaves, so of two
workers moving the same order, exactly one does):

    pending 待支付 ──paid at WeChat Pay (notification, or our query)──▶ paid 已支付 ──▶ issued 已出单
       │                                                                               │
       └──unpaid for ORDER_PAY_MINUTES──▶ closed 已关闭          退保 in 犹豫期 ──▶ refunding ──▶ refunded 已退保

paid and issued happen in one transaction: the payment issues the policy (one per order, a unique
constraint) and clears the application's breakpoint. Calls to WeChat Pay are made outside any write
transaction; what they tell us is then applied in a short one.

Commits itself: each change in its own short write transaction, after WeChat Pay has answered.
"""
import hashlib
import json
import re
import secrets
from datetime import UTC, date, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from stdnum.cn import ric

from app.agreements import services as agreements
from app.catalog.models import Product
from app.core.clock import db_now, to_local
from app.core.database import begin_write
from app.core.domain import DomainError
from app.extensions import db
from app.orders.models import Order, Policy
from app.payments import PayError, pay_client
from app.purchase import applications
from app.purchase.models import Application


class OrderError(DomainError):
    """An order or policy cannot do what was asked (pay, surrender)."""


class PaymentMismatch(Exception):
    """What WeChat Pay reported does not fit the order (amount, merchant, app, state)."""


def _number(prefix, today):
    """Prefix + date + 10 random digits: readable, unique, not guessable from the one before."""
    return f"{prefix}{today:%Y%m%d}{secrets.randbelow(10**10):010d}"


def find(user, number):
    """The user's own order, or None (someone else's is as good as missing)."""
    return db.session.scalar(select(Order).where(Order.number == number, Order.user_id == user.id))


def by_number(number):
    """Any order by number: for WeChat Pay's notifications, which come from no user."""
    if not isinstance(number, str):
        return None
    return db.session.scalar(select(Order).where(Order.number == number))


def policy_of(order):
    return db.session.scalar(select(Policy).where(Policy.order_id == order.id))


def plan_of(policy):
    return next(p for p in policy.product.plans if p.code == policy.plan_code)


def find_policy(user, number):
    return db.session.scalar(select(Policy).where(Policy.number == number, Policy.user_id == user.id)
                             .options(joinedload(Policy.product).joinedload(Product.insurer)))


def pending_order(application):
    return db.session.scalar(select(Order).where(Order.application_id == application.id,
                                                 Order.status == "pending"))


def latest_order(application):
    return db.session.scalar(select(Order).where(Order.application_id == application.id)
                             .order_by(Order.created_at.desc(), Order.id.desc()).limit(1))


def policies_of(user):
    return db.session.scalars(select(Policy).where(Policy.user_id == user.id)
                              .order_by(Policy.issued_at.desc())).all()


def orders_of(user):
    return db.session.scalars(select(Order).where(Order.user_id == user.id).order_by(Order.created_at.desc())).all()


def new_idempotency_key():
    return secrets.token_urlsafe(24)


def place(user, application, product, key, today, now):
    """确认投保: the order of this confirmation. The same key finds the same order (double click,
    retry); a second tab, with its own key, finds the order the first one made, because only one
    confirmation can move the application out of draft. The amount comes from the rate table now."""
    scoped_key = f"{user.id}:{key}"
    order = db.session.scalar(select(Order).where(Order.idempotency_key == scoped_key))
    if order is not None:
        return order
    if application.status == "awaiting_payment":
        order = pending_order(application)
        if order is not None:
            return order
    if not applications.submit(application, product, today, now):
        # Another confirmation moved it first (and has committed, or the UPDATE would still wait).
        order = pending_order(application)
        if order is not None:
            return order
        raise applications.ApplicationError("该投保单已提交，请到“我的保单”查看")
    order = Order(number=_number("DD", today), idempotency_key=scoped_key, user_id=user.id,
                  application_id=application.id, product_id=product.id, plan_code=application.plan_code,
                  frequency=application.frequency, amount_fen=application.premium_fen, status="pending",
                  created_at=now, expires_at=now + timedelta(minutes=current_app.config["ORDER_PAY_MINUTES"]))
    db.session.add(order)
    db.session.flush()  # a racing twin with the same key fails here, on the unique constraint
    return order


def by_idempotency_key(user, key):
    return db.session.scalar(select(Order).where(Order.idempotency_key == f"{user.id}:{key}"))


def _moved(order, source, **values):
    """Move the order from ``source`` (a status or a tuple of them): True for the one worker that did."""
    sources = (source,) if isinstance(source, str) else source
    rows = db.session.execute(update(Order).where(Order.id == order.id, Order.status.in_(sources))
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    if rows:
        db.session.refresh(order)
    return bool(rows)


# Paying

def description(order):
    plan = next((p.name for p in order.product.plans if p.code == order.plan_code), "")
    return f"{order.product.name}-{plan}"[:127]


def code_url(order):
    """The QR's content: the transaction at WeChat Pay, created on the first visit of the pay page. The
    same fields every time (the expiry is the order's), so however many pages ask at once, WeChat Pay
    keeps one transaction for the order number."""
    if order.code_url:
        return order.code_url
    url = pay_client().create_native(out_trade_no=order.number, description=description(order),
                                     total_fen=order.amount_fen, time_expire=order.expires_at.replace(tzinfo=UTC))
    begin_write()
    db.session.execute(update(Order).where(Order.id == order.id, Order.code_url.is_(None)).values(code_url=url))
    db.session.commit()
    return url


def check_transaction(order, transaction):
    """Raise PaymentMismatch unless WeChat Pay's transaction is the successful payment of this order."""
    settings = pay_client().settings
    problems = [name for name, ok in (
        ("mchid", transaction.get("mchid") == settings.mchid),
        ("appid", transaction.get("appid") == settings.appid),
        ("out_trade_no", transaction.get("out_trade_no") == order.number),
        ("trade_state", transaction.get("trade_state") == "SUCCESS"),
        ("amount", (transaction.get("amount") or {}).get("total") == order.amount_fen),
    ) if not ok]
    if problems:
        raise PaymentMismatch(", ".join(problems))


def record_payment(order_id, transaction):
    """WeChat Pay says the order is paid: mark it paid and issue the policy, exactly once. Its own
    write transaction. True when this call did it; False when it was done already."""
    begin_write()
    order = db.session.get(Order, order_id)
    try:
        check_transaction(order, transaction)
    except PaymentMismatch:
        db.session.rollback()
        raise
    now = db_now()
    if not _moved(order, "pending", status="paid", paid_at=now, transaction_id=transaction.get("transaction_id")):
        db.session.rollback()
        return False
    issue_policy(order, now)
    _moved(order, "paid", status="issued")
    db.session.commit()
    return True


def sync_with_wechat_pay(order):
    """Ask WeChat Pay about a pending order (a notification may be late or lost). True if it is paid."""
    try:
        transaction = pay_client().query(order.number)
    except PayError as error:
        if error.code != "ORDER_NOT_EXIST":
            current_app.logger.warning("Query of order %s failed: %s", order.number, error.code)
        return False
    if transaction.get("trade_state") != "SUCCESS":
        return False
    try:
        record_payment(order.id, transaction)
    except PaymentMismatch as mismatch:
        current_app.logger.error("Order %s: WeChat Pay's transaction does not match (%s)", order.number, mismatch)
        return False
    return True


def poll(order, now):
    """The pay page's poll: after PAY_QUERY_AFTER_SECONDS without a notification, ask WeChat Pay, at
    most that often per order whatever the number of open pages (a conditional UPDATE claims the turn)."""
    wait = timedelta(seconds=current_app.config["PAY_QUERY_AFTER_SECONDS"])
    if order.status != "pending" or now < order.created_at + wait:
        return
    begin_write()
    claimed = db.session.execute(update(Order).where(
        Order.id == order.id, Order.status == "pending",
        (Order.queried_at.is_(None)) | (Order.queried_at <= now - wait)).values(queried_at=now)).rowcount
    db.session.commit()
    if claimed:
        sync_with_wechat_pay(order)


def expire_if_due(order, now):
    """Close an order unpaid for ORDER_PAY_MINUTES: at WeChat Pay first (so it can no longer be paid),
    then here; its application goes back to the last step, to be confirmed again. A payment that
    arrived in the meantime wins."""
    if order.status != "pending" or now < order.expires_at:
        return
    if order.code_url:
        try:
            pay_client().close(order.number)
        except PayError as error:
            if error.code == "ORDERPAID":
                sync_with_wechat_pay(order)
                return
            if error.code != "ORDER_NOT_EXIST":
                current_app.logger.warning("Closing order %s failed: %s", order.number, error.code)
                return  # tried again on the next look
    begin_write()
    if _moved(order, "pending", status="closed", closed_at=now):
        db.session.execute(update(Application).where(
            Application.id == order.application_id, Application.status == "awaiting_payment").values(
            status="draft", updated_at=now))
    db.session.commit()


def close_expired(now):
    """`flask orders close-expired`: every pending order past its time. Returns how many were closed."""
    due = db.session.scalars(select(Order).where(Order.status == "pending", Order.expires_at <= now)).all()
    for order in due:
        expire_if_due(order, now)
    return sum(1 for order in due if order.status == "closed")


# Policies

def coverage_end(period, starts_on, birth_date):
    """The last day covered: "1年" → a year less a day; "保至60岁" → the day before the 60th birthday."""
    match = re.fullmatch(r"保至(\d+)岁", period)
    if match:
        age = int(match.group(1))
        try:
            birthday = birth_date.replace(year=birth_date.year + age)
        except ValueError:  # 29 February
            birthday = date(birth_date.year + age, 3, 1)
        return birthday - timedelta(days=1)
    years = int(re.fullmatch(r"(\d+)年", period).group(1)) if re.fullmatch(r"(\d+)年", period) else 1
    return starts_on.replace(year=starts_on.year + years) - timedelta(days=1)


def issue_policy(order, now):
    """The e-policy, from the application, which keeps no personal data afterwards (the breakpoint is
    cleared). Coverage starts at 00:00 Asia/Shanghai of the next day."""
    application = db.session.get(Application, order.application_id)
    product = db.session.get(Product, order.product_id)
    details = application.details
    today = to_local(now).date()
    starts_on = today + timedelta(days=1)
    insured_birth = ric.get_birth_date(details["insured"]["id_number"])
    versions = {"agreements": [], "clauses": []}
    for kind, title, _ in agreements.PLATFORM:
        version = agreements.effective_version(agreements.get_agreement(kind), today)
        if version is not None:
            versions["agreements"].append({"title": title, "kind": kind, "version": version.version,
                                           "effective_on": version.effective_on.isoformat()})
    for document in product.documents:  # the catalog keeps no version of its texts: the digest is the evidence
        versions["clauses"].append({"title": document.title, "kind": document.kind,
                                    "sha256": _digest(document.body)})
    policy = Policy(number=_number("P", today), order_id=order.id, user_id=order.user_id, product_id=product.id,
                    plan_code=order.plan_code, frequency=order.frequency, premium_fen=order.amount_fen,
                    status="active", starts_on=starts_on,
                    ends_on=coverage_end(product.coverage_period, starts_on, insured_birth),
                    issued_at=now, data=json.dumps({k: details.get(k) for k in ("applicant", "insured", "beneficiaries")},
                                                   ensure_ascii=False),
                    terms=json.dumps(versions, ensure_ascii=False))
    db.session.add(policy)
    application.status = "paid"
    application.data = "{}"
    application.updated_at = now
    db.session.execute(update(Product).where(Product.id == product.id).values(sales_count=Product.sales_count + 1))
    db.session.flush()
    return policy


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def terms_of(policy):
    """The clauses and agreements the policy was issued under, as the page and the PDF show them.

    Clauses are the version of the issue day, with the SHA-256 of their text as evidence (policies issued
    before it was stored whole kept its first 12 characters as ``version``); ``kind`` is set only while
    the catalog's text is still that one, so a link never shows a text other than the insured's.
    Agreements have versions of their own, with the day each took effect."""
    issued_on = to_local(policy.issued_at).date()
    documents = policy.product.documents
    clauses = []
    for clause in policy.versions.get("clauses", []):
        digest = clause.get("sha256") or clause.get("version", "")
        document = next((d for d in documents if d.kind == clause.get("kind") or d.title == clause["title"]), None)
        same = bool(digest) and document is not None and _digest(document.body).startswith(digest)
        clauses.append({"title": clause["title"], "issued_on": issued_on, "digest": digest,
                        "kind": document.kind if same else None})
    agreements_ = [{"title": a["title"], "version": a["version"], "kind": a.get("kind"),
                    "effective_on": date.fromisoformat(a["effective_on"]) if a.get("effective_on") else None}
                   for a in policy.versions.get("agreements", [])]
    return {"clauses": clauses, "agreements": agreements_}


# 退保 within the cooling-off period

def cooling_off_ends(policy):
    return to_local(policy.issued_at).date() + timedelta(days=policy.product.cooling_off_days)


def can_surrender(policy, today):
    return policy.status == "active" and policy.order.status == "issued" and today <= cooling_off_ends(policy)


def surrender(policy, now):
    """退保: a full refund through WeChat Pay's refund API; the policy becomes 已退保 when the refund is
    confirmed (its notification, or our query). A refused refund puts the order back as it was."""
    order, today = policy.order, to_local(now).date()
    if order.status != "refunding":
        if not can_surrender(policy, today):
            raise OrderError(f"已超过{policy.product.cooling_off_days}天犹豫期，无法在线退保，请联系客服")
        begin_write()
        if not _moved(order, "issued", status="refunding", refund_no=_number("TB", today)):
            db.session.rollback()
            raise OrderError("该保单已在退保处理中")
        db.session.commit()
    try:
        refund = pay_client().refund(out_trade_no=order.number, out_refund_no=order.refund_no,
                                     refund_fen=order.amount_fen, total_fen=order.amount_fen, reason="犹豫期内退保")
    except PayError as error:
        if error.code in ("NETWORK", "SYSTEM_ERROR", "SIGNATURE", "UNKNOWN"):
            return False  # it may have been taken: the same refund number is asked again later
        current_app.logger.error("Refund of order %s refused: %s", order.number, error.code)
        begin_write()
        _moved(order, "refunding", status="issued", refund_no=None)
        db.session.commit()
        raise OrderError("退保申请未被受理，请稍后再试或联系客服") from None
    if refund.get("status") == "SUCCESS":
        record_refund(order.id, refund)
    return True


def record_refund(order_id, refund):
    """WeChat Pay says the refund succeeded: the order is refunded and the policy surrendered, once."""
    begin_write()
    order = db.session.get(Order, order_id)
    amount = refund.get("amount") or {}
    if refund.get("out_refund_no") != order.refund_no or amount.get("refund") != order.amount_fen:
        db.session.rollback()
        raise PaymentMismatch("out_refund_no/amount")
    if (refund.get("refund_status") or refund.get("status")) != "SUCCESS":
        db.session.rollback()
        return False
    now = db_now()
    if not _moved(order, "refunding", status="refunded", refunded_at=now):
        db.session.rollback()
        return False
    db.session.execute(update(Policy).where(Policy.order_id == order.id).values(status="surrendered",
                                                                                 surrendered_at=now))
    db.session.commit()
    return True


def sync_refund(order):
    """A refund in progress, asked about at WeChat Pay (its notification may be late or lost); a refund
    WeChat Pay never received is asked for again, with the same refund number."""
    try:
        refund = pay_client().query_refund(order.refund_no)
    except PayError as error:
        if error.code == "RESOURCE_NOT_EXISTS":
            policy = db.session.scalar(select(Policy).where(Policy.order_id == order.id))
            try:
                surrender(policy, db_now())
            except OrderError:
                pass
        return
    try:
        record_refund(order.id, refund)
    except PaymentMismatch:
        current_app.logger.error("Order %s: the refund does not match", order.number)
