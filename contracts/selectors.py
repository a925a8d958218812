"""Reads on contracts that need the renewal arithmetic."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from contracts.choices import ContractStatus
from contracts.dates import current_term_end, next_window
from contracts.models import Contract
from contracts.months import last_day_of_month

RUNNING_STATUSES = (ContractStatus.ACTIVE,)
IN_FORCE_STATUSES = (ContractStatus.ACTIVE, ContractStatus.NOTICE_GIVEN)


def _served_during(month: datetime.date) -> Q:
    """Contracts whose service covers a day of ``month`` (its first day): in force, expired or terminated
    after it began; drafts never ran."""
    return Q(start_date__lte=last_day_of_month(month)) & (
        Q(status__in=(*IN_FORCE_STATUSES, ContractStatus.EXPIRED), end_date__gte=month)
        | Q(status=ContractStatus.TERMINATED, terminated_on__gte=month)
    )


def contracts_served_during(month: datetime.date) -> QuerySet[Contract]:
    """The contracts whose service covers a day of ``month``, up to the end of their term or their last
    day of service (Contract.last_day_of_service)."""
    return Contract.objects.filter(_served_during(month))


def contracts_to_close(month: datetime.date) -> QuerySet[Contract]:
    """The contracts whose ``month`` the monthly close computes: those served during it, so that an expired
    or terminated contract's last months are closed too, and every contract in force that has started by
    its end, even past a term end that was not moved forward (its statement then says what is missing)."""
    return Contract.objects.filter(
        _served_during(month) | Q(status__in=IN_FORCE_STATUSES, start_date__lte=last_day_of_month(month))
    )


def with_next_notice_deadline(contracts: Iterable[Contract], *, today: datetime.date | None = None) -> list[Contract]:
    """The contracts, each with ``next_renewal`` (a RenewalWindow or None): the next term end
    to decide on, its notice deadline and internal decision date; and ``decision_overdue``: the internal
    decision date has passed while notice may still be given. Pure Python over the rows given, so a list
    page adds no query. Contracts not running (draft, notice given, ended) get None.

    Each also gets ``current_term_end``: the end of the term running today, which for a running tacit contract
    whose recorded end has passed is the end of the term tacit renewal made (``renewed_tacitly`` then true).
    """
    today = today or timezone.localdate()
    rows = list(contracts)
    for contract in rows:
        running = contract.status in RUNNING_STATUSES
        contract.current_term_end = current_term_end(contract.terms, today) if running else contract.end_date
        contract.renewed_tacitly = contract.current_term_end != contract.end_date
        contract.next_renewal = next_window(contract.terms, today=today) if running else None
        contract.decision_overdue = contract.next_renewal is not None and contract.next_renewal.decision_due < today
    return rows


def notice_deadlines_within(
    *, days: int, today: datetime.date | None = None, contracts: QuerySet[Contract] | None = None
) -> list[Contract]:
    """Running contracts (of ``contracts``, default all) whose next notice deadline falls within
    ``days`` days from today, soonest first."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=days)
    contracts = Contract.objects.all() if contracts is None else contracts
    contracts = with_next_notice_deadline(
        contracts.filter(status__in=RUNNING_STATUSES).select_related("owner", "vendor"), today=today
    )
    due = [c for c in contracts if c.next_renewal and c.next_renewal.notice_deadline <= horizon]
    return sorted(due, key=lambda c: (c.next_renewal.notice_deadline, c.reference))
