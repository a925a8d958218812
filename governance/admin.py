from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.scoping import ScopedAdminMixin
from config.admin import ReadOnlyHistoryMixin, ReadOnlyInline, ServiceAdminMixin
from contracts.admin import add_contract_inline
from governance import services
from governance.choices import MinutesStatus
from governance.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Committee,
    CommitteeMember,
    Decision,
    Meeting,
)


class CommitteeInline(admin.TabularInline):
    model = Committee
    extra = 0
    fields = ("name", "tier", "cadence", "quorum", "is_active")
    show_change_link = True


add_contract_inline(CommitteeInline)


class CommitteeMemberInline(admin.TabularInline):
    model = CommitteeMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Committee)
class CommitteeAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("name", "contract", "vendor", "tier", "cadence", "quorum", "is_active")
    list_filter = ("tier", "cadence", "is_active")
    search_fields = ("name", "contract__reference", "vendor__name")
    list_select_related = ("contract", "vendor")
    inlines = [CommitteeMemberInline]


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("committee", "user", "contact", "side", "role")
    list_filter = ("side", "role")
    search_fields = ("committee__name", "user__username", "contact__name")
    list_select_related = ("committee", "user", "contact__vendor")


def minutes_approved(meeting: Meeting | None) -> bool:
    return meeting is not None and meeting.minutes_status == MinutesStatus.APPROVED


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ("number", "text", "created_by")


class ActionItemInline(ReadOnlyInline):
    model = ActionItem
    fk_name = "meeting"
    fields = ("title", "owner", "owner_contact", "due_date", "status", "closed_at", "created_by")


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Minutes change through the meeting page and the API's actions (edit, circulate, approve, correct).
    Once they are approved, the meeting, its agenda and attendance are final here (Django then shows the
    inlines read-only too): a correction is a new meeting record."""

    list_display = ("committee", "scheduled_for", "status", "minutes_status")
    list_filter = ("status", "minutes_status", "committee__tier")
    search_fields = ("committee__name", "minutes", "location")
    list_select_related = ("committee",)
    date_hierarchy = "scheduled_for"
    inlines = [AgendaItemInline, AttendanceInline, DecisionInline, ActionItemInline]
    readonly_fields = (
        "minutes",
        "minutes_status",
        "minutes_approved_by",
        "minutes_approved_at",
        "minutes_approval_method",
        "corrects",
    )

    def has_change_permission(self, request, obj=None) -> bool:
        return not minutes_approved(obj) and super().has_change_permission(request, obj)


@admin.register(Decision)
class DecisionAdmin(ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Decisions are numbered in their meeting by governance.services; approved minutes get no new
    decision and keep theirs as they are."""

    list_display = ("meeting", "number", "created_by", "created_at")
    list_filter = ("meeting__committee__tier", "meeting__committee")
    search_fields = ("text", "meeting__committee__name")
    list_select_related = ("meeting__committee", "created_by")
    add_fields = ("meeting", "text")
    service_fields = ("meeting", "number", "created_by")

    def has_change_permission(self, request, obj=None) -> bool:
        return not minutes_approved(obj and obj.meeting) and super().has_change_permission(request, obj)

    def create_with_service(self, request, data: dict) -> Decision:
        return services.record_decision(**data, actor=request.user)

    def update_with_service(self, request, obj: Decision, data: dict) -> Decision:
        return services.update_decision(decision=obj, text=data["text"], actor=request.user)


@admin.register(ActionItem)
class ActionItemAdmin(ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Action items are created by governance.services; their origin stays, and their status changes
    through the meeting page and the API's actions (start, close, cancel, reopen)."""

    list_display = ("title", "owner", "owner_contact", "due_date", "status")
    list_filter = ("status",)
    search_fields = ("title", "description")
    list_select_related = ("owner", "owner_contact")
    date_hierarchy = "due_date"
    raw_id_fields = ("meeting", "decision", "finding")
    add_fields = ("meeting", "decision", "finding", "title", "description", "owner", "owner_contact", "due_date")
    service_fields = ("meeting", "decision", "finding", "status", "closed_at", "created_by")

    def create_with_service(self, request, data: dict) -> ActionItem:
        return services.create_action_item(**data, created_by=request.user)
