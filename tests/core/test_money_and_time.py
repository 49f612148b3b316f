from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.core.clock import age_on, format_local
from app.core.money import format_yuan, format_yuan_short, parse_yuan, round_fen, yuan_text
from app.core.routing import page_number


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


@pytest.mark.parametrize("typed, fen", [("88", 8800), ("88.5", 8850), ("1,234.50", 123450), ("¥12", 1200),
                                        ("８８元", 8800), ("0.01", 1), (" 3 ", 300)])
def test_amounts_typed_in_yuan_are_read_exactly(typed, fen):
    assert parse_yuan(typed) == fen
    assert parse_yuan(yuan_text(fen)) == fen


@pytest.mark.parametrize("typed, message", [("1.234", "金额最多精确到分（两位小数）"), ("abc", "请填写金额，如 88 或 88.50"),
                                            ("-5", "请填写金额，如 88 或 88.50"), ("1e3", "请填写金额，如 88 或 88.50"),
                                            ("999999999", "金额过大，请检查后重新填写")])
def test_what_is_not_an_amount_is_refused_not_rounded(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_yuan(typed)


@pytest.mark.parametrize("typed, page", [("2", 2), ("³", 1), ("٣", 1), ("0", 1), ("100001", 1), (None, 1), ("x", 1)])
def test_a_page_number_is_ascii_digits_or_the_first_page(typed, page):
    assert page_number(typed) == page
