"""The acceptance gate: a signed-in user who has not accepted the agreements in force is shown the
acceptance step (an htmx modal over the page, or a full page without JavaScript) and then continues
with the request they made, which is carried through the step rather than lost."""
import json
from functools import wraps

from flask import g, redirect, render_template, request, session, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from markupsafe import Markup

from app.agreements import services
from app.agreements.forms import AcceptForm
from app.auth.services import safe_next
from app.core.clock import today_local
from app.core.htmx import wants_fragment
from app.extensions import login_manager, shared_cache

# Pages a user who has not (yet) accepted may still open: reading the agreements, the gate itself,
# logging out, and their own consent ledger.
OPEN_ENDPOINTS = {"static", "health.healthz", "health.readyz", "auth.logout", "account.consents", "account.consents_export",
                  "account.withdraw"}
SESSION_KEY = "agreements_ok"


def in_force_ids(today):
    """Ids of the platform versions in force today (shared, it changes only when a version takes effect)."""
    def load():
        return tuple(sorted(v.id for a in services.required_agreements()
                            if (v := services.effective_version(a, today)) is not None))
    return shared_cache.get_or_make(("agreements-in-force", today.isoformat()), load)


def original_request():
    """What the user asked for, to continue with after accepting: a GET is its URL; a POST also
    carries its fields (not the CSRF token, a fresh one is issued)."""
    url = safe_next(request.full_path.rstrip("?") if request.method == "GET" else request.path)
    fields = [] if request.method == "GET" else [
        [key, value] for key, value in request.form.items(multi=True) if key != "csrf_token"]
    return {"method": request.method if request.method in ("GET", "POST") else "GET", "url": url,
            "fields": fields}


def ask_for_consent(original=None):
    original = original or original_request()
    if wants_fragment():
        gate = Markup(render_block("agreements/accept.html", "gate", **gate_context(original)))
        html = render_template("agreements/modal.html", gate=gate)
        return html, 200, {"HX-Retarget": "#modal", "HX-Reswap": "innerHTML"}
    if original["method"] == "GET":
        return redirect(url_for("agreements.accept", next=original["url"]))
    return render_template("agreements/accept.html", **gate_context(original))


def parse_original(value):
    """The original request back from the form's hidden field; anything odd becomes the home page."""
    try:
        data = json.loads(value or "")
        method, url, fields = data["method"], data["url"], data.get("fields", [])
        assert method in ("GET", "POST") and all(len(pair) == 2 for pair in fields)
    except (ValueError, KeyError, TypeError, AssertionError):
        return {"method": "GET", "url": "/", "fields": []}
    return {"method": method, "url": safe_next(url), "fields": [[str(k), str(v)] for k, v in fields]}


def gate_context(original, form=None):
    """What the acceptance step shows: the pending agreements, a form carrying the original request."""
    form = form or AcceptForm(data={"original": json.dumps(original, ensure_ascii=False),
                                    "submission": services.new_submission_key()})
    return {"form": form, "pending": services.pending_agreements(current_user, today_local()),
            "needs_birth_date": current_user.birth_date is None}


def check_after_login():
    """Before any page, once per change of the versions in force: a signed-in user who owes an
    acceptance sees the gate. A page itself still renders, with the step over it (base.html loads the
    modal with htmx; without JavaScript a <noscript> refresh goes to the full-page step)."""
    if request.endpoint in OPEN_ENDPOINTS or not current_user.is_authenticated:  # the endpoint needs no database
        return None
    if (request.endpoint or "").startswith(("agreements.", "wechat_simulator.", "wechatpay_simulator.", "partner.")):
        return None
    today = today_local()
    ids = list(in_force_ids(today))
    if session.get(SESSION_KEY) == ids:
        return None
    if services.pending_agreements(current_user, today):
        if request.method == "GET" and not wants_fragment():
            g.agreements_step = url_for("agreements.accept", next=original_request()["url"])
            return None
        return ask_for_consent()
    session[SESSION_KEY] = ids
    return None


def consent_required(view):
    """For actions that need consent (purchase, claiming a voucher): checked against the
    database every time, so a withdrawal on another device counts at once."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if services.pending_agreements(current_user, today_local()):
            session.pop(SESSION_KEY, None)
            return ask_for_consent()
        return view(*args, **kwargs)
    return wrapper
