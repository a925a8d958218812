"""The contract register, a contract's page (scope, charges, service levels, committees, audits) and
its recorded renewal decisions (renew, give notice)."""

import datetime
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.roles import may_simulate
from accounts.scoping import restrict
from audits.models import Audit, AuditRight
from audits.selectors import allowance_uses
from contracts import services
from contracts.choices import ContractStatus, Currency
from contracts.filtersets import ContractFilterSet
from contracts.models import Amendment, Contract, ContractScope, MonthlyCharge, RenewalDecision, Vendor
from contracts.months import first_of_month
from contracts.selectors import with_next_notice_deadline
from governance.models import Committee
from sla_tracker.engine import to_cents
from sla_tracker.models import PenaltyRegime, ServiceLevel, ServiceLevelVersion
from sla_tracker.views import close_refusals

RECENT_CHARGES = 12
CONTRACT_PAGE_SIZE = 100
CHANGE_CONTRACTS = "contracts.change_contract"


class ContractSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("Reference, title or vendor")}),
    )
    vendor = forms.ModelChoiceField(
        label=_("Vendor"),
        queryset=Vendor.objects.none(),
        required=False,
        empty_label=_("All vendors"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *ContractStatus.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[("", _("All currencies")), *Currency.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    notice_within = forms.TypedChoiceField(
        label=_("Notice deadline"),
        choices=[
            ("", _("Any")),
            ("30", _("within 30 days")),
            ("90", _("within 90 days")),
            ("180", _("within 6 months")),
            ("365", _("within a year")),
        ],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    order = forms.ChoiceField(
        label=_("Order"),
        choices=[("", _("Reference")), ("notice", _("Notice deadline, soonest first"))],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = restrict(Vendor.objects.all(), user)


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
@require_GET
def contract_list(request):
    form = ContractSearchForm(request.GET, user=request.user)
    cleaned = form.cleaned_data if form.is_valid() else {}
    filters = {
        "q": cleaned.get("q", ""),
        "vendor": cleaned["vendor"].pk if cleaned.get("vendor") else "",
        "status": cleaned.get("status", ""),
        "currency": cleaned.get("currency", ""),
    }
    contracts = restrict(Contract.objects.all(), request.user).select_related("vendor", "owner")
    contracts = (
        ContractFilterSet(data=filters, queryset=contracts)
        .qs.annotate(service_level_count=Count("service_levels", distinct=True))
        .order_by("reference")
    )
    today = timezone.localdate()
    within, order = cleaned.get("notice_within"), cleaned.get("order")
    if within is not None or order == "notice":
        # The deadline is computed from the renewal clauses, not stored: filter and sort the whole list.
        contracts = with_next_notice_deadline(contracts, today=today)
        if within is not None:
            horizon = today + datetime.timedelta(days=within)
            contracts = [c for c in contracts if c.next_renewal and c.next_renewal.notice_deadline <= horizon]
        if order == "notice":
            contracts.sort(key=lambda c: (c.next_renewal is None, c.next_renewal and c.next_renewal.notice_deadline))
    page = Paginator(contracts, CONTRACT_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page) if isinstance(contracts, list) else with_next_notice_deadline(page, today=today)
    for contract in rows:
        contract.notice_days_left = contract.next_renewal.days_left(today) if contract.next_renewal else None
    context = {
        "form": form,
        "contracts": rows,
        "page": page,
        "active_section": "contracts",
    }
    if request.headers.get("HX-Request"):
        return render(request, "contracts/_contract_table.html", context)
    return render(request, "contracts/contract_list.html", context)


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
@require_GET
def contract_detail(request, pk: int):
    user = request.user
    contract = get_object_or_404(restrict(Contract.objects.all(), user).select_related("vendor", "owner"), pk=pk)
    today = timezone.localdate()
    with_next_notice_deadline([contract], today=today)
    this_month = first_of_month(today)
    levels = list(
        restrict(ServiceLevel.objects.filter(contract=contract), user).prefetch_related(
            Prefetch(
                "versions",
                queryset=restrict(ServiceLevelVersion.objects.all(), user)
                .select_related("amendment")
                .order_by("valid_from"),
            )
        )
    )
    for level in levels:
        versions = list(level.versions.all())
        in_force = [version for version in versions if version.valid_from <= this_month]
        level.current_terms = in_force[-1] if in_force else (versions[0] if versions else None)
        level.history = versions
    charges = list(restrict(MonthlyCharge.objects.filter(contract=contract), user).order_by("-month")[:RECENT_CHARGES])
    regime = (
        restrict(PenaltyRegime.objects.filter(contract=contract, valid_from__lte=this_month), user)
        .order_by("-valid_from")
        .first()
    )
    # What the credit terms mean in money, on the latest recorded month's charges.
    at_risk = None
    if regime is not None and regime.at_risk_pct is not None and charges:
        at_risk = to_cents(charges[0].amount * regime.at_risk_pct / 100)
    for level in levels:
        terms = level.current_terms
        allocated = at_risk is not None and terms is not None and terms.allocation_pct is not None
        level.allocated_amount = to_cents(at_risk * terms.allocation_pct / 100) if allocated else None
    committees = (
        restrict(Committee.objects.filter(Q(contract=contract) | Q(vendor_id=contract.vendor_id)), user)
        .annotate(member_count=Count("members", distinct=True))
        .order_by("name")
    )
    audit_rights = list(
        restrict(AuditRight.objects.filter(contract=contract), user)
        .select_related("contract")
        .prefetch_related(
            Prefetch(
                "audits",
                queryset=restrict(Audit.objects.all(), user)
                .select_related("lead_auditor")
                .annotate(finding_count=Count("findings", distinct=True))
                .order_by("-fieldwork_start"),
            )
        )
    )
    # The allowance used this contract year tells who reads audits how many were held (vendor users read none).
    if user.has_perm("audits.view_audit"):
        uses = allowance_uses(audit_rights, today)
        for right in audit_rights:
            right.allowance = uses[right.pk]
    context = {
        "contract": contract,
        "scopes": restrict(ContractScope.objects.filter(contract=contract), user).select_related("site"),
        "charges": charges,
        "regime": regime,
        "at_risk": at_risk,
        "levels": levels,
        "amendments": restrict(Amendment.objects.filter(contract=contract), user).order_by("number"),
        "committees": committees,
        "audit_rights": audit_rights,
        "this_month": this_month,
        "notice_days_left": contract.next_renewal.days_left(today) if contract.next_renewal else None,
        "active_section": "contracts",
        "can_view_statements": user.has_perm("sla_tracker.view_penaltystatement"),
        "can_simulate": may_simulate(user),
        "decisions": restrict(RenewalDecision.objects.filter(contract=contract), user).select_related("decided_by"),
        "can_decide": user.has_perm(CHANGE_CONTRACTS) and contract.status in services.DECIDABLE_STATUSES,
        "decision_actions": DECISIONS,
        "close_refusals": close_refusals(user, contract),
    }
    return render(request, "contracts/contract_detail.html", context)


@dataclass(frozen=True)
class DecisionSpec:
    service: Any
    title: Any
    explanation: Any
    done: Any


DECISIONS = {
    "renew": DecisionSpec(
        service=services.record_renewal,
        title=_("Renew the running term"),
        explanation=_("The end of the current term moves to the end of the renewed term; the decision is recorded."),
        done=_("The renewal was recorded: the term now ends on {end}."),
    ),
    "give-notice": DecisionSpec(
        service=services.give_notice,
        title=_("Give notice"),
        explanation=_(
            "The current term becomes the last one: the contract ends when it does. The decision is recorded and "
            "cannot be undone here."
        ),
        done=_("The notice was recorded: the contract ends on {end}."),
    ),
}


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


@login_required
def contract_decision(request, pk: int, decision: str):
    """Renew or give notice, after a confirmation (GET); the service's refusal is shown on the form."""
    spec = DECISIONS.get(decision)
    if spec is None:
        raise Http404
    contract = get_object_or_404(restrict(Contract.objects.all(), request.user).select_related("vendor"), pk=pk)
    if not request.user.has_perm(CHANGE_CONTRACTS):
        raise PermissionDenied
    form = DecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            spec.service(contract=contract, decided_by=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            contract.refresh_from_db(fields=["end_date"])
            messages.success(request, format_lazy(spec.done, end=date_format(contract.end_date, "SHORT_DATE_FORMAT")))
            return redirect("contracts:detail", pk=contract.pk)
    today = timezone.localdate()
    with_next_notice_deadline([contract], today=today)
    context = {"contract": contract, "form": form, "spec": spec, "active_section": "contracts"}
    if request.method == "GET":
        try:
            if decision == "renew":
                context["renewal"] = services.renewal_to_record(contract, today)
            else:
                context["notice_end"], context["missed_deadline"] = services.notice_term_end(contract, today)
        except ValidationError as exc:
            context["refusals"] = exc.messages
    return render(request, "contracts/decision_confirm.html", context)
