"""Readable fragments for the explanation of a line, e.g.
"73.26 % < 80 % target → default; allocation 60 % × €24,000.00 at risk = €14,400.00"."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from .money import round_half_up
from .terms import Direction, Kind, ServiceLevelTerms, Status

_SHOWN_PLACES = (2, 4, 6)


def unit(terms: ServiceLevelTerms) -> str:
    return " %" if terms.scale == 100 else ""


def show_level(level: Decimal, terms: ServiceLevelTerms) -> str:
    """A level as the contract writes it ("5.0 %")."""
    return f"{level:f}{unit(terms)}"


def show_value(value: Fraction, terms: ServiceLevelTerms) -> str:
    """The value with 2 decimals, or more where 2 would hide which side of a level it lies
    (79.9977 must not read as 80.00 against an 80 % target)."""
    levels = [Fraction(level) for level in (terms.expected, terms.minimum) if level is not None]
    for places in _SHOWN_PLACES:
        shown = round_half_up(value, places)
        if all(_meets(terms, shown, level) == _meets(terms, value, level) for level in levels):
            break
    return f"{shown}{unit(terms)}"


def describe_status(
    terms: ServiceLevelTerms,
    compared: Fraction,
    measured: Fraction,
    status: Status,
    occurrences: int | None,
) -> str:
    """Why the status is what it is: the comparison and, for expected-level misses, the count."""
    value = show_value(measured, terms)
    if terms.precision is not None:
        rounded = round_half_up(compared, terms.precision)
        decimals = "decimal" if terms.precision == 1 else "decimals"
        value += f" → {rounded}{unit(terms)} rounded to {terms.precision} {decimals}"
    better, worse = ("≥", "<") if terms.direction is Direction.HIGHER_IS_BETTER else ("≤", ">")
    level_name = "expected" if terms.minimum is not None or terms.expected_miss_rule else "target"
    expected = show_level(terms.expected, terms)
    if status is Status.MET:
        return f"{value} {better} {expected} {level_name} → met"
    if status is Status.MINIMUM_DEFAULT:
        return f"{value} {worse} {show_level(terms.minimum, terms)} minimum → minimum default"
    rule = terms.expected_miss_rule
    if terms.kind is Kind.KEY:
        return f"{value} {worse} {expected} {level_name} → missed (key measurement, no credit)"
    if rule is None:
        return f"{value} {worse} {expected} {level_name} → default"
    threshold = _ordinal(rule.occurrences)
    count = f"occurrence {occurrences} in {rule.window} months (default from the {threshold})"
    outcome = "default" if status is Status.DEFAULT else "missed (no credit)"
    return f"{value} {worse} {expected} {level_name}, {count} → {outcome}"


def _meets(terms: ServiceLevelTerms, value: Fraction | Decimal, level: Fraction) -> bool:
    return terms.is_better_or_equal(Fraction(value), level)


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"
