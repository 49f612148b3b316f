"""理赔 in the back office: only claims.handle opens it; the queue by the deadline that applies on the injected
clock (overdue first, paused last), its filters, counts and pages, the claimant masked; each action's result and
its audit row, and its message for bad input with nothing changed; an appealed refusal decided by someone else;
two handlers taking one claim at once; every opening of a document on the audit log; a product's checklist; the
periodic job that flags overdue claims."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.admin.roles import ROLES, permissions_of
from app.catalog.models import Product
from app.claims import checklist, services
from app.claims.models import ClaimChecklist, ClaimEvent
from app.core.clock import db_now
from app.extensions import db
from tests.support.admin import audit_rows, last_audit
from tests.support.admin_claims import claim_state, text_pdf
from tests.support.claims import claim_row
from tests.support.concurrency import at_once
from tests.support.identity import APPLICANT
from tests.support.web import token

DAY = timedelta(days=1)


def page(browser, path):
    response = browser.client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def act(browser, number, action, data=None):
    """Posts one of the claim page's forms, as the page's own form would."""
    claim_page = f"/admin/claims/{number}"
    return browser.post(f"{claim_page}/{action}", data or {}, page=claim_page)


def positions(html, numbers):
    """The order in which the claims appear on the page (those absent left out)."""
    found = {number: html.find(number) for number in numbers if number in html}
    return sorted(found, key=found.get)


def claim_audits(app, number):
    return audit_rows(app, object_type="claim", object_id=number)


# Who may

ENDPOINTS = [("GET", "/admin/claims"), ("GET", "/admin/claims/{number}"), ("POST", "/admin/claims/{number}/take"),
             ("POST", "/admin/claims/{number}/supplement"), ("POST", "/admin/claims/{number}/decision"),
             ("POST", "/admin/claims/{number}/pay"), ("GET", "/admin/claims/{number}/documents/{token}"),
             ("GET", "/admin/claims/checklists"), ("GET", "/admin/claims/checklists/{product_id}"),
             ("POST", "/admin/claims/checklists/{product_id}")]


@pytest.mark.parametrize("role", [*ROLES, "none"])
def test_only_claims_handle_opens_the_claim_screens(app, role, signed_in, queued, claim_document, product):
    browser, _ = signed_in(*([] if role == "none" else [role]))
    number = queued("submitted")
    values = {"number": number, "token": claim_document(number), "product_id": product.id}
    csrf = token(browser.client.get("/admin/").get_data(as_text=True))
    may = "claims.handle" in permissions_of([] if role == "none" else [role])
    assert may == (role == "claims")
    for method, path in ENDPOINTS:
        before = len(audit_rows(app))
        response = browser.client.open(path.format(**values), method=method,
                                       data={"csrf_token": csrf, "supplement-items": "invoice"} if method == "POST" else None)
        if may:
            assert response.status_code != 403, (method, path)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert "你的角色没有此操作的权限（需要：处理理赔）" in response.get_data(as_text=True)
            assert len(audit_rows(app)) == before, (role, path)
    if not may:
        assert claim_state(app, number).status == "submitted"
        nav = re.search(r'<nav class="admin-nav".*?</nav>', page(browser, "/admin/"), re.S).group(0)
        assert "理赔" not in nav


# The queue

def test_the_queue_puts_the_nearest_deadline_first_overdue_ahead_and_paused_last(app, signed_in, staff_browser, queued,
                                                                                 clock):
    browser, staff = signed_in("claims")
    later = queued("reviewing", handler_id=staff.id, due_in=20 * DAY)
    soon = queued("reviewing", handler_id=staff.id, due_in=2 * DAY + timedelta(hours=1))
    late = queued("reviewing", handler_id=staff.id, due_in=-3 * DAY - timedelta(hours=1))
    paused = queued("awaiting_supplement", handler_id=staff.id, due_in=12 * DAY, requested=["invoice"])
    to_pay = queued("closed", handler_id=staff.id, decision="approved", approved_fen=500000, due_in=5 * DAY)
    refused = queued("closed", handler_id=staff.id, decision="rejected")
    mine = [later, soon, late, paused, to_pay, refused]

    html = page(browser, "/admin/claims?who=mine")
    assert positions(html, mine) == [late, soon, to_pay, later, paused]  # a refusal notified is off the queue
    row = re.search(rf"<tr[^>]*>\s*<td><a[^>]*>{late}</a>.*?</tr>", html, re.S).group(0)
    assert "已超期" in row and "已超期 3 天" in row and "保险公司作出核定" in row
    row = re.search(rf"<tr[^>]*>\s*<td><a[^>]*>{soon}</a>.*?</tr>", html, re.S).group(0)
    assert "剩 2 天" in row and "已超期" not in row
    row = re.search(rf"<tr[^>]*>\s*<td><a[^>]*>{paused}</a>.*?</tr>", html, re.S).group(0)
    assert "计时暂停" in row and "恢复后剩 12 天" in row
    row = re.search(rf"<tr[^>]*>\s*<td><a[^>]*>{to_pay}</a>.*?</tr>", html, re.S).group(0)
    assert "赔款到账" in row and "已核定待支付" in row and "剩 5 天" in row
    assert APPLICANT["name"] not in html and "张*" in html  # the claimant masked

    clock.advance(days=3)  # the soon one is past its 30 days now; the paused one is not (its clock stands)
    browser = staff_browser().sign_in(staff)  # the session has ended meanwhile
    html = page(browser, "/admin/claims?who=mine")
    assert positions(html, mine) == [late, soon, to_pay, later, paused]
    row = re.search(rf"<tr[^>]*>\s*<td><a[^>]*>{soon}</a>.*?</tr>", html, re.S).group(0)
    assert "已超期" in row
    assert "恢复后剩 12 天" in html
    assert positions(page(browser, "/admin/claims?who=mine&overdue=y"), mine) == [late, soon]


def test_the_queue_filters_counts_and_pages(app, signed_in, make_staff, queued):
    browser, staff = signed_in("claims")
    colleague = make_staff("claims")

    def count(label, html):
        return int(re.search(rf"{label} <strong>(\d+)</strong>", html).group(1))

    before = page(browser, "/admin/claims")
    new = queued("submitted")
    reviewing = queued("reviewing", handler_id=staff.id)
    theirs = queued("reviewing", handler_id=colleague.id)
    waiting = queued("awaiting_supplement", handler_id=staff.id, requested=["invoice"])
    after = page(browser, "/admin/claims")
    assert count("已提交", after) == count("已提交", before) + 1
    assert count("审核中", after) == count("审核中", before) + 2
    assert count("待补充材料", after) == count("待补充材料", before) + 1

    assert positions(page(browser, "/admin/claims?who=mine"), [new, reviewing, theirs, waiting]) == [reviewing, waiting]
    unassigned = page(browser, "/admin/claims?who=unassigned")
    assert new in unassigned and reviewing not in unassigned and theirs not in unassigned
    assert positions(page(browser, "/admin/claims?status=awaiting_supplement&who=mine"), [reviewing, waiting]) == [waiting]
    found = page(browser, f"/admin/claims?number={theirs.lower()}")
    assert theirs in found and new not in found and '共 <strong data-testid="claim-count">1</strong> 件' in found
    response = browser.client.get("/admin/claims?number=LP<script>")
    assert response.status_code == 422 and "理赔编号为字母和数字" in response.get_data(as_text=True)

    fragment = browser.client.get("/admin/claims?who=mine", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert reviewing in fragment.get_data(as_text=True) and "HX-Request" in fragment.headers["Vary"]


def test_the_queue_comes_in_pages_of_twenty(app, signed_in, queued):
    browser, staff = signed_in("claims")
    numbers = [queued("reviewing", handler_id=staff.id, due_in=(i + 1) * DAY) for i in range(21)]
    first, second = page(browser, "/admin/claims?who=mine"), page(browser, "/admin/claims?who=mine&page=2")
    assert positions(first, numbers) == numbers[:20] and positions(second, numbers) == numbers[20:]
    assert 'rel="next"' in first and "共 <strong data-testid=\"claim-count\">21</strong> 件" in first


# A claim's page

def test_the_claim_page_shows_the_policy_the_claimant_masked_the_checklist_and_the_deadline(
        app, signed_in, queued, claim_document):
    browser, _ = signed_in("claims")
    number = queued("submitted")
    claim_document(number, item="invoice")
    html = page(browser, f"/admin/claims/{number}")
    with app.app_context():
        claim = claim_row(number)
        policy, product = claim.policy.number, claim.policy.product.name
        insured = services.sum_insured(claim.policy)
        asked = len(checklist.required(claim.policy.product))
    for text in (policy, product, f"¥{insured // 100:,}.00", "保险公司作出核定", "剩 30 天", "骑车摔倒", "尾号 6789",
                 "¥8,000.00", "医疗费用发票", "出院小结", "申请人身份证", "收款银行卡", "受理"):
        assert text in html, text
    assert APPLICANT["name"] not in html and "6225880123456789" not in html
    assert html.count("尚未上传") == asked - 1  # the invoice is in
    assert browser.client.get("/admin/claims/LP000").status_code == 404


# The actions

def test_taking_a_claim_makes_it_yours_and_is_audited(app, signed_in, queued):
    browser, staff = signed_in("claims")
    number = queued("submitted")
    response = act(browser, number, "take")
    assert response.status_code == 302
    assert "已受理，本案由你处理" in page(browser, response.headers["Location"])
    claim = claim_state(app, number)
    assert (claim.status, claim.handler_id) == ("reviewing", staff.id)
    row = last_audit(app, action="claim.taken", object_id=number)
    assert row.staff_id == staff.id and row.object_type == "claim"
    assert '"claim_status": "submitted"' in row.before and '"claim_status": "reviewing"' in row.after
    assert "骑车" not in row.after + row.before  # what the claimant wrote stays out of the log

    other, _ = signed_in("claims")
    response = act(other, number, "take")
    assert response.status_code == 409 and "理赔状态已经变化" in response.get_data(as_text=True)
    assert claim_state(app, number).handler_id == staff.id
    assert len(audit_rows(app, action="claim.taken", object_id=number)) == 1


def test_two_handlers_taking_one_claim_at_once_one_wins(app, signed_in, queued):
    number = queued("submitted")
    handlers = [signed_in("claims") for _ in range(2)]
    path = f"/admin/claims/{number}"
    tokens = [token(browser.client.get(path).get_data(as_text=True)) for browser, _ in handlers]
    with app.app_context():
        db.engine.dispose()  # each thread its own connection
    statuses = at_once(2, lambda i: handlers[i][0].client.post(f"{path}/take", data={"csrf_token": tokens[i]}).status_code)
    assert sorted(statuses) == [302, 409]
    winner = handlers[statuses.index(302)][1]
    assert claim_state(app, number).handler_id == winner.id
    with app.app_context():
        claim_id = claim_row(number).id
        assert db.session.scalar(select(func.count()).select_from(ClaimEvent).where(
            ClaimEvent.claim_id == claim_id, ClaimEvent.status == "reviewing")) == 1
    assert [row.staff_id for row in audit_rows(app, action="claim.taken", object_id=number)] == [winner.id]


@pytest.mark.parametrize("data, field, message", [
    ({}, "supplement-items", "请选择需要补充的材料"),
    ({"supplement-items": ["invoice", "other"]}, "supplement-note", "选择“其他材料”时，请写明需要什么"),
    ({"supplement-items": "passport"}, "supplement-items", "请从列出的材料中选择"),
    ({"supplement-items": "invoice", "supplement-note": "长" * 201}, "supplement-note", "说明最多200个字"),
])
def test_a_bad_supplement_request_is_told_on_its_field_and_changes_nothing(app, signed_in, queued, data, field, message):
    browser, staff = signed_in("claims")
    number = queued("reviewing", handler_id=staff.id)
    response = act(browser, number, "supplement", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html), html[-3000:]
    claim = claim_state(app, number)
    assert (claim.status, claim.paused_since, claim.requested) == ("reviewing", None, "[]")
    assert claim_audits(app, number) == []


def test_asking_for_supplements_once_pauses_the_clock_and_lists_every_item(app, signed_in, queued, clock):
    browser, staff = signed_in("claims")
    number = queued("reviewing", handler_id=staff.id, due_in=25 * DAY)
    response = act(browser, number, "supplement", {"supplement-items": ["discharge", "diagnosis", "other"],
                                                     "supplement-note": "住院押金收据"})
    assert response.status_code == 302
    html = page(browser, response.headers["Location"])
    assert "已一次性告知申请人" in html and "计时暂停" in html and "恢复后剩 25 天" in html
    assert "请补充：出院小结、诊断证明、其他材料（住院押金收据）" in html
    claim = claim_state(app, number)
    assert claim.status == "awaiting_supplement" and claim.paused_since == db_now_of(clock)
    assert claim.requested_items == ["discharge", "diagnosis", "other"]
    row = last_audit(app, action="claim.supplement_requested", object_id=number)
    assert "出院小结" in row.after and "awaiting_supplement" in row.after and "押金" not in row.after
    assert "已要求补充" in html


def db_now_of(clock):
    return clock.now.replace(tzinfo=None)


def decision(kind, amount="", code="", text="", clause=""):
    return {"decision-decision": kind, "decision-approved": amount, "decision-reason_code": code,
            "decision-reason_text": text, "decision-clause": clause}


@pytest.mark.parametrize("data, field, message", [
    (decision(""), "decision-decision", "请选择核定结果"),
    (decision("approved"), "decision-approved", "请填写核定赔付金额"),
    (decision("approved", "0"), "decision-approved", "请填写核定赔付金额"),
    (decision("approved", "12.345"), "decision-approved", "分"),
    (decision("approved", "8000.01"), "decision-approved", "赔付金额不能超过申请金额 ¥8,000.00"),
    (decision("rejected", code="exclusion", clause="第七条"), "decision-reason_text", "拒赔须选择原因并写明理由"),
    (decision("rejected", text="既往症", clause="第七条"), "decision-reason_text", "拒赔须选择原因并写明理由"),
    (decision("rejected", code="exclusion", text="既往症"), "decision-clause", "拒赔须写明依据的条款"),
    (decision("rejected", code="made-up", text="既往症", clause="第七条"), "decision-reason_code", "不是有效的选择"),
])
def test_a_bad_decision_is_told_on_its_field_and_changes_nothing(app, signed_in, queued, data, field, message):
    browser, staff = signed_in("claims")
    number = queued("reviewing", handler_id=staff.id)
    response = act(browser, number, "decision", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', html), html[-3000:]
    claim = claim_state(app, number)
    assert (claim.status, claim.decision, claim.approved_fen, claim.decided_at) == ("reviewing", None, None, None)
    assert claim_audits(app, number) == []


def test_an_amount_over_the_sum_insured_is_refused(app, signed_in, queued):
    browser, staff = signed_in("claims")
    number = queued("reviewing", handler_id=staff.id, amount_claimed_fen=2_000_000_000)
    with app.app_context():
        limit = services.sum_insured(claim_row(number).policy)
    response = act(browser, number, "decision", decision("approved", f"{limit // 100 + 1}"))
    assert response.status_code == 422 and f"赔付金额不能超过保额 ¥{limit // 100:,}.00" in response.get_data(as_text=True)
    assert claim_state(app, number).status == "reviewing"


def test_an_approval_closes_the_claim_with_ten_days_to_pay(app, signed_in, queued, clock):
    browser, staff = signed_in("claims")
    number = queued("reviewing", handler_id=staff.id)
    response = act(browser, number, "decision", decision("approved", "7,500.50"))
    assert response.status_code == 302
    html = page(browser, response.headers["Location"])
    assert "核定结果已录入" in html and "赔款到账" in html and "剩 10 天" in html and "支付赔款" in html
    claim = claim_state(app, number)
    assert (claim.status, claim.decision, claim.approved_fen, claim.decided_by_id) == ("closed", "approved", 750050, staff.id)
    assert claim.payout_due_at == db_now_of(clock) + 10 * DAY
    row = last_audit(app, action="claim.decided", object_id=number)
    assert '"claim_approved_fen": 750050' in row.after and '"claim_decision": "approved"' in row.after


def test_a_refusal_keeps_its_reason_code_text_and_clause(app, signed_in, queued):
    browser, staff = signed_in("claims")
    number = queued("reviewing", handler_id=staff.id)
    response = act(browser, number, "decision", decision("rejected", code="waiting_period", text="确诊日在等待期内",
                                                         clause="《条款》第二条"))
    assert response.status_code == 302
    html = page(browser, response.headers["Location"])
    assert "拒赔" in html and "保险事故发生在等待期内" in html and "《条款》第二条" in html
    claim = claim_state(app, number)
    assert (claim.status, claim.decision, claim.reason_code, claim.approved_fen) == ("closed", "rejected", "waiting_period", None)
    row = last_audit(app, action="claim.decided", object_id=number)
    assert '"claim_reason": "waiting_period"' in row.after and "确诊日" not in row.after


def test_a_partial_payment_keeps_its_reason(app, signed_in, queued):
    browser, staff = signed_in("claims")
    number = queued("reviewing", handler_id=staff.id)
    response = act(browser, number, "decision", decision("partial", "6000", code="exclusion", text="自费药品不赔"))
    assert response.status_code == 302
    claim = claim_state(app, number)
    assert (claim.decision, claim.approved_fen, claim.reason_code, claim.reason_text) == (
        "partial", 600000, "exclusion", "自费药品不赔")


def test_the_handler_who_refused_cannot_take_or_decide_the_appeal(app, signed_in, queued):
    first, refuser = signed_in("claims")
    number = queued("reviewing", handler_id=refuser.id)
    act(first, number, "decision", decision("rejected", code="exclusion", text="既往症", clause="第七条"))
    with app.app_context():
        services.appeal(claim_row(number), "我在投保前并无此病，附上体检报告。", db_now())
        db.session.commit()

    html = page(first, f"/admin/claims/{number}")
    assert "原拒赔由你作出" in html and "复核理由" in html and "action=\"/admin/claims/%s/take\"" % number not in html
    response = act(first, number, "take")
    assert response.status_code == 409 and "复核须由另一位理赔人员处理" in response.get_data(as_text=True)
    assert claim_state(app, number).handler_id is None

    second, colleague = signed_in("claims")
    assert act(second, number, "take").status_code == 302
    response = act(first, number, "decision", decision("approved", "100"))
    assert response.status_code == 409 and "复核须由另一位理赔人员处理" in response.get_data(as_text=True)
    assert claim_state(app, number).decision is None
    assert act(second, number, "decision", decision("approved", "100")).status_code == 302
    claim = claim_state(app, number)
    assert (claim.decision, claim.decided_by_id) == ("approved", colleague.id)


def test_paying_records_the_insurers_bank_payment_once(app, signed_in, queued):
    browser, staff = signed_in("claims")
    number = queued("closed", handler_id=staff.id, decision="approved", approved_fen=500000, due_in=10 * DAY)
    html = page(browser, f"/admin/claims/{number}")
    assert "须于 2026-12-05 10:00 前到账" in html and "支付赔款" in html
    response = act(browser, number, "pay", {"pay-method": "wechat"})  # ¥5,000: too much for a transfer unnamed
    assert response.status_code == 422 and "微信零钱单笔转账须少于" in response.get_data(as_text=True)
    assert claim_state(app, number).status == "closed" and claim_audits(app, number) == []

    response = act(browser, number, "pay", {"pay-method": "bank"})
    assert response.status_code == 302
    html = page(browser, response.headers["Location"])
    assert "赔款已支付" in html and "已到账" in html
    claim = claim_state(app, number)
    assert claim.status == "paid" and claim.paid_at is not None
    row = last_audit(app, action="claim.paid", object_id=number)
    assert '"claim_payout": "bank"' in row.after and '"claim_status": "paid"' in row.after
    assert '"claim_payout_status": "paid"' in row.after

    response = act(browser, number, "pay", {"pay-method": "bank"})  # clicked again
    assert response.status_code == 409 and "本案赔款已到账" in response.get_data(as_text=True)
    assert len(audit_rows(app, action="claim.paid", object_id=number)) == 1


def test_a_claim_not_agreed_is_not_paid(app, signed_in, queued):
    browser, staff = signed_in("claims")
    for number in (queued("reviewing", handler_id=staff.id), queued("closed", handler_id=staff.id, decision="rejected")):
        response = act(browser, number, "pay", {"pay-method": "bank"})
        assert response.status_code == 409 and "只有已结案并核定赔付的案件可以支付" in response.get_data(as_text=True)
        assert claim_state(app, number).paid_at is None and claim_audits(app, number) == []


# Documents

def test_each_opening_of_a_document_is_audited_and_served_never_cached(app, signed_in, queued, claim_document):
    browser, staff = signed_in("claims")
    number = queued("submitted")
    image = claim_document(number, item="invoice")
    pdf = claim_document(number, item="diagnosis", content=text_pdf(), name="诊断证明.pdf")
    other = claim_document(queued("submitted"), item="invoice")
    html = page(browser, f"/admin/claims/{number}")
    assert f'<img src="/admin/claims/{number}/documents/{image}"' in html
    assert re.search(rf'<a class="claim-pdf" href="/admin/claims/{number}/documents/{pdf}" target="_blank" rel="noopener">', html)
    assert claim_audits(app, number) == []  # the page itself shows no document's content

    response = browser.client.get(f"/admin/claims/{number}/documents/{image}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "private, no-store"
    response = browser.client.get(f"/admin/claims/{number}/documents/{pdf}")
    assert response.mimetype == "application/pdf" and "sandbox" in response.headers["Content-Security-Policy"]
    rows = audit_rows(app, action="claim.document_viewed", object_id=number)
    assert [(row.staff_id, row.object_type) for row in rows] == [(staff.id, "claim")] * 2
    assert '"claim_item": "invoice"' in rows[0].after and '"claim_item": "diagnosis"' in rows[1].after

    assert browser.client.get(f"/admin/claims/{number}/documents/{other}").status_code == 404  # another claim's
    assert len(audit_rows(app, action="claim.document_viewed", object_id=number)) == 2


# A product's checklist

def test_a_products_checklist_is_set_and_put_back_to_the_default(app, signed_in, product):
    browser, staff = signed_in("claims")
    path = f"/admin/claims/checklists/{product.id}"
    assert product.name in page(browser, "/admin/claims/checklists")
    html = page(browser, path)
    assert "医疗费用报销的默认清单" in html and "每次理赔必交" in html

    response = browser.post(path, {"items": []}, page=path)
    assert response.status_code == 422 and "请至少选择一项材料" in response.get_data(as_text=True)
    response = browser.post(path, {"items": ["id_card"]}, page=path)  # always asked: not the product's to choose
    assert response.status_code == 422 and "请从列出的材料中选择" in response.get_data(as_text=True)

    response = browser.post(path, {"items": ["diagnosis", "invoice", "medical_record"]}, page=path)
    assert response.status_code == 302 and "材料清单已保存" in page(browser, response.headers["Location"])
    with app.app_context():
        chosen = db.session.get(Product, product.id)
        assert checklist.product_items(chosen) == ["invoice", "medical_record", "diagnosis"]
        assert checklist.required(chosen, minor=True) == ["invoice", "medical_record", "diagnosis", "id_card",
                                                          "bank_card", "guardian_id", "relationship"]
    row = last_audit(app, action="claim.checklist_saved", object_id=str(product.id))
    assert row.object_type == "product" and "出院小结" in row.before and "出院小结" not in row.after
    assert "产品自定" in page(browser, "/admin/claims/checklists")

    response = browser.post(path, {"items": ["diagnosis", "invoice", "medical_record"]}, page=path)
    assert "没有变化" in page(browser, response.headers["Location"])
    response = browser.post(path, {"reset": "1"}, page=path)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ClaimChecklist).where(ClaimChecklist.product_id == product.id)) is None
        assert checklist.product_items(db.session.get(Product, product.id)) == checklist.DEFAULTS["medical"]
    assert len(audit_rows(app, action="claim.checklist_saved", object_id=str(product.id))) == 2


# The periodic job

def test_the_job_flags_claims_past_their_deadline_once(app, queued, clock):
    from app.claims import jobs

    late = queued("reviewing", due_in=DAY)
    unpaid = queued("closed", decision="approved", approved_fen=100000, due_in=2 * DAY)
    paused = queued("awaiting_supplement", due_in=DAY, requested=["invoice"])
    clock.advance(days=3)
    with app.app_context():
        jobs.flag_overdue_claims.enqueue()
    flagged_at = db_now_of(clock)
    assert claim_state(app, late).overdue_at == flagged_at and claim_state(app, unpaid).overdue_at == flagged_at
    assert claim_state(app, paused).overdue_at is None  # its clock stands while the claimant is asked
    clock.advance(minutes=10)
    with app.app_context():
        jobs.flag_overdue_claims.enqueue()
    assert claim_state(app, late).overdue_at == flagged_at  # once
