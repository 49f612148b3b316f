"""理赔 in the back office (claims.handle): the queue by the deadline that applies, a claim's page (the policy,
the claimant masked, the checklist with its documents, the timeline, the deadline) and its actions: 受理, 要求补充
材料 (one request), 录入核定结果, 支付; a claim's documents served through documents.response, each opening on
the audit log; a product's own checklist. The work itself is admin_claims.py's."""
from flask import abort, redirect, render_template, request, url_for

from app.admin import auth as staff_auth
from app.admin import bp
from app.admin.access import requires, section
from app.catalog.models import Product
from app.claims import admin_claims, checklist, clock, services
from app.claims.admin_forms import ChecklistForm, ClaimQueueForm, DecisionForm, PayForm, SupplementForm
from app.claims.models import DECISIONS, PAYOUT_METHODS, STATUSES
from app.claims.payout import payout_of
from app.core.clock import db_now
from app.core.database import writes
from app.core.htmx import render_page
from app.core.routing import page_number
from app.extensions import db
from app.orders.services import plan_of

section("理赔", "admin.claims", "claims.handle", position=60, pages=(
    "admin.claim", "admin.claim_take", "admin.claim_supplement", "admin.claim_decide", "admin.claim_pay",
    "admin.claim_checklists", "admin.claim_checklist", "admin.claim_checklist_save"))

PAGE_SIZE = 20

# What the claim's page says after an action (?done=…).
DONE = {"taken": "已受理，本案由你处理。", "requested": "已一次性告知申请人需要补充的材料，审核计时暂停，补齐后恢复。",
        "decided": "核定结果已录入，申请人已收到通知。", "paid": "赔款已支付，申请人已收到到账通知。",
        "transferring": "已向微信支付发起转账，确认到账后自动更新，申请人会收到通知。",
        "failed": "微信零钱转账失败，原因见“支付”。可以再次转账，或由保险公司转账到银行卡后登记。"}
ACTORS = {"user": "申请人", "system": "系统"}


@bp.get("/claims")
@requires("claims.handle")
def claims():
    """The open claims, the nearest deadline first (overdue ones lead), filtered; htmx swaps the results."""
    form = ClaimQueueForm()
    form.validate()

    def ok(field):
        return field.data if not field.errors and field.data not in ("", None) else None

    staff, now = staff_auth.current_staff(), db_now()
    query = admin_claims.queue(staff, now, status=ok(form.status), who=ok(form.who), overdue=bool(ok(form.overdue)),
                               number=ok(form.number))
    found = db.paginate(query, page=page_number(request.args.get("page")), per_page=PAGE_SIZE, error_out=False)
    per_state, late = admin_claims.counts(now)
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_page("admin/claims/queue.html", "results", 422 if form.errors else 200, staff=staff, form=form,
                       found=found, rows=admin_claims.rows(found.items, now), args=args, per_state=per_state,
                       late=late, states=admin_claims.QUEUE_STATES, statuses=STATUSES,
                       names=admin_claims.names(claim.handler_id for claim in found.items))


# One claim

def _claim(number):
    claim = services.by_number(number)
    if claim is None:
        abort(404)
    return claim


def _actions(claim, staff):
    """Which of the page's actions the claim's state offers this staff member."""
    excluded = claim.appealed_at is not None and claim.appeal_excluded_id == staff.id
    return {"excluded": excluded,
            "may_take": not excluded and (claim.status == "submitted"
                                          or (claim.status == "reviewing" and claim.handler_id is None)),
            "may_handle": not excluded and claim.status == "reviewing" and claim.handler_id is not None,
            "may_pay": claim.status == "closed" and claim.decision in admin_claims.PAYABLE}


FORM_SHOWN = {"supplement_form": "may_handle", "decision_form": "may_handle", "pay_form": "may_pay"}


def _render_claim(claim, status=200, *, problem=None, message=None, **forms):
    staff, now = staff_auth.current_staff(), db_now()
    items = admin_claims.checklist_items(claim)
    return render_template(
        "admin/claims/claim.html", staff=staff, claim=claim, now=now, problem=problem, message=message,
        policy=claim.policy, plan=plan_of(claim.policy), sum_insured=services.sum_insured(claim.policy),
        parties=admin_claims.masked_parties(claim), details=claim.details, kinds=checklist.KINDS,
        deadline=clock.deadline(claim, now), days_left=admin_claims.days_left(claim, now),
        items=items, names=admin_claims.people(claim), statuses=STATUSES,
        decisions=DECISIONS, reasons=services.REASONS, actors=ACTORS, **_actions(claim, staff),
        payout=payout_of(claim.id), methods=PAYOUT_METHODS, payout_states=admin_claims.PAYOUT_STATES,
        supplement_form=forms.get("supplement_form") or SupplementForm(
            formdata=None, prefix="supplement", data={"items": [i.key for i in items if i.required and not i.documents]}),
        decision_form=forms.get("decision_form") or DecisionForm(formdata=None, prefix="decision"),
        pay_form=forms.get("pay_form") or PayForm(formdata=None, prefix="pay", data={
            "method": (claim.details.get("payee") or {}).get("method", "bank")})), status


@bp.get("/claims/<number>")
@requires("claims.handle")
def claim(number):
    return _render_claim(_claim(number), message=DONE.get(request.args.get("done", "")))


def _act(number, done, act, form=None, form_name=None):
    """Runs one action on the claim (its refusal on the form's field it names, 422, else, or when the claim's state
    no longer shows the form, the page's message, 409), then back to the claim's page, saying ``done`` (or what
    the action returns)."""
    claim = _claim(number)
    try:
        outcome = act(claim, staff_auth.current_staff(), now=db_now(), ip=staff_auth.client_ip())
    except services.ClaimError as error:
        db.session.rollback()
        claim = _claim(number)
        shown = form is not None and _actions(claim, staff_auth.current_staff())[FORM_SHOWN[form_name]]
        if shown and error.field in form:
            form[error.field].errors.append(error.message)
            return _render_claim(claim, 422, **{form_name: form})
        return _render_claim(claim, 409, problem=error.message, **({form_name: form} if form else {}))
    db.session.commit()
    return redirect(url_for("admin.claim", number=claim.number, done=outcome or done))


@bp.post("/claims/<number>/take")
@requires("claims.handle")
@writes
def claim_take(number):
    """受理: a new claim, or an appealed one (never by whoever refused it)."""
    return _act(number, "taken", admin_claims.take)


@bp.post("/claims/<number>/supplement")
@requires("claims.handle")
@writes
def claim_supplement(number):
    form = SupplementForm(prefix="supplement")
    if not form.validate():
        return _render_claim(_claim(number), 422, supplement_form=form)
    return _act(number, "requested", lambda claim, staff, **when: admin_claims.request_supplement(
        claim, staff, form.items.data or [], form.note.data or "", **when), form, "supplement_form")


@bp.post("/claims/<number>/decision")
@requires("claims.handle")
@writes
def claim_decide(number):
    form = DecisionForm(prefix="decision")
    if not form.validate():
        return _render_claim(_claim(number), 422, decision_form=form)
    return _act(number, "decided", lambda claim, staff, **when: admin_claims.decide(
        claim, staff, decision=form.decision.data, approved_fen=form.approved.data, reason_code=form.reason_code.data,
        reason_text=form.reason_text.data or "", clause=form.clause.data or "", **when), form, "decision_form")


@bp.post("/claims/<number>/pay")
@requires("claims.handle")
def claim_pay(number):
    """支付: not @writes, so that no write lock is held while WeChat Pay is asked (payout.pay_out takes it for
    each of its steps)."""
    form = PayForm(prefix="pay")
    if not form.validate():
        return _render_claim(_claim(number), 422, pay_form=form)

    def pay(claim, staff, **when):
        payout = admin_claims.pay(claim, staff, form.method.data, **when)
        return payout.status if payout.status in ("paid", "failed") else "transferring"
    return _act(number, "paid", pay, form, "pay_form")


@bp.get("/claims/<number>/documents/<token>")
@requires("claims.handle")
@writes
def claim_document(number, token):
    """One document's bytes (never cached), for the handler's viewer; the opening is on the audit log."""
    from app.claims import documents

    claim = _claim(number)
    found = admin_claims.document(claim, token)
    if found is None:
        abort(404)
    admin_claims.document_viewed(claim, found, staff_auth.current_staff(), ip=staff_auth.client_ip())
    db.session.commit()
    return documents.response(found)


# A product's own checklist

@bp.get("/claims/checklists")
@requires("claims.handle")
def claim_checklists():
    return render_template("admin/claims/checklists.html", staff=staff_auth.current_staff(),
                           products=admin_claims.products(), kinds=checklist.KINDS, kind_of=checklist.kind_of,
                           label=checklist.label, always=checklist.EVERY_CLAIM)


def _render_checklist(product, form=None, status=200, message=None):
    items = checklist.product_items(product)
    return render_template("admin/claims/checklist.html", staff=staff_auth.current_staff(), product=product,
                           form=form or ChecklistForm(formdata=None, data={"items": items}), message=message,
                           own=admin_claims.own_checklist(product) is not None, kinds=checklist.KINDS,
                           kind=checklist.kind_of(product), default=checklist.DEFAULTS[checklist.kind_of(product)],
                           items=checklist.ITEMS, always=checklist.EVERY_CLAIM, label=checklist.label), status


@bp.get("/claims/checklists/<int:product_id>")
@requires("claims.handle")
def claim_checklist(product_id):
    message = {"saved": "材料清单已保存，此后提交的理赔按新清单准备材料。", "unchanged": "材料清单没有变化。"}.get(
        request.args.get("done", ""))
    return _render_checklist(db.get_or_404(Product, product_id), message=message)


@bp.post("/claims/checklists/<int:product_id>")
@requires("claims.handle")
@writes
def claim_checklist_save(product_id):
    """Saves the ticked items; the form's 恢复默认清单 button goes back to the claim kind's default."""
    product = db.get_or_404(Product, product_id)
    form = ChecklistForm()
    if not form.validate():
        return _render_checklist(product, form, 422)
    reset = bool(request.form.get("reset"))
    try:
        changed = admin_claims.save_checklist(product, staff_auth.current_staff(), None if reset else form.items.data or [],
                                              now=db_now(), ip=staff_auth.client_ip())
    except services.ClaimError as error:
        db.session.rollback()
        form[error.field].errors.append(error.message)
        return _render_checklist(db.get_or_404(Product, product_id), form, 422)
    db.session.commit()
    return redirect(url_for("admin.claim_checklist", product_id=product.id, done="saved" if changed else "unchanged"))

