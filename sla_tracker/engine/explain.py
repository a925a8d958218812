"""The explanation of a line, as notes a procurement officer can read, e.g.
"73.26 % < 80 % target → default; allocation 60 % × €24,000.00 at risk = €14,400.00".

A :class:`Note` is an English template and its arguments as values (amounts, figures, words), so
that the pages can write it in the reader's language (``sla_tracker.explanations``); the engine
writes it in English. The templates are marked with ``_`` for ``makemessages``, which extracts
them from this package like any other message.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple, Union

from .money import format_cents, plain, round_half_up, to_cents
from .terms import Direction, Kind, LinearCredit, ServiceLevelTerms, Status

_SHOWN_PLACES = (2, 4, 6)


def _(template: str) -> str:
    """Marks an English template for translation; the engine itself writes English."""
    return template


class Amount(NamedTuple):
    """Money: in cents, or exactly where an intermediate amount has fractions of a cent."""

    value: Decimal
    currency: str


class Figure(NamedTuple):
    """A number as the contract or the data write it (a level, a percentage, a measured value),
    with its unit: "%" or none."""

    value: Decimal
    unit: str = ""


class Word(NamedTuple):
    """A word of a sentence that is translated on its own (e.g. "target" or "expected")."""

    text: str


class Ordinal(NamedTuple):
    """A rank ("4th")."""

    number: int


Arg = Union[Amount, Figure, Word, Ordinal, "Note", int, str]


class Note(NamedTuple):
    """One part of an explanation; its ``detail`` notes follow it in parentheses."""

    template: str
    args: tuple[tuple[str, Arg], ...] = ()
    detail: tuple[Note, ...] = ()

    def english(self) -> str:
        text = self.template.format(**{name: _english(value) for name, value in self.args})
        if self.detail:
            text += " (" + "; ".join(note.english() for note in self.detail) + ")"
        return text

    def with_detail(self, detail: tuple[Note, ...]) -> Note:
        return Note(self.template, self.args, detail) if detail else self


def note(template: str, **args: Arg) -> Note:
    return Note(template, tuple(args.items()))


def english(notes: tuple[Note, ...]) -> str:
    """The explanation as the engine writes it: the notes in English, separated by "; "."""
    return "; ".join(item.english() for item in notes)


def amount(value: Fraction | Decimal | int, currency: str) -> Amount:
    return Amount(to_cents(value), currency)


def exact_amount(value: Fraction, currency: str) -> Amount:
    """An intermediate amount as it is, with the fractions of a cent it has (12 % of €100,000.05 is
    €12,000.006), so that the figures computed from it can be checked; in cents beyond 6 decimals."""
    for places in (2, 4, 6):
        shown = round_half_up(value, places)
        if shown == value:
            break
    else:
        return amount(value, currency)
    return Amount(_significant_places(shown), currency)


def _significant_places(value: Decimal) -> Decimal:
    """``value`` with the decimals that are not trailing zeros, and at least 2 (12000.0060 → 12000.006,
    94.949990 → 94.94999, 70.0000 → 70.00)."""
    normalized = value.normalize()
    return normalized if normalized.as_tuple().exponent < -2 else value.quantize(Decimal("0.01"))


def figure(value: Decimal, unit: str = "") -> Figure:
    """A figure without trailing zeros (60.0 → 60)."""
    return Figure(Decimal(plain(value)), unit)


def _ordinal(value: Ordinal) -> str:
    number = value.number
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


# How the engine writes each kind of argument in English (looked up by type: a close writes
# about a hundred thousand of them).
_ENGLISH = {
    Amount: lambda value: format_cents(value.value, value.currency),
    Figure: lambda value: f"{value.value:f} %" if value.unit == "%" else f"{value.value:f}",
    Word: lambda value: value.text,
    Ordinal: _ordinal,
    Note: lambda value: value.english(),
    str: str,
    int: str,
}


def _english(value: Arg) -> str:
    return _ENGLISH[type(value)](value)


def to_data(notes: tuple[Note, ...]) -> list[dict[str, Any]]:
    """The notes as JSON-ready data (stored with a statement line; see ``sla_tracker.explanations``)."""
    return [_note_data(item) for item in notes]


def _note_data(item: Note) -> dict[str, Any]:
    data: dict[str, Any] = {"template": item.template}
    if item.args:
        data["args"] = {name: _arg_data(value) for name, value in item.args}
    if item.detail:
        data["detail"] = to_data(item.detail)
    return data


def _arg_data(value: Arg) -> Any:
    if isinstance(value, Amount):
        return {"amount": f"{value.value:f}", "currency": value.currency}
    if isinstance(value, Figure):
        return {"figure": f"{value.value:f}", "unit": value.unit}
    if isinstance(value, Word):
        return {"word": value.text}
    if isinstance(value, Ordinal):
        return {"ordinal": value.number}
    if isinstance(value, Note):
        return {"note": _note_data(value)}
    return value


def unit(terms: ServiceLevelTerms) -> str:
    return "%" if terms.scale == 100 else ""


def show_level(level: Decimal, terms: ServiceLevelTerms) -> Figure:
    """A level as the contract writes it ("5.0 %")."""
    return Figure(level, unit(terms))


def show_value(value: Fraction, terms: ServiceLevelTerms) -> Figure:
    """The value with 2 decimals, or more where 2 would mislead a reader who checks the figures: hide
    which side of a level it lies (79.9977 must not read as 80.00 against an 80 % target), round to
    another value at the service level's precision (79.94999 is not 79.95 when 79.9 is what counts), or
    sit on a credit band's edge or a whole point of shortfall or bonus that it does not reach."""
    levels = [Fraction(level) for level in (terms.expected, terms.minimum) if level is not None]
    edges = _edges(value, terms) if terms.precision is None else []
    for places in _SHOWN_PLACES:
        shown = round_half_up(value, places)
        if (
            all(_meets(terms, shown, level) == _meets(terms, value, level) for level in levels)
            and all(_side(shown, edge) == _side(value, edge) for edge in edges)
            and (
                terms.precision is None
                or round_half_up(shown, terms.precision) == round_half_up(value, terms.precision)
            )
        ):
            break
    return Figure(_significant_places(shown), unit(terms))


def _edges(value: Fraction, terms: ServiceLevelTerms) -> list[Fraction]:
    """Where the credit changes with the compared value: the credit bands' bounds, and the whole points
    of a linear shortfall (from the expected level) or of a bonus (from its threshold) around the value."""
    bands = getattr(terms.credit, "bands", ())
    edges = [Fraction(bound) for tier in bands for bound in (tier.lower, tier.upper) if bound is not None]
    origins = [Fraction(terms.expected)] if isinstance(terms.credit, LinearCredit) else []
    if terms.bonus is not None:
        origins.append(Fraction(terms.bonus.above))
    for origin in origins:
        distance = abs(value - origin)
        for points in {math.floor(distance), math.ceil(distance)}:
            edges += [origin - points, origin + points]
    return edges


def _side(value: Fraction | Decimal, edge: Fraction) -> int:
    return (Fraction(value) > edge) - (Fraction(value) < edge)


def describe_status(
    terms: ServiceLevelTerms,
    compared: Fraction,
    measured: Fraction,
    status: Status,
    occurrences: int | None,
) -> Note:
    """Why the status is what it is: the comparison and, for expected-level misses, the count."""
    value: Figure | Note = show_value(measured, terms)
    if terms.precision is not None:
        rounded = Figure(round_half_up(compared, terms.precision), unit(terms))
        if terms.precision == 0:
            value = note(_("{value} → {rounded} rounded to 0 decimals"), value=value, rounded=rounded)
        elif terms.precision == 1:
            value = note(_("{value} → {rounded} rounded to 1 decimal"), value=value, rounded=rounded)
        else:
            template = _("{value} → {rounded} rounded to {places} decimals")
            value = note(template, value=value, rounded=rounded, places=terms.precision)
    better, worse = ("≥", "<") if terms.direction is Direction.HIGHER_IS_BETTER else ("≤", ">")
    named = Word(_("expected") if terms.minimum is not None or terms.expected_miss_rule else _("target"))
    compared_with = {"value": value, "expected": show_level(terms.expected, terms), "level": named}
    if status is Status.MET:
        return note(_("{value} {sign} {expected} {level} → met"), sign=better, **compared_with)
    if status is Status.MINIMUM_DEFAULT:
        minimum = show_level(terms.minimum, terms)
        return note(_("{value} {sign} {minimum} minimum → minimum default"), value=value, sign=worse, minimum=minimum)
    rule = terms.expected_miss_rule
    if terms.kind is Kind.KEY:
        template = _("{value} {sign} {expected} {level} → missed (key measurement, no credit)")
        return note(template, sign=worse, **compared_with)
    if rule is None:
        return note(_("{value} {sign} {expected} {level} → default"), sign=worse, **compared_with)
    template = _(
        "{value} {sign} {expected} {level}, occurrence {occurrence} in {window} months "
        "(default from the {ordinal}) → {outcome}"
    )
    outcome = Word(_("default") if status is Status.DEFAULT else _("missed (no credit)"))
    return note(
        template,
        sign=worse,
        **compared_with,
        occurrence=occurrences,
        window=rule.window,
        ordinal=Ordinal(rule.occurrences),
        outcome=outcome,
    )


def _meets(terms: ServiceLevelTerms, value: Fraction | Decimal, level: Fraction) -> bool:
    return terms.is_better_or_equal(Fraction(value), level)
