"""An application in a real Chromium: step by step with JavaScript, resumed after the browser was
closed, and the same without JavaScript."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.support.browser import accept_agreements, fill_applicant, finish
from tests.support.identity import APPLICANT

pytestmark = pytest.mark.e2e


def test_apply_close_the_browser_and_resume(browser, signed_in, site):
    page = signed_in(birth_date=date(1990, 5, 1))
    page.goto(site + "/products/anxin-million-medical")
    accept_agreements(page)
    page.get_by_role("link", name="立即投保").click()
    page.get_by_text("升级版", exact=True).click()
    page.get_by_role("button", name="保存并继续").click()
    page.get_by_label("手机号码").fill("1380013")
    page.get_by_label("手机号码").press("Tab")  # checked as soon as the field changes, nothing submitted
    expect(page.locator("#mobile-error")).to_have_text("请填写11位中国大陆手机号码")
    expect(page.locator("#name-error")).to_have_text("")  # untouched fields are not flagged
    fill_applicant(page)
    expect(page.get_by_role("heading", name="被保险人")).to_be_visible()
    cookies = page.context.cookies()
    page.context.close()  # the tab, the browser: gone

    again = browser.new_context(locale="zh-CN")
    again.add_cookies(cookies)
    page = again.new_page()
    page.goto(site + "/me/applications")
    expect(page.get_by_text("停在“被保险人”")).to_be_visible()
    page.get_by_role("link", name="继续投保").click()
    expect(page).to_have_url(re.compile(r"/buy/anxin-million-medical/WB\d+/3$"))
    page.get_by_role("link", name="投保人").click()
    expect(page.get_by_text("已实名，不可修改")).to_be_visible()  # the first application verified it
    expect(page.get_by_label("手机号码")).to_have_value(APPLICANT["mobile"])
    page.get_by_role("button", name="保存并继续").click()
    finish(page, "¥487.11")  # 升级版: ¥352.98 × 1.38
    again.close()


def test_apply_without_javascript(signed_in, site):
    page = signed_in(java_script_enabled=False, birth_date=date(1990, 5, 1))
    page.goto(site + "/buy/anxin-million-medical")
    accept_agreements(page)
    page.get_by_role("button", name="保存并继续").click()
    page.get_by_label("手机号码").fill("123")
    page.get_by_role("button", name="保存并继续").click()
    expect(page.locator("#mobile-error")).to_have_text("请填写11位中国大陆手机号码")
    fill_applicant(page)
    finish(page, "¥352.98")  # 10 周岁 ¥180.00 × 1.06 (女) × 1.85 (无社保)
