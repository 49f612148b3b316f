"""Catalog data. Money is integer fen; a product's rate table is a set of RateRow per plan."""
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

GENDERS = {"M": "男", "F": "女"}
FREQUENCIES = {"annual": "年缴", "monthly": "月缴"}
DOCUMENT_KINDS = {"clauses": "保险条款", "notice": "投保须知", "health": "健康告知"}


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
        Index("ix_product_listing", "is_active", "category_id"),
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
    # Lowest premium in the rate table, kept by refresh_price_from() for sorting and "¥… 起".
    price_from_fen: Mapped[int] = mapped_column(default=0, index=True)
    sales_count: Mapped[int] = mapped_column(default=0, index=True)
    rank: Mapped[int] = mapped_column(default=0)  # editorial weight for 综合 ordering
    featured: Mapped[bool] = mapped_column(default=False)
    launched_on: Mapped[date] = mapped_column(index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=True)

    insurer: Mapped[Insurer] = relationship(lazy="raise")
    category: Mapped[Category] = relationship(lazy="raise")
    plans: Mapped[list["Plan"]] = relationship(
        back_populates="product", order_by="Plan.position", cascade="all, delete-orphan")
    documents: Mapped[list["Document"]] = relationship(
        back_populates="product", order_by="Document.id", cascade="all, delete-orphan")
    faqs: Mapped[list["Faq"]] = relationship(order_by="Faq.position", cascade="all, delete-orphan")

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
    rate_rows: Mapped[list["RateRow"]] = relationship(
        back_populates="plan", order_by="RateRow.age_min, RateRow.gender, RateRow.social_security",
        cascade="all, delete-orphan")


class CoverageItem(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(60))
    limit_fen: Mapped[int | None]
    limit_text: Mapped[str] = mapped_column(String(60), default="")  # for limits that are not a sum
    deductible_fen: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(String(200), default="")


class RateRow(db.Model):
    """One row of a plan's rate table: the annual premium for an age band (and gender / 社保 where priced)."""
    __table_args__ = (
        UniqueConstraint("plan_id", "age_min", "gender", "social_security"),
        CheckConstraint("age_min <= age_max", name="band"),
        CheckConstraint("annual_premium_fen > 0", name="premium_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"))
    age_min: Mapped[int]
    age_max: Mapped[int]
    gender: Mapped[str | None] = mapped_column(String(1))  # None: not priced by gender
    social_security: Mapped[bool | None]  # None: not priced by 社保
    annual_premium_fen: Mapped[int]

    plan: Mapped[Plan] = relationship(back_populates="rate_rows")

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
