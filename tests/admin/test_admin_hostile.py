"""The property test of issue 13 (tests/core/test_hostile_input.py) over the back office: hostile values in every
field of every /admin form, in what its views read themselves, and in its path segments — as the people who
reach them (someone half way through a login, a staff member holding every role), with real objects in the URLs.
Never a 5xx, nothing stored with a control character or over its limit, no markup reflected.

The machinery is the property test's own, imported as a module (its tests are not collected again here).
``admin_contexts(world, rule, cls)`` is what that test's World needs to be taught about /admin (it takes a World
as it is): AdminWorld here is World with that one branch."""
import re

import pytest

from app.admin.roles import ROLES
from tests.admin.conftest import PASSWORD, Browser, field, new_staff, token
from tests.core import test_hostile_input as hostile

ADMIN_FORMS = [cls for cls in hostile.FORMS if cls.__module__.startswith("app.admin")]

# Valid values, so that a hostile value in one field meets the checks behind the others.
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


class AdminWorld(hostile.World):
    def contexts(self, rule, method, cls):
        if rule.rule.startswith("/admin"):
            return admin_contexts(self, rule, cls)
        return super().contexts(rule, method, cls)


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
    values = {}
    if "staff_id" in rule.arguments:
        values["staff_id"] = new_staff(app, "ops").id
    if "user_id" in rule.arguments:
        values["user_id"] = world.member().id
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


@pytest.fixture()
def world(app, request, member):
    return AdminWorld(app, request, member)


@pytest.mark.parametrize("form", ADMIN_FORMS, ids=[cls.__name__ for cls in ADMIN_FORMS])
def test_hostile_values_in_every_field_of_every_admin_form(app, world, form):
    targets = hostile.targets_for(app, world, form)
    assert targets and all(t.rule.rule.startswith("/admin") for t in targets), form
    hostile.check_targets(app, targets, form.__name__)


def test_hostile_values_in_what_admin_views_read_themselves(app, world):
    """?next= and ?idle= of the login page, ?done= of an account's page, ?page= of the log."""
    longest = hostile.longest_field(app)
    sent = {(rule.endpoint, method) for cls in ADMIN_FORMS for rule, method in hostile.rules_taking(app, cls)
            if hostile.form_fields(app, cls)[0] or hostile.direct_reads(app, rule.endpoint, method)}
    targets = []
    for rule in hostile.app_rules(app):
        if not rule.rule.startswith("/admin"):
            continue
        for method in ("GET", "POST"):
            names = hostile.direct_reads(app, rule.endpoint, method) if method in rule.methods else []
            if not names or (rule.endpoint, method) in sent:
                continue
            for context in world.contexts(rule, method, None):
                targets.append(hostile.Target(
                    name=f"{method} {rule.rule}", method=method, rule=rule, context=context, fields=names, own=names,
                    csrf_fields=["csrf_token"] if method == "POST" else [], longest=longest,
                    baseline={n: hostile.OWN_READS[n] for n in names if n in hostile.OWN_READS}))
    assert {t.rule.endpoint for t in targets} >= {"admin.login", "admin.staff_detail"}
    hostile.check_targets(app, targets, "admin views' own reads")


def test_hostile_path_segments_of_admin_routes(app, clock):
    actor = Browser(app, clock).sign_in(new_staff(app, *ROLES))
    csrf = token(actor.client.get("/admin/").get_data(as_text=True))
    tried = 0
    for rule in hostile.app_rules(app):
        if not rule.rule.startswith("/admin") or not rule.arguments:
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        for segment in hostile.SEGMENTS:
            path = re.sub(r"<(?:[^<>]*:)?(\w+)>", segment, rule.rule)
            response = actor.client.open(path, method=method, data={"csrf_token": csrf})
            tried += 1
            assert response.status_code < 500, (method, path[:120], response.status_code)
            if hostile.CONTROL_SEGMENT.search(segment):
                assert response.status_code == 404, (method, path[:120], response.status_code)
    assert tried >= 50
