"""The back office as its staff meet it: staff accounts made directly, their password, the code their
authenticator app shows, one browser's session driven through the real login, the audit log read back; and what
the property test (tests/support/hostile.py) needs to reach /admin (``admin_contexts``). The fixtures are
tests/admin/conftest.py's."""
from types import SimpleNamespace

import pyotp
from sqlalchemy import select

from app.admin import auth as staff_auth
from app.admin.models import AdminStaff, AdminStaffRole, AuditEvent
from app.admin.roles import ROLES
from app.core.clock import db_now
from app.extensions import db
from tests.support import hostile
from tests.support.web import field, token

PASSWORD = "staff password 2026"
_made = [0]


def code_at(secret, clock, offset=0):
    """The TOTP code an authenticator app shows at the injected clock's time (``offset`` steps of 30 s on)."""
    return pyotp.TOTP(secret).at(clock.now, counter_offset=offset)


def new_staff(app, *roles, enrolled=True, must_change=False, password=PASSWORD, name="测试员工"):
    """A new staff account with ``roles`` (an enrolled TOTP secret unless enrolled=False)."""
    _made[0] += 1
    secret = pyotp.random_base32() if enrolled else None
    with app.app_context():
        username = f"t{_made[0]}-" + ("-".join(roles) if len(roles) < 3 else "many") if roles else f"t{_made[0]}-none"
        staff = AdminStaff(username=username, display_name=name, password_hash=staff_auth.hash_password(password),
                           must_change_password=must_change, totp_secret=secret,
                           session_token=staff_auth.new_session_token(), created_at=db_now())
        staff.role_rows = [AdminStaffRole(role=role) for role in roles]
        db.session.add(staff)
        db.session.commit()
        return SimpleNamespace(id=staff.id, username=staff.username, secret=secret, password=password)


class Browser:
    """One browser's back-office session (its own cookies), driven through the real login."""

    def __init__(self, app, clock):
        self.app, self.clock = app, clock
        self.client = app.test_client()

    def csrf(self, path="/admin/login"):
        return token(self.client.get(path).get_data(as_text=True))

    def post(self, path, data=None, **kwargs):
        page = self.client.get(kwargs.pop("page", "/admin/login")).get_data(as_text=True)
        return self.client.post(path, data={"csrf_token": token(page), **(data or {})}, **kwargs)

    def password(self, staff, password=None):
        return self.post("/admin/login", {"username": staff.username, "password": password or staff.password})

    def verify(self, code):
        return self.post("/admin/login/verify", {"code": code}, page="/admin/login/verify")

    def sign_in(self, staff):
        response = self.password(staff)
        assert response.headers["Location"] == "/admin/login/verify", response.status_code
        response = self.verify(code_at(staff.secret, self.clock))
        assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
        return self


def audit_rows(app, **where):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def last_audit(app, **where):
    rows = audit_rows(app, **where)
    return rows[-1] if rows else None


# How the property test fills a back-office route's arguments: name → maker(world) returning a real one.
# Each capability's support module (tests/support/admin_*.py) adds its own with ``argument``.
ARGUMENTS = {}


def argument(name):
    def register(maker):
        ARGUMENTS[name] = maker
        return maker
    return register


argument("staff_id")(lambda world: new_staff(world.app, "ops").id)
argument("user_id")(lambda world: world.member().id)

# Valid values, so that a hostile value in one field meets the checks behind the others (each capability's
# support module adds its forms' with BASELINES.update).
BASELINES = {
    "StaffForm": {"username": "hostile-new", "display_name": "新同事", "roles": "support"},
    "RolesForm": {"roles": "ops", "reason": "调整"},
    "ReasonForm": {"lock-reason": "例行检查", "reset-reason": "例行检查"},
    "RevealForm": {"field": "mobile", "reason": "用户来电核对"},
    "LookupForm": {"kind": "nickname", "q": "测试"},
    "MobileLookupForm": {"last4": "1234", "name": "张伟"},
    "AuditFilterForm": {"action": "staff.login", "object_type": "admin_staff", "from": "2026-11-01", "to": "2026-11-25"},
    "ChangePasswordForm": {"current": PASSWORD, "password": "another long password", "confirm": "another long password"},
    "TotpConfirmForm": {"code": "123456"},
}
STAGE_PAGES = {"password": "/admin/login/password", "enrol": "/admin/login/enrol", "totp": "/admin/login/verify"}
STAGE_BASELINES = {"password": {"password": "a long new password", "confirm": "a long new password"},
                   "enrol": {"code": "123456"}, "totp": {"code": "123456"}}


def admin_contexts(world, rule, cls):
    """[Context] for a back-office route and form: the login pages as someone not signed in or half way through,
    the others as a staff member holding every role, with a real staff account or user in the URL."""
    app, endpoint = world.app, rule.endpoint
    monkeypatch, clock = world.request.getfixturevalue("monkeypatch"), world.request.getfixturevalue("clock")
    monkeypatch.setitem(app.config, "RATELIMIT_ADMIN_LOGIN", "100000 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_ADMIN_LOOKUP", "100000 per minute")
    baseline = dict(BASELINES.get(cls.__name__, {}) if cls else {})
    if endpoint in ("admin.login", "admin.login_submit"):
        staff = new_staff(app, "support")
        client = app.test_client()
        csrf = token(client.get("/admin/login").get_data(as_text=True))
        return [hostile.Context(client, {}, csrf, baseline={"username": staff.username, "password": PASSWORD,
                                                            "next": "/admin/users"})]
    for stage, page in STAGE_PAGES.items():
        if rule.rule == page:
            return [half_way(app, clock, stage)]
    unknown = sorted(set(rule.arguments) - set(ARGUMENTS))
    assert not unknown, f"{rule.rule}: teach tests.support.admin.ARGUMENTS to make {unknown}"
    values = {name: ARGUMENTS[name](world) for name in rule.arguments}
    actor = Browser(app, clock).sign_in(new_staff(app, *ROLES))
    return [hostile.Context(actor.client, values, token(actor.client.get("/admin/").get_data(as_text=True)),
                            baseline=baseline)]


def half_way(app, clock, stage):
    """A browser at a login stage (a new one whenever an example finished or ended that stage)."""
    context = hostile.Context(None, {}, "", label=f"at {stage}")

    def ensure():
        if context.client is not None:
            response = context.client.get(STAGE_PAGES[stage])
            if response.status_code == 200:
                if stage == "enrol":
                    context.baseline["sealed"] = field(response.get_data(as_text=True), "sealed")
                return
        staff = new_staff(app, "support", enrolled=stage == "totp", must_change=stage == "password")
        browser = Browser(app, clock)
        browser.password(staff)
        page = browser.client.get(STAGE_PAGES[stage]).get_data(as_text=True)
        context.client, context.csrf = browser.client, token(page)
        context.baseline = dict(STAGE_BASELINES[stage])
        if stage == "enrol":
            context.baseline["sealed"] = field(page, "sealed")

    context.ensure = ensure
    ensure()
    return context
