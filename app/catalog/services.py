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
    RateTable,
)
from app.core.clock import age_on, db_now
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
    """Products on sale now, with their insurer and category loaded in the same query."""
    return _with_insurer_and_category().where(Product.on_sale(db_now()))


def _with_insurer_and_category():
    return (select(Product)
            .join(Product.insurer).join(Product.category)
            .options(contains_eager(Product.insurer), contains_eager(Product.category)))


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
            .outerjoin(Product, (Product.category_id == Category.id) & Product.on_sale(db_now()))
            .group_by(Category.id).order_by(Category.position, Category.id))
    return db.session.execute(stmt).all()


def get_product(slug):
    """A product on sale with everything its page and its quotes read, or None. The same for every visitor,
    so it is loaded once per PAGE_CACHE_SECONDS into a session of its own and kept detached: read-only,
    fully loaded (touching anything not loaded raises instead of querying). What is on sale, and which rate
    table is in force, is decided at each call from the clock, not when it was loaded."""
    product = shared_cache.get_or_make(("product", slug), lambda: load_product(Product.slug == slug))
    return product if product is not None and product.is_on_sale(db_now()) else None


def load_product(where):
    """The product ``where`` selects, in whatever state (the back office's preview too), fully loaded and
    detached, or None."""
    stmt = (_with_insurer_and_category().where(where)
            .options(selectinload(Product.plans).selectinload(Plan.coverage_items),
                     selectinload(Product.rate_tables).selectinload(RateTable.rows),
                     selectinload(Product.documents), selectinload(Product.faqs)))
    with Session(db.engine) as session:
        return session.scalars(stmt).first()


def table_prices(rows) -> int:
    """The lowest annual premium among rate rows (0: none)."""
    return min((row.annual_premium_fen for row in rows), default=0)


def refresh_prices(now, product_ids=None):
    """Keep each product's denormalised "¥… 起" (listing and sorting) in step with its rate table in force at
    ``now``. Returns how many changed. Run when a table is approved and every minute (a scheduled table)."""
    in_force = (select(RateTable.product_id, func.max(RateTable.effective_at).label("since"))
                .where(RateTable.state == "approved", RateTable.effective_at <= now)
                .group_by(RateTable.product_id).subquery())
    stmt = (select(Product, RateTable.price_from_fen)
            .join(in_force, in_force.c.product_id == Product.id)
            .join(RateTable, (RateTable.product_id == Product.id) & (RateTable.state == "approved")
                  & (RateTable.effective_at == in_force.c.since)))
    if product_ids is not None:
        stmt = stmt.where(Product.id.in_(product_ids))
    changed = 0
    for product, price in db.session.execute(stmt):
        if product.price_from_fen != price:
            product.price_from_fen = price
            changed += 1
    return changed


@dataclass
class Quote:
    product: Product
    plan: Plan
    age: int
    table: RateTable
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

    @property
    def rows(self) -> list[RateRow]:
        """The plan's whole rate table (the one this quote was priced from)."""
        return self.table.rows_of(self.plan)


def quote_premium(product: Product, *, plan_code, age=None, birth_date=None, today: date, table: RateTable,
                  gender=None, social_security=None, frequency="annual") -> Quote:
    """Price one insured person from a rate table of the product (the one in force: product.rate_table_at),
    exact to the fen.

    Raises QuoteError naming the field at fault. ``product`` must come from get_product or load_product
    (plans and rate tables loaded).
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

    if table is None:
        raise QuoteError("本产品暂无生效的费率表，请稍后再试", "plan")
    row = next((r for r in table.rows_of(plan) if matches(r)), None)
    if row is None:
        # The rate table does not cover a case the product says it accepts: a data error, not the user's
        # (imports are checked for exactly this).
        raise LookupError(f"rate table {table.id} of plan {plan.id} has no row for age {age}")

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
    return Quote(product=product, plan=plan, age=age, table=table, row=row, frequency=frequency,
                 per_period_fen=per_period, periods_per_year=periods, steps=steps)
