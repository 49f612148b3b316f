"""Desktop QR login, the phone's confirm page and the WeChat OAuth callback; logout."""
import hmac

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.auth import accounts, bp, qrlogin
from app.auth.forms import ActionForm
from app.auth.phone import (
    PhoneRefusal,
    open_code,
    press,
    remember_scanner,
)
from app.auth.services import safe_next, wechat_oauth
from app.auth.wechat import WeChatError
from app.core.clock import db_now
from app.core.database import begin_write, writes
from app.core.devices import describe_browser
from app.core.htmx import go_to, render_page, wants_fragment
from app.core.masking import mask_ip
from app.core.qr import qr_data_uri
from app.extensions import db, limiter


def _nonce_cookie(public_id):
    return f"qrl_{public_id}"


def _render_login(qr, token, state, http_status=200):
    phone_url = current_app.config["SITE_URL"].rstrip("/") + url_for("auth.phone", token=token)
    return render_page("auth/login.html", "qr_status", http_status, qr=qr, state=state,
                       qr_image=qr_data_uri(phone_url), phone_url=phone_url,
                       simulator=not current_app.config["WECHAT_APPID"],
                       remaining=max(int((qr.expires_at - db_now()).total_seconds()), 0))


@bp.get("/login")
@limiter.limit(lambda: current_app.config["RATELIMIT_QR_CREATE"])
@writes
def login():
    """The desktop login page: a fresh QR code bound to this browser, and its live status."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    browser, system = describe_browser(request.user_agent.string)
    qr, token, nonce = qrlogin.create_login(next_url=next_url, browser=browser, os=system,
                                            masked_ip=mask_ip(request.remote_addr), now=db_now())
    db.session.commit()
    response = _render_login(qr, token, "pending")
    response.set_cookie(_nonce_cookie(qr.public_id), nonce, max_age=current_app.config["QR_LOGIN_TTL_SECONDS"] * 2,
                        path="/login", httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/login/qr/<public_id>/status")
@limiter.limit(lambda: current_app.config["RATELIMIT_QR_POLL"])
def qr_status(public_id):
    """The poll (htmx, every 2 s) and, without JavaScript, the 我已扫码确认 link. A confirmed login is
    spent here and this browser is logged in."""
    nonce = request.cookies.get(_nonce_cookie(public_id))
    qr = qrlogin.find_for_browser(public_id, nonce, peek=True)
    if qr is None:
        # Unknown, or another browser's: the same answer either way. The poll gets it as a 200 so that
        # htmx swaps it in and stops polling.
        return render_page("auth/login.html", "qr_status", 200 if wants_fragment() else 404, qr=None,
                           state="invalid")
    now = db_now()
    if qrlogin.needs_update(qr, now):
        # Rare: the login was confirmed (spend it) or ran out of time. Most polls only read.
        qr, spent = qrlogin.settle(public_id, nonce, purpose="login", now=now)
        if spent:
            user = qr.user
            accounts.record_login(user, qr, now)
            session.clear()  # a new session (and cookie) for the logged-in user
            login_user(user)
            db.session.commit()
            response = go_to(qr.next_url)
            response.delete_cookie(_nonce_cookie(public_id), path="/login")
            return response
        db.session.commit()
    status = qr.status
    if wants_fragment():
        return render_page("auth/login.html", "qr_status", qr=qr, state=status)
    return _render_login(qr, qrlogin.derive_token(public_id, nonce), status)


# The phone

def _phone_page(message=None, status=200, **context):
    return render_template("auth/phone.html", message=message, **context), status


@bp.get("/m/login/<token>")
@writes
def phone(token):
    """What the phone opens from the QR code: WeChat authorization first, then 确认登录 / 取消."""
    try:
        qr, authorize = open_code(token, "login", url_for("auth.phone", token=token), db_now())
    except PhoneRefusal as refusal:
        return _phone_page(refusal.message, refusal.status)
    return authorize or _phone_page(qr=qr, form=ActionForm(), token=token)


@bp.get("/auth/wechat/callback")
def wechat_callback():
    """WeChat sends the phone back here with ?code&state; the state must be the one this phone was given
    for this code. Then back to the page that asked (the login's, or a guardian's). WeChat is asked
    first; the write lock is taken only after it has answered (see core.database)."""
    pending = session.pop("wechat_oauth", None) or {}
    state = request.args.get("state", "")
    if not pending or not hmac.compare_digest(pending.get("state", ""), state):
        return _phone_page("授权校验失败，请回到电脑上重新扫码", 400)
    retry_url = pending.get("return", "")
    if not retry_url.startswith("/m/"):  # set by our own phone pages, in the signed session
        return _phone_page("授权校验失败，请回到电脑上重新扫码", 400)
    code = request.args.get("code")
    if not code:
        return _phone_page("你已拒绝授权，无法登录。如需登录请重新扫码并允许授权。", 200, retry_url=retry_url)
    try:
        profile = wechat_oauth().fetch_profile(code)
    except WeChatError as error:
        current_app.logger.warning("WeChat authorization failed: errcode %s", error.errcode)
        return _phone_page(error.message, 502, retry_url=retry_url)
    if profile.is_snapshot:
        return _phone_page("当前为微信快照页，无法登录。请点击屏幕下方的「使用完整服务」后再确认登录。", 200,
                           retry_url=retry_url)
    begin_write()
    qr = qrlogin.find_by_token(pending["token"], pending.get("purpose", "login"))
    if qr is None:
        return _phone_page(qrlogin.QRLoginError.MESSAGES["unknown"], 404)
    try:
        qrlogin.scan(qr, profile, db_now())
    except qrlogin.QRLoginError as error:
        return _phone_page(error.message, 409)
    db.session.commit()
    remember_scanner(qr, profile.openid)
    return redirect(retry_url)


@bp.post("/m/login/<token>/confirm")
@writes
def phone_confirm(token):
    return press(token, "login", qrlogin.confirm, _phone_page, "已确认登录，请回到电脑上继续操作", db_now())


@bp.post("/m/login/<token>/cancel")
@writes
def phone_cancel(token):
    return press(token, "login", qrlogin.cancel, _phone_page, "已取消本次登录", db_now())


@bp.post("/logout")
@writes
def logout():
    """Ends this session and, by replacing the account's session token, every other copy of it."""
    if current_user.is_authenticated:  # CSRFProtect has checked the token
        accounts.end_all_sessions(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("catalog.home"))
