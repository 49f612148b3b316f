"""后台账号 (管理员): the accounts, a new one, roles, lock and unlock, a password reset."""
from flask import abort, redirect, render_template, request, url_for

from app.admin import audit, bp
from app.admin import auth as staff_auth
from app.admin import staff as accounts
from app.admin.access import requires, section
from app.admin.forms import ReasonForm, RolesForm, StaffForm
from app.admin.roles import PERMISSIONS, ROLES
from app.core.clock import db_now
from app.core.database import writes
from app.extensions import db

section("后台账号", "admin.staff_list", "staff.manage", position=80,
        pages=("admin.staff_new", "admin.staff_create", "admin.staff_detail", "admin.staff_roles", "admin.staff_lock",
               "admin.staff_unlock", "admin.staff_reset"))


@bp.get("/staff")
@requires("staff.manage")
def staff_list():
    return render_template("admin/staff_list.html", staff=staff_auth.current_staff(), accounts=accounts.all_staff(),
                           now=db_now())


@bp.get("/staff/new")
@requires("staff.manage")
def staff_new():
    return render_template("admin/staff_new.html", staff=staff_auth.current_staff(), form=StaffForm(formdata=None),
                           roles=ROLES, permissions=PERMISSIONS)


@bp.post("/staff/new")
@requires("staff.manage")
@writes
def staff_create():
    form = StaffForm()
    actor = staff_auth.current_staff()
    if form.validate():
        try:
            created, password = accounts.create(actor, username=form.username.data, display_name=form.display_name.data,
                                                roles=form.roles.data, now=db_now(), ip=staff_auth.client_ip())
        except accounts.StaffError as error:
            getattr(form, error.field or "username").errors.append(error.message)
        else:
            db.session.commit()
            return render_template("admin/staff_password.html", staff=actor, account=created, password=password,
                                   created=True)
    return render_template("admin/staff_new.html", staff=actor, form=form, roles=ROLES,
                           permissions=PERMISSIONS), 422


def _account(staff_id):
    account = accounts.get(staff_id)
    if account is None:
        abort(404)
    return account


def _render_detail(account, status=200, roles_form=None, lock_form=None, reset_form=None, message=None):
    return render_template(
        "admin/staff_detail.html", staff=staff_auth.current_staff(), account=account, now=db_now(), message=message,
        roles_form=roles_form or RolesForm(formdata=None, data={"roles": account.roles}),
        lock_form=lock_form or ReasonForm(formdata=None, prefix="lock"),
        reset_form=reset_form or ReasonForm(formdata=None, prefix="reset"),
        events=accounts.recent_events(account), actions=audit.ACTIONS, roles=ROLES), status


@bp.get("/staff/<int:staff_id>")
@requires("staff.manage")
def staff_detail(staff_id):
    message = "角色已更新" if request.args.get("done") == "roles" else None
    return _render_detail(_account(staff_id), message=message)


@bp.post("/staff/<int:staff_id>/roles")
@requires("staff.manage")
@writes
def staff_roles(staff_id):
    account = _account(staff_id)
    form = RolesForm()
    if not form.validate():
        return _render_detail(account, 422, roles_form=form)
    try:
        changed = accounts.set_roles(staff_auth.current_staff(), account, form.roles.data or [],
                                     reason=form.reason.data or "", now=db_now(), ip=staff_auth.client_ip())
    except accounts.StaffError as error:
        db.session.rollback()
        form.roles.errors.append(error.message)
        return _render_detail(_account(staff_id), 422, roles_form=form)
    db.session.commit()
    return redirect(url_for("admin.staff_detail", staff_id=account.id, done="roles" if changed else None))


def _lock_or_unlock(staff_id, change, prefix):
    account = _account(staff_id)
    form = ReasonForm(prefix=prefix)
    if not form.validate():
        return _render_detail(account, 422, lock_form=form)
    try:
        change(staff_auth.current_staff(), account, reason=form.reason.data, now=db_now(), ip=staff_auth.client_ip())
    except accounts.StaffError as error:
        db.session.rollback()
        form.reason.errors.append(error.message)
        return _render_detail(_account(staff_id), 409, lock_form=form)
    db.session.commit()
    return redirect(url_for("admin.staff_detail", staff_id=account.id))


@bp.post("/staff/<int:staff_id>/lock")
@requires("staff.manage")
@writes
def staff_lock(staff_id):
    """Locks the account until an administrator unlocks it; its sessions end now."""
    return _lock_or_unlock(staff_id, accounts.lock, "lock")


@bp.post("/staff/<int:staff_id>/unlock")
@requires("staff.manage")
@writes
def staff_unlock(staff_id):
    return _lock_or_unlock(staff_id, accounts.unlock, "lock")


@bp.post("/staff/<int:staff_id>/reset")
@requires("staff.manage")
@writes
def staff_reset(staff_id):
    """A one-time password, shown once here; the staff member sets their own and enrols TOTP again."""
    account = _account(staff_id)
    form = ReasonForm(prefix="reset")
    if not form.validate():
        return _render_detail(account, 422, reset_form=form)
    actor = staff_auth.current_staff()
    try:
        password = accounts.reset_password(actor, account, reason=form.reason.data, now=db_now(),
                                           ip=staff_auth.client_ip())
    except accounts.StaffError as error:
        db.session.rollback()
        form.reason.errors.append(error.message)
        return _render_detail(_account(staff_id), 409, reset_form=form)
    db.session.commit()
    return render_template("admin/staff_password.html", staff=actor, account=account, password=password, created=False)
