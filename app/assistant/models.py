"""智能管家 and 在线客服: conversations with the assistant (every exchange kept, with its engine, citations and
review verdicts; what users type is stored with personal numbers masked, and encrypted), the review term
library (versioned), review events and restrictions, and human consultations."""
import json
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.pii import Encrypted
from app.extensions import db

ROLES = {"user": "我", "assistant": "智能管家", "notice": "提示"}
ENGINES = {"embedded": "内置检索", "llm": "大模型", "fallback": "内置检索（大模型不可用）"}
VERDICTS = {"ok": "通过", "refused": "拒答", "blocked": "拦截", "held": "待审核", "masked": "已遮盖", "stopped": "已消除"}
TERM_ACTIONS = {"block": "拦截", "hold": "待审核", "mask": "遮盖", "allow": "放行（白名单）"}
CONSULT_STATES = {"waiting": "等待接入", "open": "服务中", "closed": "已结束"}


class Conversation(db.Model):
    """A user's chat with 智能管家 (optionally about one product). Theirs only; deletable."""
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # in URLs, not guessable
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    title: Mapped[str] = mapped_column(Encrypted, default="")  # the first question, masked
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)

    messages: Mapped[list["AssistantMessage"]] = relationship(
        order_by="AssistantMessage.id", cascade="all, delete-orphan", back_populates="conversation")


class AssistantMessage(db.Model):
    """One turn: the user's question, or the assistant's answer with where it came from and how review judged
    it. An answer's ``produce_id`` is its implicit label's ProduceID (exported files carry it)."""
    __table_args__ = (CheckConstraint("rating IS NULL OR rating IN (-1, 1)", name="rating_sign"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # a key of ROLES
    content: Mapped[str] = mapped_column(Encrypted, default="")  # Markdown (answers) or the masked question
    engine: Mapped[str | None] = mapped_column(String(10))  # a key of ENGINES (answers)
    citations: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{"title", "section", "url"}]
    verdict: Mapped[str] = mapped_column(String(10), default="ok")  # a key of VERDICTS
    status: Mapped[str] = mapped_column(String(10), default="done")  # pending | streaming | done
    produce_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    rating: Mapped[int | None]  # 👍 1 / 👎 -1
    rating_reason: Mapped[str] = mapped_column(String(200), default="")
    rated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    conversation: Mapped[Conversation] = relationship(back_populates="messages")

    @property
    def sources(self) -> list:
        return json.loads(self.citations or "[]")


class ReviewTerm(db.Model):
    """One entry of the term library: matched after normalisation; ``allow`` entries are exceptions to the
    others. Never deleted: retired by ``removed_in``, so every library version can be rebuilt."""
    __table_args__ = (Index("ix_review_term_live", "removed_in"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(100))
    normalised: Mapped[str] = mapped_column(String(100), index=True)
    category: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(10))  # a key of TERM_ACTIONS
    added_in: Mapped[int]  # the library version that added it
    removed_in: Mapped[int | None]  # the version that retired it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    created_at: Mapped[datetime]


class ReviewLibraryVersion(db.Model):
    """The term library's versions: each change (a term added or retired) is a new one."""
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    summary: Mapped[str] = mapped_column(String(200))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    changed_at: Mapped[datetime]


class ReviewEvent(db.Model):
    """A review verdict other than ok, on an input or an output: what matched (its category and the library
    version, never the user's text), who, when."""
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("assistant_message.id", ondelete="SET NULL"))
    stage: Mapped[str] = mapped_column(String(10))  # input | output
    verdict: Mapped[str] = mapped_column(String(10))  # a key of VERDICTS
    category: Mapped[str] = mapped_column(String(30))
    library_version: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")


class UserRestriction(db.Model):
    """A user who keeps trying to get prohibited output: warned, then restricted until a time."""
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(10))  # warned | restricted
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    until: Mapped[datetime | None]


class Consultation(db.Model):
    """在线客服: a user's consultation with a person, opened from the assistant (with the conversation so far) or
    from /consult; answered from the back office's inbox."""
    __table_args__ = (Index("ix_consultation_inbox", "status", "created_at"),
                      CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="waiting")  # a key of CONSULT_STATES
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    user_seen_at: Mapped[datetime | None]  # the user's page last polled: away users get a notification
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(Encrypted, default="")

    messages: Mapped[list["ConsultMessage"]] = relationship(order_by="ConsultMessage.id", cascade="all, delete-orphan")


class ConsultMessage(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(10))  # user | staff | system
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("admin_staff.id"))
    content: Mapped[str] = mapped_column(Encrypted)
    created_at: Mapped[datetime]


class CannedReply(db.Model):
    __table_args__ = (UniqueConstraint("title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
