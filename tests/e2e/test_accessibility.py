"""Pages everyone can read: axe-core (the engine Lighthouse uses) over every kind of page, anonymous, signed
in, a partner's staff and the phone's, at 1280 and at 390 px, with no violation allowed, contrast included.
Error states are checked too, and that a field with an error is marked and linked to its message."""
from datetime import date
from urllib.parse import unquote

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.vouchers import staff as staff_auth
from tests.support.browser import accept_agreements, as_new_wechat_user, fill_applicant, read_qr
from tests.support.pay import paid_policy, place_order
from tests.support.purchase import Buyer
from tests.support.vouchers import claimed_code

pytestmark = pytest.mark.e2e

WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}
AXE = Axe()


@pytest.fixture(params=list(WIDTHS), ids=[f"{w}px" for w in WIDTHS])
def viewport(request):
    return WIDTHS[request.param]


def violations(page):
    """axe-core's violations on the page as it stands (its htmx loads and polls settled)."""
    page.wait_for_load_state("networkidle")
    return AXE.run(page).response["violations"]


def described(where, found):
    """One line per violation: rule, impact, how many nodes, the first nodes' selectors, what to do."""
    lines = []
    for v in found:
        targets = "; ".join(" >> ".join(map(str, node["target"])) for node in v["nodes"][:3])
        more = f" (+{len(v['nodes']) - 3} more)" if len(v["nodes"]) > 3 else ""
        lines.append(f"{where}: {v['id']} [{v['impact']}] x{len(v['nodes'])}: {targets}{more} -- {v['help']}")
    return lines


class Checker:
    """Visits pages and collects every violation, so one run lists them all."""

    def __init__(self, page, site):
        self.page, self.site, self.problems, self.seen = page, site, [], []

    def visit(self, path, status=200):
        response = self.page.goto(self.site + path)
        assert response.status == status, (path, response.status)
        assert unquote(self.page.url) == unquote(self.site + path), (path, self.page.url)  # not redirected
        self.check(path)

    def check(self, where):
        self.seen.append(where)
        self.problems += described(where, violations(self.page))

    def assert_clean(self):
        assert self.seen
        assert not self.problems, "axe-core found:\n" + "\n".join(self.problems)


def context_with(browser, site, viewport, client=None, cookie="session", path="/", js=True):
    """A browser context of the given size, carrying the test client's cookie (its sign-in) if given."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", java_script_enabled=js,
                                  is_mobile=viewport["width"] < 640, has_touch=viewport["width"] < 640)
    if client is not None:
        value = client.get_cookie(cookie, path=path).value
        context.add_cookies([{"name": cookie, "value": value, "url": site + path}])
    return context


def test_public_pages(browser, site, viewport, make_offer):
    context = context_with(browser, site, viewport)
    check = Checker(context.new_page(), site)
    for path in ("/", "/products", "/products?category=medical&sort=price", "/products?q=没有这种保险",
                 "/products/anxin-million-medical", "/products/kanghu-lifetime-ci",
                 "/products/anxin-million-medical/documents/clauses", "/car", "/offers", f"/offers/{make_offer()}",
                 "/agreements/privacy", "/agreements/service", "/login"):
        check.visit(path)
    check.visit("/products?age=abc", status=422)  # the filter's error state
    check.visit("/no-such-page", status=404)
    context.close()
    check.assert_clean()


def test_signed_in_pages(browser, site, viewport, customer, pay, make_offer):
    client = customer.client
    paid = place_order(client)
    policy = paid_policy(client, pay, paid)
    order = place_order(client)  # waiting for payment (/buy/<slug> now leads to it: the draft is another product)
    draft = Buyer(client, "kangning-e-medical")
    draft.through(5)  # stopped at 确认投保: every step can be opened
    offer = make_offer()
    code = claimed_code(client, offer)
    client.get("/healthz")
    context = context_with(browser, site, viewport, client)
    check = Checker(context.new_page(), site)
    for path in ("/", "/me", "/me/policies", "/me/applications", "/me/vouchers", "/me/privacy", "/me/consents",
                 "/me/data", f"/me/vouchers/{code}", f"/offers/{offer}", f"/offers/{make_offer()}",
                 f"/orders/{order}/pay", f"/orders/{paid}", f"/policies/{policy}", "/car",
                 "/products/anxin-million-medical"):
        check.visit(path)
    for step in range(1, 7):
        check.visit(f"/buy/kangning-e-medical/{draft.number}/{step}")

    # The error states: an application step and the car quote submitted empty.
    page = check.page
    fresh = Buyer(client, "lexiang-hospital-medical")
    fresh.through(1)
    page.goto(f"{site}/buy/lexiang-hospital-medical/{fresh.number}/2")
    page.get_by_role("button", name="保存并继续").click()
    expect(page.locator(".field.has-error").first).to_be_visible()
    check.check("step 2 submitted empty")
    page.goto(site + "/car")
    page.get_by_role("button", name="获取报价").click()
    page.wait_for_load_state("networkidle")
    check.check("/car submitted empty")
    context.close()
    check.assert_clean()


def test_the_acceptance_step(browser, site, viewport, member):
    """A first visit after signing in: the agreements to accept, as a page and as the modal."""
    client = member(birth_date=None).client
    client.get("/healthz")
    context = context_with(browser, site, viewport, client)
    check = Checker(context.new_page(), site)
    check.visit("/agreements/accept?next=/")
    check.page.get_by_role("button", name="同意并继续").click()  # nothing ticked: the errors
    expect(check.page.locator(".field-error:not(:empty)").first).to_be_visible()
    check.check("/agreements/accept submitted empty")
    check.visit("/products")
    expect(check.page.get_by_role("dialog")).to_be_visible()
    check.check("/products with the agreements modal")
    context.close()
    check.assert_clean()


def test_partner_pages(browser, site, viewport, customer, make_offer, staff_of):
    code = claimed_code(customer.client, make_offer())
    staff = staff_of()
    anonymous = context_with(browser, site, viewport)
    check = Checker(anonymous.new_page(), site)
    check.visit("/partner/login")
    check.page.get_by_label("用户名").fill("nobody")
    check.page.get_by_label("密码").fill("wrong password")
    check.page.get_by_role("button", name="登录").click()
    expect(check.page.locator(".form-error, .field-error:not(:empty)").first).to_be_visible()
    check.check("/partner/login refused")
    anonymous.close()

    context = context_with(browser, site, viewport, staff.client, staff_auth.COOKIE, staff_auth.COOKIE_PATH)
    check.page = context.new_page()
    for path in ("/partner/redeem", f"/partner/redeem?code={code}", "/partner/redeem?code=NOSUCHCODE1",
                 "/partner/redemptions"):
        check.visit(path, status=422 if "NOSUCH" in path else 200)
    context.close()
    check.assert_clean()


def test_phone_pages(browser, site, viewport):
    """The login QR opened on a phone: WeChat's authorization (the simulator) and the confirm page."""
    desktop = context_with(browser, site, WIDTHS["1280"])
    page = desktop.new_page()
    page.goto(site + "/login")
    url = read_qr(page)
    phone = context_with(browser, site, viewport)
    check = Checker(phone.new_page(), site)
    check.page.goto(url)
    check.check("the WeChat simulator's authorization")
    as_new_wechat_user(check.page, "无障碍测试")
    check.page.get_by_role("button", name="允许").click()
    expect(check.page.get_by_role("heading", name="登录微保网页版")).to_be_visible()
    check.check("/m/login/<token>")
    check.page.get_by_role("button", name="确认登录").click()
    expect(check.page.get_by_text("已确认登录，请回到电脑上继续操作")).to_be_visible()
    check.check("/m/login/<token> confirmed")
    phone.close()
    desktop.close()
    check.assert_clean()


def test_guardian_and_account_deletion_pages(browser, site, viewport, member, customer):
    """The other QR bridges: a minor's code for a guardian (desktop modal, the guardian's phone, its form's
    errors), and 注销 (the code to confirm it, a stranger's phone refused)."""
    minor = member(nickname="初二学生", birth_date=date(2012, 9, 1)).client
    minor.get("/healthz")
    context = context_with(browser, site, viewport, minor)
    check = Checker(context.new_page(), site)
    page = check.page
    page.goto(site + "/me")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("checkbox")).to_have_count(3)
    for box in dialog.get_by_role("checkbox").all():
        box.check()
    dialog.get_by_role("button", name="同意并继续").click()
    expect(dialog).to_contain_text("请监护人扫码同意")
    check.check("the guardian's code (modal)")
    phone = context_with(browser, site, WIDTHS["390"])
    check.page = phone.new_page()
    check.page.goto(read_qr(page))
    as_new_wechat_user(check.page, "学生家长")
    check.page.get_by_role("button", name="允许").click()
    expect(check.page.get_by_role("heading", name="监护人同意")).to_be_visible()
    check.check("/m/guardian/<token>")
    check.page.get_by_role("button", name="确认同意").click()
    expect(check.page.locator(".field-error:not(:empty)").first).to_be_visible()
    check.check("/m/guardian/<token> submitted empty")
    phone.close()
    context.close()

    customer.client.get("/healthz")
    context = context_with(browser, site, viewport, customer.client)
    check.page = page = context.new_page()
    page.goto(site + "/me/data")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="下一步：用手机微信扫码确认").click()
    expect(page.get_by_role("heading", name="用手机确认注销")).to_be_visible()
    check.check("/me/data/delete (the code)")
    phone = context_with(browser, site, WIDTHS["390"])
    check.page = phone.new_page()
    check.page.goto(read_qr(page))
    as_new_wechat_user(check.page, "路人甲")
    check.page.get_by_role("button", name="允许").click()
    expect(check.page.get_by_text("其他微信不能代为确认")).to_be_visible()
    check.check("the 注销 code opened by another WeChat")
    phone.close()
    context.close()
    check.assert_clean()


def test_a_field_with_an_error_is_marked_and_linked_to_its_message(signed_in, site):
    page = signed_in(birth_date=date(1990, 5, 1))
    page.goto(site + "/buy/anxin-million-medical")
    accept_agreements(page)
    page.get_by_role("button", name="保存并继续").click()  # 基础版, 年缴
    page.get_by_label("手机号码").fill("1380013")
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_role("heading", name="投保人", exact=True)).to_be_visible()
    for label in ("投保人姓名", "身份证号码", "手机号码"):
        field = page.get_by_label(label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        message = page.locator("#" + field.get_attribute("aria-describedby").split()[0])
        expect(message).to_be_visible()
        expect(message).not_to_be_empty()
        assert field.evaluate("e => getComputedStyle(e).borderColor") == "rgb(200, 37, 30)"  # --red
    expect(page.get_by_label("电子邮箱（选填）")).to_have_attribute("aria-invalid", "false")  # optional, left empty


def test_unanswered_health_questions_are_marked(signed_in, site):
    page = signed_in(birth_date=date(1990, 5, 1))
    page.goto(site + "/buy/anxin-million-medical")
    accept_agreements(page)
    page.get_by_role("button", name="保存并继续").click()
    fill_applicant(page)
    expect(page.get_by_role("heading", name="被保险人", exact=True)).to_be_visible()
    page.get_by_role("button", name="保存并继续").click()  # 本人, 有社保
    expect(page.get_by_role("heading", name="受益人", exact=True)).to_be_visible()
    page.get_by_role("button", name="保存并继续").click()  # 法定
    expect(page.get_by_role("heading", name="健康告知")).to_be_visible()
    page.get_by_role("radio", name="否").first.check()  # one answered, the others not
    page.get_by_role("button", name="保存并继续").click()
    expect(page.locator("#answers-error")).to_be_visible()
    radios = page.get_by_role("radio")
    expect(radios.nth(0)).not_to_have_attribute("aria-invalid", "true")
    for i in range(2, radios.count()):
        expect(radios.nth(i)).to_have_attribute("aria-invalid", "true")
        expect(radios.nth(i)).to_have_attribute("aria-describedby", "answers-error")
    label = page.locator(".choice").nth(2)
    assert label.evaluate("e => getComputedStyle(e).borderColor") == "rgb(200, 37, 30)"


@pytest.mark.parametrize("java_script_enabled", [True, False], ids=["js", "no-js"])
def test_the_catalog_age_filter_marks_its_error(browser, site, java_script_enabled):
    context = browser.new_context(locale="zh-CN", java_script_enabled=java_script_enabled)
    page = context.new_page()
    if java_script_enabled:  # typed: the message arrives by htmx, the field turns red with it
        page.goto(site + "/products")
        page.get_by_label("被保人年龄").fill("200")
    else:
        page.goto(site + "/products?age=200")
        expect(page.get_by_label("被保人年龄")).to_have_attribute("aria-invalid", "true")
    age = page.get_by_label("被保人年龄")
    message = page.locator("#" + age.get_attribute("aria-describedby"))
    expect(message).to_be_visible()
    expect(message).not_to_be_empty()
    expect(age).to_have_css("border-top-color", "rgb(200, 37, 30)")
    context.close()
