"""产品 in the back office (运营): a draft made and edited with its fields checked (amounts in yuan kept as exact
fen), previewed as the public page renders it without being public, submitted and locked, approved by another
person only (maker–checker) with an approved rate table, on sale from the time chosen, withdrawn at a time,
re-published, reopened as a draft only once off sale; every action in the audit log."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.admin.roles import ROLES, permissions_of
from app.catalog.models import Plan, Product
from app.core.clock import format_local
from app.extensions import db
from tests.support.admin import audit_rows, last_audit
from tests.support.admin_catalog import PRODUCT, plan_ids, reference_ids
from tests.support.rates import copy_product


@pytest.fixture()
def draft(app):
    """A complete draft (plans, documents, FAQ) with an approved rate table in force."""
    return copy_product(app, on_sale=False)


@pytest.fixture()
def operators(signed_in):
    """Two 运营 staff: the one who prepares, the one who approves."""
    return signed_in("ops"), signed_in("ops")


def post(browser, path, data=None, **kwargs):
    return browser.post(path, data or {}, page="/admin/", **kwargs)


def body(response):
    return response.get_data(as_text=True)


def product_row(app, product_id):
    with app.app_context():
        product = db.session.get(Product, product_id)
        db.session.expunge(product)
        return product


def local_input(when):
    return format_local(when, "%Y-%m-%dT%H:%M")


def submit_and_approve(preparer, approver, product, at=None):
    assert post(preparer, f"/admin/products/{product.id}/submit", {"note-note": "请审核"}).status_code == 302
    response = post(approver, f"/admin/products/{product.id}/approve",
                    {"approve-effective_at": local_input(at) if at else ""})
    assert response.status_code == 302, body(response)[-2000:]



def product_requests(app, product_id, plan_id):
    values = {"product_id": product_id, "plan_id": plan_id, "document_kind": "clauses"}
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not view.__module__ == "app.catalog.admin_views":
            continue
        path = re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((rule.endpoint, method, path))
    return found


@pytest.mark.parametrize("role", [*ROLES, "none"])
def test_each_product_screen_is_refused_to_a_role_without_its_permission(app, role, signed_in, draft):
    """Table-driven over every product endpoint: 403 (never the page, nothing recorded) where the role lacks the
    permission the endpoint declares; never 403 where it has it."""
    from app.admin import access
    browser, _ = signed_in(*([] if role == "none" else [role]))
    granted = permissions_of([] if role == "none" else [role])
    requests = product_requests(app, draft.id, plan_ids(app, draft.id)[0])
    assert len(requests) >= 20
    refused = 0
    for endpoint, method, path in requests:
        declared = access.access_of(app.view_functions[endpoint])
        before = len(audit_rows(app))
        response = post(browser, path) if method == "POST" else browser.client.get(path)
        if set(declared) <= granted:
            assert response.status_code not in (403, 500), (role, method, path, response.status_code)
        else:
            refused += 1
            assert response.status_code == 403 and "你的角色没有此操作的权限" in body(response), (role, method, path)
            assert len(audit_rows(app)) == before
    assert refused == (0 if role == "ops" else len(requests))


def test_a_new_draft_says_what_is_wrong_on_each_field(app, signed_in):
    ops, _ = signed_in("ops")
    category, insurer = reference_ids(app)
    bad = {**PRODUCT, "category": category, "insurer": insurer, "name": "", "slug": "Bad Slug!", "age_min": "101",
           "age_max": "abc", "waiting_period_days": "-1", "payment_frequencies": []}
    response = post(ops, "/admin/products/new", bad)
    page = body(response)
    assert response.status_code == 422
    for message in ("请填写产品名称", "网址名只能用小写字母、数字和连字符", "请填写 0–100 之间的整数周岁",
                    "等待期请填写 0–730 之间的天数", "请至少选择一种缴费方式"):
        assert message in page, message
    response = post(ops, "/admin/products/new", {**bad, "name": "测试险", "slug": "a-new-one", "age_min": "40",
                                                 "age_max": "30", "waiting_period_days": "0",
                                                 "payment_frequencies": ["annual"]})
    assert response.status_code == 422 and "最高投保年龄不能低于最低投保年龄" in body(response)
    taken = {**PRODUCT, "category": category, "insurer": insurer, "slug": "anxin-million-medical"}
    response = post(ops, "/admin/products/new", taken)
    assert response.status_code == 422 and "该网址名已被其他产品使用" in body(response)
    with app.app_context():
        assert db.session.scalar(select(Product.id).where(Product.slug == "a-new-one")) is None


def test_a_draft_is_created_edited_and_recorded_field_by_field(app, signed_in, client):
    ops, staff = signed_in("ops")
    category, insurer = reference_ids(app)
    response = post(ops, "/admin/products/new", {**PRODUCT, "category": category, "insurer": insurer,
                                                 "slug": "draft-made-here", "payment_frequencies": ["annual", "monthly"],
                                                 "monthly_loading_permille": "1040"})
    assert response.status_code == 302
    product_id = int(re.search(r"/admin/products/(\d+)", response.headers["Location"]).group(1))
    assert "草稿已创建" in body(ops.client.get(response.headers["Location"]))
    product = product_row(app, product_id)
    assert product.state == "draft" and product.payment_frequencies == "annual,monthly" and not product.is_demo
    assert client.get("/products/draft-made-here").status_code == 404
    created = last_audit(app, action="product.created")
    assert created.staff_id == staff.id and created.object_id == str(product_id)
    response = post(ops, f"/admin/products/{product_id}", {**PRODUCT, "category": category, "insurer": insurer,
                                                           "slug": "draft-made-here", "age_max": "60",
                                                           "payment_frequencies": ["annual"]})
    assert response.status_code == 302 and product_row(app, product_id).age_max == 60
    edited = last_audit(app, action="product.edited")
    assert json.loads(edited.before) == {"age_max": 65, "payment_frequencies": ["年缴", "月缴"],
                                         "monthly_loading_permille": 1040}
    assert json.loads(edited.after) == {"age_max": 60, "payment_frequencies": ["年缴"], "monthly_loading_permille": 1000}


def test_a_plan_keeps_amounts_typed_in_yuan_as_exact_fen(app, signed_in, draft):
    ops, _ = signed_in("ops")
    path = f"/admin/products/{draft.id}/plans/new"
    response = post(ops, path, {"code": "extra", "name": "尊享版", "sum_assured": "3,000,000.10",
                                "items-0-name": "住院医疗", "items-0-limit": "12.345"})
    assert response.status_code == 422 and "金额最多精确到分（两位小数）" in body(response)
    response = post(ops, path, {"code": "extra", "name": "尊享版", "sum_assured": "3000000.10",
                                "items-0-name": "住院医疗", "items-0-limit": "0.07", "items-0-deductible": "10000"})
    assert response.status_code == 302, re.findall(r'field-error"[^>]*>([^<]+)<', body(response))
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.product_id == draft.id, Plan.code == "extra"))
        assert plan.sum_assured_fen == 300000010
        assert [(i.name, i.limit_fen, i.deductible_fen) for i in plan.coverage_items] == [("住院医疗", 7, 1000000)]
    assert last_audit(app, action="product.plan_added").object_id == str(draft.id)
    response = post(ops, path, {"code": "extra", "name": "重复", "sum_assured": "1", "items-0-name": "x",
                                "items-0-limit": "1"})
    assert response.status_code == 422 and "本产品已有这个方案代码" in body(response)
    response = post(ops, path, {"code": "none", "name": "空", "sum_assured": "1", "items-0-name": "门诊"})
    assert response.status_code == 422 and "请填写限额" in body(response)


def test_adding_a_coverage_row_saves_nothing_with_or_without_htmx(app, signed_in, draft):
    ops, _ = signed_in("ops")
    path = f"/admin/products/{draft.id}/plans/new"
    before = len(audit_rows(app))
    whole = post(ops, path, {"code": "x", "items-0-name": "住院", "add": "item"})
    assert whole.status_code == 200 and "<html" in body(whole) and 'name="items-1-name"' in body(whole)
    fragment = post(ops, path, {"code": "x", "items-0-name": "住院", "add": "item"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in body(fragment) and 'name="items-1-name"' in body(fragment)
    assert len(audit_rows(app)) == before


def test_the_preview_is_the_public_page_for_any_state_and_never_public(app, signed_in, client, draft):
    ops, _ = signed_in("ops")
    assert client.get(f"/products/{draft.slug}").status_code == 404
    page = ops.client.get(f"/admin/products/{draft.id}/preview")
    assert page.status_code == 200
    html = body(page)
    assert "预览" in html and draft.name in html and 'data-testid="premium"' in html
    assert f'action="/admin/products/{draft.id}/preview/quote#calculator"' in html
    assert f"/admin/products/{draft.id}/preview/documents/clauses" in html
    quote = post(ops, f"/admin/products/{draft.id}/preview/quote",
                 {"plan": draft.plans[0], "age": "40", "gender": "F", "social_security": "yes", "frequency": "annual"},
                 headers={"HX-Request": "true"})
    assert quote.status_code == 200 and 'data-testid="premium"' in body(quote)
    assert client.get(f"/admin/products/{draft.id}/preview").status_code == 302  # not signed in: the login page
    # Documents are Markdown, previewed too
    post(ops, f"/admin/products/{draft.id}/documents/clauses",
         {"title": "测试条款", "body": "## 第一条 保险责任\n\n本合同承担**住院医疗**责任。\n\n- 一般医疗\n- 重疾医疗"})
    document = body(ops.client.get(f"/admin/products/{draft.id}/preview/documents/clauses"))
    assert "<h2>第一条 保险责任</h2>" in document and "<strong>住院医疗</strong>" in document
    assert "<li>一般医疗</li>" in document and "预览" in document
    assert client.get(f"/products/{draft.slug}/documents/clauses").status_code == 404


def test_a_draft_without_a_rate_table_previews_with_a_note_instead_of_a_premium(app, signed_in):
    ops, _ = signed_in("ops")
    bare = copy_product(app, on_sale=False, with_table=False)
    page = ops.client.get(f"/admin/products/{bare.id}/preview")
    assert page.status_code == 200
    html = body(page)
    assert "尚无生效的已审核费率表" in html and 'data-testid="premium"' not in html
    quote = post(ops, f"/admin/products/{bare.id}/preview/quote", {"plan": bare.plans[0], "age": "30", "gender": "M",
                                                                    "social_security": "yes", "frequency": "annual"})
    assert quote.status_code == 422 and "本产品暂无生效的费率表" in body(quote)


def test_a_public_document_reads_its_markdown_and_old_paragraphs_alike(client):
    html = body(client.get("/products/anxin-million-medical/documents/clauses"))
    assert html.count("<p>") >= 3 and "<script" not in html.split("</main>")[0].split("<main")[1]


def test_a_submitted_draft_is_locked_and_its_preparer_may_recall_it(app, operators, draft):
    (preparer, me), (other, _) = operators
    response = post(preparer, f"/admin/products/{draft.id}/submit", {"note-note": "新产品上线"})
    assert response.status_code == 302 and product_row(app, draft.id).state == "pending"
    submitted = last_audit(app, action="product.submitted")
    assert submitted.staff_id == me.id and submitted.reason == "新产品上线"
    for path, data in ((f"/admin/products/{draft.id}", {**PRODUCT, "slug": draft.slug}),
                       (f"/admin/products/{draft.id}/faqs", {"rows-0-question": "问", "rows-0-answer": "答"}),
                       (f"/admin/products/{draft.id}/documents/notice", {"title": "须知", "body": "改"})):
        category, insurer = reference_ids(app)
        response = post(preparer, path, {**data, "category": category, "insurer": insurer})
        assert response.status_code == 409 and "只有草稿可以修改" in body(response), path
    page = body(preparer.client.get(f"/admin/products/{draft.id}"))
    assert "撤回提交" in page and "审核通过" not in page and "你是提交人，不能审核自己提交的产品" in page
    response = post(other, f"/admin/products/{draft.id}/recall")
    assert response.status_code == 409 and "只有提交人可以撤回提交" in body(response)
    assert post(preparer, f"/admin/products/{draft.id}/recall").status_code == 302
    assert product_row(app, draft.id).state == "draft"
    assert last_audit(app, action="product.recalled").staff_id == me.id


def test_a_draft_missing_its_parts_cannot_be_submitted(app, signed_in):
    ops, _ = signed_in("ops")
    category, insurer = reference_ids(app)
    response = post(ops, "/admin/products/new", {**PRODUCT, "category": category, "insurer": insurer,
                                                 "slug": "empty-draft", "payment_frequencies": ["annual"]})
    product_id = int(re.search(r"/admin/products/(\d+)", response.headers["Location"]).group(1))
    response = post(ops, f"/admin/products/{product_id}/submit")
    assert response.status_code == 409 and "提交前还需要补充：至少一个保障方案" in body(response)
    assert product_row(app, product_id).state == "draft"


def test_the_preparer_cannot_approve_their_own_product(app, signed_in, draft):
    ops, staff = signed_in("ops")
    post(ops, f"/admin/products/{draft.id}/submit")
    before = len(audit_rows(app, action="product.approved"))
    response = post(ops, f"/admin/products/{draft.id}/approve", {"approve-effective_at": ""})
    assert response.status_code == 409 and "提交人不能审核自己提交的内容" in body(response)
    response = post(ops, f"/admin/products/{draft.id}/send-back", {"back-reason": "自己退回自己"})
    assert response.status_code == 409 and "提交人不能审核自己提交的内容" in body(response)
    product = product_row(app, draft.id)
    assert product.state == "pending" and product.published_at is None
    assert len(audit_rows(app, action="product.approved")) == before


def test_a_product_without_an_approved_rate_table_cannot_be_approved(app, operators):
    (preparer, _), (approver, _) = operators
    bare = copy_product(app, on_sale=False, with_table=False)
    post(preparer, f"/admin/products/{bare.id}/submit")
    response = post(approver, f"/admin/products/{bare.id}/approve", {"approve-effective_at": ""})
    assert response.status_code == 422
    assert "没有已审核的费率表，不能上架" in body(response) and "请先导入费率表" in body(response)
    assert product_row(app, bare.id).state == "pending"


def test_approval_puts_the_product_on_sale_at_the_time_chosen(app, clock, operators, signed_in, client, draft):
    (preparer, me), (approver, them) = operators
    post(preparer, f"/admin/products/{draft.id}/submit")
    response = post(approver, f"/admin/products/{draft.id}/approve",
                    {"approve-effective_at": local_input(clock.now - timedelta(hours=1))})
    assert response.status_code == 422 and "上架时间不能早于现在" in body(response)
    at = clock.now + timedelta(hours=2)
    response = post(approver, f"/admin/products/{draft.id}/approve", {"approve-effective_at": local_input(at),
                                                                      "approve-note": "已核对条款与费率"})
    assert response.status_code == 302
    product = product_row(app, draft.id)
    assert (product.state, product.reviewed_by_id, product.prepared_by_id) == ("approved", them.id, me.id)
    assert product.published_at == at.replace(second=0, microsecond=0, tzinfo=None)
    approved = last_audit(app, action="product.approved")
    assert approved.staff_id == them.id and json.loads(approved.after)["published_at"] == format_local(at)
    assert client.get(f"/products/{draft.slug}").status_code == 404
    assert draft.name not in body(client.get("/products?q=费率测试险"))
    assert "待上架" in body(approver.client.get("/admin/products?state=scheduled"))
    clock.advance(hours=2)
    assert client.get(f"/products/{draft.slug}").status_code == 200
    assert draft.name in body(client.get("/products?q=费率测试险"))
    later, _ = signed_in("ops")  # the others' sessions ended while idle
    assert draft.name in body(later.client.get("/admin/products?state=on_sale"))


def test_send_back_gives_the_preparer_the_reason(app, operators, draft):
    (preparer, _), (approver, them) = operators
    post(preparer, f"/admin/products/{draft.id}/submit")
    response = post(approver, f"/admin/products/{draft.id}/send-back", {"back-reason": ""})
    assert response.status_code == 422 and "请填写原因" in body(response)
    assert post(approver, f"/admin/products/{draft.id}/send-back", {"back-reason": "等待期写错了"}).status_code == 302
    assert product_row(app, draft.id).state == "draft"
    assert "退回修改，原因：等待期写错了" in body(preparer.client.get(f"/admin/products/{draft.id}"))
    sent_back = last_audit(app, action="product.sent_back")
    assert sent_back.staff_id == them.id and sent_back.reason == "等待期写错了"


def test_withdrawal_takes_effect_at_its_time_and_the_product_can_be_republished(app, clock, operators, signed_in, client,
                                                                               draft):
    (preparer, _), (approver, them) = operators
    submit_and_approve(preparer, approver, draft)
    assert client.get(f"/products/{draft.slug}").status_code == 200
    response = post(approver, f"/admin/products/{draft.id}/withdraw", {"withdraw-reason": ""})
    assert response.status_code == 422 and "请填写下架原因" in body(response)
    at = clock.now + timedelta(days=1)
    response = post(approver, f"/admin/products/{draft.id}/withdraw",
                    {"withdraw-reason": "保险公司停售", "withdraw-effective_at": local_input(at)})
    assert response.status_code == 302
    withdrawn = last_audit(app, action="product.withdrawn")
    assert withdrawn.staff_id == them.id and withdrawn.reason == "保险公司停售"
    assert json.loads(withdrawn.after) == {"withdrawn_at": format_local(at)}
    assert client.get(f"/products/{draft.slug}").status_code == 200
    clock.advance(days=1)
    assert client.get(f"/products/{draft.slug}").status_code == 404
    assert client.get(f"/products/{draft.slug}/documents/clauses").status_code == 404
    assert draft.name not in body(client.get("/products?q=费率测试险"))
    approver, them = signed_in("ops")  # the others' sessions ended while idle
    assert "已下架" in body(approver.client.get("/admin/products?state=withdrawn"))
    again = clock.now + timedelta(hours=3)
    response = post(approver, f"/admin/products/{draft.id}/republish", {"republish-effective_at": local_input(again)})
    assert response.status_code == 302
    assert last_audit(app, action="product.republished").staff_id == them.id
    assert client.get(f"/products/{draft.slug}").status_code == 404
    clock.advance(hours=3)
    assert client.get(f"/products/{draft.slug}").status_code == 200


def test_an_approved_product_is_read_only_and_becomes_a_draft_only_once_off_sale(app, clock, operators, client, draft):
    (preparer, _), (approver, _) = operators
    submit_and_approve(preparer, approver, draft)
    category, insurer = reference_ids(app)
    response = post(preparer, f"/admin/products/{draft.id}", {**PRODUCT, "category": category, "insurer": insurer,
                                                              "slug": draft.slug, "name": "悄悄改名"})
    assert response.status_code == 409 and product_row(app, draft.id).name == draft.name
    plan_id = plan_ids(app, draft.id)[0]
    response = post(preparer, f"/admin/products/{draft.id}/plans/{plan_id}", {"delete": "plan"})
    assert response.status_code == 409
    page = body(preparer.client.get(f"/admin/products/{draft.id}/plans/{plan_id}"))
    assert "内容只能查看" in page and "保存方案" not in page
    response = post(approver, f"/admin/products/{draft.id}/reopen")
    assert response.status_code == 409 and "在售的产品不能直接修改：请先下架" in body(response)
    post(approver, f"/admin/products/{draft.id}/withdraw", {"withdraw-reason": "改版"})
    clock.advance(minutes=1)
    assert post(approver, f"/admin/products/{draft.id}/reopen", {"note-note": "改版"}).status_code == 302
    product = product_row(app, draft.id)
    assert product.state == "draft" and not product.is_on_sale(clock.now.replace(tzinfo=None))
    assert last_audit(app, action="product.reopened").reason == "改版"
    assert client.get(f"/products/{draft.slug}").status_code == 404
    response = post(preparer, f"/admin/products/{draft.id}", {**PRODUCT, "category": category, "insurer": insurer,
                                                              "slug": "another-slug"})
    assert response.status_code == 422 and "该产品上架过，网址名不能再修改" in body(response)


def test_the_list_filters_by_where_products_stand(app, signed_in, draft):
    ops, _ = signed_in("ops")
    drafts = body(ops.client.get("/admin/products?state=draft"))
    assert draft.name in drafts and "安心百万医疗" not in drafts
    on_sale = ops.client.get("/admin/products?state=on_sale", headers={"HX-Request": "true"})
    assert on_sale.status_code == 200 and "<html" not in body(on_sale) and draft.name not in body(on_sale)
    assert ops.client.get("/admin/products?state=nonsense").status_code == 200
