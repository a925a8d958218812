"""Writes of the penalty close and of statements: one atomic function per action, each with an
audit row (StatementEvent).

Adjustment sign: an adjustment's amount is the approved credit minus the recomputed credit of
the same service level. Positive favours the vendor (it was credited too much and gets money
back); negative favours the customer. A statement's net is bonuses + earn-backs − credits +
adjustments, so adjustments enter it with their own sign (a waived one: 0, as a waived line's credit).

Every write that touches a contract's statements first locks the contract row, so the close and
the transitions of one contract serialise in one lock order.
"""

from __future__ import annotations

import datetime
import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.choices import Role
from accounts.templatetags.ui import money
from config.db import copy_history_rows, insert_history_rows, insert_instances, insert_rows
from config.formats import long_date, month_name
from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.months import first_of_month, parse_month
from sla_tracker.choices import (
    ApprovalStatus,
    CloseRefusalCode,
    ComputationCause,
    DisputeStatus,
    StatementAction,
    StatementStatus,
)
from sla_tracker.engine import EngineError, Month, MonthResult, evaluate_month
from sla_tracker.evidence import validate_evidence
from sla_tracker.models import (
    CLOSE_REFUSAL_MESSAGES,
    AdjustmentDispute,
    CloseRefusal,
    Exclusion,
    LineDispute,
    PenaltyStatement,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
)
from sla_tracker.models.data import validate_service_levels_of
from sla_tracker.models.statements import close_refusal_text
from sla_tracker.penalty_inputs import (
    LOCKED_STATUSES,
    OPEN_STATUSES,
    ContractInputs,
    LineFigures,
    credit_beyond_waiver,
    differences_on_record,
    effective_history,
    input_fingerprint,
    line_values,
    load_close_inputs_for,
    lock_contracts,
    month_scenario,
    prior_from_statement,
    statement_values,
    summary_from_statement,
    to_month,
)

# Draft, in review and disputed: what a close recomputes and what adjustments are carried into.
OPEN_FOR_ADJUSTMENTS = OPEN_STATUSES
ZERO = Decimal("0.00")
_LINE_FIELDS = (
    "terms_id",
    "measured",
    "numerator",
    "denominator",
    "status",
    "provisional",
    "run",
    "raw_credit",
    "credit",
    "bonus",
    "earn_back",
    "explanation",
    "explanation_notes",
    "inputs",
)
_WAIVER_FIELDS = ("waived", "waiver_reason", "waived_by", "waived_at")
# What a close sets on a statement: the engine's figures, the totals and when.
_STATEMENT_FIELDS = (
    "currency",
    "charges",
    "at_risk_amount",
    "uncapped_credits",
    "cap_reached",
    "termination_rights",
    "input_fingerprint",
    "credits",
    "bonuses",
    "earn_backs",
    "adjustments",
    "net",
    "computed_at",
    "effective_history",
)


# The monthly close ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosedMonth:
    """What a batch close did: each closed contract's statement of the month, and why the
    others were not closed (contract id → message)."""

    statements: dict[int, PenaltyStatement]
    refused: dict[int, str]


def close_contract_month(
    *,
    contract_id: int,
    month: datetime.date | str,
    actor=None,
    as_of: datetime.date | None = None,
    cause: str = ComputationCause.MONTHLY_CLOSE,
) -> PenaltyStatement:
    """Compute and store the penalty statement of ``contract_id`` for ``month``: the close of
    :func:`close_contracts_month` for one contract, whose refusal is a ValidationError."""
    closed = close_contracts_month(contract_ids=[contract_id], month=month, actor=actor, as_of=as_of, cause=cause)
    if contract_id in closed.refused:
        raise ValidationError(closed.refused[contract_id])
    return closed.statements[contract_id]


def close_contracts_month(
    *,
    contract_ids,
    month: datetime.date | str,
    actor=None,
    as_of: datetime.date | None = None,
    changed_from: Month | None = None,
    cause: str = ComputationCause.MONTHLY_CLOSE,
) -> ClosedMonth:
    """Compute and store the penalty statements of ``contract_ids`` for ``month``, in one
    transaction with a fixed number of queries for the batch.

    Per contract, earlier months without a statement (from the first month with data, or the
    contract start) are closed first, in order. The history of each month is the earlier
    statements as they stand, as far back as the terms can look (penalty_inputs.history_lookback);
    only the months being closed are read from the data. A draft, in-review or disputed statement
    is updated in place (waivers kept); an approved or invoiced one is never changed: a difference
    in its credits becomes adjustments in the contract's next open statement, once (see
    :func:`_settle_differences`, which also withdraws the adjustments of a reopened statement once it
    is recomputed). An approved month whose difference waits for an open statement is recomputed
    with any later month whose close gives it one. Closing twice writes nothing the second time. A
    contract that cannot be closed (no charges for a month, terms the engine refuses) is reported in
    ``refused`` and nothing of it is written; the others close. ``changed_from``: the first month whose
    change makes this close recompute approved months (carry_corrections_of_approved_months), which the
    events of a later month's difference name as its cause. ``cause``: what made the tracker compute, which
    every event the close writes records (ComputationCause).
    """
    target = _month(month)
    as_of = as_of or timezone.localdate()
    if as_of <= target.last_day:
        raise ValidationError(
            _("%(month)s is not over: its statement is computed once the month has ended.")
            % {"month": month_name(target.first_day)}
        )
    statements: dict[int, PenaltyStatement] = {}
    refused: dict[int, str] = {}
    refusals: dict[int, ValidationError] = {}
    computed: dict[int, tuple[Month, ...]] = {}  # the months each closed contract's close computed
    with cyclic_gc_paused(), transaction.atomic():
        locked = lock_contracts(contract_ids)
        for contract_id in set(contract_ids) - {contract.pk for contract, _first in locked}:
            refused[contract_id] = _("Contract %(id)s does not exist.") % {"id": contract_id}
        writes = StatementWrites(actor, cause)
        for contract_id, inputs in load_close_inputs_for(locked, target).items():
            try:
                _require_served(inputs.contract, target)
                own = _close_months(inputs, as_of, actor, cause, changed_from)
            except ValidationError as exc:
                refused[contract_id] = _refusal_text(exc)
                refusals[contract_id] = exc
                continue
            writes.extend(own)
            statements[contract_id] = inputs.statements[target]
            computed[contract_id] = inputs.to_close
        writes.save()
        refused_before = {contract.pk for contract, _first in locked if contract.has_close_refusal}
        _record_close_refusals(
            target, refusals, computed={pk: months for pk, months in computed.items() if pk in refused_before}
        )
    for statement in statements.values():
        statement._prefetched_objects_cache = {}  # the close's in-memory lists are not querysets
    return ClosedMonth(statements, refused)


def _refusal_text(exc: ValidationError) -> str:
    """What the close says of a refusal, in the active language, its month and days written out as the pages
    write them (close_refusal_text); its params keep them ISO."""
    if hasattr(exc, "error_dict"):
        return "; ".join(exc.messages)
    return "; ".join(
        close_refusal_text(error.code or "", error.params, " ".join(error.messages)) for error in exc.error_list
    )


def _require_served(contract: Contract, month: Month) -> None:
    """Refuse a month before the contract started, after the last day of service of an ended contract, or of a
    contract that never ran (a running contract is closed past an unmoved term end: a tacit renewal runs on
    until it is recorded)."""
    ended = {ContractStatus.TERMINATED: contract.terminated_on, ContractStatus.EXPIRED: contract.end_date}
    last_day = ended.get(contract.status)
    never_ran = (
        contract.status == ContractStatus.TERMINATED and last_day is None and not contract.statements.exists()
    )  # a draft terminated without a last day of service
    if never_ran or month.last_day < contract.start_date or (last_day is not None and month.first_day > last_day):
        raise ValidationError(
            CLOSE_REFUSAL_MESSAGES[CloseRefusalCode.NOT_SERVED],
            code=CloseRefusalCode.NOT_SERVED,
            params={
                "contract": contract.reference,
                "month": str(month),
                "start": contract.start_date.isoformat(),
                "end": (last_day or contract.end_date).isoformat(),
            },
        )


def _record_close_refusals(
    target: Month, refusals: dict[int, ValidationError], computed: dict[int, tuple[Month, ...]]
) -> None:
    """Keep why each of ``refusals`` (contract id → the close's refusal) could not be closed for ``target``,
    counting the attempts; forget the refusals of the months the close just ``computed`` (contract id → months:
    ``target`` and the earlier months it closed; an earlier statement it did not recompute keeps its refusal)."""
    done = Q()
    for contract_id, months in computed.items():
        done |= Q(contract_id=contract_id, month__in=[month.first_day for month in months])
    # A month the contract did not serve has nothing to fix: not kept (one kept before it ended is dropped).
    not_served = [pk for pk, exc in refusals.items() if exc.error_list[0].code == CloseRefusalCode.NOT_SERVED]
    if not_served:
        done |= Q(contract_id__in=not_served, month=target.first_day)
    if done:
        CloseRefusal.objects.filter(done).delete()
    refusals = {pk: exc for pk, exc in refusals.items() if pk not in not_served}
    if not refusals:
        return
    now = timezone.now()
    known = {
        refusal.contract_id: refusal
        for refusal in CloseRefusal.objects.filter(contract_id__in=list(refusals), month=target.first_day)
    }
    for contract_id, exc in refusals.items():
        error = exc.error_list[0]
        refusal = known.get(contract_id) or CloseRefusal(
            contract_id=contract_id, month=target.first_day, first_refused_at=now, attempts=0
        )
        refusal.code = error.code or ""
        refusal.params = error.params or {}
        refusal.message = _refusal_text(exc)
        refusal.refused_at = now
        refusal.attempts += 1
        refusal.save()


@contextmanager
def cyclic_gc_paused():
    """Pause Python's cyclic garbage collector for the block (reference counting still frees).

    A batch close allocates some million short-lived objects, which set off about a hundred
    collections per batch; the full ones also walk every object the batch holds alive. Measured at
    1,000 contracts: 0.3–0.6 s of a 3.5 s close. The few cycles the block leaves are collected once
    the collector resumes.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _close_months(
    inputs: ContractInputs, as_of: datetime.date, actor, cause: str, changed_from: Month | None = None
) -> StatementWrites:
    """Evaluate a contract's months to close in order; what to write (nothing written yet)."""
    contract = inputs.contract
    writes = StatementWrites(actor, cause)
    priors = {
        item: prior_from_statement(statement)
        for item, statement in inputs.statements.items()
        if "lines" in (getattr(statement, "_prefetched_objects_cache", None) or {})
    }
    priors.update({item: summary_from_statement(inputs.statements[item]) for item in inputs.summarised})
    corrected: list[tuple[PenaltyStatement, MonthResult | None]] = []  # (statement, its result if locked)
    for item in inputs.to_close:
        if item not in inputs.data.charges.by_month:
            raise ValidationError(
                CLOSE_REFUSAL_MESSAGES[CloseRefusalCode.NO_CHARGES],
                code=CloseRefusalCode.NO_CHARGES,
                params={"contract": contract.reference, "month": str(item)},
            )
        history = inputs.history_before(item, priors)
        try:
            result = evaluate_month(inputs.terms, inputs.data, item, history=history, as_of=as_of)
        except EngineError as exc:
            raise ValidationError(
                CLOSE_REFUSAL_MESSAGES[CloseRefusalCode.NOT_EVALUABLE],
                code=CloseRefusalCode.NOT_EVALUABLE,
                params={"contract": contract.reference, "month": str(item), "reason": str(exc)},
            ) from exc
        existing = inputs.statements.get(item)
        if existing is not None and existing.is_locked:
            corrected.append((existing, result))
            _set_effective_history(existing, result, inputs.waived_credits, writes)
            if item != inputs.to_close[-1]:
                priors[item] = prior_from_statement(existing)
            continue
        fingerprint = input_fingerprint(month_scenario(inputs, item), history)
        statement = _plan_statement(inputs, existing, result, fingerprint, writes)
        inputs.statements[item] = statement
        if existing is not None:
            corrected.append((statement, None))
        if item != inputs.to_close[-1]:  # the history of the months closed after it
            priors[item] = prior_from_statement(statement)
    # Once every month is planned: a difference may be carried into a statement this close creates.
    for origin, result in corrected:
        _settle_differences(inputs, origin, result, writes, changed_from)
    return writes


def _set_effective_history(
    statement: PenaltyStatement,
    result: MonthResult,
    given_up: dict[tuple[int, int], Decimal],
    writes: StatementWrites,
) -> None:
    """Record what later months read of an approved or invoiced month just recomputed (its figures stay)."""
    corrected = effective_history(statement, result, given_up)
    if statement.effective_history != corrected:
        statement.effective_history = corrected
        writes.touch(statement)


def _month(value: datetime.date | str) -> Month:
    if isinstance(value, str):
        try:
            value = parse_month(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
    return to_month(value)


class StatementWrites:
    """The rows a close writes, saved together with one bulk query per table and kind."""

    def __init__(self, actor, cause: str):
        self.actor = actor
        self.cause = cause  # of every event written (ComputationCause)
        self.created: list[PenaltyStatement] = []
        self.updated: list[PenaltyStatement] = []
        self.created_lines: list[tuple[PenaltyStatement, int, dict]] = []  # (statement, service level id, values)
        self.updated_lines: list[StatementLine] = []
        self.removed_lines: list[StatementLine] = []
        self.lifted_waivers: list[StatementLine] = []  # updated lines whose waiver a higher credit withdrew
        self.adjustments: list[StatementAdjustment] = []
        self.removed_adjustments: list[StatementAdjustment] = []
        self.events: list[tuple[PenaltyStatement, dict]] = []  # (statement, StatementEvent values)

    _LISTS = (
        "created",
        "updated",
        "created_lines",
        "updated_lines",
        "removed_lines",
        "lifted_waivers",
        "adjustments",
        "removed_adjustments",
        "events",
    )

    def extend(self, other: StatementWrites) -> None:
        for name in self._LISTS:
            getattr(self, name).extend(getattr(other, name))

    def touch(self, statement: PenaltyStatement) -> None:
        """Save ``statement`` (its totals changed) unless it is saved already."""
        if not any(item is statement for item in (*self.created, *self.updated)):
            self.updated.append(statement)

    def save(self) -> None:
        if self.created:
            insert_instances(self.created)
            insert_history_rows(self.created, history_type="+", user=self.actor)
        if self.updated:
            PenaltyStatement.objects.bulk_update(self.updated, _STATEMENT_FIELDS)
            insert_history_rows(self.updated, history_type="~", user=self.actor)
        # The lines' history too, in one query per kind as the statements': a past meeting's scorecard reads each
        # line as it stood on the meeting day from it (governance.selectors.line_versions_as_of).
        if self.created_lines:
            rows = [
                {"statement_id": statement.pk, "service_level_id": level_id, **values}
                for statement, level_id, values in self.created_lines
            ]
            insert_rows(StatementLine, rows, keys=True)
            copy_history_rows(StatementLine, [row["id"] for row in rows], history_type="+", user=self.actor)
        if self.updated_lines:
            StatementLine.objects.bulk_update(self.updated_lines, ["terms", *_LINE_FIELDS[1:]])
            if self.lifted_waivers:  # before the history's copy, which keeps the line without its waiver
                StatementLine.objects.bulk_update(self.lifted_waivers, _WAIVER_FIELDS)
            copy_history_rows(
                StatementLine, [line.pk for line in self.updated_lines], history_type="~", user=self.actor
            )
        if self.removed_lines:
            _delete_lines(self.removed_lines, self.actor)
        if self.removed_adjustments:
            StatementAdjustment.objects.filter(pk__in=[item.pk for item in self.removed_adjustments]).delete()
        if self.adjustments:
            StatementAdjustment.objects.bulk_create(self.adjustments)
        now = timezone.now()
        insert_rows(
            StatementEvent,
            [
                {
                    "statement_id": statement.pk,
                    "actor_id": getattr(self.actor, "pk", None),
                    "cause": self.cause,
                    "created_at": now,
                    **values,
                }
                for statement, values in self.events
            ],
        )


def _delete_lines(lines: list[StatementLine], actor) -> None:
    """Delete ``lines`` (their service levels left their month's terms) and write their history's "-" versions in one
    query: a queryset's delete() writes them one line at a time (django-simple-history's signal). What that delete
    does to the rows naming a line is done here too: a disputed line is not deleted (its dispute protects it) and the
    events of the others keep no line."""
    ids = [line.pk for line in lines]
    disputes = list(LineDispute.objects.filter(line_id__any=ids))
    if disputes:
        raise ProtectedError(
            "Cannot delete some instances of model 'StatementLine' because they are referenced through protected "
            "foreign keys: 'LineDispute.line'.",
            set(disputes),
        )
    copy_history_rows(StatementLine, ids, history_type="-", user=actor)
    StatementEvent.objects.filter(line_id__any=ids).update(line=None)
    StatementLine.objects.filter(pk__any=ids)._raw_delete(StatementLine.objects.db)  # no signal: history written


def _plan_statement(
    inputs: ContractInputs,
    existing: PenaltyStatement | None,
    result: MonthResult,
    fingerprint: str,
    writes: StatementWrites,
) -> PenaltyStatement:
    """The statement of ``result`` as it must stand, its changes added to ``writes``."""
    # An open statement's lines are the month as it stands: a reopened month's corrected figures are its own.
    values = {**statement_values(result), "input_fingerprint": fingerprint, "effective_history": None}
    statement = existing or PenaltyStatement(contract=inputs.contract, month=result.month.first_day)
    current = {line.service_level_id: line for line in existing.lines.all()} if existing else {}
    changed = existing is None
    for name, value in values.items():
        if getattr(statement, name) != value:
            setattr(statement, name, value)
            changed = True
    lines, created, updated = [], [], []
    versions = inputs.versions[result.month]
    terms = {item.code: item for item in inputs.terms[result.month].service_levels}
    for engine_line in result.lines:
        level = inputs.service_levels[engine_line.code]
        wanted = {
            **line_values(engine_line, result, inputs.data, terms[engine_line.code]),
            "terms_id": versions[engine_line.code].pk,
        }
        line = current.pop(level.pk, None)
        if line is None:
            created.append((statement, level.pk, wanted))
            line = LineFigures.planned(level, wanted)
        elif any(getattr(line, name) != wanted[name] for name in _LINE_FIELDS):
            if line.waived and wanted["credit"] > line.credit:
                given = inputs.waived_credits[(line.statement_id, line.service_level_id)]
                if wanted["credit"] > given:
                    _lift_waiver(statement, line, given, wanted["credit"], writes)
            for name in _LINE_FIELDS:
                setattr(line, name, wanted[name])
            updated.append(line)
        lines.append(line)
    removed = list(current.values())
    adjustments = _charged(existing.adjustment_lines.all()) if existing else ZERO
    changed |= _set_totals(statement, lines, adjustments)
    if not (changed or created or updated or removed):
        return statement
    statement.computed_at = timezone.now()
    (writes.updated if existing else writes.created).append(statement)
    writes.created_lines += created
    writes.updated_lines += updated
    writes.removed_lines += removed
    writes.events.append(
        (
            statement,
            {
                "action": StatementAction.COMPUTED if existing is None else StatementAction.RECOMPUTED,
                "note": f"credits {statement.credits}, net {statement.net}",
                # The figures again as data, for the pages to show as money in the reader's language.
                "data": {
                    "input_fingerprint": statement.input_fingerprint,
                    "credits": str(statement.credits),
                    "net": str(statement.net),
                },
            },
        )
    )
    cache = getattr(statement, "_prefetched_objects_cache", None) or {"adjustment_lines": [], "adjustments_caused": []}
    statement._prefetched_objects_cache = {**cache, "lines": lines}
    return statement


def _lift_waiver(
    statement: PenaltyStatement, line: StatementLine, waived: Decimal, credit: Decimal, writes: StatementWrites
) -> None:
    """Withdraw the waiver of ``line``, whose credit a recomputation raises to ``credit``, above the ``waived`` credit
    its waiver gave up (penalty_inputs.waived_credits): a waiver gives up the credit the line had when it was given,
    and no one decided to give up more (a line waived with no credit that now has one included). The line's credit
    counts again until someone waives it again; the waiver stays on record (its event, the line's history) and the
    withdrawal's event says why. See _settle_differences for an approved month."""
    line.waived, line.waiver_reason, line.waived_by, line.waived_at = False, "", None, None
    writes.lifted_waivers.append(line)
    writes.events.append(
        (
            statement,
            {
                "action": StatementAction.LINE_WAIVER_WITHDRAWN,
                "line_id": line.pk,
                "note": f"The credit rose from {waived} to {credit} on recomputation: the waiver gave up {waived}.",
                # The amounts again as data, for the pages to show as money in the reader's language.
                "data": {"waived_credit": str(waived), "credit": str(credit)},
            },
        )
    )


def _set_totals(statement: PenaltyStatement, lines: list[StatementLine], adjustments: Decimal) -> bool:
    """Set the statement's totals from its lines (waived lines credit nothing) and ``adjustments``, what its
    adjustments charge (:func:`_charged`); whether they changed."""
    credits = sum((line.credit for line in lines if not line.waived), ZERO)
    bonuses = sum((line.bonus for line in lines), ZERO)
    earn_backs = sum((line.earn_back for line in lines), ZERO)
    totals = {
        "credits": credits,
        "bonuses": bonuses,
        "earn_backs": earn_backs,
        "adjustments": adjustments,
        "net": bonuses + earn_backs - credits + adjustments,
    }
    changed = False
    for name, value in totals.items():
        if getattr(statement, name) != value:
            setattr(statement, name, value)
            changed = True
    return changed


def _settle_differences(
    inputs: ContractInputs,
    origin: PenaltyStatement,
    result: MonthResult | None,
    writes: StatementWrites,
    changed_from: Month | None = None,
) -> None:
    """Make the adjustments ``origin`` caused add up, per service level, to the correction it still
    needs, in what ``writes`` will save.

    An approved or invoiced origin (``result``: its recomputation) needs, per line, its recomputed share
    of the net less its approved share carried (bonus and earn-back less credit: a correction may move
    any of them); a waived line's approved credit stays waived, what a recomputation adds to it does not. What
    the adjustments already carried do not cover goes, once, into the first open statement after it. An open origin
    (``result`` None: a statement reopened after approval and just recomputed, so that its own lines
    now carry the correction) needs none: its adjustments in open statements are withdrawn, and those
    in approved or invoiced statements are reversed in the first open statement after it, so the
    correction counts once. One that was disputed or waived is never withdrawn (its record stays): it
    is reversed like those, so that a waiver still counts. Without an open statement after the origin,
    what is left waits, recorded on the origin's "pending" event: a close of a later month (the monthly
    close, the nightly recompute) carries it once there is one. Events record every carry, withdrawal and
    wait, and, for a month recomputed because an earlier one changed (``changed_from``), that month.
    """
    month = to_month(origin.month)
    cause = {"after_change_of": str(changed_from)} if changed_from is not None and changed_from < month else {}
    caused = list(origin.adjustments_caused.all())
    # A waived adjustment counts as carried: the waiver is a decision on that difference, not a difference
    # left to carry (else the next close would carry it again).
    carried: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for adjustment in caused:
        carried[adjustment.service_level_id] += adjustment.amount
    for code, amount in inputs.settled.get(month, {}).items():  # settled outside the statements: carried too
        carried[inputs.service_levels[code].pk] += amount
    codes = {level.pk: level.code for level in inputs.service_levels.values()}
    by_id = {statement.pk: statement for statement in inputs.statements.values() if statement.pk is not None}
    outstanding: dict[int, tuple[Decimal, str, dict]] = {}  # service level id → (amount, reason, its data)
    withdrawn: dict[int, list[StatementAdjustment]] = defaultdict(list)  # host statement id → adjustments
    if result is not None:
        recomputed = {line.code: line for line in result.lines}
        for line in origin.lines.all():
            new = recomputed.get(line.service_level.code)
            # The line's share of the net: its bonus and earn-back less its credit (none once waived).
            approved_net = line.bonus + line.earn_back - (ZERO if line.waived else line.credit)
            if new is None:
                new_net = ZERO
            else:
                # A waiver gave up the approved credit, not more: what a recomputation adds to it is owed (as in an
                # open month, _lift_waiver).
                owed = credit_beyond_waiver(line, new.credit, inputs.waived_credits) if line.waived else new.credit
                new_net = new.bonus + new.earn_back - owed
            already = carried[line.service_level_id]
            amount = new_net - approved_net - already
            if amount:
                reason = (
                    f"{line.service_level.code} {month}: approved net {approved_net}, {new_net} after recomputation"
                )
                figures = {"approved_net": str(approved_net), "recomputed_net": str(new_net)}
                if already:  # else a correction undone would read as no difference at all
                    reason += f", {already} carried before"
                    figures["carried_before"] = str(already)
                outstanding[line.service_level_id] = (amount, reason, figures)
    else:
        for adjustment in caused:
            host = by_id.get(adjustment.statement_id)
            if (
                carried[adjustment.service_level_id]
                and host is not None
                and host.status in OPEN_STATUSES
                and not _decided_on(adjustment)
            ):
                withdrawn[host.pk].append(adjustment)
        left = dict(carried)
        for adjustment in (item for items in withdrawn.values() for item in items):
            left[adjustment.service_level_id] -= adjustment.amount
        for level_id, amount in left.items():
            if amount:
                reason = (
                    f"{codes[level_id]} {month}: reopened and recomputed, what was carried into approved "
                    "statements or settled outside them reversed"
                )
                outstanding[level_id] = (-amount, reason, {"reversed": True})
    target = next(
        (
            statement
            for item, statement in sorted(inputs.statements.items())
            if item > month and statement.status in OPEN_STATUSES
        ),
        None,
    )
    data: dict = {}
    for host_id, adjustments in withdrawn.items():
        host = by_id[host_id]
        removed = {item.pk for item in adjustments}
        remaining = [item for item in host._prefetched_objects_cache["adjustment_lines"] if item.pk not in removed]
        _set_adjustments(host, remaining, writes)
        writes.removed_adjustments += adjustments
        amounts = _amounts_by_code(codes, adjustments)
        data.setdefault("withdrawn_from", {})[str(to_month(host.month))] = amounts
        writes.events.append(
            (
                host,
                {
                    "action": StatementAction.ADJUSTED,
                    "note": (
                        f"adjustment {_total(adjustments)} for {month} withdrawn: {month} was reopened and recomputed"
                    ),
                    "data": {"origin": str(month), "withdrawn": amounts},
                },
            )
        )
    origin._prefetched_objects_cache["adjustments_caused"] = [
        item for item in caused if not any(item in adjustments for adjustments in withdrawn.values())
    ]
    pending = {codes[level_id]: str(amount) for level_id, (amount, *_reason) in outstanding.items()}
    if outstanding and target is not None:
        created = [
            StatementAdjustment(
                statement=target,
                origin=origin,
                service_level_id=level_id,
                amount=amount,
                reason=reason,
                reason_data=reason_data,
            )
            for level_id, (amount, reason, reason_data) in outstanding.items()
        ]
        _set_adjustments(target, [*target._prefetched_objects_cache["adjustment_lines"], *created], writes)
        writes.adjustments += created
        origin._prefetched_objects_cache["adjustments_caused"] += created
        data["carried_into"] = {str(to_month(target.month)): pending}
        writes.events.append(
            (
                target,
                {
                    "action": StatementAction.ADJUSTED,
                    "note": f"adjustment {_total(created)} for {month} carried in",
                    "data": {"origin": str(month), "amounts": pending, **cause},
                },
            )
        )
        pending = {}
    waiting_before = inputs.waiting.get(month, {})
    if not data and pending == waiting_before:
        return  # nothing carried or withdrawn, and the same difference (or none) waits as before
    data["pending"] = pending
    data.update(cause)
    writes.events.append(
        (origin, {"action": StatementAction.RECOMPUTED, "note": _settlement_note(origin, data), "data": data})
    )


def _set_adjustments(
    statement: PenaltyStatement, adjustments: list[StatementAdjustment], writes: StatementWrites
) -> None:
    """Give ``statement`` these adjustments (in the close's memory: it may not be saved yet) and its
    totals with them; save it."""
    cache = statement._prefetched_objects_cache
    cache["adjustment_lines"] = adjustments
    _set_totals(statement, list(cache["lines"]), _charged(adjustments))
    writes.touch(statement)


def _charged(adjustments) -> Decimal:
    """What ``adjustments`` count for in their statement's totals: a waived one nothing."""
    return sum((item.charged_amount for item in adjustments), ZERO)


def _amounts_by_code(codes: dict[int, str], adjustments: list[StatementAdjustment]) -> dict[str, str]:
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for adjustment in adjustments:
        amounts[codes[adjustment.service_level_id]] += adjustment.amount
    return {code: str(amount) for code, amount in sorted(amounts.items())}


def _total(adjustments: list[StatementAdjustment]) -> Decimal:
    return sum((item.amount for item in adjustments), ZERO)


def _settlement_note(origin: PenaltyStatement, data: dict) -> str:
    """The English record of a settlement (the pages write it from ``data`` in the reader's language)."""
    parts = []
    for month, amounts in data.get("withdrawn_from", {}).items():
        parts.append(f"adjustment {sum(map(Decimal, amounts.values()))} withdrawn from {month}")
    for month, amounts in data.get("carried_into", {}).items():
        parts.append(f"difference {sum(map(Decimal, amounts.values()))} carried into {month}")
    if data["pending"]:
        parts.append(f"difference {sum(map(Decimal, data['pending'].values()))} waits for the next open statement")
    if not parts:
        parts.append("no difference left to carry")
    prefix = "recomputed after approval" if origin.is_locked else "reopened and recomputed"
    cause = f" (after a change of {data['after_change_of']})" if "after_change_of" in data else ""
    return f"{prefix}{cause}: {'; '.join(parts)}"


# Exclusions ----------------------------------------------------------------------------------------


def decide_exclusion(*, exclusion_id: int, actor, approve: bool, note: str = "") -> Exclusion:
    """Procurement approves or rejects a proposed exclusion, with a note (required to reject: the proposer
    is told why); the decision is final (a correction is a new proposal). Turned down by who proposed it,
    it is withdrawn, not rejected (withdraw_exclusion). Once approved, its days leave the
    counts of the service levels it names: the approved or invoiced months it covers are recomputed at
    once, their differences becoming adjustments (carry_corrections_of_approved_months), and the
    contract's open statements are recomputed when the decision commits."""
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": [_("Give the reason for rejecting the exclusion: its proposer is told.")]})
    return _record_exclusion_decision(exclusion_id=exclusion_id, actor=actor, approve=approve, note=note)


def _record_exclusion_decision(*, exclusion_id: int, actor, approve: bool, note: str) -> Exclusion:
    with transaction.atomic():
        exclusion = Exclusion.objects.select_for_update().get(pk=exclusion_id)
        if exclusion.status != ApprovalStatus.PROPOSED:
            raise ValidationError(
                _("This exclusion is already decided (%(decision)s): propose a new one to change it.")
                % {"decision": exclusion.get_status_display().lower()}
            )
        if approve and exclusion.requested_by_id == getattr(actor, "pk", None):
            # Four eyes: an exclusion removes days from the counts that credits are computed from.
            raise ValidationError(_("An exclusion is approved by someone other than who proposed it."))
        if approve:
            exclusion.status = ApprovalStatus.APPROVED
        elif exclusion.requested_by_id == getattr(actor, "pk", None):
            exclusion.status = ApprovalStatus.WITHDRAWN  # a proposer turning down their own proposal withdraws it
        else:
            exclusion.status = ApprovalStatus.REJECTED
        exclusion.decided_by, exclusion.decided_at, exclusion.decision_note = actor, timezone.now(), note
        exclusion._history_user = actor
        exclusion.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if approve:
            carry_corrections_of_approved_months(
                contract_id=exclusion.contract_id,
                months=(exclusion.start_date, exclusion.end_date),
                actor=actor,
                cause=ComputationCause.EXCLUSION,
            )
    return exclusion


def exclusion_day_errors(
    contract: Contract, start_date: datetime.date | None, end_date: datetime.date | None
) -> dict[str, list[str]]:
    """Why excused days from ``start_date`` to ``end_date`` are refused on ``contract``, by field: they lie
    in order within the contract's current term (the pages and the API alike)."""
    errors: dict[str, list[str]] = {}
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = [_("The exclusion cannot end before it starts.")]
    if start_date and start_date < contract.start_date:
        errors.setdefault("start_date", []).append(
            _("The contract starts on %(date)s: an exclusion cannot start earlier.")
            % {"date": long_date(contract.start_date)}
        )
    if end_date and end_date > contract.end_date:
        errors.setdefault("end_date", []).append(
            _("The contract's current term ends on %(date)s: an exclusion cannot end later.")
            % {"date": long_date(contract.end_date)}
        )
    return errors


def propose_exclusion(
    *,
    contract: Contract,
    start_date: datetime.date,
    end_date: datetime.date,
    reason: str,
    description: str,
    actor,
    evidence: str = "",
    service_levels=(),
) -> Exclusion:
    """Propose excused days of ``contract`` (none of ``service_levels``: all of the contract's) for
    procurement to decide. The days lie in order within the contract's current term and the service
    levels are the contract's own; every refusal names its field, all of them at once. A proposal
    changes no figure until it is approved (decide_exclusion)."""
    exclusion = Exclusion(
        contract=contract,
        start_date=start_date,
        end_date=end_date,
        reason=reason,
        description=(description or "").strip(),
        evidence=(evidence or "").strip(),
        status=ApprovalStatus.PROPOSED,
        requested_by=actor,
    )
    errors = exclusion_day_errors(contract, start_date, end_date)
    try:
        validate_service_levels_of(contract, service_levels)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        # A field already refused is not checked again (nor the constraints on it: its message is given).
        exclusion.full_clean(exclude=list(errors))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        exclusion._history_user = actor
        exclusion.save()
        with exclusion_service_levels_recorded(exclusion):
            exclusion.service_levels.set(service_levels)
    return exclusion


@contextmanager
def exclusion_service_levels_recorded(exclusion: Exclusion):
    """Around a change of which service levels ``exclusion`` excuses, right after the save of the same write
    (the proposal, an API update, the back office's form): its latest version then records them. Without it
    simple-history would record a version of its own for each step of Django's ``set()`` (a removal, then an
    addition), the first of them a state no one chose."""
    exclusion.skip_history_when_saving = True
    try:
        yield
    finally:
        del exclusion.skip_history_when_saving
    version = exclusion.history.order_by("-history_date", "-history_id").first()
    if version is None:
        return
    recorded = type(version).service_levels.model
    recorded.objects.filter(history=version).delete()
    recorded.objects.bulk_create(
        recorded(history=version, id=row.pk, exclusion_id=row.exclusion_id, servicelevel_id=row.servicelevel_id)
        for row in Exclusion.service_levels.through.objects.filter(exclusion=exclusion)
    )


def withdraw_exclusion(*, exclusion_id: int, actor, note: str = "") -> Exclusion:
    """Who proposed an undecided exclusion withdraws it: its status becomes withdrawn (not rejected: no one
    else decided against it), as final as any decision (the four-eyes rule lets a proposer close, never
    approve, their own proposal). Nothing is deleted: the proposal and who withdrew it stay on record."""
    with transaction.atomic():
        proposer_id = (
            Exclusion.objects.select_for_update().values_list("requested_by_id", flat=True).get(pk=exclusion_id)
        )
        if proposer_id != getattr(actor, "pk", None):
            raise ValidationError(_("Only who proposed an exclusion may withdraw it."))
        return _record_exclusion_decision(
            exclusion_id=exclusion_id, actor=actor, approve=False, note=(note or "").strip()
        )


def carry_corrections_of_approved_months(*, contract_id: int, months, actor=None, cause: str) -> None:
    """The inputs of a contract's months changed (an approved exclusion, KPI data, corrected or not):
    call it in the transaction of the change, with the first and last day (or any days) of the changed
    months. Only the statements of the changed months and those after them can change (a month's history
    is the statements before it), so without a statement in the changed months nothing is recomputed.

    When an approved or invoiced statement stands at or after the first changed month, every statement
    from that month to the last such one is recomputed at once, month after month, in that transaction:
    an open one in place, an approved or invoiced one staying as approved, each difference becoming
    adjustments in the contract's next open statement (draft, in review or disputed), or, without one,
    waiting recorded on the statement until the close of a later month or the nightly recompute carries
    it. The later approved months are recomputed because their history (runs, windows, earn-backs, the
    annual cap used) reads each corrected month as corrected: an earn-back of a credit that a correction
    removed is taken back, once. Once the transaction commits, the contract's open statements from the
    first changed month on are recomputed. A month that cannot be recomputed (e.g. its charges were
    removed) refuses the change with the reason. ``cause``: the change, which the recomputations record.
    """
    days = [item for item in months if item is not None]
    if not days:
        return
    first, last = first_of_month(min(days)), first_of_month(max(days))
    statements = list(
        PenaltyStatement.objects.filter(contract_id=contract_id, month__gte=first)
        .order_by("month")
        .values_list("month", "status")
    )
    if not any(month <= last for month, _status in statements):
        return  # no statement of the changed months: no statement's inputs or history changed
    last_locked = max((month for month, status in statements if status in LOCKED_STATUSES), default=None)
    for month, _status in statements:
        if last_locked is None or month > last_locked:
            break
        closed = close_contracts_month(
            contract_ids=[contract_id], month=month, actor=actor, changed_from=to_month(first), cause=cause
        )
        if contract_id in closed.refused:
            raise ValidationError(closed.refused[contract_id])
    if any(status in OPEN_STATUSES for _month, status in statements):
        recompute_open_statements_on_commit(contract_id, cause)


def recompute_open_statements_on_commit(contract_id: int, cause: str) -> None:
    """Once the current transaction commits, recompute the contract's open statements: their inputs
    (approved exclusions, KPI values) changed, which ``cause`` names. A statement whose inputs did not
    change is not rewritten."""
    transaction.on_commit(lambda: _recompute_drafts(contract_id, cause))


def _recompute_drafts(contract_id: int, cause: str) -> None:
    from sla_tracker.tasks import recompute_contract_drafts  # the tasks module imports this one

    recompute_contract_drafts.delay(contract_id, cause)


# Statement transitions -----------------------------------------------------------------------------


def submit_statement(*, statement_id: int, actor) -> PenaltyStatement:
    """draft → in review."""
    with transaction.atomic():
        statement = _locked_statement(statement_id)
        _require_status(statement, (StatementStatus.DRAFT,), pgettext("a statement can be", "submitted for review"))
        _require_current(statement, pgettext("a statement can be", "submitted for review"))
        statement.status = StatementStatus.IN_REVIEW
        statement.submitted_by, statement.submitted_at = actor, timezone.now()
        statement.save()
        _event(statement, StatementAction.SUBMITTED, actor)
    return statement


def approve_statement(
    *, statement_id: int, actor, input_fingerprint: str | None = None, net: Decimal | None = None
) -> PenaltyStatement:
    """in review → approved (records who and when). A disputed statement must be resolved first.

    ``input_fingerprint`` and ``net``, when given, are the statement's as the approver saw them: if
    the statement was recomputed or its net changed since (new data, a waiver, an adjustment carried
    in), the approval is refused, so that nobody approves figures they did not see.
    """
    with transaction.atomic():
        statement = _locked_statement(statement_id)
        if statement.status == StatementStatus.DISPUTED:
            raise ValidationError(
                _("%(statement)s has open disputes: resolve them before approving.") % {"statement": _label(statement)}
            )
        _require_status(statement, (StatementStatus.IN_REVIEW,), pgettext("a statement can be", "approved"))
        _require_current(statement, pgettext("a statement can be", "approved"))
        if net is not None and net != statement.net:
            raise ValidationError(
                _(
                    "%(statement)s changed since you opened it: its net was %(seen)s and is now %(net)s. "
                    "Review the statement again before approving it."
                )
                % {
                    "statement": _label(statement),
                    "seen": money(net, statement.currency),
                    "net": money(statement.net, statement.currency),
                }
            )
        if input_fingerprint is not None and input_fingerprint != statement.input_fingerprint:
            raise ValidationError(
                _(
                    "%(statement)s was recomputed since you opened it (its data or terms changed). "
                    "Review the statement again before approving it."
                )
                % {"statement": _label(statement)}
            )
        statement.status = StatementStatus.APPROVED
        statement.approved_by, statement.approved_at = actor, timezone.now()
        statement.save()
        _event(statement, StatementAction.APPROVED, actor)
    return statement


def reopen_statement(*, statement_id: int, actor, reason: str) -> PenaltyStatement:
    """approved → in review, with a reason; an invoiced statement cannot be reopened. The reopened
    statement is recomputed with the month's current data (the adjustments its corrections caused are
    then withdrawn, so each correction counts once), and the later ones, whose history it is: the
    approved or invoiced ones in this transaction, their differences carried (a recomputation that
    withdraws a waiver changes what they read of the month: the credit the waiver no longer gives up,
    e.g. for an earn-back), as after a waiver (carry_corrections_of_approved_months); once this commits,
    the open ones."""
    reason = _required_text(reason, "reason", _("Give the reason for reopening the statement."))
    with transaction.atomic():
        statement = _locked_statement(statement_id)
        if statement.status == StatementStatus.INVOICED:
            raise ValidationError(
                _(
                    "%(statement)s is invoiced and cannot be reopened: a correction of its data, or an exclusion of "
                    "its days approved since, is carried into the next open statement as an adjustment."
                )
                % {"statement": _label(statement)}
            )
        _require_status(statement, (StatementStatus.APPROVED,), pgettext("a statement can be", "reopened"))
        statement.status = StatementStatus.IN_REVIEW
        statement.approved_by, statement.approved_at = None, None
        statement.save()
        _event(statement, StatementAction.REOPENED, actor, note=reason)
        carry_corrections_of_approved_months(
            contract_id=statement.contract_id, months=[statement.month], actor=actor, cause=ComputationCause.REOPENED
        )  # which queues the recomputation of the open statements, the reopened one included
    return statement


def mark_statement_invoiced(*, statement_id: int, actor, invoice_reference: str) -> PenaltyStatement:
    """approved → invoiced, with the invoice (or credit note) reference."""
    invoice_reference = _required_text(
        invoice_reference, "invoice_reference", _("Give the invoice reference."), REFERENCE_MAX_LENGTH
    )
    with transaction.atomic():
        statement = _locked_statement(statement_id)
        _require_status(statement, (StatementStatus.APPROVED,), pgettext("a statement can be", "marked invoiced"))
        _require_current(statement, pgettext("a statement can be", "marked invoiced"))
        statement.status = StatementStatus.INVOICED
        statement.invoiced_at, statement.invoice_reference = timezone.now(), invoice_reference
        statement.save()
        _event(statement, StatementAction.INVOICED, actor, note=statement.invoice_reference)
    return statement


def settle_outside_statements(
    *, statement_id: int, actor, reference: str, amounts: dict[str, Decimal | str] | None = None
) -> PenaltyStatement:
    """Record that the difference waiting on an approved or invoiced statement was settled outside the
    statements, by the credit note or invoice ``reference``: only once no later close can carry it (the
    contract has ended and its last month is closed). The amounts then count as carried: a later
    recomputation of the month carries or leaves waiting only what changes after this.

    ``amounts``, when given, are the amounts waiting per service level code as the reader saw them: if a
    correction changed them since, the settlement is refused, so that a credit note is never recorded for
    another amount than its own."""
    reference = _required_text(
        reference,
        "reference",
        _("Give the reference of the credit note or invoice that settles the difference."),
        REFERENCE_MAX_LENGTH,
    )
    with transaction.atomic():
        statement = _locked_statement(statement_id)
        _require_status(statement, LOCKED_STATUSES, pgettext("a statement's difference can be", "settled"))
        waiting = differences_on_record([statement.pk])[0].get(statement.pk)
        if not waiting:
            raise ValidationError(
                _("%(statement)s has no difference waiting to be carried.") % {"statement": _label(statement)}
            )
        later = later_close_carrying(statement)
        if later:
            raise ValidationError(later)
        total = sum((Decimal(amount) for amount in waiting.values()), ZERO)
        if amounts is not None and _decimals(amounts) != _decimals(waiting):
            raise ValidationError(
                _(
                    "%(statement)s changed since you opened it: the difference waiting on it is now %(amounts)s. "
                    "Review it again before recording its settlement."
                )
                % {
                    "statement": _label(statement),
                    "amounts": ", ".join(
                        f"{code} {money(Decimal(amount), statement.currency)}"
                        for code, amount in sorted(waiting.items())
                    ),
                }
            )
        _event(
            statement,
            StatementAction.SETTLED,
            actor,
            note=f"difference {total} settled outside the statements: {reference}",
            data={"pending": {}, "settled": waiting, "reference": reference},
        )
    return statement


def _decimals(amounts: dict[str, Decimal | str]) -> dict[str, Decimal]:
    return {code: Decimal(amount) for code, amount in amounts.items()}


def later_close_carrying(statement: PenaltyStatement) -> str:
    """Why a later close of the contract will carry a difference waiting on ``statement`` (as a message), or
    "" when none will: the contract has ended and no open statement or month to close is left after it."""
    return later_closes_carrying([statement])[statement.pk]


def later_closes_carrying(statements: list[PenaltyStatement]) -> dict[int, str]:
    """:func:`later_close_carrying` of each of ``statements`` (id → message), reading their contracts'
    statements in one query whatever their number (the home page lists every difference waiting)."""
    months: dict[int, dict[datetime.date, str]] = defaultdict(dict)  # contract → month → status
    for contract_id, month, status in PenaltyStatement.objects.filter(
        contract_id__in={statement.contract_id for statement in statements}
    ).values_list("contract_id", "month", "status"):
        months[contract_id][month] = status
    return {statement.pk: _later_close_message(statement, months[statement.contract_id]) for statement in statements}


def _later_close_message(statement: PenaltyStatement, months: dict[datetime.date, str]) -> str:
    contract = statement.contract
    later_open = min(
        (month for month, status in months.items() if month > statement.month and status in OPEN_STATUSES),
        default=None,
    )
    if later_open:
        return _("The next recomputation carries this difference into the open statement of %(month)s.") % {
            "month": date_format(later_open, "YEAR_MONTH_FORMAT")
        }
    if contract.status not in (ContractStatus.EXPIRED, ContractStatus.TERMINATED):
        return _("The contract is in force: the close of a later month carries this difference into its statement.")
    if contract.status == ContractStatus.TERMINATED and contract.terminated_on is None:
        return ""  # terminated before last days of service were recorded: no longer closed
    last_month = first_of_month(contract.last_day_of_service)
    if last_month > statement.month and last_month not in months:
        return _("The close of %(month)s, the contract's last month, carries this difference into its statement.") % {
            "month": date_format(last_month, "YEAR_MONTH_FORMAT")
        }
    return ""


def dispute_line(*, line_id: int, actor, reason: str, evidence=None) -> LineDispute:
    """The vendor contests a line of a statement in review: the statement becomes disputed (see
    :func:`_raise_dispute`)."""
    reason = _dispute_reason(reason, evidence)
    with transaction.atomic():
        line = _locked_line(line_id)
        check_line_disputable(line, actor)
        return _raise_dispute(
            LineDispute(line=line),
            line.statement,
            actor,
            reason,
            evidence,
            action=StatementAction.LINE_DISPUTED,
            line=line,
        )


def dispute_adjustment(*, adjustment_id: int, actor, reason: str, evidence=None) -> AdjustmentDispute:
    """The vendor contests an adjustment carried into a statement in review, as they contest a line: the
    statement becomes disputed (see :func:`_raise_dispute`)."""
    reason = _dispute_reason(reason, evidence)
    with transaction.atomic():
        adjustment = _locked_adjustment(adjustment_id)
        check_adjustment_disputable(adjustment, actor)
        return _raise_dispute(
            AdjustmentDispute(adjustment=adjustment),
            adjustment.statement,
            actor,
            reason,
            evidence,
            action=StatementAction.ADJUSTMENT_DISPUTED,
            adjustment=adjustment,
        )


def _dispute_reason(reason: str | None, evidence) -> str:
    """The dispute's reason, stripped; refused before anything is locked when it is missing or the evidence
    is of a size or type sla_tracker.evidence refuses."""
    reason = _required_text(reason, "reason", _("Give the reason for the dispute."))
    if evidence is not None:
        try:
            validate_evidence(evidence)
        except ValidationError as refused:
            raise ValidationError({"evidence": refused.error_list}) from refused
    return reason


def check_line_disputable(line: StatementLine, actor) -> None:
    """Why ``actor`` may not dispute ``line`` now (PermissionDenied, ValidationError): who may dispute its statement,
    in which status (:func:`_check_disputable`), one open dispute at a time. The dispute page checks it before
    showing its form."""
    _check_disputable(line.statement, actor)
    if line.disputes.filter(status=DisputeStatus.OPEN).exists():
        raise ValidationError(_("The %(code)s line already has an open dispute.") % {"code": line.service_level.code})


def check_adjustment_disputable(adjustment: StatementAdjustment, actor) -> None:
    """Why ``actor`` may not dispute ``adjustment`` now, as :func:`check_line_disputable` for a line."""
    _check_disputable(adjustment.statement, actor)
    if adjustment.disputes.filter(status=DisputeStatus.OPEN).exists():
        raise ValidationError(
            _("The %(code)s adjustment for %(month)s already has an open dispute.") % adjustment.label_parts
        )


def _check_disputable(statement: PenaltyStatement, actor) -> None:
    """A user of the statement's vendor (an administrator may record a dispute for them), while the statement is in
    review or disputed."""
    contract = statement.contract
    if actor.role != Role.ADMINISTRATOR and not (actor.is_vendor_user and actor.vendor_id == contract.vendor_id):
        raise PermissionDenied(
            _("Only the users of %(vendor)s dispute its statements.") % {"vendor": contract.vendor.name}
        )
    if statement.is_locked:
        raise ValidationError(
            _("%(statement)s is %(status)s: it cannot be disputed.")
            % {"statement": _label(statement), "status": statement.get_status_display().lower()}
        )
    _require_status(
        statement, (StatementStatus.IN_REVIEW, StatementStatus.DISPUTED), pgettext("a statement can be", "disputed")
    )


def _raise_dispute(
    dispute: LineDispute | AdjustmentDispute,
    statement: PenaltyStatement,
    actor,
    reason: str,
    evidence,
    *,
    action: str,
    **subject,
):
    """Record ``dispute`` (its line or adjustment set) of ``statement`` (locked), raised by ``actor``, once
    check_line_disputable or check_adjustment_disputable allowed it. The statement becomes disputed; the event
    names the line or adjustment."""
    dispute.raised_by, dispute.reason = actor, reason
    if evidence is not None:
        dispute.evidence = evidence
    dispute._history_user = actor
    dispute.save()
    statement.status = StatementStatus.DISPUTED
    statement.save()
    _event(statement, action, actor, note=dispute.reason, **subject)
    return dispute


def resolve_dispute(*, dispute_id: int, actor, resolution: str, accepted: bool, waive: bool = False) -> LineDispute:
    """Procurement accepts or rejects a line's dispute (see :func:`_settle_dispute`).

    ``waive`` (with an accepted dispute only) also waives the line's credit, with the resolution as
    the waiver's reason, in the same transaction: the vendor was right about the credit itself.
    """
    resolution = _resolution(resolution, accepted, waive, _("Only an accepted dispute can waive the line's credit."))
    with transaction.atomic():
        dispute = LineDispute.objects.select_related("line__statement").get(pk=dispute_id)
        statement = _locked_statement(dispute.line.statement_id)
        dispute = LineDispute.objects.select_for_update().select_related("line__service_level").get(pk=dispute_id)
        line = dispute.line
        line.statement = statement
        waiver = (lambda: _waive(line, actor, dispute.resolution)) if waive else None
        _settle_dispute(dispute, statement, actor, resolution, accepted, waiver, line=line)
    return dispute


def resolve_adjustment_dispute(
    *, dispute_id: int, actor, resolution: str, accepted: bool, waive: bool = False
) -> AdjustmentDispute:
    """Procurement accepts or rejects an adjustment's dispute, as a line's (see :func:`_settle_dispute`).

    ``waive`` (with an accepted dispute only) also waives the adjustment, with the resolution as the
    waiver's reason, in the same transaction: the vendor was right about the adjustment itself.
    """
    resolution = _resolution(resolution, accepted, waive, _("Only an accepted dispute can waive the adjustment."))
    with transaction.atomic():
        dispute = AdjustmentDispute.objects.select_related("adjustment__statement").get(pk=dispute_id)
        statement = _locked_statement(dispute.adjustment.statement_id)
        dispute = (
            AdjustmentDispute.objects.select_for_update()
            .select_related("adjustment__service_level", "adjustment__origin")
            .get(pk=dispute_id)
        )
        adjustment = dispute.adjustment
        adjustment.statement = statement
        if waive:
            try:
                check_adjustment_waivable(adjustment)
            except ValidationError as refused:
                raise ValidationError({"waive": refused.messages}) from refused
        waiver = (lambda: _waive_adjustment(adjustment, actor, dispute.resolution)) if waive else None
        _settle_dispute(dispute, statement, actor, resolution, accepted, waiver, adjustment=adjustment)
    return dispute


def _resolution(resolution: str | None, accepted: bool, waive: bool, waive_refused: str) -> str:
    """The resolution, stripped; refused when missing, or when a rejection would waive (``waive_refused``)."""
    resolution = _required_text(resolution, "resolution", _("Give the resolution of the dispute."))
    if waive and not accepted:
        raise ValidationError({"waive": waive_refused})
    return resolution


def _settle_dispute(
    dispute: LineDispute | AdjustmentDispute,
    statement: PenaltyStatement,
    actor,
    resolution: str,
    accepted: bool,
    waiver,
    **subject,
) -> None:
    """Close the open ``dispute`` of ``statement`` (locked) as accepted or rejected, with its resolution, and
    run ``waiver`` (the waiver of what it disputes, or None) in the same transaction; with no dispute of a
    line or an adjustment left open, the statement is back in review."""
    if dispute.status != DisputeStatus.OPEN:
        raise ValidationError(
            _("This dispute is already %(status)s.") % {"status": dispute.get_status_display().lower()}
        )
    dispute.status = DisputeStatus.ACCEPTED if accepted else DisputeStatus.REJECTED
    dispute.resolution, dispute.resolved_by, dispute.resolved_at = resolution, actor, timezone.now()
    dispute._history_user = actor
    dispute.save()
    if waiver is not None:
        waiver()
    if statement.status == StatementStatus.DISPUTED and not _has_open_disputes(statement):
        statement.status = StatementStatus.IN_REVIEW
        statement.save()
    _event(
        statement,
        StatementAction.DISPUTE_RESOLVED,
        actor,
        # The note in English for the record; the outcome as data, for the pages to write in the reader's language.
        note=f"{_english(DisputeStatus(dispute.status).label)}: {dispute.resolution}",
        data={"outcome": dispute.status, "resolution": dispute.resolution},
        **subject,
    )


def _has_open_disputes(statement: PenaltyStatement) -> bool:
    """Whether a line or an adjustment of ``statement`` has an open dispute."""
    return (
        LineDispute.objects.filter(line__statement=statement, status=DisputeStatus.OPEN).exists()
        or AdjustmentDispute.objects.filter(adjustment__statement=statement, status=DisputeStatus.OPEN).exists()
    )


def waive_line(*, line_id: int, actor, reason: str) -> StatementLine:
    """Procurement waives a line's credit: it counts as 0 in the totals and in later months' history.

    Not while the statement is disputed: its lines are then settled through the disputes, and accepting
    a dispute can waive its line (resolve_dispute), as the statement page offers it.
    """
    reason = _required_text(reason, "reason", _("Give the reason for the waiver."))
    with transaction.atomic():
        line = _locked_line(line_id)
        if line.statement.status == StatementStatus.DISPUTED:
            raise ValidationError(
                _(
                    "%(statement)s is disputed: resolve its disputes first; accepting a dispute can waive its "
                    "line's credit."
                )
                % {"statement": _label(line.statement)}
            )
        _waive(line, actor, reason)
    return line


def waive_adjustment(*, adjustment_id: int, actor, reason: str) -> StatementAdjustment:
    """Procurement waives an adjustment carried into an open statement, in the customer's favour (one in the
    vendor's favour has no credit to give up: refused, check_adjustment_waivable): it counts as 0 in the statement's
    totals. It still counts as carried, so no later close carries its difference again, and a reopened month
    it corrects reverses it rather than withdrawing it, so the waiver stands. Later months' history does not
    read adjustments: nothing else is recomputed.

    Not while the statement is disputed, as for a line: accepting a dispute can waive its adjustment
    (resolve_adjustment_dispute).
    """
    reason = _required_text(reason, "reason", _("Give the reason for the waiver."))
    with transaction.atomic():
        adjustment = _locked_adjustment(adjustment_id)
        if adjustment.statement.status == StatementStatus.DISPUTED:
            raise ValidationError(
                _(
                    "%(statement)s is disputed: resolve its disputes first; accepting the dispute of an adjustment "
                    "can waive it."
                )
                % {"statement": _label(adjustment.statement)}
            )
        _waive_adjustment(adjustment, actor, reason)
    return adjustment


def check_line_waivable(line: StatementLine) -> None:
    """Refuse (ValidationError) the waiver of ``line`` when it is waived already. The waiver page checks it before
    showing its form."""
    if line.waived:
        raise ValidationError(_("The %(code)s line is already waived.") % {"code": line.service_level.code})


def check_adjustment_waivable(adjustment: StatementAdjustment) -> None:
    """Refuse (ValidationError) the waiver of ``adjustment`` when it is in the vendor's favour: a waiver is the
    customer giving up a credit it is owed (DOMAIN.md §2.13), and an adjustment in the vendor's favour (a credit
    corrected away, given back to the vendor) owes the customer nothing to give up. One in the customer's favour
    (more credit for it, or an earn-back taken back) is waived as a line's credit is, once."""
    if adjustment.waived:
        raise ValidationError(_("The %(code)s adjustment for %(month)s is already waived.") % adjustment.label_parts)
    if adjustment.amount > 0:
        raise ValidationError(
            _(
                "The %(code)s adjustment for %(month)s is in the vendor’s favour (%(amount)s): a waiver gives up a "
                "credit owed to the customer, and this adjustment owes it none."
            )
            % {**adjustment.label_parts, "amount": money(adjustment.amount, adjustment.statement.currency)}
        )


def _waive(line: StatementLine, actor, reason: str) -> None:
    """Waive ``line`` (its statement locked and attached) and set the statement's totals."""
    statement = line.statement
    _record_waiver(
        line,
        statement,
        actor,
        reason,
        locked=_("%(statement)s is %(status)s: reopen it before waiving a line."),
        waivable=check_line_waivable,
    )
    _event(statement, StatementAction.LINE_WAIVED, actor, line=line, note=line.waiver_reason)
    # The later months' history counts the waived credit as 0 (earn-backs, the annual cap): recompute them.
    carry_corrections_of_approved_months(
        contract_id=statement.contract_id, months=[statement.month], actor=actor, cause=ComputationCause.WAIVER
    )


def _waive_adjustment(adjustment: StatementAdjustment, actor, reason: str) -> None:
    """Waive ``adjustment`` (its statement locked and attached) and set the statement's totals; one in the
    vendor's favour is refused (check_adjustment_waivable)."""
    statement = adjustment.statement
    _record_waiver(
        adjustment,
        statement,
        actor,
        reason,
        locked=_("%(statement)s is %(status)s: reopen it before waiving an adjustment."),
        waivable=check_adjustment_waivable,
    )
    _event(statement, StatementAction.ADJUSTMENT_WAIVED, actor, adjustment=adjustment, note=adjustment.waiver_reason)


def _record_waiver(
    item: StatementLine | StatementAdjustment, statement: PenaltyStatement, actor, reason: str, *, locked, waivable
) -> None:
    """Waive ``item``, a line or an adjustment of ``statement`` (locked), while the statement is open (else
    ``locked``, a template of the statement and its status, says why not) and ``waivable(item)`` allows it (not
    waived yet), and set the statement's totals."""
    if statement.is_locked:
        raise ValidationError(
            locked % {"statement": _label(statement), "status": statement.get_status_display().lower()}
        )
    _require_status(statement, OPEN_FOR_ADJUSTMENTS, pgettext("a statement can be", "changed"))
    waivable(item)
    item.waived, item.waiver_reason, item.waived_by, item.waived_at = True, reason, actor, timezone.now()
    item._history_user = actor
    item.save()
    _set_totals(statement, list(statement.lines.all()), _charged(statement.adjustment_lines.all()))
    statement.save()


def withdraw_line_waiver(*, line_id: int, actor, reason: str) -> StatementLine:
    """Procurement withdraws a line's waiver given by mistake, before the statement is approved: the line's
    credit counts again in the totals and in later months' history, recomputed as after a waiver. The waiver
    stays on record: its event (reason, who, when) and the line's history; the withdrawal's event gives why.

    Refused as :func:`check_waiver_withdrawal` says (the statement approved or disputed, the line not waived,
    its waiver given in accepting its dispute).
    """
    reason = _required_text(reason, "reason", _("Give the reason for withdrawing the waiver."))
    with transaction.atomic():
        line = _locked_line(line_id)
        statement = line.statement
        _record_waiver_withdrawal(line, statement, actor)
        _event(statement, StatementAction.LINE_WAIVER_WITHDRAWN, actor, line=line, note=reason)
        # The later months' history counts the credit again (earn-backs, the annual cap): recompute them.
        carry_corrections_of_approved_months(
            contract_id=statement.contract_id,
            months=[statement.month],
            actor=actor,
            cause=ComputationCause.WAIVER_WITHDRAWN,
        )
    return line


def withdraw_adjustment_waiver(*, adjustment_id: int, actor, reason: str) -> StatementAdjustment:
    """Procurement withdraws an adjustment's waiver given by mistake, before the statement is approved: the
    adjustment counts again in the statement's totals (it counted as carried all along). Later months' history
    does not read adjustments: nothing else is recomputed. Refused as :func:`check_waiver_withdrawal` says."""
    reason = _required_text(reason, "reason", _("Give the reason for withdrawing the waiver."))
    with transaction.atomic():
        adjustment = _locked_adjustment(adjustment_id)
        statement = adjustment.statement
        _record_waiver_withdrawal(adjustment, statement, actor)
        _event(statement, StatementAction.ADJUSTMENT_WAIVER_WITHDRAWN, actor, adjustment=adjustment, note=reason)
    return adjustment


def check_waiver_withdrawal(item: StatementLine | StatementAdjustment) -> None:
    """Refuse (ValidationError) the withdrawal of the waiver of ``item``, a line or an adjustment (its statement,
    service level and, for an adjustment, origin attached), unless its statement is where a waiver is given (draft
    or in review) and ``item`` is waived, but not in accepting its dispute: the vendor was told their dispute was
    accepted, so that decision is not taken back. The pages check it before they confirm."""
    statement = item.statement
    if statement.is_locked:
        raise ValidationError(
            _("%(statement)s is %(status)s: reopen it before withdrawing a waiver.")
            % {"statement": _label(statement), "status": statement.get_status_display().lower()}
        )
    if statement.status == StatementStatus.DISPUTED:
        raise ValidationError(
            _("%(statement)s is disputed: resolve its disputes before withdrawing a waiver.")
            % {"statement": _label(statement)}
        )
    if isinstance(item, StatementLine):
        parts = {"code": item.service_level.code}
        not_waived = _("The %(code)s line is not waived.")
        accepted = _(
            "The %(code)s line was waived in accepting the vendor's dispute of it: the vendor was told so, and "
            "the waiver cannot be withdrawn."
        )
    else:
        parts = item.label_parts
        not_waived = _("The %(code)s adjustment for %(month)s is not waived.")
        accepted = _(
            "The %(code)s adjustment for %(month)s was waived in accepting the vendor's dispute of it: the vendor "
            "was told so, and the waiver cannot be withdrawn."
        )
    if not item.waived:
        raise ValidationError(not_waived % parts)
    if waived_in_accepting_a_dispute(item.events.order_by("created_at", "id").only("action", "data")):
        raise ValidationError(accepted % parts)


_WAIVED = (StatementAction.LINE_WAIVED, StatementAction.ADJUSTMENT_WAIVED)
_WAIVER_WITHDRAWN = (StatementAction.LINE_WAIVER_WITHDRAWN, StatementAction.ADJUSTMENT_WAIVER_WITHDRAWN)


def waived_in_accepting_a_dispute(events) -> bool:
    """Whether the latest waiver among ``events`` (one line's or one adjustment's, oldest first) was given in
    accepting its dispute and stands: accepting a dispute with a waiver (resolve_dispute,
    resolve_adjustment_dispute) records the waiver, then the acceptance as the item's next event."""
    through_dispute, previous = False, None
    for event in events:
        if event.action in _WAIVED or event.action in _WAIVER_WITHDRAWN:
            through_dispute = False
        elif (
            previous in _WAIVED
            and event.action == StatementAction.DISPUTE_RESOLVED
            and event.data.get("outcome") == DisputeStatus.ACCEPTED
        ):
            through_dispute = True
        previous = event.action
    return through_dispute


def _record_waiver_withdrawal(item: StatementLine | StatementAdjustment, statement: PenaltyStatement, actor) -> None:
    """Withdraw the waiver of ``item``, a line or an adjustment of ``statement`` (locked), if
    :func:`check_waiver_withdrawal` allows it, and set the statement's totals. The waiver's fields are cleared:
    its record stays in its event and in ``item``'s history."""
    check_waiver_withdrawal(item)
    item.waived, item.waiver_reason, item.waived_by, item.waived_at = False, "", None, None
    item._history_user = actor
    item.save()
    _set_totals(statement, list(statement.lines.all()), _charged(statement.adjustment_lines.all()))
    statement.save()


def _decided_on(adjustment: StatementAdjustment) -> bool:
    """Whether someone decided on ``adjustment`` (waived or disputed it, ``has_disputes`` as the close reads
    it): then it is never withdrawn but kept on record, and a reopened month reverses it instead."""
    return adjustment.waived or getattr(adjustment, "has_disputes", False)


def _locked_statement(statement_id: int) -> PenaltyStatement:
    """Lock the statement's contract row (the one lock order), then read the statement."""
    contract_id = PenaltyStatement.objects.values_list("contract_id", flat=True).get(pk=statement_id)
    Contract.objects.select_for_update().filter(pk=contract_id).values_list("pk", flat=True).get()
    return PenaltyStatement.objects.select_related("contract").get(pk=statement_id)


def _locked_line(line_id: int) -> StatementLine:
    statement_id = StatementLine.objects.values_list("statement_id", flat=True).get(pk=line_id)
    statement = _locked_statement(statement_id)
    line = StatementLine.objects.select_related("service_level").get(pk=line_id)
    line.statement = statement
    return line


def _locked_adjustment(adjustment_id: int) -> StatementAdjustment:
    statement_id = StatementAdjustment.objects.values_list("statement_id", flat=True).get(pk=adjustment_id)
    statement = _locked_statement(statement_id)
    adjustment = StatementAdjustment.objects.select_related("service_level", "origin").get(pk=adjustment_id)
    adjustment.statement = statement
    return adjustment


def _require_status(statement: PenaltyStatement, allowed: tuple[str, ...], verb: str) -> None:
    """Refuse the transition (``verb``: what the statement would be, e.g. "approved") from any other status."""
    if statement.status not in allowed:
        names = _(" or ").join(str(StatementStatus(status).label).lower() for status in allowed)
        raise ValidationError(
            _("%(statement)s is %(status)s: only a statement that is %(allowed)s can be %(verb)s.")
            % {
                "statement": _label(statement),
                "status": statement.get_status_display().lower(),
                "allowed": names,
                "verb": verb,
            }
        )


def _require_current(statement: PenaltyStatement, verb: str) -> None:
    """Refuse to move a statement on while its latest recomputation was refused (CloseRefusal): its figures
    may rest on inputs that changed since, which nobody could check."""
    refusal = CloseRefusal.objects.filter(contract_id=statement.contract_id, month=statement.month).first()
    if refusal is not None:
        raise ValidationError(
            _("%(statement)s cannot be %(verb)s before its month is recomputed. %(reason)s")
            % {"statement": _label(statement), "verb": verb, "reason": refusal.readable_message}
        )


# Texts a statement's history keeps: a reference as long as its column, reasons and resolutions bounded too.
REFERENCE_MAX_LENGTH = 100
REASON_MAX_LENGTH = 2_000


def _required_text(value: str | None, field: str, message: str, max_length: int = REASON_MAX_LENGTH) -> str:
    """``value`` stripped; refused under ``field`` when empty (``message``) or longer than ``max_length``."""
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    if len(text) > max_length:
        too_long = {
            "reason": _("Keep the reason to at most %(max)d characters."),
            "resolution": _("Keep the resolution to at most %(max)d characters."),
        }.get(field, _("Keep the reference to at most %(max)d characters."))
        raise ValidationError({field: too_long % {"max": max_length}})
    return text


def _english(label) -> str:
    with translation.override("en"):
        return str(label)


def _label(statement: PenaltyStatement) -> str:
    return _("The %(contract)s statement of %(month)s") % {
        "contract": statement.contract.reference,
        "month": date_format(statement.month, "YEAR_MONTH_FORMAT"),
    }


def _event(
    statement: PenaltyStatement,
    action: str,
    actor,
    *,
    line: StatementLine | None = None,
    adjustment: StatementAdjustment | None = None,
    note: str = "",
    data: dict | None = None,
):
    return StatementEvent.objects.create(
        statement=statement, line=line, adjustment=adjustment, action=action, actor=actor, note=note, data=data or {}
    )


def enqueue_month_close(*, month: str) -> None:
    """Queue the close of ``month`` for every active contract once the current transaction commits."""
    from sla_tracker.tasks import compute_month

    _month(month)
    transaction.on_commit(lambda: compute_month.delay(month))
