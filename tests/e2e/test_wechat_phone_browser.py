"""The site inside WeChat, in a real Chromium with WeChat's user agent on a phone: 立即投保 logs in through
WeChat's own authorization (the simulator), with no QR code anywhere; the application is paid through
WeixinJSBridge (the simulator's stand-in) and the policy appears; a returning visit is silent."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import accept_agreements, fill_applicant

pytestmark = pytest.mark.e2e

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
             "Chrome/120.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/1234 "
             "MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN")


@pytest.fixture()
def wechat_phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  locale="zh-CN", user_agent=WECHAT_UA)
    yield context
    context.close()


def test_buying_inside_wechat_logs_in_pays_and_shows_the_policy_without_a_qr_code(wechat_phone, site):
    page = wechat_phone.new_page()
    page.goto(site + "/products/anxin-million-medical")
    page.get_by_role("link", name="立即投保").first.click()

    # WeChat itself: the first time, who this phone's WeChat is, then the consent page for the profile.
    expect(page.get_by_role("heading", name="这部手机的微信是谁？")).to_be_visible()
    page.get_by_text("新建模拟用户，昵称：").click()
    page.get_by_label("新建模拟用户的昵称").fill("手机里的微信")
    page.get_by_role("button", name="允许").click()
    expect(page.get_by_role("heading", name="微保 申请获得以下权限")).to_be_visible()
    page.get_by_text("新建模拟用户，昵称：").click()
    page.get_by_label("新建模拟用户的昵称").fill("手机里的微信")
    page.get_by_role("button", name="允许").click()

    accept_agreements(page)
    expect(page.get_by_role("heading", name="方案", exact=True)).to_be_visible()  # the application's first step
    page.get_by_role("button", name="保存并继续").click()
    fill_applicant(page)
    expect(page.get_by_role("heading", name="被保险人")).to_be_visible()
    page.get_by_role("button", name="保存并继续").click()  # 本人
    expect(page.get_by_role("heading", name="受益人")).to_be_visible()
    page.get_by_role("button", name="保存并继续").click()  # 法定
    expect(page.get_by_role("heading", name="健康告知")).to_be_visible()
    for radio in page.get_by_role("radio", name="否").all():
        radio.check()
    page.get_by_role("button", name="保存并继续").click()
    page.get_by_label(re.compile("我已阅读《保险条款》")).check()
    page.get_by_role("button", name="确认投保").click()

    cashier = page.get_by_role("dialog", name="微信支付")  # WeChat's cashier sheet, opened by the page itself
    expect(cashier).to_be_visible()
    cashier.get_by_role("button", name="确认支付").click()
    expect(page).to_have_url(re.compile(r"/policies/P\d{18}$"))
    expect(page.get_by_text("保单号")).to_be_visible()
    assert page.locator(".qr-image").count() == 0  # no code to scan anywhere on the way

    # Another visit from the same phone: WeChat answers silently, no page of its own.
    second = wechat_phone.new_page()
    second.context.clear_cookies(name="session")
    second.goto(site + "/me")
    expect(second.get_by_role("heading", name="这部手机的微信是谁？")).to_have_count(0)
    expect(second.locator(".user-chip")).to_contain_text("手机里的微信")
