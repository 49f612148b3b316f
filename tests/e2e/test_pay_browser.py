"""Paying in a real Chromium: the application confirmed, the WeChat Pay QR on the desktop, the payment
made on a phone in the simulator's cashier, and the desktop moving on to the e-policy by itself."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.support.browser import accept_agreements, fill_applicant, finish, read_qr

pytestmark = pytest.mark.e2e


def confirmed(page, site):
    page.goto(site + "/buy/anxin-million-medical")
    accept_agreements(page)
    page.get_by_role("button", name="保存并继续").click()  # 基础版, 年缴
    fill_applicant(page)
    finish(page, "¥352.98")


def pay_on_the_phone(phone_page, site, desktop):
    code_url = read_qr(desktop)  # what WeChat would read off the screen
    assert re.fullmatch(r"weixin://wxpay/bizpayurl\?pr=[\w-]+", code_url)
    phone_page.goto(f"{site}/dev/wechatpay/cashier/{code_url.split('pr=')[1]}")
    expect(phone_page.get_by_text("¥352.98")).to_be_visible()
    phone_page.get_by_role("button", name="确认支付").click()
    expect(phone_page.get_by_role("heading", name="支付成功")).to_be_visible()


def test_pay_by_scanning_and_the_policy_appears_by_itself(signed_in, site, phone_page):
    page = signed_in(birth_date=date(1990, 5, 1))
    confirmed(page, site)
    expect(page.get_by_text("等待支付")).to_be_visible()
    pay_on_the_phone(phone_page, site, page)
    expect(page).to_have_url(re.compile(r"/policies/P\d{18}$"))  # the poll moved on, no reload
    expect(page.get_by_text("保单号")).to_be_visible()
    expect(page.get_by_text("张*妹 · 110***********")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载电子保单（PDF）").click()
    assert download.value.suggested_filename.endswith(".pdf")


def test_pay_without_javascript(signed_in, site, phone_page):
    page = signed_in(java_script_enabled=False, birth_date=date(1990, 5, 1))
    confirmed(page, site)
    pay_on_the_phone(phone_page, site, page)
    page.get_by_role("button", name="我已支付").click()
    expect(page).to_have_url(re.compile(r"/policies/P\d{18}$"))
    expect(page.get_by_text("待生效")).to_be_visible()
