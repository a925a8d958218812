"""The one mapping between the ORM and the penalty engine's dataclasses.

Reading: a contract's terms in force per month (PenaltyRegime, ServiceLevelVersion with its tiers
and multipliers, TerminationTrigger), its data (charges, counters, approved exclusions, incidents)
and its history (earlier penalty statements as they stand) become engine inputs, in a fixed
number of queries per contract whatever the number of service levels or days.

Writing helpers: an engine line or month becomes the field values of a StatementLine or
PenaltyStatement, and the canonical fingerprint of a month's inputs.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, DateField, F, Min, OuterRef, Prefetch, Q, Subquery, Sum, Value, When
from django.db.models.fields.json import KeyTransform

from contracts.models import Contract, MonthlyCharge
from sla_tracker.choices import ApprovalStatus, CreditType, StatementStatus
from sla_tracker.engine import (
    AllocationCredit,
    Bonus,
    CarriedSums,
    Charges,
    ContractData,
    ContractTerms,
    CounterRow,
    CreditModel,
    Direction,
    EarnBack,
    Exclusion,
    ExpectedMissRule,
    FixedCredit,
    History,
    Incident,
    Kind,
    LinearCredit,
    MinVolume,
    MinVolumeRule,
    Month,
    MonthRange,
    MonthResult,
    Multiplier,
    PriorMonth,
    PriorServiceLevel,
    ServiceLevelResult,
    ServiceLevelTerms,
    Shortfall,
    Status,
    TerminationRight,
    TerminationTrigger,
    Tier,
    TieredCredit,
    TriggerType,
    counters,
    history_to_dict,
    round_half_up,
    to_cents,
)
from sla_tracker.engine.scenario import Scenario, dump_scenario
from sla_tracker.models import (
    CreditMultiplier,
    CreditTier,
    Measurement,
    PenaltyRegime,
    PenaltyStatement,
    ServiceLevel,
    ServiceLevelVersion,
    StatementAdjustment,
    StatementLine,
)
from sla_tracker.models import Exclusion as ExclusionRow
from sla_tracker.models import Incident as IncidentRow
from sla_tracker.models import TerminationTrigger as TriggerRow

MEASURED_PLACES = 6


def to_month(day: date) -> Month:
    return Month.of(day)


def plain(value: Decimal | None) -> Decimal | None:
    """A stored decimal without its column's trailing zeros (``80.0000`` → ``80``), as a contract
    writes it: the engine's explanations and the exported scenario show numbers as given."""
    if value is None:
        return None
    return Decimal(format(value.normalize(), "f"))


@dataclass(frozen=True)
class ContractInputs:
    """Everything the close of ``months`` needs for one contract, loaded once.

    ``statements`` are the contract's statements; only those the close can need carry their
    lines (see :func:`load_close_inputs`). ``lookback`` is how many months before a month its
    history reaches (None: all of it).
    """

    contract: Contract
    months: MonthRange
    terms: dict[Month, ContractTerms]
    versions: dict[Month, dict[str, ServiceLevelVersion]]
    service_levels: dict[str, ServiceLevel]
    data: ContractData
    statements: dict[Month, PenaltyStatement]
    to_close: tuple[Month, ...] = ()
    lookback: int | None = None

    def history_before(self, month: Month, priors: dict[Month, PriorMonth]) -> History:
        """The closed months the engine may look at when evaluating ``month``."""
        first = None if self.lookback is None else month - self.lookback
        return History(
            tuple(priors[item] for item in sorted(priors) if item < month and (first is None or item >= first))
        )


def first_month_with_data(contract: Contract) -> Month:
    """The contract's first month with a measurement, else the month it started."""
    first = Measurement.objects.filter(contract=contract).aggregate(first=Min("month"))["first"]
    return to_month(first or contract.start_date)


def lock_contract(contract_id: int) -> tuple[Contract, Month]:
    """Lock the contract row (``SELECT … FOR UPDATE``) and read its first month with data (else
    its start month) in the same query."""
    first = Measurement.objects.filter(contract=OuterRef("pk")).order_by("month").values("month")[:1]
    contract = (
        Contract.objects.select_for_update()
        .annotate(first_data_month=Subquery(first, output_field=DateField()))
        .get(pk=contract_id)
    )
    return contract, to_month(contract.first_data_month or contract.start_date)


def load_contract_inputs(contract: Contract, months: MonthRange) -> ContractInputs:
    """Terms, data and existing statements (with their lines) of ``contract`` for ``months``
    (fixed query count)."""
    service_levels, terms, versions, _lookback = _load_terms(contract, months)
    data = load_contract_data(contract, months)
    statements = {
        to_month(statement.month): statement
        for statement in PenaltyStatement.objects.filter(contract=contract).prefetch_related(
            Prefetch("lines", queryset=StatementLine.objects.select_related("service_level")),
            "adjustment_lines",
            "adjustments_caused",
        )
    }
    return ContractInputs(
        contract=contract,
        months=months,
        terms=terms,
        versions=versions,
        service_levels={level.code: level for level in service_levels},
        data=data,
        statements=statements,
    )


def load_close_inputs(contract: Contract, target: Month, first_month: Month) -> ContractInputs:
    """What the close of ``target`` needs, reading no more than that.

    The statements are read first (one query, without lines): the months to close are those
    without a statement from ``first_month`` (the first month with data) on, plus ``target``.
    Terms, exclusions, incidents and counter sums are loaded only from the first of them to
    ``target``: earlier months are summarised in their statements. The history is the lines of
    the statements the terms can look back to (:func:`history_lookback`), with only the fields
    the history and the totals need; the statements being recomputed get their full lines, and
    adjustments are read only for them (and, when a locked statement is recomputed, for the
    later statements a difference may be carried into).
    """
    statements = {
        to_month(statement.month): statement for statement in PenaltyStatement.objects.filter(contract=contract)
    }
    start = min(first_month, target)
    to_close = tuple(item for item in MonthRange(start, target) if item not in statements or item == target)
    months = MonthRange(to_close[0], target)
    service_levels, terms, versions, lookback = _load_terms(contract, months)
    history_from = months.first - lookback
    recomputed = {item for item in to_close if item in statements and not statements[item].is_locked}
    locked = {item for item in to_close if item in statements and statements[item].is_locked}
    carry_targets = set()
    if locked:
        first_locked = min(locked)
        carry_targets = {
            item
            for item, statement in statements.items()
            if item > first_locked and item not in to_close and statement.status in OPEN_STATUSES
        }
    lean = {
        item
        for item in statements
        if item not in recomputed and ((history_from <= item < target) or item in locked or item in carry_targets)
    }
    _attach_lines(statements, lean, full=False)
    _attach_lines(statements, recomputed, full=True)
    _attach_adjustments(statements, recomputed | carry_targets, locked)
    data = load_contract_data(contract, months)
    return ContractInputs(
        contract=contract,
        months=months,
        terms=terms,
        versions=versions,
        service_levels={level.code: level for level in service_levels},
        data=data,
        statements=statements,
        to_close=to_close,
        lookback=lookback,
    )


OPEN_STATUSES = (StatementStatus.DRAFT, StatementStatus.IN_REVIEW)
_LEAN_LINE_FIELDS = (
    "statement_id",
    "service_level_id",
    "service_level__code",
    "terms_id",
    "status",
    "provisional",
    "run",
    "raw_credit",
    "credit",
    "bonus",
    "earn_back",
    "waived",
)


def _attach_lines(statements: dict[Month, PenaltyStatement], months: set[Month], *, full: bool) -> None:
    """Read the lines of the statements of ``months`` in one query and attach them as their
    prefetched ``lines``. Lean lines carry only the history's and the totals' fields, with the
    two keys of ``inputs`` the history needs as ``history_earn_back_rule`` and
    ``history_carried_forward``."""
    if not months:
        return
    by_id = {statements[item].pk: statements[item] for item in months}
    lines = StatementLine.objects.filter(statement_id__in=by_id).select_related("service_level")
    if not full:
        lines = lines.only(*_LEAN_LINE_FIELDS).annotate(
            history_earn_back_rule=KeyTransform("earn_back_rule", "inputs"),
            history_carried_forward=KeyTransform("carried_forward", "inputs"),
        )
    grouped: dict[int, list[StatementLine]] = {pk: [] for pk in by_id}
    for line in lines.order_by("statement_id", "id"):
        line.statement = by_id[line.statement_id]
        grouped[line.statement_id].append(line)
    for pk, statement in by_id.items():
        _prefetched(statement)["lines"] = grouped[pk]


def _attach_adjustments(
    statements: dict[Month, PenaltyStatement], carried_into: set[Month], origins: set[Month]
) -> None:
    """The adjustments carried into the statements of ``carried_into`` and those caused by the
    statements of ``origins``, in one query (none when both are empty)."""
    if not (carried_into or origins):
        return
    into = {statements[item].pk: statements[item] for item in carried_into}
    caused = {statements[item].pk: statements[item] for item in origins}
    for statement in into.values():
        _prefetched(statement)["adjustment_lines"] = []
    for statement in caused.values():
        _prefetched(statement)["adjustments_caused"] = []
    rows = StatementAdjustment.objects.filter(Q(statement_id__in=into) | Q(origin_id__in=caused)).order_by("id")
    for row in rows:
        if row.statement_id in into:
            into[row.statement_id]._prefetched_objects_cache["adjustment_lines"].append(row)
        if row.origin_id in caused:
            caused[row.origin_id]._prefetched_objects_cache["adjustments_caused"].append(row)


def _prefetched(statement: PenaltyStatement) -> dict:
    cache = getattr(statement, "_prefetched_objects_cache", None)
    if cache is None:
        cache = statement._prefetched_objects_cache = {}
    return cache


def history_lookback(regimes: list, service_levels: list[ServiceLevel], triggers: tuple) -> int:
    """How many months before a month the engine can look at (sla_tracker.engine): the previous
    month for runs, carried-forward sums and the ``since`` of termination rights (each carried
    from month to month), the contract year for an annual cap (12), the expected-miss windows,
    earn-back months + 1 (of any version: a prior line keeps its own rule) and the termination
    triggers' windows."""
    lookback = 1
    if any(regime.annual_cap_pct is not None for regime in regimes):
        lookback = 12
    for level in service_levels:
        for version in level.versions.all():
            lookback = max(lookback, version.expected_miss_window or 0, (version.earn_back_months or 0) + 1)
    for trigger in triggers:
        lookback = max(lookback, trigger.window or 0)
    return lookback


def _load_terms(contract: Contract, months: MonthRange):
    """The contract's service levels and, per month of ``months``, its terms and the versions in
    force; with the history lookback of all its terms."""
    regimes = list(PenaltyRegime.objects.filter(contract=contract).order_by("valid_from"))
    triggers = tuple(
        TerminationTrigger(TriggerType(row.trigger_type), row.months, row.window)
        for row in TriggerRow.objects.filter(contract=contract).order_by("trigger_type", "months", "id")
    )
    service_levels = list(
        ServiceLevel.objects.filter(contract=contract)
        .order_by("display_order", "code")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=ServiceLevelVersion.objects.order_by("valid_from").prefetch_related(
                    Prefetch("tiers", queryset=CreditTier.objects.order_by("lower")),
                    Prefetch("multipliers", queryset=CreditMultiplier.objects.order_by("run")),
                ),
            )
        )
    )
    terms: dict[Month, ContractTerms] = {}
    versions: dict[Month, dict[str, ServiceLevelVersion]] = {}
    for month in months:
        in_force = _versions_in_force(service_levels, month)
        versions[month] = in_force
        regime = _latest(regimes, month)
        terms[month] = contract_terms(contract, regime, in_force, triggers)
    return service_levels, terms, versions, history_lookback(regimes, service_levels, triggers)


def _latest(rows: list, month: Month):
    """The last of ``rows`` (ordered by valid_from) in force in ``month``."""
    found = None
    for row in rows:
        if to_month(row.valid_from) <= month:
            found = row
    return found


def _versions_in_force(service_levels: list[ServiceLevel], month: Month) -> dict[str, ServiceLevelVersion]:
    in_force = {}
    for level in service_levels:
        if level.retired_from is not None and to_month(level.retired_from) <= month:
            continue
        version = _latest(list(level.versions.all()), month)
        if version is not None:
            in_force[level.code] = version
    return in_force


def contract_terms(
    contract: Contract,
    regime: PenaltyRegime | None,
    versions: dict[str, ServiceLevelVersion],
    triggers: tuple[TerminationTrigger, ...],
) -> ContractTerms:
    return ContractTerms(
        service_levels=tuple(service_level_terms(version) for version in versions.values()),
        currency=contract.currency,
        at_risk_pct=plain(regime.at_risk_pct) if regime else None,
        pool_pct=plain(regime.pool_pct) if regime else None,
        annual_cap_pct=plain(regime.annual_cap_pct) if regime else None,
        contract_year_start=regime.contract_year_start_month if regime else contract.start_date.month,
        termination_triggers=triggers,
    )


def service_level_terms(version: ServiceLevelVersion) -> ServiceLevelTerms:
    """One ServiceLevelVersion (with prefetched tiers and multipliers) as engine terms."""
    level = version.service_level
    rule = None
    if version.expected_miss_occurrences is not None:
        rule = ExpectedMissRule(version.expected_miss_occurrences, version.expected_miss_window)
    volume = None
    if version.min_volume is not None:
        volume = MinVolume(Decimal(version.min_volume), MinVolumeRule(version.min_volume_rule))
    earn_back = None
    if version.earn_back_months and version.earn_back_pct is not None:
        earn_back = EarnBack(version.earn_back_months, plain(version.earn_back_pct))
    bonus = None
    if version.bonus_above is not None and version.bonus_pct_per_full_point is not None:
        max_pct = version.bonus_max_pct if version.bonus_max_pct is not None else Decimal(100)
        bonus = Bonus(plain(version.bonus_above), plain(version.bonus_pct_per_full_point), plain(max_pct))
    return ServiceLevelTerms(
        code=level.code,
        name=level.name,
        numerator=counters(*version.numerator),
        denominator=counters(*version.denominator),
        expected=plain(version.expected),
        kind=Kind(version.kind),
        scale=plain(version.scale),
        direction=Direction(version.direction),
        minimum=plain(version.minimum),
        expected_miss_rule=rule,
        precision=version.precision,
        min_volume=volume,
        credit=_credit_model(version),
        cap_pct=plain(version.cap_pct),
        multipliers=tuple(Multiplier(item.run, plain(item.factor)) for item in version.multipliers.all()),
        earn_back=earn_back,
        bonus=bonus,
        finalisation_days=version.finalisation_days,
    )


def _credit_model(version: ServiceLevelVersion) -> CreditModel | None:
    if version.credit_type == CreditType.ALLOCATION:
        return AllocationCredit(plain(version.allocation_pct))
    if version.credit_type == CreditType.FIXED:
        return FixedCredit(plain(version.fixed_amount))
    if version.credit_type == CreditType.TIERS:
        return TieredCredit(
            tuple(Tier(plain(tier.lower), plain(tier.upper), plain(tier.pct)) for tier in version.tiers.all())
        )
    if version.credit_type == CreditType.LINEAR:
        return LinearCredit(plain(version.pct_per_point), Shortfall(version.shortfall_rounding))
    return None


def load_contract_data(contract: Contract, months: MonthRange) -> ContractData:
    """Charges, counter rows, approved exclusions and incidents for ``months``.

    Counters come from one GROUP BY query: days outside every approved exclusion (and whole-month
    values) are summed into one month row per counter; only days an exclusion touches are kept
    as day rows, since the engine drops them per service level.
    """
    first, last = months.first.first_day, months.last.last_day
    exclusion_rows = list(
        ExclusionRow.objects.filter(
            contract=contract, status=ApprovalStatus.APPROVED, start_date__lte=last, end_date__gte=first
        )
        .order_by("start_date", "end_date", "id")
        .prefetch_related(Prefetch("service_levels", queryset=ServiceLevel.objects.order_by("code")))
    )
    exclusions = tuple(
        Exclusion(
            start=row.start_date,
            end=row.end_date,
            service_levels=tuple(level.code for level in row.service_levels.all()) or None,
            reason=row.get_reason_display(),
        )
        for row in exclusion_rows
    )
    incidents = tuple(
        Incident(
            month=to_month(row.month),
            service_levels=tuple(level.code for level in row.service_levels.all()),
            selected=row.selected_service_level.code if row.selected_service_level else None,
        )
        for row in IncidentRow.objects.filter(contract=contract, month__gte=first, month__lte=last)
        .select_related("selected_service_level")
        .prefetch_related(Prefetch("service_levels", queryset=ServiceLevel.objects.order_by("code")))
        .order_by("occurred_on", "id")
    )
    return ContractData(
        charges=load_charges(contract),
        rows=_counter_rows(contract, months, exclusion_rows),
        exclusions=exclusions,
        incidents=incidents,
    )


def load_charges(contract: Contract) -> Charges:
    """Every recorded month's charges. A month without a record (a future month of the contract
    year, needed by the annual cap) is estimated at the latest recorded month's amount."""
    amounts = list(MonthlyCharge.objects.filter(contract=contract).order_by("month").values_list("month", "amount"))
    by_month = {to_month(month): amount for month, amount in amounts}
    return Charges(default=amounts[-1][1] if amounts else None, by_month=by_month)


def _counter_rows(contract: Contract, months: MonthRange, exclusions: list[ExclusionRow]) -> tuple[CounterRow, ...]:
    excluded_day = Value(None, output_field=DateField())
    if exclusions:
        touched = Q()
        for row in exclusions:
            touched |= Q(day__gte=row.start_date, day__lte=row.end_date)
        excluded_day = Case(When(touched, then=F("day")), default=None, output_field=DateField())
    sums = (
        Measurement.objects.filter(
            contract=contract, month__gte=months.first.first_day, month__lte=months.last.first_day
        )
        .annotate(excluded_day=excluded_day)
        .values("month", "excluded_day", "counter__code")
        .annotate(total=Sum("value"))
        .order_by("month", "excluded_day", "counter__code")
    )
    grouped: dict[tuple[date, date | None], dict[str, Decimal]] = defaultdict(dict)
    for item in sums:
        grouped[(item["month"], item["excluded_day"])][item["counter__code"]] = plain(item["total"])
    rows = []
    for (month, day), values in sorted(grouped.items(), key=lambda entry: (entry[0][0], entry[0][1] or date.min)):
        if day is None:
            rows.append(CounterRow.for_month(to_month(month), values))
        else:
            rows.append(CounterRow.for_day(day, values))
    return tuple(rows)


# History -------------------------------------------------------------------------------------------


def prior_from_statement(statement: PenaltyStatement) -> PriorMonth:
    """A stored statement as a closed month of history, as it stands: a waived line counts with
    credit 0; carried-forward sums and the earn-back rule come from the line's inputs."""
    lines = tuple(
        PriorServiceLevel(
            code=line.service_level.code,
            status=Status(line.status),
            credit=Decimal("0.00") if line.waived else line.credit,
            run=line.run,
            earn_back_rule=_earn_back_from(_line_input(line, "earn_back_rule")),
            carried_forward=_carried_from(_line_input(line, "carried_forward")),
        )
        for line in sorted(statement.lines.all(), key=lambda line: line.service_level.code)
    )
    rights = tuple(
        TerminationRight(
            TerminationTrigger(TriggerType(item["type"]), item["months"], item.get("window")),
            Month.parse(item["since"]),
            item["evidence"],
        )
        for item in statement.termination_rights
    )
    return PriorMonth(to_month(statement.month), lines, statement.cap_reached, rights)


def _line_input(line: StatementLine, key: str):
    """A key of the line's ``inputs``, read from the annotation of a lean line (inputs not loaded)."""
    if "inputs" in line.get_deferred_fields():
        return getattr(line, f"history_{key}")
    return line.inputs.get(key)


def _earn_back_from(data: dict | None) -> EarnBack | None:
    return EarnBack(data["months"], Decimal(data["pct"])) if data else None


def _carried_from(data: dict | None) -> CarriedSums | None:
    if not data:
        return None
    return CarriedSums(Month.parse(data["since"]), Decimal(data["numerator"]), Decimal(data["denominator"]))


# Results as rows -----------------------------------------------------------------------------------


def line_values(line: ServiceLevelResult, month: MonthResult, data: ContractData) -> dict[str, Any]:
    """The StatementLine fields of an engine line (without statement, service level and terms)."""
    measured = line.compared
    return {
        "measured": None if measured is None else round_half_up(measured, MEASURED_PLACES),
        "numerator": line.numerator,
        "denominator": line.denominator,
        "status": str(line.status),
        "provisional": line.provisional,
        "run": line.run,
        "raw_credit": to_cents(line.raw_credit),
        "credit": line.credit,
        "bonus": line.bonus,
        "earn_back": line.earn_back,
        "explanation": line.explanation,
        "inputs": line_inputs(line, month, data),
    }


def line_inputs(line: ServiceLevelResult, month: MonthResult, data: ContractData) -> dict[str, Any]:
    """What the line was computed from, JSON-ready: enough to rebuild its history entry."""
    incident = next(
        (item for item in data.incidents if item.month == month.month and line.code in item.service_levels), None
    )
    return {
        "counter_sums": _counter_sums(line, month.month, data),
        "measured_exact": None if line.measured is None else str(round_half_up(line.measured, MEASURED_PLACES)),
        "excluded_days": [day.isoformat() for day in line.excluded_days],
        "incident": incident and {"service_levels": list(incident.service_levels), "selected": incident.selected},
        "occurrences": line.occurrences,
        "multiplier": str(line.multiplier),
        "capped_credit": str(to_cents(line.capped_credit)),
        "carried_forward": line.carried_forward
        and {
            "since": str(line.carried_forward.since),
            "numerator": str(line.carried_forward.numerator),
            "denominator": str(line.carried_forward.denominator),
        },
        "earn_back_rule": line.earn_back_rule
        and {"months": line.earn_back_rule.months, "pct": str(line.earn_back_rule.pct)},
    }


def _counter_sums(line: ServiceLevelResult, month: Month, data: ContractData) -> dict[str, str]:
    excluded = set(line.excluded_days)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in data.rows:
        if row.month == month and row.day not in excluded:
            for name, value in row.values.items():
                totals[name] += value
    return {name: str(value) for name, value in sorted(totals.items())}


def statement_values(result: MonthResult) -> dict[str, Any]:
    """The PenaltyStatement fields of an engine month (totals are set from the lines)."""
    return {
        "currency": result.currency,
        "charges": to_cents(result.charges),
        "at_risk_amount": result.at_risk_amount,
        "uncapped_credits": to_cents(result.uncapped_credits),
        "cap_reached": result.cap_reached,
        "termination_rights": [
            {
                "type": str(right.trigger.type),
                "months": right.trigger.months,
                "window": right.trigger.window,
                "since": str(right.since),
                "evidence": right.evidence,
            }
            for right in result.termination_rights
        ],
    }


def month_scenario(inputs: ContractInputs, month: Month) -> Scenario:
    """The engine inputs of one month as a one-month scenario (rows, exclusions, incidents of it)."""
    data = inputs.data
    first, last = month.first_day, month.last_day
    month_data = ContractData(
        charges=data.charges,
        rows=tuple(row for row in data.rows if row.month == month),
        exclusions=tuple(item for item in data.exclusions if item.start <= last and item.end >= first),
        incidents=tuple(item for item in data.incidents if item.month == month),
    )
    return Scenario(MonthRange(month, month), inputs.terms[month], month_data)


def input_fingerprint(scenario: Scenario, history: History) -> str:
    """sha256 of the canonical JSON of a month's terms, data and history."""
    canonical = json.dumps(
        {"scenario": dump_scenario(scenario), "history": history_to_dict(history)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
