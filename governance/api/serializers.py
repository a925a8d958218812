"""Serializers of committees, meetings, decisions and action items.

Decisions and action items are created by governance.services (the creates' inputs below); minutes,
a row's origin and its status change only through the services' actions.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import ServiceInputSerializer, ValidatedModelSerializer
from governance.choices import MinutesStatus
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
            "created_by",
            "created_at",
        ]
        read_only_fields = ["meeting", "decision", "finding", "status", "closed_at", "created_by", "created_at"]


class ActionItemInput(ServiceInputSerializer):
    """An open action item from a meeting, a decision (then of the decision's meeting) or a finding."""

    class Meta:
        model = ActionItem
        fields = ["meeting", "decision", "finding", "title", "description", "owner", "owner_contact", "due_date"]


class CancellationInput(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Kept in the item's history."
    )


class MinutesInput(serializers.Serializer):
    minutes = serializers.CharField(allow_blank=True, help_text="Markdown.")
