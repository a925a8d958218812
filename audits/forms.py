"""Forms of the audit pages: the list's filters, planning an audit, recording a finding, and the input
of each action. They give the types and choices; the rules are the services' (audits.services), which
check a row's own rules and the business rules together, so one submit shows every problem they find,
each under its field.

Every form here marks its required fields and a field with an error as invalid (Bootstrap's is-invalid,
its messages under it: audits/_form_fields.html). The override reason, and whether an audit is held for
cause, are fields of administrators' forms only (audits.services.may_override)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.boundfield import BoundField
from django.utils.translation import gettext_lazy as _

from accounts.scoping import restrict
from audits import services
from audits.choices import AuditStatus
from audits.models import Audit, AuditRight, Finding
from contracts.models import Contract, VendorContact

DATE = {"type": "date", "class": "form-control"}
TEXT = {"class": "form-control"}
TEXTAREA = {"rows": 3, "class": "form-control"}
SELECT = {"class": "form-select"}
# A date input's value is ISO whatever the language (the browser shows it in the user's format).
ISO_DATE = "%Y-%m-%d"

# What only an administrator gives: the override of the clause, and an audit for cause (outside the allowance).
ADMINISTRATORS_ONLY = frozenset({"override_reason", "for_cause"})
OVERRIDE_HELP = _(
    "Administrators only: why the audit goes ahead although the contract's audit right refuses it "
    "(e.g. a regulator's written demand). Kept on the audit."
)


def internal_users():
    """Who may lead an audit or own a finding: active internal accounts (as the API offers)."""
    return get_user_model().objects.filter(is_active=True, vendor__isnull=True).order_by("first_name", "last_name")


def model_field(model, name: str, widget: forms.Widget, **kwargs) -> forms.Field:
    """The form field of a model's field (its type, choices, label and help text), without the model's
    validation, which the service runs with its own rules."""
    return model._meta.get_field(name).formfield(widget=widget, **kwargs)


class MarksInvalid(BoundField):
    """A field whose input was refused carries Bootstrap's is-invalid next to its widget's classes."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            widget = widget or self.field.widget
            classes = attrs.get("class", widget.attrs.get("class", ""))
            attrs["class"] = f"{classes} is-invalid".strip()
        return attrs


class AuditForm(forms.Form):
    """A form of the audit pages, for `user` acting on `audit` (when there is one)."""

    required_css_class = "required"
    bound_field_class = MarksInvalid

    def __init__(self, *args, user=None, audit: Audit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.audit = audit
        if not services.may_override(user):
            for name in ADMINISTRATORS_ONLY & set(self.fields):
                del self.fields[name]

    @property
    def has_required_fields(self) -> bool:
        return any(field.required for field in self.fields.values())

    @property
    def has_field_errors(self) -> bool:
        return any(name != NON_FIELD_ERRORS for name in self.errors)


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


def _override_reason() -> forms.CharField:
    return forms.CharField(
        label=_("Override reason"), required=False, help_text=OVERRIDE_HELP, widget=forms.Textarea(attrs=TEXTAREA)
    )


class PlanAuditForm(AuditForm):
    """The input of audits.services.plan_audit (AUDIT_PLAN_INPUT_FIELDS; the right is the page's).

    The audit types and auditors offered are the clause's when it lists them; an administrator, who may
    override the clause, is offered all of them, those outside the clause named so."""

    reference = model_field(Audit, "reference", forms.TextInput(attrs=TEXT))
    audit_type = model_field(Audit, "audit_type", forms.Select(attrs=SELECT))
    auditor_kind = model_field(Audit, "auditor_kind", forms.Select(attrs=SELECT))
    auditor_name = model_field(Audit, "auditor_name", forms.TextInput(attrs=TEXT))
    lead_auditor = model_field(
        Audit, "lead_auditor", forms.Select(attrs=SELECT), queryset=internal_users(), label=_("Lead auditor")
    )
    scope_description = model_field(Audit, "scope_description", forms.Textarea(attrs=TEXTAREA))
    fieldwork_start = model_field(Audit, "fieldwork_start", forms.DateInput(attrs=DATE, format=ISO_DATE))
    fieldwork_end = model_field(Audit, "fieldwork_end", forms.DateInput(attrs=DATE, format=ISO_DATE))
    override_reason = _override_reason()
    for_cause = model_field(Audit, "for_cause", forms.CheckboxInput(attrs={"class": "form-check-input"}))

    def __init__(self, *args, right: AuditRight, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        overrides = services.may_override(user)
        _offer(self.fields["audit_type"], allowed=right.scopes, all_named=overrides)
        _offer(self.fields["auditor_kind"], allowed=right.allowed_auditors, all_named=overrides)


def _offer(field: forms.ChoiceField, *, allowed: list[str], all_named: bool) -> None:
    """Offer the `allowed` choices only (all when the clause lists none), or with `all_named` every
    choice, those not allowed named so."""
    if not allowed:
        return
    if all_named:
        field.choices = [
            (value, label if not value or value in allowed else _("%(label)s (outside the clause)") % {"label": label})
            for value, label in field.choices
        ]
    else:
        field.choices = [(value, label) for value, label in field.choices if not value or value in allowed]


class FindingForm(AuditForm):
    """The input of audits.services.record_finding (FINDING_INPUT_FIELDS; the audit is the page's)."""

    title = model_field(Finding, "title", forms.TextInput(attrs=TEXT))
    severity = model_field(Finding, "severity", forms.Select(attrs=SELECT))
    description = model_field(Finding, "description", forms.Textarea(attrs=TEXTAREA))
    clause_breached = model_field(Finding, "clause_breached", forms.TextInput(attrs=TEXT))
    discrepancy_pct = model_field(Finding, "discrepancy_pct", forms.NumberInput(attrs=TEXT))
    recovery_amount = model_field(Finding, "recovery_amount", forms.NumberInput(attrs=TEXT))
    owner = model_field(Finding, "owner", forms.Select(attrs=SELECT), queryset=internal_users(), label=_("Owner"))
    vendor_contact = model_field(Finding, "vendor_contact", forms.Select(attrs=SELECT))
    addressed_to_vendor = model_field(
        Finding, "addressed_to_vendor", forms.CheckboxInput(attrs={"class": "form-check-input"})
    )

    def __init__(self, *args, audit: Audit, user, **kwargs):
        super().__init__(*args, user=user, audit=audit, **kwargs)
        self.fields["vendor_contact"].queryset = restrict(
            VendorContact.objects.filter(vendor_id=audit.audit_right.contract.vendor_id), user
        )


# The input of each action, named as the service's arguments ----------------------------------------


class ConfirmForm(AuditForm):
    """A bare confirmation (the action needs no input)."""


class NoticeForm(AuditForm):
    notice_date = forms.DateField(label=_("Notice sent on"), widget=forms.DateInput(attrs=DATE, format=ISO_DATE))
    override_reason = _override_reason()


class RescheduleForm(AuditForm):
    """The fieldwork's new dates (the current ones to start from) and why it moves."""

    fieldwork_start = model_field(Audit, "fieldwork_start", forms.DateInput(attrs=DATE, format=ISO_DATE))
    fieldwork_end = model_field(Audit, "fieldwork_end", forms.DateInput(attrs=DATE, format=ISO_DATE))
    reason = forms.CharField(
        label=_("Why the fieldwork moves"),
        help_text=_("Kept on the audit and in its history."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    override_reason = _override_reason()

    def __init__(self, *args, audit: Audit, **kwargs):
        super().__init__(*args, audit=audit, **kwargs)
        self.initial.setdefault("fieldwork_start", audit.fieldwork_start)
        self.initial.setdefault("fieldwork_end", audit.fieldwork_end)


class ForCauseForm(AuditForm):
    """Hold the audit for cause or count it as routine again (administrators): offered the other way round
    from what the audit is now, with the reason, and the override a routine audit may need."""

    for_cause = model_field(Audit, "for_cause", forms.CheckboxInput(attrs={"class": "form-check-input"}))
    reason = forms.CharField(
        label=_("Reason"),
        help_text=_("Held for cause: the cause, kept on the audit. Counted as routine: why. Kept in its history."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    override_reason = _override_reason()

    def __init__(self, *args, audit: Audit, **kwargs):
        super().__init__(*args, audit=audit, **kwargs)
        self.initial.setdefault("for_cause", not audit.for_cause)


class ReportForm(AuditForm):
    report_date = forms.DateField(label=_("Report date"), widget=forms.DateInput(attrs=DATE, format=ISO_DATE))
    report_summary = forms.CharField(label=_("Report summary"), widget=forms.Textarea(attrs={**TEXTAREA, "rows": 5}))


class CancelAuditForm(AuditForm):
    reason = forms.CharField(
        label=_("Why the audit is cancelled"),
        help_text=_("Kept on the audit and in its history."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )


class VerifyForm(AuditForm):
    note = forms.CharField(
        label=_("Verification note"),
        required=False,
        help_text=_("What the verification checked (optional); shown with the finding."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )


class DueDateForm(AuditForm):
    due_date = forms.DateField(label=_("New remediation due date"), widget=forms.DateInput(attrs=DATE, format=ISO_DATE))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=services.DUE_DATE_REASON_MAX_LENGTH,
        help_text=_("Kept in the finding's history."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )


class RemediationPlanForm(AuditForm):
    plan = forms.CharField(
        label=_("Remediation plan"),
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 5}),
        error_messages={"required": _("Describe the remediation plan.")},
    )


class EvidenceForm(AuditForm):
    evidence = forms.CharField(
        label=_("Evidence of remediation"),
        help_text=_("What was done, and where the proof is."),
        widget=forms.Textarea(attrs={**TEXTAREA, "rows": 5}),
        error_messages={"required": _("Give the evidence of remediation.")},
    )


class RiskAcceptanceForm(AuditForm):
    reason = forms.CharField(
        label=_("Why the risk is accepted"),
        help_text=_("Kept in the finding's history."),
        widget=forms.Textarea(attrs=TEXTAREA),
    )
