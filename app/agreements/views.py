"""Reading agreements, the acceptance step, declining."""
import json

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user

from app.agreements import bp, gate, guardian, services
from app.agreements.forms import AcceptForm, GuardianForm
from app.auth import bridge
from app.auth.services import safe_next
from app.core.clock import db_now, today_local
from app.core.database import writes
from app.core.devices import channel_of
from app.core.htmx import go_to, wants_fragment
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
    """The minor's page becomes a code for the guardian to scan (the guardian bridge)."""
    payload = guardian.approval_request(
        current_user, form.agreements.data or [], submission=form.submission.data, original=original,
        today=today, ip=request.remote_addr or "", user_agent=request.user_agent.string,
        channel=channel_of(request.user_agent.string))
    qr, token, nonce = bridge.start(GUARDIAN, next_url=original["url"], requester=current_user, payload=payload)
    db.session.commit()
    return bridge.desktop_page(GUARDIAN, qr, token, nonce)


def _approve(qr, openid, form, now):
    """The guardian pressed 确认同意 with their details (see guardian.approve)."""
    try:
        guardian.approve(qr, openid, name=form.name.data, id_number=form.id_number.data,
                         relationship=form.relationship.data, today=today_local(), now=now,
                         ip=request.remote_addr or "", user_agent=request.user_agent.string)
    except guardian.GuardianDetailsError:
        raise
    except services.AgreementError as error:  # the versions changed meanwhile: the minor starts again
        raise services.AgreementError(error.message + "，请让孩子在电脑上重新发起") from error


def _approved(qr, now):
    """The guardian approved: the minor goes on with what they were doing."""
    db.session.commit()
    session[gate.SESSION_KEY] = list(gate.in_force_ids(today_local()))
    _, _, original = guardian.request_details(qr)
    return _continue(gate.parse_original(json.dumps(original)))


def _restart(qr, state):
    if state == "consumed":
        return qr.next_url
    return url_for("agreements.accept", next=qr.next_url if qr is not None else None)


def _guardian_context(qr):
    minor, versions, _ = guardian.request_details(qr)
    return {"minor": minor, "versions": versions}


GUARDIAN = bridge.Bridge(
    purpose="guardian", blueprint="agreements", name="guardian", poll_prefix="/agreements/guardian",
    cookie_path="/agreements/guardian", phone_prefix="/m/guardian", opener="not_requester",
    confirm=_approve, spent=_approved, form=GuardianForm,
    desktop_template="agreements/guardian.html", status_block="guardian_status", status_id="guardian-status",
    texts={"pending": ("等待监护人扫码", "二维码 2 分钟内有效。", None),
           "scanned": ("{nickname} 已扫码，正在手机上确认", "", None),
           "confirmed": ("监护人已同意，正在继续…", "", None),
           "cancelled": ("监护人已拒绝", "", "重新发起"),
           "cancelled:self": ("监护人不能是你自己", "", "重新发起"),
           "expired": ("二维码已过期", "", "重新发起"),
           "consumed": ("监护人已同意", "", "继续"),
           "invalid": ("二维码已失效", "", "重新发起")},
    retry=_restart, noscript_label="监护人已同意，继续", simulator_label="在本机模拟监护人扫码",
    share_label="在手机上不能扫自己屏幕上的码：复制下面的链接发给监护人，请他们在自己的微信中打开。",
    phone_title="监护人同意", ask_template="agreements/guardian_ask.html",
    fields_template="agreements/guardian_fields.html", phone_context=_guardian_context,
    confirm_label="确认同意", cancel_label="拒绝", words=("approve", "refuse"),
    done={"confirm": "已同意，请让孩子回到电脑上继续操作", "cancel": "你已拒绝本次请求"})
bridge.register(bp, GUARDIAN)


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
