"""Desktop QR login (the login bridge), the WeChat OAuth callback every bridge's phone comes back to; logout."""
import hmac

from flask import current_app, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.auth import accounts, bp, bridge, inwechat, qrlogin
from app.auth.services import safe_next, wechat_oauth
from app.auth.wechat import WeChatError
from app.core.clock import db_now
from app.core.database import begin_write, writes
from app.core.devices import is_wechat
from app.core.htmx import go_to
from app.extensions import db, limiter


def _logged_in(qr, now):
    """The phone confirmed: this browser is logged in as that WeChat user's account."""
    user = qr.user
    accounts.record_login(user, browser=qr.desktop_browser, os=qr.desktop_os, ip=qr.desktop_ip, now=now)
    session.clear()  # a new session (and cookie) for the logged-in user
    login_user(user)
    db.session.commit()
    return go_to(qr.next_url)


def _retry(qr, state):
    if qr is None:
        return url_for("auth.login")
    return url_for("auth.login", next=qr.next_url if qr.next_url != "/" else None)


LOGIN = bridge.Bridge(
    purpose="login", blueprint="auth", name="qr", poll_prefix="/login/qr", cookie_path="/login",
    phone_prefix="/m/login", opener="anyone",
    confirm=lambda qr, openid, form, now: qrlogin.confirm(qr, openid, now), spent=_logged_in,
    desktop_template="auth/login.html", status_block="qr_status", status_id="qr-status", show_scanner=True,
    texts={"pending": ("等待扫码", "打开手机微信，扫描上方二维码。二维码 2 分钟内有效。", None),
           "scanned": ("已扫码，请在手机上确认", "", None),
           "confirmed": ("已确认，正在登录…", "", None),
           "expired": ("二维码已过期", "", "刷新二维码"),
           "cancelled": ("已取消登录", "", "重新扫码"),
           "cancelled:banned": ("该微信账号已被限制登录", "如有疑问请联系客服。", "重新扫码"),
           "consumed": ("该二维码已使用", "", "重新获取二维码"),
           "invalid": ("二维码已失效", "", "刷新二维码")},
    retry=_retry, noscript_label="我已扫码确认", simulator_label="在本机模拟手机扫码",
    share_label="在手机浏览器中无法扫码登录。请复制下面的链接，在微信中打开，微信会直接登录；也可以用另一部手机的微信扫码。",
    share_page=True,
    phone_title="确认登录", ask_template="auth/login_ask.html", confirm_label="确认登录", cancel_label="取消",
    done={"confirm": "已确认登录，请回到电脑上继续操作", "cancel": "已取消本次登录"})
bridge.register(bp, LOGIN)


@bp.get("/login")
@limiter.limit(lambda: current_app.config["RATELIMIT_QR_CREATE"])
@writes
def login():
    """The desktop login page: a fresh QR code bound to this browser, and its live status."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    if is_wechat(request.user_agent.string):  # inside WeChat: no code to scan, WeChat itself says who
        return redirect(url_for("auth.wechat_login", next=next_url))
    qr, token, nonce = bridge.start(LOGIN, next_url=next_url)
    db.session.commit()
    return bridge.desktop_page(LOGIN, qr, token, nonce)


@bp.get("/login/wechat")
def wechat_login():
    """Log in inside WeChat (app/auth/inwechat.py): off to WeChat's authorization, silently if it can."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url)
    return inwechat.start(next_url)


@bp.get("/auth/wechat/callback")
def wechat_callback():
    """WeChat sends the phone back here with ?code&state; the state must be the one this phone was given
    for this code. Then back to the page that asked (the login's, or a guardian's). WeChat is asked
    first; the write lock is taken only after it has answered (see core.database)."""
    pending = session.pop("wechat_oauth", None) or {}
    state = request.args.get("state", "")
    _phone_page = bridge.phone_page_for(pending.get("purpose", "login"))
    matches = bool(pending) and hmac.compare_digest(pending.get("state", "").encode(), state.encode())
    if pending.get("kind") == inwechat.KIND:
        return inwechat.come_back(pending, request.args.get("code")) if matches else inwechat.refused_state(pending)
    if not matches:
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
    bridge.remember_scanner(qr, profile.openid)
    return redirect(retry_url)


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
