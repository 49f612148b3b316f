"""费率表 in Chromium at 1280 and 390 px: an operator downloads the template, uploads a file with a mistake and
reads what is wrong, uploads the corrected one; a second operator approves it to take effect in an hour; the
public product page shows the old premium until then and the new one after. axe-core finds no violation on
any page on the way (ADMIN_SCREENSHOTS=<dir> saves each as a PNG)."""
import csv
import io
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core.clock import format_local
from tests.support.admin_browser import WIDTHS, Checker, signed_in_context
from tests.support.rates import csv_bytes

pytestmark = pytest.mark.e2e


def raised(rows, percent):
    out = []
    for row in rows:
        fen = round(int(row[5].replace(".", "")) * (100 + percent) / 100)
        out.append(row[:5] + [f"{fen // 100}.{fen % 100:02d}"])
    return out


def shown_premium(page):
    return page.get_by_test_id("premium").inner_text()


def test_an_import_approved_by_a_second_operator_prices_the_product_from_its_effective_time(
        browser, site, width, signed_in, clock, product, tmp_path):
    preparer, _ = signed_in("ops")
    checker, _ = signed_in("ops")
    public = browser.new_context(viewport=WIDTHS[width], locale="zh-CN", is_mobile=width == "390").new_page()
    public.goto(f"{site}/products/{product.slug}")
    old = shown_premium(public)

    first = signed_in_context(browser, site, width, preparer.client)
    page = first.new_page()
    check = Checker(page, site, width)
    check.visit(f"/admin/products/{product.id}/rates", name="rates-product")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载当前费率表作为模板（CSV）").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))[1:]

    wrong = tmp_path / "wrong.csv"
    wrong.write_bytes(csv_bytes(raised(rows, 10)[1:]))  # the first band left out
    page.get_by_label("费率表文件（CSV 或 Excel .xlsx）").set_input_files(str(wrong))
    page.get_by_label("调整说明").fill("2027年费率调整，统一上调10%")
    page.get_by_role("button", name="检查并导入").click()
    expect(page.get_by_role("alert")).to_contain_text("缺少 0–4 周岁的费率")
    expect(page.get_by_text("文件未导入，请按下列提示修改后重新导入")).to_be_visible()
    check.check("rates-import-refused")

    right = tmp_path / "right.csv"
    right.write_bytes(csv_bytes(raised(rows, 10)))
    page.get_by_label("费率表文件（CSV 或 Excel .xlsx）").set_input_files(str(right))
    page.get_by_label("调整说明").fill("2027年费率调整，统一上调10%")
    page.get_by_role("button", name="检查并导入").click()
    expect(page.get_by_text("费率表已导入，等待另一位同事审核")).to_be_visible()
    expect(page.get_by_text(f"上调 {len(rows)} 行")).to_be_visible()
    check.check("rates-table-own")
    table_url = page.url.split("?")[0]

    second = signed_in_context(browser, site, width, checker.client)
    review = second.new_page()
    check.page = review
    review.goto(table_url)
    check.check("rates-table-review")
    when = clock.now + timedelta(hours=1)
    review.get_by_label("生效时间（北京时间）").fill(format_local(when, "%Y-%m-%dT%H:%M"))
    review.get_by_role("button", name="审核通过").click()
    expect(review.get_by_text("费率表已审核通过")).to_be_visible()
    expect(review.get_by_text("待生效", exact=True)).to_be_visible()
    check.check("rates-table-approved")

    public.reload()
    assert shown_premium(public) == old
    clock.advance(hours=1)
    public.reload()
    new = shown_premium(public)
    fen = round(int(old.strip("¥").replace(",", "").replace(".", "")) * 110 / 100)
    assert new == f"¥{fen // 100:,}.{fen % 100:02d}"
    check.assert_clean()
