"""Orders (one per confirmation of an application) and the policies their payments issue."""
import json
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Product  # noqa: F401  (the relationships' target)
from app.core.pii import Encrypted
from app.extensions import db

# pending 待支付 → paid 已支付 → issued 已出单 → refunding 退保中 → refunded 已退保; pending → closed 已关闭.
ORDER_STATUSES = {"pending": "待支付", "paid": "已支付", "issued": "已出单", "closed": "已关闭",
                  "refunding": "退保处理中", "refunded": "已退保"}


class Order(db.Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # also its Native transaction's out_trade_no
    # The confirm form's key: a double submit, a second tab or a retry finds this order again.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The application it was confirmed from; a draft deleted later (an order closed unpaid) leaves NULL.
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"),
                                                       index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    plan_code: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(10))
    amount_fen: Mapped[int]  # from the rate table at creation, never from the request
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    code_url: Mapped[str | None] = mapped_column(String(200))  # the Native QR's content (as its PaymentAttempt's)
    transaction_id: Mapped[str | None] = mapped_column(String(40))
    refund_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    queried_at: Mapped[datetime | None]  # when WeChat Pay was last asked about it
    paid_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]

    product: Mapped["Product"] = relationship(lazy="joined")  # noqa: F821

    @property
    def status_text(self):
        return ORDER_STATUSES[self.status]


# How an order can be paid: each way is its own transaction at WeChat Pay (it binds an out_trade_no to one
# trade type), its out_trade_no the order number plus this suffix. Native keeps the bare order number.
PAY_METHODS = {"native": "", "jsapi": "J", "h5": "H"}
TRADE_TYPES = {"native": "NATIVE", "jsapi": "JSAPI", "h5": "MWEB"}  # as WeChat Pay reports them


class PaymentAttempt(db.Model):
    """One of an order's transactions at WeChat Pay: Native (a QR, on a desktop), JSAPI (inside WeChat) or H5
    (a phone browser). The row is written before WeChat Pay is asked to create the transaction, so every
    transaction that may exist there is known here: to map its notifications to the order, to close it
    once another one is paid or the order expires, and to refund it if it was paid as well.

    open → paid (the one that paid the order) · open → closed · open/closed → refunding → refunded (paid
    too, after another had paid the order, or after the order closed: the money goes back)."""
    __tablename__ = "payment_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[str] = mapped_column(String(8))  # a key of PAY_METHODS
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)  # order number + PAY_METHODS[method]
    status: Mapped[str] = mapped_column(String(12), default="open")
    code_url: Mapped[str | None] = mapped_column(String(200))  # Native: the QR's content
    prepay_id: Mapped[str | None] = mapped_column(String(64))  # JSAPI: what the page's paySign signs
    h5_url: Mapped[str | None] = mapped_column(String(512))  # H5: the last one (each is valid for 5 minutes)
    transaction_id: Mapped[str | None] = mapped_column(String(40))  # WeChat Pay's, once paid
    refund_no: Mapped[str | None] = mapped_column(String(32), unique=True)  # a second payment's refund
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship()


# What a policy is on a given day, in one wording for the page, the PDF, /me/policies and my data. The
# stored status only knows active and surrendered; the rest follows from the order and the dates.
POLICY_STATES = {"pending_start": "待生效", "in_force": "保障中", "expired": "已到期",
                 "refunding": "退保处理中", "surrendered": "已退保"}


class Policy(db.Model):
    """The e-policy. What the insured and beneficiaries are is copied from the application (encrypted)
    when it is issued, together with the agreement and clause versions in force then."""
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)  # one policy per order
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    plan_code: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(10))
    premium_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default="active")  # active, surrendered
    starts_on: Mapped[date]  # coverage from 00:00 Asia/Shanghai of this day
    ends_on: Mapped[date]  # to 24:00 of this day
    issued_at: Mapped[datetime]
    surrendered_at: Mapped[datetime | None]
    data: Mapped[str] = mapped_column(Encrypted)  # applicant, insured, beneficiaries
    terms: Mapped[str] = mapped_column(Text)  # JSON: agreement and clause versions in force at issue

    order: Mapped[Order] = relationship(lazy="joined")
    product: Mapped["Product"] = relationship(lazy="joined")  # noqa: F821

    def state_on(self, today: date) -> str:
        """A key of POLICY_STATES: coverage runs from 00:00 of starts_on to 24:00 of ends_on (local days)."""
        if self.status == "surrendered":
            return "surrendered"
        if self.order.status == "refunding":
            return "refunding"
        if today < self.starts_on:
            return "pending_start"
        return "expired" if today > self.ends_on else "in_force"

    def state_text_on(self, today: date) -> str:
        return POLICY_STATES[self.state_on(today)]

    @property
    def details(self) -> dict:
        return json.loads(self.data)

    @property
    def versions(self) -> dict:
        return json.loads(self.terms)
