"""Serializers of the contract register (one per model: the same fields in and out)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from config.api import ValidatedModelSerializer
from contracts.choices import ContractStatus
from contracts.models import Amendment, Contract, ContractScope, MonthlyCharge, Vendor


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
        """A contract's end of term and its notice change only through the recorded decisions (the
        renew and give-notice actions); other status changes follow STATUS_CHANGES."""
        if self.instance is not None:
            refused = {}
            if "end_date" in attrs and attrs["end_date"] != self.instance.end_date:
                refused["end_date"] = [
                    _("The end of the term moves only with a recorded decision: use the renew or give-notice action.")
                ]
            status = attrs.get("status", self.instance.status)
            if status != self.instance.status and status not in STATUS_CHANGES[self.instance.status]:
                refused["status"] = [
                    _(
                        "This status change is not allowed: a draft becomes active, a running contract expires or "
                        "is terminated, notice is given with the give-notice action, and an ended contract's "
                        "status is final."
                    )
                ]
            if refused:
                raise serializers.ValidationError(refused)
        return super().validate(attrs)


# The status changes an edit may make; notice is given by the give-notice action (contracts.services).
STATUS_CHANGES = {
    ContractStatus.DRAFT: {ContractStatus.ACTIVE, ContractStatus.TERMINATED},
    ContractStatus.ACTIVE: {ContractStatus.EXPIRED, ContractStatus.TERMINATED},
    ContractStatus.NOTICE_GIVEN: {ContractStatus.EXPIRED, ContractStatus.TERMINATED},
    ContractStatus.EXPIRED: set(),
    ContractStatus.TERMINATED: set(),
}


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
