"""`flask seed-demo`: a realistic catalog, complete rate tables, idempotent."""
from datetime import date

from sqlalchemy import func, select

from app.catalog.demo import PRODUCTS
from app.catalog.models import Category, Insurer, Plan, Product, RateRow
from app.catalog.services import get_product, quote_premium
from app.core.clock import db_now
from app.extensions import db


def counts():
    return [db.session.scalar(select(func.count()).select_from(model))
            for model in (Insurer, Category, Product, Plan, RateRow)]


def test_demo_catalog_is_big_enough_and_marked_as_demo(ctx):
    insurers, categories, products, _, _ = counts()
    assert insurers >= 3 and categories == 5 and products >= 30
    per_category = db.session.execute(
        select(Category.name, func.count(Product.id)).join(Product).group_by(Category.name)).all()
    assert len(per_category) == 5 and min(n for _, n in per_category) >= 5
    seeded = [slug for products in PRODUCTS.values() for slug, *_ in products]
    assert db.session.scalars(select(Product.is_demo).where(Product.slug.in_(seeded))).all() == [True] * len(seeded)


def test_every_rate_table_prices_every_age_the_product_accepts(ctx):
    """Each plan, age, gender and 社保 the calculator can be asked for has exactly one row."""
    ages_seen = set()
    for slug in db.session.scalars(select(Product.slug).where(Product.on_sale(db_now()))):
        product = get_product(slug)
        assert product.documents and product.faqs and len(product.plans) >= 2
        table = product.rate_table_at(db_now())
        for plan in product.plans:
            for age in range(product.age_min, product.age_max + 1):
                for gender in ("M", "F"):
                    for social in (True, False):
                        quote = quote_premium(product, plan_code=plan.code, age=age, today=date(2026, 11, 25),
                                              gender=gender, social_security=social, table=table)
                        assert quote.per_period_fen > 0
                        ages_seen.add(age)
                matching = [r for r in table.rows_of(plan) if r.age_min <= age <= r.age_max]
                expected = (2 if product.priced_by_gender else 1) * (2 if product.priced_by_social_security else 1)
                assert len(matching) == expected, (slug, plan.code, age)
        assert product.price_from_fen == min(r.annual_premium_fen for r in table.rows)
    assert ages_seen == set(range(0, 71))


def test_seed_demo_is_idempotent(app, ctx):
    before = counts()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "already present" in result.output
    assert counts() == before
