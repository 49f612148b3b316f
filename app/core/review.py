"""Maker–checker: what one staff member prepared (a product, a rate table, an agreement version) is approved
by another. The rule is checked here before any write, and again by the database (each table's
``maker_checker`` CHECK constraint: approved_by_id <> prepared_by_id)."""
from sqlalchemy import CheckConstraint

from app.core.domain import DomainError


class ReviewRefused(DomainError):
    pass


def maker_checker():
    """The CHECK constraint a reviewed table carries (prepared_by_id and reviewed_by_id columns)."""
    return CheckConstraint("reviewed_by_id IS NULL OR prepared_by_id IS NULL OR reviewed_by_id <> prepared_by_id",
                           name="maker_checker")


def check_reviewer(prepared_by_id, staff):
    """Raises ReviewRefused when ``staff`` prepared the thing they are about to approve or reject."""
    if prepared_by_id is not None and prepared_by_id == staff.id:
        raise ReviewRefused("提交人不能审核自己提交的内容，请由另一位同事审核", "reason")
