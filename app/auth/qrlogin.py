"""QR login tokens as a state machine. Every transition is one conditional UPDATE, so two workers,
two phones or a double click can never move a token twice.

    pending ──scan──▶ scanned ──confirm──▶ confirmed ──consume──▶ consumed
                        │ cancel, or confirm by a banned account (refusal "banned")
                        └──────────────────────────────▶ cancelled
    pending, scanned, confirmed ──(TTL after creation)──▶ expired

Only the WeChat user who scanned may confirm or cancel; only the desktop browser may consume.

The token travels only in the QR code; the database keeps its SHA-256. The desktop browser that made the
code holds a random nonce in an HttpOnly cookie; the token is derived from it (HMAC with SECRET_KEY), so
that browser alone can show the code again or poll and log in with it.

Flushes at most (settle() takes the write lock); the view commits.
"""
import hashlib
import hmac
import secrets
from base64 import urlsafe_b64encode
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.auth import accounts
from app.auth.models import QRLogin
from app.auth.wechat import WeChatProfile
from app.core.database import begin_write, read_once
from app.core.domain import DomainError
from app.extensions import db

OPEN_STATES = ("pending", "scanned", "confirmed")
# Codes only the requesting account's own WeChat may open: deleting the account, its claim's photos.
REQUESTER_ONLY = ("delete_account", "claim_photos")
FINAL_STATES = ("consumed", "expired", "cancelled")


class QRLoginError(DomainError):
    """A transition that is not allowed from the token's state; ``message`` is for the phone, ``reason``
    names the state (or the refusal) that stood in the way."""

    MESSAGES = {
        "expired": "二维码已过期，请在电脑上刷新二维码后重新扫码",
        "cancelled": "本次登录已取消，请在电脑上重新获取二维码",
        "consumed": "该二维码已使用，请在电脑上刷新二维码后重新扫码",
        "confirmed": "该二维码已确认登录，无需重复操作",
        "other_scanner": "该二维码已被其他微信扫描，请在电脑上刷新二维码",
        "scanned": "该二维码已被其他微信扫描，请在电脑上刷新二维码",  # a second scan lost the race
        "banned": "该微信账号已被限制使用，暂时无法登录。如有疑问请联系客服",
        "pending": "请先扫码授权后再操作",
        "self": "监护人需要用自己的微信扫码，不能为自己确认",
        "not_requester": "请使用该账号绑定的微信扫码确认，其他微信不能代为确认",
        "unknown": "二维码无效，请在电脑上刷新二维码后重新扫码",
    }

    def __init__(self, reason):
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def derive_token(public_id: str, nonce: str) -> str:
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(), f"qr-login:{public_id}:{nonce}".encode(),
                   hashlib.sha256).digest()
    return urlsafe_b64encode(mac).decode().rstrip("=")


def create_login(*, next_url, browser, os, masked_ip, now, purpose="login", requester_user_id=None, payload=""):
    """A new pending login (or approval, by ``purpose``); returns (qr, token, nonce). The caller sets the
    nonce cookie."""
    public_id, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
    token = derive_token(public_id, nonce)
    qr = QRLogin(purpose=purpose, requester_user_id=requester_user_id, payload=payload,
                 public_id=public_id, token_hash=hash_secret(token), nonce_hash=hash_secret(nonce),
                 next_url=next_url, created_at=now,
                 expires_at=now + timedelta(seconds=current_app.config["QR_LOGIN_TTL_SECONDS"]),
                 desktop_browser=browser[:80], desktop_os=os[:80], desktop_ip=masked_ip)
    db.session.add(qr)
    db.session.flush()
    return qr, token, nonce


def find_by_token(token, purpose="login"):
    """The login (or approval of that purpose) a phone's link names: a guardian's code never logs anyone
    in, and a login code never approves for a minor."""
    return db.session.scalar(select(QRLogin).where(QRLogin.token_hash == hash_secret(token),
                                                   QRLogin.purpose == purpose))


def find_for_browser(public_id, nonce, *, purpose="login", peek=False):
    """The login ``public_id`` if ``nonce`` is the one its desktop browser holds, else None (another
    browser learns nothing, not even that the id exists). ``peek``: a read-only row, without the ORM
    or a transaction, for the poll that runs every 2 s in every open login page."""
    if not nonce:
        return None
    if peek:
        qr = read_once(select(QRLogin.__table__).where(QRLogin.public_id == public_id))
    else:
        qr = db.session.scalar(select(QRLogin).where(QRLogin.public_id == public_id))
    if qr is None or qr.purpose != purpose or not hmac.compare_digest(qr.nonce_hash, hash_secret(nonce)):
        return None
    return qr


def needs_update(qr, now):
    """Whether looking at the login now must write: a confirmed login is spent by the desktop, an open
    one past its time becomes expired."""
    return qr.status == "confirmed" or (qr.status in OPEN_STATES and now >= qr.expires_at)


def status_of(qr, now):
    """The token's state now; an open token past its time becomes expired (and is stored so)."""
    if qr.status in OPEN_STATES and now >= qr.expires_at:
        try:
            _transition(qr, OPEN_STATES, "expired", now, check_expiry=False, finished_at=now)
        except QRLoginError:
            db.session.refresh(qr)  # another request finished it first; its state stands
    return qr.status


def may_open(qr, profile: WeChatProfile):
    """Whether this WeChat user may act on the code at all; QRLoginError if not. An opener who cannot
    approve never takes the code, so the one who can is not locked out: a minor cannot approve their own
    request, and only the account's own WeChat confirms its deletion."""
    if qr.requester_user_id is None:
        return
    identity = accounts.find_identity(profile)
    mine = identity is not None and identity.user_id == qr.requester_user_id
    if qr.purpose == "guardian" and mine:
        raise QRLoginError("self")
    if qr.purpose in REQUESTER_ONLY and not mine:
        raise QRLoginError("not_requester")


def scan(qr, profile: WeChatProfile, now):
    """A phone opened the code and WeChat told us who it is. Re-scanning by the same person is fine."""
    may_open(qr, profile)
    if qr.status == "scanned" and qr.scanner_openid == profile.openid and now < qr.expires_at:
        return
    _transition(qr, ("pending",), "scanned", now, scanned_at=now,
                scanner_appid=profile.appid, scanner_openid=profile.openid, scanner_unionid=profile.unionid,
                scanner_nickname=profile.nickname, scanner_avatar_url=profile.headimgurl,
                scanner_sex=profile.sex, scanner_province=profile.province, scanner_city=profile.city,
                scanner_country=profile.country)


def confirm(qr, openid, now):
    """The scanner pressed 确认: find or create their account; the desktop may then go on."""
    _require_scanner(qr, openid)
    status_of(qr, now)
    if qr.status != "scanned":
        raise QRLoginError(qr.status if qr.status in QRLoginError.MESSAGES else "unknown")
    user = accounts.sync_wechat_user(_scanner_profile(qr), now)
    if qr.requester_user_id is not None and user.id == qr.requester_user_id:
        raise QRLoginError("self")
    if not user.is_active:
        _transition(qr, ("scanned",), "cancelled", now, by_scanner=openid, finished_at=now,
                    refusal="banned")
        raise QRLoginError("banned")
    _transition(qr, ("scanned",), "confirmed", now, by_scanner=openid, user_id=user.id)
    return user


def confirm_requester(qr, openid, now):
    """The scanner pressed 确认 on an action against their own account (注销): only the WeChat user of
    the account that asked may confirm it."""
    _require_scanner(qr, openid)
    status_of(qr, now)
    if qr.status != "scanned":
        raise QRLoginError(qr.status if qr.status in QRLoginError.MESSAGES else "unknown")
    identity = accounts.find_identity(_scanner_profile(qr))
    if identity is None or identity.user_id != qr.requester_user_id:
        raise QRLoginError("not_requester")
    _transition(qr, ("scanned",), "confirmed", now, by_scanner=openid, user_id=qr.requester_user_id)


def use_requester(qr, openid, now, *, keep_open_seconds):
    """A repeated action of the requesting account's own WeChat on its code (photos of a claim, one batch
    after another): the code stays scanned, and open ``keep_open_seconds`` from now."""
    _require_scanner(qr, openid)
    status_of(qr, now)
    if qr.status != "scanned":
        raise QRLoginError(qr.status if qr.status in QRLoginError.MESSAGES else "unknown")
    identity = accounts.find_identity(_scanner_profile(qr))
    if identity is None or identity.user_id != qr.requester_user_id:
        raise QRLoginError("not_requester")
    _transition(qr, ("scanned",), "scanned", now, by_scanner=openid,
                expires_at=max(qr.expires_at, now + timedelta(seconds=keep_open_seconds)))


def cancel(qr, openid, now):
    _require_scanner(qr, openid)
    _transition(qr, ("scanned",), "cancelled", now, by_scanner=openid, finished_at=now)


def consume(qr, now):
    """The desktop's poll found the login confirmed: spend the token, return the user to log in."""
    _transition(qr, ("confirmed",), "consumed", now, finished_at=now)
    db.session.refresh(qr)
    return qr.user


def settle(public_id, nonce, *, purpose, now):
    """For a desktop poll whose code needs a write (see needs_update): in a write transaction, a
    confirmed code is spent (the caller then acts and commits) and an expired one is marked so.
    Returns (qr, spent): spent is False when another request of this browser got there first."""
    begin_write()
    qr = find_for_browser(public_id, nonce, purpose=purpose)
    if status_of(qr, now) == "confirmed":
        try:
            consume(qr, now)
        except QRLoginError:
            db.session.refresh(qr)
        else:
            return qr, True
    return qr, False


def _require_scanner(qr, openid):
    if qr.scanner_openid is not None and qr.scanner_openid != openid:
        raise QRLoginError("other_scanner")


def _scanner_profile(qr):
    return WeChatProfile(appid=qr.scanner_appid, openid=qr.scanner_openid, unionid=qr.scanner_unionid,
                         nickname=qr.scanner_nickname, headimgurl=qr.scanner_avatar_url, sex=qr.scanner_sex,
                         province=qr.scanner_province, city=qr.scanner_city, country=qr.scanner_country)


def _transition(qr, sources, target, now, *, check_expiry=True, by_scanner=None, **values):
    """UPDATE … SET status=target WHERE status IN sources (and not expired, and by this scanner);
    raises QRLoginError naming the state that stood in the way when no row changed."""
    stmt = update(QRLogin).where(QRLogin.id == qr.id, QRLogin.status.in_(sources))
    if check_expiry:
        stmt = stmt.where(QRLogin.expires_at > now)
    if by_scanner is not None:
        stmt = stmt.where(QRLogin.scanner_openid == by_scanner)
    changed = db.session.execute(stmt.values(status=target, **values).execution_options(
        synchronize_session=False)).rowcount
    if changed != 1:  # nothing was written, so nothing to undo
        current = db.session.scalar(select(QRLogin.status).where(QRLogin.id == qr.id))
        if current in OPEN_STATES and check_expiry and now >= qr.expires_at:
            current = "expired"
        raise QRLoginError(current if current in QRLoginError.MESSAGES else "unknown")
    db.session.refresh(qr)
