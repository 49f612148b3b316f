"""Paying on a phone in a real Chromium: inside WeChat through WeixinJSBridge (the simulator's stand-in shows
WeChat's cashier sheet) and the page moving on to the policy by itself; in a phone's browser through H5 (the
simulator's h5_url page) and back to the policy."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from app.auth.models import WeChatIdentity
from app.core.clock import db_now
from app.extensions import db
from tests.support.browser import accept_agreements, fill_applicant
from tests.support.identity import KID

pytestmark = pytest.mark.e2e

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN")
SAFARI_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.4 Mobile/15E148 Safari/604.1")
POLICY = re.compile(r"/policies/P\d{18}$")


@pytest.fixture()
def phone(app, browser, member, site):
    """A phone already signed in as a new user (their session cookie, from the test client), with a user agent;
    ``wechat=True`` also links the user's WeChat in the app WeChat Pay charges for, as logging in inside WeChat
    does."""
    contexts = []

    def make(user_agent, wechat=False):
        m = member(birth_date=date(1990, 5, 1))
        if wechat:
            with app.app_context():
                appid = app.extensions["wechatpay_simulator"].keys.appid
                db.session.add(WeChatIdentity(user_id=m.id, appid=appid, openid=f"oPhonePayer{m.id:017d}",
                                              created_at=db_now()))
                db.session.commit()
        m.client.get("/healthz")
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                      locale="zh-CN", user_agent=user_agent)
        context.add_cookies([{"name": "session", "value": m.client.get_cookie("session").value, "url": site}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def confirmed_on_the_phone(page, site):
    """The application of test_pay_browser, filled in on the phone and confirmed: the pay page."""
    page.goto(site + "/buy/anxin-million-medical")
    accept_agreements(page)
    page.get_by_role("button", name="保存并继续").click()  # 基础版, 年缴
    fill_applicant(page)
    page.get_by_text("子女", exact=True).click()
    page.get_by_label("被保险人姓名").fill("张小妹")
    page.get_by_label("被保险人身份证号码").fill(KID)
    page.get_by_text("无社保", exact=True).click()
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_test_id("premium")).to_have_text("¥352.98")
    page.get_by_role("button", name="保存并继续").click()  # 受益人: 法定
    expect(page.get_by_role("heading", name="健康告知")).to_be_visible()
    for radio in page.get_by_role("radio", name="否").all():
        radio.check()
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_text("子女 · 张*妹 · 110***********")).to_be_visible()
    page.get_by_label(re.compile("我已阅读《保险条款》")).check()
    page.get_by_role("button", name="确认投保").click()
    expect(page.get_by_role("heading", name="微信支付", exact=True)).to_be_visible()


def test_inside_wechat_the_cashier_opens_and_the_policy_appears_by_itself(phone, site):
    page = phone(WECHAT_UA, wechat=True)
    confirmed_on_the_phone(page, site)
    assert page.locator(".qr-image").count() == 0

    # The bridge is ready: WeChat's cashier sheet opens by itself. 取消 first, then pay.
    cashier = page.get_by_role("dialog", name="微信支付")
    expect(cashier).to_be_visible()
    expect(cashier.get_by_text("¥352.98")).to_be_visible()
    cashier.get_by_role("button", name="取消").click()
    expect(cashier).to_have_count(0)
    expect(page.get_by_text("你已取消支付")).to_be_visible()
    page.get_by_role("button", name="立即支付").click()
    expect(cashier).to_be_visible()
    cashier.get_by_role("button", name="确认支付").click()

    expect(page).to_have_url(POLICY)  # the poll moved on, no reload
    expect(page.get_by_text("保单号")).to_be_visible()
    expect(page.get_by_text("张*妹 · 110***********")).to_be_visible()


def test_in_a_phone_browser_h5_pays_in_wechat_and_comes_back_to_the_policy(phone, site):
    page = phone(SAFARI_UA)
    confirmed_on_the_phone(page, site)
    assert page.locator(".qr-image").count() == 0
    page.get_by_role("link", name="微信支付").click()

    # WeChat (the simulator's h5_url page): the amount, 确认支付 / 取消, then back to the order.
    expect(page.get_by_role("heading", name="确认付款")).to_be_visible()
    expect(page.get_by_text("¥352.98")).to_be_visible()
    page.get_by_role("button", name="取消").click()
    expect(page.get_by_text("暂未收到支付结果")).to_be_visible()  # back on the pay page, still to pay
    page.get_by_role("link", name="微信支付").click()
    page.get_by_role("button", name="确认支付").click()

    expect(page).to_have_url(POLICY)
    expect(page.get_by_text("保单号")).to_be_visible()
    expect(page.get_by_text("待生效")).to_be_visible()
