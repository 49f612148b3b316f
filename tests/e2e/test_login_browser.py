"""QR login in a real Chromium: the desktop shows a code, a phone (second context, mobile viewport) reads
it, authorizes in the WeChat simulator and confirms, and the desktop moves on by itself."""
import pytest
from playwright.sync_api import expect

from tests.support.browser import accept_agreements, as_new_wechat_user, read_qr

pytestmark = pytest.mark.e2e


def test_scan_with_the_phone_and_the_desktop_logs_in_by_itself(page, phone_page, site):
    page.goto(site + "/products/anxin-million-medical")
    page.get_by_role("link", name="登录").click()
    expect(page.get_by_text("请使用微信扫一扫登录")).to_be_visible()
    expect(page.locator("#qr-status")).to_contain_text("等待扫码")
    url = read_qr(page)
    assert url.startswith(site + "/m/login/")

    phone_page.goto(url)
    expect(phone_page.get_by_text("微保 申请获得以下权限")).to_be_visible()
    as_new_wechat_user(phone_page, "浏览器测试")
    phone_page.get_by_role("button", name="允许").click()
    expect(phone_page.get_by_role("heading", name="登录微保网页版")).to_be_visible()
    expect(phone_page.locator(".device")).to_contain_text("127.0.0.*")

    expect(page.locator("#qr-status")).to_contain_text("已扫码，请在手机上确认")
    expect(page.locator("#qr-status")).to_contain_text("浏览器测试")
    phone_page.get_by_role("button", name="确认登录").click()
    expect(phone_page.get_by_text("已确认登录，请回到电脑上继续操作")).to_be_visible()

    # A first login: the agreements come first, in a modal over the page the user came back to.
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page).to_have_url(site + "/products/anxin-million-medical")
    accept_agreements(page)
    expect(page).to_have_url(site + "/products/anxin-million-medical")
    expect(page.locator(".user-chip")).to_contain_text("浏览器测试")
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("link", name="登录")).to_be_visible()


def test_cancel_on_the_phone_shows_on_the_desktop(page, phone_page, site):
    page.goto(site + "/login")
    phone_page.goto(read_qr(page))
    phone_page.get_by_role("button", name="允许").click()
    phone_page.get_by_role("button", name="取消").click()
    expect(phone_page.get_by_text("已取消本次登录")).to_be_visible()
    expect(page.locator("#qr-status")).to_contain_text("已取消登录")
    page.get_by_role("link", name="重新扫码").click()
    expect(page.locator("#qr-status")).to_contain_text("等待扫码")


def test_an_expired_code_says_so_and_can_be_refreshed(page, phone_page, site, clock):
    page.goto(site + "/login")
    url = read_qr(page)
    clock.advance(seconds=121)
    expect(page.locator("#qr-status")).to_contain_text("二维码已过期")
    phone_page.goto(url)
    expect(phone_page.get_by_text("二维码已过期")).to_be_visible()
    page.get_by_role("link", name="刷新二维码").click()
    expect(page.locator("#qr-status")).to_contain_text("等待扫码")
    assert read_qr(page) != url


def test_without_javascript_the_refresh_link_logs_in(browser, phone_page, site):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(site + "/login?next=/me")
    phone_page.goto(read_qr(page))
    as_new_wechat_user(phone_page, "无脚本用户")
    phone_page.get_by_role("button", name="允许").click()
    phone_page.get_by_role("button", name="确认登录").click()
    page.get_by_role("link", name="我已扫码确认").click()
    accept_agreements(page)
    expect(page).to_have_url(site + "/me")
    expect(page.locator(".profile-name")).to_have_text("无脚本用户")
    context.close()
