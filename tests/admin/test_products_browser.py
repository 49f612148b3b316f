"""产品 in Chromium at 1280 and 390 px: an operator makes a draft (its errors first), adds a coverage row, writes
a document, previews the public page, submits; a second operator approves it for later; the public page appears
only then. Every page checked by axe-core (0 violations, contrast included); with ADMIN_SCREENSHOTS=<dir> each
is saved there as a PNG."""
import itertools
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.core.clock import format_local
from tests.support.admin_browser import Checker, signed_in_context
from tests.support.rates import copy_product

pytestmark = pytest.mark.e2e

SERIAL = itertools.count(1)


def test_a_product_is_prepared_previewed_and_approved_for_later(app, browser, site, width, clock, signed_in):
    preparer, _ = signed_in("ops")
    approver, _ = signed_in("ops")
    context = signed_in_context(browser, site, width, preparer.client)
    check = Checker(context.new_page(), site, width)
    page = check.page
    check.visit("/admin/products", name="products-list")

    page.goto(site + "/admin/products/new")
    page.get_by_label("最低投保年龄（周岁）").fill("40")
    page.get_by_label("最高投保年龄（周岁）").fill("30")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".field-error:not(:empty)").first).to_be_visible()
    expect(page.get_by_text("最高投保年龄不能低于最低投保年龄")).to_be_visible()
    check.check("product-new-errors")
    slug = f"browser-draft-{width}-{next(SERIAL)}"
    page.get_by_label("产品名称").fill("浏览器测试医疗险")
    page.get_by_label("网址名").fill(slug)
    page.get_by_label("一句话介绍").fill("住院医疗费用报销")
    page.get_by_label("险种").select_option(label="百万医疗")
    page.get_by_label("承保公司").select_option(index=1)
    page.get_by_label("最低投保年龄（周岁）").fill("0")
    page.get_by_label("最高投保年龄（周岁）").fill("60")
    page.get_by_label("保障期限").fill("1年")
    page.get_by_label("续保条件").fill("保证续保")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已创建")).to_be_visible()
    check.check("product-draft")

    page.get_by_role("link", name="添加保障方案").click()
    page.get_by_label("方案代码").fill("basic")
    page.get_by_label("方案名称").fill("基础版")
    page.get_by_label("保额（元）").fill("3000000")
    page.get_by_label("保障责任").fill("一般医疗")
    page.get_by_label("保额/限额（元）").fill("3000000")
    page.get_by_role("button", name="添加一项保障责任").click()
    expect(page.locator("#items-1-name")).to_be_visible()  # swapped in by htmx, the rest of the form kept
    expect(page.get_by_label("方案名称")).to_have_value("基础版")
    check.check("product-plan")
    page.get_by_role("button", name="保存方案").click()
    expect(page.get_by_text("保障方案已保存")).to_be_visible()

    page.get_by_role("link", name="保险条款").click()
    page.get_by_label("正文（Markdown）").fill("## 第一条 保险责任\n\n本合同承担**住院医疗**费用。")
    check.check("product-document")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("文件已保存")).to_be_visible()
    page.get_by_role("link", name="预览公开页面").click()
    expect(page.get_by_label("预览提示")).to_contain_text("尚无生效的已审核费率表")
    check.check("product-preview-no-rates")
    context.close()

    ready = copy_product(app, on_sale=False)  # complete, with an approved rate table
    context = signed_in_context(browser, site, width, preparer.client)
    check.page = page = context.new_page()
    check.visit(f"/admin/products/{ready.id}/preview", name="product-preview")
    expect(page.get_by_test_id("premium")).to_be_visible()
    page.goto(f"{site}/admin/products/{ready.id}")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("已提交审核")).to_be_visible()
    check.check("product-pending-preparer")
    context.close()

    context = signed_in_context(browser, site, width, approver.client)
    check.page = page = context.new_page()
    page.goto(f"{site}/admin/products/{ready.id}")
    page.get_by_role("button", name="退回修改").click()
    expect(page.get_by_text("请填写原因")).to_be_visible()
    check.check("product-review-errors")
    later = clock.now + timedelta(hours=1)
    page.get_by_label("生效时间（北京时间，留空为立即）").fill(format_local(later, "%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="审核通过").click()
    expect(page.get_by_text("已审核通过")).to_be_visible()
    check.check("product-approved")
    check.visit(f"/products/{ready.slug}", status=404, name="product-public-before")
    clock.advance(hours=1)
    check.visit(f"/products/{ready.slug}", name="product-public")
    context.close()
    check.assert_clean()
