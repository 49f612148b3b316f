"""Steps in a real browser (Playwright) that several browser tests take: the acceptance step, a new user
in the WeChat simulator, reading a QR code off the screen, filling in an application."""
import io
import re

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.support.identity import APPLICANT, KID, ME


def accept_agreements(page, birth_date="1990-05-01"):
    """The acceptance step a first login meets: tick each agreement, give a birth date, continue."""
    expect(page.get_by_role("heading", name="请阅读并同意以下协议")).to_be_visible()
    expect(page.get_by_role("checkbox").first).to_be_visible()
    for box in page.get_by_role("checkbox").all():
        box.check()
    birth = page.get_by_label("你的出生日期")
    if birth.count():  # asked only while the birth date is unknown
        birth.fill(birth_date)
    page.get_by_role("button", name="同意并继续").click()
    expect(page.get_by_role("heading", name="请阅读并同意以下协议")).to_have_count(0)


def as_new_wechat_user(phone_page, nickname):
    """In the simulator, a WeChat user no other test has used."""
    phone_page.get_by_text("新建模拟用户，昵称：").click()
    phone_page.get_by_label("新建模拟用户的昵称").fill(nickname)


def read_qr(page):
    """Decode the QR image as rendered on screen, as a phone camera would."""
    png = page.locator(".qr-image").screenshot()
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(codes) == 1
    return codes[0].text


def fill_applicant(page):
    page.get_by_label("投保人姓名").fill(APPLICANT["name"])
    page.get_by_label("身份证号码").fill(ME)
    page.get_by_label("手机号码").fill(APPLICANT["mobile"])
    for label, key in (("省份", "province"), ("城市", "city"), ("区县", "district"), ("详细地址", "address")):
        page.get_by_label(label, exact=True).fill(APPLICANT[key])
    page.get_by_role("button", name="保存并继续").click()


def finish(page, premium):
    """From 被保险人 on: the child, 法定, all 否, confirm."""
    page.get_by_text("子女", exact=True).click()
    page.get_by_label("被保险人姓名").fill("张小妹")
    page.get_by_label("被保险人身份证号码").fill(KID)
    page.get_by_text("无社保", exact=True).click()
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_text("已按被保险人的实际年龄和条件重新计算保费")).to_be_visible()
    expect(page.get_by_test_id("premium")).to_have_text(premium)
    page.get_by_role("button", name="保存并继续").click()  # 受益人: 法定
    expect(page.get_by_role("heading", name="健康告知")).to_be_visible()
    for radio in page.get_by_role("radio", name="否").all():
        radio.check()
    page.get_by_role("button", name="保存并继续").click()
    expect(page.get_by_text("子女 · 张*妹 · 110***********")).to_be_visible()
    page.get_by_label(re.compile("我已阅读《保险条款》")).check()
    page.get_by_role("button", name="确认投保").click()
    expect(page.get_by_role("heading", name="微信扫码支付")).to_be_visible()
    expect(page.get_by_text(premium, exact=True)).to_be_visible()
