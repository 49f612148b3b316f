"""The policyholder's claims: 我的理赔, 申请理赔 on a policy, a claim's page (its checklist and uploads while a
draft, then its timeline and deadline), and the claimant's moves: submit, supplement, withdraw, appeal."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import bridge, qrlogin
from app.auth.forms import ActionForm
from app.claims import bp, checklist, clock, documents, retention, services
from app.claims.forms import AppealForm, NewClaimForm, PhoneUploadForm, UploadForm
from app.claims.models import DECISIONS, STATUSES
from app.core.clock import db_now, today_local
from app.core.database import begin_write, writes
from app.core.domain import DomainError
from app.core.htmx import go_to, render_page
from app.core.parts import register
from app.core.routing import takes_files
from app.extensions import db
from app.orders import services as orders


@bp.get("/me/claims")
@login_required
def mine():
    return render_template("claims/mine.html", claims=services.claims_of(current_user),
                           policies=orders.policies_of(current_user), statuses=STATUSES, kinds=checklist.KINDS)


def _policy_or_404(number):
    policy = orders.find_policy(current_user, number)
    if policy is None:
        abort(404)
    return policy


def _render_new(policy, form, status=200, waiting=None):
    kind = checklist.kind_of(policy.product)
    return render_template("claims/new.html", policy=policy, form=form, kind=kind, kinds=checklist.KINDS,
                           asks_amount=kind in checklist.AMOUNT_KINDS, waiting_until=services.waiting_until(policy),
                           in_waiting=waiting, sum_insured=services.sum_insured(policy)), status


@bp.get("/policies/<number>/claims/new")
@login_required
def new(number):
    return _render_new(_policy_or_404(number), NewClaimForm(formdata=None, data={"event_date": today_local()}))


@bp.post("/policies/<number>/claims/new")
@login_required
@writes
def create(number):
    policy = _policy_or_404(number)
    form = NewClaimForm()
    if form.validate():
        try:
            claim = services.start(current_user, policy, event_date=form.event_date.data,
                                   description=form.description.data, amount_claimed_fen=form.amount.data,
                                   payee=form.payee(), reimbursed_elsewhere=form.reimbursed_elsewhere.data,
                                   accept_waiting=form.accept_waiting.data, today=today_local(), now=db_now())
        except DomainError as error:
            db.session.rollback()
            form[error.field].errors.append(error.message)
            return _render_new(policy, form, 422, waiting=error.field == "accept_waiting")
        db.session.commit()
        return redirect(url_for("claims.show", number=claim.number))
    return _render_new(policy, form, 422)


def _claim_or_404(number):
    claim = services.find(current_user, number)
    if claim is None:
        abort(404)
    return claim


def _render(claim, status=200, upload=None, appeal=None, error=None, block="content"):
    now = db_now()
    items = services.checklist_of(claim)
    uploading = claim.status == "draft" or claim.status == "awaiting_supplement"
    upload_items = claim.requested_items if claim.status == "awaiting_supplement" else items
    return render_page(
        "claims/show.html", block, status, claim=claim, policy=claim.policy, items=items,
        by_item=services.documents_by_item(claim), label=checklist.label, item_help=checklist.ITEMS,
        precheck=services.precheck(claim) if claim.status == "draft" else None, uploading=uploading,
        upload=upload or UploadForm(formdata=None).for_items(upload_items), upload_items=upload_items,
        appeal=appeal or AppealForm(formdata=None), action=ActionForm(), error=error, statuses=STATUSES,
        decisions=DECISIONS, reasons=services.REASONS, kinds=checklist.KINDS,
        deadline=clock.deadline(claim, now), paused_left=clock.remaining_when_paused(claim), now=now)


@bp.get("/claims/<number>")
@login_required
def show(number):
    return _render(_claim_or_404(number))


UPLOAD_LIMIT = 10 * documents.MAX_FILE_BYTES  # one request: a few photos at once


def _accepted(files):
    """Each file checked and re-encoded (slow: before any lock): [(name, Accepted)], [refusal messages]."""
    accepted, refused = [], []
    for upload_file in files:
        try:
            accepted.append((upload_file.filename or "",
                             documents.accept(upload_file.read(documents.MAX_FILE_BYTES + 1), upload_file.filename or "")))
        except DomainError as error:
            refused.append(error.message)
    return accepted, refused


@bp.post("/claims/<number>/documents")
@login_required
@takes_files(UPLOAD_LIMIT)
def upload(number):
    """Files for one checklist item: decoded first, then stored in one short write; for htmx the checklist
    block comes back, else the page. A refused file says why; the others are kept."""
    claim = _claim_or_404(number)
    form = UploadForm().for_items(_items_for(claim))
    if claim.status not in ("draft", "awaiting_supplement"):
        return _render(claim, 409, error="当前状态不能上传材料", block="checklist")
    if not form.validate():
        return _render(claim, 422, upload=form, block="checklist")
    accepted, refused = _accepted(form.files.data)
    if accepted:
        begin_write()
        claim = _claim_or_404(number)
        if claim.status not in ("draft", "awaiting_supplement"):
            return _render(claim, 409, error="当前状态不能上传材料", block="checklist")
        try:
            for name, document in accepted:
                documents.store(claim, form.item.data, document, original_name=name, source="desktop",
                                now=db_now(), supplement=claim.status == "awaiting_supplement")
        except DomainError as error:
            db.session.rollback()
            refused.append(error.message)
        else:
            db.session.commit()
            db.session.refresh(claim)
    if refused:
        form.files.errors.extend(refused)
        return _render(claim, 422, upload=form, block="checklist")
    if request.headers.get("HX-Request"):
        return _render(claim, block="checklist")
    return redirect(url_for("claims.show", number=number) + "#checklist")


def _own_document(claim, token):
    document = next((d for d in claim.documents if d.token == token), None)
    if document is None:
        abort(404)
    return document


@bp.get("/claims/<number>/documents/<token>")
@login_required
def document(number, token):
    return documents.response(_own_document(_claim_or_404(number), token))


@bp.post("/claims/<number>/documents/<token>/delete")
@login_required
@writes
def delete_document(number, token):
    """A document taken back before it is sent (a draft's, or a supplement not yet sent)."""
    claim = _claim_or_404(number)
    document = _own_document(claim, token)
    if claim.status == "draft" or (claim.status == "awaiting_supplement" and document.supplement):
        db.session.delete(document)
        db.session.commit()
        db.session.refresh(claim)
        if request.headers.get("HX-Request"):
            return _render(claim, block="checklist")
        return redirect(url_for("claims.show", number=number) + "#checklist")
    return _render(claim, 409, error="已提交的材料不能删除", block="checklist")


def _move(number, move, done):
    claim = _claim_or_404(number)
    try:
        move(claim)
    except DomainError as error:
        db.session.rollback()
        return _render(_claim_or_404(number), 422, error=error.message)
    db.session.commit()
    flash(done, "info")
    return redirect(url_for("claims.show", number=number))


@bp.post("/claims/<number>/submit")
@login_required
@writes
def submit(number):
    return _move(number, lambda claim: services.submit(claim, db_now()), "理赔申请已提交，保险公司将在30日内作出核定")


@bp.post("/claims/<number>/supplied")
@login_required
@writes
def supplied(number):
    return _move(number, lambda claim: services.supplied(claim, db_now()), "补充材料已提交，恢复审核计时")


@bp.post("/claims/<number>/withdraw")
@login_required
@writes
def withdraw(number):
    return _move(number, lambda claim: services.withdraw(claim, db_now()), "理赔申请已撤回")


@bp.post("/claims/<number>/appeal")
@login_required
@writes
def appeal(number):
    form = AppealForm()
    if not form.validate():
        return _render(_claim_or_404(number), 422, appeal=form)
    return _move(number, lambda claim: services.appeal(claim, form.reason.data, db_now()),
                 "复核申请已受理，将由另一位审核人员重新审核")


@register(bp, "policy_actions", "claims/policy_actions.html")
def policy_actions(policy, user):
    """申请理赔 on a policy page (and the policy's claims)."""
    return {"policy": policy, "claims": [c for c in services.claims_of(user) if c.policy_id == policy.id]}


# 用手机拍照上传: the QR bridge, for this account's own WeChat only; each batch of photos lands on the claim
# and on the desktop's list as it arrives (the code stays open while the phone keeps uploading).

PHONE_SESSION_SECONDS = 15 * 60


def _uploading_claim(qr):
    claim = services.by_number(qr.payload)
    if claim is None or claim.user_id != qr.requester_user_id or claim.status not in ("draft", "awaiting_supplement"):
        raise services.ClaimError("这份理赔当前不能上传材料，请回到电脑上查看", None)
    return claim


def _items_for(claim):
    return claim.requested_items if claim.status == "awaiting_supplement" else services.checklist_of(claim)


def _photos_from_phone(qr, openid, form, now):
    """The phone's batch (checked and re-encoded already: form.prepared), stored on the claim."""
    accepted, refused = form.prepared
    if refused:
        raise services.ClaimError("；".join(refused), "files")
    qrlogin.use_requester(qr, openid, now, keep_open_seconds=PHONE_SESSION_SECONDS)
    claim = _uploading_claim(qr)
    if form.item.data not in _items_for(claim):
        raise services.ClaimError("请选择材料类型", "item")
    for name, document in accepted:
        documents.store(claim, form.item.data, document, original_name=name or "手机照片.jpg", source="phone",
                        now=now, supplement=claim.status == "awaiting_supplement")
    return {"count": len(accepted)}


def _phone_context(qr):
    claim = services.by_number(qr.payload)
    if claim is None:
        return {"claim": None, "items": []}
    return {"claim": claim, "items": [(item, checklist.label(item)) for item in _items_for(claim)]}


PHOTOS = bridge.Bridge(
    purpose="claim_photos", blueprint="claims", name="photos", poll_prefix="/claims/photos", cookie_path="/claims",
    phone_prefix="/m/claim-photos", opener="requester", repeat=True, form=PhoneUploadForm,
    prepare=lambda form: _accepted(form.files.data), max_upload=UPLOAD_LIMIT,
    confirm=_photos_from_phone, spent=lambda qr, now: go_to(url_for("claims.show", number=qr.payload)),
    desktop_template="claims/phone_upload.html", status_block="photos_status", status_id="photos-status",
    texts={"pending": ("请用手机微信扫码", "请使用本账号绑定的微信扫描，二维码 2 分钟内有效。", None),
           "scanned": ("手机已连接", "在手机上拍照上传，照片会出现在下方。", None),
           "confirmed": ("手机已连接", "", None),
           "cancelled": ("手机上已结束上传", "", "返回理赔"),
           "cancelled:not_requester": ("请用本账号绑定的微信扫码", "其他微信不能为这份理赔上传材料。", "重新获取二维码"),
           "expired": ("二维码已过期", "", "重新获取二维码"),
           "invalid": ("二维码已失效", "", "返回理赔")},
    retry=lambda qr, state: url_for("claims.show", number=qr.payload) if qr is not None else url_for("claims.mine"),
    noscript_label="刷新查看已上传的照片", simulator_label="在本机模拟手机扫码上传",
    share_label="在手机上不能扫自己屏幕上的码：复制下面的链接，在本账号绑定的微信中打开。",
    phone_title="拍照上传理赔材料", ask_template="claims/phone_ask.html", fields_template="claims/phone_fields.html",
    confirm_label="上传", cancel_label="上传完毕", phone_context=_phone_context,
    desktop_context=lambda qr: {"claim": services.find(current_user, qr.payload), "label": checklist.label},
    done={"confirm": "已上传 {count} 份，可以继续拍照上传", "cancel": "上传已结束，请回到电脑上查看并提交"})
bridge.register(bp, PHOTOS)


@bp.post("/claims/<number>/phone")
@login_required
@writes
def phone(number):
    claim = _claim_or_404(number)
    if claim.status not in ("draft", "awaiting_supplement"):
        flash("当前状态不能上传材料", "error")
        return redirect(url_for("claims.show", number=number))
    qr, token, nonce = bridge.start(PHOTOS, next_url=url_for("claims.show", number=number), requester=current_user,
                                    payload=claim.number)
    db.session.commit()
    return bridge.desktop_page(PHOTOS, qr, token, nonce)


@bp.get("/claims/<number>/received")
@login_required
def received(number):
    """The desktop's live list while the phone uploads (htmx polls it)."""
    claim = _claim_or_404(number)
    return render_page("claims/phone_upload.html", "received", claim=claim, label=checklist.label)


@register(bp, "my_data", "claims/my_data.html")
def my_data(user):
    """我的数据: each claim's documents, and how long they are kept."""
    claims = [claim for claim in services.claims_of(user) if claim.documents or claim.status != "draft"]
    if not claims:
        return None
    return {"claims": [(claim, retention.kept_until(claim.policy)) for claim in claims], "label": checklist.label,
            "statuses": STATUSES}
