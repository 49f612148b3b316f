"""合作商户 and 权益券活动 in Chromium at 1280 and 390 px: every page, with its error states and the password shown
once, axe-core finding no violation (contrast included). With ADMIN_SCREENSHOTS=<dir>, each page is also saved
there as a PNG."""
import itertools

import pytest
from playwright.sync_api import expect

from tests.support.admin_browser import Checker, signed_in_context

pytestmark = pytest.mark.e2e

SERIAL = itertools.count(1)


def test_every_partner_page(browser, site, width, signed_in, partner_world, make_partner_staff):
    merchant, _ = signed_in("merchant")
    account = make_partner_staff(partner_world.store_id)
    context = signed_in_context(browser, site, width, merchant.client)
    check = Checker(context.new_page(), site, width)
    page = check.page
    for path, name in (("/admin/partners", "partner-list"), (f"/admin/partners/{partner_world.id}", "partner-detail"),
                       (f"/admin/stores/{partner_world.store_id}", "store-detail"),
                       (f"/admin/partner-staff/{account.id}", "partner-staff-detail")):
        check.visit(path, name=name)

    page.goto(site + "/admin/partners/new")
    page.get_by_role("button", name="新增商户").click()
    expect(page.locator(".field-error:not(:empty)").first).to_be_visible()
    check.check("partner-new-errors")
    serial = f"{width}x{next(SERIAL)}"
    page.get_by_label("商户名称").fill(f"浏览器商户{serial}")
    page.get_by_label("商户代码").fill(f"browser-{serial}")
    page.get_by_label("简介").fill("在浏览器里新增的商户")
    page.get_by_role("button", name="新增商户").click()
    expect(page.get_by_role("status").filter(has_text="已保存")).to_be_visible()
    check.check("partner-created")

    page.get_by_role("link", name="新增门店").click()
    page.get_by_role("button", name="新增门店").click()
    expect(page.locator(".field-error:not(:empty)").first).to_contain_text("请填写门店名称")
    check.check("store-new-errors")
    page.get_by_label("门店名称").fill(f"浏览器商户{serial}·杭州店")
    page.get_by_label("城市").fill("杭州")
    page.get_by_label("地址").fill("杭州市西湖区文三路1号")
    page.get_by_label("门店电话").fill("0571-88000001")
    page.get_by_role("button", name="新增门店").click()
    expect(page.get_by_role("heading", name="开设店员账号")).to_be_visible()
    page.get_by_role("button", name="开设账号").click()
    expect(page.locator(".field-error:not(:empty)").first).to_be_visible()
    check.check("store-staff-errors")
    page.get_by_label("用户名").fill(f"browser-staff-{serial}")
    page.get_by_label("姓名").fill("浏览器店员")
    page.get_by_role("button", name="开设账号").click()
    expect(page.get_by_test_id("one-time-password")).to_be_visible()
    check.check("partner-staff-created")

    page.get_by_role("link", name="查看账号").click()
    page.get_by_role("button", name="锁定账号").click()
    expect(page.locator(".field-error:not(:empty)").first).to_contain_text("请填写原因")
    check.check("partner-staff-errors")
    page.locator("#lock-reason").fill("离职")
    page.get_by_role("button", name="锁定账号").click()
    expect(page.get_by_role("heading", name="解除锁定")).to_be_visible()
    check.check("partner-staff-locked")
    context.close()

    ops, _ = signed_in("ops")
    context = signed_in_context(browser, site, width, ops.client)
    check.page = page = context.new_page()
    check.visit("/admin/partners", status=403, name="partners-forbidden")
    check.visit("/admin/offers", name="offer-list")
    page.goto(site + "/admin/offers/new")
    page.get_by_label("到店价（元）").fill("9.999")
    page.get_by_label("领取截止").fill("2026-11-01")
    page.get_by_role("button", name="新建活动").click()
    expect(page.locator("#price-error")).to_contain_text("金额最多精确到分")
    check.check("offer-new-errors")
    page.get_by_label("合作商户").select_option(label="洁驰洗车")
    page.get_by_label("活动标题").fill("浏览器里新建的券")
    page.get_by_label("服务内容").fill("五座轿车洗车一次")
    page.get_by_label("到店价（元）").fill("9.9")
    page.get_by_label("结算价（元）").fill("15")
    page.get_by_label("开始领取").fill("2026-11-25")
    page.get_by_label("领取截止").fill("2026-12-31")
    page.get_by_label("适用城市").fill("北京")
    page.get_by_label("总数量（张）").fill("100")
    page.get_by_role("button", name="新建活动").click()
    expect(page.get_by_role("status").filter(has_text="已保存")).to_be_visible()
    expect(page.get_by_label("到店价（元）")).to_have_value("9.90")
    check.check("offer-detail")
    page.get_by_label("领取截止").fill("2026-11-01")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#ends_on-error")).to_contain_text("领取截止日期不能早于开始日期")
    check.check("offer-detail-errors")
    context.close()
    check.assert_clean()
