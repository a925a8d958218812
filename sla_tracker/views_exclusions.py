"""Web pages of exclusions (excused days): the list across contracts or of one, a proposal, an exclusion's
page with its history, and the decisions on it; the exclusions shown on a statement's page and the
warnings of its submit and approve confirmations.

Every queryset goes through accounts.scoping.restrict. Within it, a vendor's own users see only the
approved exclusions of their vendor's contracts, the ones its statements are computed with: a proposal
under review, and a rejection, are the customer's deliberation, as a draft statement is; anything else is
a 404. Proposing needs what the API's create needs (the model permission to add an exclusion: vendor
managers, and procurement and administrators, whose own proposal someone else decides), deciding what its
approve and reject actions need (accounts.roles.reviews_statements). Each write calls one
service of sla_tracker.services and shows its refusal on the page.

A withdrawn proposal (sla_tracker.services.withdraw_exclusion) has its own status: it is not a rejection.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_GET

from accounts.roles import reviews_statements
from accounts.scoping import restrict, visible_contracts
from config.api import model_permission
from config.formats import month_name
from contracts.models import Contract
from contracts.months import first_of_month, last_day_of_month, month_label, parse_month
from sla_tracker.choices import ApprovalStatus, ExclusionReason, StatementStatus
from sla_tracker.completeness import completeness
from sla_tracker.filtersets import ExclusionFilterSet
from sla_tracker.kpi_import.access import contracts_for_kpi_reading
from sla_tracker.models import Exclusion, PenaltyStatement, ServiceLevel
from sla_tracker.services import decide_exclusion, propose_exclusion, withdraw_exclusion

ADD_EXCLUSIONS = model_permission(Exclusion, "add")  # what POST /api/v1/exclusions/ needs
VIEW_EXCLUSIONS = model_permission(Exclusion, "view")
LIST_PAGE_SIZE = 25
# The confirmations of these statement actions warn about the month's open questions.
WARNED_STATEMENT_ACTIONS = ("submit", "approve")


# Who sees and does what ---------------------------------------------------------------------------------


def may_read_exclusions(user) -> bool:
    return user.is_active and (user.is_vendor_user or user.has_perm(VIEW_EXCLUSIONS))


def may_propose_exclusions(user) -> bool:
    return user.is_active and user.has_perm(ADD_EXCLUSIONS)


def visible_exclusions(user) -> QuerySet[Exclusion]:
    """The exclusions `user` may see (see the module's docstring for vendor users)."""
    exclusions = restrict(Exclusion.objects.all(), user)
    if user.is_vendor_user:
        exclusions = exclusions.filter(status=ApprovalStatus.APPROVED)
    return exclusions


def proposable_contracts(user) -> QuerySet[Contract]:
    """The contracts `user` may propose an exclusion for: the ones they see, with the permission to propose."""
    return visible_contracts(user) if may_propose_exclusions(user) else Contract.objects.none()


def overlapping(month: datetime.date) -> Q:
    """Exclusions with at least one day in `month`."""
    return Q(start_date__lte=last_day_of_month(month), end_date__gte=month)


def _with_levels(exclusions: QuerySet[Exclusion], user) -> QuerySet[Exclusion]:
    levels = restrict(ServiceLevel.objects.all(), user).order_by("display_order", "code")
    return exclusions.prefetch_related(Prefetch("service_levels", queryset=levels))


def exclusions_awaiting_decision(user) -> QuerySet[Exclusion]:
    """The proposals `user` decides, oldest first: none for who does not decide, and never their own (someone
    else approves it)."""
    if not reviews_statements(user):
        return Exclusion.objects.none()
    return (
        visible_exclusions(user)
        .filter(status=ApprovalStatus.PROPOSED)
        .exclude(requested_by=user)
        .select_related("contract__vendor", "requested_by")
        .order_by("created_at", "pk")
    )


def list_url(**params) -> str:
    """The list page with these filters (empty ones left out)."""
    query = urlencode({name: value for name, value in params.items() if value not in (None, "")})
    return reverse("sla_tracker:exclusions") + (f"?{query}" if query else "")


def _day_count(exclusion: Exclusion) -> int:
    return (exclusion.end_date - exclusion.start_date).days + 1


# The list -----------------------------------------------------------------------------------------------


class ExclusionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *ApprovalStatus.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    contract = forms.ModelChoiceField(
        label=_("Contract"),
        queryset=Contract.objects.none(),
        required=False,
        empty_label=_("All contracts"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", _("All reasons")), *ExclusionReason.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    service_level = forms.ChoiceField(
        label=_("Service level"),
        required=False,
        help_text=_("Also the exclusions that name no service level: they excuse every one of their contract."),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    month = forms.CharField(
        label=_("Month"),
        required=False,
        help_text=_("Exclusions with at least one day in this month."),
        widget=forms.TextInput(attrs={"type": "month", "class": "form-control", "placeholder": "YYYY-MM"}),
    )
    day_from = forms.DateField(
        label=pgettext_lazy("first day of a period", "From"),
        required=False,
        help_text=_("Exclusions with at least one day in this period."),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    day_to = forms.DateField(
        label=_("To (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        contracts = visible_contracts(user)
        self.fields["contract"].queryset = contracts.order_by("reference")
        # The codes of the service levels of the contracts the user sees (one code may be on several contracts).
        codes = (
            restrict(ServiceLevel.objects.filter(contract__in=contracts), user)
            .order_by("code")
            .values_list("code", flat=True)
            .distinct()
        )
        self.fields["service_level"].choices = [("", _("All service levels")), *((code, code) for code in codes)]
        if user.is_vendor_user:  # they see approved exclusions only: nothing to choose
            del self.fields["status"]

    def clean_month(self) -> datetime.date | None:
        return optional_month(self.cleaned_data["month"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first, last = cleaned.get("day_from"), cleaned.get("day_to")
        if first is not None and last is not None and last < first:
            self.add_error("day_to", _("The period cannot end before its first day."))
            del cleaned["day_from"]  # the period is left out as a whole, not half applied
        return cleaned


def optional_month(value: str) -> datetime.date | None:
    """A month field's "YYYY-MM" as the month's first day (None when empty), or an error saying how to write it."""
    value = value.strip()
    if not value:
        return None
    try:
        return parse_month(value)
    except ValueError as exc:
        raise ValidationError(_("Give the month as YYYY-MM.")) from exc


# The list's filters, as its query string names them; the contract's alone does not narrow a contract's list.
LIST_FILTERS = ("status", "contract", "reason", "service_level", "month", "day_from", "day_to")
NARROWING_FILTERS = tuple(name for name in LIST_FILTERS if name != "contract")


def filtered_exclusions(user, cleaned: dict) -> QuerySet[Exclusion]:
    """The exclusions of the list's filters, proposals first (they wait for someone), then latest days first."""
    contract = cleaned.get("contract")
    day_from, day_to = cleaned.get("day_from"), cleaned.get("day_to")
    filters = {
        "contract": contract.pk if contract else "",
        "status": cleaned.get("status", ""),
        "reason": cleaned.get("reason", ""),
        "service_level": cleaned.get("service_level", ""),
        "day_from": day_from.isoformat() if day_from else "",
        "day_to": day_to.isoformat() if day_to else "",
    }
    exclusions = ExclusionFilterSet(data=filters, queryset=visible_exclusions(user)).qs
    if cleaned.get("month"):
        exclusions = exclusions.filter(overlapping(cleaned["month"]))
    return _with_levels(exclusions.select_related("contract__vendor", "requested_by", "decided_by"), user).order_by(
        Case(When(status=ApprovalStatus.PROPOSED, then=Value(0)), default=Value(1)),
        "-start_date",
        "contract__reference",
        "-pk",
    )


@login_required
@require_GET
def exclusion_list(request):
    """The exclusions the user may see, filtered by status, contract, reason, service level, month and period, a
    page at a time (the pages keep the filters)."""
    user = request.user
    if not may_read_exclusions(user):
        raise PermissionDenied
    form = ExclusionFilterForm(request.GET, user=user)
    form.is_valid()  # a filter in error is named above the list and next to its field and left out; the others apply
    cleaned = form.cleaned_data
    page = Paginator(filtered_exclusions(user, cleaned), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    for exclusion in page:
        exclusion.day_count = _day_count(exclusion)
    contract = cleaned.get("contract")
    may_propose = may_propose_exclusions(user)
    return render(
        request,
        "sla_tracker/exclusions/exclusion_list.html",
        {
            "form": form,
            "page": page,
            "contract": contract,
            "filtered": any(request.GET.get(name) for name in LIST_FILTERS),
            "narrowed": any(cleaned.get(name) for name in NARROWING_FILTERS),
            "may_propose": may_propose,
            "propose_url": _propose_url(contract=contract.pk if contract else None) if may_propose else "",
            "active_section": "exclusions",
        },
    )


# A proposal ---------------------------------------------------------------------------------------------


class ContractChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Contract) -> str:
        return f"{obj.reference} – {obj.title} ({obj.vendor})"


class ProposeExclusionForm(forms.Form):
    """The proposal's fields; the service checks the rules (days within the term, the contract's levels)."""

    contract = ContractChoiceField(
        label=_("Contract"),
        queryset=Contract.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    start_date = forms.DateField(
        label=pgettext_lazy("first day of a period", "From"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    end_date = forms.DateField(
        label=_("To (inclusive)"),
        help_text=_("The same day as “From” for a single day."),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", _("Choose the reason")), *ExclusionReason.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    description = forms.CharField(
        label=_("Description"),
        help_text=_(
            "What happened, and how it caused the failure: an exclusion excuses only the failure its cause "
            "brought about."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        required=False,
        help_text=_("Where the proof is: the incident ticket, the outage notice, the customer's notice…"),
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )
    service_levels = forms.ModelMultipleChoiceField(
        label=_("Service levels"),
        queryset=ServiceLevel.objects.none(),
        required=False,
        help_text=_("None ticked: every service level of the contract."),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        contracts = proposable_contracts(user)
        self.fields["contract"].queryset = contracts.select_related("vendor").order_by("reference")
        # Choosing another contract lists its service levels instead (the page answers htmx with them).
        self.fields["contract"].widget.attrs.update(
            {
                "hx-get": reverse("sla_tracker:exclusion-propose"),
                "hx-trigger": "change",
                "hx-target": "#service-levels",
                "hx-swap": "outerHTML",
            }
        )
        # Any level the user may see is accepted here, so that one of another contract (a page left open
        # while the contract changed) reaches the service, which names it; the boxes are the chosen contract's.
        levels = self.fields["service_levels"]
        levels.queryset = restrict(ServiceLevel.objects.filter(contract__in=contracts), user)
        self.chosen_contract = self._chosen_contract()
        levels.widget.choices = (
            [
                (level.pk, _level_label(level))
                for level in levels.queryset.filter(contract=self.chosen_contract).order_by("display_order", "code")
            ]
            if self.chosen_contract
            else []
        )

    def _chosen_contract(self) -> Contract | None:
        value = self["contract"].value()
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return None
        return self.fields["contract"].queryset.filter(pk=pk).first()


def _level_label(level: ServiceLevel) -> str:
    label = f"{level.code} – {level.name}"
    if level.retired_from:
        return _("%(level)s (retired from %(month)s)") % {"level": label, "month": month_name(level.retired_from)}
    return label


def _propose_url(*, contract: int | None = None, statement: int | None = None) -> str:
    query = urlencode({name: value for name, value in (("contract", contract), ("statement", statement)) if value})
    return reverse("sla_tracker:exclusion-propose") + (f"?{query}" if query else "")


def _int_param(request, name: str) -> int | None:
    try:
        return int(request.GET.get(name, ""))
    except ValueError:
        return None


@login_required
def exclusion_propose(request):
    """Propose an exclusion. From a statement (?statement=) or a contract's list (?contract=), the contract is
    chosen already; choosing another one reloads its service levels (htmx)."""
    user = request.user
    if not may_propose_exclusions(user):
        raise PermissionDenied
    statement = None
    if statement_pk := _int_param(request, "statement"):
        statement = restrict(PenaltyStatement.objects.select_related("contract"), user).filter(pk=statement_pk).first()
    initial_contract = statement.contract_id if statement else _int_param(request, "contract")
    form = ProposeExclusionForm(_posted(request), user=user, initial={"contract": initial_contract})
    if request.method == "GET" and request.headers.get("HX-Request"):  # another contract chosen: its levels
        return render(request, "sla_tracker/exclusions/_service_levels.html", {"form": form})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        exclusion = _run(
            form,
            lambda: propose_exclusion(
                contract=data["contract"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                reason=data["reason"],
                description=data["description"],
                evidence=data["evidence"],
                service_levels=list(data["service_levels"]),
                actor=user,
            ),
        )
        if exclusion is not None:
            # Procurement and administrators may propose too: someone else decides their proposal.
            recorded = (
                _("Your exclusion proposal for %(contract)s was recorded: someone else approves or rejects it.")
                if reviews_statements(user)
                else _("Your exclusion proposal for %(contract)s was recorded: procurement approves or rejects it.")
            )
            messages.success(request, recorded % {"contract": exclusion.contract.reference})
            return redirect("sla_tracker:exclusion", pk=exclusion.pk)
    if statement is not None:
        back_url = reverse("sla_tracker:statement", args=[statement.pk])
    elif form.chosen_contract is not None:
        back_url = list_url(contract=form.chosen_contract.pk)
    else:
        back_url = list_url()
    return render(
        request,
        "sla_tracker/exclusions/propose.html",
        {"form": form, "statement": statement, "back_url": back_url, "active_section": "exclusions"},
    )


# An exclusion's page ------------------------------------------------------------------------------------


def _get_exclusion(user, pk: int) -> Exclusion:
    if not may_read_exclusions(user):
        raise PermissionDenied
    return get_object_or_404(
        _with_levels(visible_exclusions(user).select_related("contract__vendor", "requested_by", "decided_by"), user),
        pk=pk,
    )


# The history's fields that a change of the proposal can touch (the decision is an entry of its own).
_PROPOSAL_FIELDS = ("contract", "start_date", "end_date", "reason", "description", "evidence")


def exclusion_history(exclusion: Exclusion) -> list[dict[str, Any]]:
    """Who proposed it and when, each later change of the proposal (from its recorded versions) with the
    fields changed and, where its service levels changed, which ones it applies to since and before, and
    who decided it and when, oldest first."""
    entries: list[dict[str, Any]] = [
        {"what": _("Proposed"), "who": exclusion.requested_by, "when": exclusion.created_at, "key": "proposed"}
    ]
    versions = list(exclusion.history.select_related("history_user").order_by("history_date", "history_id"))
    levels = _service_levels_by_version(exclusion, versions)
    for previous, version in pairwise(versions):
        if version.history_type != "~" or version.status != ApprovalStatus.PROPOSED:
            continue
        changed = [
            str(Exclusion._meta.get_field(name).verbose_name)
            for name in version.diff_against(previous, included_fields=list(_PROPOSAL_FIELDS)).changed_fields
        ]
        entry = {"what": _("Changed"), "who": version.history_user, "when": version.history_date, "key": "changed"}
        if levels[version.pk] != levels[previous.pk]:
            changed.append(_("service levels"))
            entry["service_levels"] = {"before": levels[previous.pk], "after": levels[version.pk]}
        if changed:
            entries.append({**entry, "fields": changed})
    if exclusion.decided_at is not None:
        what, key = exclusion.get_status_display(), exclusion.status
        entries.append(
            {
                "what": what,
                "who": exclusion.decided_by,
                "when": exclusion.decided_at,
                "key": key,
                "note": exclusion.decision_note,
            }
        )
    return entries


def _service_levels_by_version(exclusion: Exclusion, versions: list) -> dict[int, str]:
    """{version id: the codes of the service levels the exclusion applied to then, or "all" for none named},
    in two queries whatever the number of versions."""
    recorded = Exclusion.history.model.service_levels.model
    rows = recorded.objects.filter(history__in=[version.pk for version in versions]).values_list(
        "history_id", "servicelevel_id"
    )
    by_version: dict[int, set[int]] = defaultdict(set)
    for version_id, level_id in rows:
        by_version[version_id].add(level_id)
    codes = dict(
        ServiceLevel.objects.filter(pk__in=set().union(*by_version.values())).values_list("pk", "code")
        if by_version
        else ()
    )
    every_level = str(_("every service level of the contract"))
    return {
        version.pk: ", ".join(sorted(codes.get(pk, str(pk)) for pk in by_version[version.pk])) or every_level
        for version in versions
    }


@login_required
@require_GET
def exclusion_detail(request, pk: int):
    user = request.user
    exclusion = _get_exclusion(user, pk)
    exclusion.day_count = _day_count(exclusion)
    statements = (
        restrict(PenaltyStatement.objects.all(), user)
        .filter(
            contract_id=exclusion.contract_id,
            month__gte=first_of_month(exclusion.start_date),
            month__lte=first_of_month(exclusion.end_date),
        )
        .order_by("month")
    )
    return render(
        request,
        "sla_tracker/exclusions/exclusion_detail.html",
        {
            "exclusion": exclusion,
            "levels": list(exclusion.service_levels.all()),
            "history": exclusion_history(exclusion),
            "statements": list(statements),
            "decisions": [
                (name, spec)
                for name, spec in DECISIONS.items()
                if exclusion.status == ApprovalStatus.PROPOSED and spec.offered_to(user, exclusion)
            ],
            "proposed_by_user": exclusion.requested_by_id == user.pk,
            "reviewer": reviews_statements(user),
            "contract_list_url": list_url(contract=exclusion.contract_id),
            "active_section": "exclusions",
        },
    )


# Decisions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionSpec:
    service: Callable[..., Exclusion]
    allowed: Callable[[Any], bool]
    title: Any
    button: Any
    button_style: str
    explanation: Any
    done: Any
    note_label: Any
    note_required: bool = False
    for_proposer: bool = False  # offered to who proposed the exclusion only

    def offered_to(self, user, exclusion: Exclusion) -> bool:
        """Whether the exclusion's page offers the step to `user` (the service has the last word)."""
        return self.allowed(user) and (not self.for_proposer or exclusion.requested_by_id == user.pk)


DECISIONS = {
    "approve": DecisionSpec(
        service=lambda **kwargs: decide_exclusion(**kwargs, approve=True),
        allowed=reviews_statements,
        title=_("Approve the exclusion"),
        button=_("Approve"),
        button_style="btn-success",
        explanation=_(
            "Its days leave the counts of the service levels it names, and the contract's open statements are "
            "recomputed. A month whose statement is approved already changes through an adjustment in a later "
            "statement. The decision is final: a correction is a new proposal. Who proposed an exclusion does not "
            "approve it."
        ),
        done=_("The exclusion was approved: the contract's open statements are being recomputed."),
        note_label=_("Note (optional)"),
    ),
    "reject": DecisionSpec(
        service=lambda **kwargs: decide_exclusion(**kwargs, approve=False),
        allowed=reviews_statements,
        title=_("Reject the exclusion"),
        button=_("Reject"),
        button_style="btn-outline-danger",
        explanation=_(
            "The days stay in the counts and no statement changes. The decision is final: a correction is a new "
            "proposal."
        ),
        done=_("The exclusion was rejected."),
        note_label=_("Reason for the rejection (its proposer is told)"),
        note_required=True,
    ),
    "withdraw": DecisionSpec(
        service=withdraw_exclusion,
        allowed=may_propose_exclusions,
        title=_("Withdraw your proposal"),
        button=_("Withdraw"),
        button_style="btn-outline-secondary",
        explanation=_(
            "Your proposal is closed as withdrawn and nobody can approve it any more; it stays on record. To "
            "change it, propose a new one."
        ),
        done=_("Your proposal was withdrawn."),
        note_label=_("Note (optional)"),
        for_proposer=True,
    ),
}


class DecisionForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}))

    def __init__(self, *args, spec: DecisionSpec, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].label = spec.note_label
        self.fields["note"].required = spec.note_required


@login_required
def exclusion_decision(request, pk: int, decision: str):
    """Approve, reject or withdraw, after a confirmation (GET); the service's refusal is shown on the page."""
    spec = DECISIONS.get(decision)
    if spec is None:
        raise Http404
    user = request.user
    exclusion = _get_exclusion(user, pk)
    if not spec.allowed(user):
        raise PermissionDenied
    form = DecisionForm(_posted(request), spec=spec)
    if (
        request.method == "POST"
        and form.is_valid()
        and _run(form, lambda: spec.service(exclusion_id=exclusion.pk, actor=user, note=form.cleaned_data["note"]))
        is not None
    ):
        messages.success(request, spec.done)
        return redirect("sla_tracker:exclusion", pk=exclusion.pk)
    exclusion.day_count = _day_count(exclusion)
    return render(
        request,
        "sla_tracker/exclusions/confirm.html",
        {
            "exclusion": exclusion,
            "levels": list(exclusion.service_levels.all()),
            "spec": spec,
            "form": form,
            "active_section": "exclusions",
        },
    )


def _posted(request):
    return request.POST if request.method == "POST" else None


def _run(form: forms.Form, call: Callable):
    """Call the service; its ValidationError becomes the form's errors, next to their fields (None is
    returned then)."""
    try:
        return call()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return None


# On a statement's pages ---------------------------------------------------------------------------------


def statement_exclusions(user, statement: PenaltyStatement) -> dict[str, Any]:
    """What the statement page's exclusions block adds to the approved exclusions it shows already: the
    month's proposals waiting for a decision, and the links to propose one and to the contract's list."""
    proposals = (
        visible_exclusions(user)
        .filter(overlapping(statement.month), contract_id=statement.contract_id, status=ApprovalStatus.PROPOSED)
        .select_related("requested_by")
        .order_by("start_date", "pk")
    )
    may_read = may_read_exclusions(user)
    return {
        "exclusion_proposals": list(_with_levels(proposals, user)) if may_read else [],
        "exclusions_url": list_url(contract=statement.contract_id, month=month_label(statement.month))
        if may_read
        else "",
        # Who sees the statement sees its contract: the permission is all it takes.
        "propose_exclusion_url": _propose_url(statement=statement.pk) if may_propose_exclusions(user) else "",
    }


def statement_action_warnings(user, statement: PenaltyStatement, action: str) -> list[dict[str, str]]:
    """What the confirmation of submitting or approving `statement` warns about (a warning, never a refusal):
    the month's exclusion proposals still undecided, and its KPI data still incomplete. Each warning is
    {"text", "url", "link"} (no link: empty url)."""
    if action not in WARNED_STATEMENT_ACTIONS:
        return []
    month = date_format(statement.month, "YEAR_MONTH_FORMAT")
    warnings = []
    undecided = (
        visible_exclusions(user)
        .filter(overlapping(statement.month), contract_id=statement.contract_id, status=ApprovalStatus.PROPOSED)
        .count()
    )
    if undecided:
        if action == "approve":
            text = ngettext(
                "%(count)d exclusion proposal for days of %(month)s is still undecided: approved after this "
                "statement, it changes the month only through an adjustment in a later statement.",
                "%(count)d exclusion proposals for days of %(month)s are still undecided: approved after this "
                "statement, they change the month only through an adjustment in a later statement.",
                undecided,
            )
        else:
            text = ngettext(
                "%(count)d exclusion proposal for days of %(month)s is still undecided: if it is approved, the "
                "statement is recomputed.",
                "%(count)d exclusion proposals for days of %(month)s are still undecided: if they are approved, "
                "the statement is recomputed.",
                undecided,
            )
        warnings.append(
            {
                "key": "undecided-exclusions",
                "text": text % {"count": undecided, "month": month},
                "url": list_url(
                    contract=statement.contract_id, month=month_label(statement.month), status=ApprovalStatus.PROPOSED
                ),
                "link": str(_("See the proposals")),
            }
        )
    if action == "approve":
        warnings.extend(_earlier_months_open(statement))
    data = completeness(user, [statement.contract], [statement.month], timezone.localdate())[
        (statement.contract_id, statement.month)
    ]
    if not data.complete:
        gaps = "; ".join(
            _("%(counter)s: %(days)s") % {"counter": counter.code, "days": counter.ranges} for counter in data.gaps
        )
        text = _(
            "The KPI data of %(month)s is %(percent)s %% complete; days are missing (%(gaps)s). The statement is "
            "computed from the data present."
        ) % {"month": month, "percent": data.percent, "gaps": gaps}
        readable = contracts_for_kpi_reading(user).filter(pk=statement.contract_id).exists()
        warnings.append(
            {
                "key": "incomplete-data",
                "text": text,
                "url": reverse("sla_tracker:kpi-grid", args=[statement.contract_id, month_label(statement.month)])
                if readable
                else "",
                "link": str(_("See the month's data")) if readable else "",
            }
        )
    return warnings


def _earlier_months_open(statement: PenaltyStatement) -> list[dict[str, str]]:
    """Approving a month while an earlier one of the contract is still open: that month's history (runs,
    windows, earn-backs, the annual cap) may still change, and then reaches this one only as an adjustment."""
    earlier = list(
        PenaltyStatement.objects.filter(
            contract_id=statement.contract_id,
            month__lt=statement.month,
            status__in=[StatementStatus.DRAFT, StatementStatus.IN_REVIEW, StatementStatus.DISPUTED],
        )
        .order_by("month")
        .values_list("pk", "month")
    )
    if not earlier:
        return []
    text = ngettext(
        "An earlier month is still open (%(months)s): a change to it reaches this month, once approved, only "
        "through an adjustment in a later statement.",
        "Earlier months are still open (%(months)s): a change to them reaches this month, once approved, only "
        "through an adjustment in a later statement.",
        len(earlier),
    ) % {"months": ", ".join(date_format(month, "YEAR_MONTH_FORMAT") for _pk, month in earlier)}
    first_pk = earlier[0][0]
    link = _("See %(month)s") % {"month": date_format(earlier[0][1], "YEAR_MONTH_FORMAT")}
    return [
        {
            "key": "earlier-months-open",
            "text": text,
            "url": reverse("sla_tracker:statement", args=[first_pk]),
            "link": str(link),
        }
    ]
