"""Partners (car washes, dental clinics), their stores and staff, the offers they honour, and the
vouchers users claim from them."""
from datetime import date, datetime, timedelta

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import to_local
from app.core.pii import HASH, Encrypted
from app.extensions import db

KINDS = {"carwash": "洗车", "dental": "洗牙"}


class Partner(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)  # the scope_ref of its agreement
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))  # a key of KINDS
    description: Mapped[str] = mapped_column(Text, default="")
    agreement_kind: Mapped[str] = mapped_column(String(40))  # its own user agreement (/agreements/<kind>)

    stores: Mapped[list["Store"]] = relationship(back_populates="partner", order_by="Store.city, Store.name")


class Store(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    city: Mapped[str] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), default="")  # the store's public number, not personal

    partner: Mapped[Partner] = relationship(back_populates="stores")


class PartnerStaff(db.Model):
    """A partner store's staff account: username and password (argon2), nothing to do with WeChat."""
    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), index=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Rotated at logout and password change: every copy of the staff cookie ends with it.
    session_token: Mapped[str] = mapped_column(String(64), unique=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    store: Mapped[Store] = relationship(lazy="joined")


class Offer(db.Model):
    __table_args__ = (CheckConstraint("stock_left >= 0", name="stock_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(60))
    service: Mapped[str] = mapped_column(String(120))  # what the store does for the voucher
    terms: Mapped[str] = mapped_column(Text, default="")  # one rule per line
    price_fen: Mapped[int] = mapped_column(default=0)  # paid at the store; 0: free
    settlement_fen: Mapped[int] = mapped_column(default=0)  # what the platform pays the partner per use
    stock_total: Mapped[int]
    stock_left: Mapped[int]  # taken by a conditional UPDATE, never below 0
    per_user_limit: Mapped[int] = mapped_column(default=1)
    # A benefit for holders of a paid policy of this category (e.g. auto); None: anyone.
    required_category: Mapped[str | None] = mapped_column(String(40))
    # The cities whose stores honour it, separated by "、"; empty: every store of the partner.
    cities: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date]  # claimable from
    ends_on: Mapped[date]  # to (inclusive)
    valid_days: Mapped[int] = mapped_column(default=30)  # a voucher is usable this long after claiming
    position: Mapped[int] = mapped_column(default=0)

    partner: Mapped[Partner] = relationship(lazy="joined")


class Voucher(db.Model):
    """A claimed voucher. The code is stored encrypted (to show it to its owner) and found by its keyed
    hash; the per-user limit is a unique (offer, user, seq) with seq ≤ the limit."""
    __table_args__ = (UniqueConstraint("offer_id", "user_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    seq: Mapped[int]  # 1..offer.per_user_limit
    code: Mapped[str] = mapped_column(Encrypted)
    code_hash: Mapped[str] = mapped_column(HASH, unique=True)
    status: Mapped[str] = mapped_column(String(10), default="unused")  # unused | used
    claimed_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]
    redeemed_store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"), index=True)
    redeemed_staff_id: Mapped[int | None] = mapped_column(ForeignKey("partner_staff.id"))

    offer: Mapped[Offer] = relationship(lazy="joined")
    redeemed_store: Mapped[Store | None] = relationship(lazy="joined")

    @property
    def last_day(self) -> date:
        """The last day it can be used (to 24:00 Asia/Shanghai)."""
        return to_local(self.expires_at - timedelta(seconds=1)).date()
