"""Reading agreements, the acceptance step, declining."""
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from app.agreements import bp, gate, services
from app.agreements.forms import AcceptForm
from app.auth.services import safe_next
from app.core.clock import age_on, today_local, utcnow
from app.core.database import writes
from app.core.devices import channel_of
from app.core.htmx import wants_fragment
from app.extensions import db


@bp.get("/agreements/<kind>")
def read(kind):
    """The version in force, or ``?version=`` any published one, with the list of versions."""
    agreement = services.get_agreement(kind)
    today = today_local()
    if agreement is None:
        abort(404)
    versions = services.published_versions(agreement, today)
    wanted = request.args.get("version")
    version = (next((v for v in versions if v.version == wanted), None) if wanted
               else services.effective_version(agreement, today))
    if version is None:
        abort(404)
    return render_template("agreements/read.html", agreement=agreement, version=version, versions=versions,
                           in_force=services.effective_version(agreement, today), today=today,
                           body=services.render_markdown(version.body))


@bp.get("/agreements/accept")
@login_required
def accept():
    """The acceptance step as a page (without JavaScript, or after login)."""
    original = {"method": "GET", "url": safe_next(request.args.get("next")), "fields": []}
    if not services.pending_agreements(current_user, today_local()):
        return redirect(original["url"])
    return render_template("agreements/accept.html", **gate.gate_context(original))


@bp.post("/agreements/accept")
@login_required
@writes
def accept_submit():
    form = AcceptForm()
    original = gate.parse_original(form.original.data)
    today = today_local()
    if form.validate():
        try:
            _check_age(form, today)
            services.record_acceptance(
                current_user, form.agreements.data or [], submission=form.submission.data, today=today,
                now=utcnow().replace(tzinfo=None), ip=request.remote_addr or "",
                user_agent=request.user_agent.string, channel=channel_of(request.user_agent.string))
        except services.AgreementError as error:
            (form[error.field].errors if error.field else form.form_errors).append(error.message)
        else:
            db.session.commit()
            session[gate.SESSION_KEY] = list(gate.in_force_ids(today))
            return _continue(original)
    db.session.rollback()
    # The whole page; in the modal, htmx picks its #gate (hx-select), errors and all.
    return render_template("agreements/accept.html", **gate.gate_context(original, form)), 422


def _check_age(form, today):
    """Minors cannot accept alone. The age comes from what we know, or from the declared birth date."""
    birth_date = current_user.birth_date or form.birth_date.data
    if birth_date is None:
        raise services.AgreementError("请填写你的出生日期", field="birth_date")
    if birth_date > today:
        raise services.AgreementError("出生日期不能晚于今天", field="birth_date")
    if current_user.birth_date is None:
        current_user.birth_date = birth_date
    if age_on(birth_date, today) < services.ADULT_AGE:
        db.session.commit()  # keep the declared birth date: the answer will not change on a retry
        raise services.AgreementError("你未满18周岁，需要由监护人同意后才能继续。请联系客服协助完成监护人确认。")


def _continue(original):
    """Back to what the user was doing: a GET is redirected to; a POST is sent again with its fields."""
    if original["method"] == "GET":
        if wants_fragment():
            return "", 200, {"HX-Redirect": original["url"]}
        return redirect(original["url"])
    html = render_template("agreements/continue.html", original=original)
    if wants_fragment():  # out of the modal: the page becomes the continue step, which sends itself
        return html, 200, {"HX-Retarget": "body", "HX-Reswap": "innerHTML", "HX-Reselect": "main"}
    return html


@bp.post("/agreements/decline")
@login_required
def decline():
    """不同意: signed out, with browsing still open."""
    logout_user()
    session.clear()
    flash("你未同意相关协议，已退出登录。你仍可以浏览保险产品和测算保费。", "info")
    if wants_fragment():
        return "", 200, {"HX-Redirect": url_for("catalog.home")}
    return redirect(url_for("catalog.home"))
