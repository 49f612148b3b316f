"""Rating tables of the car quote, seeded as data: (table, key) → an amount in fen or a factor."""
from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class CarRate(db.Model):
    __table_args__ = (UniqueConstraint("table", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(40))
    amount_fen: Mapped[int | None]
    factor_permille: Mapped[int | None]
