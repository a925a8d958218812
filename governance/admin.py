"""The back office of governance applies the rules of the web pages and the API: those who keep a
committee's record (administrators and its customer-side members, governance.permissions) change it, and
every change goes through governance.services; what a service owns (a meeting's status and attendance, its
minutes, a row's origin) is read-only here."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from accounts.scoping import ScopedAdminMixin
from config.admin import ReadOnlyHistoryMixin, ReadOnlyInline, ServiceAdminMixin
from config.local_time import LocalSplitDateTimeField
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
from governance.permissions import (
    committee_id_of,
    keeps_the_record,
    may_change_finding_action,
    may_change_item,
    may_change_record_of,
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


class CommitteeForm(forms.ModelForm):
    reason = forms.CharField(
        label=pgettext_lazy("committee change", "Reason"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Why the cadence or quorum changes (required then): kept in the history."),
    )

    class Meta:
        model = Committee
        fields = [
            "name",
            "contract",
            "vendor",
            "tier",
            "cadence",
            "quorum",
            "quorum_needs_each_side",
            "terms_of_reference",
            "is_active",
        ]


@admin.register(Committee)
class CommitteeAdmin(ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """A committee is created with the role's permission; administrators and its customer-side members
    change it, a change of its cadence or quorum with a reason (governance.services.update_committee)."""

    form = CommitteeForm
    list_display = ("name", "contract", "vendor", "tier", "cadence", "quorum", "is_active")
    list_filter = ("tier", "cadence", "is_active")
    search_fields = ("name", "contract__reference", "vendor__name")
    list_select_related = ("contract", "vendor")
    inlines = [CommitteeMemberInline]
    add_fields = (
        "name",
        "contract",
        "vendor",
        "tier",
        "cadence",
        "quorum",
        "quorum_needs_each_side",
        "terms_of_reference",
        "is_active",
    )
    change_fields = (*add_fields, "reason")

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.change_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("contract", "vendor")

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not may_change_record_of(request.user, obj.pk):
            return False
        return super().has_change_permission(request, obj)

    def create_with_service(self, request, data: dict) -> Committee:
        return services.create_committee(actor=request.user, **{name: data[name] for name in self.add_fields})

    def update_with_service(self, request, obj: Committee, data: dict) -> Committee:
        changes = {name: data[name] for name in self.add_fields if name in data and name not in ("contract", "vendor")}
        return services.update_committee(committee=obj, actor=request.user, reason=data.get("reason", ""), **changes)


@admin.register(CommitteeMember)
class CommitteeMemberAdmin(ReadOnlyHistoryMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("committee", "user", "contact", "side", "role")
    list_filter = ("side", "role")
    search_fields = ("committee__name", "user__username", "contact__name")
    list_select_related = ("committee", "user", "contact__vendor")


def minutes_approved(meeting: Meeting | None) -> bool:
    return meeting is not None and meeting.minutes_status == MinutesStatus.APPROVED


class AgendaItemInline(ReadOnlyInline):
    """The agenda is written on the meeting page and through the API (governance.services), which keep
    its positions in order and each change in its history."""

    model = AgendaItem
    fields = ("position", "title", "notes", "proposed_automatically")


class AttendanceInline(ReadOnlyInline):
    """Attendance is recorded through the meeting page and the API (governance.services.record_attendance)."""

    model = Attendance
    fields = ("member", "status")


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ("number", "text", "created_by")


class ActionItemInline(ReadOnlyInline):
    model = ActionItem
    fk_name = "meeting"
    fields = ("title", "owner", "owner_contact", "due_date", "status", "closed_at", "created_by")


class CommitteeRecordAdminMixin:
    """Rows of a committee's record: changed by those who keep it, as on the pages and in the API."""

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not self.may_change(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def may_change(self, user, obj) -> bool:
        return may_change_record_of(user, committee_id_of(obj))

    @staticmethod
    def require_record_keeper(user, committee_id: int, field: str) -> None:
        if not may_change_record_of(user, committee_id):
            raise ValidationError(
                {field: _("Only administrators and the committee's customer-side members change its record.")}
            )


@admin.register(Meeting)
class MeetingAdmin(CommitteeRecordAdminMixin, ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """A meeting is planned and rescheduled here through governance.services (a held or cancelled one keeps
    its date and committee); it is held (attendance), cancelled and its minutes change through the meeting
    page and the API's actions. Once its minutes are approved, the meeting and its agenda are final here."""

    list_display = ("committee", "scheduled_for", "status", "minutes_status")
    list_filter = ("status", "minutes_status", "committee__tier")
    # A time that does not exist that day, or occurs twice, is refused under the field (config.local_time).
    formfield_overrides = {models.DateTimeField: {"form_class": LocalSplitDateTimeField}}
    search_fields = ("committee__name", "minutes", "location")
    list_select_related = ("committee",)
    date_hierarchy = "scheduled_for"
    inlines = [AgendaItemInline, AttendanceInline, DecisionInline, ActionItemInline]
    add_fields = ("committee", "scheduled_for", "location")
    service_fields = (
        "status",
        "cancellation_reason",
        "minutes",
        "minutes_status",
        "minutes_approved_by",
        "minutes_approved_at",
        "minutes_approval_method",
        "corrects",
    )

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else (*self.add_fields, *self.service_fields)

    def has_change_permission(self, request, obj=None) -> bool:
        return not minutes_approved(obj) and super().has_change_permission(request, obj)

    def create_with_service(self, request, data: dict) -> Meeting:
        self.require_record_keeper(request.user, data["committee"].pk, "committee")
        return services.plan_meeting(**data, actor=request.user)

    def update_with_service(self, request, obj: Meeting, data: dict) -> Meeting:
        if data["committee"].pk != obj.committee_id:
            self.require_record_keeper(request.user, data["committee"].pk, "committee")
        return services.update_meeting(meeting=obj, actor=request.user, **data)


@admin.register(Decision)
class DecisionAdmin(CommitteeRecordAdminMixin, ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
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
        self.require_record_keeper(request.user, data["meeting"].committee_id, "meeting")
        return services.record_decision(**data, actor=request.user)

    def update_with_service(self, request, obj: Decision, data: dict) -> Decision:
        return services.update_decision(decision=obj, text=data["text"], actor=request.user)


@admin.register(ActionItem)
class ActionItemAdmin(CommitteeRecordAdminMixin, ServiceAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """Action items are created and changed by governance.services (a meeting's are due on its day or
    later); their origin stays, and their status changes through the meeting page and the API's actions
    (start, close, cancel, reopen). A meeting's items are the committee's record; a finding's alone are
    changed by those who follow findings up. Once the meeting's minutes are approved, an item's wording is
    read-only (its owner and due date still change)."""

    list_display = ("title", "owner", "owner_contact", "due_date", "status")
    list_filter = ("status",)
    search_fields = ("title", "description")
    list_select_related = ("owner", "owner_contact")
    date_hierarchy = "due_date"
    raw_id_fields = ("meeting", "decision", "finding")
    add_fields = ("meeting", "decision", "finding", "title", "description", "owner", "owner_contact", "due_date")
    service_fields = ("meeting", "decision", "finding", "status", "closed_at", "cancellation_reason", "created_by")

    def may_change(self, user, obj) -> bool:
        return may_change_item(user, obj)

    @staticmethod
    def wording_is_final(obj: ActionItem | None) -> bool:
        return obj is not None and minutes_approved(obj.meeting)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self.wording_is_final(obj):
            return fields
        # Read-only fields come after the form's: the wording keeps its place at the top.
        wording = services.ACTION_ITEM_WORDING
        return [*wording, *(name for name in fields if name not in wording)]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, *services.ACTION_ITEM_WORDING) if self.wording_is_final(obj) else readonly

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.wording_is_final(obj):
            return fieldsets
        (name, options), *rest = fieldsets
        return [(name, {**options, "description": services.ACTION_WORDING_FINAL}), *rest]

    def has_add_permission(self, request) -> bool:
        """Auditors add the action items of findings without the role's permissions on governance."""
        return super().has_add_permission(request) or may_change_finding_action(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and committee_id_of(obj) is None:
            return may_change_finding_action(request.user)
        return super().has_change_permission(request, obj)

    def create_with_service(self, request, data: dict) -> ActionItem:
        meeting = data["decision"].meeting if data.get("decision") else data.get("meeting")
        if meeting is not None:
            self.require_record_keeper(request.user, meeting.committee_id, "meeting")
        elif not (keeps_the_record(request.user) and may_change_finding_action(request.user)):
            raise ValidationError({"finding": _("Only those who follow audit findings up add their action items.")})
        return services.create_action_item(**data, created_by=request.user)

    def update_with_service(self, request, obj: ActionItem, data: dict) -> ActionItem:
        changes = {name: data[name] for name in services.ACTION_ITEM_FIELDS if name in data}
        # A page opened before the minutes were approved still posts the wording, read-only since: a change of it
        # goes to the service, which refuses it, rather than being dropped unsaid while the rest is saved.
        for name in services.ACTION_ITEM_WORDING:
            if name not in data and name in request.POST and _text(request.POST[name]) != _text(getattr(obj, name)):
                changes[name] = request.POST[name]
        return services.update_action_item(item=obj, actor=request.user, **changes)


def _text(value: str) -> str:
    # A browser posts a field's lines ending in CRLF, and the form strips what it reads.
    return value.replace("\r\n", "\n").strip()
