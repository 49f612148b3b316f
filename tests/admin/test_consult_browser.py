"""在线客服 in Chromium at 1280 and 390 px: a user asks 智能管家, presses 转人工 and opens a consultation (an empty message told on its field), a
staff member in a second context finds it in the inbox without reloading, takes it and replies with a canned reply;
the user's page shows the reply without reloading, the user ends the consultation and rates it. axe-core finds no
violation on any page of either side (ADMIN_SCREENSHOTS=<dir> saves each)."""
import re

import pytest
from playwright.sync_api import expect

from tests.support.admin_browser import WIDTHS, Checker, signed_in_context
from tests.support.agreements import accepted_user
from tests.support.assistant_consult import consultation_row, new_canned

pytestmark = pytest.mark.e2e

POLLED = 10_000  # ms: a few polls of 3 s


def test_a_user_consults_a_staff_member_who_answers_and_is_rated(browser, site, width, signed_in, member, app):
    staff_client, _ = signed_in("support")
    canned = f"理赔时效说明（{width}）"
    new_canned(app, title=canned, body="材料齐全后，保险公司会在30日内核定。")
    user = accepted_user(member, "咨询用户")
    user_context = browser.new_context(viewport=WIDTHS[width], locale="zh-CN", is_mobile=width == "390")
    user_context.add_cookies([{"name": "session", "value": user.client.get_cookie("session").value, "url": site}])
    mine = user_context.new_page()
    user_checker = Checker(mine, site, width)

    # From 智能管家: a question answered, then 转人工 carries the conversation to a person.
    mine.goto(site + "/assistant")
    mine.get_by_label("你的问题").fill("安心百万医疗的等待期是多久？")
    mine.get_by_role("button", name="发送").click()
    expect(mine.get_by_text("内容由人工智能生成").first).to_be_visible()
    mine.get_by_role("link", name="转人工").first.click()
    expect(mine).to_have_url(re.compile(r"/consult\?from="))
    user_checker.check("consult-new")
    mine.get_by_role("button", name="咨询人工客服").click()
    expect(mine.get_by_text("请写下你想咨询的问题")).to_be_visible()
    user_checker.check("consult-new-refused")
    mine.get_by_label("你想咨询什么").fill("请问住院理赔一般多久能到账？")
    mine.get_by_role("button", name="咨询人工客服").click()
    expect(mine.get_by_test_id("consult-status")).to_have_text("等待接入")
    user_checker.check("consult-waiting")
    public_id = mine.url.rsplit("/", 1)[-1]

    staff_context = signed_in_context(browser, site, width, staff_client.client)
    desk = staff_context.new_page()
    staff_checker = Checker(desk, site, width)
    staff_checker.visit("/admin/consult", name="consult-inbox")
    row = desk.get_by_role("link", name="咨**户")
    expect(row).to_be_visible()
    row.click()
    expect(desk.get_by_text("请问住院理赔一般多久能到账？")).to_be_visible()
    staff_checker.check("consult-staff-waiting")
    desk.get_by_role("button", name="接入").click()
    expect(desk.get_by_text("已接入，用户已看到客服接入的提示。")).to_be_visible()
    desk.get_by_role("button", name="发送回复").click()
    expect(desk.get_by_text("请输入回复内容，或选择一条常用回复")).to_be_visible()
    staff_checker.check("consult-staff-refused")
    desk.get_by_label("常用回复").select_option(label=canned)
    desk.get_by_role("textbox", name="回复").fill("您的材料已收到，我会跟进。")
    desk.get_by_role("button", name="发送回复").click()
    expect(desk.get_by_test_id("consult-messages").get_by_text("您的材料已收到，我会跟进。", exact=False)).to_be_visible()
    staff_checker.check("consult-staff-open")

    # The user's page, never reloaded, shows the reply (the poll) and the consultation taken (a refresh).
    expect(mine.get_by_test_id("consult-messages").get_by_text("材料齐全后，保险公司会在30日内核定。", exact=False)
           ).to_be_visible(timeout=POLLED)
    expect(mine.get_by_test_id("consult-status")).to_have_text("服务中", timeout=POLLED)
    user_checker.check("consult-open")
    mine.get_by_label("消息").fill("好的，谢谢！")
    mine.get_by_role("button", name="发送").click()
    expect(desk.get_by_test_id("consult-messages").get_by_text("好的，谢谢！")).to_be_visible(timeout=POLLED)

    mine.get_by_role("button", name="结束咨询").click()
    expect(mine.get_by_role("heading", name="评价本次服务")).to_be_visible()
    user_checker.check("consult-closed")
    mine.get_by_text("4 星 · 满意").click()
    mine.get_by_label("评价（选填）").fill("回复很及时")
    mine.get_by_role("button", name="提交评价").click()
    expect(mine.get_by_test_id("consult-rated")).to_have_text("你的评价：4 星 · 回复很及时")
    user_checker.check("consult-rated")
    assert consultation_row(app, public_id).rating == 4
    expect(desk.get_by_test_id("consult-status")).to_have_text("已结束", timeout=POLLED)  # the staff page follows
    staff_checker.check("consult-staff-closed")
    user_checker.assert_clean()
    staff_checker.assert_clean()
    user_context.close()
    staff_context.close()
