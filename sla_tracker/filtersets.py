"""Filters of service levels, KPI data and statements, shared by the REST API and the web lists."""

import django_filters
from django.db.models import Exists, OuterRef

from contracts.filtersets import MONTH_INPUT_FORMATS, ContractBoundFilterSet, IdFilter, SearchFilterSet, month_range
from sla_tracker.models import (
    AdjustmentDispute,
    CloseRefusal,
    Exclusion,
    Incident,
    KpiCounter,
    KpiUpload,
    LineDispute,
    Measurement,
    PenaltyStatement,
    ServiceLevel,
    ServiceLevelVersion,
    StatementAdjustment,
    StatementLine,
)


class KpiCounterFilterSet(SearchFilterSet):
    search_fields = ("code", "name", "description")

    class Meta:
        model = KpiCounter
        fields = ["channel", "unit"]


class ServiceLevelFilterSet(ContractBoundFilterSet):
    search_fields = ("code", "name", "description")

    class Meta:
        model = ServiceLevel
        fields = ["code"]


class ServiceLevelVersionFilterSet(SearchFilterSet):
    search_fields = ("service_level__code", "service_level__name", "clause_reference")

    service_level = IdFilter(field_name="service_level")
    contract = IdFilter(field_name="service_level__contract")
    vendor = IdFilter(field_name="service_level__contract__vendor")
    month_after, month_before = month_range("valid_from")

    class Meta:
        model = ServiceLevelVersion
        fields = ["kind", "credit_type"]


class MeasurementFilterSet(ContractBoundFilterSet):
    search_fields = ("counter__code", "counter__name")

    counter = django_filters.CharFilter(field_name="counter__code")
    month_after, month_before = month_range()
    day_after = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    day_before = django_filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = Measurement
        fields = ["source"]


class KpiUploadFilterSet(SearchFilterSet):
    """A contract's KPI packs (its path names the contract): by status, or by the file's name."""

    search_fields = ("original_name",)

    class Meta:
        model = KpiUpload
        fields = ["status"]


class ExclusionFilterSet(ContractBoundFilterSet):
    search_fields = ("description", "evidence")
    month_after, month_before = month_range("end_date")
    service_level = django_filters.CharFilter(method="excusing", label="Service level code")
    # Exclusions with at least one day from `day_from` to `day_to` (either bound alone is open-ended).
    day_from = django_filters.DateFilter(field_name="end_date", lookup_expr="gte", label="With days from")
    day_to = django_filters.DateFilter(field_name="start_date", lookup_expr="lte", label="With days until")

    class Meta:
        model = Exclusion
        fields = ["status", "reason"]

    def excusing(self, queryset, name, value):
        """The exclusions that excuse the service level of this code: those that name it, and those that name
        none (every service level of their contract) on a contract that has it."""
        named = Exclusion.service_levels.through.objects.filter(exclusion=OuterRef("pk"))
        return queryset.filter(
            Exists(named.filter(servicelevel__code=value))
            | (~Exists(named) & Exists(ServiceLevel.objects.filter(contract=OuterRef("contract"), code=value)))
        )


class IncidentFilterSet(ContractBoundFilterSet):
    search_fields = ("title", "root_cause")
    month_after, month_before = month_range()

    class Meta:
        model = Incident
        fields = []


class PenaltyStatementFilterSet(ContractBoundFilterSet):
    search_fields = ("contract__reference", "contract__title", "invoice_reference")
    month_after, month_before = month_range()

    class Meta:
        model = PenaltyStatement
        fields = ["status", "currency", "cap_reached"]


class StatementLineFilterSet(SearchFilterSet):
    search_fields = ("service_level__code", "service_level__name", "explanation")

    statement = IdFilter(field_name="statement")
    contract = IdFilter(field_name="statement__contract")
    vendor = IdFilter(field_name="statement__contract__vendor")
    service_level = IdFilter(field_name="service_level")
    month_after, month_before = month_range("statement__month")

    class Meta:
        model = StatementLine
        fields = ["status", "waived", "provisional"]


class LineDisputeFilterSet(SearchFilterSet):
    search_fields = ("reason", "resolution")

    statement = IdFilter(field_name="line__statement")
    contract = IdFilter(field_name="line__statement__contract")
    vendor = IdFilter(field_name="line__statement__contract__vendor")
    line = IdFilter(field_name="line")
    month_after, month_before = month_range("line__statement__month")

    class Meta:
        model = LineDispute
        fields = ["status"]


class StatementAdjustmentFilterSet(SearchFilterSet):
    search_fields = ("service_level__code", "service_level__name", "reason")

    statement = IdFilter(field_name="statement")
    origin = IdFilter(field_name="origin")
    contract = IdFilter(field_name="statement__contract")
    vendor = IdFilter(field_name="statement__contract__vendor")
    service_level = IdFilter(field_name="service_level")
    month_after, month_before = month_range("statement__month")

    class Meta:
        model = StatementAdjustment
        fields = ["waived"]


class AdjustmentDisputeFilterSet(SearchFilterSet):
    search_fields = ("reason", "resolution")

    statement = IdFilter(field_name="adjustment__statement")
    contract = IdFilter(field_name="adjustment__statement__contract")
    vendor = IdFilter(field_name="adjustment__statement__contract__vendor")
    adjustment = IdFilter(field_name="adjustment")
    month_after, month_before = month_range("adjustment__statement__month")

    class Meta:
        model = AdjustmentDispute
        fields = ["status"]


class CloseRefusalFilterSet(ContractBoundFilterSet):
    search_fields = ("contract__reference", "message")

    month = django_filters.DateFilter(input_formats=MONTH_INPUT_FORMATS, label="Month (YYYY-MM)")
    month_after, month_before = month_range()

    class Meta:
        model = CloseRefusal
        fields = ["code"]
