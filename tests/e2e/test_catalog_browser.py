"""The catalog and calculator in a real Chromium, with JavaScript and without."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def mark_page(page):
    """A flag that survives htmx swaps but not a page load."""
    page.evaluate("window.__noReload = true")


def still_same_page(page):
    return page.evaluate("window.__noReload === true")


def test_typing_a_query_updates_results_in_place_and_back_restores_them(page, live_server):
    page.goto(live_server + "/products")
    mark_page(page)
    search = page.get_by_label("搜索", exact=True)
    search.fill("医疗")
    expect(page.locator(".result-count")).to_contain_text("匹配“医疗”")
    expect(page).to_have_url(re.compile(r"/products\?q=%E5%8C%BB%E7%96%97"))
    medical = page.locator(".product-name").all_inner_texts()
    assert "安心百万医疗2026" in medical and "守望定期寿险" not in medical

    search.fill("寿险")
    expect(page.locator(".result-count")).to_contain_text("匹配“寿险”")
    assert "守望定期寿险" in page.locator(".product-name").all_inner_texts()
    assert still_same_page(page)

    page.go_back()
    expect(page).to_have_url(re.compile(r"q=%E5%8C%BB%E7%96%97"))
    expect(page.locator(".result-count")).to_contain_text("匹配“医疗”")
    expect(page.get_by_label("搜索", exact=True)).to_have_value("医疗")
    assert page.locator(".product-name").all_inner_texts() == medical


def test_typing_on_the_home_page_lists_matches_under_the_box(page, live_server):
    page.goto(live_server + "/")
    mark_page(page)
    search = page.get_by_label("搜索保险产品")
    search.press_sequentially("医疗")  # key by key, as a person types
    matches = page.locator("#suggestions li strong")
    expect(matches.first).to_be_visible()
    assert "安心百万医疗2026" in matches.all_inner_texts() and "守望定期寿险" not in matches.all_inner_texts()
    search.fill("寿险")
    expect(matches.filter(has_text="守望定期寿险")).to_be_visible()
    assert "安心百万医疗2026" not in matches.all_inner_texts()
    expect(page).to_have_url(live_server + "/")  # still the home page
    assert still_same_page(page)
    search.fill("")
    expect(page.locator("#suggestions")).to_be_hidden()
    search.fill("寿险")
    page.get_by_role("link", name=re.compile("查看全部 \\d+ 款匹配“寿险”的产品")).click()
    expect(page).to_have_url(re.compile(r"/products\?q=%E5%AF%BF%E9%99%A9"))
    expect(page.locator(".result-count")).to_contain_text("匹配“寿险”")
    page.go_back()
    page.get_by_label("搜索保险产品").fill("重疾")
    page.get_by_label("搜索保险产品").press("Enter")  # Enter opens the catalog's results
    expect(page.locator(".result-count")).to_contain_text("匹配“重疾”")


def test_filters_and_pages_swap_only_the_results(page, live_server):
    page.goto(live_server + "/products")
    mark_page(page)
    page.get_by_label("险种").select_option("term-life")
    expect(page).to_have_url(re.compile(r"category=term-life"))
    expect(page.locator(".product-card")).to_have_count(6)
    page.get_by_label("险种").select_option("")
    page.get_by_label("排序").select_option("price_asc")
    expect(page).to_have_url(re.compile(r"sort=price_asc"))
    page.get_by_role("link", name="下一页").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator('.pagination [aria-current="page"]')).to_have_text("2")
    assert still_same_page(page)


def test_bad_age_shows_the_message_on_the_field(page, live_server):
    page.goto(live_server + "/products")
    page.get_by_label("被保人年龄").fill("130")
    expect(page.locator("#age-error")).to_have_text("请输入 0–120 之间的整数周岁")
    page.get_by_label("被保人年龄").fill("70")
    expect(page.locator("#age-error")).to_have_text("")
    expect(page.locator(".result-count")).to_be_visible()


def test_calculator_updates_the_premium_as_inputs_change(page, live_server):
    page.goto(live_server + "/products/anxin-million-medical")
    mark_page(page)
    premium = page.get_by_test_id("premium")
    expect(premium).to_have_text("¥160.00")
    page.get_by_label("或填周岁年龄").fill("31")
    expect(premium).to_have_text("¥220.00")
    page.get_by_text("女", exact=True).click()
    expect(premium).to_have_text("¥233.20")
    page.get_by_text("月缴", exact=True).click()
    expect(premium).to_have_text("¥19.43")
    expect(page.locator("#quote")).to_contain_text("为什么是这个价格")
    page.get_by_label("或填周岁年龄").fill("66")
    expect(page.locator("#age-error")).to_contain_text("本产品仅承保出生满28天–65周岁的被保险人")
    expect(page.locator("#quote")).to_contain_text("请按提示修改标红的信息")
    page.get_by_label("或填周岁年龄").fill("40")
    expect(page.locator("#age-error")).to_have_text("")
    expect(premium).to_have_text("¥25.62")  # 36–40: 290 × 1.06 = 307.40 a year; ÷ 12 = 25.616…
    assert still_same_page(page)


@pytest.fixture()
def no_js_page(browser, browser_context_args):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_catalog_works_without_javascript(no_js_page, live_server):
    page = no_js_page
    page.goto(live_server + "/products")
    page.get_by_label("搜索", exact=True).fill("百万")
    page.get_by_label("排序").select_option("price_desc")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"q=%E7%99%BE%E4%B8%87.*sort=price_desc"))
    expect(page.locator(".result-count")).to_contain_text("匹配“百万”")
    page.get_by_label("被保人年龄").fill("130")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#age-error")).to_have_text("请输入 0–120 之间的整数周岁")


def test_home_search_works_without_javascript(no_js_page, live_server):
    page = no_js_page
    page.goto(live_server + "/")
    page.get_by_label("搜索保险产品").fill("医疗")
    page.get_by_role("button", name="搜索", exact=True).click()
    expect(page).to_have_url(re.compile(r"/products\?q=%E5%8C%BB%E7%96%97"))
    expect(page.locator(".result-count")).to_contain_text("匹配“医疗”")


def test_calculator_works_without_javascript(no_js_page, live_server):
    page = no_js_page
    page.goto(live_server + "/products/anxin-million-medical")
    page.get_by_label("或填周岁年龄").fill("31")
    page.get_by_text("无社保", exact=True).click()
    page.get_by_role("button", name="计算保费").click()
    expect(page).to_have_url(re.compile(r"/products/anxin-million-medical/quote"))
    expect(page.get_by_test_id("premium")).to_have_text("¥407.00")  # 220 × 1.85
    page.get_by_label("或填周岁年龄").fill("99")
    page.get_by_role("button", name="计算保费").click()
    expect(page.locator("#age-error")).to_contain_text("本产品仅承保")
    expect(page.get_by_label("或填周岁年龄")).to_have_value("99")
