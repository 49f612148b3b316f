"""The phone's side of a QR bridge (login, or a guardian's approval): sending the phone through WeChat
authorization for one code, and remembering who it proved to be. Web-layer helpers: they use the
session, so views call them, services never do."""
import secrets

from flask import current_app, redirect, session, url_for

from app.auth.services import wechat_oauth


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
