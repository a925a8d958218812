"""Reads of audits: notices to send, findings whose remediation is due."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from audits.choices import AuditStatus, FindingStatus, NoticeUnit
from audits.models import Audit, Finding
from contracts.dates import subtract_business_days

NOTICE_REMINDER_DAYS = 7
REMEDIATION_REMINDER_DAYS = 7


def latest_notice_date(audit: Audit) -> datetime.date:
    """The last day the audit's notice can go out and still satisfy the clause."""
    right = audit.audit_right
    if right.notice_unit == NoticeUnit.BUSINESS_DAYS:
        return subtract_business_days(audit.fieldwork_start, right.notice)
    return audit.fieldwork_start - datetime.timedelta(days=right.notice)


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
