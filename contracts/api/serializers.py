"""Serializers of the contract register (one per model: the same fields in and out)."""

from rest_framework import serializers

from config.api import ValidatedModelSerializer
from contracts.models import Amendment, Contract, ContractScope, MonthlyCharge, Vendor
from contracts.services import contract_edit_errors


class VendorSerializer(ValidatedModelSerializer):
    class Meta:
        model = Vendor
        fields = [
            "id",
            "name",
            "legal_name",
            "registration_number",
            "country",
            "website",
            "notes",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class ContractSerializer(ValidatedModelSerializer):
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    change_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Why the renewal or notice clauses change (e.g. the amendment that changes them): required "
        "once the contract runs; kept in its history.",
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "reference",
            "title",
            "vendor",
            "vendor_name",
            "owner",
            "auditors",
            "status",
            "currency",
            "signed_on",
            "start_date",
            "initial_term_months",
            "end_date",
            "terminated_on",
            "renewal_type",
            "renewal_term_months",
            "max_renewals",
            "notice_period",
            "notice_period_unit",
            "calendar_country",
            "calendar_subdivision",
            "decision_buffer_days",
            "vendor_self_reporting",
            "description",
            "change_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        """The register's rules on a contract's term, status, clauses, vendor and currency
        (contracts.services.contract_edit_errors)."""
        self.change_reason = attrs.pop("change_reason", "").strip()
        refused = contract_edit_errors(self.instance, attrs, reason=self.change_reason)
        if refused:
            raise serializers.ValidationError(refused)
        return super().validate(attrs)

    def update(self, instance, validated_data):
        if self.change_reason:
            instance._change_reason = self.change_reason
        return super().update(instance, validated_data)


class RenewalDecisionInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ContractScopeSerializer(ValidatedModelSerializer):
    class Meta:
        model = ContractScope
        fields = [
            "id",
            "contract",
            "channel",
            "languages",
            "coverage_days",
            "coverage_start",
            "coverage_end",
            "volume_share_pct",
            "site",
            "notes",
        ]


class MonthlyChargeSerializer(ValidatedModelSerializer):
    class Meta:
        model = MonthlyCharge
        fields = ["id", "contract", "month", "amount", "currency", "notes"]


class AmendmentSerializer(ValidatedModelSerializer):
    class Meta:
        model = Amendment
        fields = [
            "id",
            "contract",
            "number",
            "title",
            "summary",
            "signed_on",
            "effective_from",
            "document_reference",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["created_by", "created_at"]
