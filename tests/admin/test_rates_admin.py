"""费率表 in the back office: an import checked whole before anything is saved (CSV and Excel), its comparison
with the table in force, approval by a second person with the time it takes effect, the public price
changing only then, and an application keeping the price it was started at."""
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.admin.roles import ROLES
from app.catalog.jobs import refresh_prices
from app.catalog.models import Product, RateTable
from app.core.clock import db_now, format_local
from app.extensions import db
from app.orders.models import Order
from app.purchase.models import Application
from tests.support.admin import audit_rows, last_audit
from tests.support.agreements import accept
from tests.support.concurrency import at_once
from tests.support.purchase import Buyer, premium
from tests.support.rates import copy_product, csv_bytes, rows_of, xlsx_bytes
from tests.support.web import token


def template(browser, product):
    response = browser.client.get(f"/admin/products/{product.id}/rates.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    return rows_of(response.get_data(as_text=True))


def raised(rows, percent=10, plan=None):
    """Every premium (of one plan, or all) up by ``percent``, to the fen."""
    out = []
    for row in rows:
        row = list(row)
        if plan is None or row[0] == plan:
            fen = round(int(row[5].replace(".", "")) * (100 + percent) / 100)
            row[5] = f"{fen // 100}.{fen % 100:02d}"
        out.append(row)
    return out


def upload(browser, product, content, filename="rates.csv", note="2027年费率调整"):
    page = browser.client.get(f"/admin/products/{product.id}/rates").get_data(as_text=True)
    return browser.client.post(f"/admin/products/{product.id}/rates",
                               data={"csrf_token": token(page), "note": note, "file": (io.BytesIO(content), filename)},
                               content_type="multipart/form-data")


def tables(app, product):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RateTable).where(RateTable.product_id == product.id))


def imported(browser, product, rows, **kwargs):
    response = upload(browser, product, csv_bytes(rows), **kwargs)
    assert response.status_code == 302, re.findall(r"<li>([^<]+)</li>", response.get_data(as_text=True))
    return int(response.headers["Location"].split("/")[3].split("?")[0])


def approve(browser, table_id, when=None):
    page = browser.client.get(f"/admin/rates/{table_id}").get_data(as_text=True)
    return browser.client.post(f"/admin/rates/{table_id}/approve",
                               data={"csrf_token": token(page), "effective_at": when or ""})


def fen(shown):
    return int(shown.strip("¥").replace(",", "").replace(".", ""))


def public_premium(client, product):
    page = client.get(f"/products/{product.slug}").get_data(as_text=True)
    return premium(page)


def test_an_import_waits_for_approval_and_shows_what_changes(app, signed_in, product):
    ops, staff = signed_in("ops")
    rows = template(ops, product)
    response = upload(ops, product, csv_bytes(raised(rows, 10, plan=product.plans[0])))
    assert response.status_code == 302
    page = ops.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "费率表已导入，等待另一位同事审核" in page and "待审核" in page
    changed = sum(1 for row in rows if row[0] == product.plans[0])
    assert f"上调 {changed} 行 · 下调 0 行 · 新增 0 行 · 删除 0 行 · 不变 {len(rows) - changed} 行" in page
    assert "+10.0%" in page
    assert "须由另一位有审核权限的同事审核通过" in page and "审核通过</button>" not in page
    event = last_audit(app, action="rate_table.imported")
    assert event.staff_id == staff.id and f'"rows": {len(rows)}' in event.after


def test_an_excel_file_imports_as_a_csv_does(app, signed_in, product):
    ops, _ = signed_in("ops")
    rows = raised(template(ops, product), 5)
    response = upload(ops, product, xlsx_bytes(rows), filename="费率.xlsx")
    assert response.status_code == 302
    page = ops.client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"上调 {len(rows)} 行" in page


def test_a_gbk_csv_from_excel_is_read(app, signed_in, product):
    ops, _ = signed_in("ops")
    rows = raised(template(ops, product), 5)
    response = upload(ops, product, csv_bytes(rows, encoding="gb18030"))
    assert response.status_code == 302


def _edit(index, column, value):
    def change(rows):
        rows[index][column] = value
        return rows
    return change


INVALID = {
    "empty": (lambda rows: b"", "文件是空的"),
    "header": (lambda rows: csv_bytes(rows, header=("plan", "min", "max", "gender", "social", "premium")), "表头应为"),
    "header only": (lambda rows: csv_bytes([]), "文件只有表头，没有费率"),
    "unknown plan": (_edit(0, 0, "gold"), "方案代码「gold」不是本产品的方案"),
    "age not a number": (_edit(0, 1, "十八"), "年龄须为整数周岁"),
    "age in superscript digits": (_edit(0, 1, "³"), "年龄须为整数周岁"),
    "band reversed": (_edit(1, 2, "3"), "大于最高年龄"),
    "age outside the product": (_edit(-1, 2, "99"), "超出本产品承保的"),
    "gender": (_edit(0, 3, "M"), "性别须填「男」或「女」"),
    "social security": (_edit(0, 4, "yes"), "社保须填「有」或「无」"),
    "a third decimal": (_edit(0, 5, "120.555"), "金额最多精确到分"),
    "not an amount": (_edit(0, 5, "一百"), "请填写金额"),
    "zero": (_edit(0, 5, "0"), "年缴保费须大于 0"),
    "overlap": (lambda rows: rows + [rows[0]], "重叠"),
    "gap": (lambda rows: rows[1:], "周岁的费率"),
    "a combination missing": (lambda rows: [r for r in rows if not (r[3] == "女" and r[4] == "无")], "的费率"),
    "control character": (_edit(0, 0, "basic\x07"), "含有无法识别的字符"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_each_kind_of_invalid_file_is_refused_with_its_message_and_nothing_saved(app, signed_in, product, case):
    ops, _ = signed_in("ops")
    make, message = INVALID[case]
    rows = template(ops, product)
    content = make(rows)
    before, audited = tables(app, product), len(audit_rows(app, action="rate_table.imported"))
    response = upload(ops, product, content if isinstance(content, bytes) else csv_bytes(content))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "文件未导入，请按下列提示修改后重新导入" in page
    assert message in page, re.findall(r"<li>([^<]+)</li>", page)
    assert tables(app, product) == before
    assert len(audit_rows(app, action="rate_table.imported")) == audited


@pytest.mark.parametrize("content, filename, message", [
    (b"\x00\x01\x02garbage\xff\xfe" * 10, "rates.csv", "无法识别文件编码"),
    ("方案代码,最低年龄\x00".encode(), "rates.csv", "这不是 CSV 文本文件"),
    (b"PK\x03\x04" + b"\x00" * 200, "rates.xlsx", "无法读取该 Excel 文件"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 200, "old.xls", "无法读取该 Excel 文件"),
    (b"x" * (513 * 1024), "big.csv", "文件过大"),
])
def test_files_that_are_not_rate_tables_are_refused(app, signed_in, product, content, filename, message):
    ops, _ = signed_in("ops")
    before = tables(app, product)
    response = upload(ops, product, content, filename=filename)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert tables(app, product) == before


def test_no_file_and_no_note_get_their_messages(app, signed_in, product):
    ops, _ = signed_in("ops")
    page = ops.client.get(f"/admin/products/{product.id}/rates").get_data(as_text=True)
    response = ops.client.post(f"/admin/products/{product.id}/rates", data={"csrf_token": token(page), "note": ""},
                               content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请选择要导入的费率表文件" in page and "请说明本次调整的原因" in page


def test_the_preparer_cannot_approve_their_own_table(app, clock, signed_in, product):
    ops, _ = signed_in("ops")
    table_id = imported(ops, product, raised(template(ops, product)))
    response = approve(ops, table_id, format_local(clock.now, "%Y-%m-%dT%H:%M"))
    assert response.status_code == 422
    assert "提交人不能审核自己提交的内容" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RateTable, table_id).state == "pending"
    assert last_audit(app, action="rate_table.approved", object_id=str(table_id)) is None


def test_the_database_refuses_a_table_approved_by_its_preparer(app, make_staff, product):
    staff = make_staff("ops")
    with app.app_context():
        table = RateTable(product_id=product.id, state="pending", prepared_by_id=staff.id, created_at=db_now())
        db.session.add(table)
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(update(RateTable).where(RateTable.id == table.id).values(reviewed_by_id=staff.id))
            db.session.flush()
        db.session.rollback()


def test_a_second_operator_approves_and_the_price_changes_at_the_effective_time(app, client, clock, signed_in,
                                                                                 product):
    preparer, _ = signed_in("ops")
    checker, checker_staff = signed_in("ops")
    old = public_premium(client, product)
    table_id = imported(preparer, product, raised(template(preparer, product), 10))
    when = clock.now + timedelta(hours=2)
    response = approve(checker, table_id, format_local(when.replace(tzinfo=None), "%Y-%m-%dT%H:%M"))
    assert response.status_code == 302
    page = checker.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "费率表已审核通过" in page and "待生效" in page
    event = last_audit(app, action="rate_table.approved", object_id=str(table_id))
    assert event.staff_id == checker_staff.id and format_local(when) in event.after

    assert public_premium(client, product) == old  # not yet
    clock.advance(hours=2)
    new = public_premium(client, product)
    assert new != old
    assert fen(new) == round(fen(old) * 110 / 100)  # as raised() made the file
    with app.app_context():
        refresh_prices.enqueue()  # the periodic job (every minute): "¥… 起" of the listings follows
        listed = db.session.get(Product, product.id).price_from_fen
        assert listed == db.session.get(RateTable, table_id).price_from_fen


def test_an_application_started_under_the_old_table_keeps_its_price(app, clock, customer, member, signed_in, product):
    buyer = Buyer(customer.client, product.slug)
    buyer.through(3)
    _, page = buyer.page(4)
    before = premium(page)

    preparer, _ = signed_in("ops")
    checker, _ = signed_in("ops")
    table_id = imported(preparer, product, raised(template(preparer, product), 20))
    assert approve(checker, table_id, format_local(clock.now, "%Y-%m-%dT%H:%M")).status_code == 302
    clock.advance(minutes=1)

    buyer.through(6)  # every step again, the premium recomputed at each
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.number == buyer.number))
        assert application.rate_table_id == product.table_id
        assert f"¥{application.premium_fen / 100:,.2f}" == before
        order = db.session.scalar(select(Order).where(Order.application_id == application.id))
        assert order.amount_fen == application.premium_fen  # the order is priced as the application was
    other = member(birth_date=date(1990, 5, 1))  # the same insured in an application started now: the new price
    accept(other.client, other.client.get("/agreements/accept?next=/").get_data(as_text=True), birth_date=None)
    fresh = Buyer(other.client, product.slug)
    fresh.through(3)
    _, page = fresh.page(4)
    assert premium(page) != before


def test_two_checkers_at_once_one_decides(app, clock, signed_in, product):
    preparer, _ = signed_in("ops")
    table_id = imported(preparer, product, raised(template(preparer, product)))
    checkers = [signed_in("ops")[0] for _ in range(2)]
    pages = [c.client.get(f"/admin/rates/{table_id}").get_data(as_text=True) for c in checkers]
    when = format_local(clock.now, "%Y-%m-%dT%H:%M")
    statuses = at_once(2, lambda i: checkers[i].client.post(
        f"/admin/rates/{table_id}/approve", data={"csrf_token": token(pages[i]), "effective_at": when}).status_code)
    assert sorted(statuses) == [302, 422]
    assert len(audit_rows(app, action="rate_table.approved", object_id=str(table_id))) == 1


def test_a_table_sent_back_says_why_and_never_takes_effect(app, client, signed_in, product):
    preparer, _ = signed_in("ops")
    checker, _ = signed_in("ops")
    old = public_premium(client, product)
    table_id = imported(preparer, product, raised(template(preparer, product), 30))
    page = checker.client.get(f"/admin/rates/{table_id}").get_data(as_text=True)
    response = checker.client.post(f"/admin/rates/{table_id}/reject", data={"csrf_token": token(page),
                                                                            "reject-reason": ""})
    assert response.status_code == 422 and "请填写原因" in response.get_data(as_text=True)
    response = checker.client.post(f"/admin/rates/{table_id}/reject",
                                   data={"csrf_token": token(page), "reject-reason": "40岁以上涨幅超过报备范围"})
    assert response.status_code == 302
    page = preparer.client.get(f"/admin/rates/{table_id}").get_data(as_text=True)
    assert "已退回" in page and "40岁以上涨幅超过报备范围" in page
    assert public_premium(client, product) == old
    assert last_audit(app, action="rate_table.rejected", object_id=str(table_id)).reason == "40岁以上涨幅超过报备范围"


def test_the_preparer_may_withdraw_before_a_decision(app, signed_in, product):
    preparer, _ = signed_in("ops")
    other, _ = signed_in("ops")
    table_id = imported(preparer, product, raised(template(preparer, product)))
    page = other.client.get(f"/admin/rates/{table_id}").get_data(as_text=True)
    assert other.client.post(f"/admin/rates/{table_id}/withdraw",
                             data={"csrf_token": token(page)}).status_code == 422
    page = preparer.client.get(f"/admin/rates/{table_id}").get_data(as_text=True)
    response = preparer.client.post(f"/admin/rates/{table_id}/withdraw", data={"csrf_token": token(page)})
    assert response.status_code == 302
    assert "费率表已撤回" in preparer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert last_audit(app, action="rate_table.withdrawn", object_id=str(table_id)) is not None


def test_the_template_of_the_table_in_force_imports_unchanged(app, signed_in, product):
    ops, _ = signed_in("ops")
    rows = template(ops, product)
    table_id = imported(ops, product, rows)
    page = ops.client.get(f"/admin/rates/{table_id}").get_data(as_text=True)
    assert f"上调 0 行 · 下调 0 行 · 新增 0 行 · 删除 0 行 · 不变 {len(rows)} 行" in page


def test_a_product_without_a_table_gets_a_blank_template(app, signed_in):
    bare = copy_product(app, on_sale=False, with_table=False)
    ops, _ = signed_in("ops")
    rows = template(ops, bare)
    assert rows and all(row[5] == "" for row in rows)
    response = upload(ops, bare, csv_bytes(rows))
    assert response.status_code == 422 and "请填写金额" in response.get_data(as_text=True)
    filled = [row[:5] + ["100.00"] for row in rows]
    table_id = imported(ops, bare, filled)
    assert "本产品没有生效的费率表，以下全部为新增" in ops.client.get(f"/admin/rates/{table_id}").get_data(as_text=True)


ENDPOINTS = [
    ("GET", "/admin/products/{product}/rates", "products.edit"),
    ("GET", "/admin/products/{product}/rates.csv", "products.edit"),
    ("POST", "/admin/products/{product}/rates", "products.edit"),
    ("GET", "/admin/rates/{table}", "products.edit"),
    ("POST", "/admin/rates/{table}/approve", "products.publish"),
    ("POST", "/admin/rates/{table}/reject", "products.publish"),
    ("POST", "/admin/rates/{table}/withdraw", "products.edit"),
]


@pytest.mark.parametrize("role", [code for code, role in ROLES.items() if not role.permissions & {
    "products.edit", "products.publish"}])
def test_roles_without_the_permission_get_403_never_the_page(app, signed_in, product, role):
    browser, _ = signed_in(role)
    page = browser.client.get("/admin/").get_data(as_text=True)
    for method, path, _permission in ENDPOINTS:
        url = path.format(product=product.id, table=product.table_id)
        response = browser.client.get(url) if method == "GET" else browser.client.post(url, data={"csrf_token": token(page)})
        assert response.status_code == 403, (role, method, url)
        assert "你的角色没有此操作的权限" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(RateTable, product.table_id).state == "approved"


def test_a_product_not_priced_by_gender_or_social_security_takes_those_cells_blank(app, signed_in):
    accident = copy_product(app, "changxing-accident", on_sale=False)
    ops, _ = signed_in("ops")
    rows = template(ops, accident)
    assert all(row[3] == "" and row[4] == "" for row in rows)
    response = upload(ops, accident, csv_bytes([rows[0][:3] + ["男", "有", rows[0][5]], *rows[1:]]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "本产品不按性别定价，性别一栏请留空" in page
    response = upload(ops, accident, csv_bytes([rows[0][:3] + ["", "有", rows[0][5]], *rows[1:]]))
    assert "本产品不按社保定价，社保一栏请留空" in response.get_data(as_text=True)
    assert imported(ops, accident, raised(rows, 5))
