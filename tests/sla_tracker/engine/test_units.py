"""Months, rounding and attribution: the small building blocks."""

import subprocess
import sys
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from sla_tracker.engine import Month, MonthRange, attribute, round_half_up, to_cents

D = Decimal
REPO = Path(__file__).resolve().parents[3]


def test_a_month_parses_prints_adds_and_orders():
    month = Month.parse("2026-11")

    assert str(month) == "2026-11"
    assert str(month + 3) == "2027-02"
    assert str(month - 11) == "2025-12"
    assert Month(2026, 1) < Month(2026, 2) < Month(2027, 1)
    assert month.last_day == date(2026, 11, 30)
    assert Month(2027, 2).months_since(Month(2026, 11)) == 3


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-01", "2026-1", "2026/01", "", None])
def test_a_month_outside_the_format_is_refused(text):
    with pytest.raises(ValueError):
        Month.parse(text)


def test_a_month_range_iterates_both_ends_included():
    months = MonthRange(Month(2025, 11), Month(2026, 2))

    assert [str(month) for month in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert len(months) == 4
    with pytest.raises(ValueError):
        MonthRange(Month(2026, 2), Month(2026, 1))


def test_rounding_is_half_up_away_from_zero_on_exact_values():
    assert round_half_up(Fraction(1, 200), 2) == D("0.01")
    assert round_half_up(Fraction(-1, 200), 2) == D("-0.01")
    assert round_half_up(Fraction(1, 3), 2) == D("0.33")
    assert round_half_up(Fraction(799_977, 10_000), 1) == D("80.0")
    assert to_cents(Fraction(14_400 * 24_000, 31_200)) == D("11076.92")


def test_attribution_puts_the_rounding_remainder_on_the_largest_line():
    weights = [Fraction(3), Fraction(5), Fraction(3)]
    codes = ["CSL-1", "CSL-2", "CSL-3"]

    up = attribute(D("1.00"), weights, [D("1.00")] * 3, codes)  # 0.27 + 0.45 + 0.27 = 0.99
    down = attribute(D("1.01"), weights, [D("1.01")] * 3, codes)  # 0.28 + 0.46 + 0.28 = 1.02

    assert up == [D("0.27"), D("0.46"), D("0.27")]
    assert down == [D("0.28"), D("0.45"), D("0.28")]


def test_attribution_between_equal_lines_puts_the_remainder_on_the_first_by_code_whatever_their_order():
    weights = [Fraction(1), Fraction(1), Fraction(1)]

    shares = attribute(D("100.00"), weights, [D("100.00")] * 3, ["CSL-3", "CSL-1", "CSL-2"])
    reordered = attribute(D("100.00"), weights, [D("100.00")] * 3, ["CSL-1", "CSL-2", "CSL-3"])

    assert shares == [D("33.33"), D("33.34"), D("33.33")]
    assert reordered == [D("33.34"), D("33.33"), D("33.33")]


def test_attribution_never_lifts_a_line_above_its_bound_nor_below_zero():
    weights = [Fraction(1), Fraction(1), Fraction(1)]

    lifted = attribute(D("100.00"), weights, [D("33.33"), D("100.00"), D("100.00")], ["A", "B", "C"])
    lowered = attribute(D("0.01"), [Fraction(1, 2), Fraction(1, 2)], [D("0.01"), D("0.01")], ["A", "B"])

    assert lifted == [D("33.33"), D("33.34"), D("33.33")]
    assert lowered == [D("0.00"), D("0.01")]


def test_the_engine_imports_nothing_from_django():
    check = (
        "import sla_tracker.engine, sla_tracker.engine.scenario, sys; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)"
    )

    completed = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True
    )

    assert completed.returncode == 0, completed.stderr
