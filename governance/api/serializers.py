"""Serializers of committees, meetings, decisions and action items.

Decisions and action items are created by governance.services (the creates' inputs below); minutes,
a row's origin and its status change only through the services' actions.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import ServiceInputSerializer, ValidatedModelSerializer
from config.local_time import LocalDateTimeSerializerField
from governance.choices import AttendanceStatus, MinutesApprovalMethod, MinutesStatus
from governance.models import ActionItem, Committee, Decision, Meeting
from governance.selectors import minutes_withheld, set_compliance
from governance.services import ACTION_ITEM_WORDING, CANCEL_REASON_MAX


class ComplianceSerializer(serializers.Serializer):
    """Whether the committee meets as its contract requires (computed, read-only)."""

    last_held_on = serializers.DateField(allow_null=True)
    next_meeting_due = serializers.DateField(allow_null=True)
    is_overdue = serializers.BooleanField(help_text="The next meeting is overdue against the cadence.")
    lacked_quorum = serializers.BooleanField(help_text="The last held meeting lacked quorum.")
    is_compliant = serializers.BooleanField()


class SeatSerializer(serializers.Serializer):
    """A committee seat as the meeting actions name it (`member` in an attendance)."""

    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")
    side = serializers.CharField()
    role = serializers.CharField()
    user = serializers.IntegerField(source="user_id", allow_null=True)


class AttendanceSerializer(serializers.Serializer):
    member = serializers.IntegerField(source="member_id")
    status = serializers.CharField()


class CommitteeSerializer(ValidatedModelSerializer):
    compliance = serializers.SerializerMethodField()
    members = SeatSerializer(many=True, read_only=True, help_text="The seats, as the user may see them.")
    reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Why the cadence or quorum changes (required then): kept in the committee's history.",
    )

    class Meta:
        model = Committee
        fields = [
            "id",
            "name",
            "contract",
            "vendor",
            "tier",
            "cadence",
            "quorum",
            "quorum_needs_each_side",
            "terms_of_reference",
            "is_active",
            "created_at",
            "compliance",
            "members",
            "reason",
        ]
        read_only_fields = ["created_at"]

    @extend_schema_field(ComplianceSerializer(allow_null=True))
    def get_compliance(self, committee) -> dict | None:
        if not hasattr(committee, "last_held_id"):
            return None  # a row just written, not read through the annotated list
        return ComplianceSerializer(set_compliance(committee)).data


class AgendaItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    title = serializers.CharField()
    notes = serializers.CharField()
    proposed_automatically = serializers.BooleanField()


MEETING_TIME_HELP = (
    "With a UTC offset, that instant; without one, a time in the app's time zone, refused when it does not "
    "exist that day (clocks going forward) or occurs twice (clocks going back: give the offset instead)."
)


def meeting_time_field() -> LocalDateTimeSerializerField:
    return LocalDateTimeSerializerField(label="date and time", help_text=MEETING_TIME_HELP)


class MeetingSerializer(ValidatedModelSerializer):
    scheduled_for = meeting_time_field()
    attendance = AttendanceSerializer(
        many=True, read_only=True, source="attendances", help_text="Set by POST /meetings/{id}/attendance/."
    )
    agenda = AgendaItemSerializer(
        many=True,
        read_only=True,
        source="agenda_items",
        help_text="In order; written by the meeting's agenda actions (propose, add, move, remove).",
    )
    minutes_approval_method = serializers.ChoiceField(
        choices=MinutesApprovalMethod.choices,
        allow_blank=True,
        read_only=True,
        help_text='How the minutes were approved; "" until they are.',
    )
    corrections = serializers.PrimaryKeyRelatedField(
        many=True,
        read_only=True,
        help_text="The records correcting these approved minutes, oldest first: each carries its corrected text and "
        "its own minutes status; the last approved one holds the current text.",
    )

    class Meta:
        model = Meeting
        fields = [
            "id",
            "committee",
            "scheduled_for",
            "location",
            "status",
            "cancellation_reason",
            "attendance",
            "agenda",
            "minutes",
            "minutes_status",
            "minutes_approved_by",
            "minutes_approved_at",
            "minutes_approval_method",
            "corrects",
            "corrections",
        ]
        # Minutes change only through the actions (edit, circulate, approve): approved minutes are final.
        # A meeting is held (its attendance recorded) or cancelled through its actions too.
        read_only_fields = [
            "status",
            "cancellation_reason",
            "minutes",
            "minutes_status",
            "minutes_approved_by",
            "minutes_approved_at",
            "minutes_approval_method",
            "corrects",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and minutes_withheld(request.user, instance):
            data["minutes"] = ""  # a vendor's users read the minutes once circulated, as on the meeting's page
        return data

    def validate(self, attrs):
        """A meeting whose minutes are approved is final, as in the back office: a correction is a new record."""
        if self.instance is not None and self.instance.minutes_status == MinutesStatus.APPROVED:
            raise serializers.ValidationError(
                _("The minutes of this meeting are approved; record a correction instead.")
            )
        return super().validate(attrs)


class DecisionSerializer(ValidatedModelSerializer):
    class Meta:
        model = Decision
        fields = ["id", "meeting", "number", "text", "created_by", "created_at"]
        read_only_fields = ["meeting", "number", "created_by", "created_at"]


class MeetingInput(ServiceInputSerializer):
    """A planned meeting of a committee (one per committee and time)."""

    scheduled_for = meeting_time_field()

    class Meta:
        model = Meeting
        fields = ["committee", "scheduled_for", "location"]


class DecisionInput(ServiceInputSerializer):
    """The meeting's next numbered decision; refused once the meeting's minutes are approved."""

    class Meta:
        model = Decision
        fields = ["meeting", "text"]


class ActionItemSerializer(ValidatedModelSerializer):
    class Meta:
        model = ActionItem
        fields = [
            "id",
            "meeting",
            "decision",
            "finding",
            "title",
            "description",
            "owner",
            "owner_contact",
            "due_date",
            "status",
            "closed_at",
            "cancellation_reason",
            "created_by",
            "created_at",
        ]
        read_only_fields = [
            "meeting",
            "decision",
            "finding",
            "status",
            "closed_at",
            "cancellation_reason",
            "created_by",
            "created_at",
        ]
        extra_kwargs = {
            name: {"help_text": "Final once the minutes of the item's meeting are approved: a change is a 400."}
            for name in ACTION_ITEM_WORDING
        }


class ActionItemInput(ServiceInputSerializer):
    """An open action item from a meeting, a decision (then of the decision's meeting) or a finding."""

    class Meta:
        model = ActionItem
        fields = ["meeting", "decision", "finding", "title", "description", "owner", "owner_contact", "due_date"]


class CancellationInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=CANCEL_REASON_MAX, help_text="Kept on the item while it stays cancelled, and in its history."
    )


class MinutesInput(serializers.Serializer):
    minutes = serializers.CharField(allow_blank=True, help_text="Markdown.")


class MemberAttendanceInput(serializers.Serializer):
    member = serializers.IntegerField(help_text="A committee member's id (GET /committees/{id}/ lists them).")
    status = serializers.ChoiceField(choices=AttendanceStatus.choices)


class AttendanceInput(serializers.Serializer):
    attendance = MemberAttendanceInput(many=True, help_text="Every member of the committee, once.")

    def validate_attendance(self, rows: list[dict]) -> dict[int, str]:
        members = [row["member"] for row in rows]
        if len(set(members)) != len(members):
            raise serializers.ValidationError("Give each member once.")
        return {row["member"]: row["status"] for row in rows}


class ContactVoteInput(serializers.Serializer):
    member = serializers.IntegerField(help_text="The seat of a vendor contact present at the meeting.")


class AgendaItemInput(serializers.Serializer):
    title = serializers.CharField(max_length=250)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AgendaMoveInput(serializers.Serializer):
    item = serializers.IntegerField(help_text="An agenda item of the meeting.")
    direction = serializers.ChoiceField(choices=["up", "down"])


class AgendaItemRef(serializers.Serializer):
    item = serializers.IntegerField(help_text="An agenda item of the meeting.")


class MeetingCancellationInput(serializers.Serializer):
    reason = serializers.CharField(max_length=CANCEL_REASON_MAX, help_text="Kept in the meeting's history.")
