"""Partner staff sign-in, apart from consumers: username and password (argon2), a cookie of its own
scoped to /partner (signed, carrying the account's session token, so logout ends every copy), a
lockout after repeated failures. A consumer session grants nothing here, and this cookie nothing
elsewhere. Accounts are made, reset, locked and unlocked in the back office (vouchers/manage.py)."""
import secrets
from datetime import timedelta
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import case, select, update

from app.extensions import db
from app.vouchers.models import PartnerStaff

COOKIE = "partner_session"
COOKIE_PATH = "/partner"
SESSION_HOURS = 12
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified when the username is unknown, so that case takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class LoginRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def hash_password(password):
    return _hasher.hash(password)


def new_session_token():
    return secrets.token_urlsafe(32)


def end_sessions(staff):
    """Every copy of the staff member's cookie is worthless from now on (a lock or a reset in the back office)."""
    staff.session_token = new_session_token()


def set_password(staff, password):
    """A password the back office chose (a new account, a reset): any lockout lifted, every session ended."""
    staff.password_hash = hash_password(password)
    staff.failed_logins, staff.locked_until = 0, None
    end_sessions(staff)


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="partner-staff")


def authenticate(username, password, now):
    """The staff account, or LoginRefused. Failures are counted with one UPDATE each (no lost counts
    when several arrive at once); the fifth in a row locks the account for 15 minutes."""
    staff = db.session.scalar(select(PartnerStaff).where(PartnerStaff.username == username.strip()))
    if staff is None or not staff.is_active:
        _verify(_DUMMY_HASH, password)
        raise LoginRefused("用户名或密码错误")
    if staff.locked_until and staff.locked_until > now:
        raise LoginRefused("连续输错密码次数过多，账号已锁定15分钟，请稍后再试或联系管理员")
    if not _verify(staff.password_hash, password):
        failures = PartnerStaff.failed_logins + 1
        db.session.execute(update(PartnerStaff).where(PartnerStaff.id == staff.id).values(
            failed_logins=failures,
            locked_until=case((failures >= MAX_FAILURES, now + LOCKOUT), else_=PartnerStaff.locked_until)))
        db.session.commit()
        db.session.refresh(staff)
        if staff.failed_logins >= MAX_FAILURES:
            db.session.execute(update(PartnerStaff).where(PartnerStaff.id == staff.id).values(failed_logins=0))
            db.session.commit()
            raise LoginRefused("连续输错密码次数过多，账号已锁定15分钟，请稍后再试或联系管理员")
        left = MAX_FAILURES - staff.failed_logins
        raise LoginRefused(f"用户名或密码错误，再输错{left}次账号将被锁定15分钟")
    staff.failed_logins = 0
    staff.locked_until = None
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    db.session.commit()
    return staff


def _verify(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_in(response, staff):
    value = _serializer().dumps({"id": staff.id, "token": staff.session_token})
    response.set_cookie(COOKIE, value, max_age=SESSION_HOURS * 3600, path=COOKIE_PATH, httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def sign_out(response, staff):
    """Ends this and every other copy of the staff member's session."""
    if staff is not None:
        db.session.execute(update(PartnerStaff).where(PartnerStaff.id == staff.id).values(
            session_token=new_session_token()))
        db.session.commit()
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


def current_staff():
    """The signed-in staff member of this request, or None."""
    if "partner_staff" not in g:
        g.partner_staff = _load()
    return g.partner_staff


def _load():
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        data = _serializer().loads(value, max_age=SESSION_HOURS * 3600)
        staff = db.session.get(PartnerStaff, int(data["id"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if staff is None or not staff.is_active or not secrets.compare_digest(staff.session_token, str(data["token"])):
        return None
    return staff


def staff_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_staff() is None:
            return redirect(url_for("partner.login", next=request.path))
        return view(*args, **kwargs)
    return wrapper
