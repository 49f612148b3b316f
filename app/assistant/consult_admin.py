"""在线客服 in the back office (users.lookup, which 客服 holds): the inbox (waiting first, then mine, then the
others', each with how long it has waited), a consultation's page (the user by nickname, masked; the
conversation with 智能管家 it came with; the messages, polled) with 接入, 回复 (a canned reply and/or words of
one's own), 转接 and 结束; and the canned replies. The work is consult.py's, each action audited there."""
from flask import abort, redirect, render_template, request, url_for

from app.admin import auth as staff_auth
from app.admin import bp
from app.admin.access import requires, section
from app.assistant import consult
from app.assistant.consult_forms import CannedReplyForm, ConsultReplyForm, ConsultTransferForm
from app.assistant.models import CONSULT_STATES, CannedReply
from app.assistant.models import ROLES as CHAT_ROLES
from app.core.clock import db_now
from app.core.database import writes
from app.core.htmx import render_page, wants_fragment
from app.extensions import db

PERMISSION = consult.PERMISSION
POLL_SECONDS = 3

section("在线客服", "admin.consults", PERMISSION, position=55, pages=(
    "admin.consultation", "admin.consult_take", "admin.consult_reply", "admin.consult_transfer", "admin.consult_close",
    "admin.canned_replies", "admin.canned_reply", "admin.canned_reply_new", "admin.canned_reply_save",
    "admin.canned_reply_create"))

DONE = {"taken": "已接入，用户已看到客服接入的提示。", "replied": None, "transferred": "已转接，此后由该同事接待。",
        "closed": "本次咨询已结束，用户可以评价。"}


@bp.get("/consult")
@requires(PERMISSION)
def consults():
    """The inbox; its list polls (htmx) so a new consultation or a user's new message shows without reloading."""
    staff = staff_auth.current_staff()
    rows = consult.inbox(staff, db_now())
    return render_page("admin/consult/inbox.html", "inbox", staff=staff, rows=rows, counts=consult.counts(),
                       states=CONSULT_STATES, names=consult.names(row.consultation.staff_id for row in rows),
                       poll_seconds=POLL_SECONDS)


def _consultation(consult_id):
    found = consult.by_public_id(consult_id)
    if found is None:
        abort(404)
    return found


def _render(consultation, status=200, *, problem=None, message=None, reply_form=None, transfer_form=None):
    staff = staff_auth.current_staff()
    mine = consultation.status == "open" and consultation.staff_id == staff.id
    return render_page(
        "admin/consult/consultation.html", "messages", status, staff=staff, consultation=consultation,
        messages=consultation.messages, attached=consult.attached(consultation), chat_roles=CHAT_ROLES,
        user=consult.user_of(consultation), states=CONSULT_STATES, mine=mine, problem=problem, message=message,
        names=consult.names([consultation.staff_id, *(m.staff_id for m in consultation.messages)]),
        poll_seconds=POLL_SECONDS,
        reply_form=(reply_form or ConsultReplyForm(formdata=None)).offer(consult.canned_replies()),
        transfer_form=(transfer_form or ConsultTransferForm(formdata=None)).offer(consult.colleagues(staff)))


@bp.get("/consult/<consult_id>")
@requires(PERMISSION)
def consultation(consult_id):
    """The page; the poll (?poll=<status>/<staff>) gets the messages block, or a refresh of the whole page once
    the consultation has changed hands or ended."""
    consultation = _consultation(consult_id)
    shown = request.args.get("poll")
    if wants_fragment() and shown and shown != f"{consultation.status}/{consultation.staff_id or ''}":
        return "", 200, {"HX-Refresh": "true"}
    return _render(consultation, message=DONE.get(request.args.get("done", "")))


def _act(consult_id, done, act, form=None, form_name=None):
    """One action (its refusal on the form's field it names, 422, else the page's message, 409), then back to the
    page."""
    consultation = _consultation(consult_id)
    try:
        act(consultation, staff_auth.current_staff(), now=db_now(), ip=staff_auth.client_ip())
    except consult.ConsultError as error:
        db.session.rollback()
        consultation = _consultation(consult_id)
        if form is not None and error.field in form:
            form[error.field].errors.append(error.message)
            return _render(consultation, 422, **{form_name: form})
        return _render(consultation, 409, problem=error.message, **({form_name: form} if form else {}))
    db.session.commit()
    return redirect(url_for("admin.consultation", consult_id=consult_id, done=done) + "#messages")


@bp.post("/consult/<consult_id>/take")
@requires(PERMISSION)
@writes
def consult_take(consult_id):
    return _act(consult_id, "taken", consult.take)


@bp.post("/consult/<consult_id>/reply")
@requires(PERMISSION)
@writes
def consult_reply(consult_id):
    form = ConsultReplyForm().offer(consult.canned_replies())
    if not form.validate():
        return _render(_consultation(consult_id), 422, reply_form=form)
    chosen = consult.canned(form.canned.data) if form.canned.data else None
    return _act(consult_id, "replied", lambda consultation, staff, **when: consult.reply(
        consultation, staff, form.content.data or "", canned=chosen, **when), form, "reply_form")


@bp.post("/consult/<consult_id>/transfer")
@requires(PERMISSION)
@writes
def consult_transfer(consult_id):
    form = ConsultTransferForm().offer(consult.colleagues(staff_auth.current_staff()))
    if not form.validate():
        return _render(_consultation(consult_id), 422, transfer_form=form)
    return _act(consult_id, "transferred", lambda consultation, staff, **when: consult.transfer(
        consultation, staff, form.to.data, **when), form, "transfer_form")


@bp.post("/consult/<consult_id>/close")
@requires(PERMISSION)
@writes
def consult_close(consult_id):
    return _act(consult_id, "closed", consult.staff_close)


# Canned replies

@bp.get("/consult/canned")
@requires(PERMISSION)
def canned_replies():
    message = {"saved": "常用回复已保存。"}.get(request.args.get("done", ""))
    return render_template("admin/consult/canned.html", staff=staff_auth.current_staff(),
                           replies=consult.canned_replies(), message=message)


def _render_canned(form, row=None, status=200):
    return render_template("admin/consult/canned_form.html", staff=staff_auth.current_staff(), form=form,
                           row=row), status


@bp.get("/consult/canned/new")
@requires(PERMISSION)
def canned_reply_new():
    return _render_canned(CannedReplyForm(formdata=None))


@bp.post("/consult/canned/new")
@requires(PERMISSION)
@writes
def canned_reply_create():
    return _save_canned(None)


def _canned(reply_id):
    row = db.session.get(CannedReply, reply_id)
    if row is None:
        abort(404)
    return row


@bp.get("/consult/canned/<int:reply_id>")
@requires(PERMISSION)
def canned_reply(reply_id):
    row = _canned(reply_id)
    return _render_canned(CannedReplyForm(formdata=None, obj=row), row)


@bp.post("/consult/canned/<int:reply_id>")
@requires(PERMISSION)
@writes
def canned_reply_save(reply_id):
    return _save_canned(_canned(reply_id))


def _save_canned(row):
    form = CannedReplyForm()
    if not form.validate():
        return _render_canned(form, row, 422)
    try:
        consult.save_canned(row, staff_auth.current_staff(), form.title.data, form.body.data, now=db_now(),
                            ip=staff_auth.client_ip())
    except consult.ConsultError as error:
        db.session.rollback()
        form[error.field].errors.append(error.message)
        return _render_canned(form, row if row is None else _canned(row.id), 422)
    db.session.commit()
    return redirect(url_for("admin.canned_replies", done="saved"))
