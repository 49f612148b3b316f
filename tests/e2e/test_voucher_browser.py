"""Vouchers in a real Chromium: a user claims a car-wash voucher (accepting the partner's agreement)
and opens it; a store's staff member, in a browser of their own, signs in to the partner pages, types
the code read off the voucher page, redeems it; the user's voucher then says 已使用. With and without
JavaScript on the staff side."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.support.agreements import accept
from tests.support.browser import accept_agreements, read_qr
from tests.support.vouchers import PASSWORD, claimed_code

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


def till(browser, site, staff, code, java_script_enabled=True):
    """A staff member's own browser, signed in, with the code looked up (it shows 未使用)."""
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
    return context, page


def staff_redeems(browser, site, staff, code, java_script_enabled=True):
    context, page = till(browser, site, staff, code, java_script_enabled)
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


@pytest.fixture()
def holder(member):
    """A user who claimed over HTTP (the claim in Chromium is the test above)."""
    m = member(birth_date=date(1990, 5, 1))
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True), birth_date=None)
    return m


@pytest.mark.parametrize("java_script_enabled", [True, False], ids=["js", "no-js"])
def test_a_till_that_opened_the_code_before_another_redeemed_it_is_told_when_and_where(
        browser, site, holder, make_offer, staff_of, java_script_enabled):
    code = claimed_code(holder.client, make_offer())
    first_context, first = till(browser, site, staff_of(), code)
    second_context, second = till(browser, site, staff_of("洁驰洗车·上海徐汇店"), code, java_script_enabled)
    first.get_by_role("button", name="确认核销").click()
    expect(first.get_by_text("核销成功")).to_be_visible()
    second.get_by_role("button", name="确认核销").click()  # its page still says 未使用
    expect(second.get_by_role("alert")).to_have_text("已于 2026-11-25 10:00 在 洁驰洗车·北京朝阳店 核销")
    expect(second.get_by_test_id("lookup-status")).to_have_text("已使用")
    expect(second.get_by_role("button", name="确认核销")).to_have_count(0)
    first_context.close()
    second_context.close()
