"""Who may open what: every /admin endpoint, found in app.url_map (a new one cannot escape), against every role
alone, no role, and nobody signed in. A missing permission is a 403 that says so and changes nothing, never the
page; a granted one is never a 403. Every POST needs its CSRF token. A view that declares no access is refused."""
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.admin import access
from app.admin.models import AuditEvent
from app.admin.roles import PERMISSIONS, ROLES, permissions_of
from app.extensions import db
from tests.support.admin import ARGUMENTS
from tests.support.web import token

ROLE_CASES = [*ROLES, "none"]


def admin_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")),
                  key=lambda rule: rule.rule)


def requests_of(app, values):
    """(endpoint, method, path) for every method of every /admin rule."""
    found = []
    for rule in admin_rules(app):
        path = re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((rule.endpoint, method, path))
    return found


def audit_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_every_admin_endpoint_declares_who_may_open_it(app):
    rules = admin_rules(app)
    assert len(rules) >= 20, [r.rule for r in rules]
    undeclared = [rule.endpoint for rule in rules if access.access_of(app.view_functions[rule.endpoint]) is None]
    assert not undeclared
    for rule in rules:
        declared = access.access_of(app.view_functions[rule.endpoint])
        assert declared == access.PUBLIC or all(p in PERMISSIONS for p in declared), (rule.endpoint, declared)
    public = {rule.endpoint for rule in rules if access.access_of(app.view_functions[rule.endpoint]) == access.PUBLIC}
    assert public == {"admin.login", "admin.login_submit", "admin.login_password", "admin.login_password_submit",
                      "admin.login_enrol", "admin.login_enrol_submit", "admin.login_verify",
                      "admin.login_verify_submit", "admin.logout"}


@pytest.fixture()
def targets(app, request, member):
    """Real objects for the URLs' arguments (another staff account, a consumer, a product, a rate table…), made
    as the property test makes them (tests.support.admin.ARGUMENTS)."""
    world = SimpleNamespace(app=app, request=request, member=member)
    names = sorted({name for rule in admin_rules(app) for name in rule.arguments})
    return {name: ARGUMENTS[name](world) for name in names}


@pytest.mark.parametrize("role", ROLE_CASES)
def test_each_role_gets_403_for_every_endpoint_it_lacks_and_never_for_the_others(app, role, signed_in, targets):
    browser, staff = signed_in(*([] if role == "none" else [role]))
    granted = permissions_of([] if role == "none" else [role])
    csrf = token(browser.client.get("/admin/").get_data(as_text=True))
    refused, allowed = [], []
    for endpoint, method, path in requests_of(app, targets):
        declared = access.access_of(app.view_functions[endpoint])
        if declared == access.PUBLIC:
            continue
        before = audit_count(app)
        response = browser.client.open(path, method=method, data={"csrf_token": csrf} if method == "POST" else None)
        body = response.get_data(as_text=True)
        if set(declared) <= granted:
            allowed.append(endpoint)
            assert response.status_code != 403, (role, method, path)
            assert response.status_code < 500, (role, method, path, response.status_code)
        else:
            refused.append(endpoint)
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert "无权访问" in body and "你的角色没有此操作的权限" in body, (role, path)
            assert audit_count(app) == before, (role, method, path)  # nothing done, nothing recorded
        assert browser.client.get("/admin/").status_code == 200  # still signed in
    if role == "admin":
        assert "admin.staff_reset" in allowed and "admin.user_reveal" in refused
    if role == "support":
        assert "admin.user_reveal" in allowed and "admin.staff_list" in refused and "admin.audit_log" in refused
    if role in ("ops", "merchant", "moderation", "none"):
        assert set(refused) >= {"admin.staff_list", "admin.audit_log", "admin.lookup", "admin.user_detail"}
    own_account = {"admin.home", "admin.account", "admin.account_password", "admin.account_recovery_codes"}
    if role == "none":
        assert set(allowed) == own_account
    if role == "ops":
        assert {"admin.product_rates", "admin.product_rates_import", "admin.rate_table_approve"} <= set(allowed)
        assert "admin.user_reveal" in refused


def test_a_403_for_htmx_is_one_sentence(app, signed_in):
    browser, _ = signed_in("ops")
    response = browser.client.get("/admin/users?kind=order&q=DD1", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 403 and "<html" not in body and "无权访问" in body


def test_the_navigation_lists_only_what_the_roles_allow(app, signed_in):
    support, _ = signed_in("support")
    page = support.client.get("/admin/").get_data(as_text=True)
    nav = re.search(r'<nav class="admin-nav".*?</nav>', page, re.S).group(0)
    assert "用户查询" in nav and "后台账号" not in nav and "审计日志" not in nav
    admin, _ = signed_in("admin")
    nav = re.search(r'<nav class="admin-nav".*?</nav>', admin.client.get("/admin/").get_data(as_text=True), re.S).group(0)
    assert "后台账号" in nav and "审计日志" in nav and "用户查询" not in nav


def test_nobody_signed_in_is_sent_to_the_login_page(app, targets):
    client = app.test_client()
    csrf = token(client.get("/admin/login").get_data(as_text=True))
    for endpoint, method, path in requests_of(app, targets):
        if access.access_of(app.view_functions[endpoint]) == access.PUBLIC:
            continue
        response = client.open(path, method=method, data={"csrf_token": csrf} if method == "POST" else None)
        assert response.status_code == 302, (method, path, response.status_code)
        assert response.headers["Location"].startswith("/admin/login"), (method, path)
    response = client.get("/admin/staff", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"].startswith("/admin/login")


def test_a_consumer_session_grants_nothing_here(app, member):
    consumer = member().client
    assert consumer.get("/admin/").status_code == 302
    assert consumer.get("/admin/users").headers["Location"].startswith("/admin/login")


def test_every_post_needs_its_csrf_token(app, signed_in, targets):
    """As someone holding every role: without the token each POST is refused (400) before anything happens."""
    browser, _ = signed_in(*ROLES)
    for endpoint, method, path in requests_of(app, targets):
        if method != "POST":
            continue
        before = audit_count(app)
        response = browser.client.post(path, data={"reason": "没有令牌的请求", "roles": "admin"})
        assert response.status_code == 400, (path, response.status_code)
        assert "页面已过期" in response.get_data(as_text=True)
        assert audit_count(app) == before, path


def test_a_view_that_declares_nothing_is_refused(app, signed_in, monkeypatch):
    """guard() fails closed: an /admin view without @requires or @public answers 403 and never runs, even for
    someone holding every role."""
    browser, _ = signed_in(*ROLES)
    ran = []
    monkeypatch.setitem(app.view_functions, "admin.home", lambda: ran.append(1) or "the page")
    response = browser.client.get("/admin/")
    assert response.status_code == 403 and not ran and "无权访问" in response.get_data(as_text=True)
