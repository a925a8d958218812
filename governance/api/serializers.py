"""Serializers of committees, meetings, decisions and action items."""

from rest_framework import serializers

from config.api import ValidatedModelSerializer
from governance.models import ActionItem, Committee, Decision, Meeting


class CommitteeSerializer(ValidatedModelSerializer):
    class Meta:
        model = Committee
        fields = ["id", "name", "contract", "vendor", "tier", "cadence", "quorum", "terms_of_reference", "is_active"]


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
