"""The record of every message sent to a user: to whom, which template, how it went. Never its text or
anything else about the person: the user id is the only identifier here."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

NOTIFICATION_STATUSES = ("queued", "sent", "failed", "skipped")


class Notification(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    template: Mapped[str] = mapped_column(String(40))  # the Template's key, not WeChat's template id
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)  # sends tried; a claim moves it by one
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # WeChat's errcode of the last failed attempt ("unavailable": not reached), or why it was skipped.
    last_error: Mapped[str | None] = mapped_column(String(40))
