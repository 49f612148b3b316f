"""Back-office staff (their own accounts: not consumers, not partner staff), their roles and recovery codes,
the audit log (append-only: rows are never changed), and the index that finds a user by the last four
digits of a mobile number without decrypting anyone's."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.admin.roles import labels, permissions_of
from app.auth.models import User
from app.core.pii import HASH, Encrypted
from app.extensions import db


class AdminStaff(db.Model):
    __tablename__ = "admin_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(200))
    # A password someone else chose (the account's first, or a reset): replaced at the next login.
    must_change_password: Mapped[bool] = mapped_column(default=True)
    # The TOTP secret (encrypted); None until the staff member has enrolled an authenticator app.
    totp_secret: Mapped[str | None] = mapped_column(Encrypted)
    # The last 30-second time step a code was accepted for: a code is good once, even within its window.
    totp_last_step: Mapped[int | None]
    # What the session cookie carries besides the id: a new one (logout, lock, reset) ends every session.
    session_token: Mapped[str] = mapped_column(String(64), unique=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]  # too many failures: until then
    disabled_at: Mapped[datetime | None]  # locked by an administrator: until unlocked
    is_demo: Mapped[bool] = mapped_column(default=False)  # `flask seed-demo`; refused in production
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    role_rows: Mapped[list["AdminStaffRole"]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="AdminStaffRole.role", lazy="selectin")

    @property
    def roles(self):
        return [row.role for row in self.role_rows]

    @property
    def role_labels(self):
        return labels(self.roles)

    @property
    def permissions(self):
        return permissions_of(self.roles)

    def can(self, permission):
        return permission in self.permissions

    @property
    def enrolled(self):
        return self.totp_secret is not None

    def locked(self, now):
        return self.disabled_at is not None or (self.locked_until is not None and self.locked_until > now)


class AdminStaffRole(db.Model):
    __tablename__ = "admin_staff_role"
    __table_args__ = (UniqueConstraint("staff_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("admin_staff.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # a key of roles.ROLES

    staff: Mapped[AdminStaff] = relationship(back_populates="role_rows")


class AdminRecoveryCode(db.Model):
    """One of the ten codes shown once at enrolment, stored hashed; spent by a conditional UPDATE."""
    __tablename__ = "admin_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("admin_staff.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuditEvent(db.Model):
    """One back-office action, kept as evidence: who (and the roles they held then), what, on which object,
    the fields it changed before and after (never personal data), when, from where, and why when asked.
    Never updated, never deleted (an ORM guard below and database triggers)."""
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)  # UTC
    # None: no account (a login with an unknown username).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"), index=True)
    staff_username: Mapped[str] = mapped_column(String(40), default="")
    roles: Mapped[str] = mapped_column(String(200), default="")  # role codes held at the time, comma-separated
    action: Mapped[str] = mapped_column(String(40), index=True)  # a key of audit.ACTIONS
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(40), default="")
    before: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the changed fields as they were
    after: Mapped[str] = mapped_column(Text, default="{}")  # JSON: as they are now
    reason: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")  # whole here; masked wherever shown


class UserMobileIndex(db.Model):
    """A keyed hash of the last four digits of a user's mobile number (their contact number, and the one
    of their latest application), so support can narrow the search to a handful of users and compare the
    name on those alone. Kept up to date by the flush hook in app/admin/mobile_index.py."""
    __tablename__ = "user_mobile_index"
    __table_args__ = (UniqueConstraint("user_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # contact | applicant
    last4_hash: Mapped[str] = mapped_column(HASH, index=True)

    user: Mapped[User] = relationship()


class ImmutableAuditLog(Exception):
    pass


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session, _context, _instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise ImmutableAuditLog("audit rows are never changed or deleted")
