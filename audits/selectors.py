"""Reads of audits: notices to send, findings whose remediation is due, the clause's changes, the
fieldwork's moves."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from audits.choices import AuditStatus, FindingStatus
from audits.models import Audit, AuditRight, Finding

NOTICE_REMINDER_DAYS = 7
REMEDIATION_REMINDER_DAYS = 7


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
