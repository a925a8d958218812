"""Dates and numbers as vendors write them (no database)."""

import datetime
from decimal import Decimal

import pytest

from sla_tracker.kpi_import.parsing import (
    AmbiguousNumber,
    MonthFirstDate,
    ThousandsMarkAsDecimal,
    looks_like_excel_serial,
    parse_number,
    parse_period,
    split_time,
)

JAN_2 = (datetime.date(2025, 1, 1), datetime.date(2025, 1, 2))


@pytest.mark.parametrize(
    "text",
    ["2025-01-02", "02/01/2025", "2/1/2025", "02.01.2025", "02-01-2025", "2025-01-02 00:00:00", "2025-01-02T00:00"],
)
def test_iso_and_day_first_dates_are_read(text):
    assert parse_period(text) == JAN_2


def test_excel_date_cells_are_read():
    assert parse_period(datetime.datetime(2025, 1, 2)) == JAN_2
    assert parse_period(datetime.date(2025, 1, 2)) == JAN_2


@pytest.mark.parametrize("text", ["2025-01", "01/2025", "1.2025"])
def test_a_month_gives_a_whole_month_value(text):
    assert parse_period(text) == (datetime.date(2025, 1, 1), None)


@pytest.mark.parametrize("text", ["", "31/02/2025", "2025/13/01", "yesterday", "01/02/25"])
def test_other_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_period(text)


@pytest.mark.parametrize("text", ["03/13/2026", "3/13/2026", "12.31.2025", "01-20-2026", "02/29/2024"])
def test_a_date_that_can_only_be_month_first_is_refused_as_month_first(text):
    with pytest.raises(MonthFirstDate):
        parse_period(text)


@pytest.mark.parametrize("text", ["13/13/2026", "02/30/2026", "02/29/2025", "00/13/2026", "03/12/2026"])
def test_a_date_that_is_no_month_first_date_either_is_not_called_month_first(text):
    """Not a day read month first (13/13, 30 February), or a day read day first (3 December)."""
    try:
        parse_period(text)
    except MonthFirstDate:
        pytest.fail(f"{text} called month-first")
    except ValueError:
        pass


def test_a_time_of_day_is_not_a_day():
    with pytest.raises(ValueError):
        parse_period(datetime.datetime(2025, 1, 2, 10, 30))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1200", "1200"),
        ("12,5", "12.5"),
        ("12.5", "12.5"),
        ("1 234,5", "1234.5"),
        ("1\u00a0234,5", "1234.5"),
        ("1\u202f234,5", "1234.5"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("1,234,567", "1234567"),
        ("1.234.567", "1234567"),
        ("-3", "-3"),
        (" 42 ", "42"),
    ],
)
def test_numbers_with_either_decimal_mark_and_thousands_separators(text, expected):
    assert parse_number(text) == Decimal(expected)


def test_a_single_separator_that_is_the_files_decimal_mark_is_the_decimal_mark():
    assert parse_number("1,234", decimal_comma=True) == Decimal("1.234")
    assert parse_number("1.234", decimal_comma=False) == Decimal("1.234")


def test_the_files_thousands_separator_groups_thousands_where_it_cannot_be_a_decimal_mark():
    assert parse_number("1.234.567", decimal_comma=True) == Decimal("1234567")
    assert parse_number("1.234,5", decimal_comma=True) == Decimal("1234.5")
    assert parse_number("1,234,567", decimal_comma=False) == Decimal("1234567")
    assert parse_number("1,234.5", decimal_comma=False) == Decimal("1234.5")


@pytest.mark.parametrize(
    ("text", "decimal_comma", "whole", "decimal"),
    [("1.250", True, "1250", "1.25"), ("1,250", False, "1250", "1.25"), ("2.000", True, "2000", "2")],
)
def test_one_thousands_separator_before_three_digits_is_ambiguous_even_with_the_files_convention(
    text, decimal_comma, whole, decimal
):
    with pytest.raises(AmbiguousNumber) as ambiguous:
        parse_number(text, decimal_comma=decimal_comma)
    assert (ambiguous.value.whole, ambiguous.value.decimal) == (Decimal(whole), Decimal(decimal))


def test_number_cells_are_taken_as_they_are():
    assert parse_number(1200) == Decimal(1200)
    assert parse_number(12.5) == Decimal("12.5")


@pytest.mark.parametrize("text", ["", "abc", "12a", "1,2,3.4.5", "12,34,5", "NaN", "1e5", True])
def test_non_numbers_are_refused(text):
    with pytest.raises(ValueError):
        parse_number(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01 08:15", ("2026-03-01", 495)),
        ("2026-03-01T08:15:00", ("2026-03-01", 495)),
        ("01/03/2026 8:15", ("01/03/2026", 495)),
        ("2026-03-01 00:00", ("2026-03-01", 0)),
        ("2026-03-01", ("2026-03-01", None)),
        (datetime.datetime(2026, 3, 1, 23, 45), (datetime.date(2026, 3, 1), 1425)),
        (datetime.datetime(2026, 3, 1, 8, 9, 59, 999_000), (datetime.date(2026, 3, 1), 490)),
        (datetime.datetime(2026, 3, 1), (datetime.date(2026, 3, 1), 0)),
        (datetime.date(2026, 3, 1), (datetime.date(2026, 3, 1), None)),
    ],
)
def test_a_date_and_time_is_split_into_its_date_and_its_minute_of_the_day(value, expected):
    assert split_time(value) == expected


@pytest.mark.parametrize(
    "value", ["2026-03-01 24:00", "2026-03-01 08:60", "2026-03-01 08:15:30", datetime.datetime(2026, 3, 1, 8, 15, 30)]
)
def test_a_time_that_is_not_a_whole_minute_of_the_day_is_refused(value):
    with pytest.raises(ValueError):
        split_time(value)


@pytest.mark.parametrize(("text", "whole", "decimal"), [("1,234", "1234", "1.234"), ("2.500", "2500", "2.5")])
def test_one_separator_before_three_digits_is_ambiguous_without_the_files_convention(text, whole, decimal):
    with pytest.raises(AmbiguousNumber) as ambiguous:
        parse_number(text)
    assert (ambiguous.value.whole, ambiguous.value.decimal) == (Decimal(whole), Decimal(decimal))


@pytest.mark.parametrize(("text", "expected"), [("0.500", "0.5"), ("12,50", "12.50"), ("1.2345", "1.2345")])
def test_a_single_separator_that_cannot_group_thousands_is_the_decimal_mark(text, expected):
    assert parse_number(text) == Decimal(expected)


def test_a_decimal_written_with_the_files_thousands_separator_says_how_to_write_it():
    with pytest.raises(ThousandsMarkAsDecimal) as refused:
        parse_number("12.5", decimal_comma=True)
    assert (refused.value.mark, refused.value.rewritten) == (".", "12,5")
    with pytest.raises(ThousandsMarkAsDecimal) as refused:
        parse_number("12,5", decimal_comma=False)
    assert (refused.value.mark, refused.value.rewritten) == (",", "12.5")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("45678", True),
        (" 45678 ", True),
        ("45678.25", True),
        ("45678,25", True),
        (45678, True),
        (45678.5, True),
        ("12345", False),  # 1933: a count, not a date of KPI data
        ("99999", False),
        ("2025-01-21", False),
        ("1200", False),
        (True, False),
        (None, False),
    ],
)
def test_an_excel_date_serial_number_is_recognised_from_1970_to_2099(value, expected):
    assert looks_like_excel_serial(value) is expected
