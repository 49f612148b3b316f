"""The back office in Chromium at 1280 and 390 px: a first login (own password, the authenticator's QR read off
the screen, recovery codes), a code login, every page built here and its error states, with axe-core finding
no violation (contrast included). With ADMIN_SCREENSHOTS=<dir>, each page is also saved there as a PNG."""
import io
import itertools

import pyotp
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from app.account import services as account_services
from app.auth.models import LoginEvent, User
from app.core.clock import db_now
from app.extensions import db
from tests.support.admin import PASSWORD, code_at
from tests.support.admin_browser import WIDTHS, Checker, signed_in_context

pytestmark = pytest.mark.e2e

SERIAL = itertools.count(1)


def read_qr(page):
    png = page.locator(".qr-image").screenshot()
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(codes) == 1
    return codes[0].text


def test_first_login_enrols_an_authenticator_read_off_the_screen(browser, site, width, make_staff, clock):
    """A new administrator: the one-time password, a password of their own, the QR code scanned (decoded from the
    screenshot, as a phone's camera would), the first code, the recovery codes; then logout and a code login."""
    staff = make_staff("admin", enrolled=False, must_change=True)
    context = browser.new_context(viewport=WIDTHS[width], locale="zh-CN", is_mobile=width == "390")
    check = Checker(context.new_page(), site, width)
    page = check.page
    check.visit("/admin/login")
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill("wrong password")
    page.get_by_role("button", name="下一步").click()
    expect(page.locator(".field-error:not(:empty)")).to_contain_text("用户名或密码错误")
    check.check("login-refused")
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_role("heading", name="设置你自己的密码")).to_be_visible()
    check.check("login-password")
    page.get_by_label("新密码", exact=True).fill("my own long password")
    page.get_by_label("再次输入新密码").fill("my own long password")
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_role("heading", name="绑定身份验证器")).to_be_visible()
    uri = read_qr(page)
    secret = pyotp.parse_uri(uri).secret
    assert page.get_by_test_id("totp-secret").inner_text().replace(" ", "") == secret
    assert "%E5%BE%AE%E4%BF%9D" in uri or "微保" in uri  # the issuer the app shows
    check.check("login-enrol")
    page.get_by_label("身份验证器显示的6位验证码").fill("000000" if code_at(secret, clock) != "000000" else "111111")
    page.get_by_role("button", name="完成绑定").click()
    expect(page.locator(".field-error:not(:empty)")).to_contain_text("验证码错误")
    check.check("login-enrol-refused")
    page.get_by_label("身份验证器显示的6位验证码").fill(code_at(secret, clock))
    page.get_by_role("button", name="完成绑定").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    check.check("recovery-codes")
    page.get_by_role("link", name="我已保存恢复码，继续").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    check.check("home")
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="运营后台登录")).to_be_visible()

    clock.advance(seconds=30)  # a code is good once: the next login waits for the next one
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill("my own long password")
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    check.check("login-verify")
    page.get_by_label("验证码或恢复码").fill(code_at(secret, clock))
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    context.close()
    check.assert_clean()


@pytest.fixture()
def customer_with_data(app, member):
    """A user support will look up: a contact mobile, a real name."""
    n = next(SERIAL)
    m = member(nickname="浏览器测试用户")
    m.mobile, m.name = f"1391234{5000 + n:04d}", "李浏" + "一二三四五六七八九十"[n % 10]
    with app.app_context():
        user = db.session.get(User, m.id)
        user.real_name, user.id_number = m.name, "110101199003071234"
        account_services.save_contact(user, mobile=m.mobile, email="li.liulan@example.com", province="北京市",
                                      city="北京市", district="朝阳区", detail="望京街10号")
        account_services.record_choice(user, "promotions", False, now=db_now(), ip="203.0.113.9", user_agent="test",
                                       channel="desktop")
        db.session.add(LoginEvent(user_id=user.id, at=db_now(), browser="Chrome 120", os="Windows 10", ip="203.0.113.*"))
        db.session.commit()
    return m


def test_every_back_office_page(browser, site, width, signed_in, make_staff, customer_with_data):
    """Every page as an administrator who is also in support, with its error states; 403 as someone without."""
    admin, me = signed_in("admin", "support")
    other = make_staff("ops", name="被管理的员工")
    context = signed_in_context(browser, site, width, admin.client)
    check = Checker(context.new_page(), site, width)
    page = check.page
    for path, name in (("/admin/", "home-admin"), ("/admin/account", "account"), ("/admin/staff", "staff-list"),
                       (f"/admin/staff/{other.id}", "staff-detail"), ("/admin/users", "lookup")):
        check.visit(path, name=name)

    page.goto(site + "/admin/staff/new")
    page.get_by_role("button", name="开设账号").click()
    expect(page.locator(".field-error:not(:empty)").first).to_be_visible()
    check.check("staff-new-errors")
    page.get_by_label("用户名").fill(f"browser-{width}-{next(SERIAL)}")
    page.get_by_label("姓名").fill("新同事")
    page.get_by_text("客服", exact=True).click()
    page.get_by_role("button", name="开设账号").click()
    expect(page.get_by_test_id("one-time-password")).to_be_visible()
    check.check("staff-created")

    page.goto(f"{site}/admin/staff/{other.id}")
    page.get_by_role("button", name="锁定账号").click()
    expect(page.locator(".field-error:not(:empty)").first).to_contain_text("请填写原因")
    check.check("staff-detail-errors")

    page.goto(site + "/admin/users")
    customer = customer_with_data
    page.get_by_role("textbox", name="手机尾号").fill(customer.mobile[-4:])
    page.get_by_role("textbox", name="姓名").fill(customer.name)
    page.get_by_role("textbox", name="姓名").press("Enter")
    expect(page.get_by_test_id("user-count")).to_have_text("1")
    expect(page.locator("#results")).to_contain_text("139****" + customer.mobile[-4:])
    check.check("lookup-results")
    page.get_by_role("textbox", name="手机尾号").fill("12")
    page.get_by_role("button", name="查找").nth(1).click()
    expect(page.locator(".field-error:not(:empty)").first).to_be_visible()
    check.check("lookup-error")

    page.goto(f"{site}/admin/users/{customer.id}")
    expect(page.get_by_test_id("masked-mobile")).to_have_text("139****" + customer.mobile[-4:])
    check.check("user")
    page.get_by_label("要查看的信息").select_option("mobile")
    page.get_by_label("查看原因").fill("用户来电核对预留手机号")
    page.get_by_role("button", name="查看", exact=True).click()
    expect(page.get_by_test_id("revealed")).to_have_text(customer.mobile)
    check.check("user-revealed")

    check.visit("/admin/audit", name="audit")
    page.get_by_label("结束日期").fill("2019-01-01")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state("networkidle")
    check.check("audit-filtered")
    context.close()

    support, _ = signed_in("support")
    context = signed_in_context(browser, site, width, support.client)
    check.page = context.new_page()
    check.visit("/admin/staff", status=403, name="forbidden")
    context.close()
    check.assert_clean()
