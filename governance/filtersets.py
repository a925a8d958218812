"""Filters of committees, meetings, decisions and action items, shared by the REST API and the web lists."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from contracts.filtersets import IdFilter, SearchFilterSet, StrictBooleanFilter
from governance.choices import ActionStatus, MinutesStatus
from governance.models import ActionItem, Committee, Decision, Meeting


class VendorOfCommitteeMixin:
    """`vendor` for rows under a committee: a vendor-wide committee matches its vendor directly."""

    committee_path = ""

    def filter_vendor(self, queryset, name, value):
        path = self.committee_path
        return queryset.filter(Q(**{f"{path}vendor": value}) | Q(**{f"{path}contract__vendor": value}))


class CommitteeFilterSet(VendorOfCommitteeMixin, SearchFilterSet):
    search_fields = ("name", "terms_of_reference")
    contract = IdFilter(field_name="contract")
    vendor = IdFilter(method="filter_vendor")

    class Meta:
        model = Committee
        fields = ["tier", "cadence", "is_active"]


class MeetingFilterSet(VendorOfCommitteeMixin, SearchFilterSet):
    committee_path = "committee__"
    search_fields = ("committee__name", "location")  # and the minutes the reader may read (search_terms)
    committee = IdFilter(field_name="committee")
    contract = IdFilter(field_name="committee__contract")
    vendor = IdFilter(method="filter_vendor")
    month_after = django_filters.DateFilter(
        field_name="scheduled_for", lookup_expr="date__gte", input_formats=["%Y-%m", "%Y-%m-%d"]
    )
    month_before = django_filters.DateFilter(method="filter_month_before", input_formats=["%Y-%m", "%Y-%m-%d"])

    class Meta:
        model = Meeting
        fields = ["status", "minutes_status"]

    def search_terms(self, value: str) -> Q:
        """A vendor's users search only the minutes they may read (not drafts: governance.selectors.minutes_withheld),
        or a search would tell them what a draft says."""
        minutes = Q(minutes__icontains=value)
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated or user.is_vendor_user:
            minutes &= ~Q(minutes_status=MinutesStatus.DRAFT)
        return super().search_terms(value) | minutes

    def filter_month_before(self, queryset, name, value):
        """Meetings up to the end of that month (a date counts as its month)."""
        return queryset.filter(scheduled_for__year__lte=value.year).exclude(
            scheduled_for__year=value.year, scheduled_for__month__gt=value.month
        )


class DecisionFilterSet(VendorOfCommitteeMixin, SearchFilterSet):
    committee_path = "meeting__committee__"
    search_fields = ("text",)
    meeting = IdFilter(field_name="meeting")
    committee = IdFilter(field_name="meeting__committee")
    contract = IdFilter(field_name="meeting__committee__contract")
    vendor = IdFilter(method="filter_vendor")

    class Meta:
        model = Decision
        fields = []


class ActionItemFilterSet(SearchFilterSet):
    search_fields = ("title", "description")
    meeting = IdFilter(field_name="meeting")
    committee = IdFilter(field_name="meeting__committee")
    finding = IdFilter(field_name="finding")
    owner = IdFilter(field_name="owner")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    overdue = StrictBooleanFilter(method="filter_overdue", label="Open and past its due date")

    class Meta:
        model = ActionItem
        fields = ["status"]

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=ActionStatus.open_values(), due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
