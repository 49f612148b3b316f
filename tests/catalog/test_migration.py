"""The back office's migration keeps the catalog as it was: each product on sale since its launch day with its
rows as one approved rate table in force since then, and an application started before keeps that table."""
import json
from datetime import date, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app.catalog.models import Product, RateTable
from app.catalog.services import get_product, quote_premium
from app.core.clock import db_now
from app.core.pii import encrypt
from app.extensions import db
from app.purchase.models import Application
from tests.support.migration import APPLICATION, USER, old_app, old_catalog

BEFORE = "2224d8519548"  # the revision before the product workflow and rate tables


def test_products_stay_on_sale_with_their_rows_as_the_table_in_force(app, tmp_path):
    other = old_app(app, tmp_path / "before.db")
    with other.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            old_catalog(connection)
            connection.execute(text(USER), {"mobile": encrypt("13712340001")})
            connection.execute(text(APPLICATION), {"data": encrypt(json.dumps({}))})
        upgrade()

        product = db.session.scalar(select(Product))
        assert (product.state, product.published_at, product.withdrawn_at) == ("approved", datetime(2026, 1, 1), None)
        table = db.session.scalar(select(RateTable))
        assert (table.state, table.effective_at, table.price_from_fen) == ("approved", datetime(2026, 1, 1), 10000)
        assert sorted(row.annual_premium_fen for row in table.rows) == [10000, 20000]
        assert db.session.get(Application, 1).rate_table_id == table.id

        shown = get_product("old-medical")
        quote = quote_premium(shown, plan_code="basic", age=50, today=date(2026, 11, 30),
                              table=shown.rate_table_at(db_now()))
        assert quote.per_period_fen == 20000

        db.session.remove()
        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT is_active FROM product")).scalar() in (1, True)
            assert connection.execute(text("SELECT count(*) FROM rate_row")).scalar() == 2
        db.session.remove()
        db.engine.dispose()
