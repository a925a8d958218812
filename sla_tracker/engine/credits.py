"""Money for one month: credit models, multipliers, caps, the single-incident rule, attribution,
bonuses and earn-backs. Values stay exact until a final line is rounded to cents."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .explain import Note, Word, _, amount, exact_amount, figure, note
from .history import History
from .money import pct_of, round_half_up, to_cents
from .months import Month
from .terms import (
    AllocationCredit,
    CreditModel,
    Direction,
    EngineError,
    FixedCredit,
    Incident,
    LinearCredit,
    ServiceLevelTerms,
    Shortfall,
    Status,
    TieredCredit,
)

ZERO = Fraction(0)


@dataclass(frozen=True)
class Priced:
    """An amount and how it was obtained, for the explanation."""

    amount: Fraction
    how: tuple[Note, ...] = ()


def raw_credit(
    terms: ServiceLevelTerms,
    model: CreditModel,
    compared: Fraction,
    charges: Decimal,
    at_risk: Fraction | None,
    currency: str,
) -> Priced:
    """The credit of a credit-bearing month before multipliers and caps."""
    if isinstance(model, AllocationCredit):
        if at_risk is None:
            raise EngineError(f"{terms.code}: an allocation credit needs at_risk_pct")
        credit = pct_of(model.allocation_pct, at_risk)
        how = note(
            _("allocation {pct} × {at_risk} at risk = {credit}"),
            pct=figure(model.allocation_pct, "%"),
            at_risk=exact_amount(at_risk, currency),
            credit=amount(credit, currency),
        )
    elif isinstance(model, FixedCredit):
        credit = Fraction(model.amount)
        how = note(_("fixed credit = {credit}"), credit=amount(credit, currency))
    elif isinstance(model, TieredCredit):
        band = next((band for band in model.bands if band.contains(compared)), None)
        if band is None:
            return Priced(ZERO, (note(_("no credit band holds the value → no credit")),))
        credit = pct_of(band.pct, charges)
        how = note(
            _("band [{lower}, {upper}) → {pct} × {charges} charges = {credit}"),
            lower=figure(band.lower),
            upper="∞" if band.upper is None else figure(band.upper),
            pct=figure(band.pct, "%"),
            charges=amount(charges, currency),
            credit=amount(credit, currency),
        )
    else:
        points = shortfall_points(terms, model, compared)
        per_point = pct_of(model.pct_per_point, charges)
        credit = per_point * points
        how = note(
            _("shortfall {points} points ({rounding}) × {pct} × {charges} charges = {credit}"),
            points=figure(checkable_points(points, per_point)),
            rounding=_SHORTFALL_WORDS[model.shortfall],
            pct=figure(model.pct_per_point, "%"),
            charges=amount(charges, currency),
            credit=amount(credit, currency),
        )
    return Priced(credit, (how,))


_SHORTFALL_WORDS = {
    Shortfall.PROPORTIONAL: Word(_("proportional")),
    Shortfall.FLOOR: Word(_("floor")),
    Shortfall.CEIL: Word(_("ceil")),
}


def checkable_points(points: Fraction, per_point: Fraction) -> Decimal:
    """The points of shortfall with 4 decimals, or as many more (up to 10) as a reader needs to find
    the credit in cents by multiplying the figures shown (2.1098 × €1,855 = €3,913.68, where the
    credit of 2.109827… points is €3,913.73)."""
    credit = to_cents(points * per_point)
    for places in (4, 6, 8):
        shown = round_half_up(points, places)
        if to_cents(Fraction(shown) * per_point) == credit:
            return shown
    return round_half_up(points, 10)


def shortfall_points(terms: ServiceLevelTerms, model: LinearCredit, compared: Fraction) -> Fraction:
    """Points between the compared value and expected, proportional, floored or ceiled."""
    gap = Fraction(terms.expected) - compared
    if terms.direction is Direction.LOWER_IS_BETTER:
        gap = -gap
    if model.shortfall is Shortfall.FLOOR:
        return Fraction(math.floor(gap))
    if model.shortfall is Shortfall.CEIL:
        return Fraction(math.ceil(gap))
    return gap


def multiplier(terms: ServiceLevelTerms, run: int) -> Decimal:
    """The factor of the longest multiplier run reached (1 when none is)."""
    reached = [item for item in terms.multipliers if item.run <= run]
    return max(reached, key=lambda item: item.run).factor if reached else Decimal(1)


def per_service_level_cap(terms: ServiceLevelTerms, charges: Decimal) -> Decimal | None:
    """The per-service-level cap in cents, if any."""
    return None if terms.cap_pct is None else to_cents(pct_of(terms.cap_pct, charges))


def apply_incidents(
    credits: dict[str, Fraction], incidents: Sequence[Incident]
) -> tuple[dict[str, Fraction], dict[str, str]]:
    """Keep one credit per incident: the selected service level's if it has one, else the
    highest (on a tie, the first by code: an incident's service levels are a set, stored without
    an order, so the order they are listed in must not decide). Returns the credits and, per
    zeroed code, the kept one."""
    credits = dict(credits)
    kept_by: dict[str, str] = {}
    for incident in incidents:
        with_credit = [code for code in incident.service_levels if credits.get(code, ZERO) > 0]
        if len(with_credit) < 2:
            continue
        keep = incident.selected if incident.selected in with_credit else None
        keep = keep or max(sorted(with_credit), key=lambda code: credits[code])
        for code in with_credit:
            if code != keep:
                credits[code] = ZERO
                kept_by[code] = keep
    return credits, kept_by


def attribute(
    total: Decimal, weights: Sequence[Fraction], bounds: Sequence[Decimal], codes: Sequence[str]
) -> list[Decimal]:
    """Split ``total`` (cents) over lines pro rata to ``weights``, each share rounded half-up to
    cents, the rounding remainder on the largest line (product decision 2); between lines of equal
    weight, on the first by ``codes`` (the lines' service levels), not by the order the terms list
    them in (a contract's display order must not move a cent).

    A share never goes above its line's ``bound`` (its credit before this cap) nor below zero;
    any part of the remainder the largest line cannot take goes to the next largest.
    """
    whole = sum(weights, ZERO)
    if whole == 0:
        return [Decimal("0.00") for _ in weights]
    shares = [to_cents(weight * Fraction(total) / whole) for weight in weights]
    remainder = total - sum(shares, Decimal("0.00"))
    for index in sorted(range(len(weights)), key=lambda i: (-weights[i], codes[i])):
        share = shares[index]
        step = min(remainder, bounds[index] - share) if remainder > 0 else max(remainder, -share)
        shares[index] += step
        remainder -= step
    return shares


def bonus(terms: ServiceLevelTerms, compared: Fraction | None, charges: Decimal, currency: str) -> Priced:
    """Over-performance bonus: per full point beyond the threshold, capped at ``max_pct``."""
    rule = terms.bonus
    if rule is None or compared is None:
        return Priced(ZERO)
    beyond = compared - Fraction(rule.above)
    if terms.direction is Direction.LOWER_IS_BETTER:
        beyond = -beyond
    points = max(math.floor(beyond), 0)
    if points == 0:
        return Priced(ZERO)
    pct = min(rule.pct_per_full_point * points, rule.max_pct)
    paid = pct_of(pct, charges)
    how = note(
        _("bonus {points} full points beyond {above} × {per_point} = {pct} (max {max_pct}) × {charges} = {paid}"),
        points=points,
        above=figure(rule.above),
        per_point=figure(rule.pct_per_full_point, "%"),
        pct=figure(pct, "%"),
        max_pct=figure(rule.max_pct, "%"),
        charges=amount(charges, currency),
        paid=amount(paid, currency),
    )
    return Priced(paid, (how,))


def earn_back(code: str, status: Status, month: Month, history: History, currency: str) -> Priced:
    """Earn-backs whose window closes this month with every month met; notes forfeitures."""
    total = ZERO
    notes = []
    for prior in history.months:
        line = prior.line(code)
        rule = line.earn_back_rule if line else None
        elapsed = month.months_since(prior.month)  # not prior.month + rule.months: may pass 9999
        if rule is None or line.credit <= 0 or not 0 < elapsed <= rule.months:
            continue
        between = [history.line(prior.month + step, code) for step in range(1, elapsed)]
        if not all(item is not None and item.status is Status.MET for item in between):
            continue  # already forfeited in an earlier month
        if status is not Status.MET:
            template = _("earn-back of the {month} credit forfeited ({current} not met)")
            notes.append(note(template, month=str(prior.month), current=str(month)))
        elif elapsed == rule.months:
            earned = pct_of(rule.pct, line.credit)
            total += earned
            notes.append(
                note(
                    _("earn-back of the {month} credit: {pct} × {credit} = {earned} ({first}..{current} met)"),
                    month=str(prior.month),
                    pct=figure(rule.pct, "%"),
                    credit=amount(line.credit, currency),
                    earned=amount(earned, currency),
                    first=str(prior.month + 1),
                    current=str(month),
                )
            )
    return Priced(total, tuple(notes))
