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
            "decision_buffer_days",
            "vendor_self_reporting",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        """The register's rules on a contract's term, status, vendor and currency
        (contracts.services.contract_edit_errors)."""
        refused = contract_edit_errors(self.instance, attrs)
        if refused:
            raise serializers.ValidationError(refused)
        return super().validate(attrs)


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
