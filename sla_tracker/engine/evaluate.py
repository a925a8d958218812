"""The monthly close: evaluate a contract's service levels month after month.

Order of operations for a month (issue 3, DOMAIN.md §2.16): measure each service level and
decide its status → raw credit → repeat multiplier → per-service-level cap → single-incident
rule → monthly at-risk cap (pro-rata attribution) → annual cap (likewise) → bonuses and
earn-backs outside the caps → termination triggers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from . import credits as money_rules
from .credits import ZERO, Priced
from .explain import Note, _, amount, describe_status, english, figure, note
from .history import History, prior_month
from .measure import Reading, judge, read
from .money import pct_of, to_cents
from .months import Month, MonthRange
from .results import Evaluation, MonthResult, ServiceLevelResult
from .terms import (
    AllocationCredit,
    ContractData,
    ContractTerms,
    CounterRow,
    EngineError,
    Kind,
    ServiceLevelTerms,
    Status,
)
from .triggers import termination_rights

TermsInForce = ContractTerms | Mapping[Month, ContractTerms]


def evaluate(
    terms: TermsInForce,
    data: ContractData,
    months: MonthRange,
    *,
    history: History | None = None,
    as_of: date | None = None,
) -> Evaluation:
    """Evaluate ``months`` in order, each on top of ``history`` and the months before it.

    ``terms`` is one set of terms for every month, or the terms in force per month.
    ``history`` holds the closed months before ``months.first``. ``as_of`` (a date, never the
    clock) flags lines still inside their service level's finalisation period as provisional.
    """
    history = history or History()
    if history.months and history.months[-1].month >= months.first:
        raise EngineError(f"history must end before {months.first}")
    rows_by_month: dict[Month, list[CounterRow]] = defaultdict(list)
    for row in data.rows:
        rows_by_month[row.month].append(row)
    results = []
    for month in months:
        contract = terms_in_force(terms, month)
        result = _close_month(contract, data, rows_by_month[month], month, history, as_of)
        results.append(result)
        history = history.appended(prior_month(result))
    return Evaluation(tuple(results))


def evaluate_month(
    terms: TermsInForce,
    data: ContractData,
    month: Month,
    *,
    history: History | None = None,
    as_of: date | None = None,
) -> MonthResult:
    """Evaluate one month on top of the closed months in ``history``."""
    return evaluate(terms, data, MonthRange(month, month), history=history, as_of=as_of).months[0]


def terms_in_force(terms: TermsInForce, month: Month) -> ContractTerms:
    """The contract terms that apply to ``month``."""
    if isinstance(terms, ContractTerms):
        return terms
    if month not in terms:
        raise EngineError(f"no terms in force for {month}")
    return terms[month]


@dataclass(frozen=True)
class _Assessed:
    """One service level's month up to its per-service-level cap."""

    terms: ServiceLevelTerms
    reading: Reading
    status: Status
    occurrences: int | None
    run: int
    raw: Priced
    multiplier: Decimal
    capped: Fraction
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class _MonthContext:
    month: Month
    currency: str
    charges: Decimal
    at_risk: Decimal | None  # in cents: the monthly cap, as the statement shows it
    at_risk_base: Fraction | None  # exact: the base of allocation credits (intermediate values are exact)
    history: History


def _close_month(
    contract: ContractTerms,
    data: ContractData,
    rows: list[CounterRow],
    month: Month,
    history: History,
    as_of: date | None,
) -> MonthResult:
    charges = data.charges.for_month(month)
    at_risk = at_risk_base = None
    if contract.at_risk_pct is None:
        # Refused whatever the month's data (not only once a default needs the base): terms the engine
        # cannot price must not pass a month in which the service level happens to be met.
        for terms in contract.service_levels:
            if terms.kind is Kind.CRITICAL and isinstance(terms.credit, AllocationCredit):
                raise EngineError(f"{terms.code}: an allocation credit needs at_risk_pct")
    else:
        at_risk_base = pct_of(contract.at_risk_pct, charges)
        at_risk = to_cents(at_risk_base)
    context = _MonthContext(month, contract.currency, charges, at_risk, at_risk_base, history)
    assessed = [_assess(terms, context, rows, data) for terms in contract.service_levels]

    incidents = [incident for incident in data.incidents if incident.month == month]
    counted, kept_by = money_rules.apply_incidents({item.terms.code: item.capped for item in assessed}, incidents)
    weights = [counted[item.terms.code] for item in assessed]
    # The uncapped total is the sum of the lines as they would be credited (in cents), so that
    # the final credits never exceed it by a rounding cent.
    uncapped = sum((to_cents(weight) for weight in weights), Decimal(0))
    cap_reached = at_risk is not None and uncapped > 0 and uncapped >= at_risk
    codes = [item.terms.code for item in assessed]
    monthly, monthly_note = _monthly_cap(weights, codes, uncapped, context)
    annual_cap, used = _annual_cap(contract, data, month, history)
    final, annual_note = _annual_cap_attribution(monthly, codes, annual_cap, used, context.currency)

    lines = []
    for item, weight, credit in zip(assessed, weights, final, strict=True):
        keeper = kept_by.get(item.terms.code)
        if keeper is not None:
            template = _("single incident: only {kept}'s credit counts → {credit}")
            caps = [note(template, kept=keeper, credit=amount(0, context.currency))]
        else:
            caps = [item for item in (monthly_note, annual_note) if item] if weight > 0 else []
        lines.append(_line(item, weight, credit, caps, context, as_of))
    result = MonthResult(
        month=month,
        currency=contract.currency,
        charges=charges,
        at_risk_amount=at_risk,
        annual_cap_amount=annual_cap,
        lines=tuple(lines),
        uncapped_credits=uncapped,
        cap_reached=cap_reached,
        termination_rights=(),
    )
    rights = termination_rights(contract.termination_triggers, prior_month(result), history)
    return replace(result, termination_rights=rights)


def _assess(terms: ServiceLevelTerms, context: _MonthContext, rows: list[CounterRow], data: ContractData) -> _Assessed:
    month, history = context.month, context.history
    previous = history.line(month - 1, terms.code)
    carried_in = previous.carried_forward if previous else None
    reading = read(terms, month, rows, data.exclusions, carried_in)
    status, occurrences = judge(terms, month, reading.compared, history)
    run = (previous.run if previous else 0) + 1 if status.is_credit_bearing else 0
    if not status.is_credit_bearing or terms.credit is None:
        return _Assessed(terms, reading, status, occurrences, run, Priced(ZERO), Decimal(1), ZERO, ())
    raw = money_rules.raw_credit(
        terms, terms.credit, reading.compared, context.charges, context.at_risk_base, context.currency
    )
    notes = list(raw.how)
    factor = money_rules.multiplier(terms, run)
    credit = raw.amount * Fraction(factor)
    if factor != 1:
        template = _("× {factor} for a run of {run} months = {credit}")
        notes.append(note(template, factor=figure(factor), run=run, credit=amount(credit, context.currency)))
    cap = money_rules.per_service_level_cap(terms, context.charges)
    if cap is not None and credit > cap:
        credit = Fraction(cap)
        template = _("capped at {pct} of charges = {cap}")
        notes.append(note(template, pct=figure(terms.cap_pct, "%"), cap=amount(cap, context.currency)))
    return _Assessed(terms, reading, status, occurrences, run, raw, factor, credit, tuple(notes))


def _monthly_cap(
    weights: list[Fraction], codes: list[str], uncapped: Decimal, context: _MonthContext
) -> tuple[list[Decimal], Note | None]:
    """Lines in cents; when they exceed the at-risk amount, its pro-rata attribution."""
    rounded = [to_cents(weight) for weight in weights]
    at_risk = context.at_risk
    if at_risk is None:
        return rounded, None
    if sum(rounded, Decimal(0)) <= at_risk:
        if uncapped >= at_risk:
            return rounded, note(_("monthly cap reached, not exceeded"))
        return rounded, note(_("monthly cap not reached"))
    reached = note(
        _("monthly cap {at_risk} reached: pro-rata share of {uncapped} uncapped"),
        at_risk=amount(at_risk, context.currency),
        uncapped=amount(uncapped, context.currency),
    )
    return money_rules.attribute(at_risk, weights, rounded, codes), reached


def _annual_cap(
    contract: ContractTerms, data: ContractData, month: Month, history: History
) -> tuple[Decimal | None, Decimal]:
    """The annual cap of ``month``'s contract year and the credits already used in that year."""
    if contract.annual_cap_pct is None:
        return None, Decimal(0)
    year = MonthRange(contract.contract_year_of(month), contract.contract_year_of(month) + 11)
    year_charges = sum((data.charges.for_month(item) for item in year), Decimal(0))
    cap = to_cents(pct_of(contract.annual_cap_pct, year_charges))
    used = sum((prior.credits for prior in history.between(year.first, month - 1)), Decimal(0))
    return cap, used


def _annual_cap_attribution(
    monthly: list[Decimal], codes: list[str], cap: Decimal | None, used: Decimal, currency: str
) -> tuple[list[Decimal], Note | None]:
    if cap is None:
        return monthly, None
    allowed = max(cap - used, Decimal(0))
    if sum(monthly, Decimal(0)) <= allowed:
        return monthly, None
    reached = note(
        _("annual cap {cap} with {used} already used this contract year: pro-rata share of {allowed}"),
        cap=amount(cap, currency),
        used=amount(used, currency),
        allowed=amount(allowed, currency),
    )
    return money_rules.attribute(allowed, [Fraction(item) for item in monthly], monthly, codes), reached


def _line(
    item: _Assessed,
    counted: Fraction,
    credit: Decimal,
    cap_notes: list[Note],
    context: _MonthContext,
    as_of: date | None,
) -> ServiceLevelResult:
    terms, reading = item.terms, item.reading
    bonus = money_rules.bonus(terms, reading.compared, context.charges, context.currency)
    earned = money_rules.earn_back(terms.code, item.status, context.month, context.history, context.currency)
    provisional_until = (context.month + 1).first_day + timedelta(days=terms.finalisation_days)
    provisional = as_of is not None and as_of < provisional_until
    if reading.measured is None:
        *reasons, last = reading.reasons
        parts = [*reasons, last.with_detail(reading.sample)]
    else:
        status = describe_status(terms, reading.compared, reading.measured, item.status, item.occurrences)
        parts = [status.with_detail(reading.sample), *item.notes, *cap_notes]
    if cap_notes and to_cents(counted) != credit:
        parts.append(note(_("credit {credit}"), credit=amount(credit, context.currency)))
    parts += [*bonus.how, *earned.how]
    if provisional:
        parts.append(note(_("provisional until {day}"), day=provisional_until.isoformat()))
    return ServiceLevelResult(
        code=terms.code,
        kind=terms.kind,
        status=item.status,
        measured=reading.measured,
        compared=reading.compared,
        numerator=reading.numerator,
        denominator=reading.denominator,
        excluded_days=reading.excluded_days,
        occurrences=item.occurrences,
        run=item.run,
        raw_credit=item.raw.amount,
        multiplier=item.multiplier,
        capped_credit=counted,
        credit=credit,
        bonus=to_cents(bonus.amount),
        earn_back=to_cents(earned.amount),
        earn_back_rule=terms.earn_back,
        carried_forward=reading.carried_forward,
        provisional=provisional,
        explanation=english(tuple(parts)),
        notes=tuple(parts),
    )
