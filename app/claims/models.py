"""Claims (理赔): the claim and its timeline, its documents (sensitive personal information: encrypted, their
content in a table of its own so listing a claim never reads a file), a product's own checklist, and the
payout (one per claim)."""
import json
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.pii import HASH, Encrypted, EncryptedBytes
from app.extensions import db

STATUSES = {"draft": "待提交", "submitted": "已提交", "reviewing": "审核中", "awaiting_supplement": "待补充材料",
            "closed": "已结案", "paid": "已到账", "withdrawn": "已撤回"}
OPEN = ("submitted", "reviewing", "awaiting_supplement")  # with the insurer: the 30-day clock runs (or is paused)
DECISIONS = {"approved": "赔付", "partial": "部分赔付", "rejected": "拒赔"}
PAYOUT_METHODS = {"wechat": "微信零钱（平台代付）", "bank": "银行卡（保险公司直接支付）"}


class Claim(db.Model):
    __table_args__ = (
        CheckConstraint("approved_fen IS NULL OR approved_fen >= 0", name="approved_not_negative"),
        Index("ix_claim_queue", "status", "decision_due_at"),
        # One draft per policy: a double click resumes it rather than starting a second.
        Index("uq_claim_draft_per_policy", "policy_id", unique=True, sqlite_where=text("status = 'draft'"),
              postgresql_where=text("status = 'draft'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # LP…, shown and in URLs
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # a key of checklist.KINDS
    status: Mapped[str] = mapped_column(String(20), default="draft")  # a key of STATUSES
    event_date: Mapped[date]
    # What happened, the payee (method, holder, bank, account) and the answers that shape the checklist: all
    # personal, one encrypted JSON document.
    data: Mapped[str] = mapped_column(Encrypted, default="{}")
    amount_claimed_fen: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    # The 30-day clock: due at submitted_at + 30 days + the time spent waiting for the claimant's supplements
    # (kept as it accrues; while waiting, paused_since is set and the due time moves on each resume).
    decision_due_at: Mapped[datetime | None]
    paused_since: Mapped[datetime | None]
    # What the insurer asked for, once, listing every missing item (checklist keys and free text).
    requested: Mapped[str] = mapped_column(Text, default="[]")
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    decision: Mapped[str | None] = mapped_column(String(10))  # a key of DECISIONS
    approved_fen: Mapped[int | None]
    reason_code: Mapped[str | None] = mapped_column(String(20))
    reason_text: Mapped[str] = mapped_column(Text, default="")
    clause: Mapped[str] = mapped_column(String(120), default="")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    payout_due_at: Mapped[datetime | None]  # approved: paid within 10 days
    paid_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]  # flagged by the periodic job when a deadline passed
    appealed_at: Mapped[datetime | None]  # a refusal appealed once (复核): reopened for another handler
    appeal_excluded_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    withdrawn_at: Mapped[datetime | None]

    policy: Mapped["Policy"] = relationship(lazy="joined")  # noqa: F821
    events: Mapped[list["ClaimEvent"]] = relationship(order_by="ClaimEvent.id", cascade="all, delete-orphan",
                                                      back_populates="claim")
    documents: Mapped[list["ClaimDocument"]] = relationship(order_by="ClaimDocument.id", cascade="all, delete-orphan",
                                                            back_populates="claim")

    @property
    def details(self) -> dict:
        return json.loads(self.data or "{}")

    def save_details(self, **sections):
        self.data = json.dumps({**self.details, **sections}, ensure_ascii=False)

    @property
    def requested_items(self) -> list:
        return json.loads(self.requested or "[]")


class ClaimEvent(db.Model):
    """One step of the timeline, as the claimant sees it: the status entered, when, by whom, and what the
    step says (the items asked for, a decision's reason). Never personal data."""
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(10))  # user | staff | system
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    claim: Mapped[Claim] = relationship(back_populates="events")


class ClaimDocument(db.Model):
    """A document as re-encoded on arrival (images: EXIF stripped, orientation applied). Found by its random
    token, never by a path; the bytes are in ClaimFile."""
    __table_args__ = (Index("ix_claim_document_digest", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    item: Mapped[str] = mapped_column(String(30))  # the checklist item it answers
    original_name: Mapped[str] = mapped_column(Encrypted)
    content_type: Mapped[str] = mapped_column(String(40))  # image/jpeg, image/png, application/pdf
    size: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    pages: Mapped[int | None]
    digest: Mapped[str] = mapped_column(HASH)  # keyed hash of what was received: the same file in two claims
    source: Mapped[str] = mapped_column(String(10))  # desktop | phone
    uploaded_at: Mapped[datetime]
    # A supplement: uploaded while the insurer waited for it (shown as such to the handler).
    supplement: Mapped[bool] = mapped_column(default=False)
    # What 预审 tells the claimant about it (too small to read, almost blank), found on arrival; "" if fine.
    warning: Mapped[str] = mapped_column(String(100), default="")

    claim: Mapped[Claim] = relationship(back_populates="documents")
    file: Mapped["ClaimFile"] = relationship(cascade="all, delete-orphan", lazy="select", uselist=False)


class ClaimFile(db.Model):
    document_id: Mapped[int] = mapped_column(ForeignKey("claim_document.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = mapped_column(EncryptedBytes)


class ClaimChecklist(db.Model):
    """A product's own checklist, set in the back office; without one, its claim kind's default."""
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), unique=True)
    items: Mapped[str] = mapped_column(Text)  # JSON list of checklist item keys
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))


class ClaimPayout(db.Model):
    """The payout of an approved claim: one per claim (unique), whatever is clicked or retried; a transfer
    to the claimant's WeChat balance is keyed by out_batch_no, which WeChat Pay keeps unique too."""
    __table_args__ = (UniqueConstraint("claim_id"), CheckConstraint("amount_fen > 0", name="amount_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    method: Mapped[str] = mapped_column(String(10))  # a key of PAYOUT_METHODS
    amount_fen: Mapped[int]
    out_batch_no: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | processing | paid | failed
    batch_id: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    completed_at: Mapped[datetime | None]
