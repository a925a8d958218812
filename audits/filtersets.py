"""Filters of audit rights, audits and findings, shared by the REST API and the web lists."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from audits.choices import FindingStatus
from audits.models import Audit, AuditRight, Finding
from contracts.filtersets import ContractBoundFilterSet, IdFilter, SearchFilterSet, StrictBooleanFilter


class AuditRightFilterSet(ContractBoundFilterSet):
    search_fields = ("clause_reference", "clause_text")

    class Meta:
        model = AuditRight
        fields = ["cost_bearer"]


class AuditFilterSet(SearchFilterSet):
    search_fields = ("reference", "auditor_name", "scope_description", "report_summary")

    audit_right = IdFilter(field_name="audit_right")
    contract = IdFilter(field_name="audit_right__contract")
    vendor = IdFilter(field_name="audit_right__contract__vendor")
    fieldwork_after = django_filters.DateFilter(field_name="fieldwork_start", lookup_expr="gte")
    fieldwork_before = django_filters.DateFilter(field_name="fieldwork_start", lookup_expr="lte")

    class Meta:
        model = Audit
        fields = ["status", "audit_type", "auditor_kind"]


class FindingFilterSet(SearchFilterSet):
    search_fields = ("title", "description", "clause_breached")

    audit = IdFilter(field_name="audit")
    contract = IdFilter(field_name="audit__audit_right__contract")
    vendor = IdFilter(field_name="audit__audit_right__contract__vendor")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    overdue = StrictBooleanFilter(method="filter_overdue", label="Not settled and past its due date")

    class Meta:
        model = Finding
        fields = ["status", "severity", "addressed_to_vendor"]

    def filter_overdue(self, queryset, name, value):
        overdue = ~Q(status__in=FindingStatus.settled_values()) & Q(due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
