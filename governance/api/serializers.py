"""Serializers of committees, meetings, decisions and action items."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import ValidatedModelSerializer
from governance.models import ActionItem, Committee, Decision, Meeting
from governance.selectors import set_compliance


class ComplianceSerializer(serializers.Serializer):
    """Whether the committee meets as its contract requires (computed, read-only)."""

    last_held_on = serializers.DateField(allow_null=True)
    next_meeting_due = serializers.DateField(allow_null=True)
    is_overdue = serializers.BooleanField(help_text="The next meeting is overdue against the cadence.")
    lacked_quorum = serializers.BooleanField(help_text="The last held meeting lacked quorum.")
    is_compliant = serializers.BooleanField()


class CommitteeSerializer(ValidatedModelSerializer):
    compliance = serializers.SerializerMethodField()

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
            "terms_of_reference",
            "is_active",
            "compliance",
        ]

    @extend_schema_field(ComplianceSerializer(allow_null=True))
    def get_compliance(self, committee) -> dict | None:
        if not hasattr(committee, "last_held_id"):
            return None  # a row just written, not read through the annotated list
        return ComplianceSerializer(set_compliance(committee)).data


class MeetingSerializer(ValidatedModelSerializer):
    class Meta:
        model = Meeting
        fields = [
            "id",
            "committee",
            "scheduled_for",
            "location",
            "status",
            "minutes",
            "minutes_status",
            "minutes_approved_by",
            "minutes_approved_at",
            "minutes_approval_method",
            "corrects",
        ]
        # Minutes change only through the actions (edit, circulate, approve): approved minutes are final.
        read_only_fields = [
            "minutes",
            "minutes_status",
            "minutes_approved_by",
            "minutes_approved_at",
            "minutes_approval_method",
            "corrects",
        ]


class DecisionSerializer(ValidatedModelSerializer):
    class Meta:
        model = Decision
        fields = ["id", "meeting", "number", "text", "created_by", "created_at"]
        read_only_fields = ["created_by", "created_at"]


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
            "created_by",
            "created_at",
        ]
        read_only_fields = ["status", "closed_at", "created_by", "created_at"]


class MinutesInput(serializers.Serializer):
    minutes = serializers.CharField(allow_blank=True, help_text="Markdown.")
