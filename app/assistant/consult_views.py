"""在线客服, the user's side: /consult lists the user's consultations and starts one (from 智能管家's 转人工 with
?from=<conversation>, the conversation so far attached); a consultation's page shows its messages, takes new
ones, and polls its messages block every few seconds (the poll is how we know the user is on the page); once
closed by either side, the user rates it. The work is consult.py's."""
from flask import abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.assistant import bp, consult
from app.assistant.consult_forms import ConsultMessageForm, ConsultRatingForm, ConsultStartForm
from app.assistant.models import CONSULT_STATES
from app.auth.forms import ActionForm
from app.core.clock import db_now
from app.core.database import begin_write, writes
from app.core.htmx import render_page, wants_fragment
from app.extensions import db

POLL_SECONDS = 3
DONE = {"sent": None, "closed": "本次咨询已结束，欢迎为本次服务评价。", "rated": "感谢你的评价！"}


def _render_list(form, status=200, source=None):
    return render_template("consult/list.html", form=form, consultations=consult.consultations_of(current_user),
                           states=CONSULT_STATES, source=source, hours=consult.hours(), now=db_now()), status


@bp.get("/consult")
@login_required
def consult_list():
    """The user's consultations and a new one; from 智能管家 (?from=) the conversation goes with it."""
    source = consult.own_conversation(current_user, request.args.get("from", ""))
    form = ConsultStartForm(formdata=None, data={"source": source.public_id if source is not None else ""})
    return _render_list(form, source=source)


@bp.post("/consult")
@login_required
@writes
def consult_start():
    form = ConsultStartForm()
    source = consult.own_conversation(current_user, form.source.data) if form.source.data else None
    if not form.validate():
        return _render_list(form, 422, source=source)
    consultation = consult.start(current_user, form.content.data, conversation=source, now=db_now())
    db.session.commit()
    return redirect(url_for("assistant.consult_page", consult_id=consultation.public_id))


def _mine(consult_id):
    consultation = consult.find(current_user, consult_id)
    if consultation is None:
        abort(404)
    return consultation


def _render(consultation, status=200, *, message_form=None, rating_form=None, message=None, problem=None):
    now = db_now()
    hours = consult.hours()
    return render_page(
        "consult/page.html", "messages", status, consultation=consultation, messages=consultation.messages,
        states=CONSULT_STATES, hours=hours, in_hours=hours.open_at(now), next_opening=hours.next_opening(now),
        poll_seconds=POLL_SECONDS, message=message, problem=problem,
        message_form=message_form or ConsultMessageForm(formdata=None),
        rating_form=rating_form or ConsultRatingForm(formdata=None), close_form=ActionForm(formdata=None))


@bp.get("/consult/<consult_id>")
@login_required
def consult_page(consult_id):
    """The page; htmx's poll (?poll=<the status the page shows>) gets the messages block, or, when the status has
    changed (taken, closed), a refresh of the whole page. Either way the user is on the page: user_seen_at."""
    consultation, now = _mine(consult_id), db_now()
    if consult.stale(consultation, now):
        begin_write()
        consultation = _mine(consult_id)
        consult.seen(consultation, now)
        db.session.commit()
    shown = request.args.get("poll")
    if wants_fragment() and shown and shown != consultation.status:
        response = make_response("", 200)
        response.headers["HX-Refresh"] = "true"
        return response
    return _render(consultation, message=DONE.get(request.args.get("done", "")))


@bp.post("/consult/<consult_id>")
@login_required
@writes
def consult_send(consult_id):
    consultation = _mine(consult_id)
    form = ConsultMessageForm()
    if not form.validate():
        return _render(consultation, 422, message_form=form)
    try:
        consult.send(consultation, current_user, form.content.data, now=db_now())
    except consult.ConsultError as error:  # closed meanwhile: the page no longer has the form
        db.session.rollback()
        return _render(_mine(consult_id), 409, problem=error.message)
    db.session.commit()
    return redirect(url_for("assistant.consult_page", consult_id=consult_id) + "#messages")


@bp.post("/consult/<consult_id>/close")
@login_required
@writes
def consult_close(consult_id):
    consultation = _mine(consult_id)
    consult.user_close(consultation, current_user, now=db_now())
    db.session.commit()
    return redirect(url_for("assistant.consult_page", consult_id=consult_id, done="closed"))


@bp.post("/consult/<consult_id>/rating")
@login_required
@writes
def consult_rate(consult_id):
    consultation = _mine(consult_id)
    form = ConsultRatingForm()
    if not form.validate():
        return _render(consultation, 422, rating_form=form)
    try:
        consult.rate(consultation, current_user, int(form.rating.data), form.comment.data, now=db_now())
    except consult.ConsultError as error:  # not closed yet, or rated already: the page has no form to show it on
        db.session.rollback()
        return _render(_mine(consult_id), 409, problem=error.message)
    db.session.commit()
    return redirect(url_for("assistant.consult_page", consult_id=consult_id, done="rated"))
