"""The account centre in a real Chromium: switching 个性化推荐 off changes the home page's recommendations
(from 为你推荐 to 热门推荐), and on again brings them back as one browses."""
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.support.browser import accept_agreements

pytestmark = pytest.mark.e2e


def test_switching_personalisation_changes_the_home_recommendations(signed_in, site):
    page = signed_in(birth_date=date(1990, 5, 1))
    page.goto(site + "/products/xiaotong-million-medical")
    accept_agreements(page)
    page.goto(site + "/")
    recommended = page.locator("#recommended")
    expect(recommended.locator("#recommended-title")).to_contain_text("为你推荐")

    page.goto(site + "/me/privacy")
    switch = page.get_by_role("switch", name="个性化推荐")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()  # saved at once, no page load
    expect(page.get_by_text("已关闭个性化推荐，并删除了")).to_be_visible()
    expect(page.get_by_role("switch", name="个性化推荐")).to_have_attribute("aria-checked", "false")

    page.goto(site + "/")
    expect(recommended.locator("#recommended-title")).to_contain_text("热门推荐")
    expect(recommended).to_contain_text("个性化推荐已关闭")

    page.goto(site + "/me/privacy")
    page.get_by_role("switch", name="个性化推荐").click()
    expect(page.get_by_role("switch", name="个性化推荐")).to_have_attribute("aria-checked", "true")
    page.goto(site + "/products/kanghu-lifetime-ci")
    page.goto(site + "/")
    expect(recommended.locator("#recommended-title")).to_contain_text("为你推荐")
