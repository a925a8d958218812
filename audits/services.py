"""Writes of audits: planning and notifying an audit within the contract's audit right, its
transitions (planned → notified → fieldwork → reported → closed) and its findings' remediation.

A refusal quotes the clause (reference and text). An administrator may override a refusal with a
recorded reason (e.g. a short notice the vendor accepted); the reason and the administrator stay on the
audit. An audit an administrator holds for cause (a security incident, a regulator's written demand,
suspected fraud, a material breach: DOMAIN.md §4.1), with the cause as that reason, comes on top of the
routine audits the clause allows each contract year; every other audit planned or held counts against
them, overridden or not. An override covers what it was given for: when the audit's fieldwork moves or
its notice is recorded, the clause is checked again, and what it refuses then needs an administrator's
reason again (audits for cause stay allowed by their cause). An administrator may hold an audit for cause
after planning it, or count it as routine again, until its report (set_audit_for_cause). Every write is
atomic, validated with full_clean() and recorded in the models' history.

An audit lies within its contract's life: its fieldwork starts on or after the contract's start and ends
by the day the audit right survives to (the records retention years after the contract's end,
audits.selectors.audit_right_ends_on). No override allows one outside it: there is nothing to audit
under the contract there.

A finding's steps (due date, plan, remediation, verification, risk acceptance) are refused with
PermissionDenied to an actor audits.permissions does not allow: the customer's side takes them all, the
vendor's users only answer the findings addressed to their vendor (plan and remediation).

An audit right is a term of its contract: only administrators and whoever edits contract terms
(audits.permissions.edits_audit_rights) create or change one, never the auditors who audit under it; a
change to a clause that audits were planned under says why, and the audits' pages show it.

A finding's remediation due date comes from the clause: its severity's remediation days counted from
the audit's report date, or from the day the finding is recorded when that is later (a finding recorded
after the report is not born overdue); until the report exists they count from the recording day, and
the report counts them again. It is not an input when the finding is recorded; a different date is set
afterwards with change_finding_due_date (a reason, today or later), after which the report no longer
moves it. A settled finding (verified or risk-accepted) is frozen.

A refusal names every problem it can at once, each under the field it concerns (the model's own rules
and the clause's together), and the steps' preconditions are functions the pages ask before offering a
step (start_fieldwork_refusal, close_refusal).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.choices import Role
from accounts.templatetags.ui import money
from audits import permissions
from audits.choices import Auditor, AuditStatus, AuditType, FindingStatus
from audits.models import Audit, AuditRight, Finding
from audits.selectors import RESCHEDULED, allowance_year, audit_right_ends_on, counted_against_allowance

# The fields only these services write (read-only in the API and the back office): what the audit
# right checked, the transitions' records, a finding's number, deadline and remediation trail.
AUDIT_SERVICE_FIELDS = (
    "audit_right",
    "audit_type",
    "auditor_kind",
    "fieldwork_start",
    "fieldwork_end",
    "status",
    "planned_on",
    "notice_date",
    "report_date",
    "report_summary",
    "cost_recoverable",
    "override_reason",
    "overridden_by",
    "for_cause",
    "cancellation_reason",
    "cancelled_by",
    "cancelled_at",
    "reschedule_reason",
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
    "for_cause",
)
# What update_audit changes on an audit not yet closed or cancelled (the API's PATCH, the back office's change
# page); its fieldwork's dates move with reschedule_audit.
AUDIT_EDITABLE_FIELDS = ("reference", "auditor_name", "lead_auditor", "scope_description", "cost", "cost_currency")
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
)
FINDING_SERVICE_FIELDS = (
    "audit",
    "number",
    "recorded_on",
    "due_date",
    "due_date_set_by_hand",
    "discrepancy_pct",
    "status",
    "remediation_plan",
    "evidence",
    "remediated_at",
    "verified_by",
    "verified_at",
    "verification_note",
    "risk_acceptance_reason",
)
# What update_finding changes on a finding not yet settled (the API's PATCH, the back office's change page).
FINDING_EDITABLE_FIELDS = tuple(
    name for name in FINDING_INPUT_FIELDS if name != "audit" and name not in FINDING_SERVICE_FIELDS
)
# The terms of an audit right (the API's and the back office's input of create_audit_right / change_audit_right).
AUDIT_RIGHT_FIELDS = (
    "contract",
    "clause_reference",
    "clause_text",
    "audits_per_year",
    "notice",
    "notice_unit",
    "scopes",
    "allowed_auditors",
    "cost_bearer",
    "cost_shift_threshold_pct",
    "remediation_days_critical",
    "remediation_days_high",
    "remediation_days_medium",
    "remediation_days_low",
    "records_retention_years",
)


def _save(instance, *, actor, reason: str) -> None:
    instance.full_clean()
    _record(instance, actor=actor, reason=reason)


def _record(instance, *, actor, reason: str) -> None:
    """Save an instance already validated, with who and why in its history."""
    instance._history_user = actor
    instance._change_reason = reason[:100]
    instance.save()


def _merged(*error_dicts: dict) -> dict[str, list]:
    merged: dict[str, list] = {}
    for errors in error_dicts:
        for field, messages in errors.items():
            merged.setdefault(field, []).extend(messages)
    return merged


def _validate_with(instance, errors: dict) -> None:
    """Validate `instance` (its fields, clean() and constraints) and raise its errors together with
    `errors` (the business rules'), so that one refusal names every problem of the input."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        errors = _merged(exc.update_error_dict({}), errors)
    if errors:
        raise ValidationError(errors)


def _changed_fields(instance, changes: dict) -> list[str]:
    return [name for name, value in changes.items() if getattr(instance, name) != value]


# Audit rights: contract terms ---------------------------------------------------------------------


def _check_edits_audit_rights(actor) -> None:
    if not permissions.edits_audit_rights(actor):
        raise PermissionDenied


@transaction.atomic
def create_audit_right(*, actor, **terms) -> AuditRight:
    """Add an audit clause to a contract (administrators and whoever edits contract terms)."""
    _check_edits_audit_rights(actor)
    right = AuditRight(**terms)
    _save(right, actor=actor, reason="Created")
    return right


@transaction.atomic
def change_audit_right(*, right: AuditRight, changes: dict, actor, reason: str = "") -> AuditRight:
    """Change the terms of an audit clause (administrators and whoever edits contract terms).

    The clause stays with its contract. Once audits were planned under it, the change says why: the
    audits were checked against the former terms, and their pages show what changed since, by whom and
    why (the clause's history). Nothing is written when nothing changes."""
    _check_edits_audit_rights(actor)
    right = AuditRight.objects.select_for_update().get(pk=right.pk)
    changed = _changed_fields(right, changes)
    if not changed:
        return right
    if "contract" in changed:
        raise ValidationError({"contract": _("An audit right stays with its contract; add one to the other contract.")})
    reason = reason.strip()
    if not reason and right.audits.exists():
        raise ValidationError({"change_reason": _("Audits were planned under this clause: say why its terms change.")})
    for name in changed:
        setattr(right, name, changes[name])
    _save(right, actor=actor, reason=reason or "Changed: " + ", ".join(changed))
    return right


# Validation against the right ----------------------------------------------------------------------


def right_violations(
    *,
    right: AuditRight,
    audit_type: str,
    auditor_kind: str,
    fieldwork_start: datetime.date,
    notice_date: datetime.date,
    exclude_audit_id: int | None = None,
    notice_field: str = "fieldwork_start",
    count_allowance: bool = True,
) -> dict[str, list[str]]:
    """What an audit would breach in the clause (scope, who may audit, notice, and with `count_allowance`
    the audits of its contract year), by the field each concerns: the notice under `notice_field` (the
    fieldwork's start when the notice is assumed sent today, the notice date when it was recorded), the
    year's allowance under the fieldwork's start.

    The year's allowance is used up by the audits audits.selectors.counted_against_allowance names: those
    planned or held there, overridden or not, except audits for cause and cancelled ones.
    """
    problems: dict[str, list[str]] = {}
    if right.scopes and audit_type not in right.scopes:
        problems.setdefault("audit_type", []).append(
            _("The clause does not allow audits of this type (%(type)s).") % {"type": _label(AuditType, audit_type)}
        )
    if right.allowed_auditors and auditor_kind not in right.allowed_auditors:
        problems.setdefault("auditor_kind", []).append(
            _("The clause does not allow this auditor (%(kind)s).") % {"kind": _label(Auditor, auditor_kind)}
        )
    business = right.notice_in_business_days
    if fieldwork_start < notice_date:
        problems.setdefault(notice_field, []).append(
            _(
                "The fieldwork would start on %(start)s, before the notice of %(notice)s: the clause requires "
                "%(required)s of notice."
            )
            % {
                "start": formats.date_format(fieldwork_start, "SHORT_DATE_FORMAT"),
                "notice": formats.date_format(notice_date, "SHORT_DATE_FORMAT"),
                "required": right.notice_text,
            }
        )
    # The same deadline the audit's page shows and the reminders give (AuditRight.notice_deadline).
    elif notice_date > right.notice_deadline(fieldwork_start):
        problems.setdefault(notice_field, []).append(
            _("Notice of %(given)s is shorter than the %(required)s required.")
            % {
                "given": _days(right.notice_given(notice_date, fieldwork_start), business),
                "required": right.notice_text,
            }
        )
    if not count_allowance:
        return problems
    first, last = allowance_year(right, fieldwork_start)
    used = (
        Audit.objects.filter(counted_against_allowance(), audit_right=right, fieldwork_start__range=(first, last))
        .exclude(pk=exclude_audit_id)
        .count()
    )
    if used >= right.audits_per_year:
        problems.setdefault("fieldwork_start", []).append(
            ngettext(
                "%(used)s audit already planned or held in the contract year %(first)s – %(last)s; the clause "
                "allows %(allowed)s.",
                "%(used)s audits already planned or held in the contract year %(first)s – %(last)s; the clause "
                "allows %(allowed)s.",
                used,
            )
            % {
                "used": used,
                "first": formats.date_format(first, "SHORT_DATE_FORMAT"),
                "last": formats.date_format(last, "SHORT_DATE_FORMAT"),
                "allowed": right.audits_per_year,
            }
        )
    return problems


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _days(count: int, business: bool) -> str:
    if business:
        return ngettext("%(count)d business day", "%(count)d business days", count) % {"count": count}
    return ngettext("%(count)d calendar day", "%(count)d calendar days", count) % {"count": count}


def _quote(right: AuditRight) -> ValidationError:
    # The reference as the contract names it ("Clause 21", "Section 14", "§ 21.1").
    quote = _("%(reference)s: “%(text)s”") % {"reference": right.clause_reference, "text": right.clause_text}
    return ValidationError(quote, code="outside_audit_right")


def may_override(actor) -> bool:
    """Whether `actor` may allow an audit outside the contract's audit right, with a recorded reason."""
    return getattr(actor, "role", None) == Role.ADMINISTRATOR


def _right_errors(
    audit: Audit,
    *,
    notice_date: datetime.date,
    actor,
    override_reason: str,
    notice_field: str = "fieldwork_start",
    count_allowance: bool = True,
    earlier_override_covers: bool = False,
    earlier_override_lapsed: str = "",
) -> dict[str, list]:
    """The clause's refusals of `audit` by field, the clause quoted last (under audit_right), or none.
    An audit for cause is not counted against the year's allowance, nor checked against it.

    An administrator's override reason allows the audit (the reason and the administrator are kept on
    it, the earlier override in its history). An override covers what it was given for: the audit's
    dates and notice then. Checked again for new dates or a notice, what the clause refuses is covered by
    the earlier override only when the caller knows it was given for exactly that
    (`earlier_override_covers`); otherwise an administrator gives a reason again, and the refusal says so
    under override_reason (`earlier_override_lapsed`). An audit for cause stays allowed by its cause,
    whatever its dates: a reason given then does not replace the cause."""
    problems = right_violations(
        right=audit.audit_right,
        audit_type=audit.audit_type,
        auditor_kind=audit.auditor_kind,
        fieldwork_start=audit.fieldwork_start,
        notice_date=notice_date,
        exclude_audit_id=audit.pk,
        notice_field=notice_field,
        count_allowance=count_allowance and not audit.for_cause,
    )
    reason = override_reason.strip()
    if not problems or (audit.for_cause and audit.override_reason):
        return {}
    if not reason and audit.override_reason and earlier_override_covers:
        return {}
    if reason and may_override(actor):
        audit.override_reason = reason
        audit.overridden_by = actor
        return {}
    errors: dict[str, list] = dict(problems)
    if reason:
        errors["override_reason"] = [_("Only an administrator may allow an audit outside the contract's audit right.")]
    elif audit.override_reason and earlier_override_lapsed:
        errors["override_reason"] = [earlier_override_lapsed]
    errors["audit_right"] = [_quote(audit.audit_right)]
    return errors


def _overrider(audit: Audit) -> tuple[str, int | None]:
    return audit.override_reason, audit.overridden_by_id


def _for_cause_errors(audit: Audit, *, actor, override_reason: str) -> dict[str, list]:
    """An audit for cause is an administrator's decision, with the cause as its override reason (kept on the
    audit with the administrator), whether or not the clause would otherwise refuse it."""
    if not may_override(actor):
        return {"for_cause": [_("Only an administrator may hold an audit for cause, on top of the year's allowance.")]}
    if not override_reason.strip():
        return {
            "override_reason": [
                _(
                    "Give the cause of the audit (e.g. a security incident, a regulator's written demand, "
                    "suspected fraud): it is kept on the audit."
                )
            ]
        }
    audit.override_reason = override_reason.strip()
    audit.overridden_by = actor
    return {}


def _lifetime_errors(audit: Audit) -> dict[str, list]:
    """Where `audit`'s fieldwork lies outside the contract's life under its audit right: before the contract
    starts, or after the audit right has lapsed."""
    contract = audit.audit_right.contract
    errors: dict[str, list] = {}
    if audit.fieldwork_start is not None and audit.fieldwork_start < contract.start_date:
        errors["fieldwork_start"] = [
            _("The fieldwork cannot start before the contract, which starts on %(start)s.")
            % {"start": formats.date_format(contract.start_date, "SHORT_DATE_FORMAT")}
        ]
    ends_on = audit_right_ends_on(audit.audit_right)
    years = audit.audit_right.records_retention_years
    if audit.fieldwork_end is not None and audit.fieldwork_end > ends_on and not years:
        errors["fieldwork_end"] = [
            _("The audit right ends with the contract, on %(day)s: the fieldwork ends by then.")
            % {"day": formats.date_format(ends_on, "SHORT_DATE_FORMAT")}
        ]
    elif audit.fieldwork_end is not None and audit.fieldwork_end > ends_on:
        errors["fieldwork_end"] = [
            ngettext(
                "The audit right ends on %(day)s, %(years)s year after the contract's end on %(end)s (its records "
                "retention): the fieldwork ends by then.",
                "The audit right ends on %(day)s, %(years)s years after the contract's end on %(end)s (its records "
                "retention): the fieldwork ends by then.",
                years,
            )
            % {
                "day": formats.date_format(ends_on, "SHORT_DATE_FORMAT"),
                "years": years,
                "end": formats.date_format(contract.last_day_of_service, "SHORT_DATE_FORMAT"),
            }
        ]
    return errors


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
    for_cause: bool = False,
    today: datetime.date | None = None,
) -> Audit:
    """Plan an audit under ``audit_right``. The notice is checked as if sent today (it cannot go out
    earlier), so a plan that can no longer give enough notice is refused now, not at notification. The
    audit's own rules (dates, reference, lead auditor), the contract's dates and the clause's are refused
    together. An administrator plans an audit ``for_cause`` with the cause as ``override_reason``."""
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
        planned_on=today,
        for_cause=for_cause,
    )
    cause = _for_cause_errors(audit, actor=actor, override_reason=override_reason) if for_cause else {}
    if cause:
        # Refused under its own field: checked as a routine audit, without the model repeating it.
        audit.for_cause = False
    clause = _right_errors(audit, notice_date=today, actor=actor, override_reason=override_reason)
    _validate_with(audit, _merged(cause, _lifetime_errors(audit), clause))
    _record(audit, actor=actor, reason="Planned" + (" (override)" if audit.override_reason else ""))
    return audit


def _locked_audit(audit: Audit, expected: str, *, refusal=None) -> Audit:
    """`audit` locked, in the `expected` status; otherwise refused with the step's own `refusal` of it, if
    it gives one, or with the status the step needs."""
    locked = Audit.objects.select_for_update().select_related("audit_right__contract").get(pk=audit.pk)
    if refusal is not None and (message := refusal(locked)):
        raise ValidationError(message)
    if locked.status != expected:
        raise ValidationError(
            _("The audit's status is %(status)s; this step needs the status %(expected)s.")
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
    with the real notice date, which lies between the day the audit was planned (and the contract's start)
    and today, and against the contract's dates (it may have ended earlier since).

    The year's allowance is not counted again: the audit's place in its contract year was checked when its
    fieldwork's dates were set (planned or rescheduled), and the notice does not move them. Counted again, it
    would refuse the audit because of those an administrator allowed on top of it since.

    An override given when the audit was planned was given for its notice as if sent that day: it still
    covers a notice sent on that day to the fieldwork planned then (the clause refuses nothing more). Any
    other notice the clause refuses needs an administrator's reason again."""
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
    # A notice announces a planned audit: one dated earlier would count days of notice the vendor never had
    # (and a reschedule checks the notice from that date).
    if notice_date < audit.planned_on:
        raise ValidationError(
            {
                "notice_date": _("The notice cannot predate the audit, which was planned on %(day)s.")
                % {"day": formats.date_format(audit.planned_on, "SHORT_DATE_FORMAT")}
            }
        )
    overrider_before = _overrider(audit)
    clause = _right_errors(
        audit,
        notice_date=notice_date,
        actor=actor,
        override_reason=override_reason,
        notice_field="notice_date",
        count_allowance=False,
        # Never rescheduled (each move records its reason): the dates are those the plan was checked for.
        earlier_override_covers=not audit.reschedule_reason and notice_date == audit.planned_on,
        earlier_override_lapsed=_(
            "The earlier override was given for the notice as it stood then; an administrator must give a "
            "reason again to allow this notice."
        ),
    )
    audit.notice_date = notice_date
    audit.status = AuditStatus.NOTIFIED
    _validate_with(audit, _merged(_lifetime_errors(audit), clause))
    _record(audit, actor=actor, reason="Notified" + (" (override)" if _overrider(audit) != overrider_before else ""))
    return audit


@transaction.atomic
def reschedule_audit(
    *,
    audit: Audit,
    fieldwork_start: datetime.date,
    fieldwork_end: datetime.date,
    reason: str,
    actor,
    override_reason: str = "",
    today: datetime.date | None = None,
) -> Audit:
    """Move a planned or notified audit's fieldwork to new dates, from today on, with the reason (kept on
    the audit, and each move in its history). The new dates are checked against the clause as the audit
    was: the notice as if sent today while it is planned, from the notice on record once notified; the
    audits of the contract year the new start falls in, when it moves to another one (within its year it
    keeps its place); the contract's dates. An administrator may override the clause with a reason.

    An earlier override was given for the former dates: what the clause refuses on the new ones needs an
    administrator's reason again (the earlier one stays in the audit's history), while a move the clause
    does not refuse keeps the audit as it was allowed. An audit for cause stays allowed by its cause."""
    today = today or timezone.localdate()
    AuditRight.objects.select_for_update().get(pk=audit.audit_right_id)
    audit = Audit.objects.select_for_update().select_related("audit_right__contract").get(pk=audit.pk)
    if audit.status not in AuditStatus.reschedulable_values():
        raise ValidationError(
            _("The audit is %(status)s: only the fieldwork of a planned or notified audit can be rescheduled.")
            % {"status": audit.get_status_display()}
        )
    errors: dict[str, list] = {}
    reason = reason.strip()
    if not reason:
        errors["reason"] = [_("Say why the fieldwork is rescheduled.")]
    before = (audit.fieldwork_start, audit.fieldwork_end)
    overrider_before = _overrider(audit)
    if fieldwork_start < today:
        errors["fieldwork_start"] = [_("The fieldwork cannot move into the past: it starts today or later.")]
    elif (fieldwork_start, fieldwork_end) == before:
        errors["fieldwork_start"] = [_("These are already the fieldwork's dates.")]
    audit.fieldwork_start, audit.fieldwork_end = fieldwork_start, fieldwork_end
    audit.reschedule_reason = reason
    lifetime = _lifetime_errors(audit)
    if "fieldwork_start" in errors:
        lifetime.pop("fieldwork_start", None)
    else:
        right = audit.audit_right
        clause = _right_errors(
            audit,
            notice_date=audit.notice_date or today,
            actor=actor,
            override_reason=override_reason,
            count_allowance=allowance_year(right, fieldwork_start) != allowance_year(right, before[0]),
            earlier_override_lapsed=_(
                "The earlier override was given for the former dates; an administrator must give a reason "
                "again to allow these dates."
            ),
        )
        errors = _merged(errors, clause)
    _validate_with(audit, _merged(lifetime, errors))
    overridden = _overrider(audit) != overrider_before
    moved = f"{RESCHEDULED} from {before[0]} – {before[1]}" + (" (override)" if overridden else "")
    _record(audit, actor=actor, reason=f"{moved}: {reason}")
    return audit


def start_fieldwork_refusal(audit: Audit, *, today: datetime.date | None = None) -> str | None:
    """Why a notified audit's fieldwork cannot start today (None when it can): the notice was given for
    its first day, so it does not start earlier."""
    if (today or timezone.localdate()) < audit.fieldwork_start:
        return _("The fieldwork starts on %(start)s, as the notice says: it cannot start earlier.") % {
            "start": formats.date_format(audit.fieldwork_start, "SHORT_DATE_FORMAT")
        }
    return None


@transaction.atomic
def start_fieldwork(*, audit: Audit, actor, today: datetime.date | None = None) -> Audit:
    """notified → fieldwork, from the fieldwork's first day: the notice was given for that day."""
    audit = _locked_audit(audit, AuditStatus.NOTIFIED)
    if refusal := start_fieldwork_refusal(audit, today=today):
        raise ValidationError(refusal)
    audit.status = AuditStatus.FIELDWORK
    _save(audit, actor=actor, reason="Fieldwork started")
    return audit


def report_refusal(audit: Audit) -> str | None:
    """Why the audit's report cannot be recorded yet (None otherwise): its fieldwork has not started. A
    report may come before the fieldwork's planned end, since fieldwork can end early."""
    if audit.status in (AuditStatus.PLANNED, AuditStatus.NOTIFIED):
        return _(
            "The fieldwork has not started (the audit is %(status)s): the report is recorded once it has, "
            "from %(start)s on."
        ) % {
            "status": str(audit.get_status_display()).lower(),
            "start": formats.date_format(audit.fieldwork_start, "SHORT_DATE_FORMAT"),
        }
    return None


@transaction.atomic
def report_audit(
    *, audit: Audit, report_date: datetime.date, report_summary: str, actor, today: datetime.date | None = None
) -> Audit:
    """Record the audit's report (fieldwork → reported), refused before the fieldwork has started. Its date
    is between the fieldwork's start and today (before its planned end, if it ended early). The findings'
    remediation days are counted again, from the report or from the day each was recorded if later, unless a
    due date was set by hand with a reason or the finding is already settled."""
    audit = _locked_audit(audit, AuditStatus.FIELDWORK, refusal=report_refusal)
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
    derived = (
        audit.findings.select_for_update()
        .filter(due_date_set_by_hand=False)
        .exclude(status__in=FindingStatus.settled_values())
        .order_by("pk")
    )
    for finding in derived:
        counted_from = _remediation_counted_from(audit, recorded_on=finding.recorded_on)
        due_date = _clause_due_date(audit, finding.severity, counted_from=counted_from)
        if finding.due_date == due_date:
            continue
        finding.due_date = due_date
        if counted_from == report_date:
            why = f"Due date {due_date}: counted from the report of {report_date}"
        else:
            why = f"Due date {due_date}: counted from its recording on {counted_from}, after the report"
        _save(finding, actor=actor, reason=why)
    return audit


def close_refusal(audit: Audit) -> str | None:
    """Why a reported audit cannot close (None when it can): a finding is neither verified nor
    risk-accepted."""
    unsettled = list(
        audit.findings.exclude(status__in=FindingStatus.settled_values())
        .order_by("number")
        .values_list("number", flat=True)
    )
    if not unsettled:
        return None
    return ngettext(
        "Finding %(numbers)s is neither verified nor risk-accepted; the audit stays open.",
        "Findings %(numbers)s are neither verified nor risk-accepted; the audit stays open.",
        len(unsettled),
    ) % {"numbers": ", ".join(str(n) for n in unsettled)}


@transaction.atomic
def close_audit(*, audit: Audit, actor) -> Audit:
    """Close a reported audit; refused while a finding is neither verified nor risk-accepted."""
    audit = _locked_audit(audit, AuditStatus.REPORTED)
    if refusal := close_refusal(audit):
        raise ValidationError(refusal)
    audit.status = AuditStatus.CLOSED
    _save(audit, actor=actor, reason="Closed")
    return audit


@transaction.atomic
def cancel_audit(*, audit: Audit, reason: str, actor) -> Audit:
    """Cancel an audit before its fieldwork (planned or notified), with the reason. A cancelled audit does
    not use up its contract year's allowance."""
    audit = Audit.objects.select_for_update().get(pk=audit.pk)
    if audit.status not in AuditStatus.cancellable_values():
        raise ValidationError(
            _("The audit is %(status)s: only a planned or notified audit can be cancelled.")
            % {"status": audit.get_status_display()}
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the audit is cancelled.")})
    audit.status = AuditStatus.CANCELLED
    audit.cancellation_reason = reason.strip()
    audit.cancelled_by = actor
    audit.cancelled_at = timezone.now()
    _save(audit, actor=actor, reason=f"Cancelled: {reason.strip()}")
    return audit


ROUTINE_REASON_MAX_LENGTH = 60


@transaction.atomic
def set_audit_for_cause(
    *,
    audit: Audit,
    actor,
    for_cause: bool,
    reason: str,
    override_reason: str = "",
    today: datetime.date | None = None,
) -> Audit:
    """Hold an audit for cause, or count it as a routine audit again (administrators only, with the reason),
    while it is planned, notified or in fieldwork; the change is in the audit's history with who and when.

    Held for cause, the reason is its cause, kept on the audit with the administrator as its override
    reason (an earlier override stays in the history), and the audit no longer counts against its contract
    year's allowance. Counted as routine again, its cause no longer allows it: it is checked against the
    clause as a routine audit (the allowance of its contract year, its type and auditor, the notice on
    record or as if sent today) and what the clause refuses needs an administrator's override reason."""
    if not may_override(actor):
        raise PermissionDenied
    today = today or timezone.localdate()
    AuditRight.objects.select_for_update().get(pk=audit.audit_right_id)
    audit = Audit.objects.select_for_update().select_related("audit_right__contract").get(pk=audit.pk)
    if audit.status not in AuditStatus.reclassifiable_values():
        raise ValidationError(
            _(
                "The audit is %(status)s: whether it is held for cause changes only while it is planned, notified "
                "or in fieldwork."
            )
            % {"status": audit.get_status_display()}
        )
    errors: dict[str, list] = {}
    if for_cause == audit.for_cause:
        errors["for_cause"] = [
            _("The audit is already held for cause.") if for_cause else _("The audit is already a routine audit.")
        ]
    reason = reason.strip()
    if not reason:
        errors["reason"] = [
            _(
                "Give the cause of the audit (e.g. a security incident, a regulator's written demand, "
                "suspected fraud): it is kept on the audit."
            )
            if for_cause
            else _("Say why the audit is no longer held for cause.")
        ]
    elif not for_cause and len(reason) > ROUTINE_REASON_MAX_LENGTH:
        # Counted as routine, the reason is kept in the history only, whose reason holds 100 characters.
        errors["reason"] = [
            _("At most %(count)s characters: the reason is kept in the audit's history.")
            % {"count": ROUTINE_REASON_MAX_LENGTH}
        ]
    if errors:
        raise ValidationError(errors)
    if for_cause:
        audit.for_cause = True
        audit.override_reason, audit.overridden_by = reason, actor
        _validate_with(audit, {})
        _record(audit, actor=actor, reason=f"Held for cause: {reason}")
        return audit
    # The cause allowed the audit; as a routine audit it fits the clause or an administrator overrides it.
    audit.for_cause = False
    audit.override_reason, audit.overridden_by = "", None
    clause = _right_errors(audit, notice_date=audit.notice_date or today, actor=actor, override_reason=override_reason)
    _validate_with(audit, clause)
    counted = "Counted as routine" + (" (override)" if audit.override_reason else "")
    _record(audit, actor=actor, reason=f"{counted}: {reason}")
    return audit


@transaction.atomic
def update_audit(*, audit: Audit, changes: dict, actor) -> Audit:
    """Correct what an audit records (AUDIT_EDITABLE_FIELDS: its reference, auditors, scope and cost) until
    it is closed or cancelled. A recorded cost keeps its currency: the amount was recorded in it, and
    changing the currency alone would restate it in another one. Nothing is written when nothing changes."""
    audit = Audit.objects.select_for_update().select_related("audit_right__contract").get(pk=audit.pk)
    changed = _changed_fields(audit, changes)
    if not changed:
        return audit
    if unknown := sorted(set(changed) - set(AUDIT_EDITABLE_FIELDS)):
        raise ValueError(f"Not a field update_audit changes: {', '.join(unknown)}")
    errors: dict[str, list] = {}
    if "cost_currency" in changed and audit.cost is not None:
        errors["cost_currency"] = [
            _("A cost of %(amount)s is recorded: its currency does not change.")
            % {"amount": money(audit.cost, audit.cost_currency)}
        ]
    for name in changed:
        setattr(audit, name, changes[name])
    _validate_with(audit, errors)
    _record(audit, actor=actor, reason="Changed: " + ", ".join(changed))
    return audit


# Findings ------------------------------------------------------------------------------------------


def _remediation_counted_from(audit: Audit, *, recorded_on: datetime.date) -> datetime.date:
    """The day a finding's remediation days count from: the audit's report date, or the day the finding
    was recorded if later (a finding recorded after the report is not born overdue); until the report,
    the recording day."""
    if audit.report_date is None:
        return recorded_on
    return max(audit.report_date, recorded_on)


def _clause_due_date(audit: Audit, severity: str, *, counted_from: datetime.date) -> datetime.date:
    return counted_from + datetime.timedelta(days=audit.audit_right.remediation_days(severity))


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
    owner=None,
    vendor_contact=None,
    addressed_to_vendor: bool = True,
    clause_breached: str = "",
    discrepancy_pct: Decimal | None = None,
    recovery_amount: Decimal | None = None,
    today: datetime.date | None = None,
) -> Finding:
    """A finding of an audit in fieldwork or reported. Its due date is the clause's remediation days for
    its severity, counted from the report date or from today if later (until the report, from today: the
    report counts them again); a different one is set afterwards with change_finding_due_date. A
    financial discrepancy at or above the clause's threshold makes the audit's cost recoverable. The
    finding's own rules are refused together (amounts, owner, vendor contact)."""
    today = today or timezone.localdate()
    audit = Audit.objects.select_for_update().select_related("audit_right").get(pk=audit.pk)
    if audit.status not in (AuditStatus.FIELDWORK, AuditStatus.REPORTED):
        raise ValidationError(_("Findings are recorded during fieldwork or in the report."))
    counted_from = _remediation_counted_from(audit, recorded_on=today)
    due_date = _clause_due_date(audit, severity, counted_from=counted_from)
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
        recorded_on=today,
        due_date=due_date,
        status=FindingStatus.OPEN,
    )
    _save(finding, actor=actor, reason="Recorded")
    _flag_cost_recoverable(audit, discrepancy_pct, actor=actor)
    return finding


@transaction.atomic
def update_finding(*, finding: Finding, changes: dict, actor) -> Finding:
    """Correct what a finding says (FINDING_EDITABLE_FIELDS) while it is not settled: a verified or
    risk-accepted finding is frozen. A new severity moves a due date that comes from the clause to the
    new severity's remediation days, from the same day (the report, or the recording day if later).
    Nothing is written when nothing changes."""
    finding = Finding.objects.select_for_update().select_related("audit__audit_right").get(pk=finding.pk)
    changed = _changed_fields(finding, changes)
    if not changed:
        return finding
    if unknown := sorted(set(changed) - set(FINDING_EDITABLE_FIELDS)):
        raise ValueError(f"Not a field update_finding changes: {', '.join(unknown)}")
    if finding.status in FindingStatus.settled_values():
        message = _("The finding is %(status)s: a settled finding can no longer be changed.") % {
            "status": finding.get_status_display()
        }
        raise ValidationError(dict.fromkeys(changed, message))
    if "severity" in changed and not finding.due_date_set_by_hand:
        counted_from = _remediation_counted_from(finding.audit, recorded_on=finding.recorded_on)
        finding.due_date = _clause_due_date(finding.audit, changes["severity"], counted_from=counted_from)
    for name in changed:
        setattr(finding, name, changes[name])
    _save(finding, actor=actor, reason="Changed: " + ", ".join(changed))
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


# The reason for a new due date is kept in the finding's history only, whose reason holds 100 characters, after
# "Due date YYYY-MM-DD: ".
DUE_DATE_REASON_MAX_LENGTH = 75


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
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the remediation due date changes."))
    if len(reason) > DUE_DATE_REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "reason": _("At most %(count)s characters: the reason is kept in the finding's history.")
                % {"count": DUE_DATE_REASON_MAX_LENGTH}
            }
        )
    finding.due_date = due_date
    finding.due_date_set_by_hand = True
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
def verify_finding(*, finding: Finding, actor, note: str = "") -> Finding:
    """Confirm a remediated finding's evidence, with an optional note shown with the finding."""
    finding = _locked_finding(finding, FindingStatus.VERIFIED, actor=actor, step=permissions.VERIFY)
    finding.status = FindingStatus.VERIFIED
    finding.verification_note = note.strip()
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
    finding.risk_acceptance_reason = reason.strip()
    _save(finding, actor=actor, reason=f"Risk accepted: {reason}")
    return finding
