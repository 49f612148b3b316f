"""协议管理 in Chromium at 1280 and 390 px: a compliance officer writes a new version of the service agreement (a
mistake in its dates told first), previews the page and the re-acceptance step (whose buttons record nothing),
submits it; a colleague approves it; a user who accepted the version before is asked to accept this one once the
clock reaches its effective date, not a day earlier. axe-core finds no violation on any page on the way
(ADMIN_SCREENSHOTS=<dir> saves each as a PNG)."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.support.admin_browser import WIDTHS, Checker, signed_in_context
from tests.support.clock import NOW

pytestmark = pytest.mark.e2e

# Years ahead, so that no other test sharing this database meets these versions (each width publishes its own, the
# later one taking effect after the earlier).
DATES = {"1280": (date(2029, 6, 1), date(2030, 6, 1)), "390": (date(2029, 7, 1), date(2030, 7, 1))}
TEXT = ("## 一、总则\n\n本协议是你与微保之间关于使用平台服务的约定。\n\n"
        "**在法律允许的范围内，因不可抗力导致的服务中断，平台不承担责任。**\n\n## 二、智能问答\n\n新增智能问答服务的说明。")


def until(clock, day):
    clock.now = NOW + (day - NOW.date())


def user_page(browser, site, width, member):
    """A user's browser, signed in (their session cookie from the test client) and having accepted what is in force."""
    m = member()
    m.client.get("/healthz")
    context = browser.new_context(viewport=WIDTHS[width], locale="zh-CN", is_mobile=width == "390")
    context.add_cookies([{"name": "session", "value": m.client.get_cookie("session").value, "url": site}])
    return context.new_page()


def accept_what_is_asked(page, site):
    """Opens /me and accepts whatever the step asks (other tests may have published versions in force by then)."""
    page.goto(site + "/me")
    page.wait_for_load_state("networkidle")
    dialog = page.get_by_role("dialog")
    if dialog.count():
        for box in dialog.get_by_role("checkbox").all():
            box.check()
        birth = dialog.get_by_label("你的出生日期")
        if birth.count():
            birth.fill("1990-05-01")
        dialog.get_by_role("button", name="同意并继续").click()
        expect(page.get_by_role("dialog")).to_have_count(0)


def test_a_version_written_previewed_and_approved_is_asked_of_users_from_its_effective_date(
        browser, site, width, signed_in, member, clock):
    released, effective = DATES[width]
    label = f"5.0-{width}"
    writer, _ = signed_in("compliance")
    checker, _ = signed_in("compliance")
    user = user_page(browser, site, width, member)
    accept_what_is_asked(user, site)

    page = signed_in_context(browser, site, width, writer.client).new_page()
    check = Checker(page, site, width)
    check.visit("/admin/agreements", name="agreements")
    page.get_by_role("link", name=re.compile(r"写新版本\s*：《微保服务协议》")).click()
    expect(page.get_by_label("协议正文（Markdown）")).to_contain_text("本协议")  # the newest version's text to start from
    check.check("agreement-version-new")
    page.get_by_label("版本号").fill(label)
    page.get_by_label("发布日期").fill(released.isoformat())
    page.get_by_label("生效日期").fill("2029-05-01")
    page.get_by_label("更新内容").fill("新增智能问答服务的说明")
    page.get_by_label("协议正文（Markdown）").fill(TEXT)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#effective_on-error")).to_have_text("生效日期不能早于发布日期")
    check.check("agreement-version-refused")
    page.get_by_label("生效日期").fill(effective.isoformat())
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    check.check("agreement-version-draft")
    draft_url = page.url.split("?")[0]

    page.get_by_role("link", name="预览协议页面").click()
    expect(page.get_by_role("heading", name="《微保服务协议》", level=1)).to_be_visible()
    expect(page.locator(".agreement-dates")).to_contain_text(f"版本 {label} · 发布日期：{released.isoformat()}")
    expect(page.locator(".agreement-body strong")).to_have_text("在法律允许的范围内，因不可抗力导致的服务中断，平台不承担责任。")
    check.check("agreement-preview-page")
    page.goto(draft_url)
    page.get_by_role("link", name="预览重新同意").click()
    expect(page.get_by_text("更新内容：新增智能问答服务的说明")).to_be_visible()
    expect(page.get_by_text("你此前同意的是")).to_be_visible()
    page.get_by_role("button", name="同意并继续").click()
    expect(page.locator("#gate-agreements-error")).to_have_text("请逐项勾选“我已阅读并同意”")
    check.check("agreement-preview-step-refused")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="同意并继续").click()
    expect(page.get_by_role("alert")).to_contain_text("本次预览未记录任何内容")
    check.check("agreement-preview-step")

    page.goto(draft_url)
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("已提交审核")).to_be_visible()
    expect(page.get_by_text("此版本由你起草或修改过，不能由你审核")).to_be_visible()
    check.check("agreement-version-submitted")

    review = signed_in_context(browser, site, width, checker.client).new_page()
    check.page = review
    review.goto(draft_url)
    check.check("agreement-version-review")
    review.get_by_label("审核意见（选填）").fill("条款与日期已核对")
    review.get_by_role("button", name="审核通过并发布").click()
    expect(review.get_by_text("已审核通过并发布")).to_be_visible()
    expect(review.get_by_text("已发布 · 待公布")).to_be_visible()
    check.check("agreement-version-approved")
    check.assert_clean()

    until(clock, released)
    user.goto(site + "/")
    expect(user.get_by_text(f"《微保服务协议》已更新，将于 {effective.year}年{effective.month}月1日 生效").first).to_be_visible()
    until(clock, effective - timedelta(days=1))
    accept_what_is_asked(user, site)
    user.reload()
    user.wait_for_load_state("networkidle")
    expect(user.get_by_role("dialog")).to_have_count(0)  # readable, not yet asked

    until(clock, effective)
    user.goto(site + "/me")
    dialog = user.get_by_role("dialog")
    expect(dialog).to_contain_text(f"版本 {label}，{effective.isoformat()} 生效")
    expect(dialog).to_contain_text("更新内容：新增智能问答服务的说明")
    for box in dialog.get_by_role("checkbox").all():
        box.check()
    dialog.get_by_role("button", name="同意并继续").click()
    expect(user.get_by_role("dialog")).to_have_count(0)
