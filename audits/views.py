"""Web pages of audits: the audits a user may see, an audit with its right, timeline and findings, and
the actions on them (plan, notify, reschedule the fieldwork, start it, report, close, cancel, hold for cause
or count as routine; record a
finding, change its due date, plan its remediation, mark it remediated, verify it, accept its risk), and
the page where the vendor's users answer a finding addressed to their vendor.

Every queryset goes through accounts.scoping.restrict, so an audit of a contract the user may not see
is a 404 (never a 403 that would confirm it exists). The audit pages need `audits.view_audit` (vendor
users keep their "Findings addressed to my vendor" page and the finding's page below). Who may run an
audit action is what the REST API decides for it (`api_rule`: the action's `action_rule`, or a create's
model add permission); who takes a finding's step is audits.permissions (the API's rule too), which lets
a vendor user of the finding's vendor record the plan and mark it remediated. Both are checked once the
row was found in scope. Each action calls exactly one function of audits.services and shows the
service's ValidationError on the page, each message under the field it names; nothing here re-implements
its rules. A step that cannot succeed now (the fieldwork before its first day, a close with unsettled
findings) is shown disabled with the service's reason (its `refusal`), not offered to fail.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.scoping import restrict
from audits import forms as audit_forms
from audits import permissions, services
from audits.api.views import AuditViewSet, FindingViewSet
from audits.choices import Auditor, AuditStatus, AuditType, FindingStatus
from audits.filtersets import AuditFilterSet
from audits.models import Audit, AuditRight, Finding
from audits.selectors import (
    allowance_uses,
    audit_right_ends_on,
    clause_changes_since,
    fieldwork_moves,
    latest_notice_date,
)
from config.api import has_model_permission
from governance.models import ActionItem

VIEW_AUDITS = "audits.view_audit"


def api_rule(viewset, action: str) -> Callable:
    """The rule the REST API applies to `action` of `viewset` (config.api.RolePermission): the action's
    own `action_rule`, or for a create the model's add permission."""
    if action == "create":
        return has_model_permission(viewset.queryset.model, "add")
    return getattr(viewset, action).kwargs["action_rule"]


# Scoped querysets -----------------------------------------------------------------------------------


def visible_audits(user):
    return restrict(Audit.objects.all(), user)


def get_audit(user, pk: int) -> Audit:
    return get_object_or_404(
        visible_audits(user).select_related("audit_right__contract__vendor", "lead_auditor", "overridden_by"), pk=pk
    )


def get_finding(user, pk: int) -> Finding:
    return get_object_or_404(
        restrict(Finding.objects.all(), user).select_related(
            "audit__audit_right__contract__vendor", "owner", "vendor_contact"
        ),
        pk=pk,
    )


def _unsettled() -> Q:
    return ~Q(findings__status__in=FindingStatus.settled_values())


# The audits ----------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_AUDITS, raise_exception=True)
@require_GET
def audit_list(request):
    """The audits the user may see, filtered by contract and status, with their open and overdue findings."""
    form = audit_forms.AuditFilterForm(request.GET, user=request.user)
    cleaned = form.cleaned_data if form.is_valid() else {}
    filters = {
        "contract": cleaned["contract"].pk if cleaned.get("contract") else "",
        "status": cleaned.get("status", ""),
    }
    today = timezone.localdate()
    audits = (
        AuditFilterSet(data=filters, queryset=visible_audits(request.user))
        .qs.select_related("audit_right__contract__vendor", "lead_auditor")
        .annotate(
            open_findings=Count("findings", filter=_unsettled(), distinct=True),
            overdue_findings=Count("findings", filter=_unsettled() & Q(findings__due_date__lt=today), distinct=True),
        )
        .order_by("-fieldwork_start", "reference")
    )
    return render(
        request,
        "audits/audit_list.html",
        {"form": form, "audits": list(audits), "active_section": "audits"},
    )


# What each audit action is: the API action whose rule applies, the service, the input, the texts.


@dataclass(frozen=True)
class ActionSpec:
    api_action: str
    service: Callable
    form: type[forms.Form]
    title: Promise
    button: Promise
    explanation: Promise
    done: Promise
    # Shown on the page for these statuses (the service decides whether the step may run).
    offered_for: tuple[str, ...] = ()
    # Why the step cannot run now although the status allows it (None when it can): the service's own check.
    refusal: Callable[[Audit, datetime.date], str | None] | None = None


AUDIT_ACTIONS: dict[str, ActionSpec] = {
    "notify": ActionSpec(
        api_action="notify",
        service=services.notify_audit,
        form=audit_forms.NoticeForm,
        title=_("Record the notice sent to the vendor"),
        button=_("Record the notice"),
        explanation=_(
            "The notice date is checked against the audit right's notice period again (the audits this contract "
            "year were counted when the fieldwork's dates were set); the audit becomes notified."
        ),
        done=_("The notice was recorded: the audit is notified."),
        offered_for=(AuditStatus.PLANNED,),
    ),
    "reschedule": ActionSpec(
        api_action="reschedule",
        service=services.reschedule_audit,
        form=audit_forms.RescheduleForm,
        title=_("Reschedule the fieldwork"),
        button=_("Reschedule the fieldwork"),
        explanation=_(
            "The new dates are checked against the audit right: the notice (as if sent today while the audit "
            "is planned, from the notice on record once it is notified), the audits of the contract year it "
            "moves to (within its year it keeps its place) and the contract's dates. The reason is kept on the "
            "audit and in its history."
        ),
        done=_("The fieldwork was rescheduled."),
        offered_for=tuple(AuditStatus.reschedulable_values()),
    ),
    "start-fieldwork": ActionSpec(
        api_action="start_fieldwork",
        service=services.start_fieldwork,
        form=audit_forms.ConfirmForm,
        title=_("Start the fieldwork"),
        button=_("Start the fieldwork"),
        explanation=_("The notified audit goes into fieldwork; findings can then be recorded."),
        done=_("The fieldwork has started."),
        offered_for=(AuditStatus.NOTIFIED,),
        refusal=lambda audit, today: services.start_fieldwork_refusal(audit, today=today),
    ),
    "report": ActionSpec(
        api_action="report",
        service=services.report_audit,
        form=audit_forms.ReportForm,
        title=_("Record the audit's report"),
        button=_("Record the report"),
        explanation=_("The audit in fieldwork becomes reported; findings can still be recorded with the report."),
        done=_("The report was recorded."),
        offered_for=(AuditStatus.FIELDWORK,),
    ),
    "close": ActionSpec(
        api_action="close",
        service=services.close_audit,
        form=audit_forms.ConfirmForm,
        title=_("Close the audit"),
        button=_("Close the audit"),
        explanation=_("A reported audit is closed once every finding is verified or its risk accepted."),
        done=_("The audit was closed."),
        offered_for=(AuditStatus.REPORTED,),
        refusal=lambda audit, today: services.close_refusal(audit),
    ),
    "cancel": ActionSpec(
        api_action="cancel",
        service=services.cancel_audit,
        form=audit_forms.CancelAuditForm,
        title=_("Cancel the audit"),
        button=_("Cancel the audit"),
        explanation=_(
            "A planned or notified audit is cancelled with its reason; it no longer counts against the "
            "audits the clause allows this contract year."
        ),
        done=_("The audit was cancelled."),
        offered_for=tuple(AuditStatus.cancellable_values()),
    ),
    "for-cause": ActionSpec(
        api_action="for_cause",
        service=services.set_audit_for_cause,
        form=audit_forms.ForCauseForm,
        title=_("Hold the audit for cause, or count it as routine"),
        button=_("For cause or routine"),
        explanation=_(
            "An audit held for cause (a security incident, a regulator's written demand, suspected fraud, a "
            "material breach) does not count against the audits the clause allows each contract year; the "
            "reason is its cause. Counted as routine again, it is checked against the clause as any routine "
            "audit, and what the clause refuses needs an override reason. The change is kept in its history."
        ),
        done=_("Whether the audit is held for cause was changed."),
        offered_for=tuple(AuditStatus.reclassifiable_values()),
    ),
}

_NOT_SETTLED = tuple(s for s in FindingStatus.values if s not in FindingStatus.settled_values())

FINDING_ACTIONS: dict[str, ActionSpec] = {
    "due-date": ActionSpec(
        api_action="due_date",
        service=services.change_finding_due_date,
        form=audit_forms.DueDateForm,
        title=_("Change the remediation due date"),
        button=_("Change the due date"),
        explanation=_("The new date and its reason are kept in the finding's history."),
        done=_("The remediation due date was changed."),
        offered_for=_NOT_SETTLED,
    ),
    "plan-remediation": ActionSpec(
        api_action="plan_remediation",
        service=services.plan_remediation,
        form=audit_forms.RemediationPlanForm,
        title=_("Record the remediation plan"),
        button=_("Record the plan"),
        explanation=_("An open finding gets its remediation plan."),
        done=_("The remediation plan was recorded."),
        offered_for=services.FINDING_TRANSITIONS[FindingStatus.REMEDIATION_PLANNED],
    ),
    "remediate": ActionSpec(
        api_action="remediate",
        service=services.mark_remediated,
        form=audit_forms.EvidenceForm,
        title=_("Mark the finding remediated"),
        button=_("Mark remediated"),
        explanation=_("Give the evidence of remediation; the finding then waits for verification."),
        done=_("The finding was marked remediated."),
        offered_for=services.FINDING_TRANSITIONS[FindingStatus.REMEDIATED],
    ),
    "verify": ActionSpec(
        api_action="verify",
        service=services.verify_finding,
        form=audit_forms.VerifyForm,
        title=_("Verify the remediation"),
        button=_("Verify"),
        explanation=_("You confirm the evidence shows the finding is remediated; your name and the time are kept."),
        done=_("The finding was verified."),
        offered_for=services.FINDING_TRANSITIONS[FindingStatus.VERIFIED],
    ),
    "accept-risk": ActionSpec(
        api_action="accept_risk",
        service=services.accept_risk,
        form=audit_forms.RiskAcceptanceForm,
        title=_("Accept the finding's risk"),
        button=_("Accept the risk"),
        explanation=_("The finding is settled without remediation; the reason is kept in its history."),
        done=_("The risk was accepted."),
        offered_for=services.FINDING_TRANSITIONS[FindingStatus.RISK_ACCEPTED],
    ),
}


def _allowed(user, viewset, spec_or_action) -> bool:
    action = spec_or_action.api_action if isinstance(spec_or_action, ActionSpec) else spec_or_action
    return bool(api_rule(viewset, action)(user))


def audit_step_refusal(spec: ActionSpec, audit: Audit, today: datetime.date) -> str | None:
    """Why `spec`'s step cannot run on `audit` today, or None when it can."""
    if audit.status not in spec.offered_for:
        return _("The audit is %(status)s: this step is not available.") % {"status": audit.get_status_display()}
    return spec.refusal(audit, today) if spec.refusal else None


def finding_actions(user, finding: Finding) -> list[tuple[str, ActionSpec]]:
    """The steps `user` may take on `finding` now (audits.permissions; offered for its status)."""
    return [
        (key, spec)
        for key, spec in FINDING_ACTIONS.items()
        if finding.status in spec.offered_for and permissions.may_take_step(user, finding, spec.api_action)
    ]


def _run(form: forms.Form, call: Callable):
    """Call the service; its ValidationError becomes the form's errors (None is returned then)."""
    try:
        return call()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return None


def _posted(request):
    return request.POST if request.method == "POST" else None


# An audit's page ------------------------------------------------------------------------------------


def audit_details(user, audit: Audit, *, today: datetime.date | None = None) -> dict:
    """Everything the audit's page shows, in a fixed number of queries whatever its findings."""
    today = today or timezone.localdate()
    findings = list(
        restrict(Finding.objects.filter(audit=audit), user)
        .select_related("owner", "vendor_contact", "verified_by")
        .prefetch_related(
            Prefetch(
                "action_items",
                queryset=restrict(ActionItem.objects.all(), user)
                .select_related("owner", "owner_contact")
                .order_by("due_date", "pk"),
            )
        )
        .order_by("number")
    )
    for finding in findings:
        finding.is_overdue = finding.status not in FindingStatus.settled_values() and finding.due_date < today
        finding.actions = finding_actions(user, finding)
    closed_on = None
    if audit.status == AuditStatus.CLOSED:
        closed_on = (
            audit.history.filter(status=AuditStatus.CLOSED)
            .order_by("history_date")
            .values_list("history_date", flat=True)
            .first()
        )
    return {
        "audit": audit,
        "right": audit.audit_right,
        "contract": audit.audit_right.contract,
        "findings": findings,
        "open_count": sum(1 for f in findings if f.status not in FindingStatus.settled_values()),
        "overdue_count": sum(1 for f in findings if f.is_overdue),
        "notice_due_by": latest_notice_date(audit) if audit.status == AuditStatus.PLANNED else None,
        "closed_on": closed_on,
        "clause_changes": clause_changes_since(audit.audit_right, audit.created_at),
        "allowance": allowance_uses([audit.audit_right], audit.fieldwork_start)[audit.audit_right_id],
        "right_ends_on": audit_right_ends_on(audit.audit_right),
        "fieldwork_moves": fieldwork_moves(audit),
        "audit_actions": [
            (key, spec, audit_step_refusal(spec, audit, today))
            for key, spec in AUDIT_ACTIONS.items()
            if audit.status in spec.offered_for and _allowed(user, AuditViewSet, spec)
        ],
        "can_record_finding": audit.status in (AuditStatus.FIELDWORK, AuditStatus.REPORTED)
        and _allowed(user, FindingViewSet, "create"),
        "today": today,
        "active_section": "audits",
    }


@login_required
@permission_required(VIEW_AUDITS, raise_exception=True)
@require_GET
def audit_detail(request, pk: int):
    audit = get_audit(request.user, pk)
    return render(request, "audits/audit_detail.html", audit_details(request.user, audit))


# Actions --------------------------------------------------------------------------------------------


def _action_page(
    request, *, audit: Audit, form, spec_title, button, explanation, finding=None, refusal=None, status=200
):
    """The confirmation page of an action; a vendor user's leads back to the finding's page. A step that
    cannot run now shows why, and its button is disabled."""
    for_vendor = request.user.is_vendor_user
    return render(
        request,
        "audits/action.html",
        {
            "audit": audit,
            "contract": audit.audit_right.contract,
            "finding": finding,
            "form": form,
            "title": spec_title,
            "button": button,
            "explanation": explanation,
            "refusal": refusal,
            "for_vendor": for_vendor,
            "active_section": "findings" if for_vendor else "audits",
        },
        status=status,
    )


@login_required
@permission_required(VIEW_AUDITS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def audit_action(request, pk: int, action: str):
    """Notify, reschedule, start the fieldwork, report, close, cancel or hold for cause an audit: a
    confirmation (with the step's input), then the one service."""
    spec = AUDIT_ACTIONS.get(action)
    if spec is None:
        raise Http404
    audit = get_audit(request.user, pk)
    if not _allowed(request.user, AuditViewSet, spec):
        raise PermissionDenied
    form = spec.form(_posted(request), user=request.user, audit=audit)
    if request.method == "POST" and form.is_valid():
        done = _run(form, lambda: spec.service(audit=audit, actor=request.user, **form.cleaned_data))
        if done is not None:
            messages.success(request, spec.done)
            return redirect("audits:detail", pk=audit.pk)
    return _action_page(
        request,
        audit=audit,
        form=form,
        spec_title=spec.title,
        button=spec.button,
        explanation=spec.explanation,
        refusal=None if form.errors else audit_step_refusal(spec, audit, timezone.localdate()),
    )


@login_required
@require_http_methods(["GET", "POST"])
def finding_action(request, pk: int, action: str):
    """Change a finding's due date, plan its remediation, mark it remediated, verify it or accept its risk.

    Open to whoever audits.permissions lets take the step, vendor users of the finding's vendor included
    (plan and remediation): they come back to the finding's page, the customer's side to the audit's."""
    spec = FINDING_ACTIONS.get(action)
    if spec is None:
        raise Http404
    finding = get_finding(request.user, pk)
    if not permissions.may_take_step(request.user, finding, spec.api_action):
        raise PermissionDenied
    form = spec.form(_posted(request), user=request.user, audit=finding.audit)
    if request.method == "POST" and form.is_valid():
        done = _run(form, lambda: spec.service(finding=finding, actor=request.user, **form.cleaned_data))
        if done is not None:
            messages.success(request, spec.done)
            if request.user.is_vendor_user:
                return redirect("audits:finding", pk=finding.pk)
            return redirect(f"{_detail_url(finding.audit_id)}#finding-{finding.pk}")
    return _action_page(
        request,
        audit=finding.audit,
        finding=finding,
        form=form,
        spec_title=spec.title,
        button=spec.button,
        explanation=spec.explanation,
    )


def _detail_url(audit_id: int) -> str:
    return reverse("audits:detail", args=[audit_id])


@login_required
@require_GET
def finding_detail(request, pk: int):
    """A finding as the vendor's users see it, with the forms of the steps they may take now (record the
    plan, mark it remediated: audits.permissions), which post to `finding_action`. The customer's side
    follows findings on their audit's page and is sent to the finding's row there."""
    finding = get_finding(request.user, pk)
    if not request.user.is_vendor_user:
        return redirect(f"{_detail_url(finding.audit_id)}#finding-{finding.pk}")
    today = timezone.localdate()
    return render(
        request,
        "audits/finding_detail.html",
        {
            "finding": finding,
            "audit": finding.audit,
            "contract": finding.audit.audit_right.contract,
            "is_overdue": finding.status not in FindingStatus.settled_values() and finding.due_date < today,
            "action_forms": [
                (key, spec, spec.form(user=request.user, audit=finding.audit))
                for key, spec in finding_actions(request.user, finding)
            ],
            "active_section": "findings",
        },
    )


@login_required
@permission_required(VIEW_AUDITS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def record_finding(request, pk: int):
    """A new finding of an audit (services.record_finding numbers it and sets its due date from the clause)."""
    audit = get_audit(request.user, pk)
    if not _allowed(request.user, FindingViewSet, "create"):
        raise PermissionDenied
    form = audit_forms.FindingForm(_posted(request), audit=audit, user=request.user)
    if request.method == "POST" and form.is_valid():
        finding = _run(form, lambda: services.record_finding(audit=audit, actor=request.user, **form.cleaned_data))
        if finding is not None:
            messages.success(
                request,
                _("Finding %(number)s was recorded; remediation due on %(day)s.")
                % {"number": finding.number, "day": date_format(finding.due_date, "SHORT_DATE_FORMAT")},
            )
            return redirect(f"{_detail_url(audit.pk)}#finding-{finding.pk}")
    return _action_page(
        request,
        audit=audit,
        form=form,
        spec_title=_("Record a finding"),
        button=_("Record the finding"),
        explanation=_(
            "The finding is numbered in its audit and due after the clause's remediation days for its severity, "
            "counted from the report or from today if later (from today until the report is recorded); change "
            "the due date afterwards with a reason. A financial discrepancy at or above the clause's threshold "
            "makes the audit's cost recoverable from the vendor."
        ),
    )


@login_required
@permission_required(VIEW_AUDITS, raise_exception=True)
@require_GET
def choose_audit_right(request):
    """Plan an audit from the audits list: the audit rights of the contracts the user sees whose audits may
    still be held (until the records retention after the contract's end), each leading to its planning page.
    For who may plan one (the planning page's rule), like that page."""
    if not _allowed(request.user, AuditViewSet, "create"):
        raise PermissionDenied
    today = timezone.localdate()
    rights = [
        right
        for right in restrict(AuditRight.objects.all(), request.user)
        .select_related("contract__vendor")
        .order_by("contract__reference", "clause_reference", "pk")
        if audit_right_ends_on(right) >= today
    ]
    for right in rights:
        right.ends_on = audit_right_ends_on(right)
    return render(request, "audits/plan_choose.html", {"rights": rights, "active_section": "audits"})


@login_required
@permission_required(VIEW_AUDITS, raise_exception=True)
@require_http_methods(["GET", "POST"])
def plan_audit(request, pk: int):
    """Plan an audit under an audit right of a contract (services.plan_audit checks it against the clause)."""
    right = get_object_or_404(
        restrict(AuditRight.objects.all(), request.user).select_related("contract__vendor"), pk=pk
    )
    if not _allowed(request.user, AuditViewSet, "create"):
        raise PermissionDenied
    form = audit_forms.PlanAuditForm(_posted(request), right=right, user=request.user)
    if request.method == "POST" and form.is_valid():
        audit = _run(form, lambda: services.plan_audit(audit_right=right, actor=request.user, **form.cleaned_data))
        if audit is not None:
            messages.success(request, _("Audit %(reference)s was planned.") % {"reference": audit.reference})
            return redirect("audits:detail", pk=audit.pk)
    return render(
        request,
        "audits/plan_audit.html",
        {
            "right": right,
            "contract": right.contract,
            "form": form,
            "allowance": allowance_uses([right], timezone.localdate())[right.pk],
            "right_ends_on": audit_right_ends_on(right),
            "scopes": _labels(AuditType, right.scopes),
            "allowed_auditors": _labels(Auditor, right.allowed_auditors),
            "active_section": "audits",
        },
    )


def _labels(choices, values: list[str]) -> list[str]:
    """The clause's stored values (e.g. "sla_data") as their labels."""
    return [str(choices(value).label) if value in choices.values else value for value in values]
