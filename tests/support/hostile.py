"""The machinery of the property test of issue 13 (tests/core/test_hostile_input.py, whose docstring tells how
it finds every form and where it is posted): the discovery, hostile values and how they are sent, watching what
reaches the database, the World of real objects a URL needs, running targets and checking what they left;
tests/admin/test_admin_hostile.py teaches it the back office."""
import importlib
import inspect
import json
import logging
import pkgutil
import re
import secrets
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs, quote, urlsplit

import hypothesis
import wtforms
from flask import url_for
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, Text, event, select, type_coerce
from sqlalchemy import inspect as inspect_database
from wtforms.csrf.core import CSRFTokenField

import app as app_package
from app.auth.models import User
from app.claims.models import Claim
from app.core import forms as core_forms
from app.core.clock import db_now
from app.core.pii import Encrypted, decrypt
from app.extensions import db
from app.purchase.models import STEPS
from tests.support.agreements import accept, gate_form
from tests.support.claims import issued_policy, new_claim, photo
from tests.support.identity import ADULT_ID, APPLICANT, KID, WIFE
from tests.support.pay import paid_policy
from tests.support.purchase import GOOD as CAR
from tests.support.purchase import MEDICAL, Buyer
from tests.support.vouchers import PASSWORD, claimed_code
from tests.support.web import csrf_token
from tests.support.web import field as field_of
from tests.support.wechat import Desktop, MinorDesktop, Phone, bridge_token, guardian_opens

EXAMPLES = 10  # per (endpoint, form) pair; the whole file runs on each database within its budget
# No shrinking: an example is a real request (some rebuild an application), and the message shows it whole.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])

# Blueprints that are not the app's own pages: the development simulators of WeChat and WeChat Pay (never
# served in production) and static files. WeChat Pay's notification is a signed JSON body, not a form.
NOT_PAGES = ("static", "wechat_simulator.", "wechatpay_simulator.")
NOT_FORMS = {"orders.wechat_notify"}


# Discovery

def _import_app():
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


_import_app()
BASES = {core_forms.Form, core_forms.SubForm, core_forms.QueryForm}
FORMS = sorted({cls for base in (core_forms.Form, core_forms.SubForm) for cls in _subclasses(base)
                if cls not in BASES and cls.__module__.startswith("app.")}, key=lambda c: c.__name__)


def _held_forms(cls):
    """The SubForms a form holds (FieldList of FormField, FormField), as classes."""
    unbound_fields = [value for klass in cls.__mro__ for value in vars(klass).values()
                      if isinstance(value, wtforms.fields.core.UnboundField)]
    for unbound in unbound_fields:
        while unbound.field_class is wtforms.FieldList:
            unbound = unbound.args[0]
        if unbound.field_class is wtforms.FormField:
            yield unbound.args[0]


class Reach:
    """What a view can get to: the source of the view and of the app's own functions it calls by name
    (``_helper()``) or looks up in a module-level table (``STEPS[step][0](…)``), recursively; and the values
    its closures hold (a view made for a configured object, e.g. a QR bridge's ``form=GuardianForm``)."""

    def __init__(self, view):
        self.sources, self.forms, self._seen = [], set(), set()
        self._function(view)
        self.source = "\n".join(self.sources)

    def _function(self, function):
        function = inspect.unwrap(function)
        if function in self._seen:
            return
        self._seen.add(function)
        try:
            text = inspect.getsource(function)
        except (OSError, TypeError):
            return
        self.sources.append(text)
        names = getattr(function, "__globals__", {})
        for name in set(re.findall(r"(?<![.\w])([A-Za-z_]\w*)[(\[]", text)):
            self._value(names.get(name), functions_only=True)
        for cell in getattr(function, "__closure__", None) or ():
            try:
                self._value(cell.cell_contents)
            except ValueError:  # a cell not filled yet
                continue

    def _value(self, value, depth=0, functions_only=False):
        if depth > 3 or value is None:
            return
        if inspect.isfunction(value):
            if value.__module__.startswith("app."):
                self._function(value)
        elif isinstance(value, dict | list | tuple):
            for item in value.values() if isinstance(value, dict) else value:
                self._value(item, depth + 1, functions_only)
        elif functions_only:
            return
        elif isinstance(value, type):
            if issubclass(value, core_forms.Form | core_forms.SubForm):
                self.forms.add(value)
        elif type(value).__module__.startswith("app.") and hasattr(value, "__dict__"):
            if id(value) not in self._seen:
                self._seen.add(id(value))
                for item in vars(value).values():
                    self._value(item, depth + 1)


_REACH = {}


def reach(app, endpoint):
    view = app.view_functions[endpoint]
    if view not in _REACH:
        _REACH[view] = Reach(view)
    return _REACH[view]


def app_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if not rule.endpoint.startswith(NOT_PAGES) and rule.endpoint not in NOT_FORMS]


def rules_taking(app, cls):
    """(rule, method) pairs whose view takes the form ``cls``."""
    found = []
    for rule in app_rules(app):
        view = reach(app, rule.endpoint)
        if cls not in view.forms and not re.search(rf"(?<![\w.]){cls.__name__}\b", view.source):
            continue
        if "POST" in rule.methods:
            found.append((rule, "POST"))
        elif "GET" in rule.methods and issubclass(cls, core_forms.QueryForm):
            found.append((rule, "GET"))
    return found


def direct_reads(app, endpoint, method):
    """Names the view reads from the request itself (``q{i}`` as q0…q3)."""
    where = "form" if method == "POST" else "args"
    names = set()
    for name in re.findall(rf'request\.{where}\.get\(\s*f?"([^"]+)"', reach(app, endpoint).source):
        names.update(name.replace("{i}", str(i)) for i in range(4)) if "{" in name else names.add(name)
    return sorted(names)


def form_fields(app, cls):
    """The input names of a form (FieldList rows included) and the names of its CSRF fields."""
    with app.test_request_context():
        form = cls(formdata=None, meta={"csrf": False})
        names = list(_leaves(form))
    prefix = getattr(form, "_prefix", "")
    csrf = [prefix + "csrf_token"] if getattr(cls.Meta, "csrf", True) is not False and not issubclass(
        cls, (core_forms.QueryForm, core_forms.SubForm)) else []
    return names, csrf


def longest_field(app):
    """The most characters any text field of any form takes (its Length, or the guard's default)."""
    longest = 0
    with app.test_request_context():
        for cls in FORMS:
            for item in _fields(cls(formdata=None, meta={"csrf": False})):
                if isinstance(item, wtforms.StringField):
                    longest = max(longest, core_forms._max_length(item))
    return longest


def _fields(form):
    for item in form:
        if item.type in ("FieldList", "FormField"):
            yield from _fields(item)
        else:
            yield item


def _leaves(form):
    for item in form:
        if isinstance(item, CSRFTokenField):
            continue
        if item.type in ("FieldList", "FormField"):
            yield from _leaves(item)
        else:
            yield item.name


def covered_elsewhere(app, cls):
    """For a form no view names itself: the forms it is tested through (its subclasses, or the forms
    holding it)."""
    through = [sub for sub in _subclasses(cls) if rules_taking(app, sub)]
    through += [holder for holder in FORMS if cls in set(_held_forms(holder)) and rules_taking(app, holder)]
    return through


# Hostile values

MARKUP = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
REFLECTED = ["<script>alert(1)", "<img src=x onerror"]  # what must never come back unescaped
BAD_CHARACTERS = ["\x00", "\x01", "\x08", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\u2069", "\u200f", "\u061c",
                  "\ud800", "\udfff", "\ufffe", "\n", "\r", "\t"]
FIXED = [*MARKUP, "\x00", "A\x00B", "\x01\x07\x1b[31m", "\u202e", "\u2066abc\u2069", "张\u202e伟", "\ufeff",
         "/" + "测" * 3000, "/me\u202e", "/me\x00", "\ud800", "\udfff", b"\xff\xfe", b"\xc3", "x" * 10240, "测" * 10240, "😀", "👨\u200d👩\u200d👧", "𠀀𪚥𡃁",
         "0001-01-01", "9999-12-31", "2026-02-30", "99999-01-01", "1900-01-01", "99999999999999999999",
         "-99999999999999999999", "-1", "0", "1e309", "NaN", "inf", "1.5", "", " ", "\t", "\r\n", "null", "[]",
         "{}", "csv", "%00", "../../etc/passwd", "' OR 1=1 --", "//evil.example/", "/\\evil", "javascript:alert(1)"]
hostile = st.one_of(st.sampled_from(FIXED), st.text(st.characters(exclude_categories=()), max_size=12))


@dataclass(frozen=True)
class Value:
    """How one field is sent in an example: its valid value, that value with a bad character in it,
    hostile values, or not at all (resolved against the current valid values when sent)."""
    kind: str  # base | inject | append | values | omit
    values: tuple = ()
    position: int = 0

    def resolve(self, base):
        base = [] if base is None else list(base) if isinstance(base, list | tuple) else [base]
        if self.kind == "base":
            return base
        if self.kind in ("inject", "append"):
            text = base[0] if base and isinstance(base[0], str) else ""
            at = len(text) if self.kind == "append" else self.position % (len(text) + 1)
            return [text[:at] + self.values[0] + text[at:]]
        return list(self.values)


def hostile_value(has_base):
    """A field's value other than its valid one: the valid one with a bad character in it (twice as likely),
    one hostile value (twice as likely), several, or none."""
    single = st.lists(hostile, min_size=1, max_size=1).map(lambda v: Value("values", tuple(v)))
    several = st.lists(hostile, min_size=2, max_size=3).map(lambda v: Value("values", tuple(v)))
    kinds = [single, single, several, st.just(Value("omit"))]
    if has_base:
        inject = st.builds(lambda c, p: Value("inject", (c,), p), st.sampled_from(BAD_CHARACTERS), st.integers(0, 40))
        kinds += [inject, inject]
    return st.sampled_from(kinds).flatmap(lambda kind: kind)


def form_values(names, with_base, own):
    """{name: Value} for one request. Mostly one or two fields hostile and the others valid, so that the
    hostile value gets past the form's other checks to whatever is behind them (the form's ``own`` fields
    five times as often as the names its view reads itself); sometimes every field."""
    if not names:
        return st.just({})
    base = Value("base")
    weighted = [name for name in names for _ in range(5 if name in own else 1)]

    def some(count):
        @st.composite
        def draw_some(draw):
            chosen = set(draw(st.lists(st.sampled_from(weighted), min_size=1, max_size=count)))
            return {name: draw(hostile_value(name in with_base)) if name in chosen
                    else base if name in with_base else Value("omit") for name in names}
        return draw_some()

    every = st.fixed_dictionaries({name: st.one_of(st.just(base), hostile_value(True)) if name in with_base
                                   else hostile_value(False) for name in names})
    return st.sampled_from([some(1), some(1), some(1), some(2), every]).flatmap(lambda mode: mode)


# (how, what goes into the valid value; what is sent alone where there is none)
SWEEP = [("inject", "\x00", "A\x00B"), ("inject", "\u202e", "\u202eabc"), ("append", "测" * 10240, "测" * 10240)]


def sweep(names, with_base, own):
    """The examples run every time: each of the form's own fields in turn gets a NUL, a bidi override and
    10 KB more, the others their valid values."""
    base = {name: Value("base") if name in with_base else Value("omit") for name in names}
    for name in own:
        for how, inside, alone in SWEEP:
            value = Value(how, (inside,), 1) if name in with_base else Value("values", (alone,))
            yield {**base, name: value}, name


def encode(pairs):
    """An application/x-www-form-urlencoded body (or query) exactly as given: lone surrogates and invalid
    UTF-8 go out as the bytes a broken client would send."""
    def part(value):
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        return quote(raw, safe="")
    return "&".join(f"{part(name)}={part(value)}" for name, value in pairs)


# What reached the database

_CONTROL = re.compile(core_forms._FORBIDDEN_TEXT.pattern)  # control, bidi, surrogates, non-characters
_LINE_BREAKS = re.compile(r"[\t\n\r]")
# The names of the multi-line fields (TextAreaField) of every form: a line break written under one of them (a
# column, or a key of a JSON document) was typed into a text area; anywhere else it leaked from a one-line field.
MULTILINE = {name for cls in FORMS for klass in cls.__mro__ for name, value in vars(klass).items()
             if isinstance(value, wtforms.fields.core.UnboundField) and value.field_class is wtforms.TextAreaField}


def _texts(value):
    """The texts in a stored value: the value itself, or every string of a JSON document (keys included)."""
    return [text for text, _key in _keyed_texts(value)]


def _keyed_texts(value, key=None):
    """(text, the key it is under or None) for the value itself or every string of a JSON document."""
    if value[:1] in "{[":
        try:
            document = json.loads(value)
        except ValueError:
            return [(value, key)]
        texts, stack = [], [(document, None)]
        while stack:
            item, under = stack.pop()
            if isinstance(item, str):
                texts.append((item, under))
            elif isinstance(item, dict):
                stack.extend((name, None) for name in item.keys())
                stack.extend((inner, name) for name, inner in item.items())
            elif isinstance(item, list):
                stack.extend((inner, under) for inner in item)
        return texts
    return [(value, key)]


def problems_of(value, column=None, longest=None):
    """Why ``value`` must not be stored in ``column``: forbidden characters, longer than the column, or
    (``longest``, for what a request writes: line breaks are forbidden too) a text in a column without a
    length, or in a JSON document, longer than any field of any form takes."""
    if not isinstance(value, str):
        return []
    found = []
    name = getattr(column, "name", None)
    for text, key in [(value, name), *_keyed_texts(value, name)]:
        match = _CONTROL.search(text) or (longest and key not in MULTILINE and _LINE_BREAKS.search(text))
        if match:
            found.append(f"character U+{ord(match.group()):04X} in {text[:80]!r}")
            break
    length = getattr(getattr(column, "type", None), "length", None)
    if length is not None and len(value) > length:
        found.append(f"{len(value)} characters in a column of {length}")
    elif longest:
        texts = _texts(value)
        if length is None or texts != [value]:
            found += [f"a text of {len(text)} characters ({text[:20]!r}…), longer than any form field takes "
                      f"({longest})" for text in texts if len(text) > longest][:1]
    return found


@contextmanager
def watched_writes(engine, longest):
    """Every INSERT/UPDATE the app sends while inside, as (table, column, problem) findings; values are
    seen before encryption (SQLAlchemy's compiled parameters)."""
    findings = []

    def check(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            return
        compiled = getattr(context, "compiled", None)
        table = getattr(getattr(getattr(compiled, "compile_state", None), "statement", None), "table", None)
        rows = getattr(context, "compiled_parameters", None) or []
        for row in rows:
            for key, value in row.items():
                column = table.c.get(key) if table is not None else None
                for problem in problems_of(value, column, longest):
                    findings.append(f"{getattr(table, 'name', '?')}.{key}: {problem}")

    event.listen(engine, "before_cursor_execute", check)
    try:
        yield findings
    finally:
        event.remove(engine, "before_cursor_execute", check)


def stored_problems(app):
    """Every text column of every table read back (Encrypted ones decrypted): {(table, key, column): problem}."""
    found = {}
    with app.app_context():
        schema = inspect_database(db.engine)
        present = set(schema.get_table_names())
        for table in db.metadata.sorted_tables:
            if table.name not in present:  # a model whose migration is still to come
                continue
            in_database = {column["name"] for column in schema.get_columns(table.name)}
            columns = [c for c in table.columns if isinstance(c.type, String | Text | Encrypted)
                       and c.name in in_database]
            if not columns:
                continue
            keys = list(table.primary_key.columns)
            query = select(*keys, *(type_coerce(c, Text).label(c.name) for c in columns))
            for row in db.session.execute(query):
                key = tuple(row[:len(keys)])
                for column, value in zip(columns, row[len(keys):], strict=True):
                    if value is not None and isinstance(column.type, Encrypted):
                        try:
                            value = decrypt(value)
                        except Exception:  # another test's key rotation: not ours to read
                            continue
                    for problem in problems_of(value, column):
                        found[(table.name, key, column.name)] = problem
        db.session.rollback()
    return found


@contextmanager
def logged_errors(app):
    """Tracebacks the app logs (handle_unexpected_error) while inside."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            if record.exc_info:
                records.append("".join(traceback.format_exception(*record.exc_info)))

    handler = Keep(logging.ERROR)
    app.logger.addHandler(handler)
    try:
        yield records
    finally:
        app.logger.removeHandler(handler)


@contextmanager
def forms_built():
    """The form classes built while inside (every wtforms form, SubForms included)."""
    built = []
    original = wtforms.form.BaseForm.process

    def process(self, *args, **kwargs):
        built.append(type(self))
        return original(self, *args, **kwargs)

    wtforms.form.BaseForm.process = process
    try:
        yield built
    finally:
        wtforms.form.BaseForm.process = original


# The people and things the URLs need

BASELINES = {  # valid values, so that a hostile value in one field meets the checks behind the others
    "CatalogFilterForm": {"q": "医疗", "category": "medical", "age": "30", "sort": "price_asc", "page": "1"},
    "OfferFilterForm": {"kind": "carwash", "city": "北京"},
    "QuoteForm": {"plan": "basic", "age": "30", "gender": "M", "social_security": "yes", "frequency": "annual",
                  "birth_date": "1990-05-01"},
    "CarQuoteForm": CAR,
    "PlanForm": {"plan": "basic", "frequency": "annual"},
    "ApplicantForm": APPLICANT,
    "InsuredForm": {"relation": "child", "name": "张小妹", "id_number": KID, "social_security": "yes"},
    "BeneficiaryForm": {"kind": "named", "people-0-name": "李娜", "people-0-id_number": WIFE,
                        "people-0-relation": "spouse", "people-0-share": "100"},
    "ActionForm": {"q0": "no", "q1": "no", "q2": "no", "enabled": "1"},
    "ConfirmForm": {"acknowledged": "y", "idempotency_key": "hostile-input-key-0001"},
    "AccountContactForm": {key: APPLICANT[key] for key in ("mobile", "province", "city", "district", "address")},
    "DeleteForm": {"confirmed": "y"},
    "SurrenderForm": {"confirmed": "y"},
    "ClaimForm": {"agreement": "y", "submission": "hostile-input-submission-0001"},
    "GuardianForm": {"name": "张建国", "id_number": ADULT_ID, "relationship": "father"},
    "AcceptForm": {"gate-birth_date": "1990-05-01"},
    "PeriodForm": {"from": "2026-11-01", "to": "2026-11-25"},
    "NewClaimForm": {"event_date": "2026-11-20", "description": "骑车摔伤，在市第一医院急诊", "amount": "3250.50",
                     "payee_method": "wechat", "accept_waiting": "y"},
    "UploadForm": {"item": "invoice"},
    "PhoneUploadForm": {"item": "invoice"},
    "AppealForm": {"reason": "当天并未饮酒，附医院血液检测报告"},
}
# Defects this test finds that are not fixed yet: (form, endpoint or route; a text of the finding or of the
# traceback) → the defect. Each also gets a plain test at the end marked xfail(strict=True): when the fix lands,
# that test passes, the strict mark fails the run, and the entry goes with the mark. (The five it found first are
# fixed; their plain tests stand at the end.)
KNOWN_DEFECTS = []


def known_defect(places, text):
    """Whether ``text`` (a finding, or a traceback) is a known defect at one of ``places``."""
    return any(where in places and marker in text for where, marker, _ in KNOWN_DEFECTS)


# Valid values of what views read themselves (?next=, ?notice=…), where the test above has none.
OWN_READS = {"next": "/me", "notice": "repriced", "page": "2", "enabled": "1", "version": "1.0", "code": "ABCD"}
OUTSIDE_SERVICE = {"auth.wechat_callback": {502}}  # WeChat refused the code: its own page, by design


class World:
    """Builds, on demand, who signs in and what the URL names, for each kind of route. A route it does not
    know fails the test: teach it here."""

    def __init__(self, app, request, member):
        self.app, self.request, self.member = app, request, member

    def customer(self):
        m = self.member(birth_date=date(1990, 5, 1))
        accept(m.client, m.client.get("/agreements/accept?next=/").get_data(as_text=True), birth_date=None)
        m.csrf = csrf_token(m.client)
        return m

    def contexts(self, rule, method, cls):
        """[Context] for this route and form (``cls`` None: the view's own reads only)."""
        path, endpoint = rule.rule, rule.endpoint
        if path.startswith("/admin"):
            from tests.support.admin import admin_contexts
            return admin_contexts(self, rule, cls)
        if path.startswith(("/claims/photos/", "/m/claim-photos/")):
            return [self.claim_photos(rule)]
        if path.startswith("/claims/") or (path.startswith("/policies/") and "/claims/" in path):
            return [self.claim(rule)]
        if path.startswith("/buy/"):
            return self.application(rule, cls)
        if path.startswith("/policies/"):
            return [self.policy()]
        if path.startswith("/orders/"):
            owner = self.customer()
            number = re.fullmatch(r"/orders/(\w+)/pay", Buyer(owner.client).through(6).headers["Location"]).group(1)
            return [Context(owner.client, {"number": number}, owner.csrf)]
        if path.startswith("/offers/"):
            owner = self.customer()
            offer_id = self.request.getfixturevalue("make_offer")(per_user_limit=1000)
            page = owner.client.get(f"/offers/{offer_id}").get_data(as_text=True)
            baseline = {name: value for name in ("agreement_version", "submission") if (value := field_of(page, name))}
            return [Context(owner.client, {"offer_id": offer_id}, owner.csrf, baseline=baseline)]
        if path.startswith("/partner/"):
            return [self.partner(rule)]
        if path.startswith("/m/guardian/"):
            return [self.guardian()]
        if path == "/auth/wechat/callback":
            return [self.wechat_callback()]
        maker = next((make for prefix, make in USER_ROUTES.items() if path.startswith(prefix)), None)
        if maker is not None:  # a capability's own (its support module teaches it)
            return [maker(self, rule)]
        values = simple_values(rule)
        if path.startswith("/agreements/accept"):
            m = self.member()  # not yet accepted, no birth date: the whole acceptance step
            page = m.client.get("/agreements/accept?next=/me").get_data(as_text=True)
            fields, versions = gate_form(page)
            baseline = {"gate-original": fields["gate-original"], "gate-submission": fields["gate-submission"],
                        "gate-agreements": versions}
            return [Context(m.client, values, csrf_token(m.client), baseline=baseline)]
        if endpoint == "auth.login":  # the login page of someone not signed in
            client = self.app.test_client()
            return [Context(client, values, csrf_token(client))]
        owner = self.customer()
        return [Context(owner.client, values, owner.csrf)]

    def application(self, rule, cls):
        """A draft at the step that shows ``cls`` (a fresh one when an example finished or ended it), and
        for the last step also one already submitted (the path of a confirmation sent again)."""
        if "step" not in rule.arguments:
            owner = self.customer()
            buyer = Buyer(owner.client)
            return [Context(owner.client, {"slug": MEDICAL, "number": buyer.number}, owner.csrf)]
        contexts = []
        for step in steps_showing(self, cls) if cls is not None else [1]:
            contexts.append(self.draft_at(step))
            if step == max(STEPS) and not rule.rule.endswith("/check"):
                owner = self.customer()
                buyer = Buyer(owner.client)
                buyer.through(step)
                contexts.append(Context(owner.client, {"slug": MEDICAL, "number": buyer.number, "step": step},
                                        owner.csrf, label="submitted"))
        return contexts

    def draft_at(self, step):
        context = Context(None, {}, "", label=f"step {step}")

        def ensure():
            from app.purchase.models import Application
            if context.client is not None:
                with self.app.app_context():
                    row = db.session.scalar(select(Application).where(
                        Application.number == context.values["number"]))
                    if row.status == "draft" and row.step >= step:
                        return
            owner = self.customer()
            buyer = Buyer(owner.client)
            if step > 1:
                buyer.through(step - 1)
            context.client, context.csrf = owner.client, owner.csrf
            context.values = {"slug": MEDICAL, "number": buyer.number, "step": step}

        context.ensure = ensure
        ensure()
        return context

    def policy(self):
        owner = self.customer()
        number = paid_policy(owner.client, self.request.getfixturevalue("pay"))
        return Context(owner.client, {"number": number}, owner.csrf)

    def claim(self, rule):
        """A draft claim of the customer's, with a document (its token for the document's routes)."""
        owner = self.customer()
        policy = issued_policy(self.app, owner.id)
        number = new_claim(self.app, owner.id, policy)
        context = Context(owner.client, {"number": policy if rule.rule.startswith("/policies/") else number},
                          owner.csrf)
        if "token" in rule.arguments:  # a document of its own for each example (deleting it is one)
            context.ensure = lambda: context.values.update(token=stored_document(self.app, number))
            context.ensure()
        return context

    def claim_photos(self, rule):
        """用手机拍照上传: the desktop's code (its poll) or the phone of the account's own WeChat that opened it."""
        self.request.getfixturevalue("wechat")
        context = Context(None, {}, "")

        def ensure():
            from app.auth import qrlogin
            if context.client is not None:
                with self.app.app_context():
                    qr = qrlogin.find_by_token(context.values.get("token", ""), "claim_photos")
                    if qr is not None and qr.status == "scanned":
                        return
            desktop, phone = Desktop(self.app), Phone(self.app)
            nickname = f"拍照{secrets.token_hex(3)}"
            phone.authorize(desktop.token, user="new", nickname=nickname)
            phone.press(desktop.token, "confirm")
            desktop.poll()
            client = desktop.client
            accept(client, client.get("/agreements/accept?next=/").get_data(as_text=True))
            with self.app.app_context():
                user_id = db.session.scalar(select(User.id).where(User.nickname == nickname))
            number = new_claim(self.app, user_id, issued_policy(self.app, user_id))
            page = client.get(f"/claims/{number}").get_data(as_text=True)
            html = client.post(f"/claims/{number}/phone",
                               data={"csrf_token": field_of(page, "csrf_token")}).get_data(as_text=True)
            poll = re.search(r'hx-get="(/claims/photos/[^"]+/status)"', html).group(1)
            code = bridge_token(self.app, client, poll, "qrc", "/claims")
            if rule.rule.startswith("/claims/photos/"):
                context.client, context.csrf, context.values = client, field_of(page, "csrf_token"), {
                    "public_id": poll.split("/")[3]}
                return
            owner = Phone(self.app, pages="/m/claim-photos")
            owner.authorize(code, user="new", nickname=nickname)
            context.client, context.csrf, context.values = owner.client, owner.csrf, {"token": code}

        context.ensure = ensure
        ensure()
        return context

    def partner(self, rule):
        staff = self.request.getfixturevalue("staff_of")()
        offer_id = self.request.getfixturevalue("make_offer")()
        code = claimed_code(self.customer().client, offer_id)
        if rule.endpoint in ("partner.login", "partner.login_submit"):  # the page of someone not signed in
            client = self.app.test_client()
            return Context(client, {}, csrf_token(client), baseline={"username": staff.username, "password": PASSWORD,
                                                                     "next": "/partner/redemptions"})
        values = {"code": code} if "code" in rule.arguments else {}
        return Context(staff.client, values, csrf_token(staff.client), baseline={"code": code})

    def guardian(self):
        """A minor's code for their guardian, scanned by the guardian's phone (the fake WeChat)."""
        self.request.getfixturevalue("wechat")
        context = Context(None, {}, "")

        def ensure():
            from app.auth import qrlogin
            if context.client is not None:
                with self.app.app_context():
                    qr = qrlogin.find_by_token(context.values["token"], "guardian")
                    if qr is not None and qr.status == "scanned":
                        return
            minor = MinorDesktop(self.app, self.member().client)
            phone = Phone(self.app)
            guardian_opens(phone, minor.token)
            context.client, context.csrf, context.values = phone.client, phone.csrf, {"token": minor.token}

        context.ensure = ensure
        ensure()
        return context

    def wechat_callback(self):
        """A phone half way through WeChat's authorization of a login code: its session expects a state."""
        self.request.getfixturevalue("wechat")
        desktop, phone = Desktop(self.app), Phone(self.app)
        context = Context(phone.client, {}, "")

        def ensure():
            response = phone.open(desktop.token)
            assert response.status_code == 302, response.status_code
            context.baseline = {"state": parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]}

        context.ensure = ensure
        ensure()
        return context


def stored_document(app, number):
    """A photo stored on the claim as an upload would store it: its token."""
    from app.claims import documents

    with app.app_context():
        claim = db.session.scalar(select(Claim).where(Claim.number == number))
        accepted = documents.accept(photo(), "invoice.jpg")
        document = documents.store(claim, "invoice", accepted, original_name="invoice.jpg", source="desktop",
                                   now=db_now())
        db.session.commit()
        return document.token


# Routes of a user's own things that a capability's support module teaches: path prefix → maker(world, rule)
# returning a Context (tests/support/assistant_consult.py's /consult/).
USER_ROUTES = {}

# Path arguments that name nothing of a user's own: a real value each (by path and argument name).
SIMPLE_ARGUMENTS = [(r"/agreements/<kind>", "kind", "privacy"), (r"/me/consents/<kind>", "kind", "pi-authorization"),
                    (r"/documents/<kind>", "kind", "terms"), (r"<slug:slug>", "slug", MEDICAL)]


def simple_values(rule):
    values = {}
    for name in rule.arguments:
        options = re.search(rf"<any\(([^)]*)\):{name}>", rule.rule)
        if options is not None:
            values[name] = options.group(1).split(",")[0].strip()
            continue
        value = next((v for pattern, arg, v in SIMPLE_ARGUMENTS if arg == name and re.search(pattern, rule.rule)), None)
        if value is None:
            raise LookupError(f"{rule.endpoint}: no way to build <{name}> of {rule.rule}; teach World.contexts")
        values[name] = value
    return values


@dataclass
class Context:
    client: object
    values: dict
    csrf: str
    ensure: object = None
    baseline: dict = field(default_factory=dict)
    label: str = ""


STEP_FORMS = {}  # step → the form classes its page builds (asked of the app once per run)


def steps_showing(world, cls):
    if not STEP_FORMS:
        owner = world.customer()
        buyer = Buyer(owner.client)
        buyer.through(max(STEPS) - 1)
        for step in STEPS:
            with forms_built() as built:
                response, _ = buyer.page(step)
            assert response.status_code == 200, (step, response.status_code)
            STEP_FORMS[step] = set(built)
    found = [step for step, built in STEP_FORMS.items() if cls in built]
    assert found, f"{cls.__name__}: no application step shows it ({STEP_FORMS})"
    return found


# Driving one target

@dataclass
class Target:
    name: str
    method: str
    rule: object
    context: Context
    fields: list  # the form's own fields, then the names the view reads itself
    own: list
    csrf_fields: list
    baseline: dict
    trigger: bool = False  # the inline check: HX-Trigger-Name names the field
    form: type = None
    longest: int = 0  # the longest text any field of any form takes
    statuses: dict = field(default_factory=dict)
    reached: int = 0  # examples whose request built the form

    def url(self, app):
        with app.test_request_context():
            return url_for(self.rule.endpoint, **self.context.values)


def run(app, target):
    """Hypothesis over one target; what went wrong, as a message (None when nothing did)."""
    names = target.fields
    with_base = set(target.baseline) | set(target.context.baseline)
    trigger = st.sampled_from(names + ["csrf_token", "no-such-field"]) if target.trigger else st.none()
    with app.app_context():
        engine = db.engine

    @SETTINGS
    @given(chosen=form_values(names, with_base, target.own), trigger_name=trigger, htmx=st.booleans())
    def example(chosen, trigger_name, htmx):
        send(chosen, trigger_name, htmx)

    for chosen, name in sweep(names, with_base, target.own):
        example = hypothesis.example(chosen=chosen, trigger_name=name if target.trigger else None,
                                     htmx=False)(example)

    def send(chosen, trigger_name, htmx):
        if target.context.ensure is not None:
            target.context.ensure()
        baseline = {**target.baseline, **target.context.baseline}
        pairs = [(name, target.context.csrf) for name in target.csrf_fields]
        for name in names:
            pairs += [(name, value) for value in chosen[name].resolve(baseline.get(name))]
        headers = {"HX-Request": "true"} if htmx or target.trigger else {}
        if target.context.csrf:
            headers["X-CSRFToken"] = target.context.csrf
        if trigger_name is not None:
            headers["HX-Trigger-Name"] = trigger_name
        url, body = target.url(app), encode(pairs)
        with watched_writes(engine, target.longest) as writes, logged_errors(app) as errors, forms_built() as built:
            try:
                if target.method == "GET":
                    response = target.context.client.get(url, query_string=body, headers=headers)
                else:
                    response = target.context.client.post(url, data=body.encode("ascii"), headers=headers,
                                                           content_type="application/x-www-form-urlencoded")
            except Exception:  # an exception that escaped the app's own handlers
                raise AssertionError(f"the request raised\n{traceback.format_exc()}") from None
        target.statuses[response.status_code] = target.statuses.get(response.status_code, 0) + 1
        target.reached += target.form in built
        where = f"{target.method} {url} {'HX ' if htmx else ''}{shown(pairs)}"
        allowed = OUTSIDE_SERVICE.get(target.rule.endpoint, set())
        places = {target.rule.endpoint, target.rule.rule, target.form.__name__ if target.form else ""}
        if response.status_code == 500 and errors and known_defect(places, errors[-1]):
            return
        assert response.status_code < 500 or response.status_code in allowed, (
            f"{response.status_code} for {where}\n" + (errors[-1] if errors else ""))
        stored = [finding for finding in writes if not known_defect(places, finding)]
        assert not stored, f"stored {stored} for {where}"
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            for marker in REFLECTED:
                if any(isinstance(v, str) and marker in v for _, v in pairs):
                    assert marker not in html, f"{marker!r} reflected unescaped for {where}"

    try:
        example()
    except AssertionError as error:
        return f"{target.name}: {error}"
    return None


def shown(pairs):
    """The pairs sent, long values cut short, for a failure's message."""
    return [(name, value if len(value) <= 60 else value[:24] + f"…({len(value)} in all)") for name, value in pairs]


def targets_for(app, world, cls):
    names, csrf = form_fields(app, cls)
    longest = longest_field(app)
    targets = []
    for rule, method in rules_taking(app, cls):
        extra = [n for n in direct_reads(app, rule.endpoint, method) if n not in names]
        if not names + extra:  # a button (a CSRF token and nothing else): its path is all it takes
            continue
        for context in world.contexts(rule, method, cls):
            label = f" ({context.label})" if context.label else ""
            targets.append(Target(
                name=f"{cls.__name__} → {method} {rule.rule}{label}", method=method, rule=rule, context=context,
                fields=names + extra, own=names, csrf_fields=csrf if method == "POST" else [],
                baseline=BASELINES.get(cls.__name__, {}), trigger=rule.rule.endswith("/check"), form=cls,
                longest=longest))
    return targets


def check_targets(app, targets, label):
    """Runs the targets; fails with every problem found, the database read back included."""
    before = stored_problems(app)
    failures = []
    for target in targets:
        started = time.perf_counter()
        failures.append(run(app, target))
        print(f"{target.name}: {target.statuses} in {time.perf_counter() - started:.1f} s"
              + (f", the form built in {target.reached}" if target.form else ""))
        if target.form is not None and not target.reached and target.context.label != "submitted":
            failures.append(f"{target.name}: no example reached the form ({target.statuses}); is the URL right?")
    places = {place for target in targets for place in (target.rule.endpoint, target.rule.rule,
                                                         target.form.__name__ if target.form else "")}
    new = {key: problem for key, problem in stored_problems(app).items()
           if key not in before and not known_defect(places, f"{key[0]}.{key[2]}: {problem}")}
    if new:
        failures.append(f"{label}: now stored in the database: {new}")
    failures = [failure for failure in failures if failure]
    assert not failures, "\n\n".join(failures)


# Path segments

SEGMENTS = ["%00", "X%1FX", "%7F", "%C2%85", "%E2%80%AE", "%F0%A0%80%80", "%FF%ED%A0%80", "A" * 4000,
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "99999999999999999999"]
CONTROL_SEGMENT = re.compile(r"%(?:0[0-9A-F]|1[0-9A-F]|7F|C2%8[0-9A-F]|C2%9[0-9A-F])")
