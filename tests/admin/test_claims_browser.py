"""理赔 in Chromium at 1280 and 390 px: a handler finds a new claim in the queue, opens it (the invoice photo shown
in the page, the PDF behind a link), takes it, asks for what is missing (a refusal of an empty request told on
its field), and, once the claimant has supplied it, records the insurer's approval and the payment; a product's
checklist is edited. axe-core finds no violation on any page on the way (ADMIN_SCREENSHOTS=<dir> saves each)."""
import pytest
from playwright.sync_api import expect

from app.claims import services
from app.core.clock import db_now
from app.extensions import db
from tests.support.admin_browser import Checker, signed_in_context
from tests.support.admin_claims import claim_state, text_pdf
from tests.support.claims import claim_row

pytestmark = pytest.mark.e2e


def test_a_handler_takes_asks_for_more_approves_and_pays_a_claim(browser, site, width, signed_in, queued,
                                                                 claim_document, product, app):
    client, staff = signed_in("claims")
    number = queued("submitted")
    claim_document(number, item="invoice")
    claim_document(number, item="diagnosis", content=text_pdf(), name="诊断证明.pdf")
    queued("reviewing", handler_id=staff.id)
    queued("awaiting_supplement", handler_id=staff.id, requested=["invoice"])
    context = signed_in_context(browser, site, width, client.client)
    page = context.new_page()
    checker = Checker(page, site, width)

    checker.visit("/admin/claims", name="claims-queue")
    page.get_by_label("理赔编号").fill(number)
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_test_id("claim-count")).to_have_text("1")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"理赔 {number}")).to_be_visible()
    expect(page.get_by_role("img", name="医疗费用发票 第1份")).to_be_visible()
    expect(page.get_by_role("link", name="打开 PDF：诊断证明 第1份（1 页，新窗口）")).to_have_attribute("target", "_blank")
    checker.check("claim-new")

    page.get_by_role("button", name="受理").click()
    expect(page.get_by_text("已受理，本案由你处理。")).to_be_visible()
    for box in page.get_by_role("group", name="需要补充的材料").get_by_role("checkbox").all():
        box.uncheck()
    page.get_by_role("button", name="发出补充材料通知").click()
    expect(page.get_by_text("请选择需要补充的材料")).to_be_visible()
    checker.check("claim-supplement-refused")
    page.get_by_role("checkbox", name="出院小结").check()
    page.get_by_role("button", name="发出补充材料通知").click()
    expect(page.get_by_text("已一次性告知申请人需要补充的材料")).to_be_visible()
    expect(page.get_by_text("计时暂停", exact=True)).to_be_visible()
    checker.check("claim-waiting")

    claim_document(number, item="discharge", supplement=True)  # the claimant supplies it
    with app.app_context():
        services.supplied(claim_row(number), db_now())
        db.session.commit()
    page.reload()
    page.get_by_role("radio", name="赔付", exact=True).check()
    page.get_by_label("核定赔付金额（元）").fill("6800.00")
    page.get_by_role("button", name="录入核定结果").click()
    expect(page.get_by_text("核定结果已录入")).to_be_visible()
    checker.check("claim-decided")
    page.get_by_label("支付方式").select_option("bank")
    page.get_by_role("button", name="支付赔款").click()
    expect(page.get_by_text("赔款已支付")).to_be_visible()
    checker.check("claim-paid")
    assert claim_state(app, number).status == "paid"

    checker.visit("/admin/claims/checklists", name="claim-checklists")
    checker.visit(f"/admin/claims/checklists/{product.id}", name="claim-checklist")
    page.get_by_role("checkbox", name="出院小结").uncheck()
    page.get_by_role("button", name="保存清单").click()
    expect(page.get_by_text("材料清单已保存")).to_be_visible()
    checker.check("claim-checklist-saved")
    checker.assert_clean()
    context.close()
