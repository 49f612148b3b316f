"""Made for a thumb (issue 15): at phone widths no page scrolls sideways, the bottom tab bar is how a phone
navigates (the current section marked, with or without JavaScript; never on a desktop, the partner pages or
the phone's QR-bridge pages), a product page puts its price and 立即投保 there instead, short buttons stay on
one line, and fields ask for the keyboard they need."""
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from playwright.sync_api import expect

from app.auth.models import LoginEvent
from app.core.clock import db_now
from app.extensions import db
from app.vouchers import staff as staff_auth
from tests.support.agreements import accept
from tests.support.identity import APPLICANT
from tests.support.pay import paid_policy, place_order
from tests.support.purchase import Buyer
from tests.support.vouchers import claimed_code, redeem

pytestmark = pytest.mark.e2e

GREEN_DARK, MUTED = "rgb(4, 113, 63)", "rgb(100, 106, 115)"
MEDICAL = "/products/anxin-million-medical"


def phone(browser, site, width=360, client=None, cookie="session", path="/", js=True):
    """A phone-sized browser context (a desktop one at 640 px and wider), signed in as the client if given."""
    mobile = width < 640
    context = browser.new_context(viewport={"width": width, "height": 800 if mobile else 900}, is_mobile=mobile,
                                  has_touch=mobile, locale="zh-CN", java_script_enabled=js)
    if client is not None:
        value = client.get_cookie(cookie, path=path).value
        context.add_cookies([{"name": cookie, "value": value, "url": site + path}])
    return context


def sideways(page):
    """How far the page scrolls sideways (0: not at all), and the widest elements that make it."""
    return page.evaluate("""() => {
      const root = document.documentElement, width = root.clientWidth;
      const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > width + 0.5)
        .slice(-3).map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).split(" ").join(".") : ""));
      return [root.scrollWidth - width, wide];
    }""")


def lines(locator):
    """How many lines the element's text takes."""
    return locator.evaluate("""e => {
      const range = document.createRange(); range.selectNodeContents(e);
      const boxes = [...range.getClientRects()].filter(r => r.width).sort((a, b) => a.top - b.top);
      let count = 0, middle = -Infinity;
      for (const box of boxes) {  // a box starting below the middle of the line so far begins a new line
        if (box.top >= middle) { count += 1; middle = (box.top + box.bottom) / 2; }
      }
      return count;
    }""")


def test_no_page_scrolls_sideways_at_360_px(app, browser, site, customer, pay, make_offer, staff_of):
    client = customer.client
    with app.app_context():  # a login from an IPv6 address: the longest row /me shows
        db.session.add(LoginEvent(user_id=customer.id, at=db_now(), browser="Chrome 131", os="Windows 10",
                                  ip="240e:3b0:1a2b:****"))
        db.session.commit()
    offer = make_offer()
    code = claimed_code(client, offer)
    staff = staff_of()
    assert redeem(staff, claimed_code(client, make_offer())).status_code == 200  # a row in the ledger
    policy = paid_policy(client, pay, place_order(client, "kangning-e-medical"))
    draft = Buyer(client, "anxin-million-medical")
    draft.through(5)  # stopped at 确认投保: every step can be opened
    client.get("/healthz")

    visits = [(None, path) for path in ("/", "/products", MEDICAL, "/offers", f"/offers/{offer}", "/car", "/login",
                                        "/me", "/partner/login")]
    visits += [(client, path) for path in (
        "/", MEDICAL, "/me", "/me/policies", "/me/applications", "/me/vouchers", "/me/privacy", "/me/consents",
        "/me/data", f"/me/vouchers/{code}", f"/policies/{policy}", f"/offers/{offer}")]
    visits += [(client, f"/buy/anxin-million-medical/{draft.number}/{step}") for step in range(1, 7)]
    visits += [(staff.client, path) for path in ("/partner/redeem", f"/partner/redeem?code={code}",
                                                 "/partner/redemptions")]
    problems, contexts = [], {}
    for who, path in visits:
        if who not in contexts:
            contexts[who] = (phone(browser, site, client=who) if who is not staff.client else
                             phone(browser, site, client=who, cookie=staff_auth.COOKIE, path=staff_auth.COOKIE_PATH))
        page = contexts[who].pages[0] if contexts[who].pages else contexts[who].new_page()
        assert page.goto(site + path).ok, path
        page.wait_for_load_state("networkidle")
        over, wide = sideways(page)
        if over > 0:
            problems.append(f"{path} ({'signed in' if who else 'visitor'}): {over} px too wide: {wide}")
    for context in contexts.values():
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_the_tab_bar_takes_a_phone_through_the_sections(browser, site, js):
    context = phone(browser, site, 390, js=js)
    page = context.new_page()
    page.goto(site + "/")
    bar = page.get_by_role("navigation", name="底部导航")
    expect(bar).to_be_visible()
    expect(page.get_by_role("navigation", name="主导航")).to_be_hidden()  # the desktop's, in the header
    expect(bar.get_by_role("link")).to_have_text(["首页", "全部保险", "权益券", "我的"])
    for name, path in (("全部保险", "/products"), ("权益券", "/offers"), ("首页", "/")):
        bar.get_by_role("link", name=name).click()
        expect(page).to_have_url(site + path)
        current = bar.locator('[aria-current="page"]')
        expect(current).to_have_text(name)
        expect(current).to_have_css("color", GREEN_DARK)
        expect(bar.locator("a:not([aria-current])").first).to_have_css("color", MUTED)
    bar.get_by_role("link", name="我的").click()  # a visitor is asked to log in
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)me$"))
    expect(page.get_by_role("heading", name="微信扫码登录")).to_be_visible()
    expect(bar.locator('[aria-current="page"]')).to_have_text("我的")

    # Fixed at the bottom, and the page ends above it: the footer's last line is not under the bar.
    page.goto(site + "/offers")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    box, footer = bar.bounding_box(), page.locator(".site-footer").bounding_box()
    assert box["y"] + box["height"] == pytest.approx(800, abs=1)
    assert footer["y"] + footer["height"] <= box["y"] + 1
    context.close()


def test_the_tab_bar_is_for_phones_only(browser, site):
    desktop = phone(browser, site, 1280)
    page = desktop.new_page()
    page.goto(site + "/products")
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    expect(page.get_by_role("navigation", name="主导航").locator('[aria-current="page"]')).to_have_text("全部保险")
    expect(page.locator(".tab-bar")).to_be_hidden()
    desktop.close()

    context = phone(browser, site, 390)
    page = context.new_page()
    page.goto(site + "/partner/login")  # the partner staff's pages: their own header
    expect(page.get_by_role("heading", name="商户工作人员登录")).to_be_visible()
    expect(page.locator(".tab-bar")).to_have_count(0)
    page.goto(site + "/login/wechat?next=/me")  # WeChat's authorization (the simulator): a phone's bridge page
    expect(page.get_by_role("heading", name="这部手机的微信是谁？")).to_be_visible()
    expect(page.locator(".tab-bar")).to_have_count(0)
    context.close()


def test_a_product_page_keeps_the_price_and_buy_at_hand_on_a_phone(browser, site, customer):
    context = phone(browser, site, 390)
    page = context.new_page()
    page.goto(site + MEDICAL)
    bar = page.get_by_role("complementary", name="投保")
    hero = page.locator(".product-hero")
    expect(bar).to_be_visible()
    expect(page.locator(".tab-bar")).to_have_count(0)  # the buy bar takes its place
    expect(bar).to_contain_text("起/年")
    expect(bar.locator(".price strong")).to_have_text(hero.locator(".price strong").inner_text())
    buy = bar.get_by_role("link", name="立即投保")
    expect(buy).to_be_visible()
    assert buy.get_attribute("href") == hero.get_by_role("link", name="立即投保").get_attribute("href")
    assert lines(buy) == 1 and lines(bar.locator(".price")) == 1
    page.evaluate("window.scrollTo(0, 1500)")  # still at the bottom of the screen further down the page
    assert page.evaluate("window.scrollY") == 1500
    box = bar.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(800, abs=1)
    buy.click()
    expect(page).to_have_url(re.compile(r"/login\?next="))  # where the hero's 立即投保 leads a visitor
    context.close()

    draft = Buyer(customer.client, "anxin-million-medical")  # an unfinished application: 继续投保, as the hero
    draft.through(2)
    customer.client.get("/healthz")
    context = phone(browser, site, 390, client=customer.client)
    page = context.new_page()
    page.goto(site + MEDICAL)
    go_on = page.get_by_role("complementary", name="投保").get_by_role("link", name="继续投保")
    expect(go_on).to_be_visible()
    assert go_on.get_attribute("href") == page.locator(".product-hero").get_by_role(
        "link", name="继续投保").get_attribute("href") == f"/buy/anxin-million-medical/{draft.number}/3"
    context.close()

    desktop = phone(browser, site, 1280)
    page = desktop.new_page()
    page.goto(site + MEDICAL)
    expect(page.locator(".buy-bar")).to_be_hidden()
    expect(page.locator(".product-hero").get_by_role("link", name="立即投保")).to_be_visible()
    desktop.close()


def test_short_buttons_stay_on_one_line_at_360_px(browser, site, customer, make_offer, staff_of):
    visitor = phone(browser, site)
    page = visitor.new_page()
    page.goto(site + "/")
    for button in (page.get_by_role("link", name="登录"), page.get_by_role("button", name="搜索")):
        expect(button).to_be_visible()
        assert lines(button) == 1, button
    visitor.close()

    offer = make_offer()
    customer.client.get("/healthz")
    signed_in = phone(browser, site, client=customer.client)
    page = signed_in.new_page()
    page.goto(site + f"/offers/{offer}")
    for button in (page.get_by_role("button", name="退出"), page.get_by_role("button", name="立即领取")):
        expect(button).to_be_visible()
        assert lines(button) == 1, button
    signed_in.close()

    staff = staff_of()
    partner = phone(browser, site, client=staff.client, cookie=staff_auth.COOKIE, path=staff_auth.COOKIE_PATH)
    page = partner.new_page()
    page.goto(site + "/partner/redemptions")
    for button in (page.get_by_role("button", name="退出"), page.get_by_role("button", name="查询"),
                   page.get_by_role("link", name="导出CSV")):
        expect(button).to_be_visible()
        assert lines(button) == 1, button
    header = page.locator(".partner-header")  # not cramped: the store's name has a row of its own, in the header
    store, nav = header.locator(".header-user"), header.get_by_role("navigation", name="商户导航")
    assert store.bounding_box()["y"] >= nav.bounding_box()["y"] + nav.bounding_box()["height"]
    assert store.bounding_box()["y"] + store.bounding_box()["height"] <= header.bounding_box()["height"]
    partner.close()


class Inputs(HTMLParser):
    """The attributes of each <input> of a page, by id."""

    def __init__(self, html):
        super().__init__()
        self.by_id = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and "id" in attrs:
            self.by_id[attrs["id"]] = attrs


def test_fields_ask_for_the_keyboard_they_need(member):
    m = member(birth_date=date(1990, 5, 1))  # not yet verified: step 2 asks for the name and ID number
    accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True), birth_date=None)
    buyer = Buyer(m.client, "anxin-million-medical")
    buyer.through(1)

    def inputs(path):
        response = m.client.get(path)
        assert response.status_code == 200, path
        return Inputs(response.get_data(as_text=True)).by_id

    step = f"/buy/anxin-million-medical/{buyer.number}"
    applicant = inputs(f"{step}/2")
    assert applicant["id_number"]["autocomplete"] == "off" and applicant["id_number"]["inputmode"] == "text"
    assert applicant["mobile"]["inputmode"] == "tel" and applicant["mobile"]["autocomplete"] == "tel"
    assert buyer.post(2, **APPLICANT)[0].status_code == 302
    insured = inputs(f"{step}/3")
    assert insured["id_number"]["inputmode"] == "text" and insured["id_number"]["autocomplete"] == "off"
    assert buyer.post(3, relation="self", social_security="yes")[0].status_code == 302
    beneficiaries = inputs(f"{step}/4")
    assert beneficiaries["people-0-id_number"]["inputmode"] == "text"
    assert beneficiaries["people-0-share"]["inputmode"] == "numeric"
    car = inputs("/car")
    assert car["plate"]["autocapitalize"] == car["vin"]["autocapitalize"] == "characters"
    assert car["owner_id"]["inputmode"] == "text" and car["seats"]["inputmode"] == "numeric"
    me = inputs("/me")
    assert me["mobile"]["inputmode"] == "tel" and me["mobile"]["autocomplete"] == "tel"
