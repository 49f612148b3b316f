"""The catalog page costs the same number of queries however many products there are (no N+1)."""
from datetime import date

from sqlalchemy import delete, select

from app.catalog.models import Category, Insurer, Product
from app.extensions import db
from tests.support.web import count_queries


def catalog_queries(client, path):
    with count_queries(db.engine) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_query_count_is_constant_as_the_catalog_grows(app, client, ctx):
    paths = ["/products", "/products?sort=price_asc&page=2", "/products?q=险", "/"]
    before = [catalog_queries(client, p) for p in paths]
    insurer = Insurer(slug="bulk", name="批量测试保险", short_name="批量")
    categories = db.session.scalars(select(Category)).all()
    db.session.add_all([
        Product(slug=f"bulk-{i}", name=f"批量产品{i}", tagline="测试险", insurer=insurer,
                category=categories[i % len(categories)], age_min=0, age_max=70, coverage_period="1年",
                renewal="", launched_on=date(2026, 1, 1), price_from_fen=100 + i, featured=i % 2 == 0)
        for i in range(60)])
    db.session.commit()
    try:
        after = [catalog_queries(client, p) for p in paths]
    finally:
        db.session.execute(delete(Product).where(Product.slug.like("bulk-%")))
        db.session.execute(delete(Insurer).where(Insurer.slug == "bulk"))
        db.session.commit()
    assert after == before
    assert max(before) <= 5  # categories, count + page, the home page's offers, the agreement banner (all cached)
