from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.scoping import ScopedAdminMixin
from contracts.admin import add_contract_inline
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
class CommitteeAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
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


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0


class AttendanceInline(admin.TabularInline):
    model = Attendance
    extra = 0


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    fields = ("number", "text", "created_by")


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    extra = 0
    fk_name = "meeting"
    fields = ("title", "owner", "owner_contact", "due_date", "status", "closed_at", "created_by")


@admin.register(Meeting)
class MeetingAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("committee", "scheduled_for", "status", "minutes_status")
    list_filter = ("status", "minutes_status", "committee__tier")
    search_fields = ("committee__name", "minutes", "location")
    list_select_related = ("committee",)
    date_hierarchy = "scheduled_for"
    inlines = [AgendaItemInline, AttendanceInline, DecisionInline, ActionItemInline]


@admin.register(Decision)
class DecisionAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("meeting", "number", "created_by", "created_at")
    list_filter = ("meeting__committee__tier", "meeting__committee")
    search_fields = ("text", "meeting__committee__name")
    list_select_related = ("meeting__committee", "created_by")


@admin.register(ActionItem)
class ActionItemAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("title", "owner", "owner_contact", "due_date", "status")
    list_filter = ("status",)
    search_fields = ("title", "description")
    list_select_related = ("owner", "owner_contact")
    date_hierarchy = "due_date"
    raw_id_fields = ("meeting", "decision", "finding")
