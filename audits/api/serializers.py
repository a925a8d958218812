"""Serializers of audit rights, audits and findings.

Audits are planned and findings recorded by audits.services (the creates' inputs below); the fields
the audit right checks and those the transitions record (the fieldwork's dates included: reschedule/)
change only through the actions, and an audit's other fields through audits.services.update_audit. A finding's
due date is not an input: it comes from the clause, and changes through the due-date action. An audit
right's writes, and a finding's corrections, are saved by audits.services too (see the viewsets).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from audits.choices import Auditor, AuditType
from audits.models import Audit, AuditRight, Finding
from audits.services import (
    AUDIT_PLAN_INPUT_FIELDS,
    AUDIT_SERVICE_FIELDS,
    FINDING_INPUT_FIELDS,
    FINDING_SERVICE_FIELDS,
)
from config.api import ServiceInputSerializer, ValidatedModelSerializer


class AuditRightSerializer(ValidatedModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=AuditType.choices), required=False)
    allowed_auditors = serializers.ListField(child=serializers.ChoiceField(choices=Auditor.choices), required=False)
    change_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Why the terms change: required once audits were planned under the clause; kept in its "
        "history and shown on those audits.",
    )
    notice_calendar = serializers.CharField(
        source="contract.business_calendar.code",
        read_only=True,
        help_text="The calendar a notice in business days counts in: the contract's (calendar_country and "
        "calendar_subdivision), written FR or DE-BY; empty: Monday to Friday, without public holidays.",
    )

    class Meta:
        model = AuditRight
        fields = "__all__"


class AuditSerializer(ValidatedModelSerializer):
    class Meta:
        model = Audit
        fields = "__all__"
        read_only_fields = [*AUDIT_SERVICE_FIELDS, "created_at"]


class AuditPlanInput(ServiceInputSerializer):
    """An audit to plan under a contract's audit right (refused, quoting the clause, outside it)."""

    class Meta:
        model = Audit
        fields = list(AUDIT_PLAN_INPUT_FIELDS)
        extra_kwargs = {
            "override_reason": {
                "write_only": True,
                "help_text": "Administrators only: why the audit is allowed although the clause refuses it "
                "(e.g. a short notice the vendor accepted), or the cause of an audit for cause. Kept on the audit.",
            },
            "for_cause": {
                "help_text": "Administrators only, with the cause as override_reason: an audit held because of a "
                "security incident, a regulator's demand, suspected fraud or a material breach does not count "
                "against the audits the clause allows each contract year.",
            },
        }


class FindingSerializer(ValidatedModelSerializer):
    class Meta:
        model = Finding
        fields = "__all__"
        read_only_fields = FINDING_SERVICE_FIELDS


class FindingInput(ServiceInputSerializer):
    """A finding of an audit in fieldwork or reported; numbered in its audit. Its due date is the clause's
    remediation days for the severity, from the report date or from today if later (from today until the
    report): a due_date sent here is ignored, like the number; a different date is set with the due-date
    action and a reason."""

    class Meta:
        model = Finding
        fields = FINDING_INPUT_FIELDS
        extra_kwargs = {
            "discrepancy_pct": {
                "help_text": "A financial discrepancy at or above the clause's threshold makes the audit's cost "
                "recoverable from the vendor.",
            },
        }


class NoticeInput(serializers.Serializer):
    notice_date = serializers.DateField(help_text="The day the notice was sent to the vendor.")
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Administrators only: why the audit goes ahead although the notice is too short (an override "
        "given when the audit was planned covers only a notice sent that day).",
    )


class ReportInput(serializers.Serializer):
    report_date = serializers.DateField()
    report_summary = serializers.CharField()


class RescheduleInput(serializers.Serializer):
    fieldwork_start = serializers.DateField(help_text="The fieldwork's new first day: today or later.")
    fieldwork_end = serializers.DateField(help_text="The fieldwork's new last day.")
    reason = serializers.CharField(help_text="Why the fieldwork moves: kept on the audit and in its history.")
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Administrators only: why the audit goes ahead on these dates although the clause refuses them "
        "(an earlier override covers only the dates it was given for).",
    )


class ForCauseInput(serializers.Serializer):
    for_cause = serializers.BooleanField(
        help_text="true: hold the audit for cause (it no longer counts against the contract year's allowance); "
        "false: count it as a routine audit again."
    )
    reason = serializers.CharField(
        help_text="Held for cause: the cause (a security incident, a regulator's written demand, suspected fraud, "
        "a material breach), kept on the audit as its override_reason. Counted as routine: why. Kept in its history."
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Counted as routine again: why the audit goes ahead although the clause refuses it as a routine "
        "audit (e.g. the contract year's allowance is used up).",
    )


class AuditCancellationInput(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the audit is cancelled: kept on the audit and in its history.")


class VerificationInput(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="What the verification checked (optional)."
    )


class DueDateInput(serializers.Serializer):
    due_date = serializers.DateField()
    reason = serializers.CharField(help_text="Why the remediation due date changes: kept in the finding's history.")


class RemediationPlanInput(serializers.Serializer):
    plan = serializers.CharField(
        error_messages={"blank": _("Describe the remediation plan."), "required": _("Describe the remediation plan.")}
    )


class RiskAcceptanceInput(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the risk is accepted: kept in the finding's history.")


class RemediationInput(serializers.Serializer):
    evidence = serializers.CharField(
        help_text="What was done, and where the proof is.",
        error_messages={
            "blank": _("Give the evidence of remediation."),
            "required": _("Give the evidence of remediation."),
        },
    )
