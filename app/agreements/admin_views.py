"""协议管理 (合规): every agreement with all its versions; a new version written as a draft and edited, previewed
inside the back office as users will see it (the agreement's page, and the step that asks a user who accepted the
previous version to accept this one), submitted, then approved and published by a colleague who wrote none of it
or sent back with a reason (versions.py). Drafting needs agreements.edit, approving agreements.publish."""
import json

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select

from app.admin import audit, bp
from app.admin import auth as staff_auth
from app.admin.access import requires, section
from app.admin.models import AdminStaff
from app.agreements import services, versions
from app.agreements.admin_forms import ApproveForm, ReturnForm, VersionForm
from app.agreements.forms import AcceptForm
from app.agreements.models import VERSION_STATES
from app.core.clock import db_now, today_local
from app.core.database import writes
from app.core.domain import DomainError
from app.core.htmx import go_to
from app.extensions import db

section("协议管理", "admin.agreements", "agreements.edit", position=40,
        pages=("admin.agreement_version_new", "admin.agreement_version_create", "admin.agreement_version",
               "admin.agreement_version_edit", "admin.agreement_version_update", "admin.agreement_version_submit",
               "admin.agreement_version_approve", "admin.agreement_version_return"))

DONE = {"drafted": "草稿已保存。预览无误后请提交审核。", "edited": "草稿已修改。", "unchanged": "没有改动。",
        "submitted": "已提交审核，须由另一位同事审核通过后才会发布。", "approved": "已审核通过并发布。",
        "returned": "已退回，起草人修改后可重新提交。"}


def _agreement(agreement_id):
    agreement = versions.get_agreement(agreement_id)
    if agreement is None:
        abort(404)
    return agreement


def _version(version_id):
    version = versions.get(version_id)
    if version is None:
        abort(404)
    return version


@bp.get("/agreements")
@requires("agreements.edit")
def agreements():
    today = today_local()
    return render_template("admin/agreements/list.html", staff=staff_auth.current_staff(), today=today,
                           agreements=versions.overview(today), standings=versions.STANDINGS)


# Writing a draft

def _render_form(agreement, form, version=None, status=200, problem=None):
    today = today_local()
    return render_template("admin/agreements/version_form.html", staff=staff_auth.current_staff(), agreement=agreement,
                           form=form, version=version, today=today, latest=next(iter(agreement.versions), None),
                           in_force=services.effective_version(agreement, today), problem=problem), status


@bp.get("/agreements/<int:agreement_id>/versions/new")
@requires("agreements.edit")
def agreement_version_new(agreement_id):
    """A new version starts from the text of the newest published one (Agreement.versions: newest first)."""
    agreement = _agreement(agreement_id)
    latest = next(iter(agreement.versions), None)
    return _render_form(agreement, VersionForm(formdata=None, data={"body": latest.body if latest else ""}))


@bp.post("/agreements/<int:agreement_id>/versions/new")
@requires("agreements.edit")
@writes
def agreement_version_create(agreement_id):
    agreement = _agreement(agreement_id)
    form = VersionForm()
    if form.validate():
        try:
            version = versions.create_draft(
                agreement, staff_auth.current_staff(), version=form.version.data, released_on=form.released_on.data,
                effective_on=form.effective_on.data, summary=form.summary.data, body=form.body.data,
                today=today_local(), now=db_now(), ip=staff_auth.client_ip())
        except services.AgreementError as error:
            db.session.rollback()
            form[error.field].errors.append(error.message)
        else:
            db.session.commit()
            return redirect(url_for("admin.agreement_version", version_id=version.id, done="drafted"))
    return _render_form(_agreement(agreement_id), form, status=422)


@bp.get("/agreements/versions/<int:version_id>/edit")
@requires("agreements.edit")
def agreement_version_edit(version_id):
    version = _version(version_id)
    if version.state != "draft":
        return redirect(url_for("admin.agreement_version", version_id=version.id))
    return _render_form(version.agreement, VersionForm(formdata=None, obj=version), version)


@bp.post("/agreements/versions/<int:version_id>/edit")
@requires("agreements.edit")
@writes
def agreement_version_update(version_id):
    version = _version(version_id)
    form = VersionForm()
    if form.validate():
        try:
            changed = versions.update_draft(
                version, staff_auth.current_staff(), label=form.version.data, released_on=form.released_on.data,
                effective_on=form.effective_on.data, summary=form.summary.data, body=form.body.data,
                today=today_local(), now=db_now(), ip=staff_auth.client_ip())
        except versions.VersionChanged as error:
            db.session.rollback()
            version = _version(version_id)
            return _render_form(version.agreement, form, version, 409, problem=error.message)
        except services.AgreementError as error:
            db.session.rollback()
            form[error.field].errors.append(error.message)
        else:
            db.session.commit()
            return redirect(url_for("admin.agreement_version", version_id=version.id,
                                    done="edited" if changed else "unchanged"))
    version = _version(version_id)
    return _render_form(version.agreement, form, version, 422)


# One version: its facts and history, and the step its state allows

def _render_version(version, status=200, approve_form=None, return_form=None, problem=None):
    staff, today = staff_auth.current_staff(), today_local()
    people = {s.id: s for s in db.session.scalars(select(AdminStaff).where(
        AdminStaff.id.in_([i for i in (version.prepared_by_id, version.reviewed_by_id) if i is not None])))}
    return render_template(
        "admin/agreements/version.html", staff=staff, version=version, agreement=version.agreement,
        standing=versions.standing(version, services.effective_version(version.agreement, today), today),
        standings=versions.STANDINGS, states=VERSION_STATES, people=people, today=today,
        may_review=versions.may_review(version, staff), returned=versions.last_return(version),
        events=versions.history(version), actions=audit.ACTIONS, diff_of=audit.diff_of,
        body_digest=versions.digest(version.body), message=DONE.get(request.args.get("done")), problem=problem,
        approve_form=approve_form or ApproveForm(formdata=None, prefix="approve"),
        return_form=return_form or ReturnForm(formdata=None, prefix="return")), status


@bp.get("/agreements/versions/<int:version_id>")
@requires("agreements.edit")
def agreement_version(version_id):
    return _render_version(_version(version_id))


def _step(version_id, step, done, form=None, form_name=None):
    """Runs one step of the review on the version (a DomainError is the page's message, 409), then back to it."""
    version = _version(version_id)
    try:
        step(version)
    except DomainError as error:
        db.session.rollback()
        return _render_version(_version(version_id), 409, problem=error.message, **({form_name: form} if form else {}))
    db.session.commit()
    return redirect(url_for("admin.agreement_version", version_id=version_id, done=done))


@bp.post("/agreements/versions/<int:version_id>/submit")
@requires("agreements.edit")
@writes
def agreement_version_submit(version_id):
    return _step(version_id, lambda version: versions.submit(
        version, staff_auth.current_staff(), today=today_local(), now=db_now(), ip=staff_auth.client_ip()), "submitted")


@bp.post("/agreements/versions/<int:version_id>/approve")
@requires("agreements.publish")
@writes
def agreement_version_approve(version_id):
    """Published: users read it from its release date and are asked to accept it from its effective date."""
    form = ApproveForm(prefix="approve")
    if not form.validate():
        return _render_version(_version(version_id), 422, approve_form=form)
    return _step(version_id, lambda version: versions.approve(
        version, staff_auth.current_staff(), reason=form.reason.data or "", today=today_local(), now=db_now(),
        ip=staff_auth.client_ip()), "approved", form, "approve_form")


@bp.post("/agreements/versions/<int:version_id>/return")
@requires("agreements.publish")
@writes
def agreement_version_return(version_id):
    form = ReturnForm(prefix="return")
    if not form.validate():
        return _render_version(_version(version_id), 422, return_form=form)
    return _step(version_id, lambda version: versions.send_back(
        version, staff_auth.current_staff(), reason=form.reason.data, now=db_now(), ip=staff_auth.client_ip()),
        "returned", form, "return_form")


# Previews: the users' own templates, rendered for a version they cannot see yet

def _preview_url_for(version):
    """``url_for`` for the users' templates in a preview of ``version``: the agreement's page (the version in force,
    or this one) is the preview's, and the acceptance step's two forms go to the back office, which records
    nothing. Every other link is the site's."""
    kind = version.agreement.kind

    def preview_url_for(endpoint, **values):
        if endpoint == "agreements.read" and values.get("kind") == kind and values.get("version") in (None, version.version):
            return url_for("admin.agreement_version_preview", version_id=version.id)
        if endpoint == "agreements.accept_submit":
            return url_for("admin.agreement_version_preview_answer", version_id=version.id)
        if endpoint == "agreements.decline":
            return url_for("admin.agreement_version_preview_decline", version_id=version.id)
        return url_for(endpoint, **values)
    return preview_url_for


def _banners(version, on):
    """The site's banners on the day ``on``: those of the other agreements, and this version's while it is released
    and not yet in force."""
    shown = [banner for banner in services.site_banners() if banner["kind"] != version.agreement.kind]
    if version.released_on <= on < version.effective_on:
        shown.append({"title": version.agreement.title, "kind": version.agreement.kind, "version": version.version,
                      "effective_on": version.effective_on})
    return shown


def _previewing(version, on):
    return {"preview": version, "preview_state": VERSION_STATES[version.state], "preview_on": on,
            "url_for": _preview_url_for(version),
            "site_banners": lambda: _banners(version, on)}


@bp.get("/agreements/versions/<int:version_id>/preview")
@requires("agreements.edit")
def agreement_version_preview(version_id):
    """The agreement's page as users will read it from the version's release date."""
    version = _version(version_id)
    on = max(version.released_on, today_local())
    shown, in_force = versions.as_published(version, on)
    return render_template("admin/agreements/preview_read.html", agreement=version.agreement, version=version,
                           versions=shown, in_force=in_force, today=on, body=services.render_markdown(version.body),
                           **_previewing(version, on))


def _step_form():
    return AcceptForm(formdata=None, data={"original": json.dumps({"method": "GET", "url": "/", "fields": []}),
                                           "submission": services.new_submission_key()})


def _render_step(version, form=None, status=200):
    """The acceptance step a user who accepted the previous version meets once this one is in force."""
    form = form or _step_form()
    pending = [services.Pending(version.agreement, version, versions.previous_version(version))]
    return render_template("admin/agreements/preview_accept.html", form=form, pending=pending, needs_birth_date=False,
                           **_previewing(version, max(version.effective_on, today_local()))), status


@bp.get("/agreements/versions/<int:version_id>/preview/accept")
@requires("agreements.edit")
def agreement_version_preview_accept(version_id):
    version = _version(version_id)
    if request.args.get("declined") != "1":
        return _render_step(version)
    form = _step_form()
    form.form_errors.append("预览：用户点“不同意”后会退出登录，仍可浏览保险产品和测算保费。本次预览未记录任何内容。")
    return _render_step(version, form)


@bp.post("/agreements/versions/<int:version_id>/preview/accept")
@requires("agreements.edit")
def agreement_version_preview_answer(version_id):
    """同意并继续 in the preview: the boxes checked as the step checks them, then what would happen is said.
    Nothing is written."""
    version = _version(version_id)
    form = AcceptForm()
    if not form.validate() or version.id not in (form.agreements.data or []):
        if not form.agreements.errors:
            form.agreements.errors.append("请逐项勾选“我已阅读并同意”")
        return _render_step(version, form, 422)
    form.form_errors.append("预览：用户点“同意并继续”后，平台记录其同意，并继续其刚才的操作。本次预览未记录任何内容。")
    return _render_step(version, form)


@bp.post("/agreements/versions/<int:version_id>/preview/decline")
@requires("agreements.edit")
def agreement_version_preview_decline(version_id):
    """不同意 in the preview: back to the step, which says what would happen. Nothing is written."""
    return go_to(url_for("admin.agreement_version_preview_accept", version_id=_version(version_id).id, declined=1))
