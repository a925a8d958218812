"""Filters of the contract register, shared by the REST API and the web lists (one FilterSet per model).

`SearchFilterSet` and `month_range` are the common parts every app's filtersets build on: a free-text
`q` over a model's `search_fields`, and `month_after`/`month_before` bounds (YYYY-MM or a date).
"""

from functools import reduce
from operator import or_

import django_filters
from django import forms
from django.db import models
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from contracts.models import Amendment, Contract, ContractScope, MonthlyCharge, Vendor

MONTH_INPUT_FORMATS = ["%Y-%m", "%Y-%m-%d"]
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number within the database's integer range (an unknown id filters to nothing)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """`true` or `false`; anything else is a 400 (a boolean filter would ignore it and return every row)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


def month_range(field_name: str = "month") -> tuple[django_filters.DateFilter, django_filters.DateFilter]:
    """`month_after` and `month_before` filters (both inclusive) on a first-of-month date field."""
    after = django_filters.DateFilter(
        field_name=field_name, lookup_expr="gte", input_formats=MONTH_INPUT_FORMATS, label="From month (YYYY-MM)"
    )
    before = django_filters.DateFilter(
        field_name=field_name, lookup_expr="lte", input_formats=MONTH_INPUT_FORMATS, label="Until month (YYYY-MM)"
    )
    return after, before


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with `q`: a case-insensitive search over the model's `search_fields`. The filters of the
    model's boolean fields listed in ``Meta.fields`` take `true` or `false` only (StrictBooleanFilter)."""

    FILTER_DEFAULTS = {
        **django_filters.filterset.FILTER_FOR_DBFIELD_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }
    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", label="Search")

    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        return queryset.filter(self.search_terms(value.strip()))

    def search_terms(self, value: str) -> Q:
        return reduce(or_, [Q(**{f"{field}__icontains": value}) for field in self.search_fields])


class ContractBoundFilterSet(SearchFilterSet):
    """For rows under a contract: `contract` and `vendor` by id (unknown ids give an empty list)."""

    contract = IdFilter(field_name="contract")
    vendor = IdFilter(field_name="contract__vendor")


class VendorFilterSet(SearchFilterSet):
    search_fields = ("name", "legal_name", "registration_number")

    class Meta:
        model = Vendor
        fields = ["country", "is_active"]


class ContractFilterSet(SearchFilterSet):
    search_fields = ("reference", "title", "vendor__name")

    vendor = IdFilter(field_name="vendor")
    owner = IdFilter(field_name="owner")
    end_after = django_filters.DateFilter(field_name="end_date", lookup_expr="gte")
    end_before = django_filters.DateFilter(field_name="end_date", lookup_expr="lte")

    class Meta:
        model = Contract
        fields = ["status", "currency", "renewal_type"]


class ContractScopeFilterSet(ContractBoundFilterSet):
    search_fields = ("languages", "notes")

    class Meta:
        model = ContractScope
        fields = ["channel", "coverage_days"]


class MonthlyChargeFilterSet(ContractBoundFilterSet):
    search_fields = ("notes",)
    month_after, month_before = month_range()

    class Meta:
        model = MonthlyCharge
        fields = ["currency"]


class AmendmentFilterSet(ContractBoundFilterSet):
    search_fields = ("title", "summary", "document_reference")

    class Meta:
        model = Amendment
        fields = []
