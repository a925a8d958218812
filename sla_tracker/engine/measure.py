"""From counters to a status: ratio of sums after exclusions, minimum volume, comparison."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow
from fractions import Fraction

from .explain import Figure, Note, _, note
from .history import History, PriorServiceLevel
from .money import round_half_up
from .months import Month
from .results import CarriedSums
from .terms import (
    CounterRow,
    CounterTerm,
    EngineError,
    Exclusion,
    Kind,
    MinVolumeRule,
    ServiceLevelTerms,
    Status,
)

# Counter sums must be exact: a sum that would need rounding raises instead.
_EXACT = Context(prec=60, traps=[Inexact, InvalidOperation, Overflow])


@dataclass(frozen=True)
class Reading:
    """A service level's sums for a month and the value they give (None: not measured)."""

    numerator: Decimal
    denominator: Decimal
    measured: Fraction | None
    compared: Fraction | None
    excluded_days: tuple[date, ...]
    carried_in: CarriedSums | None
    carried_forward: CarriedSums | None
    reasons: tuple[Note, ...]  # why not measured
    sample: tuple[Note, ...]  # what the sums include (excluded days, sums carried in)


def read(
    terms: ServiceLevelTerms,
    month: Month,
    rows: Iterable[CounterRow],
    exclusions: Iterable[Exclusion],
    carried_in: CarriedSums | None,
) -> Reading:
    """Σ numerator and Σ denominator over the month's rows that are not excluded, plus any sums
    carried from a month below minimum volume; then the measured and compared values."""
    kept, excluded_days = _drop_excluded(rows, exclusions, terms.code)
    numerator = _sum_formula(kept, terms.numerator, carried_in.numerator if carried_in else 0)
    denominator = _sum_formula(kept, terms.denominator, carried_in.denominator if carried_in else 0)
    sample = _describe_sample(excluded_days, carried_in)
    for side, total, formula in (
        ("numerator", numerator, terms.numerator),
        ("denominator", denominator, terms.denominator),
    ):
        if total < 0:
            # Counts cannot sum below zero: the data are impossible (e.g. more short abandons than abandons),
            # and a negative ratio would price a shortfall that never happened.
            raise EngineError(
                f"{terms.code} in {month}: the {side} ({_formula_text(formula)}) sums to {total}: "
                "the counters it subtracts exceed those it adds"
            )

    def not_measured(*reasons: Note, carried: CarriedSums | None = None) -> Reading:
        return Reading(numerator, denominator, None, None, excluded_days, carried_in, carried, reasons, sample)

    if denominator <= 0:
        return not_measured(note(_("no data → not measured")))
    volume = terms.min_volume
    if volume is not None and denominator < volume.at_least:
        template = _("volume {volume} < minimum {minimum} → not measured")
        reason = note(template, volume=Figure(denominator), minimum=Figure(volume.at_least))
        if volume.rule is MinVolumeRule.NOT_MEASURED:
            return not_measured(reason)
        since = carried_in.since if carried_in else month
        return not_measured(
            reason,
            note(_("carried forward to next month")),
            carried=CarriedSums(since, numerator, denominator),
        )
    measured = Fraction(terms.scale) * Fraction(numerator) / Fraction(denominator)
    compared = measured
    if terms.precision is not None:
        compared = Fraction(round_half_up(measured, terms.precision))
    return Reading(numerator, denominator, measured, compared, excluded_days, carried_in, None, (), sample)


def judge(
    terms: ServiceLevelTerms, month: Month, compared: Fraction | None, history: History
) -> tuple[Status, int | None]:
    """The month's status and, under an expected-miss rule, the occurrence count in the window."""
    if compared is None:
        return Status.NOT_MEASURED, None
    if terms.is_better_or_equal(compared, Fraction(terms.expected)):
        return Status.MET, None
    if terms.kind is Kind.KEY:
        return Status.MISSED, None
    rule = terms.expected_miss_rule
    occurrences = None
    if rule is not None:
        earlier = history.between(month.window_start(rule.window), month - 1)
        occurrences = 1 + sum(_missed_expected(prior.line(terms.code)) for prior in earlier)
    minimum = terms.minimum
    if minimum is not None and not terms.is_better_or_equal(compared, Fraction(minimum)):
        return Status.MINIMUM_DEFAULT, occurrences
    if rule is None or occurrences >= rule.occurrences:
        return Status.DEFAULT, occurrences
    return Status.MISSED, occurrences


def _missed_expected(line: PriorServiceLevel | None) -> bool:
    return line is not None and line.status.missed_expected


def _drop_excluded(
    rows: Iterable[CounterRow], exclusions: Iterable[Exclusion], code: str
) -> tuple[list[CounterRow], tuple[date, ...]]:
    exclusions = tuple(exclusions)
    kept: list[CounterRow] = []
    excluded: set[date] = set()
    for row in rows:
        if row.day is not None and any(ex.excludes(row.day, code) for ex in exclusions):
            excluded.add(row.day)
        else:
            kept.append(row)
    return kept, tuple(sorted(excluded))


def _formula_text(formula: tuple[CounterTerm, ...]) -> str:
    """``answered + abandoned - short_abandoned``."""
    first, *others = formula
    text = f"-{first.name}" if first.negative else first.name
    return " ".join([text, *(f"{'-' if term.negative else '+'} {term.name}" for term in others)])


def _sum_formula(rows: Iterable[CounterRow], formula: tuple[CounterTerm, ...], start: Decimal | int) -> Decimal:
    total = Decimal(start)
    for row in rows:
        for term in formula:
            value = row.values.get(term.name, 0)
            total = _EXACT.subtract(total, value) if term.negative else _EXACT.add(total, value)
    return total


def _describe_sample(excluded_days: tuple[date, ...], carried_in: CarriedSums | None) -> tuple[Note, ...]:
    parts = []
    if excluded_days:
        days = ", ".join(day.isoformat() for day in excluded_days)
        parts.append(note(_("excluded days {days} removed"), days=days))
    if carried_in is not None:
        parts.append(
            note(
                _("includes {numerator}/{denominator} carried from {since}"),
                numerator=Figure(carried_in.numerator),
                denominator=Figure(carried_in.denominator),
                since=str(carried_in.since),
            )
        )
    return tuple(parts)
