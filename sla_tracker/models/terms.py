"""Credit terms: the contract's penalty regime and its service levels, effective-dated.

A contract runs for years and its terms change by amendment. Each change is a new row with a
`valid_from` month; the terms in force for month M are the latest row with valid_from ≤ M, so any
past month can be recomputed with the terms that applied then.

Terms are fixed once a month they apply to has its penalty statement approved (or invoiced): a row
(regime, service-level version, and a version's tiers and multipliers) valid from a month at or
before such a month is neither changed nor deleted, and a new row may not start at or before it,
since a recomputation would change the money of the approved month behind procurement's back. The
change is a new row valid from the first open month (after the last approved one). `TermsRow.clean`
and `TermsRow.delete` apply the rule, so the admin, the API and any other path refuse alike; a save
that changes nothing writes no history row.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from config.formats import long_date, month_name
from contracts.models import Amendment, Contract, KeptWhereCreated
from contracts.months import add_months, first_of_month
from sla_tracker.choices import (
    CreditType,
    Direction,
    MinVolumeRule,
    ServiceLevelKind,
    ShortfallRounding,
    StatementStatus,
    TerminationTriggerType,
)

PCT = {"max_digits": 7, "decimal_places": 4}
PCT_0_100 = [MinValueValidator(0), MaxValueValidator(100)]


def _pct_between(field: str, low: int, high: int, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        name=name,
        condition=Q(**{f"{field}__isnull": True}) | (Q(**{f"{field}__gte": low}) & Q(**{f"{field}__lte": high})),
        violation_error_message=_("%(field)s must be between %(low)s and %(high)s.")
        % {"field": field, "low": low, "high": high},
    )


LOCKED_STATUSES = (StatementStatus.APPROVED, StatementStatus.INVOICED)


class ApprovedMonths(NamedTuple):
    """Why terms applying from `applies_from` are fixed: `month`, the first month from then on whose
    statement is approved or invoiced (`status`), and `first_open`, the month after the last such month."""

    applies_from: datetime.date
    month: datetime.date
    status: str
    first_open: datetime.date

    @property
    def params(self) -> dict[str, str]:
        return {
            "valid_from": month_name(self.applies_from),
            "month": month_name(self.month),
            "status": StatementStatus(self.status).label,
            "open": month_name(self.first_open),
        }

    def fixed_message(self) -> str:
        return (
            _(
                "These terms apply from %(valid_from)s and the penalty statement of %(month)s is “%(status)s”, "
                "so they can no longer change: add a new version valid from %(open)s, the first open month."
            )
            % self.params
        )

    def deletion_message(self) -> str:
        return (
            _(
                "These terms apply from %(valid_from)s and the penalty statement of %(month)s is “%(status)s”, "
                "so they can no longer be deleted: add a new version valid from %(open)s, the first open month."
            )
            % self.params
        )

    def new_terms_message(self) -> str:
        return (
            _(
                "The penalty statement of %(month)s is “%(status)s”, so terms can no longer start in "
                "%(valid_from)s: make them valid from %(open)s, the first open month."
            )
            % self.params
        )


def approved_months_from(contract_id: int, month: datetime.date) -> ApprovedMonths | None:
    """The approved (or invoiced) months of a contract from `month` on that fix terms applying from
    `month`; None when there are none (one query)."""
    from sla_tracker.models.statements import PenaltyStatement

    locked = list(
        PenaltyStatement.objects.filter(
            contract_id=contract_id, month__gte=first_of_month(month), status__in=LOCKED_STATUSES
        )
        .order_by("month")
        .values_list("month", "status")
    )
    if not locked:
        return None
    (first, status), (last, _status) = locked[0], locked[-1]
    return ApprovedMonths(first_of_month(month), first, status, add_months(last, 1))


def _add_error(errors: dict[str, list], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _merge(errors: dict[str, list], more: dict[str, list]) -> dict[str, list]:
    for field, messages in more.items():
        errors.setdefault(field, []).extend(messages)
    return errors


class TermsRow(models.Model):
    """A row of credit terms: fixed once a month it applies to is approved (see the module docstring).

    A subclass says from which month and for which contract it applies (`applies_to`), and how it is
    read back with what `applies_to` needs (`stored_related`).
    """

    stored_related: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        stored = None if hasattr(self, "skip_history_when_saving") else self.stored_row()
        if stored is not None and not self.changed_fields(stored):
            # Nothing changed: no history row (simple-history records every save).
            self.skip_history_when_saving = True
            try:
                super().save(*args, **kwargs)
            finally:
                del self.skip_history_when_saving
            return
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        refusal = self.deletion_refusal()
        if refusal:
            raise ValidationError(refusal)
        return super().delete(*args, **kwargs)

    def applies_to(self) -> tuple[int, datetime.date] | None:
        """(contract id, first month these terms apply), None while incomplete."""
        raise NotImplementedError

    def stored_row(self) -> TermsRow | None:
        """The row as the database holds it (None for a new row)."""
        if self.pk is None or self._state.adding:
            return None
        return type(self)._default_manager.select_related(*self.stored_related).filter(pk=self.pk).first()

    def changed_fields(self, stored: TermsRow) -> list[str]:
        return [
            field.name
            for field in self._meta.concrete_fields
            if not field.primary_key and getattr(self, field.attname) != getattr(stored, field.attname)
        ]

    def approved_months(self) -> ApprovedMonths | None:
        """What fixes these terms, as they stand in memory; None when they may change."""
        applies = self.applies_to()
        return approved_months_from(*applies) if applies else None

    def deletion_refusal(self) -> str | None:
        fixed = (self.stored_row() or self).approved_months()
        return fixed.deletion_message() if fixed else None

    def fixed_terms_errors(self) -> dict[str, list]:
        """The refusal of this write: an edit of fixed terms (under each changed field), or terms that
        would start at or before an approved month (under `valid_from`, else the changed fields)."""
        errors: dict[str, list] = {}
        stored = self.stored_row()
        changed = self.changed_fields(stored) if stored is not None else []
        if stored is not None and not changed:
            return errors
        if changed and (fixed := stored.approved_months()):
            for name in changed:
                _add_error(errors, name, fixed.fixed_message())
            return errors
        if (fixed := self.approved_months()) is None:
            return errors
        if "valid_from" in {field.name for field in self._meta.concrete_fields} and (
            stored is None or "valid_from" in changed
        ):
            _add_error(errors, "valid_from", fixed.new_terms_message())
        elif changed:
            for name in changed:
                _add_error(errors, name, fixed.fixed_message())
        else:
            _add_error(errors, NON_FIELD_ERRORS, fixed.fixed_message())
        return errors


def contract_term_errors(contract: Contract, valid_from: datetime.date | None, amendment: Amendment | None) -> dict:
    """Terms start within the contract's term, and refer to one of its own amendments, from the month it takes
    effect."""
    errors: dict[str, list] = {}
    if valid_from is not None and not first_of_month(contract.start_date) <= valid_from <= contract.end_date:
        _add_error(
            errors,
            "valid_from",
            _("Terms apply within the contract's term: from %(start)s to %(end)s.")
            % {"start": month_name(contract.start_date), "end": month_name(contract.end_date)},
        )
    if amendment is not None and amendment.contract_id != contract.pk:
        _add_error(
            errors,
            "amendment",
            _("Amendment %(number)s belongs to %(other)s: choose an amendment of %(contract)s.")
            % {"number": amendment.number, "other": amendment.contract.reference, "contract": contract.reference},
        )
    elif amendment is not None and valid_from is not None and valid_from < first_of_month(amendment.effective_from):
        _add_error(
            errors,
            "valid_from",
            _("Amendment %(number)s takes effect on %(day)s: the terms it makes apply from %(month)s on.")
            % {
                "number": amendment.number,
                "day": long_date(amendment.effective_from),
                "month": month_name(amendment.effective_from),
            },
        )
    return errors


class MonthStartMixin(TermsRow):
    """Stores `valid_from` as the first day of its month."""

    valid_from = models.DateField(_("valid from"), help_text=_("First month these terms apply."))

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.valid_from = first_of_month(self.valid_from)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.valid_from and self.valid_from.day != 1:
            raise ValidationError({"valid_from": _("Use the first day of the month.")})


class PenaltyRegime(KeptWhereCreated, MonthStartMixin):
    """The contract-level credit terms: at-risk amount, allocation pool, annual cap, contract year."""

    fixed_once_created = ("contract",)
    moved_message = _("Credit terms stay with their contract: record them in the other contract.")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="penalty_regimes")
    amendment = models.ForeignKey(
        Amendment, on_delete=models.PROTECT, null=True, blank=True, related_name="penalty_regimes"
    )
    at_risk_pct = models.DecimalField(
        _("at-risk %"),
        **PCT,
        null=True,
        blank=True,
        validators=PCT_0_100,
        help_text=_("Monthly cap on credits, and base of allocation credits: % of the month's charges."),
    )
    pool_pct = models.DecimalField(
        _("pool % available for allocation"),
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1000)],
        help_text=_("The allocation % of all critical service levels may not sum above this."),
    )
    annual_cap_pct = models.DecimalField(
        _("annual cap %"),
        **PCT,
        null=True,
        blank=True,
        validators=PCT_0_100,
        help_text=_("Credits of a contract year may not exceed this % of that year's charges."),
    )
    contract_year_start_month = models.PositiveSmallIntegerField(
        _("contract year starts in month"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "valid_from"]
        verbose_name = _("penalty regime")
        verbose_name_plural = _("penalty regimes")
        constraints = [
            models.UniqueConstraint(fields=["contract", "valid_from"], name="regime_unique_contract_month"),
            _pct_between("at_risk_pct", 0, 100, "regime_at_risk_pct_0_100"),
            _pct_between("pool_pct", 0, 1000, "regime_pool_pct_0_1000"),
            _pct_between("annual_cap_pct", 0, 100, "regime_annual_cap_pct_0_100"),
            models.CheckConstraint(
                name="regime_year_start_month_1_12",
                condition=Q(contract_year_start_month__gte=1) & Q(contract_year_start_month__lte=12),
                violation_error_message=_("The contract year starts in a month from 1 to 12."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} regime from {self.valid_from:%Y-%m}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list] = {}
        try:
            contract = self.contract  # also a contract being added, with its regimes inline
        except Contract.DoesNotExist:
            contract = None
        if contract is not None:
            errors = contract_term_errors(contract, self.valid_from, self.amendment)
            if self.at_risk_pct is None and contract.pk is not None:
                allocated = ServiceLevelVersion.objects.filter(
                    service_level__contract=contract, kind=ServiceLevelKind.CRITICAL, credit_type=CreditType.ALLOCATION
                )
                if allocated.exists():
                    _add_error(
                        errors,
                        "at_risk_pct",
                        _("The contract's allocation credits are a share of the at-risk amount: set the at-risk %."),
                    )
                counted = contract.termination_triggers.filter(
                    trigger_type=TerminationTriggerType.CAP_REACHED_IN_WINDOW
                )
                if counted.exists():
                    _add_error(
                        errors,
                        "at_risk_pct",
                        _(
                            "The contract's termination trigger counts the months at the at-risk cap: "
                            "set the at-risk %, or remove that trigger first."
                        ),
                    )
        _merge(errors, self.fixed_terms_errors())
        if errors:
            raise ValidationError(errors)

    def applies_to(self) -> tuple[int, datetime.date] | None:
        if self.contract_id is None or self.valid_from is None:
            return None
        return self.contract_id, first_of_month(self.valid_from)


class TerminationTrigger(KeptWhereCreated, models.Model):
    """A chronic-failure clause: when it holds, the customer's termination right is available.

    The tracker only reports the right (from which month, with evidence); it never acts on it.
    """

    fixed_once_created = ("contract",)
    moved_message = _("A termination trigger stays with its contract: record it in the other contract.")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="termination_triggers")
    trigger_type = models.CharField(_("type"), max_length=30, choices=TerminationTriggerType.choices)
    months = models.PositiveSmallIntegerField(_("months (N)"), validators=[MinValueValidator(1)])
    window = models.PositiveSmallIntegerField(
        _("rolling window (months)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    clause_reference = models.CharField(_("clause"), max_length=120, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "trigger_type"]
        verbose_name = _("termination trigger")
        verbose_name_plural = _("termination triggers")
        constraints = [
            models.CheckConstraint(
                name="trigger_months_positive",
                condition=Q(months__gte=1),
                violation_error_message=_("N must be at least 1."),
            ),
            models.CheckConstraint(
                name="trigger_window_only_for_window_types",
                condition=(Q(trigger_type=TerminationTriggerType.CONSECUTIVE_DEFAULTS) & Q(window__isnull=True))
                | (
                    ~Q(trigger_type=TerminationTriggerType.CONSECUTIVE_DEFAULTS)
                    & Q(window__isnull=False)
                    & Q(window__gte=F("months"))
                ),
                violation_error_message=_(
                    "Window triggers need a window of at least N months; consecutive triggers have none."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference}: {self.get_trigger_type_display()} (N={self.months})"

    def clean(self) -> None:
        super().clean()
        if self.trigger_type != TerminationTriggerType.CAP_REACHED_IN_WINDOW or self.contract_id is None:
            return
        # Without an at-risk amount no month reaches the cap: the trigger could never hold there.
        uncapped = self.contract.penalty_regimes.filter(at_risk_pct__isnull=True).values_list("valid_from", flat=True)
        if months := [month_name(valid_from) for valid_from in uncapped]:
            raise ValidationError(
                {
                    "trigger_type": _(
                        "This trigger counts the months at the at-risk cap, but the credit terms from %(months)s "
                        "set no at-risk %%: set it there first."
                    )
                    % {"months": ", ".join(months)}
                }
            )


counter_code_validator = RegexValidator(
    r"^[a-z][a-z0-9_]*$", _("Use lower-case letters, digits and underscores, starting with a letter.")
)


class ServiceLevel(KeptWhereCreated, models.Model):
    """A service level of a contract (its identity); its terms live in versions."""

    fixed_once_created = ("contract",)
    moved_message = _(
        "A service level stays with its contract, whose statements cite it: create it in the other contract."
    )

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="service_levels")
    code = models.CharField(_("code"), max_length=20, help_text=_("As in the contract, e.g. CSL-1."))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("definition"), blank=True)
    display_order = models.PositiveSmallIntegerField(_("order"), default=0)
    retired_from = models.DateField(
        _("retired from"), null=True, blank=True, help_text=_("First month no longer measured.")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "display_order", "code"]
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")
        constraints = [
            models.UniqueConstraint(fields=["contract", "code"], name="servicelevel_unique_code_per_contract"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.code} – {self.name}"

    def clean(self) -> None:
        super().clean()
        if self.pk is None or self._state.adding or self.contract_id is None:
            return
        stored_code, stored = ServiceLevel.objects.filter(pk=self.pk).values_list("code", "retired_from").first()
        if stored_code != self.code:
            self._check_code_not_cited(stored_code)
        if stored == self.retired_from:
            return
        earliest = min(day for day in (stored, self.retired_from) if day is not None)
        if fixed := approved_months_from(self.contract_id, earliest):
            raise ValidationError(
                {
                    "retired_from": _(
                        "The penalty statement of %(month)s is “%(status)s”, so the month this service level "
                        "is retired from can change only from %(open)s, the first open month."
                    )
                    % fixed.params
                }
            )

    def _check_code_not_cited(self, stored_code: str) -> None:
        """Approved and invoiced statements cite the service level by its code (their pages, PDFs, exports and
        settlements): renaming it would change how they read, so it is refused once one has a line for it."""
        from sla_tracker.models.statements import StatementLine

        cited = (
            StatementLine.objects.filter(service_level_id=self.pk, statement__status__in=LOCKED_STATUSES)
            .order_by("statement__month")
            .values_list("statement__month", "statement__status")
            .first()
        )
        if cited:
            raise ValidationError(
                {
                    "code": _(
                        "The penalty statement of %(month)s is “%(status)s” and cites this service level as "
                        "%(code)s: its code no longer changes."
                    )
                    % {"month": month_name(cited[0]), "status": StatementStatus(cited[1]).label, "code": stored_code}
                }
            )


class ServiceLevelVersion(KeptWhereCreated, MonthStartMixin):
    """The terms of a service level from one month on: formula, targets, credit terms.

    measured = scale × Σ numerator counters / Σ denominator counters over the month; a counter
    code with a leading "-" is subtracted (e.g. answered + abandoned − short_abandoned).
    """

    fixed_once_created = ("service_level",)
    moved_message = _(
        "Terms stay with their service level, whose statements cite them: create a version of the other service level."
    )

    service_level = models.ForeignKey(ServiceLevel, on_delete=models.CASCADE, related_name="versions")
    amendment = models.ForeignKey(
        Amendment, on_delete=models.PROTECT, null=True, blank=True, related_name="service_level_versions"
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=ServiceLevelKind.choices, default=ServiceLevelKind.CRITICAL
    )
    numerator = models.JSONField(_("numerator counters"), help_text=_('e.g. ["answered_within_20s"]'))
    denominator = models.JSONField(
        _("denominator counters"), help_text=_('e.g. ["answered", "abandoned", "-short_abandoned"]')
    )
    scale = models.DecimalField(_("scale"), max_digits=10, decimal_places=4, default=100)
    direction = models.CharField(
        _("direction"), max_length=20, choices=Direction.choices, default=Direction.HIGHER_IS_BETTER
    )
    expected = models.DecimalField(_("expected level"), max_digits=14, decimal_places=4)
    minimum = models.DecimalField(_("minimum level"), max_digits=14, decimal_places=4, null=True, blank=True)
    expected_miss_occurrences = models.PositiveSmallIntegerField(
        _("expected-level misses before a default"), null=True, blank=True
    )
    expected_miss_window = models.PositiveSmallIntegerField(
        _("rolling window for expected-level misses (months)"), null=True, blank=True
    )
    precision = models.PositiveSmallIntegerField(
        _("precision (decimals)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(6)],
        help_text=_("Empty: exact comparison. Otherwise rounded half-up to this many decimals first."),
    )
    min_volume = models.PositiveIntegerField(_("minimum volume"), null=True, blank=True)
    min_volume_rule = models.CharField(
        _("below minimum volume"), max_length=15, choices=MinVolumeRule.choices, blank=True
    )
    finalisation_days = models.PositiveSmallIntegerField(
        _("days after month end until final"),
        default=0,
        help_text=_("Late-finalising metrics (FCR repeat window, survey lag) stay provisional until then."),
    )
    credit_type = models.CharField(
        _("credit model"), max_length=12, choices=CreditType.choices, default=CreditType.ALLOCATION
    )
    allocation_pct = models.DecimalField(_("allocation %"), **PCT, null=True, blank=True, validators=PCT_0_100)
    fixed_amount = models.DecimalField(_("fixed amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    pct_per_point = models.DecimalField(_("% of charges per point"), **PCT, null=True, blank=True)
    shortfall_rounding = models.CharField(_("shortfall"), max_length=12, choices=ShortfallRounding.choices, blank=True)
    cap_pct = models.DecimalField(_("per-service-level cap %"), **PCT, null=True, blank=True, validators=PCT_0_100)
    earn_back_months = models.PositiveSmallIntegerField(_("earn-back after months met"), null=True, blank=True)
    earn_back_pct = models.DecimalField(_("earn-back %"), **PCT, null=True, blank=True, validators=PCT_0_100)
    bonus_above = models.DecimalField(_("bonus above"), max_digits=14, decimal_places=4, null=True, blank=True)
    bonus_pct_per_full_point = models.DecimalField(_("bonus % of charges per full point"), **PCT, null=True, blank=True)
    bonus_max_pct = models.DecimalField(_("bonus cap %"), **PCT, null=True, blank=True, validators=PCT_0_100)
    clause_reference = models.CharField(_("clause"), max_length=120, blank=True)

    history = HistoricalRecords()

    stored_related = ("service_level",)

    class Meta:
        ordering = ["service_level", "valid_from"]
        get_latest_by = "valid_from"
        verbose_name = _("service level terms")
        verbose_name_plural = _("service level terms")
        constraints = [
            models.UniqueConstraint(
                fields=["service_level", "valid_from"], name="slversion_unique_service_level_month"
            ),
            models.CheckConstraint(
                name="slversion_scale_positive",
                condition=Q(scale__gt=0),
                violation_error_message=_("The scale must be positive."),
            ),
            _pct_between("allocation_pct", 0, 100, "slversion_allocation_pct_0_100"),
            _pct_between("cap_pct", 0, 100, "slversion_cap_pct_0_100"),
            _pct_between("earn_back_pct", 0, 100, "slversion_earn_back_pct_0_100"),
            _pct_between("bonus_max_pct", 0, 100, "slversion_bonus_max_pct_0_100"),
            models.CheckConstraint(
                name="slversion_precision_0_6",
                condition=Q(precision__isnull=True) | Q(precision__lte=6),
                violation_error_message=_("Precision is at most 6 decimals."),
            ),
            models.CheckConstraint(
                name="slversion_key_has_no_credit",
                condition=~Q(kind=ServiceLevelKind.KEY) | Q(credit_type=CreditType.NONE),
                violation_error_message=_("A key measurement carries no credit."),
            ),
            models.CheckConstraint(
                name="slversion_credit_terms_complete",
                condition=Q(credit_type=CreditType.NONE)
                | Q(credit_type=CreditType.TIERS)
                | Q(credit_type=CreditType.ALLOCATION, allocation_pct__isnull=False)
                | Q(credit_type=CreditType.FIXED, fixed_amount__isnull=False, fixed_amount__gte=0)
                | (
                    Q(credit_type=CreditType.LINEAR, pct_per_point__isnull=False, pct_per_point__gt=0)
                    & ~Q(shortfall_rounding="")
                ),
                violation_error_message=_("The credit model's own fields are missing."),
            ),
            models.CheckConstraint(
                name="slversion_min_volume_with_rule",
                condition=Q(min_volume__isnull=True, min_volume_rule="")
                | (Q(min_volume__isnull=False) & ~Q(min_volume_rule="")),
                violation_error_message=_("A minimum volume needs its rule, and a rule its volume."),
            ),
            models.CheckConstraint(
                name="slversion_miss_rule_complete",
                condition=Q(expected_miss_occurrences__isnull=True, expected_miss_window__isnull=True)
                | Q(
                    expected_miss_occurrences__isnull=False,
                    expected_miss_window__isnull=False,
                    expected_miss_occurrences__gte=1,
                    expected_miss_window__gte=F("expected_miss_occurrences"),
                ),
                violation_error_message=_(
                    "The expected-miss rule needs N ≥ 1 occurrences in a window of at least N months."
                ),
            ),
            models.CheckConstraint(
                name="slversion_earn_back_complete",
                condition=Q(earn_back_months__isnull=True, earn_back_pct__isnull=True)
                | Q(earn_back_months__isnull=False, earn_back_months__gte=1, earn_back_pct__isnull=False),
                violation_error_message=_("Earn-back needs both its months and its percentage."),
            ),
            models.CheckConstraint(
                name="slversion_bonus_complete",
                condition=Q(
                    bonus_above__isnull=True,
                    bonus_pct_per_full_point__isnull=True,
                    bonus_max_pct__isnull=True,
                )
                | Q(
                    bonus_above__isnull=False,
                    bonus_pct_per_full_point__isnull=False,
                    bonus_pct_per_full_point__gt=0,
                    bonus_max_pct__isnull=False,
                ),
                violation_error_message=_("A bonus needs its threshold, its rate and its cap."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_level} from {self.valid_from:%Y-%m}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list] = {}
        for side in ("numerator", "denominator"):
            codes = getattr(self, side)
            if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
                errors[side] = _('A non-empty list of counter codes, e.g. ["answered"].')
                continue
            unknown = _unknown_counters(codes)
            if unknown:
                errors[side] = _("Unknown counters: %s.") % ", ".join(sorted(unknown))
        if self.minimum is not None and self.expected is not None:
            if self.direction == Direction.HIGHER_IS_BETTER and self.minimum > self.expected:
                errors["minimum"] = _("The minimum level cannot be above the expected level.")
            if self.direction == Direction.LOWER_IS_BETTER and self.minimum < self.expected:
                errors["minimum"] = _("The minimum level cannot be below the expected level.")
        errors = {field: messages if isinstance(messages, list) else [messages] for field, messages in errors.items()}
        if (level := self._service_level()) is not None:
            _merge(errors, contract_term_errors(level.contract, self.valid_from, self.amendment))
            if (
                self.credit_type == CreditType.ALLOCATION
                and self.kind == ServiceLevelKind.CRITICAL
                and level.contract_id
            ):
                uncapped = level.contract.penalty_regimes.filter(at_risk_pct__isnull=True)
                if months := [month_name(valid_from) for valid_from in uncapped.values_list("valid_from", flat=True)]:
                    _add_error(
                        errors,
                        "credit_type",
                        _(
                            "An allocation credit is a share of the at-risk amount, but the credit terms from "
                            "%(months)s set no at-risk %%: set it there first, or choose another credit model."
                        )
                        % {"months": ", ".join(months)},
                    )
        _merge(errors, self.fixed_terms_errors())
        if errors:
            raise ValidationError(errors)

    def applies_to(self) -> tuple[int, datetime.date] | None:
        level = self._service_level()
        if level is None or level.contract_id is None or self.valid_from is None:
            return None
        return level.contract_id, first_of_month(self.valid_from)

    def _service_level(self) -> ServiceLevel | None:
        """The service level, also when it is new (the admin's inline of a service level being added)."""
        try:
            return self.service_level
        except ServiceLevel.DoesNotExist:
            return None

    def signed_counters(self, side: str) -> list[tuple[int, str]]:
        """[(sign, counter_code)] for "numerator" or "denominator"."""
        return [(-1, code[1:]) if code.startswith("-") else (1, code) for code in getattr(self, side)]


def _unknown_counters(codes: list[str]) -> set[str]:
    from sla_tracker.models.data import KpiCounter

    wanted = {code.lstrip("-") for code in codes}
    known = set(KpiCounter.objects.filter(code__in=wanted).values_list("code", flat=True))
    return wanted - known


class CreditTier(TermsRow):
    """A band [lower, upper) of the measured value and the % of charges it credits."""

    version = models.ForeignKey(ServiceLevelVersion, on_delete=models.CASCADE, related_name="tiers")
    lower = models.DecimalField(_("from (inclusive)"), max_digits=14, decimal_places=4)
    upper = models.DecimalField(
        _("to (exclusive)"),
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Empty: unbounded."),
    )
    pct = models.DecimalField(_("% of charges"), **PCT, validators=PCT_0_100)

    history = HistoricalRecords()

    stored_related = ("version__service_level",)

    class Meta:
        ordering = ["version", "lower"]
        verbose_name = _("credit tier")
        verbose_name_plural = _("credit tiers")
        constraints = [
            models.UniqueConstraint(fields=["version", "lower"], name="tier_unique_lower_per_version"),
            models.CheckConstraint(
                name="tier_upper_above_lower",
                condition=Q(upper__isnull=True) | Q(upper__gt=F("lower")),
                violation_error_message=_("A band's upper bound must be above its lower bound."),
            ),
            _pct_between("pct", 0, 100, "tier_pct_0_100"),
        ]

    def __str__(self) -> str:
        upper = self.upper if self.upper is not None else "∞"
        return f"[{self.lower}, {upper}) → {self.pct} %"

    def clean(self) -> None:
        super().clean()
        if errors := self.fixed_terms_errors():
            raise ValidationError(errors)

    def applies_to(self) -> tuple[int, datetime.date] | None:
        return version_part_applies_to(self)


class CreditMultiplier(TermsRow):
    """Repeat-failure factor for a run of at least `run` consecutive credit-bearing months."""

    version = models.ForeignKey(ServiceLevelVersion, on_delete=models.CASCADE, related_name="multipliers")
    run = models.PositiveSmallIntegerField(_("run length ≥"), validators=[MinValueValidator(2)])
    factor = models.DecimalField(_("factor"), max_digits=6, decimal_places=3)

    history = HistoricalRecords()

    stored_related = ("version__service_level",)

    class Meta:
        ordering = ["version", "run"]
        verbose_name = _("repeat-failure multiplier")
        verbose_name_plural = _("repeat-failure multipliers")
        constraints = [
            models.UniqueConstraint(fields=["version", "run"], name="multiplier_unique_run_per_version"),
            models.CheckConstraint(
                name="multiplier_run_at_least_2",
                condition=Q(run__gte=2),
                violation_error_message=_("Run 1 is always × 1; multipliers start at run 2."),
            ),
            models.CheckConstraint(
                name="multiplier_factor_at_least_1",
                condition=Q(factor__gte=1),
                violation_error_message=_("A multiplier cannot reduce the credit."),
            ),
        ]

    def __str__(self) -> str:
        return f"run ≥ {self.run}: × {self.factor}"

    def clean(self) -> None:
        super().clean()
        if errors := self.fixed_terms_errors():
            raise ValidationError(errors)

    def applies_to(self) -> tuple[int, datetime.date] | None:
        return version_part_applies_to(self)


def version_part_applies_to(part: CreditTier | CreditMultiplier) -> tuple[int, datetime.date] | None:
    """A tier or multiplier applies with its version; a version being added is checked on its own."""
    try:
        version = part.version
    except ServiceLevelVersion.DoesNotExist:
        return None
    return None if version._state.adding else version.applies_to()
