"""The dashboard and the personal-data export in Chromium at 1280 and 390 px: the figures and their charts (the
numbers behind a chart opened as a table), the empty state, the export refused without a reason and then
downloaded, with axe-core finding no violation (contrast included). With ADMIN_SCREENSHOTS=<dir>, each page is
also saved there as a PNG."""
import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.account import services as account_services
from app.auth.models import User
from app.extensions import db
from tests.support.admin_browser import Checker, signed_in_context

pytestmark = pytest.mark.e2e

# Wednesdays of their own (10:00 in Shanghai), far from every other test's rows; one for each width.
BUSY = {"1280": datetime(2032, 9, 15, 2, 0, tzinfo=UTC), "390": datetime(2033, 9, 14, 2, 0, tzinfo=UTC)}
QUIET = datetime(2045, 1, 4, 2, 0, tzinfo=UTC)


def test_the_dashboard_draws_its_figures_and_says_when_there_are_none(browser, site, width, clock, signed_in,
                                                                       activity):
    clock.now = BUSY[width]
    now = clock.now.replace(tzinfo=None)
    for days, count in ((0, 3), (1, 5), (2, 1), (6, 2), (9, 4), (13, 2)):
        for n in range(count):
            at = now - timedelta(days=days, minutes=5 + n)
            activity.application(at)
            activity.order(at, paid=at + timedelta(minutes=2), amount_fen=12800 + 100 * n)
    activity.order(now - timedelta(days=1), paid=now - timedelta(days=1), refunded=now - timedelta(hours=1))
    activity.voucher(now - timedelta(days=3), redeemed=now - timedelta(hours=2))
    ops, _ = signed_in("ops")
    context = signed_in_context(browser, site, width, ops.client)
    check = Checker(context.new_page(), site, width)
    page = check.page
    check.visit("/admin/", name="home-ops")
    page.get_by_role("link", name="数据看板").first.click()
    expect(page.get_by_role("heading", name="经营数据看板")).to_be_visible()
    expect(page.get_by_test_id("today-applications")).to_have_text("3")
    expect(page.get_by_test_id("today-payments")).to_have_text("¥387.00")  # 128 + 129 + 130
    expect(page.get_by_test_id("today-refunds")).to_have_text("¥356.00")
    chart = page.get_by_role("img", name="近14天每日开始投保数")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 250
    check.check("dashboard")
    card = page.get_by_test_id("figure-applications")
    card.get_by_text("近14天每日数据", exact=True).click()
    expect(card.get_by_role("row").nth(1)).to_contain_text("3")  # today first
    check.check("dashboard-days")

    context.close()

    clock.now = QUIET  # years on: a new session
    ops, _ = signed_in("ops")
    context = signed_in_context(browser, site, width, ops.client)
    check.page = context.new_page()
    check.visit("/admin/dashboard", name="dashboard-empty")
    expect(check.page.get_by_test_id("dashboard-empty")).to_contain_text("近14天还没有经营数据")
    context.close()
    check.assert_clean()


def test_compliance_exports_a_users_data_with_a_reason(app, browser, site, width, signed_in, member, tmp_path):
    m = member(nickname="浏览器导出")
    with app.app_context():
        user = db.session.get(User, m.id)
        user.real_name = "赵导出"
        account_services.save_contact(user, mobile="13698765432", email="", province="", city="", district="",
                                      detail="")
        db.session.commit()
    both, _ = signed_in("support", "compliance")
    context = signed_in_context(browser, site, width, both.client)
    check = Checker(context.new_page(), site, width)
    page = check.page
    check.visit(f"/admin/users/{m.id}", name="user-with-export")
    page.get_by_role("button", name="导出个人信息（JSON）").click()
    expect(page.locator("#export-reason-error")).to_have_text("请填写导出原因")
    expect(page.get_by_label("导出原因")).to_have_attribute("aria-invalid", "true")
    check.check("export-refused")
    page.get_by_label("导出原因").fill("用户来电申请导出个人信息")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出个人信息（JSON）").click()
    assert download.value.suggested_filename == f"wesure-user-{m.id}-data.json"
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    exported = json.loads(saved.read_text(encoding="utf-8"))
    assert exported["profile"]["real_name"] == "赵导出" and exported["contact"]["mobile"] == "13698765432"
    context.close()

    compliance, _ = signed_in("compliance")
    context = signed_in_context(browser, site, width, compliance.client)
    check.page = context.new_page()
    check.visit(f"/admin/users/{m.id}/export", name="export-page")
    expect(check.page.get_by_role("heading", name="导出个人信息")).to_be_visible()
    context.close()
    check.assert_clean()
