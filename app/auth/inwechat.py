"""Logging in inside WeChat (the H5 channel): a page opened in WeChat's own browser that needs a login
goes straight into WeChat web authorization; no QR code, no desktop.

snsapi_base comes first: WeChat answers silently with the openid. A returning user whose account is linked
and whose profile was synced within PROFILE_FRESH is logged in at once. A first visit, or a stale profile,
goes on through snsapi_userinfo (WeChat's consent page), whose profile creates or updates the account. Then
back to the page that asked; the agreement gate (and a minor's guardian) follows as after any login.
Web-layer, like the QR bridge: it uses the session; the WeChat callback (auth.views) hands over to come_back.
"""
import secrets
from datetime import timedelta

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import login_user

from app.auth import accounts
from app.auth.qrlogin import QRLoginError
from app.auth.services import safe_next, wechat_oauth
from app.auth.wechat import WeChatError
from app.core.clock import db_now
from app.core.database import begin_write
from app.core.devices import describe_browser
from app.core.masking import mask_ip
from app.extensions import db

PROFILE_FRESH = timedelta(days=30)
KIND = "h5"


def start(next_url, scope="snsapi_base"):
    """Off to WeChat's authorization; the state is bound to this browser's session and checked on return."""
    state = secrets.token_hex(16)
    session["wechat_oauth"] = {"kind": KIND, "state": state, "next": safe_next(next_url), "scope": scope}
    callback = current_app.config["SITE_URL"].rstrip("/") + url_for("auth.wechat_callback")
    return redirect(wechat_oauth().authorize_url(callback, state, scope=scope))


def _page(message, status, retry_next=None):
    retry = url_for("auth.wechat_login", next=retry_next) if retry_next else None
    return render_template("auth/wechat_login.html", message=message, retry_url=retry), status


def refused_state(pending):
    """A callback whose state is not the one this browser was given (a replayed or forged link)."""
    return _page("授权校验失败，请重新登录", 400, pending.get("next") or "/")


def come_back(pending, code):
    """WeChat sent the browser back (the state has been checked): log in, or say why not."""
    next_url = pending.get("next") or "/"
    if not code:
        return _page("你已拒绝授权，暂时无法登录。需要投保或查看保单时，请允许微信授权。", 200, next_url)
    base = pending.get("scope") == "snsapi_base"
    oauth = wechat_oauth()
    try:
        who = oauth.fetch_identity(code) if base else oauth.fetch_profile(code)
    except WeChatError as error:
        current_app.logger.warning("WeChat authorization (H5) failed: errcode %s", error.errcode)
        return _page(error.message.replace("重新扫码", "重试"), 502, next_url)
    if who.is_snapshot:
        return _page("当前为微信快照页，无法登录。请点击屏幕下方的「使用完整服务」后再试。", 200, next_url)
    now = db_now()
    if base:
        identity = accounts.find_identity(who)
        synced = identity.user.last_login_at if identity is not None else None
        if synced is None or synced < now - PROFILE_FRESH:  # a first visit, or a stale profile: ask for it
            return start(next_url, "snsapi_userinfo")
    begin_write()  # WeChat has answered: now the write
    user = accounts.find_identity(who).user if base else accounts.sync_wechat_user(who, now)
    if not user.is_active:
        db.session.commit()
        return _page(QRLoginError.MESSAGES["banned"], 403)
    browser, system = describe_browser(request.user_agent.string)
    accounts.record_login(user, browser=browser, os=system, ip=mask_ip(request.remote_addr), now=now)
    session.clear()  # a new session (and cookie) for the logged-in user
    login_user(user)
    db.session.commit()
    return redirect(next_url)
