"""Hostile input to every form of the app, found rather than listed (issue 13, the property test).

Discovery, so that a new form cannot escape this test:

- every module under app/ is imported, and every subclass of app.core.forms.Form and SubForm (recursively)
  is a form of the app (QueryForm, the GET forms, included);
- each form is mapped to the endpoints that take it by reading what their view functions can reach in
  ``app.url_map`` (``inspect.getsource`` of the view, unwrapped from its decorators, and of the app's own
  functions it calls or looks up in a module-level table, recursively, for the class name; and the form
  classes its closures hold, as a QR bridge's view holds its ``Bridge(form=GuardianForm)``): any POST view
  that takes it, and GET views for the QueryForm subclasses. A SubForm is taken wherever the form that holds
  it (FieldList/FormField) is; a base form only subclassed is tested through its subclasses. A form no
  endpoint takes fails the test, and so does a route whose arguments the test cannot fill (World);
- the views' own reads of ``request.form.get("…")`` / ``request.args.get("…")`` are fields too;
- which step of an application shows which form is asked of the app (the step pages are opened and the
  forms they build are recorded).

Every (endpoint, form) pair is then driven by hypothesis: a real URL (the signed-in user's own application,
order, policy, voucher, a guardian's scanned code…), a valid CSRF token, and for every field of the form
(FieldList rows included) either a valid value, a valid value with a hostile character inside, a hostile
value or several values. Asserted for every response: no 5xx (and no markup we sent reflected unescaped),
and for what reached the database: every INSERT/UPDATE is watched (plaintext, before encryption) and, after
each form, every text column of every table is read back (Encrypted columns decrypted, JSON documents
walked) — nothing with a control character, a bidi override, a surrogate or longer than its column.
Hostile path segments of every route and the query strings of the views that read them directly are
covered the same way.
"""
import json
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from tests.support.hostile import (
    CONTROL_SEGMENT,
    FORMS,
    OWN_READS,
    SEGMENTS,
    Target,
    World,
    app_rules,
    check_targets,
    covered_elsewhere,
    direct_reads,
    form_fields,
    known_defect,
    logged_errors,
    longest_field,
    rules_taking,
    targets_for,
)
from tests.support.purchase import GOOD as CAR
from tests.support.purchase import MEDICAL, Buyer
from tests.support.web import csrf_token


@pytest.fixture()
def world(app, request, member):
    return World(app, request, member)


@pytest.mark.parametrize("form", FORMS, ids=[cls.__name__ for cls in FORMS])
def test_hostile_values_in_every_field_of_every_form(app, world, form):
    if not rules_taking(app, form):
        through = covered_elsewhere(app, form)
        assert through, (f"{form.__module__}.{form.__name__}: no view takes this form (no POST view names it, "
                         f"nor a GET view a QueryForm): this test cannot reach it")
        held = {name for other in through for name in form_fields(app, other)[0]}
        own, _ = form_fields(app, form)
        assert all(any(name.endswith(mine) for name in held) for mine in own), (form, through)
        return  # its fields are sent as part of the forms that hold it or subclass it
    check_targets(app, targets_for(app, world, form), form.__name__)


def test_hostile_values_in_what_views_read_themselves(app, world):
    """Query strings and form fields a view reads from the request itself (?next=, ?notice=, ?version=, the
    WeChat callback's ?state=&code=…), where no form of the test above already sends them."""
    sent = {(rule.endpoint, method) for cls in FORMS for rule, method in rules_taking(app, cls)
            if form_fields(app, cls)[0] or direct_reads(app, rule.endpoint, method)}
    longest = longest_field(app)
    targets = []
    for rule in app_rules(app):
        for method in ("GET", "POST"):
            names = direct_reads(app, rule.endpoint, method) if method in rule.methods else []
            if not names or (rule.endpoint, method) in sent:
                continue
            for context in world.contexts(rule, method, None):
                targets.append(Target(name=f"{method} {rule.rule}", method=method, rule=rule, context=context,
                                      fields=names, own=names, csrf_fields=["csrf_token"] if method == "POST" else [],
                                      baseline={n: OWN_READS[n] for n in names if n in OWN_READS}, longest=longest))
    assert targets, "no view reads the request itself? (the discovery is broken)"
    check_targets(app, targets, "views' own reads")


# Path segments

PLAUSIBLE = {"slug": MEDICAL, "number": "WB000", "step": "1", "offer_id": "1", "code": "ABCD", "token": "t0",
             "public_id": "p0", "kind": "privacy", "fmt": "json", "setting": "promotions"}


def test_hostile_path_segments_are_refused_not_failed(app, world, request):
    """Every route with arguments, each argument in turn hostile (the others plausible), as a signed-in user
    (partner staff for /partner): never a 5xx, and a control character in a path is always a 404."""
    customer = world.customer()
    staff = request.getfixturevalue("staff_of")()
    staff.csrf = csrf_token(staff.client)
    failures, tried = [], 0
    for rule in app_rules(app):
        arguments = re.findall(r"<(?:[^<>]*:)?(\w+)>", rule.rule)
        method = "GET" if "GET" in rule.methods else "POST"
        who = staff if rule.rule.startswith("/partner") else customer
        for hostile_argument in arguments:
            for segment in SEGMENTS:
                path = re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: segment if m.group(1) == hostile_argument
                              else PLAUSIBLE.get(m.group(1), "1"), rule.rule)
                with logged_errors(app) as errors:
                    response = who.client.open(path, method=method, data={"csrf_token": who.csrf},
                                               headers={"X-CSRFToken": who.csrf})
                tried += 1
                if response.status_code == 500 and errors and known_defect({rule.rule, rule.endpoint}, errors[-1]):
                    continue
                if response.status_code >= 500:
                    failures.append(f"{response.status_code} for {method} {path[:200]}\n" + (errors[-1] if errors else ""))
                elif CONTROL_SEGMENT.search(segment) and response.status_code != 404:
                    failures.append(f"{response.status_code}, not 404, for {method} {path[:200]}")
    assert tried > 100, tried
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("method, path", [
    ("GET", "/orders/DD%00X"), ("GET", "/orders/DD%00X/pay"), ("POST", "/orders/DD%00X/check"),
    ("GET", "/policies/P%00X"), ("GET", "/policies/P%00X.pdf"), ("GET", "/agreements/%00privacy"),
    ("GET", f"/buy/{MEDICAL}/WB%00X/1"), ("POST", "/me/consents/%00x/withdraw"),
    ("GET", "/partner/redemptions?to=9999-12-31"), ("GET", "/partner/redemptions?from=0001-01-01&to=0001-01-01"),
    ("GET", "/partner/redeem/%00"),
    ("POST", "/partner/redeem/%00"), ("GET", "/partner/redeem?code=%00"),
])
def test_the_cases_issue_13_names_are_refused(app, world, request, method, path):
    """The requests issue 13 found answering 500 (PostgreSQL's NUL, a date past 9999): a 4xx now."""
    if path.startswith("/partner"):
        who = request.getfixturevalue("staff_of")()
    else:
        who = world.customer()
    token = csrf_token(who.client)
    with logged_errors(app) as errors:
        response = who.client.open(path, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
    assert response.status_code in (400, 404, 422), (response.status_code, errors[-1:] or "")


def test_the_saved_car_quote_keeps_no_more_than_the_form_takes(app, world):
    """Found by the property test on the way: the saved quote kept request.form as sent, and a BooleanField
    (passengers, damage) takes any text as ticked, so 10 KB there was stored whole."""
    owner = world.customer()
    response = owner.client.post("/car", data={**CAR, "passengers": "测" * 10240, "csrf_token": owner.csrf})
    assert response.status_code == 200
    with app.app_context():
        from app.purchase.models import SavedCarQuote
        row = db.session.scalar(select(SavedCarQuote).where(SavedCarQuote.user_id == owner.id))
        saved = json.loads(row.data)
    assert saved["passengers"] == "y" and all(len(value) <= longest_field(app) for value in saved.values())


def test_a_non_ascii_state_on_the_wechat_callback_is_refused(app, world):
    context = world.wechat_callback()
    with logged_errors(app) as errors:
        response = context.client.get("/auth/wechat/callback", query_string={"state": "状态", "code": "x"})
    assert response.status_code == 400, (response.status_code, errors[-1:])


def test_a_confirmation_sent_again_with_a_nul_in_its_key_is_no_500(app, world):
    owner = world.customer()
    buyer = Buyer(owner.client)
    buyer.through(6)
    with logged_errors(app) as errors:
        response = owner.client.post(f"/buy/{MEDICAL}/{buyer.number}/6", data={
            "csrf_token": owner.csrf, "acknowledged": "y", "idempotency_key": "hostile\x00-input-key-01"})
    assert response.status_code < 500, errors[-1:]
    assert response.headers["Location"].startswith("/orders/")  # the order already placed, as for any resend


def test_a_long_next_on_the_login_page_is_not_kept_whole(app):
    from app.auth.models import QRLogin
    client = app.test_client()
    with logged_errors(app) as errors:
        response = client.get("/login", query_string={"next": "/me?" + "测" * 200})
    assert response.status_code == 200, (response.status_code, errors[-1:])
    public_id = re.search(r'hx-get="/login/qr/([^/"]+)/status"', response.get_data(as_text=True)).group(1)
    with app.app_context():
        next_url = db.session.scalar(select(QRLogin.next_url).where(QRLogin.public_id == public_id))
    assert len(next_url) <= 512


@pytest.mark.parametrize("method, path", [("GET", "/offers/99999999999999999999"),
                                          ("POST", "/offers/99999999999999999999/claim")])
def test_an_offer_id_past_64_bits_is_not_found(app, world, method, path):
    owner = world.customer()
    with logged_errors(app) as errors:
        response = owner.client.open(path, method=method, data={"csrf_token": owner.csrf})
    assert response.status_code == 404, (response.status_code, errors[-1:])


def test_the_discovery_finds_the_forms_and_where_they_are_posted(app):
    """The discovery itself, on what the app has today (a new form is found the same way)."""
    names = {cls.__name__ for cls in FORMS}
    assert {"CatalogFilterForm", "OfferFilterForm", "QuoteForm", "CarQuoteForm", "PlanForm", "ContactForm",
            "ApplicantForm", "InsuredForm", "BeneficiaryRow", "BeneficiaryForm", "ConfirmForm", "ActionForm",
            "AcceptForm", "GuardianForm", "ClaimForm", "StaffLoginForm", "RedeemForm", "AccountContactForm",
            "DeleteForm", "SurrenderForm"} <= names
    taken = {cls.__name__: {(method, rule.rule) for rule, method in rules_taking(app, cls)} for cls in FORMS}
    assert ("GET", "/products") in taken["CatalogFilterForm"] and ("GET", "/offers") in taken["OfferFilterForm"]
    assert ("POST", "/buy/<slug:slug>/<number>/<int:step>") in taken["BeneficiaryForm"]
    assert any(rule.startswith("/m/guardian/") for _, rule in taken["GuardianForm"])  # through the bridge
    assert "people-0-name" in form_fields(app, FORMS[[c.__name__ for c in FORMS].index("BeneficiaryForm")])[0]
