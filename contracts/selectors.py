"""Reads on contracts that need the renewal arithmetic."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from contracts.choices import ContractStatus
from contracts.dates import next_window
from contracts.models import Contract

RUNNING_STATUSES = (ContractStatus.ACTIVE,)


def with_next_notice_deadline(contracts: Iterable[Contract], *, today: datetime.date | None = None) -> list[Contract]:
    """The contracts, each with ``next_renewal`` (a RenewalWindow or None): the next term end
    to decide on, its notice deadline and internal decision date. Pure Python over the rows
    given, so a list page adds no query. Contracts not running (draft, notice given, ended) get None.
    """
    today = today or timezone.localdate()
    rows = list(contracts)
    for contract in rows:
        running = contract.status in RUNNING_STATUSES
        contract.next_renewal = next_window(contract.terms, today=today) if running else None
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
