"""Reading agreements, the acceptance step, declining."""
import json

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user

from app.agreements import bp, gate, guardian, services
from app.agreements.forms import AcceptForm, GuardianForm
from app.auth import qrlogin
from app.auth.phone import PhoneRefusal, forget_scanner, open_code, press, scanned_code
from app.auth.services import safe_next
from app.core.clock import db_now, today_local
from app.core.database import writes
from app.core.devices import channel_of, describe_browser
from app.core.htmx import go_to, render_page, wants_fragment
from app.core.qr import qr_data_uri
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
    if wants_fragment():  # loaded into the modal over the page
        return gate.ask_for_consent(original)
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
            services.check_acceptance(current_user, form.agreements.data or [], form.submission.data, today)
            if _is_minor(form, today):
                return _ask_guardian(form, original, today)
            services.record_acceptance(
                current_user, form.agreements.data or [], submission=form.submission.data, today=today,
                now=db_now(), ip=request.remote_addr or "",
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


def _is_minor(form, today):
    """Minors cannot accept alone. The age comes from what we know, or from the declared birth date
    (kept: the answer must not change on a retry)."""
    birth_date = current_user.birth_date or form.birth_date.data
    if birth_date is None:
        raise services.AgreementError("请填写你的出生日期", field="birth_date")
    if birth_date > today:
        raise services.AgreementError("出生日期不能晚于今天", field="birth_date")
    if current_user.birth_date is None:
        current_user.birth_date = birth_date
    return services.is_minor(birth_date, today)


def _ask_guardian(form, original, today):
    """The minor's page becomes a code for the guardian to scan, watched like a login code."""
    browser, system = describe_browser(request.user_agent.string)
    qr, token, nonce = guardian.request_approval(
        current_user, form.agreements.data or [], submission=form.submission.data, original=original,
        today=today, now=db_now(), ip=request.remote_addr or "", user_agent=request.user_agent.string,
        channel=channel_of(request.user_agent.string), browser=browser, os=system)
    db.session.commit()
    phone_url = current_app.config["SITE_URL"].rstrip("/") + url_for("agreements.guardian_phone", token=token)
    response = make_response(render_template(
        "agreements/guardian.html", qr=qr, state="pending", qr_image=qr_data_uri(phone_url),
        phone_url=phone_url, simulator=not current_app.config["WECHAT_APPID"]))
    response.set_cookie(_guardian_cookie(qr.public_id), nonce, max_age=current_app.config["QR_LOGIN_TTL_SECONDS"] * 2,
                        path="/agreements/guardian", httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _guardian_cookie(public_id):
    return f"qrg_{public_id}"


@bp.get("/agreements/guardian/<public_id>/status")
@login_required
def guardian_status(public_id):
    """The minor's page polls this while the guardian decides; approval continues the minor's request."""
    nonce = request.cookies.get(_guardian_cookie(public_id))
    qr = qrlogin.find_for_browser(public_id, nonce, purpose="guardian")
    if qr is None or qr.requester_user_id != current_user.id:
        return render_page("agreements/guardian.html", "guardian_status", qr=None, state="invalid")
    now = db_now()
    if qrlogin.needs_update(qr, now):
        qr, spent = qrlogin.settle(public_id, nonce, purpose="guardian", now=now)
        db.session.commit()
        if spent:
            session[gate.SESSION_KEY] = list(gate.in_force_ids(today_local()))
            _, _, original = guardian.request_details(qr)
            return _continue(gate.parse_original(json.dumps(original)))
    return render_page("agreements/guardian.html", "guardian_status", qr=qr, state=qr.status)


# The guardian's phone

def _guardian_page(message=None, status=200, **context):
    return render_template("agreements/guardian_phone.html", message=message, **context), status


@bp.get("/m/guardian/<token>")
@writes
def guardian_phone(token):
    """What the guardian's phone opens from the minor's code: WeChat authorization, then the form."""
    try:
        qr, authorize = open_code(token, "guardian", url_for("agreements.guardian_phone", token=token), db_now())
    except PhoneRefusal as refusal:
        return _guardian_page(refusal.message, refusal.status)
    return authorize or _guardian_form(qr, token, GuardianForm())


def _guardian_form(qr, token, form, status=200):
    minor, versions, _ = guardian.request_details(qr)
    return _guardian_page(status=status, qr=qr, token=token, form=form, minor=minor, versions=versions)


@bp.post("/m/guardian/<token>/approve")
@writes
def guardian_approve(token):
    form = GuardianForm()
    try:
        qr, openid = scanned_code(token, "guardian")
    except PhoneRefusal as refusal:
        return _guardian_page(refusal.message, refusal.status)
    if not form.validate():
        return _guardian_form(qr, token, form, 422)
    try:
        guardian.approve(qr, openid, name=form.name.data, id_number=form.id_number.data,
                         relationship=form.relationship.data, today=today_local(), now=db_now(),
                         ip=request.remote_addr or "", user_agent=request.user_agent.string)
    except guardian.GuardianDetailsError as error:
        db.session.rollback()
        for field, message in error.errors.items():
            form[field].errors.append(message)
        return _guardian_form(qr, token, form, 422)
    except services.AgreementError as error:
        db.session.rollback()
        return _guardian_page(error.message + "，请让孩子在电脑上重新发起", 409)
    except qrlogin.QRLoginError as error:
        db.session.rollback()
        return _guardian_page(error.message, 409)
    db.session.commit()
    forget_scanner()
    return _guardian_page("已同意，请让孩子回到电脑上继续操作", done=True)


@bp.post("/m/guardian/<token>/refuse")
@writes
def guardian_refuse(token):
    return press(token, "guardian", qrlogin.cancel, _guardian_page, "你已拒绝本次请求", db_now())


def _continue(original):
    """Back to what the user was doing: a GET is redirected to; a POST is sent again with its fields."""
    if original["method"] == "GET":
        return go_to(original["url"])
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
    return go_to(url_for("catalog.home"))
