"""Agreements and their versions, and the consent ledger (append-only: rows are never changed)."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.core.pii import HASH, Encrypted
from app.core.review import maker_checker
from app.extensions import db

# Who must accept an agreement: everyone (platform), or users of one partner's or product's service,
# named by scope_ref. The voucher work adds partner agreements as rows, not as schema.
SCOPES = ("platform", "partner", "product")
CHANNELS = ("desktop", "phone")


class Agreement(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), unique=True)  # in URLs: service, privacy, pi-authorization
    title: Mapped[str] = mapped_column(String(60))  # 微保服务协议 (shown in 《》)
    scope: Mapped[str] = mapped_column(String(20), default="platform")
    scope_ref: Mapped[str | None] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)
    # Withdrawing it is allowed (the personal-information authorization); accepting again is then needed.
    withdrawable: Mapped[bool] = mapped_column(default=False)

    # Published versions only (drafts and those awaiting approval are the back office's).
    versions: Mapped[list["AgreementVersion"]] = relationship(
        primaryjoin="and_(AgreementVersion.agreement_id == Agreement.id, AgreementVersion.state == 'published')",
        order_by="AgreementVersion.effective_on.desc()", viewonly=True)


VERSION_STATES = {"draft": "草稿", "pending": "待审核", "published": "已发布"}


class AgreementVersion(db.Model):
    """A version's text and dates. Written in the back office as a draft, approved by someone else
    (maker–checker) and only then published: users only ever see published versions."""
    __table_args__ = (UniqueConstraint("agreement_id", "version"), maker_checker())

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id"))
    version: Mapped[str] = mapped_column(String(40))
    released_on: Mapped[date]
    effective_on: Mapped[date]
    summary: Mapped[str] = mapped_column(Text, default="")  # what changed, shown for re-acceptance
    body: Mapped[str] = mapped_column(Text)  # Markdown; bold (**…**) marks liability-limiting clauses
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(10), default="published")  # a key of VERSION_STATES
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    submitted_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    reviewed_at: Mapped[datetime | None]

    agreement: Mapped[Agreement] = relationship(lazy="joined")


class Consent(db.Model):
    """One acceptance or withdrawal, kept as evidence. Never updated, never deleted (nor are guardian
    consents)."""
    __table_args__ = (UniqueConstraint("user_id", "version_id", "submission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("agreement_version.id"))
    action: Mapped[str] = mapped_column(String(10), default="accept")  # accept | withdraw
    at: Mapped[datetime]  # UTC
    ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(400))
    channel: Mapped[str] = mapped_column(String(10))
    # The acceptance form's one-time key: a double submit writes one row.
    submission: Mapped[str] = mapped_column(String(40))
    # A minor's consent stands on a guardian's.
    guardian_consent_id: Mapped[int | None] = mapped_column(ForeignKey("guardian_consent.id"))

    version: Mapped[AgreementVersion] = relationship(lazy="joined")


RELATIONSHIPS = {"father": "父亲", "mother": "母亲", "guardian": "其他法定监护人"}


class GuardianConsent(db.Model):
    """A guardian's approval of a minor's acceptance, given on the guardian's own phone and WeChat."""
    id: Mapped[int] = mapped_column(primary_key=True)
    minor_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    guardian_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    guardian_name: Mapped[str] = mapped_column(Encrypted)
    guardian_id_number: Mapped[str] = mapped_column(Encrypted)
    guardian_id_hash: Mapped[str] = mapped_column(HASH, index=True)
    relationship_to_minor: Mapped[str] = mapped_column(String(20))  # a key of RELATIONSHIPS
    qr_login_id: Mapped[int] = mapped_column(ForeignKey("qr_login.id"), unique=True)
    at: Mapped[datetime]
    ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(400))


PRIVACY_SETTINGS = {"personalization": "个性化推荐", "promotions": "推广信息", "reminders": "投保断点提醒"}


class PrivacyChoice(db.Model):
    """A privacy switch turned on or off (隐私管理), kept in the consent ledger beside the agreements."""
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    setting: Mapped[str] = mapped_column(String(20))  # a key of PRIVACY_SETTINGS
    enabled: Mapped[bool]
    at: Mapped[datetime]
    ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(400))
    channel: Mapped[str] = mapped_column(String(10))


class ImmutableLedger(Exception):
    pass


@event.listens_for(Session, "before_flush")
def _consents_are_append_only(session, _context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (Consent, GuardianConsent, PrivacyChoice)) and (obj in session.deleted or session.is_modified(obj)):
            raise ImmutableLedger("consent rows are never changed or deleted")
