"""Rate tables in tests: a product of the test's own (a copy of a demo product, on sale with an approved
table, so a new price never reaches another test's), and the import file an operator would make from the
downloaded template."""
import csv
import io
import itertools
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from app.catalog import demo
from app.catalog.models import Product, RateRow, RateTable
from app.catalog.rates import COLUMNS
from app.core.clock import db_now
from app.extensions import db
from tests.support.admin import BASELINES, argument
from tests.support.purchase import MEDICAL

_serial = itertools.count(1)


def copy_product(app, source=MEDICAL, *, on_sale=True, with_table=True):
    """A new product like ``source`` (plans, coverage, documents, FAQ, and a copy of its rate table in force),
    on sale since a day ago."""
    with app.app_context():
        original = db.session.scalar(select(Product).where(Product.slug == source))
        n = next(_serial)
        since = db_now() - timedelta(days=1)
        product = demo.copy_product(original, slug=f"{source}-copy-{n}", name=f"费率测试险{n}", featured=False,
                                    with_table_at=since if with_table else None,
                                    state="approved" if on_sale else "draft", published_at=since if on_sale else None)
        table = product.rate_table_at(db_now()) if with_table else None
        if table is not None:
            product.price_from_fen = table.price_from_fen
        db.session.commit()
        return SimpleNamespace(id=product.id, slug=product.slug, name=product.name, table_id=table and table.id,
                               plans=[p.code for p in product.plans])


def off_sale(app, product):
    with app.app_context():
        db.session.get(Product, product.id).published_at = None
        db.session.commit()


def rows_of(text):
    """A CSV's data rows as lists (the header checked and dropped)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert tuple(rows[0]) == COLUMNS
    return rows[1:]


def csv_bytes(rows, header=COLUMNS, encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, header=COLUMNS):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append([int(cell) if cell.isdigit() else cell for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@argument("table_id")
def pending_table(world):
    """For the property test: a table waiting for approval, of a product of its own."""
    product = copy_product(world.app, on_sale=False)
    with world.app.app_context():
        source = db.session.get(RateTable, product.table_id)
        table = RateTable(product_id=product.id, state="pending", note="待审核", created_at=db_now(),
                          price_from_fen=source.price_from_fen)
        table.rows = [RateRow(plan_id=r.plan_id, age_min=r.age_min, age_max=r.age_max, gender=r.gender,
                              social_security=r.social_security, annual_premium_fen=r.annual_premium_fen + 100)
                      for r in source.rows]
        db.session.add(table)
        db.session.commit()
        return table.id


BASELINES.update({"RateImportForm": {"note": "2027年费率调整"}, "RateApproveForm": {"effective_at": "2026-11-25T10:00"}})
