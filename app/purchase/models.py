"""Applications (投保单, the saved breakpoint) and the car quote's rating tables."""
import json
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Product  # noqa: F401  (the relationship's target)
from app.core.pii import Encrypted
from app.extensions import db


class CarRate(db.Model):
    """Rating tables of the car quote, seeded as data: (table, key) → an amount in fen or a factor."""
    __table_args__ = (UniqueConstraint("table", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(40))
    amount_fen: Mapped[int | None]
    factor_permille: Mapped[int | None]


APPLICATION_STATUSES = ("draft", "awaiting_payment", "paid", "declined")
STEPS = {1: "方案", 2: "投保人", 3: "被保险人", 4: "受益人", 5: "健康告知", 6: "确认"}


class Application(db.Model):
    """An application (投保单) and its breakpoint: every completed step is saved here, so a closed tab or
    a crash loses nothing. Personal data lives in ``data``, encrypted as one JSON document."""
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)  # shown to the user; not guessable
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    step: Mapped[int] = mapped_column(default=1)  # the step to resume at
    plan_code: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(10), default="annual")
    premium_fen: Mapped[int | None]  # per period, recomputed on the server at every step
    # The rate table in force when the application was started: its premium keeps to it.
    rate_table_id: Mapped[int | None] = mapped_column(ForeignKey("rate_table.id"))
    insured_age: Mapped[int | None]
    data: Mapped[str] = mapped_column(Encrypted, default="{}")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # at most one reminder per application

    product: Mapped["Product"] = relationship(lazy="joined")  # noqa: F821

    @property
    def details(self) -> dict:
        return json.loads(self.data or "{}")

    def save_details(self, **sections):
        self.data = json.dumps({**self.details, **sections}, ensure_ascii=False)


class SavedCarQuote(db.Model):
    """A signed-in user's last car quote (a breakpoint too): the form as entered, encrypted."""
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    data: Mapped[str] = mapped_column(Encrypted)
    updated_at: Mapped[datetime]
