"""Celery tasks of the monthly close: thin wrappers that take IDs, "YYYY-MM" months and the cause of the
computation (a ComputationCause value, which the statements' history names; the default is the cause of the
task's beat job, which a message queued before the cause was passed also gets)."""

import logging
from collections import defaultdict

from celery import group, shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from contracts.months import add_months, first_of_month, month_label, parse_month
from contracts.selectors import contracts_served_during, contracts_to_close
from sla_tracker import services
from sla_tracker.choices import ComputationCause
from sla_tracker.models import CloseRefusal, PenaltyStatement

logger = logging.getLogger(__name__)
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)
# Every close task is idempotent: acknowledged once done (redelivered if its worker dies) and retried
# on a lost database connection only.
CLOSE_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_DATABASE_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


def contract_ids_to_close(month: str) -> list[int]:
    return list(contracts_to_close(parse_month(month)).order_by("pk").values_list("pk", flat=True))


@shared_task(name="sla_tracker.evaluate_contract_month", **CLOSE_TASK_OPTIONS)
def evaluate_contract_month(contract_id: int, month: str, cause: str = ComputationCause.MONTHLY_CLOSE) -> str:
    """Close one contract's month (idempotent: a redelivered task rewrites nothing).

    A contract whose data cannot be closed (e.g. no charges) is logged and skipped, not retried.
    """
    closed = _close(month, [contract_id], cause)
    if contract_id in closed.refused:
        return "not closed: " + closed.refused[contract_id]
    statement = closed.statements[contract_id]
    return f"{statement.pk}:{statement.input_fingerprint}"


@shared_task(name="sla_tracker.evaluate_contracts_month", **CLOSE_TASK_OPTIONS)
def evaluate_contracts_month(
    contract_ids: list[int], month: str, cause: str = ComputationCause.MONTHLY_CLOSE
) -> dict[str, int]:
    """Close a batch of contracts' month in one transaction (idempotent like the single close).

    A contract whose data cannot be closed (e.g. no charges) is logged and skipped, not retried:
    it must not stop the other contracts of the batch.
    """
    closed = _close(month, contract_ids, cause)
    return {"closed": len(closed.statements), "refused": len(closed.refused)}


def _close(month: str, contract_ids: list[int], cause: str) -> services.ClosedMonth:
    try:
        closed = services.close_contracts_month(contract_ids=contract_ids, month=month, cause=cause)
    except ValidationError as exc:  # the month itself is not a month: nothing to retry
        logger.warning("%s not closed: %s", month, "; ".join(exc.messages))
        return services.ClosedMonth({}, {pk: "; ".join(exc.messages) for pk in contract_ids})
    for contract_id, reason in closed.refused.items():
        logger.warning("contract %s, %s not closed: %s", contract_id, month, reason)
    return closed


@shared_task(name="sla_tracker.compute_month", **CLOSE_TASK_OPTIONS)
def compute_month(month: str, cause: str = ComputationCause.MONTHLY_CLOSE) -> int:
    """Fan out one evaluate_contracts_month per batch of CLOSE_BATCH_SIZE contracts to close
    (contracts_to_close); returns how many contracts were queued."""
    return _queue_batches(contract_ids_to_close(month), month, cause)


def _queue_batches(ids: list[int], month: str, cause: str) -> int:
    size = settings.CLOSE_BATCH_SIZE
    if ids:
        group(
            evaluate_contracts_month.s(ids[i : i + size], month, cause) for i in range(0, len(ids), size)
        ).apply_async()
    return len(ids)


@shared_task(name="sla_tracker.close_previous_month", **CLOSE_TASK_OPTIONS)
def close_previous_month() -> int:
    """The monthly beat job (on settings.MONTHLY_CLOSE_DAY): close last month for every contract."""
    last_month = add_months(first_of_month(timezone.localdate()), -1)
    return compute_month(month_label(last_month))


@shared_task(name="sla_tracker.close_missed_contracts", **CLOSE_TASK_OPTIONS)
def close_missed_contracts() -> int:
    """The daily safety net of the monthly close. Every day: close again each month whose close was refused
    (CloseRefusal: e.g. its charges were recorded since, or the reason changed). From settings.MONTHLY_CLOSE_DAY
    on, also close last month for the contracts served during it (contracts_served_during) that still have no
    statement of it (a close message the broker lost with a worker killed at the wrong instant, a contract
    activated after the close, or one marked expired or terminated before the close).
    Returns how many closes were queued; a month that still cannot be closed keeps its refusal, with the
    attempts counted."""
    today = timezone.localdate()
    last_month = add_months(first_of_month(today), -1)
    by_month: dict = defaultdict(set)
    for contract_id, month in CloseRefusal.objects.values_list("contract_id", "month"):
        by_month[month].add(contract_id)
    if today.day >= settings.MONTHLY_CLOSE_DAY:
        by_month[last_month].update(
            contracts_served_during(last_month).exclude(statements__month=last_month).values_list("pk", flat=True)
        )
    return sum(
        _queue_batches(sorted(ids), month_label(month), ComputationCause.CLOSE_CATCH_UP)
        for month, ids in sorted(by_month.items())
        if ids
    )


@shared_task(name="sla_tracker.recompute_contract_drafts", **CLOSE_TASK_OPTIONS)
def recompute_contract_drafts(contract_id: int, cause: str = ComputationCause.DAILY_RECOMPUTE) -> int:
    """Re-close a contract's open statements (draft, in review, disputed) oldest first, so each month
    uses the history of the months before it as just recomputed; a close whose inputs did not change
    writes nothing. Each close also recomputes the approved months before it whose difference waits
    for an open statement, and carries it (services.close_contracts_month)."""
    months = list(
        PenaltyStatement.objects.filter(contract_id=contract_id, status__in=services.OPEN_FOR_ADJUSTMENTS)
        .order_by("month")
        .values_list("month", flat=True)
    )
    for month in months:
        evaluate_contract_month(contract_id, month_label(month), cause)
    return len(months)


@shared_task(name="sla_tracker.recompute_changed_drafts", **CLOSE_TASK_OPTIONS)
def recompute_changed_drafts() -> int:
    """The daily beat job: one task per contract with open statements (data may have changed, and a
    difference of an approved month may wait for one of them)."""
    contract_ids = list(
        PenaltyStatement.objects.filter(status__in=services.OPEN_FOR_ADJUSTMENTS)
        .order_by("contract_id")
        .values_list("contract_id", flat=True)
        .distinct()
    )
    if contract_ids:
        group(
            recompute_contract_drafts.s(contract_id, ComputationCause.DAILY_RECOMPUTE) for contract_id in contract_ids
        ).apply_async()
    return len(contract_ids)


# Celery's autodiscovery imports this module only; the KPI import task lives with its package.
from sla_tracker.kpi_import.tasks import import_kpi_upload  # noqa: E402, F401
