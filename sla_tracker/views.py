"""Web pages of penalty statements: the monthly report, a statement with its actions, a contract's year.

Every queryset goes through accounts.scoping.restrict, so a user reaches only the statements of the
contracts they may see (another vendor's statement is a 404, never a 403 that would confirm it
exists). Vendor users see statements once procurement has submitted them (accounts.scoping).
Each action calls exactly one service and shows the service's ValidationError on the page. Lines and
adjustments carried in are disputed, waived (their waivers withdrawn) and their disputes resolved through the
same pages. A dispute's evidence file is served by its evidence view only, to those who may see its statement.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Max, Prefetch
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.text import format_lazy, get_valid_filename
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.choices import Role
from accounts.roles import reviews_statements
from accounts.scoping import restrict
from contracts.models import Contract, Vendor
from contracts.months import last_day_of_month, month_label
from sla_tracker import exports
from sla_tracker.choices import (
    ApprovalStatus,
    DisputeStatus,
    StatementStatus,
    TerminationTriggerType,
)
from sla_tracker.completeness import completeness
from sla_tracker.evidence import ALLOWED_EXTENSIONS, EVIDENCE_TYPES, evidence_download, validate_evidence
from sla_tracker.explanations import readable
from sla_tracker.filtersets import PenaltyStatementFilterSet
from sla_tracker.kpi_import.access import contracts_for_kpi_reading
from sla_tracker.models import (
    AdjustmentDispute,
    CloseRefusal,
    Exclusion,
    Incident,
    LineDispute,
    PenaltyStatement,
    ServiceLevel,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
)
from sla_tracker.penalty_inputs import differences_on_record
from sla_tracker.services import (
    REASON_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    approve_statement,
    check_adjustment_disputable,
    check_adjustment_waivable,
    check_line_disputable,
    check_line_waivable,
    check_waiver_withdrawal,
    dispute_adjustment,
    dispute_line,
    later_close_carrying,
    later_closes_carrying,
    mark_statement_invoiced,
    reopen_statement,
    resolve_adjustment_dispute,
    resolve_dispute,
    settle_outside_statements,
    submit_statement,
    waive_adjustment,
    waive_line,
    waived_in_accepting_a_dispute,
    withdraw_adjustment_waiver,
    withdraw_line_waiver,
)
from sla_tracker.views_exclusions import optional_month, statement_action_warnings, statement_exclusions

CHANGE_STATEMENTS = "sla_tracker.change_penaltystatement"
REPORT_PAGE_SIZE = 100
FILENAME_SEPARATORS = re.compile(r"[/\\:]")


# Scoped querysets -----------------------------------------------------------------------------------


def visible_statements(user):
    return restrict(PenaltyStatement.objects.all(), user)


def differences_waiting(user) -> list[PenaltyStatement]:
    """The approved or invoiced statements `user` reviews whose latest recomputation left a difference
    waiting for an open statement (its "pending" event), oldest month first; each with `waiting` (the
    total, in favour of the vendor when positive) and `settle_outside` (no later close will carry it: the
    contract has ended; it is settled outside the statements, e.g. by a credit note, and recorded so)."""
    if not reviews_statements(user):
        return []
    locked = visible_statements(user).filter(status__in=(StatementStatus.APPROVED, StatementStatus.INVOICED))
    pending, _settled = differences_on_record(locked)
    statements = list(
        PenaltyStatement.objects.filter(pk__in=list(pending))
        .select_related("contract__vendor")
        .order_by("month", "contract__reference")
    )
    carrying = later_closes_carrying(statements)
    for statement in statements:
        statement.waiting = sum((Decimal(amount) for amount in pending[statement.pk].values()), Decimal("0.00"))
        statement.settle_outside = not carrying[statement.pk]
    return statements


def close_refusals(user, contract: Contract | None = None) -> list[CloseRefusal]:
    """The months the close could not compute, for those who act on them: procurement and administrators
    (all contracts), vendor managers (their own); latest month first. Vendor users, auditors and committee
    members are not told: nothing for them to do."""
    if not (reviews_statements(user) or user.role == Role.VENDOR_MANAGER):
        return []
    refusals = restrict(CloseRefusal.objects.all(), user)
    if contract is not None:
        refusals = refusals.filter(contract=contract)
    return list(refusals.select_related("contract__vendor").order_by("-month", "contract__reference"))


def visible_lines(user):
    return restrict(StatementLine.objects.all(), user)


def visible_disputes(user):
    return restrict(LineDispute.objects.all(), user)


def visible_adjustments(user):
    return restrict(StatementAdjustment.objects.all(), user)


def visible_adjustment_disputes(user):
    return restrict(AdjustmentDispute.objects.all(), user)


def get_statement(user, pk: int) -> PenaltyStatement:
    return get_object_or_404(
        visible_statements(user).select_related("contract__vendor", "submitted_by", "approved_by"), pk=pk
    )


# The report -----------------------------------------------------------------------------------------


class ReportFilterForm(forms.Form):
    month = forms.CharField(
        label=_("Month"), required=False, widget=forms.TextInput(attrs={"type": "month", "class": "form-control"})
    )
    to = forms.CharField(
        label=_("To (optional)"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "class": "form-control"}),
    )
    vendor = forms.ModelChoiceField(
        label=_("Vendor"),
        queryset=Vendor.objects.none(),
        required=False,
        empty_label=_("All vendors"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    contract = forms.ModelChoiceField(
        label=_("Contract"),
        queryset=Contract.objects.none(),
        required=False,
        empty_label=_("All contracts"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *StatementStatus.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = restrict(Vendor.objects.all(), user)
        self.fields["contract"].queryset = restrict(Contract.objects.all(), user)
        if user.is_vendor_user:  # vendors see statements once submitted (accounts.scoping): never a draft
            self.fields["status"].choices = [
                choice for choice in self.fields["status"].choices if choice[0] != StatementStatus.DRAFT
            ]

    def clean_month(self) -> datetime.date | None:
        return optional_month(self.cleaned_data["month"])

    def clean_to(self) -> datetime.date | None:
        return optional_month(self.cleaned_data["to"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first, last = cleaned.get("month"), cleaned.get("to")
        if last is not None and first is None and "month" not in self.errors:
            self.add_error("month", _("Give the first month of the period."))
        elif first is not None and last is not None and last < first:
            self.add_error("to", _("The period cannot end before its first month."))
        elif last == first:
            cleaned["to"] = None  # a period of one month is that month
        return cleaned


def report_data(request) -> dict[str, Any]:
    """The statements of the month (or of the period from ``month`` to ``to``) and the filters in the query
    string, with their totals per currency."""
    statements = visible_statements(request.user)
    data = request.GET.copy()
    if not data.get("month") and not data.get("to"):  # a period's end alone is refused: its first month is missing
        latest = statements.aggregate(latest=Max("month"))["latest"]
        data["month"] = month_label(latest) if latest else ""
    form = ReportFilterForm(data, user=request.user)
    cleaned = form.cleaned_data if form.is_valid() else {}
    month, to = cleaned.get("month"), cleaned.get("to")
    rows: list[PenaltyStatement] = []
    if month is not None:
        filters = {
            "month_after": month.isoformat(),
            "month_before": (to or month).isoformat(),
            "vendor": cleaned["vendor"].pk if cleaned.get("vendor") else "",
            "contract": cleaned["contract"].pk if cleaned.get("contract") else "",
            "status": cleaned.get("status", ""),
        }
        filterset = PenaltyStatementFilterSet(data=filters, queryset=statements.select_related("contract__vendor"))
        rows = list(filterset.qs.order_by("currency", "contract__reference", "month"))
    return {
        "form": form,
        "month": month,
        "to": to,
        "statements": rows,
        "totals": exports.totals_by_currency(rows),
        "query": _export_query(month, to, cleaned),
    }


def _export_query(month, to, cleaned: dict) -> str:
    params = {"month": month_label(month) if month else "", "to": month_label(to) if to else ""}
    for name in ("vendor", "contract"):
        if cleaned.get(name):
            params[name] = str(cleaned[name].pk)
    if cleaned.get("status"):
        params["status"] = cleaned["status"]
    return "&".join(f"{key}={value}" for key, value in params.items() if value)


@login_required
@require_GET
def report(request):
    """The report's rows a page of REPORT_PAGE_SIZE at a time; its totals and exports cover every row."""
    data = report_data(request)
    page = Paginator(data["statements"], REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {**data, "page": page, "active_section": "statements"}
    if request.headers.get("HX-Request"):
        return render(request, "sla_tracker/_report_results.html", context)
    return render(request, "sla_tracker/report.html", context)


@login_required
@require_GET
def report_export(request, fmt: str):
    data = report_data(request)
    form = data["form"]
    if form.errors:  # not a file without rows: the filters are wrong
        problems = [
            f"{form[name].label}: {error}" if name in form.fields else str(error)
            for name, errors in form.errors.items()
            for error in errors
        ]
        return HttpResponseBadRequest("\n".join(problems), content_type="text/plain; charset=utf-8")
    period = month_label(data["month"]) if data["month"] else "empty"
    if data["to"]:
        period += f"-to-{month_label(data['to'])}"
    stem = f"penalty-report-{period}"
    if fmt == "xlsx":
        return _download(exports.report_xlsx(data["statements"]), f"{stem}.xlsx", exports.XLSX)
    if fmt == "csv":
        return _download(exports.report_csv(data["statements"]), f"{stem}.csv", exports.CSV)
    raise Http404


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    """``content`` as a download named ``filename``, made a valid file name: a contract reference may hold
    separators ("BPO/2026/01" gives "BPO-2026-01"), quotes or accents."""
    response = HttpResponse(content, content_type=content_type)
    name = get_valid_filename(FILENAME_SEPARATORS.sub("-", filename))
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# A statement ------------------------------------------------------------------------------------------


def statement_details(user, statement: PenaltyStatement) -> dict[str, Any]:
    """Everything the statement page and its exports show, in a fixed number of queries."""
    lines = list(
        visible_lines(user)
        .filter(statement=statement)
        .select_related("service_level", "terms", "waived_by")
        .prefetch_related(
            Prefetch(
                "disputes",
                queryset=visible_disputes(user).select_related("raised_by", "resolved_by"),
            )
        )
    )
    month_end = last_day_of_month(statement.month)
    exclusions = (
        restrict(Exclusion.objects.all(), user)
        .filter(
            contract_id=statement.contract_id,
            status=ApprovalStatus.APPROVED,
            start_date__lte=month_end,
            end_date__gte=statement.month,
        )
        .select_related("decided_by")
        .prefetch_related(Prefetch("service_levels", queryset=restrict(ServiceLevel.objects.all(), user)))
    )
    incidents = (
        restrict(Incident.objects.all(), user)
        .filter(contract_id=statement.contract_id, month=statement.month)
        .select_related("selected_service_level")
        .prefetch_related(Prefetch("service_levels", queryset=restrict(ServiceLevel.objects.all(), user)))
    )
    events = (
        restrict(StatementEvent.objects.all(), user)
        .filter(statement=statement)
        .select_related("actor", "line__service_level", "adjustment__service_level", "adjustment__origin")
        .order_by("created_at", "id")
    )
    adjustments = list(
        visible_adjustments(user)
        .filter(statement=statement)
        .select_related("origin", "service_level", "waived_by")
        .prefetch_related(
            Prefetch(
                "disputes",
                queryset=visible_adjustment_disputes(user).select_related("raised_by", "resolved_by"),
            )
        )
    )
    # The statement's credits are its uncapped credits less what the monthly and annual caps took and
    # less the waived lines' credits: each shown as what it is; its adjustments likewise less the waived ones.
    waived = sum((line.waived_credit for line in lines), Decimal("0.00"))
    return {
        "statement": statement,
        "contract": statement.contract,
        "lines": lines,
        "waived_credits": waived,
        "waived_adjustments": sum((adjustment.waived_amount for adjustment in adjustments), Decimal("0.00")),
        "capped_by": statement.uncapped_credits - statement.credits - waived,
        "termination_rights": [
            {
                **right,
                "label": TerminationTriggerType(right["type"]).label,
                "evidence": readable(right["evidence"], right.get("evidence_notes")),
            }
            for right in statement.termination_rights
        ],
        "exclusions": list(exclusions),
        "incidents": list(incidents),
        "events": list(events),
        "adjustments": adjustments,
        "completeness": completeness(user, [statement.contract], [statement.month], timezone.localdate())[
            (statement.contract_id, statement.month)
        ],
    }


@login_required
@require_GET
def statement_detail(request, pk: int):
    statement = get_statement(request.user, pk)
    can_change = request.user.has_perm(CHANGE_STATEMENTS)
    details = statement_details(request.user, statement)
    # Its latest recomputation was refused: the figures may rest on inputs that changed since.
    close_refusal = next(
        (item for item in close_refusals(request.user, statement.contract) if item.month == statement.month), None
    )
    # A line or an adjustment with an open dispute cannot be disputed again (the services refuse it).
    lines_with_open_dispute = _with_open_dispute(details["lines"])
    adjustments_with_open_dispute = _with_open_dispute(details["adjustments"])
    context = {
        **details,
        "lines_with_open_dispute": lines_with_open_dispute,
        "adjustments_with_open_dispute": adjustments_with_open_dispute,
        "open_disputes": len(lines_with_open_dispute) + len(adjustments_with_open_dispute),
        "active_section": "statements",
        "can_change": can_change,
        "can_dispute": request.user.is_vendor_user
        and statement.status in (StatementStatus.IN_REVIEW, StatementStatus.DISPUTED),
        "can_waive": reviews_statements(request.user) and statement.status in WAIVABLE_STATUSES,
        "can_resolve": reviews_statements(request.user),
        # A waiver given in accepting a dispute is not withdrawn (the services refuse it): not offered.
        **_waived_in_accepting_disputes(details["events"]),
        "actions": [
            (name, spec)
            for name, spec in STATEMENT_ACTIONS.items()
            if may_run(request.user, spec)
            and statement.status in spec.from_status
            and (spec.offered_when is None or spec.offered_when(statement))
            and not (close_refusal and name in HELD_BY_A_REFUSED_RECOMPUTATION)
        ],
        **statement_exclusions(request.user, statement),
        # The daily values behind the figures, for those who may read the contract's KPI data.
        "can_read_kpis": contracts_for_kpi_reading(request.user).filter(pk=statement.contract_id).exists(),
        "close_refusal": close_refusal,
    }
    return render(request, "sla_tracker/statement_detail.html", context)


def _waived_in_accepting_disputes(events: list[StatementEvent]) -> dict[str, set[int]]:
    """The ids of the statement's lines and of its adjustments whose waiver was given in accepting their
    dispute, read from the statement's ``events`` (oldest first)."""
    by_line, by_adjustment = defaultdict(list), defaultdict(list)
    for event in events:
        if event.line_id is not None:
            by_line[event.line_id].append(event)
        if event.adjustment_id is not None:
            by_adjustment[event.adjustment_id].append(event)
    return {
        "lines_waived_in_disputes": {pk for pk, own in by_line.items() if waived_in_accepting_a_dispute(own)},
        "adjustments_waived_in_disputes": {
            pk for pk, own in by_adjustment.items() if waived_in_accepting_a_dispute(own)
        },
    }


def _with_open_dispute(items) -> set[int]:
    """The ids of ``items`` (lines or adjustments, their disputes prefetched) with an open dispute."""
    return {item.pk for item in items if any(dispute.status == DisputeStatus.OPEN for dispute in item.disputes.all())}


@login_required
@require_GET
def statement_export(request, pk: int, fmt: str):
    statement = get_statement(request.user, pk)
    stem = f"statement-{statement.contract.reference}-{month_label(statement.month)}"
    details = statement_details(request.user, statement)
    if fmt == "xlsx":
        return _download(exports.statement_xlsx(details), f"{stem}.xlsx", exports.XLSX)
    if fmt == "csv":
        return _download(exports.statement_csv(details), f"{stem}.csv", exports.CSV)
    if fmt == "pdf":
        return _download(exports.statement_pdf(details, request), f"{stem}.pdf", exports.PDF)
    raise Http404


# Actions ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementActionSpec:
    service: Any
    title: Any
    button: Any
    explanation: Any
    done: Any
    from_status: tuple[str, ...]
    field: str = ""
    field_label: Any = ""
    for_reviewers: bool = True  # procurement's (accounts.roles.reviews_statements); submitting is not
    guards_figures: bool = False  # refused if the figures changed since the confirmation was shown
    offered_when: Any = None  # a further condition on the statement for the page to offer the action


# The transitions services refuse while the statement's latest recomputation was refused (not offered then).
HELD_BY_A_REFUSED_RECOMPUTATION = ("submit", "approve", "invoice")

STATEMENT_ACTIONS = {
    "submit": StatementActionSpec(
        service=submit_statement,
        title=_("Submit the statement for review"),
        button=_("Submit for review"),
        explanation=_("The statement goes from draft to in review; the vendor can then see it and dispute lines."),
        done=_("The statement was submitted for review."),
        from_status=(StatementStatus.DRAFT,),
        for_reviewers=False,
    ),
    "approve": StatementActionSpec(
        service=approve_statement,
        title=_("Approve the statement"),
        button=_("Approve"),
        explanation=_("An approved statement is never recomputed: later corrections become adjustments."),
        done=_("The statement was approved."),
        from_status=(StatementStatus.IN_REVIEW,),
        guards_figures=True,
    ),
    "invoice": StatementActionSpec(
        service=mark_statement_invoiced,
        title=_("Mark the statement invoiced"),
        button=_("Mark invoiced"),
        explanation=_("Record the invoice or credit note that settles this statement."),
        done=_("The statement was marked invoiced."),
        from_status=(StatementStatus.APPROVED,),
        field="invoice_reference",
        field_label=_("Invoice or credit note reference"),
    ),
    "reopen": StatementActionSpec(
        service=reopen_statement,
        title=_("Reopen the statement"),
        button=_("Reopen"),
        explanation=_(
            "The statement goes back to in review: changes to the month's data recompute it again, its lines can "
            "be waived, and it must be approved again. An invoiced statement cannot be reopened: correct it by "
            "adjustment."
        ),
        done=_("The statement was reopened: it is in review again."),
        from_status=(StatementStatus.APPROVED,),
        field="reason",
        field_label=_("Reason for reopening"),
    ),
    "settle": StatementActionSpec(
        service=settle_outside_statements,
        title=_("Record the settlement of the waiting difference"),
        button=_("Record the settlement"),
        explanation=_(
            "The contract has ended, so no later statement will carry the difference waiting on this one. Record "
            "the credit note or invoice that settles it: the difference then counts as carried, and only a later "
            "change of the month's figures waits again."
        ),
        done=_("The settlement was recorded: no difference waits on this statement."),
        from_status=(StatementStatus.APPROVED, StatementStatus.INVOICED),
        field="reference",
        field_label=_("Invoice or credit note reference"),
        offered_when=lambda statement: (
            bool(differences_on_record([statement.pk])[0]) and not later_close_carrying(statement)
        ),
    ),
}


def may_run(user, spec: StatementActionSpec) -> bool:
    return user.has_perm(CHANGE_STATEMENTS) and (not spec.for_reviewers or reviews_statements(user))


class ConfirmForm(forms.Form):
    """The confirmation step of an action, with its one text field when the action needs one, and,
    given the ``shown`` statement, its figures as the page showed them (hidden): the service refuses
    the action if they changed before it was confirmed."""

    SHOWN_FIGURES = ("input_fingerprint", "net", "amounts")

    def __init__(
        self,
        *args,
        field: str = "",
        label="",
        shown: PenaltyStatement | None = None,
        amounts: dict[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if field:
            self.fields[field] = forms.CharField(
                label=label,
                max_length=REASON_MAX_LENGTH if field in ("reason", "resolution") else REFERENCE_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"})
                if field in ("reason", "resolution")
                else forms.TextInput(attrs={"class": "form-control"}),
            )
        if shown is not None:
            self.fields["input_fingerprint"] = forms.CharField(
                required=False, widget=forms.HiddenInput, initial=shown.input_fingerprint
            )
            self.fields["net"] = forms.DecimalField(
                required=False, max_digits=14, decimal_places=2, widget=forms.HiddenInput, initial=shown.net
            )
        if amounts is not None:  # the difference a settlement settles, as shown
            self.fields["amounts"] = forms.JSONField(required=False, widget=forms.HiddenInput, initial=amounts)

    def clean_amounts(self) -> dict[str, str] | None:
        """The difference as shown: per service level code, an amount (the service compares them as decimals)."""
        amounts = self.cleaned_data.get("amounts")
        if amounts is None:
            return None
        if not isinstance(amounts, dict) or not all(_is_amount(value) for value in amounts.values()):
            raise ValidationError("not the amounts shown")  # hidden: clean() says what the page says
        return amounts

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if any(name in self.errors for name in self.SHOWN_FIGURES):  # hidden: their own errors are not shown
            self.add_error(
                None,
                _("The figures this page showed could not be read back. Open the statement again and confirm there."),
            )
        return cleaned

    def shown_figures(self) -> dict[str, Any]:
        """The figures the confirmation showed, as the service takes them (those not sent: not checked)."""
        return {
            name: self.cleaned_data[name]
            for name in self.SHOWN_FIGURES
            if name in self.fields and self.cleaned_data.get(name) not in (None, "")
        }

    def show_again(self, statement: PenaltyStatement, amounts: dict[str, str] | None = None) -> None:
        """After a refusal, the confirmation shows the statement (and the difference waiting) as it is now:
        confirming it again confirms these figures."""
        if self.is_bound and "net" in self.fields:
            self.data = self.data.copy()
            self.data["input_fingerprint"] = statement.input_fingerprint
            self.data["net"] = str(statement.net)
        if self.is_bound and "amounts" in self.fields:
            self.data = self.data.copy()
            self.data["amounts"] = json.dumps(amounts or {})


def _is_amount(value) -> bool:
    try:
        return isinstance(value, str | int) and Decimal(value).is_finite()
    except ArithmeticError:  # not a number at all
        return False


def _posted(request):
    """The POST data of a submission (even an empty one, as a bare confirmation is), else None."""
    return request.POST if request.method == "POST" else None


def _run(form: forms.Form, call) -> bool:
    """Call the service; its ValidationError becomes the form's errors."""
    try:
        call()
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return False
    return True


@login_required
def statement_action(request, pk: int, action: str):
    spec = STATEMENT_ACTIONS.get(action)
    if spec is None:
        raise Http404
    statement = get_statement(request.user, pk)
    if not may_run(request.user, spec):
        raise PermissionDenied
    if request.method != "POST" and statement.status not in spec.from_status:
        # A link from an older page: say why, on the statement, rather than confirm what the service refuses.
        messages.warning(
            request,
            _("The statement is %(status)s: “%(action)s” is not available.")
            % {"status": statement.get_status_display().lower(), "action": spec.button},
        )
        return redirect("sla_tracker:statement", pk=statement.pk)
    offered = spec.offered_when is None or spec.offered_when(statement)
    if request.method != "POST" and not offered:
        raise Http404  # not offered for this statement (a confirmation is refused by the service, with why)
    shown = statement if spec.guards_figures else None
    # What a settlement settles, per service level (positive: in the vendor's favour).
    waiting = differences_on_record([statement.pk])[0].get(statement.pk, {}) if action == "settle" else None
    form = ConfirmForm(_posted(request), field=spec.field, label=spec.field_label, shown=shown, amounts=waiting)
    if request.method == "POST" and form.is_valid():
        extra = {spec.field: form.cleaned_data[spec.field]} if spec.field else {}
        extra.update(form.shown_figures())
        if _run(form, lambda: spec.service(statement_id=statement.pk, actor=request.user, **extra)):
            messages.success(request, spec.done)
            return redirect("sla_tracker:statement", pk=statement.pk)
        form.show_again(statement, waiting)
    return render(
        request,
        "sla_tracker/confirm.html",
        {
            "statement": statement,
            "form": form,
            "title": spec.title,
            "button": spec.button,
            # A confirmation posted where the action is not offered shows only why it is refused.
            "explanation": spec.explanation if offered else "",
            "warnings": statement_action_warnings(request.user, statement, action),
            "difference_waiting": waiting,
            "active_section": "statements",
        },
    )


def _get_line(user, pk: int) -> StatementLine:
    return get_object_or_404(
        visible_lines(user).select_related("statement__contract__vendor", "service_level"),
        pk=pk,
    )


def _get_adjustment(user, pk: int) -> StatementAdjustment:
    return get_object_or_404(
        visible_adjustments(user).select_related("statement__contract__vendor", "service_level", "origin"),
        pk=pk,
    )


@login_required
def waive(request, pk: int):
    line = _get_line(request.user, pk)
    return _waive_page(
        request,
        line.statement,
        {"line": line},
        lambda reason: waive_line(line_id=line.pk, actor=request.user, reason=reason),
        title=_("Waive a line"),
        button=_("Waive the credit"),
        explanation=_("The line's credit counts as zero in the statement's totals and in later months."),
        done=_("The line was waived: its credit no longer counts."),
        label=_("Reason for the waiver"),
        refused=lambda: check_line_waivable(line),
    )


@login_required
def adjustment_waive(request, pk: int):
    adjustment = _get_adjustment(request.user, pk)
    return _waive_page(
        request,
        adjustment.statement,
        {"adjustment": adjustment},
        lambda reason: waive_adjustment(adjustment_id=adjustment.pk, actor=request.user, reason=reason),
        title=_("Waive an adjustment"),
        button=_("Waive the adjustment"),
        explanation=_(
            "The adjustment counts as zero in the statement's totals. It stays carried: no later close carries "
            "the difference again."
        ),
        done=_("The adjustment was waived: it no longer counts."),
        label=_("Reason for the waiver"),
        refused=lambda: check_adjustment_waivable(adjustment),
    )


@login_required
def withdraw_waiver(request, pk: int):
    line = _get_line(request.user, pk)
    return _waive_page(
        request,
        line.statement,
        {"line": line},
        lambda reason: withdraw_line_waiver(line_id=line.pk, actor=request.user, reason=reason),
        title=_("Withdraw a line's waiver"),
        button=_("Withdraw the waiver"),
        explanation=_(
            "The line's credit counts again in the statement's totals and in later months. The waiver stays in "
            "the statement's history."
        ),
        done=_("The waiver was withdrawn: the line's credit counts again."),
        label=_("Reason for withdrawing the waiver"),
        refused=lambda: check_waiver_withdrawal(line),
    )


@login_required
def adjustment_withdraw_waiver(request, pk: int):
    adjustment = _get_adjustment(request.user, pk)
    return _waive_page(
        request,
        adjustment.statement,
        {"adjustment": adjustment},
        lambda reason: withdraw_adjustment_waiver(adjustment_id=adjustment.pk, actor=request.user, reason=reason),
        title=_("Withdraw an adjustment's waiver"),
        button=_("Withdraw the waiver"),
        explanation=_(
            "The adjustment counts again in the statement's totals. The waiver stays in the statement's history."
        ),
        done=_("The waiver was withdrawn: the adjustment counts again."),
        label=_("Reason for withdrawing the waiver"),
        refused=lambda: check_waiver_withdrawal(adjustment),
    )


# Where the statement page offers waivers and their withdrawal (a disputed statement's go through its disputes).
WAIVABLE_STATUSES = (StatementStatus.DRAFT, StatementStatus.IN_REVIEW)


def _waive_page(
    request,
    statement: PenaltyStatement,
    subject: dict,
    waive,
    *,
    title,
    button,
    explanation,
    done,
    label,
    refused=None,
):
    """Procurement confirms a waiver of ``subject`` (the line or adjustment, as the page names it), or its
    withdrawal, with its reason; ``waive(reason)`` calls the service. ``refused``, when given, raises the
    service's refusal: a link from an older page then says why, on the statement, rather than confirm it."""
    if not reviews_statements(request.user):
        raise PermissionDenied
    if request.method != "POST" and refused is not None:
        try:
            refused()
        except ValidationError as exc:
            messages.warning(request, " ".join(exc.messages))
            return redirect("sla_tracker:statement", pk=statement.pk)
    if request.method != "POST" and statement.status not in WAIVABLE_STATUSES:
        # Waivers are given and withdrawn while the statement is open (the page offers them then), disputes
        # settled first: a link from an older page says so, as a statement's action does.
        messages.warning(
            request,
            _("The statement is %(status)s: “%(action)s” is not available.")
            % {"status": statement.get_status_display().lower(), "action": button},
        )
        return redirect("sla_tracker:statement", pk=statement.pk)
    form = ConfirmForm(_posted(request), field="reason", label=label)
    if request.method == "POST" and form.is_valid() and _run(form, lambda: waive(form.cleaned_data["reason"])):
        messages.success(request, done)
        return redirect("sla_tracker:statement", pk=statement.pk)
    return render(
        request,
        "sla_tracker/confirm.html",
        {
            "statement": statement,
            **subject,
            "form": form,
            "title": title,
            "button": button,
            "explanation": explanation,
            "active_section": "statements",
        },
    )


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )
    evidence = forms.FileField(
        label=_("Attachment (evidence)"),
        required=False,
        validators=[validate_evidence],
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ",".join(EVIDENCE_TYPES)}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].help_text = format_lazy(
            _("Accepted: {allowed}; at most {limit}."),
            allowed=ALLOWED_EXTENSIONS,
            limit=filesizeformat(settings.DISPUTE_EVIDENCE_MAX_BYTES),
        )


@login_required
def dispute(request, pk: int):
    line = _get_line(request.user, pk)
    return _dispute_page(
        request,
        line.statement,
        {"line": line},
        lambda reason, evidence: dispute_line(line_id=line.pk, actor=request.user, reason=reason, evidence=evidence),
        title=_("Dispute a line"),
        disputable=lambda: check_line_disputable(line, request.user),
    )


@login_required
def adjustment_dispute(request, pk: int):
    adjustment = _get_adjustment(request.user, pk)
    return _dispute_page(
        request,
        adjustment.statement,
        {"adjustment": adjustment},
        lambda reason, evidence: dispute_adjustment(
            adjustment_id=adjustment.pk, actor=request.user, reason=reason, evidence=evidence
        ),
        title=_("Dispute an adjustment"),
        disputable=lambda: check_adjustment_disputable(adjustment, request.user),
    )


def _dispute_page(request, statement: PenaltyStatement, subject: dict, raise_dispute, *, title, disputable):
    """A vendor user disputes ``subject`` (the line or adjustment, as the page names it) with a reason and
    evidence; ``raise_dispute(reason, evidence)`` calls the service. A link from an older page (the statement
    approved since, the line or adjustment disputed already) says why on the statement, as ``disputable()``
    refuses it, rather than show a form the service would refuse once filled in."""
    if not request.user.is_vendor_user:
        raise PermissionDenied
    if request.method != "POST":
        try:
            disputable()
        except ValidationError as exc:
            messages.warning(request, " ".join(exc.messages))
            return redirect("sla_tracker:statement", pk=statement.pk)
    form = DisputeForm(_posted(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _run(form, lambda: raise_dispute(data["reason"], data["evidence"])):
            messages.success(request, _("Your dispute was recorded; procurement will resolve it."))
            return redirect("sla_tracker:statement", pk=statement.pk)
    return render(
        request,
        "sla_tracker/dispute.html",
        {"statement": statement, **subject, "form": form, "title": title, "active_section": "statements"},
    )


@dataclass(frozen=True)
class ResolutionTexts:
    """What the resolution pages of one kind of dispute (a line's, an adjustment's) say."""

    waive_label: Any
    waived: Any
    accept_explanation: Any
    reject_explanation: Any


LINE_RESOLUTION = ResolutionTexts(
    waive_label=_("Waive the line's credit as well (the vendor is right about the credit)"),
    waived=_("The line's credit is waived."),
    accept_explanation=_(
        "The dispute is closed as accepted, with your resolution. Tick the box to waive the line's credit in "
        "the same step, with your resolution as the reason; otherwise the credit stays as computed until the "
        "month's data are corrected. Once no dispute is left open, the statement is back in review."
    ),
    reject_explanation=_(
        "The dispute is closed as rejected, with your resolution; the line stays as computed. Once no dispute "
        "is left open, the statement is back in review."
    ),
)
ADJUSTMENT_RESOLUTION = ResolutionTexts(
    waive_label=_("Waive the adjustment as well (the vendor is right about it)"),
    waived=_("The adjustment is waived."),
    accept_explanation=_(
        "The dispute is closed as accepted, with your resolution. Tick the box to waive the adjustment in the "
        "same step, with your resolution as the reason; otherwise it stays as carried. Once no dispute is left "
        "open, the statement is back in review."
    ),
    reject_explanation=_(
        "The dispute is closed as rejected, with your resolution; the adjustment stays as carried. Once no "
        "dispute is left open, the statement is back in review."
    ),
)


# A line or an adjustment already waived has nothing left to waive (the services refuse a second waiver): its
# acceptance offers no waiver.
LINE_WAIVED_RESOLUTION = ResolutionTexts(
    waive_label=None,
    waived=None,
    accept_explanation=_(
        "The dispute is closed as accepted, with your resolution; the line's credit is already waived. Once no "
        "dispute is left open, the statement is back in review."
    ),
    reject_explanation=LINE_RESOLUTION.reject_explanation,
)
ADJUSTMENT_WAIVED_RESOLUTION = ResolutionTexts(
    waive_label=None,
    waived=None,
    accept_explanation=_(
        "The dispute is closed as accepted, with your resolution; the adjustment is already waived. Once no "
        "dispute is left open, the statement is back in review."
    ),
    reject_explanation=ADJUSTMENT_RESOLUTION.reject_explanation,
)


# An adjustment in the vendor's favour has nothing the customer could waive: its acceptance offers no waiver.
VENDOR_FAVOUR_ADJUSTMENT_RESOLUTION = ResolutionTexts(
    waive_label=None,
    waived=None,
    accept_explanation=_(
        "The dispute is closed as accepted, with your resolution; the adjustment, in the vendor’s favour, stays as "
        "carried (a waiver gives up a credit owed to the customer: this adjustment owes it none). Once no dispute "
        "is left open, the statement is back in review."
    ),
    reject_explanation=ADJUSTMENT_RESOLUTION.reject_explanation,
)


def _get_dispute(user, pk: int) -> LineDispute:
    return get_object_or_404(
        visible_disputes(user).select_related("line__statement__contract__vendor", "line__service_level", "raised_by"),
        pk=pk,
    )


@login_required
def resolve(request, pk: int, accepted: bool):
    """Procurement accepts or rejects a line's dispute, with the resolution the vendor will read."""
    dispute = _get_dispute(request.user, pk)
    line = dispute.line
    texts = LINE_WAIVED_RESOLUTION if line.waived else LINE_RESOLUTION
    return _resolve_page(request, dispute, {"line": line}, resolve_dispute, texts, accepted)


@login_required
def adjustment_resolve(request, pk: int, accepted: bool):
    """Procurement accepts or rejects an adjustment's dispute, as a line's."""
    dispute = get_object_or_404(
        visible_adjustment_disputes(request.user).select_related(
            "adjustment__statement__contract__vendor", "adjustment__service_level", "adjustment__origin", "raised_by"
        ),
        pk=pk,
    )
    # One in the vendor's favour has no credit to waive (services.check_adjustment_waivable), one already waived
    # nothing left to waive: no box to tick.
    adjustment = dispute.adjustment
    if adjustment.amount > 0:
        texts = VENDOR_FAVOUR_ADJUSTMENT_RESOLUTION
    else:
        texts = ADJUSTMENT_WAIVED_RESOLUTION if adjustment.waived else ADJUSTMENT_RESOLUTION
    return _resolve_page(request, dispute, {"adjustment": adjustment}, resolve_adjustment_dispute, texts, accepted)


def _resolve_page(
    request,
    dispute: LineDispute | AdjustmentDispute,
    subject: dict,
    resolve_service,
    texts: ResolutionTexts,
    accepted: bool,
):
    """Procurement confirms the resolution of ``dispute`` (of ``subject``, the line or adjustment as the page
    names it), accepting it with an optional waiver or rejecting it."""
    if not reviews_statements(request.user):
        raise PermissionDenied
    statement = dispute.statement
    if request.method != "POST" and dispute.status != DisputeStatus.OPEN:
        # A link from an older page: say why, on the statement, rather than confirm what the service refuses.
        messages.warning(
            request, _("This dispute is already %(status)s.") % {"status": dispute.get_status_display().lower()}
        )
        return redirect("sla_tracker:statement", pk=statement.pk)
    form = ConfirmForm(_posted(request), field="resolution", label=_("Resolution"))
    if accepted and texts.waive_label:
        form.fields["waive"] = forms.BooleanField(
            label=texts.waive_label,
            required=False,
            widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        )
    if (
        request.method == "POST"
        and form.is_valid()
        and _run(
            form,
            lambda: resolve_service(
                dispute_id=dispute.pk,
                actor=request.user,
                resolution=form.cleaned_data["resolution"],
                accepted=accepted,
                waive=form.cleaned_data.get("waive", False),
            ),
        )
    ):
        messages.success(request, _("The dispute was accepted.") if accepted else _("The dispute was rejected."))
        if form.cleaned_data.get("waive"):
            messages.info(request, texts.waived)
        if PenaltyStatement.objects.filter(pk=statement.pk, status=StatementStatus.IN_REVIEW).exists():
            messages.info(request, _("No dispute is left open: the statement is back in review."))
        return redirect("sla_tracker:statement", pk=statement.pk)
    if accepted:
        title, button, explanation = _("Accept the dispute"), _("Accept"), texts.accept_explanation
    else:
        title, button, explanation = _("Reject the dispute"), _("Reject"), texts.reject_explanation
    return render(
        request,
        "sla_tracker/confirm.html",
        {
            "statement": statement,
            **subject,
            "dispute": dispute,
            "form": form,
            "title": title,
            "button": button,
            "explanation": explanation,
            "active_section": "statements",
        },
    )


@login_required
@require_GET
def dispute_evidence(request, pk: int):
    """A line's dispute's evidence file, as a download, to the users who may see the dispute's statement.

    Another vendor's dispute (or a draft's, for a vendor user) is a 404, as the statement is.
    """
    dispute = get_object_or_404(visible_disputes(request.user).exclude(evidence=""), pk=pk)
    return evidence_download(dispute.evidence)


@login_required
@require_GET
def adjustment_dispute_evidence(request, pk: int):
    """An adjustment's dispute's evidence file, as a line's."""
    dispute = get_object_or_404(visible_adjustment_disputes(request.user).exclude(evidence=""), pk=pk)
    return evidence_download(dispute.evidence)


# A contract's year --------------------------------------------------------------------------------------


@login_required
@require_GET
def contract_year(request, pk: int, year: int):
    """The month × service level grid of a contract's statuses in one year, and its monthly credits. A year
    outside the dates Python holds (0, 10000…) is a 404, as a year the address cannot name."""
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
        raise Http404
    contract = get_object_or_404(restrict(Contract.objects.select_related("vendor"), request.user), pk=pk)
    levels = list(restrict(ServiceLevel.objects.filter(contract=contract), request.user))
    statements = {
        statement.month.month: statement
        for statement in visible_statements(request.user)
        .filter(contract=contract, month__year=year)
        .prefetch_related(Prefetch("lines", queryset=restrict(StatementLine.objects.all(), request.user)))
    }
    months = [datetime.date(year, number, 1) for number in range(1, 13)]
    rows = []
    for level in levels:
        cells = []
        for month in months:
            statement = statements.get(month.month)
            line = (
                next((item for item in statement.lines.all() if item.service_level_id == level.pk), None)
                if statement
                else None
            )
            cells.append({"month": month, "line": line, "statement": statement})
        # A waived credit is not charged: its month is not counted as credited.
        credited = sum(1 for cell in cells if cell["line"] is not None and cell["line"].charged_credit > 0)
        rows.append({"level": level, "cells": cells, "credited": credited})
    # The year's totals, as the statements of its months hold them (adjustments included in net).
    totals = {
        name: sum((getattr(statement, name) for statement in statements.values()), Decimal("0.00"))
        for name in ("credits", "earn_backs", "bonuses", "net")
    }
    chart = {
        "labels": [date_format(month, "M") for month in months],
        "credits": [float(statements[m.month].credits) if m.month in statements else None for m in months],
        "net": [float(statements[m.month].net) if m.month in statements else None for m in months],
        "currency": contract.currency,
        "creditsLabel": str(_("Credits")),
        "netLabel": str(_("Net")),
    }
    return render(
        request,
        "sla_tracker/contract_year.html",
        {
            "contract": contract,
            "year": year,
            "months": months,
            "rows": rows,
            "statements": [statements.get(month.month) for month in months],
            "totals": totals,
            "chart": chart,
            "previous_year": year - 1 if year > contract.start_date.year else None,
            "next_year": year + 1 if year < max(contract.end_date.year, timezone.localdate().year) else None,
            "active_section": "statements",
        },
    )
