"""The QR bridge: every handoff from a desktop browser to a phone in WeChat is this one component.

The desktop shows a code bound to this browser (a nonce in an HttpOnly cookie; see qrlogin for the token,
its states and transitions). A phone opens it, is identified through WeChat web authorization, sees what
the code is about and confirms or cancels; the desktop's poll (htmx every 2 s, stopping at a final state;
without JavaScript, a link) learns the outcome and, once the phone has confirmed, spends the code and acts.

Each use is a declaration, a Bridge: its purpose, who may act on it (any WeChat user, the requesting
account's own WeChat, anyone but the requester), what the phone page shows and its buttons say, what
confirming does, what the desktop says in each state and does once the code is spent. ``register`` adds its
routes to the capability's blueprint; ``start`` makes a code and ``desktop_page`` shows it. Login, a
guardian's consent and account deletion are three declarations (auth, agreements and account views).
"""
import secrets
from dataclasses import dataclass, field
from typing import Callable

from flask import current_app, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.auth import qrlogin
from app.auth.forms import ActionForm
from app.auth.services import wechat_oauth
from app.core.clock import db_now
from app.core.database import begin_write, writes
from app.core.devices import channel_of, describe_browser
from app.core.domain import DomainError
from app.core.htmx import render_page, wants_fragment
from app.core.masking import mask_ip
from app.core.qr import qr_data_uri
from app.core.routing import takes_files
from app.extensions import db, limiter, login_manager

BRIDGES = {}  # purpose -> Bridge, as registered


@dataclass(frozen=True)
class Bridge:
    purpose: str  # QRLogin.purpose
    blueprint: str  # the capability whose blueprint has its routes
    name: str  # endpoint prefix: <name>_status, <name>_phone, <name>_phone_confirm, <name>_phone_cancel
    poll_prefix: str  # the desktop polls <poll_prefix>/<public_id>/status
    cookie_path: str  # the desktop's nonce cookie is sent to these pages only
    phone_prefix: str  # the phone opens <phone_prefix>/<token>
    # Who may act on the code: "anyone" (any WeChat user), "requester" (the WeChat of the signed-in account
    # that asked), "not_requester" (anyone but that account). Requested codes are polled by that account only.
    opener: str
    # confirm(qr, openid, form, now): what confirming does (flushes; DomainError refuses, on a field when it
    # names one). spent(qr, now): what the desktop does once the code is confirmed and spent (commits, and
    # answers with a response).
    confirm: Callable
    spent: Callable
    desktop_template: str  # the desktop page, whose block <status_block> holds the status (bridge_status)
    status_block: str
    status_id: str
    texts: dict  # state (or "cancelled:<refusal>") -> (title, detail, action label); {nickname} is the scanner's
    retry: Callable  # retry(qr, state) -> the URL of the status's action
    noscript_label: str
    simulator_label: str
    # The phone page: its title, what it shows (a template included above the buttons, and one inside the
    # confirm form for fields), its buttons, and what it says once done.
    phone_title: str
    ask_template: str
    confirm_label: str
    cancel_label: str
    done: dict  # "confirm" / "cancel" -> the sentence shown on the phone
    form: type = ActionForm
    fields_template: str | None = None
    phone_context: Callable = field(default=lambda qr: {})
    desktop_context: Callable = field(default=lambda qr: {})  # more for the desktop page (every time it is shown)
    # On a phone the code cannot be scanned by that same phone: the page offers a link to copy instead, with
    # this sentence: the phone's page of the code (to send to a guardian, or open in this phone's WeChat), or,
    # with share_page, the page the user was going to (to open in WeChat, where no code is needed).
    share_label: str = "复制下面的链接，在手机微信中打开"
    share_page: bool = False
    danger: bool = False
    show_scanner: bool = False  # the scanner's avatar and nickname above the status
    words: tuple = ("confirm", "cancel")  # the phone's two POST URLs
    # A code used again and again (a claim's photos): confirming keeps the phone on its page, saying
    # done["confirm"] (formatted with what confirm returns), ready for the next; the form may carry files.
    repeat: bool = False
    # Slow work on what the phone sent (decoding photos) before the write lock is taken: prepare(form) → kept
    # as form.prepared for confirm; max_upload: the request size the confirm takes (files), else the site's.
    prepare: Callable | None = None
    max_upload: int | None = None

    def endpoint(self, suffix):
        return f"{self.blueprint}.{self.name}_{suffix}"

    @property
    def requested(self):
        return self.opener != "anyone"

    def cookie(self, public_id):
        return f"qr{self.purpose[0]}_{public_id}"

    def text(self, qr, state):
        """(title, detail, action) for the desktop's status; action is (label, url) or None."""
        key = f"{state}:{qr.refusal}" if qr is not None and getattr(qr, "refusal", "") else state
        title, detail, label = self.texts.get(key) or self.texts.get(state) or self.texts["invalid"]
        nickname = (qr.scanner_nickname if qr is not None else "") or ""
        action = (label, self.retry(qr, state)) if label else None
        return title.format(nickname=nickname), detail, action


# The desktop

def start(bridge, *, next_url, requester=None, payload=""):
    """A new code for this browser: (qr, token, nonce). Flushes; the caller commits, then shows it."""
    browser, system = describe_browser(request.user_agent.string)
    return qrlogin.create_login(next_url=next_url, browser=browser, os=system, masked_ip=mask_ip(request.remote_addr),
                                now=db_now(), purpose=bridge.purpose,
                                requester_user_id=requester.id if requester is not None else None, payload=payload)


def desktop_page(bridge, qr, token, nonce=None, *, state="pending", status=200, **context):
    """The desktop's page with the code and its status; with ``nonce``, binds the code to this browser."""
    site = current_app.config["SITE_URL"].rstrip("/")
    phone_url = site + url_for(bridge.endpoint("phone"), token=token)
    on_phone = channel_of(request.user_agent.string) == "phone"
    share_url = (site + qr.next_url if bridge.share_page else phone_url) if on_phone else None
    response = make_response(render_template(
        bridge.desktop_template, bridge=bridge, qr=qr, state=state, qr_image=qr_data_uri(phone_url),
        phone_url=phone_url, share_url=share_url, simulator="wechat_simulator" in current_app.blueprints,
        **bridge.desktop_context(qr), **context), status)
    if nonce is not None:
        response.set_cookie(bridge.cookie(qr.public_id), nonce,
                            max_age=current_app.config["QR_LOGIN_TTL_SECONDS"] * 2, path=bridge.cookie_path,
                            httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    response.headers["Cache-Control"] = "no-store"
    return response


def _status(bridge, public_id):
    """The desktop's poll: most polls only read; a confirmed code is spent here and the bridge acts."""
    if bridge.requested and not current_user.is_authenticated:
        return login_manager.unauthorized()
    nonce = request.cookies.get(bridge.cookie(public_id))
    qr = qrlogin.find_for_browser(public_id, nonce, purpose=bridge.purpose, peek=True)
    if qr is None or (bridge.requested and qr.requester_user_id != current_user.id):
        # Unknown, or another browser's: the same answer either way. The poll gets it as a 200, so that
        # htmx swaps it in and stops polling.
        return render_page(bridge.desktop_template, bridge.status_block, 200 if wants_fragment() else 404,
                           bridge=bridge, qr=None, state="invalid")
    now = db_now()
    if qrlogin.needs_update(qr, now):
        qr, spent = qrlogin.settle(public_id, nonce, purpose=bridge.purpose, now=now)
        if spent:
            response = make_response(bridge.spent(qr, now))
            response.delete_cookie(bridge.cookie(public_id), path=bridge.cookie_path)
            return response
        db.session.commit()
    if wants_fragment():
        return render_page(bridge.desktop_template, bridge.status_block, bridge=bridge, qr=qr, state=qr.status)
    return desktop_page(bridge, qr, qrlogin.derive_token(public_id, nonce), state=qr.status)


# The phone

class PhoneRefusal(Exception):
    """A phone that cannot go on: ``status`` and ``message`` are its answer."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def start_wechat_oauth(token, purpose, return_url):
    """Off to WeChat's authorize page; the state is bound to this code and checked on return."""
    state = secrets.token_hex(16)
    session["wechat_oauth"] = {"state": state, "token": token, "purpose": purpose, "return": return_url}
    callback = current_app.config["SITE_URL"].rstrip("/") + url_for("auth.wechat_callback")
    return redirect(wechat_oauth().authorize_url(callback, state))


def remember_scanner(qr, openid):
    session["qr_scanner"] = {"qr": qr.public_id, "openid": openid}


def forget_scanner():
    session.pop("qr_scanner", None)


def scanner_openid(qr):
    """The openid this phone proved through WeChat for this very code, or None."""
    scanner = session.get("qr_scanner") or {}
    if scanner.get("qr") == qr.public_id and scanner.get("openid") == qr.scanner_openid:
        return scanner["openid"]
    return None


def _code(bridge, token):
    qr = qrlogin.find_by_token(token, bridge.purpose)
    if qr is None:
        raise PhoneRefusal(404, qrlogin.QRLoginError.MESSAGES["unknown"])
    return qr


def _phone_page(bridge, message=None, status=200, **context):
    return render_template("auth/bridge_phone.html", bridge=bridge, message=message, **context), status


def phone_page_for(purpose):
    """``page(message, status, **context)``: the phone's page of the bridge of that purpose (for the WeChat
    callback, which every bridge's phone comes back through)."""
    declared = BRIDGES.get(purpose) or BRIDGES["login"]
    return lambda message=None, status=200, **context: _phone_page(declared, message, status, **context)


def _ask(bridge, qr, token, form, status=200):
    return _phone_page(bridge, status=status, qr=qr, token=token, form=form, **bridge.phone_context(qr))


def _open(bridge, token):
    """What the phone opens from the code: WeChat authorization first, then what the code is about."""
    try:
        qr = _code(bridge, token)
        state = qrlogin.status_of(qr, db_now())
        db.session.commit()
        if state not in ("pending", "scanned"):
            messages = qrlogin.QRLoginError.MESSAGES
            raise PhoneRefusal(200, messages.get(state, messages["unknown"]))
    except PhoneRefusal as refusal:
        return _phone_page(bridge, refusal.message, refusal.status)
    if scanner_openid(qr) is None:
        return start_wechat_oauth(token, bridge.purpose, url_for(bridge.endpoint("phone"), token=token))
    return _ask(bridge, qr, token, bridge.form())


def _press(bridge, token, confirming):
    """A phone's button: only the WeChat user this phone proved for this code may press it. (The CSRF
    token is checked by CSRFProtect before any view.)"""
    form = bridge.form()
    try:
        qr = _code(bridge, token)
        openid = scanner_openid(qr)
        if openid is None:
            raise PhoneRefusal(403, "请重新扫码后再操作")
    except PhoneRefusal as refusal:
        return _phone_page(bridge, refusal.message, refusal.status)
    now = db_now()
    done = None
    try:
        if not confirming:
            qrlogin.cancel(qr, openid, now)
        elif not form.validate():
            return _ask(bridge, qr, token, form, 422)
        else:
            if bridge.prepare is not None:
                form.prepared = bridge.prepare(form)
                begin_write()
                qr = _code(bridge, token)
            done = bridge.confirm(qr, openid, form, now)
    except qrlogin.QRLoginError as error:
        db.session.commit()  # a refusal may have been recorded (a banned account cancels its login)
        return _phone_page(bridge, error.message, 409)
    except DomainError as error:
        db.session.rollback()
        errors = getattr(error, "errors", None) or ({error.field: error.message} if error.field else {})
        if not errors:
            return _phone_page(bridge, error.message, 409)
        for name, message in errors.items():
            form[name].errors.append(message)
        return _ask(bridge, _code(bridge, token), token, form, 422)
    db.session.commit()
    if bridge.repeat and confirming:
        return _phone_page(bridge, status=200, qr=qr, token=token, form=bridge.form(formdata=None),
                           notice=bridge.done["confirm"].format(**(done or {})), **bridge.phone_context(qr))
    forget_scanner()
    return _phone_page(bridge, bridge.done["confirm" if confirming else "cancel"], done=True)


def register(blueprint, bridge):
    """The bridge's routes on its capability's blueprint: the desktop's poll, the phone's page and buttons."""
    assert blueprint.name == bridge.blueprint
    BRIDGES[bridge.purpose] = bridge

    def named(suffix, view):
        view.__name__ = view.__qualname__ = f"{bridge.name}_{suffix}"  # its own name: rate limits key on it
        return view

    poll = limiter.limit(lambda: current_app.config["RATELIMIT_QR_POLL"])(
        named("status", lambda public_id: _status(bridge, public_id)))
    confirm_word, cancel_word = bridge.words
    confirm_view = named("phone_confirm", lambda token: _press(bridge, token, True))
    if bridge.max_upload:
        confirm_view = takes_files(bridge.max_upload)(confirm_view)
    if bridge.prepare is None:  # with prepare, _press takes the write lock itself once the slow part is done
        confirm_view = writes(confirm_view)
    for rule, view, method in (
            (f"{bridge.poll_prefix}/<public_id>/status", poll, "GET"),
            (f"{bridge.phone_prefix}/<token>", writes(named("phone", lambda token: _open(bridge, token))), "GET"),
            (f"{bridge.phone_prefix}/<token>/{confirm_word}", confirm_view, "POST"),
            (f"{bridge.phone_prefix}/<token>/{cancel_word}",
             writes(named("phone_cancel", lambda token: _press(bridge, token, False))), "POST")):
        blueprint.add_url_rule(rule, view.__name__, view, methods=[method])
