"""The phone's side of a QR bridge (login, a guardian's approval, confirming 注销): sending the phone
through WeChat authorization for one code, remembering who it proved to be, and checking a phone's
POST against both. Web-layer helpers: they use the session, so views call them, services never do."""
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


class PhoneRefusal(Exception):
    """A phone's POST that cannot go on: ``status`` and ``message`` are its answer."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def scanned_code(token, purpose):
    """(qr, openid) for a phone pressing a button on a code: the code of this purpose and the WeChat user
    this phone proved for it; PhoneRefusal otherwise. (The CSRF token is checked by CSRFProtect before
    any view; the form's own fields are the view's to check.)"""
    from app.auth import qrlogin
    qr = qrlogin.find_by_token(token, purpose)
    if qr is None:
        raise PhoneRefusal(404, qrlogin.QRLoginError.MESSAGES["unknown"])
    openid = scanner_openid(qr)
    if openid is None:
        raise PhoneRefusal(403, "请重新扫码后再操作")
    return qr, openid


def open_code(token, purpose, return_url, now):
    """The phone opening a code: its QRLogin once WeChat has told us who this phone is; before that, the
    redirect to WeChat's authorization (returned as the second item); PhoneRefusal for a code that is
    unknown or no longer open."""
    from app.auth import qrlogin
    from app.extensions import db
    qr = qrlogin.find_by_token(token, purpose)
    if qr is None:
        raise PhoneRefusal(404, qrlogin.QRLoginError.MESSAGES["unknown"])
    status = qrlogin.status_of(qr, now)
    db.session.commit()
    if status not in ("pending", "scanned"):
        raise PhoneRefusal(200, qrlogin.QRLoginError.MESSAGES.get(status, qrlogin.QRLoginError.MESSAGES["unknown"]))
    if scanner_openid(qr) is None:
        return None, start_wechat_oauth(token, purpose, return_url)
    return qr, None


def press(token, purpose, action, page, done_message, now):
    """A phone's button on a code (确认 / 取消): checked by scanned_code, ``action(qr, openid, now)``, then
    ``page(message, status, done=…)`` saying how it went. A refusal is committed too: it may have been
    recorded (a banned account cancels its login)."""
    from app.auth import qrlogin
    from app.extensions import db
    try:
        qr, openid = scanned_code(token, purpose)
    except PhoneRefusal as refusal:
        return page(refusal.message, refusal.status)
    try:
        action(qr, openid, now)
    except qrlogin.QRLoginError as error:
        db.session.commit()
        return page(error.message, 409)
    db.session.commit()
    forget_scanner()
    return page(done_message, done=True)
