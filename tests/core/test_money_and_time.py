from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.core.clock import age_on, format_local
from app.core.money import format_yuan, format_yuan_short, round_fen


@pytest.mark.parametrize("fen, shown", [(0, "¥0.00"), (5, "¥0.05"), (123450, "¥1,234.50"),
                                        (100000000, "¥1,000,000.00"), (-250, "-¥2.50")])
def test_yuan_format(fen, shown):
    assert format_yuan(fen) == shown


def test_sums_assured_read_as_wan():
    assert format_yuan_short(200 * 10000_00) == "200万"
    assert format_yuan_short(5000_00) == "5,000元"


def test_rounding_is_half_up_to_the_fen():
    assert round_fen(Decimal("1386.5")) == 1387 and round_fen(Decimal("1386.49")) == 1386
    assert round_fen(Decimal("2.5")) == 3  # not banker's rounding


def test_age_in_whole_years():
    assert age_on(date(1990, 11, 25), date(2026, 11, 25)) == 36
    assert age_on(date(1990, 11, 26), date(2026, 11, 25)) == 35
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25  # a leap-day birthday counts from 1 March
    assert age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26


def test_times_are_shown_in_shanghai():
    assert format_local(datetime(2026, 11, 25, 16, 30, tzinfo=UTC)) == "2026-11-26 00:30"
    assert format_local(datetime(2026, 11, 25, 16, 30)) == "2026-11-26 00:30"  # naive means UTC
