"""The current time, injectable: tests set ``app.config["CLOCK"]`` to a callable returning an aware UTC datetime."""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    clock = current_app.config.get("CLOCK")
    return clock() if clock else datetime.now(UTC)


def today_local() -> date:
    """Today's date in mainland China, which is what ages and policy dates are counted in."""
    return utcnow().astimezone(SHANGHAI).date()


def to_local(value: datetime | None) -> datetime | None:
    """Stored times are UTC (naive ones are read as UTC); shown in Asia/Shanghai."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SHANGHAI)


def format_local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    local = to_local(value)
    return local.strftime(fmt) if local else ""


def db_now() -> datetime:
    """utcnow() as the naive UTC datetime the database columns hold."""
    return utcnow().replace(tzinfo=None)


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years (周岁) on a given day; a 29 February birthday counts from 1 March."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
