"""Catalog use cases: search the catalog, load a product page, price a quote from the rate table.

Reads only (nothing here writes).
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from app.catalog.models import (
    FREQUENCIES,
    GENDERS,
    Category,
    Insurer,
    Plan,
    Product,
    RateRow,
)
from app.core.clock import age_on
from app.core.domain import DomainError
from app.core.money import format_yuan, round_fen
from app.extensions import db, shared_cache

SORTS = {
    "default": "综合",
    "sales": "销量",
    "price_asc": "价格从低到高",
    "price_desc": "价格从高到低",
    "newest": "最新",
}
_ORDER = {
    "default": (Product.featured.desc(), Product.rank.desc(), Product.sales_count.desc()),
    "sales": (Product.sales_count.desc(),),
    "price_asc": (Product.price_from_fen.asc(),),
    "price_desc": (Product.price_from_fen.desc(),),
    "newest": (Product.launched_on.desc(),),
}


class QuoteError(DomainError):
    """Input the rate table cannot price."""


def listing_query():
    """Active products with their insurer and category loaded in the same query."""
    return (select(Product)
            .join(Product.insurer).join(Product.category)
            .options(contains_eager(Product.insurer), contains_eager(Product.category))
            .where(Product.is_active))


def search_products(*, q="", category=None, age=None, sort="default", page=1, per_page=12):
    """One page of the catalog. Every whitespace-separated term of ``q`` must appear in the product's
    name, tagline or insurer name (substring match, so Chinese words need no tokenizer)."""
    stmt = listing_query()
    for term in q.split():
        stmt = stmt.where(or_(Product.name.icontains(term, autoescape=True),
                              Product.tagline.icontains(term, autoescape=True),
                              Insurer.name.icontains(term, autoescape=True)))
    if category:
        stmt = stmt.where(Category.slug == category)
    if age is not None:
        stmt = stmt.where(Product.age_min <= age, Product.age_max >= age)
    stmt = stmt.order_by(*_ORDER.get(sort, _ORDER["default"]), Product.id)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=50)
    if not pagination.items and pagination.total and page > pagination.pages:
        # A page past the end (an old link after the catalog shrank): show the last one.
        pagination = db.paginate(stmt, page=pagination.pages, per_page=per_page, error_out=False)
    return pagination


def featured_products(limit=6):
    stmt = listing_query().where(Product.featured).order_by(Product.rank.desc(), Product.id).limit(limit)
    return db.session.scalars(stmt).all()


def category_counts():
    """Categories in display order, each with how many active products it has."""
    stmt = (select(Category, func.count(Product.id))
            .outerjoin(Product, (Product.category_id == Category.id) & Product.is_active)
            .group_by(Category.id).order_by(Category.position, Category.id))
    return db.session.execute(stmt).all()


def get_product(slug):
    """A product with everything its page and its quotes read, or None. The same for every visitor, so
    it is loaded once per PAGE_CACHE_SECONDS into a session of its own and kept detached: read-only,
    fully loaded (touching anything not loaded raises instead of querying)."""
    return shared_cache.get_or_make(("product", slug), lambda: _load_product(slug))


def _load_product(slug):
    stmt = (listing_query().where(Product.slug == slug)
            .options(selectinload(Product.plans).selectinload(Plan.coverage_items),
                     selectinload(Product.plans).selectinload(Plan.rate_rows),
                     selectinload(Product.documents), selectinload(Product.faqs)))
    with Session(db.engine) as session:
        return session.scalars(stmt).first()


def refresh_price_from(product: Product):
    """Keep the denormalised lowest annual premium in step with the rate table."""
    product.price_from_fen = db.session.scalar(
        select(func.min(RateRow.annual_premium_fen)).join(Plan).where(Plan.product_id == product.id)) or 0


@dataclass
class Quote:
    product: Product
    plan: Plan
    age: int
    row: RateRow
    frequency: str
    per_period_fen: int
    periods_per_year: int
    steps: list[tuple[str, str]] = field(default_factory=list)

    @property
    def annual_total_fen(self) -> int:
        return self.per_period_fen * self.periods_per_year

    @property
    def frequency_label(self) -> str:
        return FREQUENCIES[self.frequency]


def quote_premium(product: Product, *, plan_code, age=None, birth_date=None, today: date,
                  gender=None, social_security=None, frequency="annual") -> Quote:
    """Price one insured person from the product's rate table, exact to the fen.

    Raises QuoteError naming the field at fault. ``product`` must come from get_product (plans and
    rate rows loaded).
    """
    plan = next((p for p in product.plans if p.code == plan_code), None)
    if plan is None:
        raise QuoteError("请选择本产品提供的保障方案", "plan")
    if birth_date is not None:
        if birth_date > today:
            raise QuoteError("出生日期不能晚于今天", "birth_date")
        age = age_on(birth_date, today)
        age_field, age_source = "birth_date", f"按出生日期 {birth_date:%Y-%m-%d} 计算至 {today:%Y-%m-%d}"
    elif age is not None:
        age_field, age_source = "age", "按填写的周岁年龄"
    else:
        raise QuoteError("请填写被保险人的出生日期或周岁年龄", "age")
    if not product.age_min <= age <= product.age_max:
        raise QuoteError(f"本产品仅承保{product.age_range_text}的被保险人，当前为{age}周岁", age_field)
    if product.priced_by_gender and gender not in GENDERS:
        raise QuoteError("请选择被保险人的性别", "gender")
    if product.priced_by_social_security and social_security is None:
        raise QuoteError("请选择被保险人是否有医保（社保）", "social_security")
    if frequency not in product.frequencies:
        raise QuoteError("本产品不支持该缴费方式", "frequency")

    def matches(row):
        return (row.age_min <= age <= row.age_max
                and row.gender == (gender if product.priced_by_gender else None)
                and row.social_security == (social_security if product.priced_by_social_security else None))

    row = next((r for r in plan.rate_rows if matches(r)), None)
    if row is None:
        # The rate table does not cover a case the product says it accepts: a data error, not the user's.
        raise LookupError(f"rate table of plan {plan.id} has no row for age {age}")

    steps = [("被保险人年龄", f"{age}周岁（{age_source}）"),
             ("费率表", f"{plan.name} · {row.label} → 年缴保费 {format_yuan(row.annual_premium_fen)}")]
    if frequency == "monthly":
        loading = Decimal(product.monthly_loading_permille) / 1000
        per_period = round_fen(Decimal(row.annual_premium_fen) * loading / 12)
        steps.append(("缴费方式", f"月缴：年缴保费 × {loading:.2f} ÷ 12，四舍五入到分 → 每月 {format_yuan(per_period)}"))
        steps.append(("一年合计", f"{format_yuan(per_period)} × 12期 = {format_yuan(per_period * 12)}"))
        periods = 12
    else:
        per_period = row.annual_premium_fen
        steps.append(("缴费方式", f"年缴：按费率表金额，每年 {format_yuan(per_period)}"))
        periods = 1
    return Quote(product=product, plan=plan, age=age, row=row, frequency=frequency,
                 per_period_fen=per_period, periods_per_year=periods, steps=steps)
