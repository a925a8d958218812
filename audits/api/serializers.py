"""Serializers of audit rights, audits and findings."""

from rest_framework import serializers

from audits.models import Audit, AuditRight, Finding
from config.api import ValidatedModelSerializer


class AuditRightSerializer(ValidatedModelSerializer):
    scopes = serializers.ListField(child=serializers.CharField(max_length=30), required=False)
    allowed_auditors = serializers.ListField(child=serializers.CharField(max_length=30), required=False)

    class Meta:
        model = AuditRight
        fields = "__all__"


class AuditSerializer(ValidatedModelSerializer):
    class Meta:
        model = Audit
        fields = "__all__"
        read_only_fields = ["status", "cost_recoverable", "overridden_by", "override_reason", "created_at"]


class FindingSerializer(ValidatedModelSerializer):
    class Meta:
        model = Finding
        fields = "__all__"
        read_only_fields = ["status", "evidence", "remediated_at", "verified_by", "verified_at"]


class RemediationInput(serializers.Serializer):
    evidence = serializers.CharField(help_text="What was done, and where the proof is.")
