"""Back-office sign-in, apart from consumers and partner staff: username and password (argon2), then a TOTP
code (pyotp) or one of ten single-use recovery codes; a first login (or one after a reset) sets a password of
the staff member's own and enrols an authenticator app. Five failures in a row, of the password or of the
second factor, lock the account for 15 minutes.

The session is a cookie of its own, scoped to /admin and signed, carrying the account's session token (a new
token at logout, lock or reset ends every copy), the login stage reached, when it began and when the staff
member was last seen: idle longer than ADMIN_IDLE_MINUTES, or signed in longer than ADMIN_SESSION_HOURS, and
it is over. Times come from the injected clock (core/clock.py). A consumer's session grants nothing here.
"""
import calendar
import hashlib
import secrets
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import case, delete, or_, select, update

from app.admin import audit
from app.admin.models import AdminRecoveryCode, AdminStaff
from app.core.clock import db_now, utcnow
from app.core.domain import DomainError
from app.core.pii import decrypt, encrypt
from app.extensions import db

COOKIE = "admin_session"
COOKIE_PATH = "/admin"
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
STAGE_MINUTES = 10  # the steps between password and a full session must be done within this
RECOVERY_CODES = 10
ISSUER = "微保运营后台"
# The stages of a login: a password someone else chose is replaced, an authenticator app is enrolled, a code
# is given; "ok" is a full session.
STAGES = ("password", "enrol", "totp", "ok")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # so an unknown username takes as long as a wrong password
LOCKED_MESSAGE = "连续输错次数过多，账号已锁定15分钟，请稍后再试或联系管理员"


class LoginRefused(DomainError):
    pass


def hash_password(password):
    return _hasher.hash(password)


def new_session_token():
    return secrets.token_urlsafe(32)


def one_time_password():
    """A password for someone else to type once (then replaced): 4 groups of 4, no look-alike characters."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def client_ip():
    return request.remote_addr or ""


def _verify(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(staff, password):
    return _verify(staff.password_hash, password)


# Passwords and lockout

def _by_username(username):
    return db.session.scalar(select(AdminStaff).where(AdminStaff.username == (username or "").strip()))


def _refuse_demo(staff):
    return staff.is_demo and current_app.config["APP_ENV"] == "production"


def authenticate(username, password, now, ip):
    """The account whose password this is, or LoginRefused. Commits: a failure and its audit row are kept
    whatever the view does next."""
    staff = _by_username(username)
    if staff is None or _refuse_demo(staff):
        _verify(_DUMMY_HASH, password)
        audit.record("staff.login_failed", object_type="admin_staff", after={"step": "password"}, ip=ip, now=now)
        db.session.commit()
        raise LoginRefused("用户名或密码错误")
    if staff.disabled_at is not None:  # said only to whoever knows the password
        right = _verify(staff.password_hash, password)
        audit.record("staff.login_failed", staff=staff, object_type="admin_staff", object_id=staff.id,
                     after={"step": "password", "locked": True}, ip=ip, now=now)
        db.session.commit()
        raise LoginRefused("账号已被管理员锁定，请联系管理员" if right else "用户名或密码错误")
    if staff.locked_until and staff.locked_until > now:
        raise LoginRefused(LOCKED_MESSAGE)
    if not _verify(staff.password_hash, password):
        _failed(staff, "password", now, ip)
    staff.failed_logins = 0
    staff.locked_until = None
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    db.session.commit()
    return staff


def _failed(staff, step, now, ip):
    """Counts one failure (one UPDATE each: none lost when several arrive at once), records it, and raises.
    The fifth in a row locks the account for LOCKOUT."""
    failures = AdminStaff.failed_logins + 1
    db.session.execute(update(AdminStaff).where(AdminStaff.id == staff.id).values(
        failed_logins=failures,
        locked_until=case((failures >= MAX_FAILURES, now + LOCKOUT), else_=AdminStaff.locked_until)))
    audit.record("staff.login_failed", staff=staff, object_type="admin_staff", object_id=staff.id,
                 after={"step": step}, ip=ip, now=now)
    db.session.commit()
    db.session.refresh(staff)
    if staff.failed_logins >= MAX_FAILURES:
        db.session.execute(update(AdminStaff).where(AdminStaff.id == staff.id).values(failed_logins=0))
        audit.record("staff.locked_out", staff=staff, object_type="admin_staff", object_id=staff.id,
                     after={"locked_until": (now + LOCKOUT).isoformat(timespec="minutes")}, ip=ip, now=now)
        db.session.commit()
        raise LoginRefused(LOCKED_MESSAGE)
    left = MAX_FAILURES - staff.failed_logins
    message = "用户名或密码错误" if step == "password" else "验证码错误"
    raise LoginRefused(f"{message}，再输错{left}次账号将被锁定15分钟")


def set_password(staff, password):
    staff.password_hash = hash_password(password)
    staff.must_change_password = False


# TOTP and recovery codes

def new_totp_secret():
    return pyotp.random_base32()


def provisioning_uri(staff, secret):
    return pyotp.TOTP(secret).provisioning_uri(name=staff.username, issuer_name=ISSUER)


def grouped_secret(secret):
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def seal_secret(staff, secret):
    """The secret being enrolled, for the form to carry back (encrypted and bound to this account)."""
    return encrypt(f"{staff.id}:{secret}")


def unseal_secret(staff, sealed):
    try:
        owner, secret = decrypt(sealed or "").split(":", 1)
    except (ValueError, TypeError):
        return None
    return secret if owner == str(staff.id) else None


def _normalise_code(code):
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-").lower()


def _totp_step(secret, code, now):
    """The time step ``code`` is valid for at ``now`` (this one, or the one before or after: clocks drift),
    or None."""
    code = _normalise_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(calendar.timegm(now.utctimetuple()))  # naive times are UTC here (db_now)
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _spend_totp(staff, code, now):
    """Whether ``code`` is good, spending its time step: the same code twice (a replay) is refused."""
    step = _totp_step(staff.totp_secret, code, now)
    if step is None:
        return False
    spent = db.session.execute(update(AdminStaff).where(
        AdminStaff.id == staff.id,
        or_(AdminStaff.totp_last_step.is_(None), AdminStaff.totp_last_step < step)).values(totp_last_step=step))
    return spent.rowcount == 1


def _recovery_hash(code):
    return hashlib.sha256(("admin-recovery:" + _normalise_code(code)).encode()).hexdigest()


def new_recovery_codes(staff, now):
    """Ten fresh codes (the old ones are void), returned once in plain text; only their hashes are kept."""
    db.session.execute(delete(AdminRecoveryCode).where(AdminRecoveryCode.staff_id == staff.id))
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = ["-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
             for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(AdminRecoveryCode(staff_id=staff.id, code_hash=_recovery_hash(code), created_at=now))
    return codes


def _spend_recovery_code(staff, code, now):
    spent = db.session.execute(update(AdminRecoveryCode).where(
        AdminRecoveryCode.staff_id == staff.id, AdminRecoveryCode.code_hash == _recovery_hash(code),
        AdminRecoveryCode.used_at.is_(None)).values(used_at=now))
    return spent.rowcount == 1


def recovery_codes_left(staff):
    return len(db.session.scalars(select(AdminRecoveryCode.id).where(
        AdminRecoveryCode.staff_id == staff.id, AdminRecoveryCode.used_at.is_(None))).all())


def enrol(staff, secret, code, now, ip):
    """Binds the authenticator app whose first code is ``code``; returns the recovery codes to show once."""
    step = _totp_step(secret, code, now)
    if step is None:
        _failed(staff, "enrol", now, ip)
    staff.totp_secret, staff.totp_last_step = secret, step
    staff.failed_logins = 0
    codes = new_recovery_codes(staff, now)
    audit.record("staff.totp_enrolled", staff=staff, object_type="admin_staff", object_id=staff.id,
                 after={"recovery_codes": RECOVERY_CODES}, ip=ip, now=now)
    return codes


def second_factor(staff, code, now, ip):
    """A TOTP code or a recovery code; which one it was ("totp" or "recovery"), or LoginRefused (a failure
    counted toward the lockout)."""
    if staff.locked(now):
        raise LoginRefused(LOCKED_MESSAGE)
    normalised = _normalise_code(code)
    if normalised.isdigit() and len(normalised) == 6:
        if _spend_totp(staff, normalised, now):
            staff.failed_logins = 0
            return "totp"
    elif _spend_recovery_code(staff, normalised, now):
        staff.failed_logins = 0
        audit.record("staff.recovery_code_used", staff=staff, object_type="admin_staff", object_id=staff.id,
                     after={"left": recovery_codes_left(staff)}, ip=ip, now=now)
        return "recovery"
    _failed(staff, "second_factor", now, ip)


def verify_current_code(staff, code, now):
    """A TOTP code asked again for a sensitive step of a signed-in staff member (no lockout counting)."""
    return _spend_totp(staff, code, now)


def logged_in(staff, now, ip, how):
    staff.last_login_at = now
    staff.failed_logins = 0
    audit.record("staff.login", staff=staff, object_type="admin_staff", object_id=staff.id,
                 after={"second_factor": how}, ip=ip, now=now)


def end_sessions(staff):
    """Every cookie naming the old token is worthless from now on."""
    staff.session_token = new_session_token()


def reset(staff):
    """An administrator's reset: a one-time password, no authenticator app (enrolled again), no recovery
    codes, no session. Returns the password to hand over."""
    password = one_time_password()
    staff.password_hash = hash_password(password)
    staff.must_change_password = True
    staff.totp_secret = staff.totp_last_step = None
    staff.failed_logins, staff.locked_until = 0, None
    db.session.execute(delete(AdminRecoveryCode).where(AdminRecoveryCode.staff_id == staff.id))
    end_sessions(staff)
    return password


def next_stage(staff):
    if staff.must_change_password:
        return "password"
    if not staff.enrolled:
        return "enrol"
    return "totp"


# The session cookie

def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="admin-staff")


def _epoch(moment):
    return int(moment.timestamp())


def sign_in(response, staff, stage, issued=None, next_url=None):
    """Sets the cookie for ``stage``; ``issued`` is when the login began (kept across its stages), ``next_url``
    the page to go to once it is done."""
    now = _epoch(utcnow())
    data = {"id": staff.id, "token": staff.session_token, "stage": stage, "issued": issued or now, "seen": now}
    if next_url and stage != "ok":
        data["next"] = next_url[:500]
    hours = current_app.config["ADMIN_SESSION_HOURS"]
    response.set_cookie(COOKIE, _serializer().dumps(data), max_age=hours * 3600, path=COOKIE_PATH, httponly=True,
                        samesite="Strict", secure=current_app.config["SESSION_COOKIE_SECURE"])
    g.admin_cookie_set = True
    return response


def sign_out(response, staff):
    if staff is not None:
        end_sessions(staff)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    g.admin_cookie_set = True
    return response


def current_session():
    """(staff, stage, issued, next) of this request's valid cookie, or None; g.admin_expired says whether a
    full session timed out (idle, or too long since login)."""
    if "admin_session" in g:
        return g.admin_session
    g.admin_session, g.admin_expired = None, False
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        data = _serializer().loads(value)
        staff_id, token, stage = int(data["id"]), str(data["token"]), data["stage"]
        issued, seen, next_url = int(data["issued"]), int(data["seen"]), str(data.get("next") or "")
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    now = _epoch(utcnow())
    config = current_app.config
    if stage == "ok":
        expired = now - seen > config["ADMIN_IDLE_MINUTES"] * 60 or now - issued > config["ADMIN_SESSION_HOURS"] * 3600
    else:
        expired = stage not in STAGES or now - issued > STAGE_MINUTES * 60
    if expired:
        g.admin_expired = stage == "ok"
        return None
    staff = db.session.get(AdminStaff, staff_id)
    if staff is None or not secrets.compare_digest(staff.session_token, token) or staff.locked(db_now()):
        return None
    g.admin_session = (staff, stage, issued, next_url)
    return g.admin_session


def current_staff():
    """The signed-in staff member (both factors given) of this request, or None."""
    session = current_session()
    return session[0] if session and session[1] == "ok" else None


def pending(stage):
    """The staff member half way through a login, at ``stage``; None otherwise."""
    session = current_session()
    return session[0] if session and session[1] == stage else None


def session_issued():
    session = current_session()
    return session[2] if session else None


def session_next():
    session = current_session()
    return session[3] if session else ""


def session_expired():
    current_session()
    return g.admin_expired


def keep_alive(response):
    """A full session's cookie, renewed with this request as the last one seen (the idle timeout counts from
    here). Not when the view set or removed the cookie itself."""
    session = g.get("admin_session")
    if session and session[1] == "ok" and not g.get("admin_cookie_set"):
        staff, _stage, issued, _next = session
        sign_in(response, staff, "ok", issued)
    return response
