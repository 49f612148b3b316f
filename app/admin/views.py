"""Signing in to the back office (password, then a new password and an authenticator app the first time,
then a code), signing out, the home page and 我的账号."""
from flask import current_app, g, redirect, render_template, request, url_for

from app.admin import access, audit, bp
from app.admin import auth as staff_auth
from app.admin.access import public, requires, section
from app.admin.forms import (
    ChangePasswordForm,
    CodeForm,
    EnrolForm,
    LoginForm,
    NewPasswordForm,
    TotpConfirmForm,
)
from app.auth.services import safe_next
from app.core.clock import db_now
from app.core.database import begin_write, writes
from app.core.qr import qr_data_uri
from app.extensions import db, limiter

section("工作台", "admin.home", None, position=0)

login_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_ADMIN_LOGIN"], scope="admin-login")


def _next_url(value):
    target = safe_next(value, url_for("admin.home"))
    return target if target.startswith("/admin") and not target.startswith("/admin/login") else url_for("admin.home")


STAGE_ENDPOINTS = {"password": "admin.login_password", "enrol": "admin.login_enrol", "totp": "admin.login_verify"}


def _to_stage(staff, stage, issued=None):
    response = redirect(url_for(STAGE_ENDPOINTS[stage]))
    return staff_auth.sign_in(response, staff, stage, issued, next_url=g.get("admin_next"))


def _finish(staff, how):
    """Both factors given: the full session, and on to the page asked for."""
    now = db_now()
    staff_auth.logged_in(staff, now, staff_auth.client_ip(), how)
    target = _next_url(staff_auth.session_next())
    issued = staff_auth.session_issued()
    db.session.commit()
    return staff_auth.sign_in(redirect(target), staff, "ok", issued)


# Password

@bp.get("/login")
@public
def login():
    if staff_auth.current_staff() is not None:
        return redirect(url_for("admin.home"))
    form = LoginForm(data={"next": request.args.get("next", "")})
    idle = request.args.get("idle") == "1"
    return render_template("admin/login.html", form=form, idle=idle)


@bp.post("/login")
@public
@login_limit
def login_submit():
    form = LoginForm()
    if form.validate():
        begin_write()
        try:
            staff = staff_auth.authenticate(form.username.data, form.password.data, db_now(), staff_auth.client_ip())
        except staff_auth.LoginRefused as refused:
            form.password.errors.append(refused.message)
        else:
            g.admin_next = form.next.data or ""
            return _to_stage(staff, staff_auth.next_stage(staff))
    return render_template("admin/login.html", form=form, idle=False), 422


def _pending_or_login(stage):
    staff = staff_auth.pending(stage)
    if staff is None:
        return None, redirect(url_for("admin.login"))
    g.admin_next = staff_auth.session_next()
    return staff, None


# A password of one's own (the first login, or after a reset)

@bp.get("/login/password")
@public
def login_password():
    staff, away = _pending_or_login("password")
    if away:
        return away
    return render_template("admin/login_password.html", form=NewPasswordForm(formdata=None), staff=staff)


@bp.post("/login/password")
@public
@login_limit
def login_password_submit():
    staff, away = _pending_or_login("password")
    if away:
        return away
    form = NewPasswordForm(username=staff.username)
    if not form.validate():
        return render_template("admin/login_password.html", form=form, staff=staff), 422
    begin_write()
    staff_auth.set_password(staff, form.password.data)
    audit.record("staff.password_changed", staff=staff, object_type="admin_staff", object_id=staff.id,
                 after={"must_change_password": False}, ip=staff_auth.client_ip())
    db.session.commit()
    return _to_stage(staff, staff_auth.next_stage(staff), staff_auth.session_issued())


# Enrolling an authenticator app

def _render_enrol(staff, form, secret, status=200):
    form.sealed.data = staff_auth.seal_secret(staff, secret)
    uri = staff_auth.provisioning_uri(staff, secret)
    return render_template("admin/login_enrol.html", form=form, staff=staff, qr=qr_data_uri(uri),
                           secret=staff_auth.grouped_secret(secret)), status


@bp.get("/login/enrol")
@public
def login_enrol():
    staff, away = _pending_or_login("enrol")
    if away:
        return away
    return _render_enrol(staff, EnrolForm(formdata=None), staff_auth.new_totp_secret())


@bp.post("/login/enrol")
@public
@login_limit
def login_enrol_submit():
    staff, away = _pending_or_login("enrol")
    if away:
        return away
    form = EnrolForm()
    secret = staff_auth.unseal_secret(staff, form.sealed.data)
    if secret is None:
        form.code.errors = ["页面已过期，请扫描下方新的二维码后重新输入验证码"]
        return _render_enrol(staff, form, staff_auth.new_totp_secret(), 422)
    if not form.validate():
        return _render_enrol(staff, form, secret, 422)
    begin_write()
    now = db_now()
    try:
        codes = staff_auth.enrol(staff, secret, form.code.data, now, staff_auth.client_ip())
    except staff_auth.LoginRefused as refused:
        form.code.errors = [refused.message]
        return _render_enrol(staff, form, secret, 422)
    staff_auth.logged_in(staff, now, staff_auth.client_ip(), "enrol")
    target = _next_url(staff_auth.session_next())
    issued = staff_auth.session_issued()
    db.session.commit()
    response = current_app.make_response(render_template("admin/recovery_codes.html", codes=codes, staff=staff,
                                                         target=target, first=True))
    return staff_auth.sign_in(response, staff, "ok", issued)


# The second factor

@bp.get("/login/verify")
@public
def login_verify():
    staff, away = _pending_or_login("totp")
    if away:
        return away
    return render_template("admin/login_verify.html", form=CodeForm(formdata=None), staff=staff)


@bp.post("/login/verify")
@public
@login_limit
def login_verify_submit():
    staff, away = _pending_or_login("totp")
    if away:
        return away
    form = CodeForm()
    if form.validate():
        begin_write()
        try:
            how = staff_auth.second_factor(staff, form.code.data, db_now(), staff_auth.client_ip())
        except staff_auth.LoginRefused as refused:
            form.code.errors.append(refused.message)
        else:
            return _finish(staff, how)
    return render_template("admin/login_verify.html", form=form, staff=staff), 422


@bp.post("/logout")
@public
@writes
def logout():
    """Ends this session and every other one of the account (a new session token)."""
    session = staff_auth.current_session()
    staff = session[0] if session else None
    if staff is not None:
            audit.record("staff.logout", staff=staff, object_type="admin_staff", object_id=staff.id,
                     ip=staff_auth.client_ip())
    response = staff_auth.sign_out(redirect(url_for("admin.login")), staff)
    db.session.commit()
    return response


# Home and one's own account

@bp.get("/")
@requires()
def home():
    staff = staff_auth.current_staff()
    return render_template("admin/home.html", staff=staff, sections=access.sections_for(staff)[1:],
                           codes_left=staff_auth.recovery_codes_left(staff))


def _render_account(password_form=None, codes_form=None, status=200, done=None):
    staff = staff_auth.current_staff()
    return render_template("admin/account.html", staff=staff, done=done,
                           password_form=password_form or ChangePasswordForm(formdata=None),
                           codes_form=codes_form or TotpConfirmForm(formdata=None),
                           codes_left=staff_auth.recovery_codes_left(staff)), status


@bp.get("/account")
@requires()
def account():
    return _render_account()


@bp.post("/account/password")
@requires()
@writes
def account_password():
    """A new password ends every other session of the account (this one carries on)."""
    staff = staff_auth.current_staff()
    form = ChangePasswordForm(username=staff.username)
    if not form.validate():
        return _render_account(password_form=form, status=422)
    if not staff_auth.check_password(staff, form.current.data):
        form.current.errors.append("当前密码不正确")
        return _render_account(password_form=form, status=422)
    staff_auth.set_password(staff, form.password.data)
    staff_auth.end_sessions(staff)
    audit.record("staff.password_changed", staff=staff, object_type="admin_staff", object_id=staff.id,
                 after={"other_sessions": "已结束"}, ip=staff_auth.client_ip())
    issued = staff_auth.session_issued()
    db.session.commit()
    response = current_app.make_response(_render_account(done="password"))
    return staff_auth.sign_in(response, staff, "ok", issued)


@bp.post("/account/recovery-codes")
@requires()
@writes
def account_recovery_codes():
    """Ten new recovery codes (the old ones void), after a current code from the authenticator app."""
    staff = staff_auth.current_staff()
    form = TotpConfirmForm()
    if not form.validate():
        return _render_account(codes_form=form, status=422)
    now = db_now()
    if not staff_auth.verify_current_code(staff, form.code.data, now):
        form.code.errors.append("验证码错误或已使用，请输入身份验证器上新的验证码")
        return _render_account(codes_form=form, status=422)
    codes = staff_auth.new_recovery_codes(staff, now)
    audit.record("staff.recovery_codes_renewed", staff=staff, object_type="admin_staff", object_id=staff.id,
                 after={"recovery_codes": len(codes)}, ip=staff_auth.client_ip(), now=now)
    db.session.commit()
    return render_template("admin/recovery_codes.html", codes=codes, staff=staff, target=url_for("admin.account"),
                           first=False)


@bp.after_request
def private(response):
    """Back-office pages are never cached; a full session's idle clock restarts with each request."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers.setdefault("X-Robots-Tag", "noindex")
    return staff_auth.keep_alive(response)
