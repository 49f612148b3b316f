"""The car quote in a real Chromium, with JavaScript and without."""
import pytest
from playwright.sync_api import expect

from tests.support.purchase import GOOD

pytestmark = pytest.mark.e2e


def fill(page, **changes):
    values = {**GOOD, **changes}
    page.get_by_label("车牌号").fill(values["plate"])
    page.get_by_label("车架号（VIN）").fill(values["vin"])
    page.get_by_label("发动机号").fill(values["engine_no"])
    page.get_by_label("初次登记日期").fill(values["first_registration"])
    page.get_by_label("核定座位数").fill(values["seats"])
    page.get_by_label("新车购置价（元）").fill(values["purchase_price"])
    page.get_by_label("车主姓名").fill(values["owner_name"])
    page.get_by_label("车主身份证号码").fill(values["owner_id"])
    page.get_by_role("button", name="获取报价").click()


def test_quote_appears_in_place_and_errors_sit_on_their_fields(page, live_server):
    page.goto(live_server + "/car")
    page.evaluate("window.__noReload = true")
    fill(page, vin="1M8GDM9A1KP042788")
    expect(page.locator("#vin-error")).to_contain_text("车架号校验位不符")
    page.get_by_label("车架号（VIN）").fill(GOOD["vin"])
    page.get_by_role("button", name="获取报价").click()
    expect(page.get_by_test_id("car-total")).to_have_text("¥5,049.50")
    assert page.evaluate("window.__noReload === true")


def test_quote_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/car")
    fill(page, plate="粤BD12345")
    expect(page.get_by_test_id("car-total")).to_have_text("¥4,569.50")  # no vehicle tax for new energy
    context.close()
