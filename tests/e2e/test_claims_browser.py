"""A 医疗 claim in Chromium, from the policyholder's desktop, their phone and the claims handler's back office:
the claim reported, documents uploaded on the desktop and two photos from the phone by scanning the code,
sent after 预审; the handler asks for one more document, the policyholder supplies it; the handler approves and
pays, and the policyholder sees 已结案 and 已到账. axe-core finds nothing on any page on the way."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User
from app.extensions import db
from tests.support.admin import Browser, new_staff
from tests.support.admin_browser import Checker, signed_in_context
from tests.support.browser import accept_agreements, as_new_wechat_user, read_qr
from tests.support.claims import issued_policy, unique_photo

pytestmark = pytest.mark.e2e

NICKNAME = "理赔浏览器用户"


def photo_file(tmp_path, name, _n=None):
    path = tmp_path / name
    path.write_bytes(unique_photo())
    return str(path)


def test_a_claim_from_the_desktop_and_the_phone_to_the_money(app, browser, page, phone_page, site, clock, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site + "/login")
    phone_page.goto(read_qr(page))
    as_new_wechat_user(phone_page, NICKNAME)
    phone_page.get_by_role("button", name="允许").click()
    phone_page.get_by_role("button", name="确认登录").click()
    accept_agreements(page)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.nickname == NICKNAME))
    issued_policy(app, user_id)
    check = Checker(page, site, "1280")

    check.visit("/me/claims", name="claims-mine")
    page.get_by_role("link", name="申请理赔").first.click()
    expect(page.get_by_role("heading", name="申请理赔")).to_be_visible()
    check.check("claims-new")
    page.get_by_label("事故经过").fill("在家中摔倒致右手骨折，于市第一人民医院住院治疗5天")
    page.get_by_label("申请金额（元）").fill("1000")
    page.get_by_role("button", name="下一步：上传材料").click()
    expect(page.get_by_test_id("claim-status")).to_have_text("待提交")
    number = page.get_by_test_id("claim-number").inner_text()
    check.check("claims-draft")

    for n, (item, label) in enumerate((("cost_list", "费用明细清单"), ("medical_record", "病历"),
                                       ("discharge", "出院小结"), ("diagnosis", "诊断证明"), ("id_card", "申请人身份证"),
                                       ("bank_card", "收款银行卡"))):
        page.get_by_label(f"上传{label}").set_input_files(photo_file(tmp_path, f"{item}.jpg", n))
        expect(page.locator(".checklist-item", has_text=label).get_by_text("已上传 1 份")).to_be_visible()
    expect(page.locator(".precheck")).to_contain_text("缺少：医疗费用发票")

    page.get_by_role("button", name="用手机拍照上传").click()
    expect(page.get_by_role("heading", name="用手机拍照上传")).to_be_visible()
    phone_page.goto(read_qr(page))
    as_new_wechat_user(phone_page, NICKNAME)  # the same WeChat user: the account's own
    phone_page.get_by_role("button", name="允许").click()
    expect(phone_page.get_by_role("heading", name="拍照上传理赔材料")).to_be_visible()
    phone_page.get_by_label("材料类型").select_option(label="医疗费用发票")
    phone_page.get_by_label("拍照或选择照片").set_input_files(
        [photo_file(tmp_path, "invoice-1.jpg", 20), photo_file(tmp_path, "invoice-2.jpg", 21)])
    phone_page.get_by_role("button", name="上传", exact=True).click()
    expect(phone_page.get_by_text("已上传 2 份，可以继续拍照上传")).to_be_visible()
    Checker(phone_page, site, "390").check("claims-phone")
    expect(page.locator("#received")).to_contain_text("已收到的材料（8 份）")  # arrived on the desktop by itself
    check.check("claims-phone-desktop")
    phone_page.get_by_role("button", name="上传完毕").click()
    expect(phone_page.get_by_text("上传已结束")).to_be_visible()

    page.get_by_role("link", name="上传完毕，返回理赔").click()
    expect(page.locator(".precheck")).to_contain_text("材料齐全，可以提交")
    page.get_by_role("button", name="提交理赔申请").click()
    expect(page.get_by_test_id("claim-status")).to_have_text("已提交")
    expect(page.get_by_test_id("deadline")).to_contain_text("剩余 30 天")
    check.check("claims-submitted")

    handler = Browser(app, clock).sign_in(new_staff(app, "claims", name="王理赔"))
    office = signed_in_context(browser, site, "1280", handler.client).new_page()
    desk = Checker(office, site, "1280")
    desk.visit(f"/admin/claims/{number}", name="claims-admin")
    office.get_by_role("button", name="受理").click()
    office.locator(".claim-item-boxes").get_by_text("诊断证明").click()
    office.get_by_role("button", name="发出补充材料通知").click()
    expect(office.get_by_text("待补充材料").first).to_be_visible()

    page.reload()
    expect(page.get_by_test_id("claim-status")).to_have_text("待补充材料")
    expect(page.get_by_text("请补充：诊断证明")).to_be_visible()
    check.check("claims-supplement")
    page.get_by_label("上传诊断证明").set_input_files(photo_file(tmp_path, "diagnosis-2.jpg", 30))
    expect(page.locator(".checklist-item", has_text="诊断证明").get_by_text("已上传 2 份")).to_be_visible()
    page.get_by_role("button", name="补充完毕，提交").click()
    expect(page.get_by_test_id("claim-status")).to_have_text("审核中")

    office.reload()
    office.get_by_text("赔付", exact=True).click()
    office.get_by_label("核定赔付金额（元）").fill("1000")
    office.get_by_role("button", name="录入核定结果").click()
    expect(office.get_by_role("button", name="支付赔款")).to_be_visible()
    office.get_by_label("支付方式").select_option("bank")
    office.get_by_role("button", name="支付赔款").click()
    desk.check("claims-admin-paid")

    page.reload()
    expect(page.get_by_test_id("claim-status")).to_have_text("已到账")
    timeline = page.locator(".claim-timeline")
    expect(timeline).to_contain_text("已结案")
    expect(timeline).to_contain_text(re.compile(r"赔款 ¥1,000.00 已到账"))
    check.check("claims-paid")
    check.assert_clean()
    desk.assert_clean()
