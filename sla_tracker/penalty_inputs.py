"""The one mapping between the ORM and the penalty engine's dataclasses.

Reading: a contract's terms in force per month (PenaltyRegime, ServiceLevelVersion with its tiers
and multipliers, TerminationTrigger), its data (charges, counters, approved exclusions, incidents)
and its history (earlier penalty statements as they stand, an approved one as corrected if a
correction recomputed it) become engine inputs, in a fixed
number of queries per contract whatever the number of service levels or days.

Writing helpers: an engine line or month becomes the field values of a StatementLine or
PenaltyStatement, and the canonical fingerprint of a month's inputs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, NamedTuple

import orjson
from django.db.models import Case, DateField, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext

from contracts.models import Contract, MonthlyCharge
from sla_tracker.choices import ApprovalStatus, CreditType, StatementAction, StatementStatus
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
    prior_month,
    prior_month_from_dict,
    prior_month_to_dict,
    round_half_up,
    to_cents,
)
from sla_tracker.engine.checks import band_problems
from sla_tracker.engine.explain import to_data as explanation_data
from sla_tracker.engine.scenario import Scenario, dump_scenario
from sla_tracker.models import (
    AdjustmentDispute,
    CloseRefusal,
    CreditMultiplier,
    CreditTier,
    KpiCounter,
    Measurement,
    PenaltyRegime,
    PenaltyStatement,
    ServiceLevel,
    ServiceLevelVersion,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
)
from sla_tracker.models import Exclusion as ExclusionRow
from sla_tracker.models import Incident as IncidentRow
from sla_tracker.models import TerminationTrigger as TriggerRow
from sla_tracker.scenario_messages import readable_message

MEASURED_PLACES = 6
NO_CREDIT = Decimal("0.00")


@lru_cache(maxsize=4096)  # a close converts the same few months thousands of times; months are immutable
def to_month(day: date) -> Month:
    return Month.of(day)


@lru_cache(maxsize=4096)  # terms repeat the same few percentages and targets across contracts
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
    lines (see :func:`load_close_inputs`); the ``summarised`` months are history given by their
    totals only (see :class:`Lookback`). ``lookback`` is how far before a month its history
    reaches (None: all of it). ``waiting`` is, per month, the difference its statement records as
    waiting for an open statement, and ``settled`` what was settled outside the statements (see
    :func:`differences_on_record`). ``waived_credits`` is what the waivers of the waived lines of
    the statements it recomputes gave up (see :func:`waived_credits`).
    """

    contract: Contract
    months: MonthRange
    terms: dict[Month, ContractTerms]
    versions: dict[Month, dict[str, TermsVersion]]
    service_levels: dict[str, ServiceLevelRow]
    data: ContractData
    statements: dict[Month, PenaltyStatement | StoredStatement]
    to_close: tuple[Month, ...] = ()
    lookback: Lookback | None = None
    summarised: frozenset[Month] = frozenset()
    waiting: dict[Month, dict[str, str]] = field(default_factory=dict)
    settled: dict[Month, dict[str, Decimal]] = field(default_factory=dict)
    waived_credits: dict[tuple[int, int], Decimal] = field(default_factory=dict)

    def history_before(self, month: Month, priors: dict[Month, PriorMonth]) -> History:
        """The closed months the engine may look at when evaluating ``month``; those it looks at
        only for their totals are summarised, whether read so or not, so that the history (and
        the fingerprint) of a month is the same whichever close computed it."""
        if self.lookback is None:
            return History(tuple(priors[item] for item in sorted(priors) if item < month))
        first, lines_from = month - self.lookback.months, month - self.lookback.lines
        return History(
            tuple(
                priors[item] if item >= lines_from else priors[item].summary()
                for item in sorted(priors)
                if first <= item < month
            )
        )


def lock_contracts(contract_ids) -> list[tuple[Contract, Month]]:
    """Lock the contract rows in id order (``SELECT … FOR UPDATE``, one query) and read each
    one's first month with data (else its start month) in the same query, and whether a close of it
    was refused before (``has_close_refusal``)."""
    first = Measurement.objects.filter(contract=OuterRef("pk")).order_by("month").values("month")[:1]
    contracts = (
        Contract.objects.select_for_update()
        .annotate(
            first_data_month=Subquery(first, output_field=DateField()),
            has_close_refusal=Exists(CloseRefusal.objects.filter(contract=OuterRef("pk"))),
        )
        .filter(pk__any=list(contract_ids))
        .order_by("pk")
    )
    return [(contract, to_month(contract.first_data_month or contract.start_date)) for contract in contracts]


def lock_contract(contract_id: int) -> tuple[Contract, Month]:
    locked = lock_contracts([contract_id])
    if not locked:
        raise Contract.DoesNotExist(f"Contract {contract_id} does not exist.")
    return locked[0]


def load_contract_inputs(contract: Contract, months: MonthRange) -> ContractInputs:
    """Terms, data and existing statements (with their lines) of ``contract`` for ``months``
    (fixed query count)."""
    service_levels, terms, versions, _lookback = _load_terms([contract], {contract.pk: months})[contract.pk]
    data = load_contracts_data([contract], {contract.pk: months})[contract.pk]
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
    """What the close of ``target`` needs for one contract (see :func:`load_close_inputs_for`)."""
    return load_close_inputs_for([(contract, first_month)], target)[contract.pk]


def load_close_inputs_for(locked: list[tuple[Contract, Month]], target: Month) -> dict[int, ContractInputs]:
    """What the close of ``target`` needs for each of the (contract, first month with data)
    pairs, reading no more than that, in a fixed number of queries for the whole batch.

    The statements are read first (one query, without lines): a contract's months to close are
    those without a statement from its first month with data on, plus ``target``, plus the approved
    or invoiced months before it whose difference waits for an open statement that now exists (see
    :func:`_waiting_differences`; one query, none without such statements). Terms, exclusions,
    incidents and counter sums are loaded only from the first of them to ``target``: earlier months
    are summarised in their statements. The history is the lines of the statements whose service
    levels the terms can look at (:func:`history_lookback`), with only the fields the history and the
    totals need, and the totals of older statements the annual cap looks at (their lines are not
    read); the statements being recomputed get their full lines, and adjustments are read only for
    them (those carried into them and those they caused) and, when a statement that exists is
    recomputed, for the later open statements an adjustment may be carried into or withdrawn from.
    """
    contracts = [contract for contract, _first in locked]
    statements: dict[int, dict[Month, PenaltyStatement | StoredStatement]] = {contract.pk: {} for contract in contracts}
    by_id = {contract.pk: contract for contract in contracts}
    for row in (
        PenaltyStatement.objects.filter(contract_id__any=list(by_id))
        .order_by("contract_id", "month")
        .values_list(*StoredStatement.FIELDS)
    ):
        stored = StoredStatement(**dict(zip(StoredStatement.FIELDS, row, strict=True)))
        statements[stored.contract_id][to_month(stored.month)] = stored
    waiting, settled = _waiting_differences(statements, target)
    to_close: dict[int, tuple[Month, ...]] = {}
    for contract, first_month in locked:
        own = statements[contract.pk]
        carried_later = {item for item in own if own[item].pk in waiting and _open_after(own, item, target)}
        start = min(first_month, target)
        new_or_target = (item for item in MonthRange(start, target) if item not in own or item == target)
        to_close[contract.pk] = tuple(sorted({*new_or_target, *carried_later}))
    months = {pk: MonthRange(items[0], target) for pk, items in to_close.items()}
    terms = _load_terms(contracts, months)
    kept: dict[int, tuple[set[Month], set[Month], set[Month]]] = {}
    for contract in contracts:
        own, closing = statements[contract.pk], to_close[contract.pk]
        recomputed = {item for item in closing if item in own and not own[item].is_locked}
        locked_months = {item for item in closing if item in own and own[item].is_locked}
        carry_targets = set()
        if locked_months or recomputed:
            first_written = min(locked_months | recomputed)
            carry_targets = {
                item
                for item, statement in own.items()
                if item > first_written and item not in closing and statement.status in OPEN_STATUSES
            }
        kept[contract.pk] = (recomputed, locked_months, carry_targets)
    _load_written_statements(statements, kept, by_id)
    lean, full, carried_into, origins = [], [], [], []
    summarised: dict[int, frozenset[Month]] = {}
    for contract in contracts:
        own, lookback = statements[contract.pk], terms[contract.pk][3]
        recomputed, locked_months, carry_targets = kept[contract.pk]
        history_from = months[contract.pk].first - lookback.months
        lines_from = months[contract.pk].first - lookback.lines
        lean += [
            statement
            for item, statement in own.items()
            if item not in recomputed
            and ((lines_from <= item < target) or item in locked_months or item in carry_targets)
        ]
        summarised[contract.pk] = frozenset(
            item
            for item in own
            if history_from <= item < lines_from and item not in locked_months and item not in carry_targets
        )
        full += [own[item] for item in recomputed]
        carried_into += [own[item] for item in recomputed | carry_targets]
        origins += [own[item] for item in recomputed | locked_months]
    _attach_history_lines(lean, {level.pk: level for pk in terms for level in terms[pk][0]})
    _attach_lines(full)
    _attach_adjustments(carried_into, origins)
    given_up = waived_credits(line for statement in origins for line in _lines_of(statement))
    data = load_contracts_data(contracts, months)
    inputs = {}
    for contract in contracts:
        service_levels, contract_terms_by_month, versions, lookback = terms[contract.pk]
        own = statements[contract.pk]
        inputs[contract.pk] = ContractInputs(
            contract=contract,
            months=months[contract.pk],
            terms=contract_terms_by_month,
            versions=versions,
            service_levels={level.code: level for level in service_levels},
            data=data[contract.pk],
            statements=own,
            to_close=to_close[contract.pk],
            lookback=lookback,
            summarised=summarised[contract.pk],
            waiting={item: waiting[statement.pk] for item, statement in own.items() if statement.pk in waiting},
            settled={item: settled[statement.pk] for item, statement in own.items() if statement.pk in settled},
            waived_credits=given_up,
        )
    return inputs


# Statuses of a statement that a close recomputes and that adjustments are carried into (disputed
# included: it goes back to in review once its disputes are resolved, and is approved only then).
OPEN_STATUSES = (StatementStatus.DRAFT, StatementStatus.IN_REVIEW, StatementStatus.DISPUTED)
LOCKED_STATUSES = (StatementStatus.APPROVED, StatementStatus.INVOICED)


def _open_after(own: dict[Month, PenaltyStatement | StoredStatement], month: Month, target: Month) -> bool:
    """Whether, once ``target`` is closed, a statement after ``month`` is open for adjustments."""
    if target > month and (target not in own or own[target].status in OPEN_STATUSES):
        return True
    return any(item > month and statement.status in OPEN_STATUSES for item, statement in own.items())


def _waiting_differences(
    statements: dict[int, dict[Month, PenaltyStatement | StoredStatement]], target: Month
) -> tuple[dict[int, dict[str, str]], dict[int, dict[str, Decimal]]]:
    """:func:`differences_on_record` of the locked statements before ``target`` and of ``target``'s own
    statement (one query, none when there are none): only those may have a difference to carry in this
    close."""
    candidates = [
        statement.pk
        for own in statements.values()
        for item, statement in own.items()
        if item == target or (item < target and statement.is_locked)
    ]
    return differences_on_record(candidates)


def differences_on_record(statements) -> tuple[dict[int, dict[str, str]], dict[int, dict[str, Decimal]]]:
    """By statement id, for ``statements`` (ids, or a queryset of statements; one query, none without ids):
    the difference waiting to be carried, i.e. the amounts per service level code that the latest
    recomputation of an approved (or reopened) month could not carry for want of an open statement after
    it, as its latest "pending" event records them (only those not empty: {} once carried or settled); and
    the amounts per code settled outside the statements since (services.settle_outside_statements), which
    count as carried."""
    if isinstance(statements, QuerySet):
        events = StatementEvent.objects.filter(statement__in=statements)
    else:
        ids = list(statements)
        if not ids:
            return {}, {}
        events = StatementEvent.objects.filter(statement_id__any=ids)
    latest: dict[int, dict[str, str]] = {}
    settled: dict[int, dict[str, Decimal]] = {}
    for statement_id, action, data in (
        events.filter(action__in=(StatementAction.RECOMPUTED, StatementAction.SETTLED), data__has_key="pending")
        .order_by("statement_id", "created_at", "id")
        .values_list("statement_id", "action", "data")
    ):
        latest[statement_id] = data["pending"]
        if action == StatementAction.SETTLED:
            amounts = settled.setdefault(statement_id, {})
            for code, amount in data["settled"].items():
                amounts[code] = amounts.get(code, Decimal("0.00")) + Decimal(amount)
    return {statement_id: pending for statement_id, pending in latest.items() if pending}, settled


class StoredStatement(SimpleNamespace):
    """A statement the close only reads, for the history: the fields the history and the choice
    of the months to close need. Not a model instance: a batch reads about a year of them per
    contract. The statements a close may write are read whole (:func:`_load_written_statements`)."""

    FIELDS = (
        "pk",
        "contract_id",
        "month",
        "status",
        "cap_reached",
        "credits",
        "termination_rights",
        "effective_history",
    )

    @property
    def is_locked(self) -> bool:
        return self.status in LOCKED_STATUSES


def _load_written_statements(
    statements: dict[int, dict[Month, PenaltyStatement | StoredStatement]],
    kept: dict[int, tuple[set[Month], set[Month], set[Month]]],
    contracts: dict[int, Contract],
) -> None:
    """Replace, in ``statements``, the statements a close may write (recomputed, locked months
    whose difference is carried, and the open statements it may be carried into) by model
    instances, in one query (none when there are none)."""
    wanted = {
        statements[contract_id][item].pk: (contract_id, item)
        for contract_id, months in kept.items()
        for item in set().union(*months)
    }
    if not wanted:
        return
    for statement in PenaltyStatement.objects.filter(pk__any=list(wanted)):
        contract_id, item = wanted[statement.pk]
        statement.contract = contracts[contract_id]
        statements[contract_id][item] = statement


class ServiceLevelRow(NamedTuple):
    """A service level as the close reads it (not a model instance: about ten per contract)."""

    pk: int
    contract_id: int
    code: str
    name: str
    retired_from: date | None


class LineFigures(NamedTuple):
    """A line as the history and the totals read it, not a model instance (a close reads about
    ten per month of history and contract): a stored line read lean, or a line a close plans to
    write (``statement_id`` None until it is)."""

    statement_id: int | None
    service_level: ServiceLevelRow
    terms_id: int
    status: str
    provisional: bool
    run: int
    raw_credit: Decimal
    credit: Decimal
    bonus: Decimal
    earn_back: Decimal
    waived: bool
    inputs: dict[str, Any]

    @property
    def service_level_id(self) -> int:
        return self.service_level.pk

    @classmethod
    def planned(cls, service_level: ServiceLevelRow, values: dict[str, Any]) -> LineFigures:
        """A new line of ``service_level`` with the StatementLine ``values`` a close computed."""
        figures = {name: values[name] for name in cls._fields[2:] if name != "waived"}
        return cls(None, service_level, waived=False, **figures)


_HISTORY_LINE_FIELDS = (
    "statement_id",
    "service_level_id",
    "terms_id",
    "status",
    "provisional",
    "run",
    "raw_credit",
    "credit",
    "bonus",
    "earn_back",
    "waived",
    "earn_back_rule",
    "carried_forward",
)


def _attach_history_lines(statements: list, service_levels: dict[int, ServiceLevelRow]) -> None:
    """Read the lines of ``statements`` in one query, as :class:`LineFigures`, with only the two
    keys of ``inputs`` the history needs, and attach them as the statements' prefetched ``lines``."""
    if not statements:
        return
    by_id = {statement.pk: statement for statement in statements}
    grouped: dict[int, list[LineFigures]] = {pk: [] for pk in by_id}
    rows = (
        StatementLine.objects.filter(statement_id__any=list(by_id))
        .annotate(
            # As text, decoded here only when present: most lines have neither.
            earn_back_rule=KeyTextTransform("earn_back_rule", "inputs"),
            carried_forward=KeyTextTransform("carried_forward", "inputs"),
        )
        .order_by("statement_id", "id")
        .values_list(*_HISTORY_LINE_FIELDS)
    )
    for statement_id, level_id, *figures, earn_back_rule, carried_forward in rows:
        inputs = {
            "earn_back_rule": earn_back_rule and json.loads(earn_back_rule),
            "carried_forward": carried_forward and json.loads(carried_forward),
        }
        grouped[statement_id].append(LineFigures(statement_id, service_levels[level_id], *figures, inputs))
    for pk, statement in by_id.items():
        _prefetched(statement)["lines"] = grouped[pk]


def _attach_lines(statements: list[PenaltyStatement]) -> None:
    """Read the whole lines of ``statements`` (those a close may rewrite) in one query and attach
    them as their prefetched ``lines``."""
    if not statements:
        return
    by_id = {statement.pk: statement for statement in statements}
    grouped: dict[int, list[StatementLine]] = {pk: [] for pk in by_id}
    lines = StatementLine.objects.filter(statement_id__any=list(by_id)).select_related("service_level")
    for line in lines.order_by("statement_id", "id"):
        line.statement = by_id[line.statement_id]
        grouped[line.statement_id].append(line)
    for pk, statement in by_id.items():
        _prefetched(statement)["lines"] = grouped[pk]


def _attach_adjustments(carried_into: list[PenaltyStatement], origins: list[PenaltyStatement]) -> None:
    """The adjustments carried into the statements of ``carried_into`` and those caused by the
    statements of ``origins``, in one query (none when both are empty), each with ``has_disputes`` (a
    disputed adjustment is never withdrawn: services._decided_on)."""
    if not (carried_into or origins):
        return
    into = {statement.pk: statement for statement in carried_into}
    caused = {statement.pk: statement for statement in origins}
    for statement in into.values():
        _prefetched(statement)["adjustment_lines"] = []
    for statement in caused.values():
        _prefetched(statement)["adjustments_caused"] = []
    rows = StatementAdjustment.objects.filter(Q(statement_id__any=list(into)) | Q(origin_id__any=list(caused)))
    rows = rows.annotate(has_disputes=Exists(AdjustmentDispute.objects.filter(adjustment=OuterRef("pk"))))
    for row in rows.order_by("id"):
        if row.statement_id in into:
            into[row.statement_id]._prefetched_objects_cache["adjustment_lines"].append(row)
        if row.origin_id in caused:
            caused[row.origin_id]._prefetched_objects_cache["adjustments_caused"].append(row)


def _prefetched(statement: PenaltyStatement) -> dict:
    cache = getattr(statement, "_prefetched_objects_cache", None)
    if cache is None:
        cache = statement._prefetched_objects_cache = {}
    return cache


class RegimeRow(NamedTuple):
    """A PenaltyRegime as the close reads it (not a model instance: one or more per contract)."""

    contract_id: int
    valid_from: date
    at_risk_pct: Decimal | None
    pool_pct: Decimal | None
    annual_cap_pct: Decimal | None
    contract_year_start_month: int


class TermsVersion(SimpleNamespace):
    """A ServiceLevelVersion as the close reads it: its columns as attributes (``pk`` too), its
    ``service_level``, and its ``tiers`` and ``multipliers`` as lists. Not a model instance: a batch
    reads about ten per contract, and building instances cost more than the engine's evaluation."""


class Lookback(NamedTuple):
    """How many months before a month the engine can look at: at all (``months``), and at the
    service levels of those months (``lines``); between the two it reads only the month's totals."""

    months: int
    lines: int


def history_lookback(
    regimes: list, service_levels: list[tuple[ServiceLevelRow, list[TermsVersion]]], triggers: tuple
) -> Lookback:
    """How far back the engine (sla_tracker.engine) can look before a month. At service levels:
    the previous month for runs, carried-forward sums and the ``since`` of termination rights (each
    carried from month to month), the expected-miss windows, earn-back months + 1 (of any version:
    a prior line keeps its own rule) and the termination triggers' windows. At the months' credits
    only: the contract year of an annual cap (12)."""
    lines = 1
    for _level, versions in service_levels:
        for version in versions:
            lines = max(lines, version.expected_miss_window or 0, (version.earn_back_months or 0) + 1)
    for trigger in triggers:
        lines = max(lines, trigger.window or 0)
    months = lines
    if any(regime.annual_cap_pct is not None for regime in regimes):
        months = max(months, 12)
    return Lookback(months, lines)


def _load_terms(contracts: list[Contract], months: dict[int, MonthRange]) -> dict[int, tuple]:
    """Per contract: its service levels and, per month of its ``months``, its terms and the
    versions in force; with the history lookback of all its terms. Six queries for the batch."""
    ids = [contract.pk for contract in contracts]
    regimes: dict[int, list[RegimeRow]] = defaultdict(list)
    for row in (
        PenaltyRegime.objects.filter(contract_id__any=ids)
        .order_by("contract_id", "valid_from")
        .values_list(*RegimeRow._fields)
    ):
        regime = RegimeRow(*row)
        regimes[regime.contract_id].append(regime)
    triggers: dict[int, list[TerminationTrigger]] = defaultdict(list)
    for contract_id, trigger_type, run, window in (
        TriggerRow.objects.filter(contract_id__any=ids)
        .order_by("contract_id", "trigger_type", "months", "id")
        .values_list("contract_id", "trigger_type", "months", "window")
    ):
        triggers[contract_id].append(TerminationTrigger(TriggerType(trigger_type), run, window))
    service_levels = _load_service_levels(ids)
    loaded = {}
    for contract in contracts:
        own_levels, own_regimes, own_triggers = service_levels[contract.pk], regimes[contract.pk], triggers[contract.pk]
        terms: dict[Month, ContractTerms] = {}
        versions: dict[Month, dict[str, TermsVersion]] = {}
        for month in months[contract.pk]:
            in_force = _versions_in_force(own_levels, month)
            versions[month] = in_force
            terms[month] = contract_terms(contract, _latest(own_regimes, month), in_force, tuple(own_triggers))
        lookback = history_lookback(own_regimes, own_levels, own_triggers)
        loaded[contract.pk] = ([level for level, _versions in own_levels], terms, versions, lookback)
    return loaded


def _load_service_levels(contract_ids: list[int]) -> dict[int, list[tuple[ServiceLevelRow, list[TermsVersion]]]]:
    """Per contract, its service levels, each with its versions (oldest first) and each version's
    tiers and multipliers, in four queries, each by the ids the one before read (joined up to the
    contracts instead, PostgreSQL scanned the versions and multipliers of every contract)."""
    levels = [
        ServiceLevelRow(*row)
        for row in ServiceLevel.objects.filter(contract_id__any=contract_ids)
        .order_by("display_order", "code")
        .values_list(*ServiceLevelRow._fields)
    ]
    by_id = {level.pk: level for level in levels}
    versions: dict[int, list[TermsVersion]] = {level.pk: [] for level in levels}
    by_version: dict[int, TermsVersion] = {}
    for row in (
        ServiceLevelVersion.objects.filter(service_level_id__any=list(by_id))
        .order_by("valid_from", "id")
        .values(*_VERSION_COLUMNS)
    ):
        version = TermsVersion(
            pk=row["id"], service_level=by_id[row["service_level_id"]], tiers=[], multipliers=[], **row
        )
        versions[version.service_level_id].append(version)
        by_version[version.pk] = version
    for version_id, lower, upper, pct in (
        CreditTier.objects.filter(version_id__any=list(by_version))
        .order_by("lower", "id")
        .values_list("version_id", "lower", "upper", "pct")
    ):
        by_version[version_id].tiers.append(Tier(plain(lower), plain(upper), plain(pct)))
    for version_id, run, factor in (
        CreditMultiplier.objects.filter(version_id__any=list(by_version))
        .order_by("run", "id")
        .values_list("version_id", "run", "factor")
    ):
        by_version[version_id].multipliers.append(Multiplier(run, plain(factor)))
    grouped: dict[int, list[tuple[ServiceLevelRow, list[TermsVersion]]]] = defaultdict(list)
    for level in levels:
        grouped[level.contract_id].append((level, versions[level.pk]))
    return grouped


_VERSION_COLUMNS = tuple(field.attname for field in ServiceLevelVersion._meta.concrete_fields)


def _latest(rows: list, month: Month):
    """The last of ``rows`` (ordered by valid_from) in force in ``month``."""
    found = None
    for row in rows:
        if to_month(row.valid_from) <= month:
            found = row
    return found


def _versions_in_force(
    service_levels: list[tuple[ServiceLevelRow, list[TermsVersion]]], month: Month
) -> dict[str, TermsVersion]:
    in_force = {}
    for level, versions in service_levels:
        if level.retired_from is not None and to_month(level.retired_from) <= month:
            continue
        version = _latest(versions, month)
        if version is not None:
            in_force[level.code] = version
    return in_force


def contract_terms(
    contract: Contract,
    regime: RegimeRow | None,
    versions: dict[str, TermsVersion],
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


def service_level_terms(version: TermsVersion) -> ServiceLevelTerms:
    """One version of a service level's terms as engine terms."""
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
        multipliers=tuple(version.multipliers),
        earn_back=earn_back,
        bonus=bonus,
        finalisation_days=version.finalisation_days,
    )


def tier_problems(version: ServiceLevelVersion, rows: Iterable[tuple[Decimal, Decimal | None, Decimal]]) -> list[str]:
    """What is wrong with a version's tier rows (from, to, pct), in the reader's language, by the engine's
    band_problems, against the version's target once it is a tiered version with one (a default outside
    every band would be credited 0); "tier 2" is the second row."""
    bands = TieredCredit(tuple(Tier(plain(lower), plain(upper), plain(pct)) for lower, upper, pct in rows))
    if version.credit_type == CreditType.TIERS and not bands.bands:
        return [gettext("A tiered credit needs its tiers: without a band, every default would be credited 0.")]
    target = ()
    if version.credit_type == CreditType.TIERS and version.expected is not None:
        target = (plain(version.expected), Direction(version.direction))
    return [
        f"{_tier_rows(problem.path)}: {_tier_rows(str(readable_message(problem.message)))}"
        for problem in band_problems(bands, "", *target)
    ]


def _tier_rows(text: str) -> str:
    """The engine's "bands[1]" (or "bands[1].to") as the tier's row (the second row kept)."""
    return re.sub(
        r"\.?bands\[(\d+)\](\.(from|to)\b)?",
        lambda match: gettext("tier %(row)s") % {"row": int(match[1]) + 1},
        text,
    )


def _credit_model(version: TermsVersion) -> CreditModel | None:
    if version.credit_type == CreditType.ALLOCATION:
        return AllocationCredit(plain(version.allocation_pct))
    if version.credit_type == CreditType.FIXED:
        return FixedCredit(plain(version.fixed_amount))
    if version.credit_type == CreditType.TIERS:
        return TieredCredit(tuple(version.tiers))
    if version.credit_type == CreditType.LINEAR:
        return LinearCredit(plain(version.pct_per_point), Shortfall(version.shortfall_rounding))
    return None


def load_contracts_data(contracts: list[Contract], months: dict[int, MonthRange]) -> dict[int, ContractData]:
    """Per contract: its charges, counter rows, approved exclusions and incidents for its
    ``months``, in five queries for the batch.

    Counters come from one GROUP BY query: days outside every approved exclusion (and whole-month
    values) are summed into one month row per counter; only days an exclusion touches are kept
    as day rows, since the engine drops them per service level.
    """
    ids = [contract.pk for contract in contracts]
    first = min(item.first.first_day for item in months.values())
    last = max(item.last.last_day for item in months.values())

    def within(contract_id: int, start: date, end: date) -> bool:
        own = months[contract_id]
        return start <= own.last.last_day and end >= own.first.first_day

    exclusion_rows: dict[int, list[ExclusionRow]] = defaultdict(list)
    for row in (
        ExclusionRow.objects.filter(
            contract_id__any=ids, status=ApprovalStatus.APPROVED, start_date__lte=last, end_date__gte=first
        )
        .order_by("contract_id", "start_date", "end_date", "id")
        .prefetch_related(Prefetch("service_levels", queryset=ServiceLevel.objects.order_by("code")))
    ):
        if within(row.contract_id, row.start_date, row.end_date):
            exclusion_rows[row.contract_id].append(row)
    incidents: dict[int, list[Incident]] = defaultdict(list)
    for row in (
        IncidentRow.objects.filter(contract_id__any=ids, month__gte=first, month__lte=last)
        .select_related("selected_service_level")
        .prefetch_related(Prefetch("service_levels", queryset=ServiceLevel.objects.order_by("code")))
        .order_by("contract_id", "occurred_on", "id")
    ):
        if within(row.contract_id, row.month, row.month):
            incidents[row.contract_id].append(
                Incident(
                    month=to_month(row.month),
                    service_levels=tuple(level.code for level in row.service_levels.all()),
                    selected=row.selected_service_level.code if row.selected_service_level else None,
                )
            )
    charges = _load_charges(ids)
    rows = _counter_rows(months, exclusion_rows)
    return {
        contract.pk: ContractData(
            charges=charges[contract.pk],
            rows=rows[contract.pk],
            exclusions=tuple(
                Exclusion(
                    start=row.start_date,
                    end=row.end_date,
                    service_levels=tuple(level.code for level in row.service_levels.all()) or None,
                    reason=row.get_reason_display(),
                )
                for row in exclusion_rows[contract.pk]
            ),
            incidents=tuple(incidents[contract.pk]),
        )
        for contract in contracts
    }


def _load_charges(contract_ids: list[int]) -> dict[int, Charges]:
    """Every recorded month's charges per contract. A month without a record (a future month of
    the contract year, needed by the annual cap) is estimated at the latest recorded month's amount."""
    amounts: dict[int, list[tuple[date, Decimal]]] = {pk: [] for pk in contract_ids}
    for contract_id, month, amount in (
        MonthlyCharge.objects.filter(contract_id__any=contract_ids)
        .order_by("contract_id", "month")
        .values_list("contract_id", "month", "amount")
    ):
        amounts[contract_id].append((month, amount))
    return {
        pk: Charges(default=own[-1][1] if own else None, by_month={to_month(month): amount for month, amount in own})
        for pk, own in amounts.items()
    }


def _counter_rows(
    months: dict[int, MonthRange], exclusions: dict[int, list[ExclusionRow]]
) -> dict[int, tuple[CounterRow, ...]]:
    """The counter sums of each contract's ``months``, in one GROUP BY query over the batch."""
    excluded_day = Value(None, output_field=DateField())
    touched = Q()
    for contract_id, rows in exclusions.items():
        for row in rows:
            touched |= Q(contract_id=contract_id, day__gte=row.start_date, day__lte=row.end_date)
    if touched:
        excluded_day = Case(When(touched, then=F("day")), default=None, output_field=DateField())
    ranges: dict[tuple[date, date], list[int]] = defaultdict(list)
    for contract_id, item in months.items():
        ranges[(item.first.first_day, item.last.first_day)].append(contract_id)
    selected = Q()
    for (start, end), contract_ids in ranges.items():
        selected |= Q(contract_id__any=contract_ids, month__gte=start, month__lte=end)
    # Grouped by the counter's id, not its code: joining the counters first turned PostgreSQL's hash
    # aggregate into a sort of every row of the month.
    sums = (
        Measurement.objects.filter(selected)
        .annotate(excluded_day=excluded_day)
        .values_list("contract_id", "month", "excluded_day", "counter_id")
        .annotate(total=Sum("value"))
        .order_by()
    )
    codes = dict(KpiCounter.objects.values_list("pk", "code"))
    grouped: dict[int, dict[tuple[date, date | None], dict[str, Decimal]]] = {pk: defaultdict(dict) for pk in months}
    for contract_id, month, day, counter_id, total in sums:
        grouped[contract_id][(month, day)][codes[counter_id]] = plain(total)
    result = {}
    for contract_id, by_key in grouped.items():
        rows = []
        for (month, day), values in sorted(by_key.items(), key=lambda entry: (entry[0][0], entry[0][1] or date.min)):
            values = dict(sorted(values.items()))
            rows.append(
                CounterRow.for_month(to_month(month), values) if day is None else CounterRow.for_day(day, values)
            )
        result[contract_id] = tuple(rows)
    return result


# History -------------------------------------------------------------------------------------------


def prior_from_statement(statement: PenaltyStatement) -> PriorMonth:
    """A stored statement as a closed month of history, as it stands: an approved month as its latest
    recomputation after a correction gave it (:func:`effective_history`), else as its lines say."""
    if statement.effective_history is not None:
        return prior_month_from_dict(statement.effective_history)
    return _prior_from_lines(statement)


def _prior_from_lines(statement: PenaltyStatement) -> PriorMonth:
    """The statement's lines as a closed month: a waived line counts with credit 0; carried-forward sums
    and the earn-back rule come from the line's inputs."""
    lines = tuple(
        PriorServiceLevel(
            code=line.service_level.code,
            status=Status(line.status),
            credit=NO_CREDIT if line.waived else line.credit,
            run=line.run,
            earn_back_rule=_earn_back_from(line.inputs.get("earn_back_rule")),
            carried_forward=_carried_from(line.inputs.get("carried_forward")),
        )
        for line in sorted(_lines_of(statement), key=lambda line: line.service_level.code)
    )
    return PriorMonth(to_month(statement.month), lines, statement.cap_reached, _rights_of(statement))


def summary_from_statement(statement: PenaltyStatement) -> PriorMonth:
    """A stored statement as a summarised month of history: the credits it applies (its total:
    waived lines count 0 in it; an approved month's as corrected, if it was), whether the cap was
    reached and its termination rights."""
    if statement.effective_history is not None:
        return prior_month_from_dict(statement.effective_history).summary()
    return PriorMonth(
        to_month(statement.month), (), statement.cap_reached, _rights_of(statement), summary_credits=statement.credits
    )


def effective_history(
    statement: PenaltyStatement, result: MonthResult, given_up: dict[tuple[int, int], Decimal]
) -> dict[str, Any] | None:
    """What later months read of an approved or invoiced ``statement`` once ``result``, its recomputation,
    gives other figures (corrected data, an exclusion approved since): the recomputed month, its waived
    lines crediting only what the recomputation adds to the credit they had when approved (the waiver gave up
    that much), as the statement's ``effective_history``. The statement itself stays as approved, and the
    adjustments carried for it make up the difference, so that a later month's run, windows, earn-back and annual
    cap count the month once, as corrected. None while they agree. ``given_up``: :func:`waived_credits` of its lines."""
    waived = {line.service_level.code: line for line in _lines_of(statement) if line.waived}
    recomputed = prior_month(result)
    lines = sorted(
        (
            replace(line, credit=credit_beyond_waiver(waived[line.code], line.credit, given_up))
            if line.code in waived
            else line
            for line in recomputed.service_levels
        ),
        key=lambda line: line.code,
    )
    corrected = prior_month_to_dict(replace(recomputed, service_levels=tuple(lines)))
    return None if corrected == prior_month_to_dict(_prior_from_lines(statement)) else corrected


def waived_credits(lines: Iterable[StatementLine | LineFigures]) -> dict[tuple[int, int], Decimal]:
    """(statement id, service level id) → the credit the waiver of each waived line of ``lines`` gave up: the most it
    has credited since it was waived, from the lines' history (a credit that fell while the line stayed waived and rose
    back again is still given up). One query for all of them, none without a waived line: a close compares each
    waived line it recomputes with it (the lines of a batch's recomputed and approved months)."""
    given = {(line.statement_id, line.service_level_id): line.credit for line in lines if line.waived}
    if not given:
        return {}
    versions = (
        StatementLine.history.filter(statement_id__any=list({statement_id for statement_id, _level in given}))
        .order_by("statement_id", "service_level_id", "-history_id")
        .values_list("statement_id", "service_level_id", "waived", "credit")
    )
    before_waiver = set()
    for statement_id, level_id, waived, credit in versions:  # each line's latest versions first, back to its waiver
        key = (statement_id, level_id)
        if key not in given or key in before_waiver:
            continue
        if not waived:
            before_waiver.add(key)
            continue
        given[key] = max(given[key], credit)
    return given


def credit_beyond_waiver(
    line: StatementLine | LineFigures, credit: Decimal, given_up: dict[tuple[int, int], Decimal]
) -> Decimal:
    """What ``credit``, a recomputation's credit of the waived ``line``, adds to the credit its waiver gave up
    (``given_up``: :func:`waived_credits` of the line)."""
    if credit <= line.credit:
        return NO_CREDIT
    return max(NO_CREDIT, credit - given_up[(line.statement_id, line.service_level_id)])


def _rights_of(statement: PenaltyStatement) -> tuple[TerminationRight, ...]:
    return tuple(
        TerminationRight(
            TerminationTrigger(TriggerType(item["type"]), item["months"], item.get("window")),
            Month.parse(item["since"]),
            item["evidence"],
        )
        for item in statement.termination_rights
    )


def _lines_of(statement: PenaltyStatement) -> list[StatementLine]:
    """The statement's lines: those the close attached (also to a statement not saved yet), else read."""
    cache = getattr(statement, "_prefetched_objects_cache", None) or {}
    return cache["lines"] if "lines" in cache else list(statement.lines.all())


def _earn_back_from(data: dict | None) -> EarnBack | None:
    return EarnBack(data["months"], Decimal(data["pct"])) if data else None


def _carried_from(data: dict | None) -> CarriedSums | None:
    if not data:
        return None
    return CarriedSums(Month.parse(data["since"]), Decimal(data["numerator"]), Decimal(data["denominator"]))


# Results as rows -----------------------------------------------------------------------------------


def line_values(
    line: ServiceLevelResult, month: MonthResult, data: ContractData, terms: ServiceLevelTerms
) -> dict[str, Any]:
    """The StatementLine fields of an engine line (without statement, service level and terms). The
    measured value is the exact ratio, as the simulator gives it; the status was decided on it as
    rounded to the service level's precision, which the explanation shows."""
    measured = line.measured
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
        "explanation_notes": explanation_data(line.notes),
        "inputs": line_inputs(line, month, data, terms),
    }


def line_inputs(
    line: ServiceLevelResult, month: MonthResult, data: ContractData, terms: ServiceLevelTerms
) -> dict[str, Any]:
    """What the line was computed from, JSON-ready: enough to rebuild its history entry."""
    incident = next(
        (item for item in data.incidents if item.month == month.month and line.code in item.service_levels), None
    )
    return {
        "counter_sums": _counter_sums(line, month.month, data, terms),
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


def _counter_sums(line: ServiceLevelResult, month: Month, data: ContractData, terms: ServiceLevelTerms) -> dict:
    """The month's sum of each counter of the line's formula, without the line's excluded days."""
    names = sorted({term.name for term in (*terms.numerator, *terms.denominator)})
    excluded = set(line.excluded_days)
    totals: dict[str, Decimal] = {}
    for row in data.rows:
        if row.month == month and row.day not in excluded:
            for name in names:
                value = row.values.get(name)
                if value is not None:
                    totals[name] = totals.get(name, Decimal(0)) + value
    return {name: str(totals[name]) for name in names if name in totals}


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
                "evidence_notes": explanation_data(right.notes),
            }
            for right in result.termination_rights
        ],
    }


def export_scenario(contract: Contract, months: MonthRange) -> tuple[dict[str, Any], list[Month]]:
    """A stored contract's terms and data for ``months`` in the simulator's scenario format (JSON-ready),
    and the months whose terms differ from those used. A scenario has one set of terms: those in force
    in its last month, the terms a renegotiation starts from."""
    inputs = load_contract_inputs(contract, months)
    terms = inputs.terms[months.last]
    differing = [month for month in months if inputs.terms[month] != terms]
    return dump_scenario(Scenario(months, terms, inputs.data)), differing


def history_before(contract: Contract, months: MonthRange) -> Month | None:
    """The last month before ``months`` with a statement of ``contract``: its statements of ``months`` build on
    the months before (runs, occurrence windows, earn-backs, the annual cap used), which a scenario does not
    carry, so a simulation of its export may differ in its first months. None without one."""
    last = (
        PenaltyStatement.objects.filter(contract=contract, month__lt=months.first.first_day)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    return None if last is None else to_month(last)


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
    canonical = canonical_json({"scenario": dump_scenario(scenario), "history": history_to_dict(history)})
    return hashlib.sha256(canonical.encode()).hexdigest()


_LEFT_UNESCAPED_BY_ORJSON = re.compile(r"[^\x00-\x7e]")
# The UTF-8 bytes that begin the characters Python's "backslashreplace" writes otherwise than json:
# DEL (kept as it is), U+0080–U+00FF (\xe9; lead bytes C2, C3), beyond U+FFFF (\U0001f600; F0–F4).
# Looked for one by one (memchr): a regular expression took longer than orjson's whole encoding.
_ESCAPED_OTHERWISE_BY_PYTHON = (b"\x7f", b"\xc2", b"\xc3", b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")


def canonical_json(value: Any) -> str:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``, the same
    text several times faster (a close computes one per statement): orjson sorts and writes it,
    then the characters orjson leaves as they are (non-ASCII and DEL) are escaped as json escapes
    them. For JSON-ready values without floats (json and orjson write some floats differently),
    as dump_scenario and history_to_dict give; what orjson refuses (e.g. an integer beyond 64
    bits, a lone surrogate) is written by json."""
    try:
        raw = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    if raw.isascii() and b"\x7f" not in raw:
        return raw.decode("ascii")
    text = raw.decode()
    if not any(lead in raw for lead in _ESCAPED_OTHERWISE_BY_PYTHON):
        # Only characters from U+0100 to U+FFFF left (≥, €, –, …): Python writes them as json does.
        return text.encode("ascii", "backslashreplace").decode("ascii")
    return _LEFT_UNESCAPED_BY_ORJSON.sub(_json_escape, text)


def _json_escape(match: re.Match) -> str:
    code = ord(match[0])
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # beyond the basic plane: a UTF-16 surrogate pair, as json writes it
    return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"
