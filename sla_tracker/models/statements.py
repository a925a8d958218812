"""Penalty statements: one per contract and month, one line per service level, and their history.

A statement moves draft → in review → approved → invoiced (disputed on the way when the vendor
contests a line or an adjustment). An approved statement is never changed by a recomputation: corrections
after approval become adjustments carried into the next open statement.
"""

import contextlib
import datetime
import posixpath
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.templatetags.ui import money
from config.formats import long_date, month_name
from contracts.choices import Currency
from contracts.models import Contract
from sla_tracker.choices import (
    CloseRefusalCode,
    ComputationCause,
    DisputeStatus,
    LineStatus,
    StatementAction,
    StatementStatus,
)
from sla_tracker.explanations import readable
from sla_tracker.models.terms import ServiceLevel, ServiceLevelVersion
from sla_tracker.scenario_messages import readable_message

MONEY = {"max_digits": 14, "decimal_places": 2}


class PenaltyStatement(models.Model):
    """The month's service-credit result for one contract, as procurement reviews and sends it."""

    # Indexed by statement_unique_contract_month, which begins with it: a second index would only slow the close.
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="statements", db_index=False)
    month = models.DateField(_("month"), help_text=_("First day of the month."))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    charges = models.DecimalField(_("charges"), **MONEY)
    at_risk_amount = models.DecimalField(_("at-risk amount"), **MONEY, null=True, blank=True)
    uncapped_credits = models.DecimalField(_("credits before the monthly cap"), **MONEY, default=0)
    cap_reached = models.BooleanField(_("cap reached"), default=False)
    credits = models.DecimalField(_("credits"), **MONEY, default=0)
    bonuses = models.DecimalField(_("bonuses"), **MONEY, default=0)
    earn_backs = models.DecimalField(_("earn-backs"), **MONEY, default=0)
    adjustments = models.DecimalField(
        _("adjustments"),
        **MONEY,
        default=0,
        help_text=_(
            "Corrections of earlier approved months carried into this statement (signed); a waived one counts 0."
        ),
    )
    net = models.DecimalField(_("net"), **MONEY, default=0, help_text=_("bonuses + earn-backs − credits + adjustments"))
    termination_rights = models.JSONField(_("termination rights"), default=list, blank=True)
    input_fingerprint = models.CharField(
        _("input fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("Hash of the data and terms the figures were computed from."),
    )
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True)
    # An approved or invoiced month stays as approved; once a recomputation after a correction gives other
    # figures (their difference carried as adjustments), later months read these in their history instead.
    effective_history = models.JSONField(
        _("month as corrected"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The month as later months read it after a correction of its approved figures (the difference is "
            "carried as adjustments); empty while the approved figures stand."
        ),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    invoiced_at = models.DateTimeField(_("invoiced"), null=True, blank=True)
    invoice_reference = models.CharField(_("invoice reference"), max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-month", "contract"]
        verbose_name = _("penalty statement")
        verbose_name_plural = _("penalty statements")
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="statement_unique_contract_month"),
            models.CheckConstraint(
                name="statement_amounts_non_negative",
                condition=Q(charges__gte=0, uncapped_credits__gte=0, credits__gte=0, bonuses__gte=0, earn_backs__gte=0),
                violation_error_message=_("Charges, credits, bonuses and earn-backs cannot be negative."),
            ),
            models.CheckConstraint(
                name="statement_credits_within_uncapped",
                condition=Q(credits__lte=F("uncapped_credits")),
                violation_error_message=_("Caps only reduce credits."),
            ),
            models.CheckConstraint(
                name="statement_credits_within_at_risk",
                condition=Q(at_risk_amount__isnull=True) | Q(credits__lte=F("at_risk_amount")),
                violation_error_message=_("Credits cannot exceed the at-risk amount."),
            ),
            models.CheckConstraint(
                name="statement_approval_recorded",
                condition=~Q(status__in=[StatementStatus.APPROVED, StatementStatus.INVOICED])
                | Q(approved_by__isnull=False, approved_at__isnull=False),
                violation_error_message=_("An approved statement records who approved it and when."),
            ),
        ]
        indexes = [models.Index(fields=["month", "status"], name="statement_month_status_idx")]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.month:%Y-%m} ({self.get_status_display()})"

    @property
    def is_locked(self) -> bool:
        """Approved and invoiced statements are never recomputed."""
        return self.status in (StatementStatus.APPROVED, StatementStatus.INVOICED)


# A waived line or adjustment records why, who and when.
WAIVER_RECORDED = Q(waived=False) | (Q(waived_by__isnull=False, waived_at__isnull=False) & ~Q(waiver_reason=""))


class StatementLine(models.Model):
    """One service level's result in a statement, with the inputs and terms it was computed from."""

    # Indexed by line_unique_service_level, which begins with it.
    statement = models.ForeignKey(PenaltyStatement, on_delete=models.CASCADE, related_name="lines", db_index=False)
    service_level = models.ForeignKey(ServiceLevel, on_delete=models.PROTECT, related_name="statement_lines")
    terms = models.ForeignKey(
        ServiceLevelVersion,
        on_delete=models.PROTECT,
        related_name="statement_lines",
        verbose_name=_("terms version"),
    )
    measured = models.DecimalField(_("measured"), max_digits=18, decimal_places=6, null=True, blank=True)
    numerator = models.DecimalField(_("Σ numerator"), max_digits=22, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(_("Σ denominator"), max_digits=22, decimal_places=4, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LineStatus.choices)
    provisional = models.BooleanField(
        _("provisional"), default=False, help_text=_("The metric finalises after month end.")
    )
    run = models.PositiveSmallIntegerField(_("consecutive credit-bearing months"), default=0)
    raw_credit = models.DecimalField(_("credit before multipliers and caps"), **MONEY, default=0)
    credit = models.DecimalField(_("credit"), **MONEY, default=0)
    bonus = models.DecimalField(_("bonus"), **MONEY, default=0)
    earn_back = models.DecimalField(_("earn-back"), **MONEY, default=0)
    explanation = models.TextField(_("explanation"), blank=True)
    explanation_notes = models.JSONField(
        _("explanation notes"),
        default=list,
        blank=True,
        help_text=_("The explanation's parts, for the pages to write it in the reader's language."),
    )
    inputs = models.JSONField(
        _("inputs"), default=dict, blank=True, help_text=_("Counter sums, excluded days, incidents used.")
    )
    waived = models.BooleanField(_("waived"), default=False)
    waiver_reason = models.TextField(_("waiver reason"), blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    waived_at = models.DateTimeField(_("waived"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["statement", "service_level__display_order", "service_level__code"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        constraints = [
            models.UniqueConstraint(fields=["statement", "service_level"], name="line_unique_service_level"),
            models.CheckConstraint(
                name="line_amounts_non_negative",
                condition=Q(raw_credit__gte=0, credit__gte=0, bonus__gte=0, earn_back__gte=0),
                violation_error_message=_("Line amounts cannot be negative."),
            ),
            models.CheckConstraint(
                name="line_waiver_recorded",
                condition=WAIVER_RECORDED,
                violation_error_message=_("A waiver records its reason, who waived and when."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement} {self.service_level.code}: {self.get_status_display()} {self.credit}"

    @property
    def readable_explanation(self) -> str:
        """The explanation in the reader's language (stored in English, as the engine writes it)."""
        return readable(self.explanation, self.explanation_notes)

    @property
    def charged_credit(self) -> Decimal:
        """The credit the line counts for in the statement's totals: none once waived."""
        return Decimal("0.00") if self.waived else self.credit

    @property
    def waived_credit(self) -> Decimal:
        """The credit a waiver took off the line (none if it is not waived)."""
        return self.credit if self.waived else Decimal("0.00")


# A resolved dispute records the resolution, who and when.
RESOLUTION_RECORDED = Q(status=DisputeStatus.OPEN) | (
    Q(resolved_by__isnull=False, resolved_at__isnull=False) & ~Q(resolution="")
)


class Dispute(models.Model):
    """What the vendor contests in a statement (a line, an adjustment carried in), with its reason and
    evidence, and how procurement resolved it. Both kinds are raised and resolved by the same services."""

    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    evidence = models.FileField(_("evidence"), upload_to="disputes/%Y/%m/", blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    created_at = models.DateTimeField(_("raised"), auto_now_add=True)

    # The web pages' URL names of the kind (its accept, reject and evidence pages).
    url_prefix = ""

    class Meta:
        abstract = True

    @property
    def evidence_filename(self) -> str:
        """The evidence file's name as uploaded (without the folder it is stored in)."""
        return posixpath.basename(self.evidence.name) if self.evidence else ""

    @property
    def accept_url(self) -> str:
        return reverse(f"{self.url_prefix}-accept", args=[self.pk])

    @property
    def reject_url(self) -> str:
        return reverse(f"{self.url_prefix}-reject", args=[self.pk])

    @property
    def evidence_url(self) -> str:
        return reverse(f"{self.url_prefix}-evidence", args=[self.pk])


class LineDispute(Dispute):
    """The vendor contests a statement line, with its reason and evidence; procurement resolves it."""

    line = models.ForeignKey(StatementLine, on_delete=models.PROTECT, related_name="disputes")

    url_prefix = "sla_tracker:dispute"

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            models.CheckConstraint(
                name="dispute_resolution_recorded",
                condition=RESOLUTION_RECORDED,
                violation_error_message=_("A resolved dispute records the resolution, who and when."),
            ),
            models.UniqueConstraint(
                fields=["line"],
                condition=Q(status=DisputeStatus.OPEN),
                name="dispute_one_open_per_line",
                violation_error_message=_("This line already has an open dispute."),
            ),
        ]
        indexes = [models.Index(fields=["status"], name="dispute_status_idx")]

    def __str__(self) -> str:
        return f"Dispute on {self.line} ({self.get_status_display()})"

    @property
    def statement(self) -> PenaltyStatement:
        return self.line.statement

    @property
    def subject(self) -> str:
        """What is disputed, as the pages name it: the line's service level."""
        return self.line.service_level.code

    @property
    def statement_url(self) -> str:
        """The statement's page, at the disputed line."""
        return f"{reverse('sla_tracker:statement', args=[self.line.statement_id])}#line-{self.line_id}"


class StatementAdjustment(models.Model):
    """A correction of an approved month (its data changed after approval), carried into a later
    open statement instead of rewriting the approved one. Positive amounts favour the vendor."""

    statement = models.ForeignKey(PenaltyStatement, on_delete=models.PROTECT, related_name="adjustment_lines")
    origin = models.ForeignKey(
        PenaltyStatement,
        on_delete=models.PROTECT,
        related_name="adjustments_caused",
        verbose_name=_("corrected statement"),
    )
    service_level = models.ForeignKey(ServiceLevel, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), **MONEY)
    reason = models.TextField(_("reason"))
    # The reason's figures, for the pages to write it in the reader's language (see readable_reason).
    reason_data = models.JSONField(_("reason as data"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    waived = models.BooleanField(_("waived"), default=False)
    waiver_reason = models.TextField(_("waiver reason"), blank=True)
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    waived_at = models.DateTimeField(_("waived"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["statement", "origin__month"]
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        constraints = [
            models.CheckConstraint(
                name="adjustment_origin_is_another_statement",
                condition=~Q(origin=F("statement")),
                violation_error_message=_("An adjustment corrects another (earlier) statement."),
            ),
            models.CheckConstraint(
                name="adjustment_waiver_recorded",
                condition=WAIVER_RECORDED,
                violation_error_message=_("A waiver records its reason, who waived and when."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement}: {self.amount} for {self.origin}"

    @property
    def label_parts(self) -> dict[str, str]:
        """What names the adjustment: its service level (``code``) and the month it corrects (``month``)."""
        return {"code": self.service_level.code, "month": month_name(self.origin.month)}

    @property
    def label(self) -> str:
        """The adjustment as the pages name it, e.g. "CSL-1 adjustment for January 2026"."""
        return _("%(code)s adjustment for %(month)s") % self.label_parts

    @property
    def charged_amount(self) -> Decimal:
        """The amount the adjustment counts for in the statement's totals: none once waived."""
        return Decimal("0.00") if self.waived else self.amount

    @property
    def waived_amount(self) -> Decimal:
        """The amount a waiver took off the adjustment (none if it is not waived)."""
        return self.amount if self.waived else Decimal("0.00")

    @property
    def readable_reason(self) -> str:
        """The reason in the reader's language where the adjustment keeps it as data (``reason`` is the
        English record; adjustments carried before the data was kept show it as it is)."""
        data = self.reason_data
        if "approved_net" in data:
            currency = self.origin.currency
            figures = {
                "approved": money(Decimal(data["approved_net"]), currency),
                "recomputed": money(Decimal(data["recomputed_net"]), currency),
            }
            if "carried_before" in data:
                figures["carried"] = money(Decimal(data["carried_before"]), currency)
                return (
                    _("Approved net %(approved)s, %(recomputed)s once recomputed, %(carried)s carried for it before.")
                    % figures
                )
            return _("Approved net %(approved)s, %(recomputed)s once recomputed.") % figures
        if data.get("reversed"):
            return _(
                "The month was reopened and recomputed: what was carried for it into approved statements or "
                "settled outside them is reversed."
            )
        return self.reason


class AdjustmentDispute(Dispute):
    """The vendor contests an adjustment carried into their statement, as they contest a line."""

    adjustment = models.ForeignKey(StatementAdjustment, on_delete=models.PROTECT, related_name="disputes")

    url_prefix = "sla_tracker:adjustment-dispute"

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("adjustment dispute")
        verbose_name_plural = _("adjustment disputes")
        constraints = [
            models.CheckConstraint(
                name="adjustment_dispute_resolution_recorded",
                condition=RESOLUTION_RECORDED,
                violation_error_message=_("A resolved dispute records the resolution, who and when."),
            ),
            models.UniqueConstraint(
                fields=["adjustment"],
                condition=Q(status=DisputeStatus.OPEN),
                name="dispute_one_open_per_adjustment",
                violation_error_message=_("This adjustment already has an open dispute."),
            ),
        ]
        indexes = [models.Index(fields=["status"], name="adjustment_dispute_status_idx")]

    def __str__(self) -> str:
        return f"Dispute on {self.adjustment} ({self.get_status_display()})"

    @property
    def statement(self) -> PenaltyStatement:
        return self.adjustment.statement

    @property
    def subject(self) -> str:
        """What is disputed, as the pages name it: the adjustment's service level and month."""
        return self.adjustment.label

    @property
    def statement_url(self) -> str:
        """The statement's page, at the disputed adjustment."""
        return (
            f"{reverse('sla_tracker:statement', args=[self.adjustment.statement_id])}#adjustment-{self.adjustment_id}"
        )


class StatementEvent(models.Model):
    """The audit trail of a statement: every computation and transition, who, when and why."""

    # Indexed by stmtevent_statement_idx, which begins with it.
    statement = models.ForeignKey(PenaltyStatement, on_delete=models.CASCADE, related_name="events", db_index=False)
    line = models.ForeignKey(StatementLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    adjustment = models.ForeignKey(
        StatementAdjustment, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    action = models.CharField(_("action"), max_length=30, choices=StatementAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the tracker itself (the cause says why)."),
    )
    cause = models.CharField(
        _("cause"),
        max_length=20,
        choices=ComputationCause.choices,
        blank=True,
        help_text=_("What made the tracker compute the statement; empty for a transition made by a person."),
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["statement", "created_at", "id"]
        verbose_name = _("statement event")
        verbose_name_plural = _("statement events")
        indexes = [models.Index(fields=["statement", "created_at"], name="stmtevent_statement_idx")]

    def __str__(self) -> str:
        return f"{self.statement}: {self.get_action_display()} by {self.actor or 'system'}"

    @property
    def readable_note(self) -> str:
        """The note in the reader's language where the event keeps its parts as data (a dispute's outcome)."""
        if "outcome" in self.data:
            return _("%(outcome)s: %(resolution)s") % {
                "outcome": DisputeStatus(self.data["outcome"]).label,
                "resolution": self.data["resolution"],
            }
        return self.note


# What a refused close says, as templates kept with their parts (CloseRefusal.params) so that each reader
# gets them in their own language; the close raises them with the same code.
CLOSE_REFUSAL_MESSAGES = {
    CloseRefusalCode.NO_CHARGES: _("%(contract)s has no monthly charges for %(month)s: record them before the close."),
    CloseRefusalCode.NOT_EVALUABLE: _("%(contract)s %(month)s cannot be evaluated: %(reason)s"),
    CloseRefusalCode.NOT_SERVED: _(
        "%(contract)s did not serve %(month)s (service from %(start)s to %(end)s): there is nothing to close."
    ),
}


def readable_close_refusal_params(params: dict) -> dict:
    """A refusal's parts as its reader reads them, in the active language: the month written out as the pages
    write it ("October 2026", "octobre 2026"), the first and last days of service in the reader's long date, the
    engine's reason in words. The refusal keeps them as the close gave them (ISO, language-neutral); a part that is
    not what it should be is left as it is."""
    readable = dict(params)
    if isinstance(readable.get("reason"), str):
        readable["reason"] = readable_message(readable["reason"])
    if "month" in readable:
        with contextlib.suppress(ValueError):
            readable["month"] = month_name(readable["month"])
    for key in ("start", "end"):
        if isinstance(readable.get(key), str):
            with contextlib.suppress(ValueError):
                readable[key] = long_date(datetime.date.fromisoformat(readable[key]))
    return readable


def close_refusal_text(code: str, params, fallback: str) -> str:
    """The refusal ``code`` with ``params`` in the active language (readable_close_refusal_params); ``fallback``
    where the code has no template or the params do not fit it."""
    template = CLOSE_REFUSAL_MESSAGES.get(code)
    if not template or not isinstance(params, dict):
        return fallback
    try:
        return str(template) % readable_close_refusal_params(params)
    except (KeyError, TypeError, ValueError):
        return fallback


class CloseRefusal(models.Model):
    """A contract's month the close could not compute, and why, kept until a close of that month or of a
    later one (which closes the months before it) succeeds. Without it a refused close (e.g. a month's
    charges not recorded) would only be logged, and the month's credits would go unclaimed unnoticed."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="close_refusals", verbose_name=_("contract")
    )
    month = models.DateField(_("month"), help_text=_("First day of the month whose close was refused."))
    code = models.CharField(_("reason code"), max_length=20, choices=CloseRefusalCode.choices, blank=True)
    params = models.JSONField(_("reason data"), default=dict, blank=True)
    message = models.TextField(_("reason"), help_text=_("The refusal as the close wrote it."))
    first_refused_at = models.DateTimeField(_("first refused"))
    refused_at = models.DateTimeField(_("last refused"))
    attempts = models.PositiveIntegerField(_("attempts"), default=1)

    class Meta:
        ordering = ["month", "contract"]
        verbose_name = _("refused close")
        verbose_name_plural = _("refused closes")
        constraints = [models.UniqueConstraint(fields=["contract", "month"], name="close_refusal_unique_month")]

    def __str__(self) -> str:
        return f"{self.contract} {self.month:%Y-%m}: {self.message}"

    @property
    def readable_message(self) -> str:
        """The refusal in the reader's language, its month and days written out as the pages write them (the stored
        message if its template is unknown)."""
        return close_refusal_text(self.code, self.params, self.message)
