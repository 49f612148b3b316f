"""用户查询 (客服): find a user, see their timeline with personal data masked, and show one value in full
with a reason (recorded in the audit log). Searches and the profiles opened are recorded too. 合规 exports a
user's personal data as the file their own privacy centre gives them, with a reason, recorded."""
from flask import Response, abort, current_app, render_template, request

from app.admin import audit, bp, support
from app.admin import auth as staff_auth
from app.admin.access import requires, section
from app.admin.forms import LOOKUP_KINDS, REVEALABLE, DataExportForm, LookupForm, MobileLookupForm, RevealForm
from app.auth.models import User
from app.core.clock import today_local
from app.core.database import begin_write, writes
from app.core.htmx import render_page
from app.extensions import db, limiter

section("用户查询", "admin.lookup", "users.lookup", position=20,
        pages=("admin.user_detail", "admin.user_reveal", "admin.user_export_page", "admin.user_export"))
audit.register(actions={"pii.exported": "导出用户个人信息"})


def _staff_key():
    staff = staff_auth.current_staff()
    return f"admin-staff:{staff.id}" if staff else request.remote_addr or ""


# Searching and opening profiles share one budget per staff member: nobody pages through our users.
lookup_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_ADMIN_LOOKUP"], scope="admin-lookup",
                                    key_func=_staff_key, exempt_when=lambda: not request.args and request.method == "GET"
                                    and request.endpoint == "admin.lookup")


@bp.get("/users")
@requires("users.lookup")
@lookup_limit
def lookup():
    """Both search forms; with a query, the users found (a search is recorded: how, and how many found, so a
    search writes: it takes the write lock before it reads, see core/database.py)."""
    form, mobile_form = LookupForm(), MobileLookupForm()
    users, searched, status = [], None, 200
    if any(request.args.get(name) for name in ("q", "last4", "name")):
        begin_write()
    if mobile_form.last4.data or mobile_form.name.data:
        searched = "mobile"
        if mobile_form.validate():
            users = support.find_by_mobile(mobile_form.last4.data, mobile_form.name.data)
        else:
            status = 422
    elif form.q.data:
        searched = "text"
        if form.validate():
            users = support.find_users(form.kind.data, form.q.data)
        else:
            status = 422
    staff = staff_auth.current_staff()
    if searched and status == 200:
        kind = "mobile" if searched == "mobile" else form.kind.data
        audit.record("user.search", staff=staff, object_type="user",
                     after={"by": kind, "found": len(users)}, ip=staff_auth.client_ip())
        db.session.commit()
    values = {user.id: support.masked_values(support.personal_values(user)) for user in users}
    return render_page("admin/lookup.html", "results", status, staff=staff, form=form, mobile_form=mobile_form,
                       users=users, searched=searched, invalid=status == 422, values=values, kinds=LOOKUP_KINDS)


def _user(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _render_user(user, status=200, reveal_form=None, revealed=None):
    staff = staff_auth.current_staff()
    values = support.personal_values(user)
    return render_page("admin/user.html", "profile", status, staff=staff, user=user,
                       masked=support.masked_values(values), held={k: bool(v) for k, v in values.items()},
                       revealed=revealed, fields=REVEALABLE, can_reveal=staff.can("pii.reveal"),
                       reveal_form=reveal_form or RevealForm(formdata=None),
                       can_export=staff.can("pii.export"), export_form=DataExportForm(formdata=None, prefix="export"),
                       timeline=support.timeline(user, today_local()), counts=support.counts(user),
                       kinds=support.KIND_LABELS, export_only=False)


def _render_export(user, status=200, export_form=None):
    """The export on a page of its own (合规 need not hold 用户查询): the user's number and nickname, the form."""
    return render_template("admin/user.html", staff=staff_auth.current_staff(), user=user, can_export=True,
                           export_form=export_form or DataExportForm(formdata=None, prefix="export"), counts=support.counts(user),
                           export_only=True), status


@bp.get("/users/<int:user_id>")
@requires("users.lookup")
@lookup_limit
@writes
def user_detail(user_id):
    """A user's profile (masked) and timeline; opening it is recorded."""
    user = _user(user_id)
    audit.record("user.viewed", staff=staff_auth.current_staff(), object_type="user", object_id=user.id,
                 ip=staff_auth.client_ip())
    db.session.commit()
    return _render_user(user)


@bp.post("/users/<int:user_id>/reveal")
@requires("users.lookup", "pii.reveal")
@lookup_limit
@writes
def user_reveal(user_id):
    """One value in full, for this response only; the audit row says which, and why (never the value)."""
    user = _user(user_id)
    form = RevealForm()
    if not form.validate():
        return _render_user(user, 422, reveal_form=form)
    value = support.personal_values(user).get(form.field.data)
    if not value:
        form.field.errors.append(f"该用户没有留存{REVEALABLE[form.field.data]}")
        return _render_user(user, 422, reveal_form=form)
    audit.record("pii.revealed", staff=staff_auth.current_staff(), object_type="user", object_id=user.id,
                 after={"field": form.field.data}, reason=form.reason.data, ip=staff_auth.client_ip())
    db.session.commit()
    return _render_user(user, revealed=(form.field.data, value))


@bp.get("/users/<int:user_id>/export")
@requires("pii.export")
@lookup_limit
def user_export_page(user_id):
    return _render_export(_user(user_id))


@bp.post("/users/<int:user_id>/export")
@requires("pii.export")
@lookup_limit
@writes
def user_export(user_id):
    """The user's personal data as a file, the same as their own 我的数据 download; the audit row says who
    exported whose data and why (never the data), committed before the file is sent."""
    user = _user(user_id)
    form = DataExportForm(prefix="export")
    if not form.validate():
        return _render_export(user, 422, form)
    audit.record("pii.exported", staff=staff_auth.current_staff(), object_type="user", object_id=user.id,
                 reason=form.reason.data, ip=staff_auth.client_ip())
    db.session.commit()
    return Response(support.personal_data_file(user, today_local()), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="wesure-user-{user.id}-data.json"', "Cache-Control": "no-store"})
