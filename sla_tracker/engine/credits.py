"""Money for one month: credit models, multipliers, caps, the single-incident rule, attribution,
bonuses and earn-backs. Values stay exact until a final line is rounded to cents."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import partial

from .history import History
from .money import Number, format_money, pct_of, plain, round_half_up, to_cents
from .months import Month
from .terms import (
    AllocationCredit,
    CreditModel,
    Direction,
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
    how: str


def raw_credit(
    terms: ServiceLevelTerms,
    model: CreditModel,
    compared: Fraction,
    charges: Decimal,
    at_risk: Decimal | None,
    currency: str,
) -> Priced:
    """The credit of a credit-bearing month before multipliers and caps."""
    money = _money(currency)
    if isinstance(model, AllocationCredit):
        if at_risk is None:
            raise ValueError(f"{terms.code}: an allocation credit needs at_risk_pct")
        amount = pct_of(model.allocation_pct, at_risk)
        how = f"allocation {plain(model.allocation_pct)} % × {money(at_risk)} at risk"
    elif isinstance(model, FixedCredit):
        amount, how = Fraction(model.amount), "fixed credit"
    elif isinstance(model, TieredCredit):
        band = next((band for band in model.bands if band.contains(compared)), None)
        if band is None:
            return Priced(ZERO, "no credit band holds the value → no credit")
        upper = "∞" if band.upper is None else plain(band.upper)
        amount = pct_of(band.pct, charges)
        how = (
            f"band [{plain(band.lower)}, {upper}) → {plain(band.pct)} % × {money(charges)} charges"
        )
    else:
        points = shortfall_points(terms, model, compared)
        amount = pct_of(model.pct_per_point, charges) * points
        how = (
            f"shortfall {_show_points(points)} points ({model.shortfall}) × "
            f"{plain(model.pct_per_point)} % × {money(charges)} charges"
        )
    return Priced(amount, f"{how} = {money(amount)}")


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
    highest (the first listed on a tie). Returns the credits and, per zeroed code, the kept one."""
    credits = dict(credits)
    kept_by: dict[str, str] = {}
    for incident in incidents:
        with_credit = [code for code in incident.service_levels if credits.get(code, ZERO) > 0]
        if len(with_credit) < 2:
            continue
        keep = incident.selected if incident.selected in with_credit else None
        keep = keep or max(with_credit, key=lambda code: credits[code])
        for code in with_credit:
            if code != keep:
                credits[code] = ZERO
                kept_by[code] = keep
    return credits, kept_by


def attribute(
    total: Decimal, weights: Sequence[Fraction], bounds: Sequence[Decimal]
) -> list[Decimal]:
    """Split ``total`` (cents) over lines pro rata to ``weights``, each share rounded half-up to
    cents, the rounding remainder on the largest line (product decision 2).

    A share never goes above its line's ``bound`` (its credit before this cap) nor below zero;
    any part of the remainder the largest line cannot take goes to the next largest.
    """
    whole = sum(weights, ZERO)
    if whole == 0:
        return [Decimal("0.00") for _ in weights]
    shares = [to_cents(weight * Fraction(total) / whole) for weight in weights]
    remainder = total - sum(shares, Decimal("0.00"))
    for index in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        share = shares[index]
        step = min(remainder, bounds[index] - share) if remainder > 0 else max(remainder, -share)
        shares[index] += step
        remainder -= step
    return shares


def bonus(
    terms: ServiceLevelTerms, compared: Fraction | None, charges: Decimal, currency: str
) -> Priced:
    """Over-performance bonus: per full point beyond the threshold, capped at ``max_pct``."""
    rule = terms.bonus
    if rule is None or compared is None:
        return Priced(ZERO, "")
    beyond = compared - Fraction(rule.above)
    if terms.direction is Direction.LOWER_IS_BETTER:
        beyond = -beyond
    points = max(math.floor(beyond), 0)
    if points == 0:
        return Priced(ZERO, "")
    pct = min(rule.pct_per_full_point * points, rule.max_pct)
    amount = pct_of(pct, charges)
    money = _money(currency)
    how = (
        f"bonus {points} full points beyond {plain(rule.above)} × "
        f"{plain(rule.pct_per_full_point)} % = {plain(pct)} % (max {plain(rule.max_pct)} %) × "
        f"{money(charges)} = {money(amount)}"
    )
    return Priced(amount, how)


def earn_back(code: str, status: Status, month: Month, history: History, currency: str) -> Priced:
    """Earn-backs whose window closes this month with every month met; notes forfeitures."""
    total = ZERO
    notes = []
    for prior in history.months:
        line = prior.line(code)
        rule = line.earn_back_rule if line else None
        if rule is None or line.credit <= 0 or not prior.month < month <= prior.month + rule.months:
            continue
        elapsed = month.months_since(prior.month)
        between = [history.line(prior.month + step, code) for step in range(1, elapsed)]
        if not all(item is not None and item.status is Status.MET for item in between):
            continue  # already forfeited in an earlier month
        if status is not Status.MET:
            notes.append(f"earn-back of the {prior.month} credit forfeited ({month} not met)")
        elif month == prior.month + rule.months:
            amount = pct_of(rule.pct, line.credit)
            total += amount
            notes.append(
                f"earn-back of the {prior.month} credit: {plain(rule.pct)} % × "
                f"{format_money(line.credit, currency)} = {format_money(amount, currency)} "
                f"({prior.month + 1}..{month} met)"
            )
    return Priced(total, "; ".join(notes))


def _money(currency: str) -> Callable[[Number], str]:
    return partial(format_money, currency=currency)


def _show_points(points: Fraction) -> str:
    return plain(round_half_up(points, 4))
