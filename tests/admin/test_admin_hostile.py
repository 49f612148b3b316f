"""The property test of issue 13 (tests/core/test_hostile_input.py) over the back office: hostile values in every
field of every /admin form, in what its views read themselves, and in its path segments — as the people who
reach them (someone half way through a login, a staff member holding every role), with real objects in the URLs.
Never a 5xx, nothing stored with a control character or over its limit, no markup reflected.

The machinery is the property test's own (tests/support/hostile.py).
``admin_contexts(world, rule, cls)`` (tests/support/admin.py) is what that test's World needs to be taught about /admin (it takes a World
as it is): AdminWorld here is World with that one branch."""
import re

import pytest

from app.admin.roles import ROLES
from tests.support import hostile
from tests.support.admin import Browser, admin_contexts, new_staff
from tests.support.web import token

ADMIN_FORMS = [cls for cls in hostile.FORMS if cls.__module__.startswith("app.admin")]

class AdminWorld(hostile.World):
    def contexts(self, rule, method, cls):
        if rule.rule.startswith("/admin"):
            return admin_contexts(self, rule, cls)
        return super().contexts(rule, method, cls)


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
