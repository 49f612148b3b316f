"""Accounts are WeChat identities: a User, the WeChatIdentity it logs in with, and QRLogin tokens."""
import secrets
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.pii import HASH, Encrypted
from app.extensions import db

USER_STATUSES = ("active", "restricted", "banned")


def new_session_token():
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # Moderation sets restricted/banned; only active accounts get a session.
    status: Mapped[str] = mapped_column(String(20), default="active")
    nickname: Mapped[str] = mapped_column(String(64), default="")
    avatar_url: Mapped[str] = mapped_column(String(512), default="")
    sex: Mapped[int] = mapped_column(default=0)  # WeChat: 0 unknown, 1 male, 2 female
    province: Mapped[str] = mapped_column(String(40), default="")
    city: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str] = mapped_column(String(40), default="")
    # What the session cookie names instead of the id: replacing it (logout) ends every session.
    session_token: Mapped[str] = mapped_column(String(40), unique=True, default=new_session_token)
    # Declared at agreement acceptance (until real-name verification gives it from the ID number):
    # minors need a guardian's consent.
    birth_date: Mapped[date | None]
    # The real-name identity, set by the first application and locked from then on (encrypted; the
    # keyed hash finds an ID number without decrypting).
    real_name: Mapped[str | None] = mapped_column(Encrypted)
    id_number: Mapped[str | None] = mapped_column(Encrypted)
    id_hash: Mapped[str | None] = mapped_column(HASH, index=True)
    # 断点续保 reminders (privacy settings); off also deletes the saved breakpoints.
    reminders_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    # 个性化推荐: the browsing trail is recorded and used only while this is on.
    personalization_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    # 推广信息 from us or third parties on our behalf.
    promotions_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    # Contact data the user may correct at any time (encrypted); address is JSON (province … detail).
    mobile: Mapped[str | None] = mapped_column(Encrypted)
    email: Mapped[str | None] = mapped_column(Encrypted)
    address: Mapped[str | None] = mapped_column(Encrypted)
    deleted_at: Mapped[datetime | None]  # 注销: what the law does not require us to keep is gone
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    identities: Mapped[list["WeChatIdentity"]] = relationship(back_populates="user")

    def get_id(self):
        return self.session_token

    @property
    def is_active(self):
        return self.status == "active"

    @property
    def sex_label(self):
        return {1: "男", 2: "女"}.get(self.sex, "未设置")

    @property
    def region(self):
        return " ".join(part for part in (self.province, self.city) if part) or self.country


class WeChatIdentity(db.Model):
    """An openid of one of our WeChat apps; unionid links the openids of one person across our apps."""
    __tablename__ = "wechat_identity"
    __table_args__ = (UniqueConstraint("appid", "openid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    appid: Mapped[str] = mapped_column(String(40))
    openid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="identities")


class QRLogin(db.Model):
    """One desktop login attempt, or another approval bridged the same way (a guardian's consent for a
    minor). See app/auth/qrlogin.py for its states and transitions."""
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20), default="login")  # login | guardian
    # For approvals: the signed-in user asking (the minor), and what the approval completes (JSON).
    requester_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    payload: Mapped[str] = mapped_column(Text, default="")
    # Public handle in the poll URL; the token (in the QR) and the browser nonce are stored only hashed.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    next_url: Mapped[str] = mapped_column(String(512), default="/")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # The desktop that asked, shown on the phone before it confirms.
    desktop_browser: Mapped[str] = mapped_column(String(80), default="")
    desktop_os: Mapped[str] = mapped_column(String(80), default="")
    desktop_ip: Mapped[str] = mapped_column(String(64), default="")  # stored masked
    # Who scanned (from WeChat), kept until the login is confirmed and the account is created or found.
    scanner_appid: Mapped[str | None] = mapped_column(String(40))
    scanner_openid: Mapped[str | None] = mapped_column(String(64))
    scanner_unionid: Mapped[str | None] = mapped_column(String(64))
    scanner_nickname: Mapped[str] = mapped_column(String(64), default="")
    scanner_avatar_url: Mapped[str] = mapped_column(String(512), default="")
    scanner_sex: Mapped[int] = mapped_column(default=0)
    scanner_province: Mapped[str] = mapped_column(String(40), default="")
    scanner_city: Mapped[str] = mapped_column(String(40), default="")
    scanner_country: Mapped[str] = mapped_column(String(40), default="")
    scanned_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    finished_at: Mapped[datetime | None]
    refusal: Mapped[str] = mapped_column(String(20), default="")  # why a confirm was refused ("banned")

    user: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[user_id])
    requester: Mapped[User | None] = relationship(foreign_keys=[requester_user_id])


class LoginEvent(db.Model):
    """A login on the website, as the desktop was described to the phone (browser, system, masked IP):
    /me lists the recent ones so a user can notice someone else."""
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    browser: Mapped[str] = mapped_column(String(80))
    os: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str] = mapped_column(String(64))  # already masked (mask_ip)
