"""Writes of audits: planning and notifying an audit within the contract's audit right, its
transitions (planned → notified → fieldwork → reported → closed) and its findings' remediation.

A refusal quotes the clause (reference and text). An administrator may override a refusal with a
recorded reason (e.g. a regulator's written demand); the reason and the administrator stay on the
audit. Every write is atomic, validated with full_clean() and recorded in the models' history.

A finding's steps (due date, plan, remediation, verification, risk acceptance) are refused with
PermissionDenied to an actor audits.permissions does not allow: the customer's side takes them all, the
vendor's users only answer the findings addressed to their vendor (plan and remediation).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.choices import Role
from audits import permissions
from audits.choices import AuditStatus, FindingStatus, NoticeUnit
from audits.models import Audit, AuditRight, Finding
from contracts.dates import contract_year, days_of_notice

# The fields only these services write (read-only in the API and the back office): what the audit
# right checked, the transitions' records, a finding's number, deadline and remediation trail.
AUDIT_SERVICE_FIELDS = (
    "audit_right",
    "audit_type",
    "auditor_kind",
    "fieldwork_start",
    "status",
    "notice_date",
    "report_date",
    "report_summary",
    "cost_recoverable",
    "override_reason",
    "overridden_by",
)
# What plan_audit takes from the person planning an audit (the API's input, the admin's add form, the page).
AUDIT_PLAN_INPUT_FIELDS = (
    "audit_right",
    "reference",
    "audit_type",
    "auditor_kind",
    "auditor_name",
    "lead_auditor",
    "scope_description",
    "fieldwork_start",
    "fieldwork_end",
    "override_reason",
)
# What record_finding takes from the person recording a finding (the API's input, the admin's add form).
FINDING_INPUT_FIELDS = (
    "audit",
    "title",
    "severity",
    "description",
    "clause_breached",
    "discrepancy_pct",
    "recovery_amount",
    "owner",
    "vendor_contact",
    "addressed_to_vendor",
    "due_date",
)
FINDING_SERVICE_FIELDS = (
    "audit",
    "number",
    "due_date",
    "discrepancy_pct",
    "status",
    "remediation_plan",
    "evidence",
    "remediated_at",
    "verified_by",
    "verified_at",
)


def _save(instance, *, actor, reason: str) -> None:
    instance._history_user = actor
    instance._change_reason = reason[:100]
    instance.full_clean()
    instance.save()


# Validation against the right ----------------------------------------------------------------------


def right_violations(
    *,
    right: AuditRight,
    audit_type: str,
    auditor_kind: str,
    fieldwork_start: datetime.date,
    notice_date: datetime.date,
    exclude_audit_id: int | None = None,
) -> list[str]:
    """What an audit would breach in the clause: scope, who may audit, notice, audits this contract year.

    Audits allowed by an override do not use up the year's allowance (they were outside the right).
    """
    problems = []
    if right.scopes and audit_type not in right.scopes:
        problems.append(_("The clause does not allow a %(type)s audit.") % {"type": audit_type})
    if right.allowed_auditors and auditor_kind not in right.allowed_auditors:
        problems.append(_("The clause does not allow this auditor (%(kind)s).") % {"kind": auditor_kind})
    business = right.notice_unit == NoticeUnit.BUSINESS_DAYS
    given = days_of_notice(notice_date, fieldwork_start, business_days=business)
    if given < right.notice:
        problems.append(
            _("Notice of %(given)s is shorter than the %(required)s required.")
            % {"given": _days(given, business), "required": _days(right.notice, business)}
        )
    first, last = contract_year(right.contract.start_date, fieldwork_start)
    used = (
        Audit.objects.filter(audit_right=right, fieldwork_start__range=(first, last), override_reason="")
        .exclude(pk=exclude_audit_id)
        .count()
    )
    if used >= right.audits_per_year:
        problems.append(
            _("%(used)s audit(s) already in the contract year %(first)s – %(last)s; the clause allows %(allowed)s.")
            % {"used": used, "first": first, "last": last, "allowed": right.audits_per_year}
        )
    return problems


def _days(count: int, business: bool) -> str:
    if business:
        return ngettext("%(count)d business day", "%(count)d business days", count) % {"count": count}
    return ngettext("%(count)d calendar day", "%(count)d calendar days", count) % {"count": count}


def _refusal(right: AuditRight, problems: list[str]) -> ValidationError:
    # The reference as the contract names it ("Clause 21", "Section 14", "§ 21.1").
    quote = _("%(reference)s: “%(text)s”") % {"reference": right.clause_reference, "text": right.clause_text}
    return ValidationError([*problems, quote], code="outside_audit_right")


def _check_right(audit: Audit, *, notice_date: datetime.date, actor, override_reason: str) -> None:
    problems = right_violations(
        right=audit.audit_right,
        audit_type=audit.audit_type,
        auditor_kind=audit.auditor_kind,
        fieldwork_start=audit.fieldwork_start,
        notice_date=notice_date,
        exclude_audit_id=audit.pk,
    )
    if not problems:
        return
    if not override_reason.strip():
        if audit.override_reason:
            return
        raise _refusal(audit.audit_right, problems)
    if getattr(actor, "role", None) != Role.ADMINISTRATOR:
        raise ValidationError(_("Only an administrator may allow an audit outside the contract's audit right."))
    audit.override_reason = override_reason.strip()
    audit.overridden_by = actor


# Audit lifecycle -----------------------------------------------------------------------------------


@transaction.atomic
def plan_audit(
    *,
    audit_right: AuditRight,
    reference: str,
    audit_type: str,
    auditor_kind: str,
    auditor_name: str,
    fieldwork_start: datetime.date,
    fieldwork_end: datetime.date,
    actor,
    lead_auditor=None,
    scope_description: str = "",
    override_reason: str = "",
    today: datetime.date | None = None,
) -> Audit:
    """Plan an audit under ``audit_right``. The notice is checked as if sent today (it cannot go out
    earlier), so a plan that can no longer give enough notice is refused now, not at notification."""
    today = today or timezone.localdate()
    AuditRight.objects.select_for_update().get(pk=audit_right.pk)
    audit = Audit(
        audit_right=audit_right,
        reference=reference,
        audit_type=audit_type,
        auditor_kind=auditor_kind,
        auditor_name=auditor_name,
        lead_auditor=lead_auditor,
        scope_description=scope_description,
        fieldwork_start=fieldwork_start,
        fieldwork_end=fieldwork_end,
        status=AuditStatus.PLANNED,
    )
    _check_right(audit, notice_date=today, actor=actor, override_reason=override_reason)
    _save(audit, actor=actor, reason="Planned" + (" (override)" if audit.override_reason else ""))
    return audit


def _locked_audit(audit: Audit, expected: str) -> Audit:
    locked = Audit.objects.select_for_update().select_related("audit_right__contract").get(pk=audit.pk)
    if locked.status != expected:
        raise ValidationError(
            _("The audit is %(status)s; this step needs it %(expected)s.")
            % {"status": locked.get_status_display(), "expected": AuditStatus(expected).label}
        )
    return locked


@transaction.atomic
def notify_audit(
    *,
    audit: Audit,
    notice_date: datetime.date,
    actor,
    override_reason: str = "",
    today: datetime.date | None = None,
) -> Audit:
    """Record the notice sent to the vendor (planned → notified), checked against the clause again
    with the real notice date, which lies between the contract's start and today."""
    AuditRight.objects.select_for_update().get(pk=audit.audit_right_id)
    audit = _locked_audit(audit, AuditStatus.PLANNED)
    if notice_date > (today or timezone.localdate()):
        raise ValidationError(
            {"notice_date": _("Record the notice once it is sent: its date cannot be in the future.")}
        )
    start = audit.audit_right.contract.start_date
    if notice_date < start:
        raise ValidationError(
            {
                "notice_date": _("The notice cannot predate the contract, which started on %(start)s.")
                % {"start": formats.date_format(start, "SHORT_DATE_FORMAT")}
            }
        )
    _check_right(audit, notice_date=notice_date, actor=actor, override_reason=override_reason)
    audit.notice_date = notice_date
    audit.status = AuditStatus.NOTIFIED
    _save(audit, actor=actor, reason="Notified")
    return audit


@transaction.atomic
def start_fieldwork(*, audit: Audit, actor, today: datetime.date | None = None) -> Audit:
    """notified → fieldwork, from the fieldwork's first day: the notice was given for that day."""
    audit = _locked_audit(audit, AuditStatus.NOTIFIED)
    if (today or timezone.localdate()) < audit.fieldwork_start:
        raise ValidationError(
            _("The fieldwork starts on %(start)s, as the notice says: it cannot start earlier.")
            % {"start": formats.date_format(audit.fieldwork_start, "SHORT_DATE_FORMAT")}
        )
    audit.status = AuditStatus.FIELDWORK
    _save(audit, actor=actor, reason="Fieldwork started")
    return audit


@transaction.atomic
def report_audit(
    *, audit: Audit, report_date: datetime.date, report_summary: str, actor, today: datetime.date | None = None
) -> Audit:
    """Record the audit's report (fieldwork → reported). Its date is between the fieldwork's start and
    today: the findings' remediation due dates count from it."""
    audit = _locked_audit(audit, AuditStatus.FIELDWORK)
    today = today or timezone.localdate()
    if report_date > today:
        raise ValidationError({"report_date": _("The report date cannot be in the future.")})
    if report_date < audit.fieldwork_start:
        raise ValidationError(
            {
                "report_date": _("The report cannot predate the fieldwork, which started on %(start)s.")
                % {"start": formats.date_format(audit.fieldwork_start, "SHORT_DATE_FORMAT")}
            }
        )
    audit.status = AuditStatus.REPORTED
    audit.report_date = report_date
    audit.report_summary = report_summary
    _save(audit, actor=actor, reason="Reported")
    return audit


@transaction.atomic
def close_audit(*, audit: Audit, actor) -> Audit:
    """Close a reported audit; refused while a finding is neither verified nor risk-accepted."""
    audit = _locked_audit(audit, AuditStatus.REPORTED)
    unsettled = list(
        audit.findings.exclude(status__in=FindingStatus.settled_values())
        .order_by("number")
        .values_list("number", flat=True)
    )
    if unsettled:
        raise ValidationError(
            ngettext(
                "Finding %(numbers)s is neither verified nor risk-accepted; the audit stays open.",
                "Findings %(numbers)s are neither verified nor risk-accepted; the audit stays open.",
                len(unsettled),
            )
            % {"numbers": ", ".join(str(n) for n in unsettled)}
        )
    audit.status = AuditStatus.CLOSED
    _save(audit, actor=actor, reason="Closed")
    return audit


# Findings ------------------------------------------------------------------------------------------


def _flag_cost_recoverable(audit: Audit, discrepancy_pct: Decimal | None, *, actor) -> None:
    threshold = audit.audit_right.cost_shift_threshold_pct
    if discrepancy_pct is None or threshold is None or audit.cost_recoverable:
        return
    if discrepancy_pct >= threshold:
        audit.cost_recoverable = True
        _save(audit, actor=actor, reason=f"Cost recoverable: discrepancy {discrepancy_pct} % ≥ {threshold} %")


@transaction.atomic
def record_finding(
    *,
    audit: Audit,
    title: str,
    severity: str,
    description: str,
    actor,
    due_date: datetime.date | None = None,
    owner=None,
    vendor_contact=None,
    addressed_to_vendor: bool = True,
    clause_breached: str = "",
    discrepancy_pct: Decimal | None = None,
    recovery_amount: Decimal | None = None,
    today: datetime.date | None = None,
) -> Finding:
    """A finding of an audit in fieldwork or reported. Its due date defaults to the clause's
    remediation days for its severity, counted from the report date (or today). A financial
    discrepancy at or above the clause's threshold makes the audit's cost recoverable."""
    today = today or timezone.localdate()
    audit = Audit.objects.select_for_update().select_related("audit_right").get(pk=audit.pk)
    if audit.status not in (AuditStatus.FIELDWORK, AuditStatus.REPORTED):
        raise ValidationError(_("Findings are recorded during fieldwork or in the report."))
    if due_date is None:
        due_date = (audit.report_date or today) + datetime.timedelta(days=audit.audit_right.remediation_days(severity))
    number = (audit.findings.aggregate(last=Max("number"))["last"] or 0) + 1
    finding = Finding(
        audit=audit,
        number=number,
        title=title,
        severity=severity,
        description=description,
        clause_breached=clause_breached,
        discrepancy_pct=discrepancy_pct,
        recovery_amount=recovery_amount,
        owner=owner,
        vendor_contact=vendor_contact,
        addressed_to_vendor=addressed_to_vendor,
        due_date=due_date,
        status=FindingStatus.OPEN,
    )
    _save(finding, actor=actor, reason="Recorded")
    _flag_cost_recoverable(audit, discrepancy_pct, actor=actor)
    return finding


FINDING_TRANSITIONS: dict[str, tuple[str, ...]] = {
    FindingStatus.REMEDIATION_PLANNED: (FindingStatus.OPEN,),
    FindingStatus.REMEDIATED: (FindingStatus.OPEN, FindingStatus.REMEDIATION_PLANNED),
    FindingStatus.VERIFIED: (FindingStatus.REMEDIATED,),
    FindingStatus.RISK_ACCEPTED: (FindingStatus.OPEN, FindingStatus.REMEDIATION_PLANNED, FindingStatus.REMEDIATED),
}


def _locked_finding(finding: Finding, target: str, *, actor, step: str) -> Finding:
    locked = Finding.objects.select_for_update().get(pk=finding.pk)
    permissions.check_step(actor, locked, step)
    if locked.status not in FINDING_TRANSITIONS[target]:
        raise ValidationError(
            _("A finding that is %(status)s cannot become %(target)s.")
            % {"status": locked.get_status_display(), "target": FindingStatus(target).label}
        )
    return locked


@transaction.atomic
def change_finding_due_date(
    *, finding: Finding, due_date: datetime.date, actor, reason: str, today: datetime.date | None = None
) -> Finding:
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    permissions.check_step(actor, finding, permissions.DUE_DATE)
    if finding.status in FindingStatus.settled_values():
        raise ValidationError(_("A settled finding keeps its due date."))
    if due_date < (today or timezone.localdate()):
        raise ValidationError({"due_date": _("A new due date is today or later.")})
    if not reason.strip():
        raise ValidationError(_("Say why the remediation due date changes."))
    finding.due_date = due_date
    _save(finding, actor=actor, reason=f"Due date {due_date}: {reason}")
    return finding


@transaction.atomic
def plan_remediation(*, finding: Finding, plan: str, actor) -> Finding:
    finding = _locked_finding(
        finding, FindingStatus.REMEDIATION_PLANNED, actor=actor, step=permissions.PLAN_REMEDIATION
    )
    if not plan.strip():
        raise ValidationError(_("Describe the remediation plan."))
    finding.remediation_plan = plan
    finding.status = FindingStatus.REMEDIATION_PLANNED
    _save(finding, actor=actor, reason="Remediation planned")
    return finding


@transaction.atomic
def mark_remediated(*, finding: Finding, evidence: str, actor) -> Finding:
    finding = _locked_finding(finding, FindingStatus.REMEDIATED, actor=actor, step=permissions.REMEDIATE)
    if not evidence.strip():
        raise ValidationError(_("Give the evidence of remediation."))
    finding.evidence = evidence
    finding.status = FindingStatus.REMEDIATED
    finding.remediated_at = timezone.now()
    _save(finding, actor=actor, reason="Remediated")
    return finding


@transaction.atomic
def verify_finding(*, finding: Finding, actor) -> Finding:
    finding = _locked_finding(finding, FindingStatus.VERIFIED, actor=actor, step=permissions.VERIFY)
    finding.status = FindingStatus.VERIFIED
    finding.verified_by = actor
    finding.verified_at = timezone.now()
    _save(finding, actor=actor, reason="Verified")
    return finding


@transaction.atomic
def accept_risk(*, finding: Finding, actor, reason: str) -> Finding:
    finding = _locked_finding(finding, FindingStatus.RISK_ACCEPTED, actor=actor, step=permissions.ACCEPT_RISK)
    if not reason.strip():
        raise ValidationError(_("Say why the risk is accepted."))
    finding.status = FindingStatus.RISK_ACCEPTED
    _save(finding, actor=actor, reason=f"Risk accepted: {reason}")
    return finding
