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
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from stdnum.cn import ric

from app.agreements import services as agreements
from app.auth.models import WeChatIdentity
from app.catalog.models import Product
from app.core.clock import db_now, to_local
from app.core.database import begin_write
from app.core.domain import DomainError
from app.extensions import db
from app.orders.models import PAY_METHODS, TRADE_TYPES, Order, PaymentAttempt, Policy
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


# Paying. An order can be paid in three ways, each its own transaction at WeChat Pay (a PaymentAttempt):
# Native on a desktop (a QR; out_trade_no the order number, as before), JSAPI inside WeChat and H5 in a
# phone's browser. A row is written before WeChat Pay is asked to create its transaction. The first
# transaction reported paid moves the order pending → paid (a conditional UPDATE) and the others still open
# are closed at WeChat Pay; one paid as well (two ways paid in a race) is refunded at once, never kept.

def description(order):
    plan = next((p.name for p in order.product.plans if p.code == order.plan_code), "")
    return f"{order.product.name}-{plan}"[:127]


def _attempt_query(out_trade_no):
    return select(PaymentAttempt).where(PaymentAttempt.out_trade_no == out_trade_no)


def _attempt(order, method):
    """The order's transaction for this way of paying: its row, written (committed) before WeChat Pay is
    asked, so that a transaction never exists there that we do not know of."""
    out_trade_no = order.number + PAY_METHODS[method]
    attempt = db.session.scalar(_attempt_query(out_trade_no))
    if attempt is not None:
        return attempt
    order_id = order.id
    begin_write()
    if db.session.scalar(_attempt_query(out_trade_no)) is None:  # SQLite: under the write lock now
        db.session.add(PaymentAttempt(order_id=order_id, method=method, out_trade_no=out_trade_no, status="open",
                                      created_at=db_now()))
        try:
            db.session.commit()
        except IntegrityError:  # PostgreSQL: another page wrote it at the same moment
            db.session.rollback()
    else:
        db.session.rollback()
    return db.session.scalar(_attempt_query(out_trade_no))


def _keep(attempt_id, column, value):
    """Keep what WeChat Pay answered on the attempt (its own short write; the first answer stays)."""
    begin_write()
    db.session.execute(update(PaymentAttempt).where(PaymentAttempt.id == attempt_id, column.is_(None))
                       .values({column: value}))
    db.session.commit()


def code_url(order):
    """The QR's content: the Native transaction at WeChat Pay, created on the first visit of the pay page.
    The same fields every time (the expiry is the order's), so however many pages ask at once, WeChat Pay
    keeps one transaction for the order number."""
    if order.code_url:
        return order.code_url
    order_id, attempt = order.id, _attempt(order, "native")
    url = pay_client().create_native(out_trade_no=attempt.out_trade_no, description=description(order),
                                     total_fen=order.amount_fen, time_expire=order.expires_at.replace(tzinfo=UTC))
    attempt_id = attempt.id
    begin_write()
    db.session.execute(update(Order).where(Order.id == order_id, Order.code_url.is_(None)).values(code_url=url))
    db.session.execute(update(PaymentAttempt).where(PaymentAttempt.id == attempt_id,
                                                    PaymentAttempt.code_url.is_(None)).values(code_url=url))
    db.session.commit()
    return url


def payer_openid(user):
    """The user's openid in the app WeChat Pay charges for (JSAPI pays as that WeChat user), or None."""
    appid = pay_client().settings.appid
    return db.session.scalar(select(WeChatIdentity.openid).where(
        WeChatIdentity.user_id == user.id, WeChatIdentity.appid == appid).order_by(WeChatIdentity.id.desc()).limit(1))


def jsapi_request(order, openid):
    """Inside WeChat: the JSAPI transaction (created on the first visit; its prepay_id is kept, valid for two
    hours, longer than an order waits) and the parameters for WeixinJSBridge, signed now."""
    attempt = _attempt(order, "jsapi")
    prepay_id, attempt_id = attempt.prepay_id, attempt.id
    if prepay_id is None:
        prepay_id = pay_client().create_jsapi(
            out_trade_no=attempt.out_trade_no, description=description(order), total_fen=order.amount_fen,
            time_expire=order.expires_at.replace(tzinfo=UTC), payer_openid=openid)
        _keep(attempt_id, PaymentAttempt.prepay_id, prepay_id)
    return pay_client().jsapi_request(prepay_id)


def h5_link(order, client_ip, redirect_url):
    """A phone's browser outside WeChat: the H5 transaction's h5_url, asked for on every visit (each is valid
    for five minutes), with the page WeChat sends the browser back to appended as WeChat Pay requires."""
    attempt = _attempt(order, "h5")
    attempt_id, known = attempt.id, attempt.h5_url
    url = pay_client().create_h5(out_trade_no=attempt.out_trade_no, description=description(order),
                                 total_fen=order.amount_fen, time_expire=order.expires_at.replace(tzinfo=UTC),
                                 payer_client_ip=client_ip)
    if url != known:
        begin_write()
        db.session.execute(update(PaymentAttempt).where(PaymentAttempt.id == attempt_id).values(h5_url=url))
        db.session.commit()
    return url + "&redirect_url=" + quote(redirect_url, safe="")


def attempts_of(order, *statuses):
    query = select(PaymentAttempt).where(PaymentAttempt.order_id == order.id).order_by(PaymentAttempt.id)
    if statuses:
        query = query.where(PaymentAttempt.status.in_(statuses))
    return db.session.scalars(query).all()


def _order_number_of(out_trade_no):
    """The order number an out_trade_no of ours was made from (the number, or it and a method's suffix)."""
    suffixes = tuple(suffix for suffix in PAY_METHODS.values() if suffix)
    return out_trade_no[:-1] if out_trade_no.endswith(suffixes) else out_trade_no


def order_of_transaction(out_trade_no):
    """The order a WeChat Pay transaction belongs to, or None: for notifications, which come from no user."""
    if not isinstance(out_trade_no, str):
        return None
    order = db.session.scalar(select(Order).join(PaymentAttempt, PaymentAttempt.order_id == Order.id)
                              .where(PaymentAttempt.out_trade_no == out_trade_no))
    return order or by_number(_order_number_of(out_trade_no))


def _attempt_of(order, out_trade_no):
    """The order's attempt for a transaction WeChat Pay reports, written now if it is one of the order's
    out_trade_no (a row every transaction should already have: this keeps a payment from being lost)."""
    if not isinstance(out_trade_no, str):
        return None
    attempt = db.session.scalar(_attempt_query(out_trade_no))
    if attempt is not None:
        return attempt if attempt.order_id == order.id else None
    method = next((m for m, suffix in PAY_METHODS.items() if order.number + suffix == out_trade_no), None)
    if method is None:
        return None
    attempt = PaymentAttempt(order_id=order.id, method=method, out_trade_no=out_trade_no, status="open",
                             created_at=db_now())
    db.session.add(attempt)
    db.session.flush()
    return attempt


def paying_transaction(order):
    """The out_trade_no of the transaction that paid the order (退保 refunds that one)."""
    return db.session.scalar(select(PaymentAttempt.out_trade_no).where(
        PaymentAttempt.order_id == order.id, PaymentAttempt.status == "paid")) or order.number


def check_transaction(order, transaction, attempt=None):
    """Raise PaymentMismatch unless WeChat Pay's transaction is a successful payment of this order, by the
    attempt (the order's transaction of that out_trade_no) it says."""
    settings = pay_client().settings
    problems = [name for name, ok in (
        ("mchid", transaction.get("mchid") == settings.mchid),
        ("appid", transaction.get("appid") == settings.appid),
        ("out_trade_no", attempt is not None and transaction.get("out_trade_no") == attempt.out_trade_no),
        ("trade_type", attempt is None or transaction.get("trade_type") in (None, TRADE_TYPES[attempt.method])),
        ("trade_state", transaction.get("trade_state") == "SUCCESS"),
        ("amount", (transaction.get("amount") or {}).get("total") == order.amount_fen),
    ) if not ok]
    if problems:
        raise PaymentMismatch(", ".join(problems))


def record_payment(order_id, transaction):
    """WeChat Pay says one of the order's transactions is paid. The first one marks the order paid and issues
    the policy, exactly once, and has the others closed; one paid after another (or after the order closed)
    is a payment too many, claimed once for a refund that goes out as soon as this commits. Its own write
    transaction. True when this call paid the order; False when it was done already, or refunded."""
    begin_write()
    order = db.session.get(Order, order_id)
    attempt = _attempt_of(order, transaction.get("out_trade_no"))
    try:
        check_transaction(order, transaction, attempt)
    except PaymentMismatch:
        db.session.rollback()
        raise
    from app.orders import jobs
    now, transaction_id = db_now(), transaction.get("transaction_id")
    if _moved(order, "pending", status="paid", paid_at=now, transaction_id=transaction_id):
        db.session.execute(update(PaymentAttempt).where(PaymentAttempt.id == attempt.id).values(
            status="paid", transaction_id=transaction_id, paid_at=now))
        issue_policy(order, now)
        _moved(order, "paid", status="issued")
        jobs.close_other_transactions.enqueue_after_commit(order.id)
        db.session.commit()
        return True
    if attempt.status == "paid":  # the payment of the order, told again
        db.session.rollback()
        return False
    refund_no = attempt.out_trade_no + "R"
    claimed = db.session.execute(update(PaymentAttempt).where(
        PaymentAttempt.id == attempt.id, PaymentAttempt.status.in_(("open", "closed"))).values(
        status="refunding", transaction_id=transaction_id, paid_at=now, refund_no=refund_no)).rowcount
    if claimed:
        current_app.logger.warning("Order %s (%s) was paid again by its %s transaction %s: refunding it as %s",
                                   order.number, order.status, attempt.method, attempt.out_trade_no, refund_no)
        jobs.refund_second_payment.enqueue_after_commit(attempt.id)
    db.session.commit()
    return False


def _sync_transaction(order, out_trade_no):
    """Ask WeChat Pay about one of the order's transactions; a paid one is recorded. True if it was paid."""
    try:
        transaction = pay_client().query(out_trade_no)
    except PayError as error:
        if error.code != "ORDER_NOT_EXIST":
            current_app.logger.warning("Query of transaction %s failed: %s", out_trade_no, error.code)
        return False
    if transaction.get("trade_state") != "SUCCESS":
        return False
    try:
        record_payment(order.id, transaction)
    except PaymentMismatch as mismatch:
        current_app.logger.error("Order %s: WeChat Pay's transaction %s does not match (%s)", order.number,
                                 out_trade_no, mismatch)
        return False
    return True


def sync_with_wechat_pay(order):
    """Ask WeChat Pay about a pending order's open transactions (a notification may be late or lost). True
    if the order is paid."""
    for out_trade_no in [attempt.out_trade_no for attempt in attempts_of(order, "open")]:
        _sync_transaction(order, out_trade_no)
    db.session.refresh(order)
    return order.status in ("paid", "issued")


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


def _close_transaction(order, attempt):
    """Close one of the order's transactions at WeChat Pay, then here. False when it was not closed: paid in
    the meantime (then recorded: the order's payment, or one too many, refunded) or WeChat Pay failed."""
    out_trade_no, attempt_id = attempt.out_trade_no, attempt.id
    try:
        pay_client().close(out_trade_no)
    except PayError as error:
        if error.code == "ORDERPAID":
            _sync_transaction(order, out_trade_no)
            return False
        if error.code != "ORDER_NOT_EXIST":  # never created there: nothing to close
            current_app.logger.warning("Closing transaction %s failed: %s", out_trade_no, error.code)
            return False
    begin_write()
    db.session.execute(update(PaymentAttempt).where(PaymentAttempt.id == attempt_id, PaymentAttempt.status == "open")
                       .values(status="closed", closed_at=db_now()))
    db.session.commit()
    return True


def close_other_transactions(order_id):
    """Once the order is paid, its transactions still open at WeChat Pay are closed there, so they can no
    longer be paid. (The job queued when the payment commits.)"""
    order = db.session.get(Order, order_id)
    for attempt in attempts_of(order, "open"):
        _close_transaction(order, attempt)


def expire_if_due(order, now):
    """Close an order unpaid for ORDER_PAY_MINUTES: each of its transactions at WeChat Pay first (so it can
    no longer be paid), then here; its application goes back to the last step, to be confirmed again. A
    payment that arrived in the meantime wins."""
    if order.status != "pending" or now < order.expires_at:
        return
    for attempt in attempts_of(order, "open"):
        if not _close_transaction(order, attempt):
            db.session.refresh(order)
            return  # paid meanwhile, or tried again on the next look
    begin_write()
    if _moved(order, "pending", status="closed", closed_at=now):
        db.session.execute(update(Application).where(
            Application.id == order.application_id, Application.status == "awaiting_payment").values(
            status="draft", updated_at=now))
    db.session.commit()


# A second payment of an order, refunded

def refund_second_payment(attempt_id):
    """The whole amount of a payment too many back through WeChat Pay's refund API, under the transaction's
    own refund number: asked again, the same number is the same refund, and WeChat Pay answers how it stands.
    True when there is nothing more to do (refunded); False to ask again later (WeChat Pay failed, or the
    refund is in progress and its notification may be lost)."""
    attempt = db.session.get(PaymentAttempt, attempt_id)
    if attempt is None or attempt.status != "refunding":
        return True
    order = db.session.get(Order, attempt.order_id)
    try:
        refund = pay_client().refund(out_trade_no=attempt.out_trade_no, out_refund_no=attempt.refund_no,
                                     refund_fen=order.amount_fen, total_fen=order.amount_fen, reason="重复支付，原路退回")
    except PayError as error:
        current_app.logger.warning("Refund %s of a second payment of order %s failed: %s", attempt.refund_no,
                                   order.number, error.code)
        return False
    current_app.logger.info("Refund %s of a second payment of order %s: %s", attempt.refund_no, order.number,
                            refund.get("status"))
    if refund.get("status") != "SUCCESS":
        return False
    try:
        record_second_refund(attempt_id, refund)
    except PaymentMismatch:
        current_app.logger.error("Refund %s does not match its payment", refund.get("out_refund_no"))
        return False
    return True


def second_payment(out_refund_no):
    """The attempt whose refund (of a payment too many) this is, or None."""
    if not isinstance(out_refund_no, str):
        return None
    return db.session.scalar(select(PaymentAttempt).where(PaymentAttempt.refund_no == out_refund_no))


def record_second_refund(attempt_id, refund):
    """WeChat Pay says the refund of a payment too many succeeded: the attempt is refunded, once."""
    begin_write()
    attempt = db.session.get(PaymentAttempt, attempt_id)
    order = db.session.get(Order, attempt.order_id)
    amount = refund.get("amount") or {}
    if refund.get("out_refund_no") != attempt.refund_no or amount.get("refund") != order.amount_fen:
        db.session.rollback()
        raise PaymentMismatch("out_refund_no/amount")
    if (refund.get("refund_status") or refund.get("status")) != "SUCCESS":
        db.session.rollback()
        return False
    rows = db.session.execute(update(PaymentAttempt).where(
        PaymentAttempt.id == attempt_id, PaymentAttempt.status == "refunding").values(
        status="refunded", refunded_at=db_now())).rowcount
    db.session.commit()
    return bool(rows)


def settle_second_refunds():
    """`flask orders settle-refunds`: every refund of a payment too many not yet confirmed, asked again.
    Returns how many are still waiting."""
    waiting = db.session.scalars(select(PaymentAttempt.id).where(PaymentAttempt.status == "refunding")).all()
    return sum(1 for attempt_id in waiting if not refund_second_payment(attempt_id))


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
        refund = pay_client().refund(out_trade_no=paying_transaction(order), out_refund_no=order.refund_no,
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
