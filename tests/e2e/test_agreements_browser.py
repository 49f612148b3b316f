"""The acceptance step in a real Chromium: over a product page with JavaScript, as a page without it,
again after a new version takes effect, and a guardian approving a minor from a second browser."""
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.support.browser import accept_agreements, as_new_wechat_user, read_qr
from tests.support.identity import ADULT_ID

pytestmark = pytest.mark.e2e


def test_the_step_opens_over_the_product_page_and_closes_after_accepting(signed_in, site):
    page = signed_in()
    page.goto(site + "/products/anxin-million-medical")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("微保服务协议")
    dialog.get_by_role("button", name="同意并继续").click()  # nothing ticked yet
    expect(dialog).to_contain_text("请逐项勾选")
    accept_agreements(page)
    expect(page).to_have_url(site + "/products/anxin-million-medical")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("premium")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_without_javascript_the_step_is_a_page_of_its_own(signed_in, site):
    page = signed_in(java_script_enabled=False)
    page.goto(site + "/products/anxin-million-medical")
    expect(page).to_have_url(site + "/agreements/accept?next=/products/anxin-million-medical")
    accept_agreements(page)
    expect(page).to_have_url(site + "/products/anxin-million-medical")


def test_a_new_version_must_be_accepted_once_in_force(app, signed_in, site, clock, tmp_path):
    page = signed_in(birth_date=date(1991, 1, 1))
    page.goto(site + "/me")
    accept_agreements(page)
    source = tmp_path / "v3.md"
    source.write_text("## 变更\n\n新增智能问答条款。", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=[
        "agreements", "publish", "--kind", "service", "--version", "3.0", "--released", "2026-11-25",
        "--effective", "2027-09-01", "--summary", "新增智能问答条款", str(source)])
    assert result.exit_code == 0, result.output
    page.goto(site + "/")
    expect(page.get_by_role("complementary", name="《微保服务协议》更新提示")).to_contain_text(
        "《微保服务协议》已更新，将于 2027年9月1日 生效")
    # Far enough ahead that no other test (sharing this database) meets this version in force.
    clock.advance(days=280)
    page.goto(site + "/me")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("更新内容：新增智能问答条款")
    for box in dialog.get_by_role("checkbox").all():  # the new version (another test may add one more)
        box.check()
    dialog.get_by_role("button", name="同意并继续").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(".profile-name")).to_be_visible()


def test_a_guardian_approves_from_their_own_phone(signed_in, site, phone_page):
    page = signed_in(nickname="初二学生", birth_date=date(2012, 9, 1))
    page.goto(site + "/me")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("checkbox")).to_have_count(3)  # the modal has loaded
    for box in dialog.get_by_role("checkbox").all():
        box.check()
    dialog.get_by_role("button", name="同意并继续").click()
    expect(dialog).to_contain_text("请监护人扫码同意")
    phone_page.goto(read_qr(page))
    as_new_wechat_user(phone_page, "学生家长")
    phone_page.get_by_role("button", name="允许").click()
    expect(phone_page.get_by_text("初二学生")).to_be_visible()
    expect(page.locator("#guardian-status")).to_contain_text("学生家长 已扫码")
    phone_page.get_by_label("监护人姓名").fill("王建国")
    phone_page.get_by_label("监护人身份证号码").fill(ADULT_ID)
    phone_page.get_by_text("父亲", exact=True).click()
    phone_page.get_by_role("button", name="确认同意").click()
    expect(phone_page.get_by_text("已同意，请让孩子回到电脑上继续操作")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator(".profile-name")).to_have_text("初二学生")
