"""Forms of the audit pages: the list's filters, planning an audit, recording a finding, and the input
of each action. They give the types and choices; the rules are the services' (audits.services)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.scoping import restrict
from audits import services
from audits.choices import AuditStatus
from audits.models import Audit, Finding
from contracts.models import Contract, VendorContact

DATE = {"type": "date", "class": "form-control"}
TEXT = {"class": "form-control"}
TEXTAREA = {"rows": 3, "class": "form-control"}
SELECT = {"class": "form-select"}

OVERRIDE_HELP = _(
    "Administrators only: why the audit goes ahead although the contract's audit right refuses it "
    "(e.g. a regulator's written demand). Kept on the audit."
)


def internal_users():
    """Who may lead an audit or own a finding: active internal accounts (as the API offers)."""
    return get_user_model().objects.filter(is_active=True, vendor__isnull=True).order_by("first_name", "last_name")


class AuditFilterForm(forms.Form):
    contract = forms.ModelChoiceField(
        label=_("Contract"),
        queryset=Contract.objects.none(),
        required=False,
        empty_label=_("All contracts"),
        widget=forms.Select(attrs=SELECT),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses")), *AuditStatus.choices],
        required=False,
        widget=forms.Select(attrs=SELECT),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = restrict(Contract.objects.all(), user).order_by("reference")


class PlanAuditForm(forms.ModelForm):
    """The input of audits.services.plan_audit (the fields of the API's AuditPlanInput)."""

    override_reason = forms.CharField(
        label=_("Override reason"),
        required=False,
        help_text=OVERRIDE_HELP,
        widget=forms.Textarea(attrs=TEXTAREA),
    )

    class Meta:
        model = Audit
        # The right is the page's; the override reason is the field declared above.
        fields = [name for name in services.AUDIT_PLAN_INPUT_FIELDS if name not in ("audit_right", "override_reason")]
        widgets = {
            "reference": forms.TextInput(attrs=TEXT),
            "audit_type": forms.Select(attrs=SELECT),
            "auditor_kind": forms.Select(attrs=SELECT),
            "auditor_name": forms.TextInput(attrs=TEXT),
            "lead_auditor": forms.Select(attrs=SELECT),
            "scope_description": forms.Textarea(attrs=TEXTAREA),
            "fieldwork_start": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
            "fieldwork_end": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_auditor"].queryset = internal_users()
        self.fields["lead_auditor"].label = _("Lead auditor")


class FindingForm(forms.ModelForm):
    """The input of audits.services.record_finding (the fields of the API's FindingInput)."""

    class Meta:
        model = Finding
        fields = [name for name in services.FINDING_INPUT_FIELDS if name != "audit"]  # the audit is the page's
        widgets = {
            "title": forms.TextInput(attrs=TEXT),
            "severity": forms.Select(attrs=SELECT),
            "description": forms.Textarea(attrs=TEXTAREA),
            "clause_breached": forms.TextInput(attrs=TEXT),
            "discrepancy_pct": forms.NumberInput(attrs=TEXT),
            "recovery_amount": forms.NumberInput(attrs=TEXT),
            "owner": forms.Select(attrs=SELECT),
            "vendor_contact": forms.Select(attrs=SELECT),
            "addressed_to_vendor": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "due_date": forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        }

    def __init__(self, *args, audit: Audit, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = internal_users()
        self.fields["owner"].label = _("Owner")
        self.fields["vendor_contact"].queryset = restrict(
            VendorContact.objects.filter(vendor_id=audit.audit_right.contract.vendor_id), user
        )
        self.fields["due_date"].required = False
        self.fields["due_date"].help_text = _(
            "Leave empty: the clause's remediation days for the severity, from the report date (or today)."
        )


# The input of each action, named as the service's arguments ----------------------------------------


class ConfirmForm(forms.Form):
    """A bare confirmation (the action needs no input)."""


class NoticeForm(forms.Form):
    notice_date = forms.DateField(label=_("Notice sent on"), widget=forms.DateInput(attrs=DATE))
    override_reason = forms.CharField(
        label=_("Override reason"), required=False, help_text=OVERRIDE_HELP, widget=forms.Textarea(attrs=TEXTAREA)
    )


class ReportForm(forms.Form):
    report_date = forms.DateField(label=_("Report date"), widget=forms.DateInput(attrs=DATE))
    report_summary = forms.CharField(label=_("Report summary"), widget=forms.Textarea(attrs={**TEXTAREA, "rows": 5}))


class DueDateForm(forms.Form):
    due_date = forms.DateField(label=_("New remediation due date"), widget=forms.DateInput(attrs=DATE))
    reason = forms.CharField(
        label=_("Reason"),
        help_text=_("Kept in the finding's history."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )


class RemediationPlanForm(forms.Form):
    plan = forms.CharField(
        label=_("Remediation plan"),
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 5}),
        error_messages={"required": _("Describe the remediation plan.")},
    )


class EvidenceForm(forms.Form):
    evidence = forms.CharField(
        label=_("Evidence of remediation"),
        help_text=_("What was done, and where the proof is."),
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 5}),
        error_messages={"required": _("Give the evidence of remediation.")},
    )


class RiskAcceptanceForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the risk is accepted"),
        help_text=_("Kept in the finding's history."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )
