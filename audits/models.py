"""Audit rights (the contract clause), audits carried out under them, and their findings."""

import datetime
from itertools import pairwise

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

from audits.choices import (
    Auditor,
    AuditStatus,
    AuditType,
    CostBearer,
    FindingStatus,
    NoticeUnit,
    Severity,
)
from contracts.calendars import business_days_text
from contracts.choices import Currency
from contracts.dates import UNIT_BUSINESS_DAYS, UNIT_DAYS, days_of_notice, notice_deadline
from contracts.models import Contract, KeptWhereCreated, VendorContact


def local_today() -> datetime.date:
    """Today in the project's time zone (the day a finding is recorded unless the service says)."""
    return timezone.localdate()


class AuditRight(KeptWhereCreated, models.Model):
    """The audit clause of a contract: how often, with how much notice, by whom, at whose cost."""

    fixed_once_created = ("contract",)
    moved_message = _("An audit clause stays with its contract: record it in the other contract.")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="audit_rights")
    clause_reference = models.CharField(_("clause"), max_length=120)
    clause_text = models.TextField(_("clause text"), blank=True)
    audits_per_year = models.PositiveSmallIntegerField(
        _("audits allowed per contract year"), validators=[MinValueValidator(1)]
    )
    notice = models.PositiveSmallIntegerField(_("minimum notice"))
    notice_unit = models.CharField(
        _("notice unit"), max_length=15, choices=NoticeUnit.choices, default=NoticeUnit.CALENDAR_DAYS
    )
    scopes = models.JSONField(
        _("scope"), default=list, help_text=_('Audit types the clause allows, e.g. ["financial", "sla_data"].')
    )
    allowed_auditors = models.JSONField(
        _("who may audit"), default=list, help_text=_('e.g. ["customer", "third_party", "regulator"]')
    )
    cost_bearer = models.CharField(
        _("cost borne by"), max_length=10, choices=CostBearer.choices, default=CostBearer.CUSTOMER
    )
    cost_shift_threshold_pct = models.DecimalField(
        _("discrepancy that shifts the cost to the vendor (%)"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    remediation_days_critical = models.PositiveSmallIntegerField(_("remediation days: critical"), default=10)
    remediation_days_high = models.PositiveSmallIntegerField(_("remediation days: high"), default=30)
    remediation_days_medium = models.PositiveSmallIntegerField(_("remediation days: medium"), default=60)
    remediation_days_low = models.PositiveSmallIntegerField(_("remediation days: low"), default=90)
    records_retention_years = models.PositiveSmallIntegerField(
        _("records retention (years)"),
        default=5,
        help_text=_(
            "Years after the contract's end during which the vendor keeps its records: audits may be held until then."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "clause_reference"]
        verbose_name = _("audit right")
        verbose_name_plural = _("audit rights")
        constraints = [
            models.UniqueConstraint(fields=["contract", "clause_reference"], name="auditright_unique_clause"),
            models.CheckConstraint(
                name="auditright_audits_per_year_positive",
                condition=Q(audits_per_year__gte=1),
                violation_error_message=_("At least one audit per year."),
            ),
            models.CheckConstraint(
                name="auditright_threshold_0_100",
                condition=Q(cost_shift_threshold_pct__isnull=True)
                | Q(cost_shift_threshold_pct__gte=0, cost_shift_threshold_pct__lte=100),
                violation_error_message=_("The discrepancy threshold is a percentage between 0 and 100."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.clause_reference}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        for field, choices in (("scopes", AuditType), ("allowed_auditors", Auditor)):
            values = getattr(self, field)
            allowed = ", ".join(choices.values)
            if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
                errors[field] = _("A list of values among: %(allowed)s.") % {"allowed": allowed}
            elif unknown := sorted(set(values) - set(choices.values)):
                errors[field] = _("Unknown: %(unknown)s. The values are: %(allowed)s.") % {
                    "unknown": ", ".join(unknown),
                    "allowed": allowed,
                }
        # A graver finding is remedied no later than a lighter one (DOMAIN.md §4.2: deadlines by severity).
        for graver, lighter in pairwise(Severity.values):
            graver_days, lighter_days = self.remediation_days(graver), self.remediation_days(lighter)
            if graver_days is not None and lighter_days is not None and graver_days > lighter_days:
                errors[f"remediation_days_{graver}"] = _(
                    "A %(graver)s finding is remedied no later than a %(lighter)s one (%(days)s days)."
                ) % {
                    "graver": str(Severity(graver).label).lower(),
                    "lighter": str(Severity(lighter).label).lower(),
                    "days": lighter_days,
                }
        if errors:
            raise ValidationError(errors)

    def remediation_days(self, severity: str) -> int:
        return getattr(self, f"remediation_days_{severity}")

    # The notice in business days counts in the contract's calendar. The deadline (shown and reminded) and the
    # notice a date gives (checked) are one rule: enough notice exactly when it is given by the deadline.

    @property
    def notice_in_business_days(self) -> bool:
        return self.notice_unit == NoticeUnit.BUSINESS_DAYS

    def notice_deadline(self, fieldwork_start: datetime.date) -> datetime.date:
        """The last day a notice can go out for fieldwork starting on ``fieldwork_start`` and satisfy the clause."""
        unit = UNIT_BUSINESS_DAYS if self.notice_in_business_days else UNIT_DAYS
        return notice_deadline(fieldwork_start, self.notice, unit, calendar=self.contract.business_calendar)

    def notice_given(self, notice_date: datetime.date, fieldwork_start: datetime.date) -> int:
        """The notice, in the clause's unit, that a notice sent on ``notice_date`` gives before the fieldwork."""
        return days_of_notice(
            notice_date,
            fieldwork_start,
            business_days=self.notice_in_business_days,
            calendar=self.contract.business_calendar,
        )

    @property
    def notice_text(self) -> str:
        """The clause's notice as a reader writes it: "30 calendar days", "10 business days (FR holiday
        calendar)"."""
        if self.notice_in_business_days:
            return business_days_text(self.notice, self.contract.business_calendar)
        return ngettext("%(count)d calendar day", "%(count)d calendar days", self.notice) % {"count": self.notice}


class Audit(models.Model):
    """An audit exercised under an audit right, from planning to its closed report."""

    audit_right = models.ForeignKey(AuditRight, on_delete=models.PROTECT, related_name="audits")
    reference = models.CharField(
        _("reference"),
        max_length=40,
        unique=True,
        error_messages={"unique": _("An audit with this reference already exists.")},
    )
    audit_type = models.CharField(_("type"), max_length=20, choices=AuditType.choices)
    auditor_kind = models.CharField(_("auditor"), max_length=12, choices=Auditor.choices)
    auditor_name = models.CharField(_("audit firm or team"), max_length=200)
    lead_auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="led_audits"
    )
    status = models.CharField(_("status"), max_length=10, choices=AuditStatus.choices, default=AuditStatus.PLANNED)
    scope_description = models.TextField(_("scope"), blank=True)
    planned_on = models.DateField(
        _("planned on"), default=local_today, help_text=_("The notice of the audit is sent on this day or later.")
    )
    notice_date = models.DateField(_("notice sent on"), null=True, blank=True)
    fieldwork_start = models.DateField(_("fieldwork from"))
    fieldwork_end = models.DateField(_("fieldwork until"))
    report_date = models.DateField(_("report date"), null=True, blank=True)
    report_summary = models.TextField(_("report summary"), blank=True)
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, null=True, blank=True)
    cost_currency = models.CharField(_("cost currency"), max_length=3, choices=Currency.choices, blank=True)
    cost_recoverable = models.BooleanField(
        _("cost recoverable from the vendor"),
        default=False,
        help_text=_("Set when a financial finding's discrepancy reaches the clause's threshold."),
    )
    override_reason = models.TextField(
        _("override reason"),
        blank=True,
        help_text=_("Why an administrator allowed this audit outside the right (e.g. a regulator's request)."),
    )
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    for_cause = models.BooleanField(
        _("held for cause"),
        default=False,
        help_text=_(
            "Held because of a security incident, a regulator's demand, suspected fraud or a material breach, "
            "with the cause as the override reason: it does not count against the audits the clause allows "
            "each contract year."
        ),
    )
    cancellation_reason = models.TextField(_("why the audit was cancelled"), blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    reschedule_reason = models.TextField(
        _("why the fieldwork was rescheduled"),
        blank=True,
        help_text=_("The reason of the latest move of the fieldwork's dates; each move is in the audit's history."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-fieldwork_start"]
        verbose_name = _("audit")
        verbose_name_plural = _("audits")
        constraints = [
            models.CheckConstraint(
                name="audit_fieldwork_end_not_before_start",
                condition=Q(fieldwork_end__gte=F("fieldwork_start")),
                violation_error_message=_("Fieldwork cannot end before it starts."),
            ),
            models.CheckConstraint(
                name="audit_notice_before_fieldwork",
                condition=Q(notice_date__isnull=True) | Q(notice_date__lte=F("fieldwork_start")),
                violation_error_message=_("Notice is given before fieldwork starts."),
            ),
            models.CheckConstraint(
                name="audit_cost_non_negative_with_currency",
                condition=Q(cost__isnull=True) | (Q(cost__gte=0) & ~Q(cost_currency="")),
                violation_error_message=_("A cost is non-negative and has a currency."),
            ),
            models.CheckConstraint(
                name="audit_override_recorded",
                condition=Q(override_reason="", overridden_by__isnull=True)
                | (~Q(override_reason="") & Q(overridden_by__isnull=False)),
                violation_error_message=_("An override records its reason and who allowed it."),
            ),
            models.CheckConstraint(
                name="audit_for_cause_recorded",
                condition=Q(for_cause=False) | ~Q(override_reason=""),
                violation_error_message=_("An audit for cause records its cause and who allowed it."),
            ),
            models.CheckConstraint(
                name="audit_cancellation_recorded",
                condition=~Q(status=AuditStatus.CANCELLED)
                | (~Q(cancellation_reason="") & Q(cancelled_by__isnull=False, cancelled_at__isnull=False)),
                violation_error_message=_("A cancelled audit records why, who cancelled it and when."),
            ),
        ]
        indexes = [models.Index(fields=["audit_right", "fieldwork_start"], name="audit_right_year_idx")]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_audit_type_display()})"

    def clean(self) -> None:
        """The field-level form of the constraints a user can break, so that the message sits under its field."""
        super().clean()
        errors = {}
        if self.lead_auditor is not None and self.lead_auditor.vendor_id is not None:
            errors["lead_auditor"] = _("The lead auditor is on the customer's side, not a vendor user.")
        start, end = self.fieldwork_start, self.fieldwork_end
        if start is not None and end is not None and end < start:
            errors["fieldwork_end"] = _("Fieldwork cannot end before it starts.")
        if self.cost is not None and self.cost < 0:
            errors["cost"] = _("A cost cannot be negative.")
        if self.cost is not None and not self.cost_currency:
            errors["cost_currency"] = _("A cost is recorded with its currency.")
        errors.update(self._final_record_errors())
        if errors:
            raise ValidationError(errors)

    def _final_record_errors(self) -> dict[str, str]:
        """A closed or cancelled audit is final, whoever saves it (back office, API): each change is refused."""
        if self.pk is None or self._state.adding:
            return {}
        fields = [field for field in self._meta.concrete_fields if not field.primary_key]
        stored = Audit.objects.filter(pk=self.pk).values(*(field.attname for field in fields)).first()
        if stored is None or stored["status"] not in (AuditStatus.CLOSED, AuditStatus.CANCELLED):
            return {}
        message = _("The audit is %(status)s: its record is final.") % {
            "status": AuditStatus(stored["status"]).label.lower()
        }
        return {field.name: message for field in fields if getattr(self, field.attname) != stored[field.attname]}

    @property
    def contract(self) -> Contract:
        return self.audit_right.contract


# What a finding says, bounded (the audit report itself is a document of its own).
FINDING_DESCRIPTION_MAX = 20_000


class Finding(models.Model):
    """A deficiency found by an audit, followed until remediated and verified (or the risk accepted)."""

    audit = models.ForeignKey(Audit, on_delete=models.PROTECT, related_name="findings")
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=250)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    description = models.TextField(
        _("description"), max_length=FINDING_DESCRIPTION_MAX, validators=[MaxLengthValidator(FINDING_DESCRIPTION_MAX)]
    )
    clause_breached = models.CharField(_("clause breached"), max_length=120, blank=True)
    discrepancy_pct = models.DecimalField(
        _("financial discrepancy (%)"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    recovery_amount = models.DecimalField(
        _("amount to recover"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="owned_findings"
    )
    vendor_contact = models.ForeignKey(
        VendorContact,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("vendor contact responsible"),
    )
    addressed_to_vendor = models.BooleanField(
        _("addressed to the vendor"), default=True, help_text=_("The vendor's users can see this finding.")
    )
    recorded_on = models.DateField(
        _("recorded on"),
        default=local_today,
        help_text=_("A finding recorded after the report counts its remediation days from this day."),
    )
    due_date = models.DateField(_("remediation due"))
    due_date_set_by_hand = models.BooleanField(
        _("due date set by hand"),
        default=False,
        help_text=_(
            "Changed with a reason; otherwise the clause's remediation days count from the report, or from "
            "the day the finding is recorded if later."
        ),
    )
    status = models.CharField(_("status"), max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    remediation_plan = models.TextField(_("remediation plan"), blank=True)
    evidence = models.TextField(_("evidence of remediation"), blank=True)
    remediated_at = models.DateTimeField(_("remediated"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verification_note = models.TextField(_("verification note"), blank=True)
    risk_acceptance_reason = models.TextField(_("why the risk was accepted"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["audit", "number"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [
            models.UniqueConstraint(fields=["audit", "number"], name="finding_unique_number"),
            models.CheckConstraint(
                name="finding_verification_recorded",
                condition=~Q(status=FindingStatus.VERIFIED) | Q(verified_by__isnull=False, verified_at__isnull=False),
                violation_error_message=_("A verified finding records who verified it and when."),
            ),
            models.CheckConstraint(
                name="finding_recovery_non_negative",
                condition=Q(recovery_amount__isnull=True) | Q(recovery_amount__gte=0),
                violation_error_message=_("The amount to recover cannot be negative."),
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="finding_due_idx")]

    def __str__(self) -> str:
        return f"{self.audit.reference}-{self.number}: {self.title}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.owner is not None and self.owner.vendor_id is not None:
            errors["owner"] = _("The finding's owner is on the customer's side; name the vendor's contact instead.")
        contact, audit = self.vendor_contact, self.audit if self.audit_id else None
        if contact is not None and audit is not None and contact.vendor_id != audit.audit_right.contract.vendor_id:
            errors["vendor_contact"] = _("This contact works for another vendor than the audited contract's.")
        if self.recovery_amount is not None and self.recovery_amount < 0:
            errors["recovery_amount"] = _("The amount to recover cannot be negative.")
        if errors:
            raise ValidationError(errors)
