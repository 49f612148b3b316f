"""Catalog data. Money is integer fen.

A product is prepared as a draft in the back office, approved by someone else (maker–checker), and on sale
from ``published_at`` until ``withdrawn_at``. Its premiums come from rate tables (RateTable, rows per plan):
each imported table waits for approval and is in force from its ``effective_at`` until a later approved
table takes over; an application keeps the table it was started under.
"""
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.review import maker_checker
from app.extensions import db

GENDERS = {"M": "男", "F": "女"}
FREQUENCIES = {"annual": "年缴", "monthly": "月缴"}
DOCUMENT_KINDS = {"clauses": "保险条款", "notice": "投保须知", "health": "健康告知"}
PRODUCT_STATES = {"draft": "草稿", "pending": "待审核", "approved": "已审核"}
RATE_TABLE_STATES = {"pending": "待审核", "approved": "已审核", "rejected": "已退回"}


class Insurer(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    short_name: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")


class Category(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(80), default="")
    position: Mapped[int] = mapped_column(default=0)

    @classmethod
    def ordered(cls):
        return db.session.scalars(select(cls).order_by(cls.position, cls.id)).all()


class Product(db.Model):
    __table_args__ = (
        CheckConstraint("age_min >= 0 AND age_min <= age_max", name="age_range"),
        Index("ix_product_listing", "published_at", "category_id"),
        maker_checker(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    tagline: Mapped[str] = mapped_column(String(120))
    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurer.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    age_min: Mapped[int]
    age_max: Mapped[int]
    coverage_period: Mapped[str] = mapped_column(String(30))
    waiting_period_days: Mapped[int] = mapped_column(default=0)
    cooling_off_days: Mapped[int] = mapped_column(default=15)  # 犹豫期: surrender with a full refund
    renewal: Mapped[str] = mapped_column(String(200))
    highlights: Mapped[str] = mapped_column(Text, default="")  # one selling point per line
    # Which factors the rate table is split by; the calculator asks only for those.
    priced_by_gender: Mapped[bool] = mapped_column(default=True)
    priced_by_social_security: Mapped[bool] = mapped_column(default=False)
    # "annual" or "annual,monthly"; monthly instalments carry a loading on the annual premium.
    payment_frequencies: Mapped[str] = mapped_column(String(30), default="annual")
    monthly_loading_permille: Mapped[int] = mapped_column(default=1000)
    # Lowest premium in the rate table, kept by services.refresh_prices() for sorting and "¥… 起".
    price_from_fen: Mapped[int] = mapped_column(default=0, index=True)
    sales_count: Mapped[int] = mapped_column(default=0, index=True)
    rank: Mapped[int] = mapped_column(default=0)  # editorial weight for 综合 ordering
    featured: Mapped[bool] = mapped_column(default=False)
    launched_on: Mapped[date] = mapped_column(index=True)
    is_demo: Mapped[bool] = mapped_column(default=True)
    # The back office's workflow: draft → pending (submitted) → approved; on sale between the two times.
    state: Mapped[str] = mapped_column(String(10), default="draft")  # a key of PRODUCT_STATES
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    submitted_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    reviewed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]  # on sale from (UTC); None: not published
    withdrawn_at: Mapped[datetime | None]  # off sale from

    insurer: Mapped[Insurer] = relationship(lazy="raise")
    category: Mapped[Category] = relationship(lazy="raise")
    plans: Mapped[list["Plan"]] = relationship(
        back_populates="product", order_by="Plan.position", cascade="all, delete-orphan")
    documents: Mapped[list["Document"]] = relationship(
        back_populates="product", order_by="Document.id", cascade="all, delete-orphan")
    faqs: Mapped[list["Faq"]] = relationship(order_by="Faq.position", cascade="all, delete-orphan")
    # Approved rate tables (in force and scheduled), the newest first: rate_table_at picks by time.
    rate_tables: Mapped[list["RateTable"]] = relationship(
        primaryjoin="and_(RateTable.product_id == Product.id, RateTable.state == 'approved')",
        order_by="(RateTable.effective_at.desc(), RateTable.id.desc())", viewonly=True)

    @classmethod
    def on_sale(cls, now):
        """SQL: published and not withdrawn at ``now`` (naive UTC)."""
        return (cls.published_at <= now) & or_(cls.withdrawn_at.is_(None), cls.withdrawn_at > now)

    def is_on_sale(self, now) -> bool:
        return (self.published_at is not None and self.published_at <= now
                and (self.withdrawn_at is None or self.withdrawn_at > now))

    def rate_table_at(self, now):
        """The approved rate table in force at ``now`` (naive UTC), or None. Needs rate_tables loaded."""
        return next((t for t in self.rate_tables if t.effective_at <= now), None)

    @property
    def frequencies(self) -> list[str]:
        return self.payment_frequencies.split(",")

    @property
    def frequency_labels(self) -> list[str]:
        return [FREQUENCIES[f] for f in self.frequencies]

    @property
    def highlight_list(self) -> list[str]:
        return [line for line in self.highlights.splitlines() if line.strip()]

    @property
    def age_range_text(self) -> str:
        low = "出生满28天" if self.age_min == 0 else f"{self.age_min}周岁"
        return f"{low}–{self.age_max}周岁"


class Plan(db.Model):
    __table_args__ = (UniqueConstraint("product_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    sum_assured_fen: Mapped[int]
    description: Mapped[str] = mapped_column(String(120), default="")

    product: Mapped[Product] = relationship(back_populates="plans")
    coverage_items: Mapped[list["CoverageItem"]] = relationship(
        order_by="CoverageItem.position", cascade="all, delete-orphan")


class CoverageItem(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(60))
    limit_fen: Mapped[int | None]
    limit_text: Mapped[str] = mapped_column(String(60), default="")  # for limits that are not a sum
    deductible_fen: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(String(200), default="")


class RateTable(db.Model):
    """One version of a product's premiums: imported (pending), then approved with the time it takes
    effect, or rejected. Rows are never changed after import; a new price is a new table."""
    __table_args__ = (maker_checker(), Index("ix_rate_table_in_force", "product_id", "state", "effective_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # a key of RATE_TABLE_STATES
    source_name: Mapped[str] = mapped_column(String(120), default="")  # the imported file's name
    note: Mapped[str] = mapped_column(String(200), default="")  # the preparer's explanation
    price_from_fen: Mapped[int] = mapped_column(default=0)  # its lowest annual premium
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    created_at: Mapped[datetime]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str] = mapped_column(String(200), default="")  # why it was rejected
    effective_at: Mapped[datetime | None]  # in force from (UTC), once approved

    product: Mapped[Product] = relationship(lazy="raise")
    rows: Mapped[list["RateRow"]] = relationship(
        back_populates="table", order_by="RateRow.plan_id, RateRow.age_min, RateRow.gender, RateRow.social_security",
        cascade="all, delete-orphan")

    def rows_of(self, plan) -> list["RateRow"]:
        return [row for row in self.rows if row.plan_id == plan.id]


class RateRow(db.Model):
    """One row of a plan's rate table: the annual premium for an age band (and gender / 社保 where priced)."""
    __table_args__ = (
        UniqueConstraint("rate_table_id", "plan_id", "age_min", "gender", "social_security"),
        CheckConstraint("age_min <= age_max", name="band"),
        CheckConstraint("annual_premium_fen > 0", name="premium_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rate_table_id: Mapped[int] = mapped_column(ForeignKey("rate_table.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    age_min: Mapped[int]
    age_max: Mapped[int]
    gender: Mapped[str | None] = mapped_column(String(1))  # None: not priced by gender
    social_security: Mapped[bool | None]  # None: not priced by 社保
    annual_premium_fen: Mapped[int]

    table: Mapped[RateTable] = relationship(back_populates="rows")
    plan: Mapped[Plan] = relationship()

    @property
    def label(self) -> str:
        parts = [f"{self.age_min}–{self.age_max}周岁"]
        if self.gender:
            parts.append(GENDERS[self.gender])
        if self.social_security is not None:
            parts.append("有社保" if self.social_security else "无社保")
        return " · ".join(parts)


class Document(db.Model):
    __table_args__ = (UniqueConstraint("product_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    kind: Mapped[str] = mapped_column(String(20))  # a key of DOCUMENT_KINDS
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)  # paragraphs separated by blank lines

    product: Mapped[Product] = relationship(back_populates="documents")

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


class Faq(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    question: Mapped[str] = mapped_column(String(120))
    answer: Mapped[str] = mapped_column(Text)


class BrowsingEvent(db.Model):
    """The browsing trail (only while the user has 个性化推荐 on): a product the user looked at (view) or
    that a search of theirs found (search), by id and time, never the query text. Pruned after 90 days."""
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # view | search
    at: Mapped[datetime] = mapped_column(index=True)
