"""Rate tables in tests: a product of the test's own (a copy of a demo product, on sale with an approved
table, so a new price never reaches another test's), and the import file an operator would make from the
downloaded template."""
import csv
import io
import itertools
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from app.catalog.models import CoverageItem, Document, Faq, Plan, Product, RateRow, RateTable
from app.catalog.rates import COLUMNS
from app.core.clock import db_now
from app.extensions import db
from tests.support.admin import BASELINES, argument
from tests.support.purchase import MEDICAL

_serial = itertools.count(1)


def copy_product(app, source=MEDICAL, *, on_sale=True, with_table=True):
    """A new product like ``source`` (plans, coverage, documents, FAQ, its rate table in force as its own),
    on sale since a day ago."""
    with app.app_context():
        original = db.session.scalar(select(Product).where(Product.slug == source))
        n = next(_serial)
        since = db_now() - timedelta(days=1)
        columns = {c.key: getattr(original, c.key) for c in Product.__table__.columns
                   if c.key not in ("id", "slug", "name", "prepared_by_id", "reviewed_by_id")}
        product = Product(**{**columns, "slug": f"{source}-copy-{n}", "name": f"费率测试险{n}",
                             "published_at": since if on_sale else None, "state": "approved" if on_sale else "draft",
                             "featured": False, "is_demo": True})
        for plan in original.plans:
            copy = Plan(code=plan.code, name=plan.name, position=plan.position, sum_assured_fen=plan.sum_assured_fen,
                        description=plan.description)
            copy.coverage_items = [CoverageItem(position=i.position, name=i.name, limit_fen=i.limit_fen,
                                                limit_text=i.limit_text, deductible_fen=i.deductible_fen, notes=i.notes)
                                   for i in plan.coverage_items]
            product.plans.append(copy)
        product.documents = [Document(kind=d.kind, title=d.title, body=d.body) for d in original.documents]
        product.faqs = [Faq(position=f.position, question=f.question, answer=f.answer) for f in original.faqs]
        db.session.add(product)
        db.session.flush()
        table_id = None
        if with_table:
            source_table = next(t for t in original.rate_tables if t.effective_at <= db_now())
            codes = {p.id: p.code for p in original.plans}
            plans = {p.code: p for p in product.plans}
            table = RateTable(product_id=product.id, state="approved", note="测试用", created_at=since,
                              effective_at=since, price_from_fen=source_table.price_from_fen)
            table.rows = [RateRow(plan_id=plans[codes[r.plan_id]].id, age_min=r.age_min, age_max=r.age_max,
                                  gender=r.gender, social_security=r.social_security,
                                  annual_premium_fen=r.annual_premium_fen) for r in source_table.rows]
            db.session.add(table)
            db.session.flush()
            table_id = table.id
            product.price_from_fen = table.price_from_fen
        db.session.commit()
        return SimpleNamespace(id=product.id, slug=product.slug, name=product.name, table_id=table_id,
                               plans=[p.code for p in product.plans])


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
    product = copy_product(world.app)
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
