"""The back office of service levels, KPI data and statements.

Contract terms, exclusions and incidents are edited here, their history recorded (past versions are
shown, never restored). Terms that a month with an approved statement applies are fixed
(sla_tracker.models.terms): their edits and deletions are refused, naming the month; a version's page
also shows the history of its tiers and multipliers. A proposed exclusion is approved or rejected
with the list's actions (procurement), after which it is final. KPI data and statements are written
by the domain's services only, which validate and record each change: measurements by the KPI import
service (the upload pages, the month's grid and the API), statements by the monthly close and their
transitions (submit, approve, reopen, invoice, waive a line or an adjustment, dispute and resolve) on the
statement page and the API's actions.
Their pages here are view-only, with "View on site" leading to the page where people act on them.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from accounts.roles import reviews_statements
from accounts.scoping import ScopedAdminMixin
from config.admin import DeletionRefusalAdminMixin, ReadOnlyHistoryMixin, ReadOnlyInline, ViewOnlyAdminMixin
from contracts.admin import add_contract_inline, month_column
from contracts.months import month_label
from sla_tracker import services
from sla_tracker.choices import ApprovalStatus
from sla_tracker.models import (
    AdjustmentDispute,
    CloseRefusal,
    ColumnMapping,
    CreditMultiplier,
    CreditTier,
    Exclusion,
    Incident,
    KpiCounter,
    KpiUpload,
    LineDispute,
    Measurement,
    MeasurementChange,
    PenaltyRegime,
    PenaltyStatement,
    ServiceLevel,
    ServiceLevelVersion,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
    TerminationTrigger,
)
from sla_tracker.models.data import validate_service_levels_of
from sla_tracker.penalty_inputs import tier_problems


class FixedTermsFormSet(BaseInlineFormSet):
    """Inline terms rows: a row marked for deletion is refused, like an edit, once a month it applies to
    is approved (sla_tracker.models.terms.TermsRow); edits are refused by the rows' own validation."""

    def clean(self) -> None:
        super().clean()
        refusals = [
            f"{form.instance}: {refusal}"
            for form in self.forms
            if self.can_delete
            and self._should_delete_form(form)
            and form.instance.pk is not None
            and (refusal := form.instance.deletion_refusal())
        ]
        if refusals:
            raise ValidationError(refusals)


class ServiceLevelInline(admin.TabularInline):
    model = ServiceLevel
    extra = 0
    fields = ("code", "name", "display_order", "retired_from")
    show_change_link = True


class PenaltyRegimeInline(admin.TabularInline):
    model = PenaltyRegime
    formset = FixedTermsFormSet
    extra = 0


class TerminationTriggerInline(admin.TabularInline):
    model = TerminationTrigger
    extra = 0


add_contract_inline(PenaltyRegimeInline)
add_contract_inline(ServiceLevelInline)
add_contract_inline(TerminationTriggerInline)


@admin.register(KpiCounter)
class KpiCounterAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "channel", "unit", "must_not_exceed")
    list_filter = ("channel", "unit")
    search_fields = ("code", "name")
    list_select_related = ("must_not_exceed",)


@admin.register(PenaltyRegime)
class PenaltyRegimeAdmin(DeletionRefusalAdminMixin, ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("contract", "valid_from", "at_risk_pct", "pool_pct", "annual_cap_pct")
    list_filter = ("contract__vendor",)
    search_fields = ("contract__reference",)
    list_select_related = ("contract",)


@admin.register(TerminationTrigger)
class TerminationTriggerAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("contract", "trigger_type", "months", "window")
    list_filter = ("trigger_type",)
    search_fields = ("contract__reference", "clause_reference")
    list_select_related = ("contract",)


class ServiceLevelVersionInline(admin.StackedInline):
    model = ServiceLevelVersion
    formset = FixedTermsFormSet
    extra = 0
    show_change_link = True


@admin.register(ServiceLevel)
class ServiceLevelAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "name", "contract", "display_order", "retired_from")
    list_filter = ("contract__vendor", "contract")
    search_fields = ("code", "name", "contract__reference")
    list_select_related = ("contract",)
    inlines = [ServiceLevelVersionInline]


class CreditTierFormSet(FixedTermsFormSet):
    """A version's tier rows must form bands without overlap or gap that reach over the whole missing side
    of its target, as a scenario's must (the engine's band_problems): a value outside every band would be a
    default that no band prices, and overlapping bands price one value twice."""

    def clean(self) -> None:
        super().clean()
        rows = [form.cleaned_data for form in self.forms if form.cleaned_data and not self._should_delete_form(form)]
        bands = [
            (row["lower"], row.get("upper"), row["pct"])
            for row in rows
            if row.get("lower") is not None and row.get("pct") is not None
        ]
        if problems := tier_problems(self.instance, bands):
            raise ValidationError(problems)


class CreditTierInline(admin.TabularInline):
    model = CreditTier
    formset = CreditTierFormSet
    extra = 0


class CreditMultiplierInline(admin.TabularInline):
    model = CreditMultiplier
    formset = FixedTermsFormSet
    extra = 0


@admin.register(ServiceLevelVersion)
class ServiceLevelVersionAdmin(DeletionRefusalAdminMixin, ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """A version's history page also lists its tiers' and multipliers' changes (edited in its inlines)."""

    list_display = ("service_level", "valid_from", "kind", "direction", "expected", "credit_type")
    list_filter = ("kind", "credit_type", "direction")
    search_fields = ("service_level__code", "service_level__name", "service_level__contract__reference")
    list_select_related = ("service_level__contract",)
    inlines = [CreditTierInline, CreditMultiplierInline]
    object_history_template = "admin/sla_tracker/servicelevelversion/object_history.html"

    def history_view(self, request, object_id, extra_context=None):
        parts = []
        if self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            parts = [part_history(model, unquote(object_id)) for model in (CreditTier, CreditMultiplier)]
        return super().history_view(request, object_id, {**(extra_context or {}), "part_histories": parts})


def part_history(model, version_id) -> dict:
    """The history of a version's tiers or multipliers, newest first, each change with its old and new values."""
    records = list(
        model.history.filter(version_id=version_id).select_related("history_user").order_by("id", "history_id")
    )
    previous = {}
    for record in records:
        before = previous.get(record.id)
        record.changes = []
        if before is not None and record.history_type == "~":
            delta = record.diff_against(before)
            record.changes = HistoricalRecordContextHelper(model, record).context_for_delta_changes(delta)
        previous[record.id] = record
    records.sort(key=lambda record: (record.history_date, record.history_id), reverse=True)
    return {"title": model._meta.verbose_name_plural, "records": records}


@admin.register(ColumnMapping)
class ColumnMappingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "contract", "date_column", "created_by", "created_at")
    search_fields = ("name", "contract__reference")
    list_filter = ("contract__vendor",)
    list_select_related = ("contract", "created_by")


@admin.register(KpiUpload)
class KpiUploadAdmin(ViewOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Uploads are received, checked and imported by the KPI import service (upload pages and API):
    their status decides what may be imported."""

    list_display = ("original_name", "contract", "status", "rows_total", "rows_done", "uploaded_by", "created_at")
    list_filter = ("status", "contract__vendor")
    search_fields = ("original_name", "sha256", "contract__reference")
    list_select_related = ("contract", "uploaded_by")
    date_hierarchy = "created_at"

    def view_on_site(self, obj: KpiUpload) -> str:
        return reverse("sla_tracker:kpi-upload", args=[obj.pk])


@admin.register(Measurement)
class MeasurementAdmin(ViewOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Values change through the KPI import service (files, the month's grid, the API), which refuses
    a month whose statement is approved and logs every change with who and when."""

    list_display = ("contract", "counter", month_column, "day", "value", "source", "updated_at")
    list_filter = ("source", "counter__channel", "contract__vendor")
    search_fields = ("contract__reference", "counter__code")
    list_select_related = ("contract", "counter")
    # Months are browsed on the KPI pages: a date hierarchy here scanned the whole table (millions of
    # rows) for its distinct months and range on every visit.
    show_full_result_count = False

    def view_on_site(self, obj: Measurement) -> str:
        return reverse("sla_tracker:kpi-grid", args=[obj.contract_id, month_label(obj.month)])


@admin.register(MeasurementChange)
class MeasurementChangeAdmin(ViewOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The KPI data's change log, written by the KPI import service beside the values."""

    list_display = (
        "contract",
        "counter",
        "day",
        month_column,
        "action",
        "old_value",
        "new_value",
        "changed_by",
        "changed_at",
    )
    list_filter = ("action", "source")
    search_fields = ("contract__reference", "counter__code", "correction_reason")
    list_select_related = ("contract", "counter", "changed_by")
    # As large as the measurements: no date hierarchy (a scan of the whole log), no unfiltered count.
    show_full_result_count = False

    def view_on_site(self, obj: MeasurementChange) -> str:
        return reverse("sla_tracker:kpi-history", args=[obj.contract_id, month_label(obj.month)])


class ServiceLevelsOfTheContractForm(forms.ModelForm):
    """The service levels chosen must be the contract's own (sla_tracker.models.data.validate_service_levels_of)."""

    def clean(self):
        data = super().clean()
        contract = data.get("contract") or getattr(self.instance, "contract", None)
        validate_service_levels_of(contract, data.get("service_levels"))
        return data


@admin.register(Exclusion)
class ExclusionAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Proposed here (or through the API); decided by procurement with the actions, then final."""

    form = ServiceLevelsOfTheContractForm

    list_display = ("contract", "start_date", "end_date", "reason", "status", "decided_by")
    list_filter = ("status", "reason")
    search_fields = ("contract__reference", "description")
    list_select_related = ("contract", "decided_by")
    filter_horizontal = ("service_levels",)
    readonly_fields = ("status", "requested_by", "decided_by", "decided_at", "decision_note")
    # Approving in bulk only: a rejection gives its reason, on the exclusion's page or in the API.
    actions = ("approve_exclusions",)

    def has_change_permission(self, request, obj=None) -> bool:
        # A decision is final, and a proposal is changed by its proposer only (a reviewer approves or rejects).
        decided = obj is not None and obj.status != ApprovalStatus.PROPOSED
        someone_elses = obj is not None and obj.requested_by_id != request.user.pk
        return not (decided or someone_elses) and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.requested_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        # Its service levels are recorded with the version the save just wrote (the exclusion's history).
        with services.exclusion_service_levels_recorded(form.instance):
            super().save_related(request, form, formsets, change)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not reviews_statements(request.user):
            actions.pop("approve_exclusions", None)
        return actions

    @admin.action(description=_("Approve the selected proposed exclusions"))
    def approve_exclusions(self, request, queryset) -> None:
        if not reviews_statements(request.user):
            raise PermissionDenied
        decided = 0
        for exclusion in queryset.order_by("pk"):
            try:
                services.decide_exclusion(exclusion_id=exclusion.pk, actor=request.user, approve=True)
            except ValidationError as exc:
                self.message_user(request, f"{exclusion}: {'; '.join(exc.messages)}", messages.WARNING)
            else:
                decided += 1
        self.message_user(request, _("%(count)d exclusion(s) decided.") % {"count": decided}, messages.SUCCESS)


@admin.register(Incident)
class IncidentAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    form = ServiceLevelsOfTheContractForm
    list_display = ("title", "contract", "occurred_on", "selected_service_level")
    list_filter = ("contract__vendor",)
    search_fields = ("title", "root_cause", "contract__reference")
    list_select_related = ("contract", "selected_service_level__contract")
    filter_horizontal = ("service_levels",)


def statement_page(statement_id: int) -> str:
    """The statement's web page, where its transitions are made."""
    return reverse("sla_tracker:statement", args=[statement_id])


class StatementLineInline(ReadOnlyInline):
    model = StatementLine
    fields = ("service_level", "status", "measured", "run", "raw_credit", "credit", "bonus", "earn_back", "waived")


class StatementEventInline(ReadOnlyInline):
    model = StatementEvent
    fields = ("created_at", "action", "cause", "actor", "line", "adjustment", "note")
    readonly_fields = fields
    show_change_link = False


@admin.register(PenaltyStatement)
class PenaltyStatementAdmin(ViewOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Statements are computed by the monthly close and move through review by sla_tracker.services,
    from the statement page and the API's actions; an approved one is never changed."""

    list_display = (
        "contract",
        month_column,
        "status",
        "currency",
        "credits",
        "bonuses",
        "earn_backs",
        "net",
        "cap_reached",
    )
    list_filter = ("status", "cap_reached", "currency", "contract__vendor")
    search_fields = ("contract__reference", "invoice_reference")
    list_select_related = ("contract",)
    date_hierarchy = "month"
    inlines = [StatementLineInline, StatementEventInline]

    def view_on_site(self, obj: PenaltyStatement) -> str:
        return statement_page(obj.pk)


@admin.register(StatementLine)
class StatementLineAdmin(ViewOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Lines are computed by the close; a waiver is made on the statement page or through the API."""

    list_display = ("statement", "service_level", "status", "measured", "credit", "waived")
    list_filter = ("status", "waived", "provisional")
    search_fields = ("statement__contract__reference", "service_level__code")
    list_select_related = ("statement__contract", "service_level__contract")

    def view_on_site(self, obj: StatementLine) -> str:
        return statement_page(obj.statement_id)


class DisputeAdmin(ViewOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Disputes are raised (their evidence checked by sla_tracker.evidence) and resolved by
    sla_tracker.services, on the statement page and through the API."""

    list_filter = ("status",)
    readonly_fields = ("evidence_link",)

    def view_on_site(self, obj: LineDispute | AdjustmentDispute) -> str:
        return statement_page(obj.statement.pk)

    def get_fields(self, request, obj=None):
        """The evidence as a link to its download page: media files are not served (they are not public)."""
        return [
            ("evidence_link" if name == "evidence" else name)
            for name in super().get_fields(request, obj)
            if name != "evidence_link"
        ]

    @admin.display(description=_("evidence"))
    def evidence_link(self, obj: LineDispute | AdjustmentDispute) -> str:
        if not obj.evidence:
            return "-"
        return format_html('<a href="{}">{}</a>', obj.evidence_url, obj.evidence.name)


@admin.register(LineDispute)
class LineDisputeAdmin(DisputeAdmin):
    list_display = ("line", "status", "raised_by", "created_at", "resolved_by")
    search_fields = ("reason", "line__statement__contract__reference")
    list_select_related = ("line__statement__contract", "line__service_level", "raised_by", "resolved_by")


@admin.register(AdjustmentDispute)
class AdjustmentDisputeAdmin(DisputeAdmin):
    list_display = ("adjustment", "status", "raised_by", "created_at", "resolved_by")
    search_fields = ("reason", "adjustment__statement__contract__reference")
    list_select_related = (
        "adjustment__statement__contract",
        "adjustment__origin__contract",
        "adjustment__service_level",
        "raised_by",
        "resolved_by",
    )


@admin.register(StatementAdjustment)
class StatementAdjustmentAdmin(ViewOnlyAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Corrections of approved months, carried into a later statement by the close; a waiver is made on the
    statement page or through the API."""

    list_display = ("statement", "origin", "service_level", "amount", "waived", "created_at")
    list_filter = ("waived", "statement__contract__vendor", "statement__currency")
    search_fields = ("statement__contract__reference", "reason")
    list_select_related = ("statement__contract", "origin__contract", "service_level__contract")

    def view_on_site(self, obj: StatementAdjustment) -> str:
        return statement_page(obj.statement_id)


@admin.register(StatementEvent)
class StatementEventAdmin(ViewOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The statements' audit trail, written by the services with each computation and transition."""

    list_display = ("statement", "action", "cause", "actor", "created_at")
    list_filter = ("action", "cause")
    search_fields = ("statement__contract__reference", "note")
    list_select_related = ("statement__contract", "actor")
    date_hierarchy = "created_at"

    def view_on_site(self, obj: StatementEvent) -> str:
        return statement_page(obj.statement_id)


@admin.register(CloseRefusal)
class CloseRefusalAdmin(ViewOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Months the close could not compute, kept by the close until a close of them succeeds."""

    list_display = ("contract", month_column, "code", "attempts", "first_refused_at", "refused_at")
    list_filter = ("code", "contract__vendor")
    search_fields = ("contract__reference", "message")
    list_select_related = ("contract",)
    readonly_fields = ("reason_in_your_language",)

    @admin.display(description=_("reason in your language"))
    def reason_in_your_language(self, obj: CloseRefusal) -> str:
        return obj.readable_message

    def view_on_site(self, obj: CloseRefusal) -> str:
        return obj.contract.get_absolute_url()
