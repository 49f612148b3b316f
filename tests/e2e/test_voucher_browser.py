"""Vouchers in a real Chromium: a user claims a car-wash voucher (accepting the partner's agreement)
and opens it; a store's staff member, in a browser of their own, signs in to the partner pages, types
the code read off the voucher page, redeems it; the user's voucher then says 已使用. With and without
JavaScript on the staff side."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import accept_agreements, read_qr
from tests.vouchers.conftest import PASSWORD

pytestmark = pytest.mark.e2e


def claim_voucher(page, site, offer_id):
    page.goto(f"{site}/offers")
    accept_agreements(page)
    page.goto(f"{site}/offers/{offer_id}")
    page.get_by_role("button", name="立即领取").click()
    expect(page.get_by_text("请阅读并同意《洁驰洗车用户服务协议》")).to_be_visible()  # not ticked yet
    page.get_by_label(re.compile("我已阅读并同意")).check()
    page.get_by_role("button", name="立即领取").click()
    expect(page.get_by_text("领取成功")).to_be_visible()
    expect(page.get_by_test_id("voucher-status")).to_have_text("未使用")
    code = page.get_by_test_id("voucher-code").inner_text()
    assert read_qr(page) == code.replace(" ", "")  # the QR a store's scanner would read
    return code


def staff_redeems(browser, site, staff, code, java_script_enabled=True):
    context = browser.new_context(locale="zh-CN", java_script_enabled=java_script_enabled)
    page = context.new_page()
    page.goto(f"{site}/partner/redeem")
    expect(page.get_by_role("heading", name="商户工作人员登录")).to_be_visible()
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_label("券码").fill(code)
    page.get_by_label("券码").press("Enter")  # what a USB scanner does after typing
    expect(page.get_by_test_id("lookup-status")).to_have_text("未使用")
    page.get_by_role("button", name="确认核销").click()
    expect(page.get_by_text("核销成功")).to_be_visible()
    if java_script_enabled:
        expect(page.get_by_label("券码")).to_have_value("")  # ready for the next one
        expect(page.get_by_label("券码")).to_be_focused()
    context.close()


@pytest.mark.parametrize("java_script_enabled", [True, False], ids=["js", "no-js"])
def test_claim_a_voucher_and_a_store_redeems_it(browser, signed_in, site, make_offer, staff_of, java_script_enabled):
    page = signed_in(birth_date=date(1990, 5, 1))
    code = claim_voucher(page, site, make_offer())
    staff_redeems(browser, site, staff_of(), code, java_script_enabled)
    page.reload()
    expect(page.get_by_test_id("voucher-status")).to_have_text("已使用")
    expect(page.get_by_text("在 洁驰洗车·北京朝阳店 核销")).to_be_visible()
