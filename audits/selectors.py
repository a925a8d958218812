"""Reads of audits: the audits that use up a right's allowance, the dates an audit right covers, notices to
send, findings whose remediation is due, the clause's changes, the fieldwork's moves."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from audits.choices import AuditStatus, FindingStatus
from audits.models import Audit, AuditRight, Finding
from contracts.dates import add_months, contract_year

NOTICE_REMINDER_DAYS = 7
REMEDIATION_REMINDER_DAYS = 7
# A cancelled audit did not take place: it uses up nothing.
HELD_OR_PLANNED = [status for status in AuditStatus.values if status != AuditStatus.CANCELLED]


def counted_against_allowance() -> Q:
    """The audits that use up their right's allowance of the contract year their fieldwork starts in:
    planned or held (not cancelled), and routine. An audit for cause (a security incident, a regulator's
    demand, suspected fraud, a material breach: DOMAIN.md §4.1) comes on top of the routine ones; an audit
    an administrator allowed for another reason (a short notice, a second routine audit) counts."""
    return Q(for_cause=False, status__in=HELD_OR_PLANNED)


def allowance_year(right: AuditRight, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of `right`'s contract year holding `day` (the first year before the start)."""
    start = right.contract.start_date
    return contract_year(start, max(day, start))


@dataclass(frozen=True)
class AllowanceUse:
    """A right's contract year: the audits its clause allows, those that count against them, those for cause."""

    first: datetime.date
    last: datetime.date
    allowed: int
    counted: int
    for_cause: int


def allowance_uses(rights: list[AuditRight], day: datetime.date) -> dict[int, AllowanceUse]:
    """The use of each of `rights` (audit rights of one contract) in the contract year holding `day`, by
    the right's id. One query, whatever the number of rights and audits."""
    if not rights:
        return {}
    first, last = allowance_year(rights[0], day)
    rows = (
        Audit.objects.filter(audit_right__in=rights, fieldwork_start__range=(first, last))
        .values("audit_right")
        .annotate(
            counted=Count("pk", filter=counted_against_allowance()),
            for_cause=Count("pk", filter=Q(for_cause=True, status__in=HELD_OR_PLANNED)),
        )
        .order_by()
    )
    counts = {row["audit_right"]: (row["counted"], row["for_cause"]) for row in rows}
    return {
        right.pk: AllowanceUse(first, last, right.audits_per_year, *counts.get(right.pk, (0, 0))) for right in rights
    }


def audit_right_ends_on(right: AuditRight) -> datetime.date:
    """The last day audits may be held under `right`: the audit right survives the contract's end (the end of
    its current term, or its last day of service) for as long as the vendor keeps its records (DOMAIN.md §4.1:
    records retention and survival)."""
    return add_months(right.contract.last_day_of_service, 12 * right.records_retention_years)


def latest_notice_date(audit: Audit) -> datetime.date:
    """The last day the audit's notice can go out and still satisfy the clause (business days in the
    contract's calendar): the day the check of a notice (audits.services.right_violations) accepts last."""
    return audit.audit_right.notice_deadline(audit.fieldwork_start)


def audits_with_notice_to_send(
    *, today: datetime.date | None = None, within_days: int = NOTICE_REMINDER_DAYS
) -> list[Audit]:
    """Planned audits (notice not sent) whose last day to send the notice is within ``within_days``
    days (or already passed), each with ``notice_due_by``."""
    today = today or timezone.localdate()
    audits = Audit.objects.filter(status=AuditStatus.PLANNED, fieldwork_start__gte=today).select_related(
        "audit_right__contract"
    )
    due = []
    for audit in audits:
        audit.notice_due_by = latest_notice_date(audit)
        if audit.notice_due_by <= today + datetime.timedelta(days=within_days):
            due.append(audit)
    return due


def findings_due(
    *, today: datetime.date | None = None, within_days: int = REMEDIATION_REMINDER_DAYS
) -> QuerySet[Finding]:
    """Open or planned findings due within ``within_days`` days, or overdue."""
    today = today or timezone.localdate()
    return (
        Finding.objects.filter(
            status__in=(FindingStatus.OPEN, FindingStatus.REMEDIATION_PLANNED),
            due_date__lte=today + datetime.timedelta(days=within_days),
        )
        .select_related("audit__audit_right__contract__vendor", "owner")
        .order_by("due_date", "pk")
    )


@dataclass(frozen=True)
class ClauseChange:
    changed_at: datetime.datetime
    changed_by: object
    reason: str
    fields: tuple[str, ...]


def clause_changes_since(right: AuditRight, since: datetime.datetime) -> list[ClauseChange]:
    """The changes to `right`'s terms after `since` (e.g. since an audit was planned under it), oldest
    first: when, by whom, why, and the names of the terms that changed. One query."""
    terms = [field for field in AuditRight._meta.concrete_fields if not field.primary_key]
    records = list(right.history.select_related("history_user").order_by("history_date", "history_id"))
    changes = []
    for before, after in itertools.pairwise(records):
        if after.history_date <= since:
            continue
        fields = tuple(
            str(field.verbose_name)
            for field in terms
            if getattr(before, field.attname) != getattr(after, field.attname)
        )
        if fields:
            changes.append(
                ClauseChange(after.history_date, after.history_user, after.history_change_reason or "", fields)
            )
    return changes


@dataclass(frozen=True)
class FieldworkMove:
    moved_at: datetime.datetime
    moved_by: object
    reason: str
    former_start: datetime.date
    former_end: datetime.date


RESCHEDULED = "Rescheduled"  # how audits.services.reschedule_audit's history records begin


def fieldwork_moves(audit: Audit) -> list[FieldworkMove]:
    """The changes of `audit`'s fieldwork dates, oldest first: when, by whom, why (the reason given to
    reschedule it in full), and the dates before. One query."""
    records = list(audit.history.select_related("history_user").order_by("history_date", "history_id"))
    moves = []
    for before, after in itertools.pairwise(records):
        if (before.fieldwork_start, before.fieldwork_end) == (after.fieldwork_start, after.fieldwork_end):
            continue
        reason = after.history_change_reason or ""
        if reason.startswith(RESCHEDULED):
            reason = after.reschedule_reason
        moves.append(
            FieldworkMove(after.history_date, after.history_user, reason, before.fieldwork_start, before.fieldwork_end)
        )
    return moves
