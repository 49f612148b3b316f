"""An application in a real Chromium: step by step with JavaScript, resumed after the browser was
closed, and the same without JavaScript."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import accept_agreements
from tests.purchase.test_application import APPLICANT, KID, ME

pytestmark = pytest.mark.e2e


def fill_applicant(page):
    page.get_by_label("投保人姓名").fill(APPLICANT["name"])
    page.get_by_label("身份证号码").fill(ME)
    page.get_by_label("手机号码").fill(APPLICANT["mobile"])
    for label, key in (("省份", "province"), ("城市", "city"), ("区县", "district"), ("详细地址", "address")):
        page.get_by_label(label, exact=True).fill(APPLICANT[key])
    page.get_by_role("button", name="保存并继续").click()


def finish(page, premium):
    """From 被保险人 on: the child, 法定, all 否, confirm."""
    page.get_by_text("子女", exact=True).click()
    page.get_by_label("被保险人姓名").fill("张小妹")
    page.get_by_label("被保险人身份证号码").fill(KID)
    page.get_by_text("无社保", exact=True).click()
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_text("已按被保险人的实际年龄和条件重新计算保费")).to_be_visible()
    expect(page.get_by_test_id("premium")).to_have_text(premium)
    page.get_by_role("button", name="保存并继续").click()  # 受益人: 法定
    expect(page.get_by_role("heading", name="健康告知")).to_be_visible()
    for radio in page.get_by_role("radio", name="否").all():
        radio.check()
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_text("子女 · 张*妹 · 110***********")).to_be_visible()
    page.get_by_label(re.compile("我已阅读《保险条款》")).check()
    page.get_by_role("button", name="确认投保").click()
    expect(page.get_by_role("heading", name="微信扫码支付")).to_be_visible()
    expect(page.get_by_text(premium, exact=True)).to_be_visible()


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
