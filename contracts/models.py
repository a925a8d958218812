"""The contract register: vendors and their sites, contracts, scope, monthly charges, amendments."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

from accounts.templatetags.ui import money
from config.formats import long_date, month_name
from contracts.calendars import BusinessCalendar, business_days_text, calendar_errors
from contracts.choices import (
    Channel,
    ContractStatus,
    CoverageDays,
    Currency,
    PeriodUnit,
    RenewalDecisionKind,
    RenewalType,
)
from contracts.dates import ContractTerms
from contracts.months import first_of_month

MAX_TERM_MONTHS = 600  # fifty years
# Contract dates stay within these, so that the dates computed from them (renewals, notice
# deadlines, contract years) stay within the calendar.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2999, 12, 31)
DATE_BOUNDS = [MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)]
COUNTRY_CODE = RegexValidator(r"^[A-Z]{2}\Z", _("Give the country's ISO 3166 code in two capital letters, e.g. FR."))
# Users who own or audit a contract are the customer's own staff, never a vendor's.
INTERNAL_USERS = {"vendor__isnull": True}


class KeptWhereCreated:
    """A row the contract's records stand on keeps its parent (and key) once created: moved elsewhere, the
    statements, terms and history that cite it would tell another story. Another row is created instead.
    A model lists those fields in ``fixed_once_created`` and says why in ``moved_message``."""

    fixed_once_created: tuple[str, ...] = ()
    moved_message = ""

    def clean(self) -> None:
        super().clean()
        if self.pk is None or self._state.adding:
            return
        attnames = {name: self._meta.get_field(name).attname for name in self.fixed_once_created}
        stored = type(self)._default_manager.filter(pk=self.pk).values(*attnames.values()).first()
        if stored is None:
            return
        moved = [name for name, attname in attnames.items() if getattr(self, attname) != stored[attname]]
        if moved:
            raise ValidationError({name: [self.moved_message] for name in moved})


class Vendor(models.Model):
    """A BPO provider the company outsources customer contact to."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    legal_name = models.CharField(_("legal name"), max_length=250, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=60, blank=True)
    country = models.CharField(
        _("country"), max_length=2, help_text=_("ISO 3166 code, e.g. FR."), validators=[COUNTRY_CODE]
    )
    website = models.URLField(_("website"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="vendor_unique_name_ignoring_case",
                violation_error_message=_("A vendor of this name exists already (in other capitals)."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class VendorSite(models.Model):
    """A delivery centre of a vendor (where the agents sit)."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=120)
    country = models.CharField(
        _("country"), max_length=2, help_text=_("ISO 3166 code, e.g. MA."), validators=[COUNTRY_CODE]
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    languages = models.CharField(
        _("languages"), max_length=100, blank=True, help_text=_("ISO 639 codes, comma-separated.")
    )
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["vendor", "name"]
        verbose_name = _("vendor site")
        verbose_name_plural = _("vendor sites")
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="vendorsite_unique_name_per_vendor"),
        ]

    def __str__(self) -> str:
        return f"{self.vendor} – {self.name} ({self.city})"


class VendorContact(models.Model):
    """A person at the vendor who does not necessarily sign in: committee member, action owner."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["vendor", "name"]
        verbose_name = _("vendor contact")
        verbose_name_plural = _("vendor contacts")
        constraints = [
            models.UniqueConstraint(fields=["vendor", "email"], name="vendorcontact_unique_email_per_vendor"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.vendor})"


class Contract(models.Model):
    """An outsourcing contract with one vendor: its term, renewal and notice clauses, its currency.

    The service levels, credit regime, KPI data and statements hang off the contract in sla_tracker;
    committees in governance; audit rights in audits.
    """

    reference = models.CharField(_("reference"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=250)
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="contracts")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_contracts",
        limit_choices_to=INTERNAL_USERS,
        help_text=_("The vendor manager responsible for this contract."),
    )
    auditors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned auditors"),
        blank=True,
        related_name="audited_contracts",
        limit_choices_to=INTERNAL_USERS,
    )
    status = models.CharField(_("status"), max_length=20, choices=ContractStatus.choices, default=ContractStatus.DRAFT)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.EUR)
    signed_on = models.DateField(_("signed on"), null=True, blank=True, validators=DATE_BOUNDS)
    start_date = models.DateField(_("start date"), validators=DATE_BOUNDS)
    # Upper bounds keep the dates computed from these (renewals, notice deadlines) within the calendar.
    initial_term_months = models.PositiveIntegerField(
        _("initial term (months)"), validators=[MinValueValidator(1), MaxValueValidator(MAX_TERM_MONTHS)]
    )
    end_date = models.DateField(
        _("end of current term"), help_text=_("Moves forward with each renewal."), validators=DATE_BOUNDS
    )
    terminated_on = models.DateField(
        _("last day of service"),
        null=True,
        blank=True,
        validators=DATE_BOUNDS,
        help_text=_(
            "For a contract terminated while it ran: its last day of service, within the term. Its months up to "
            "that day are still closed; a draft that never ran is terminated without one."
        ),
    )
    renewal_type = models.CharField(_("renewal"), max_length=10, choices=RenewalType.choices, default=RenewalType.TACIT)
    renewal_term_months = models.PositiveIntegerField(
        _("renewal term (months)"), null=True, blank=True, validators=[MaxValueValidator(MAX_TERM_MONTHS)]
    )
    max_renewals = models.PositiveIntegerField(
        _("maximum renewals"),
        null=True,
        blank=True,
        help_text=_("Empty means unlimited."),
        validators=[MaxValueValidator(100)],
    )
    notice_period = models.PositiveIntegerField(_("notice period"), validators=[MaxValueValidator(1000)])
    notice_period_unit = models.CharField(
        _("notice period unit"), max_length=15, choices=PeriodUnit.choices, default=PeriodUnit.MONTHS
    )
    # The contract's jurisdiction (governing law, place of performance) decides which days are business days.
    calendar_country = models.CharField(
        _("business-day calendar: country"),
        max_length=2,
        blank=True,
        help_text=_(
            "ISO 3166-1 code of the country whose weekends and public holidays business days skip, e.g. FR. Empty: "
            "business days are Monday to Friday, without public holidays."
        ),
    )
    calendar_subdivision = models.CharField(
        _("business-day calendar: subdivision"),
        max_length=40,
        blank=True,
        help_text=_("Optional: the region or state whose own public holidays count too, e.g. BY (Bavaria) for DE."),
    )
    decision_buffer_days = models.PositiveIntegerField(
        _("internal decision buffer (days)"),
        default=30,
        validators=[MaxValueValidator(3650)],
        help_text=_("How long before the notice deadline the internal decision is due."),
    )
    vendor_self_reporting = models.BooleanField(
        _("vendor self-reporting"),
        default=False,
        help_text=_("The vendor's own users may upload KPI data for this contract."),
    )
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=[auditors])

    class Meta:
        ordering = ["reference"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.UniqueConstraint(
                Lower("reference"),
                name="contract_unique_reference_ignoring_case",
                violation_error_message=_("A contract with this reference exists already (in other capitals)."),
            ),
            models.CheckConstraint(
                name="contract_end_after_start",
                condition=Q(end_date__gt=F("start_date")),
                violation_error_message=_("The end of the term must be after the start date."),
            ),
            models.CheckConstraint(
                name="contract_terminated_on_within_term",
                condition=Q(terminated_on__isnull=True)
                | Q(
                    status=ContractStatus.TERMINATED,
                    terminated_on__gte=F("start_date"),
                    terminated_on__lte=F("end_date"),
                ),
                violation_error_message=_("Only a terminated contract has a last day of service, within its term."),
            ),
            models.CheckConstraint(
                name="contract_notice_positive",
                condition=Q(notice_period__gt=0),
                violation_error_message=_("The notice period must be positive."),
            ),
            models.CheckConstraint(
                name="contract_renewal_term_when_renewable",
                condition=Q(renewal_type=RenewalType.NONE)
                | Q(renewal_term_months__isnull=False, renewal_term_months__gt=0),
                violation_error_message=_("A renewable contract needs a renewal term."),
            ),
        ]
        indexes = [models.Index(fields=["vendor", "status"], name="contract_vendor_status_idx")]

    def __str__(self) -> str:
        return f"{self.reference} – {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        if errors := calendar_errors(self.calendar_country, self.calendar_subdivision):
            raise ValidationError(errors)

    def is_in_term(self, day) -> bool:
        return self.start_date <= day <= self.end_date

    @property
    def business_calendar(self) -> BusinessCalendar:
        """The calendar the contract's business days follow (its audit rights' too)."""
        return BusinessCalendar(self.calendar_country, self.calendar_subdivision)

    @property
    def notice_in_business_days(self) -> bool:
        return self.notice_period_unit == PeriodUnit.BUSINESS_DAYS

    @property
    def notice_period_text(self) -> str:
        """The notice period as a reader writes it: "1 month", "30 calendar days", "10 business days (FR holiday
        calendar)"."""
        count = self.notice_period
        if self.notice_in_business_days:
            return business_days_text(count, self.business_calendar)
        units = {
            PeriodUnit.MONTHS: ngettext("%(count)d month", "%(count)d months", count),
            PeriodUnit.DAYS: ngettext("%(count)d calendar day", "%(count)d calendar days", count),
        }
        return units[self.notice_period_unit] % {"count": count}

    @property
    def last_day_of_service(self) -> datetime.date:
        """The end of the current term, or the last day of service of a contract terminated earlier."""
        return self.terminated_on or self.end_date

    @property
    def terms(self) -> ContractTerms:
        """The renewal and notice clauses as contracts.dates needs them."""
        return ContractTerms(
            start_date=self.start_date,
            initial_term_months=self.initial_term_months,
            end_date=self.end_date,
            renewal_type=self.renewal_type,
            renewal_term_months=self.renewal_term_months,
            max_renewals=self.max_renewals,
            notice_period=self.notice_period,
            notice_unit=self.notice_period_unit,
            decision_buffer_days=self.decision_buffer_days,
            calendar=self.business_calendar,
        )


class ContractScope(KeptWhereCreated, models.Model):
    """One channel the contract outsources, with its languages and coverage hours.

    A hybrid model outsources only some channels, or only evenings and weekends: each outsourced
    channel is one row; KPI counters of channels without a row are out of scope.
    """

    fixed_once_created = ("contract",)
    moved_message = _("A scope stays with its contract: record it in the other contract.")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="scopes")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    languages = models.CharField(
        _("languages"), max_length=100, help_text=_("ISO 639 codes, comma-separated, e.g. fr,en.")
    )
    coverage_days = models.CharField(
        _("coverage days"), max_length=10, choices=CoverageDays.choices, default=CoverageDays.ALL_WEEK
    )
    coverage_start = models.TimeField(_("coverage from"), null=True, blank=True)
    coverage_end = models.TimeField(_("coverage until"), null=True, blank=True)
    volume_share_pct = models.DecimalField(
        _("share of volume outsourced (%)"),
        max_digits=5,
        decimal_places=2,
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    # PROTECT: a site named in a scope is not deleted behind the scope's history.
    site = models.ForeignKey(VendorSite, on_delete=models.PROTECT, null=True, blank=True, related_name="scopes")
    notes = models.CharField(_("notes"), max_length=250, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "channel"]
        verbose_name = _("scope")
        verbose_name_plural = _("scope")
        constraints = [
            models.UniqueConstraint(fields=["contract", "channel"], name="scope_unique_channel_per_contract"),
            models.CheckConstraint(
                name="scope_volume_share_0_100",
                condition=Q(volume_share_pct__gte=0) & Q(volume_share_pct__lte=100),
                violation_error_message=_("The share of volume must be between 0 and 100 percent."),
            ),
            models.CheckConstraint(
                name="scope_coverage_hours_both_or_none",
                condition=Q(coverage_start__isnull=True, coverage_end__isnull=True)
                | Q(coverage_start__isnull=False, coverage_end__isnull=False),
                violation_error_message=_("Give both coverage hours or neither."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference}: {self.get_channel_display()} ({self.languages})"

    def clean(self) -> None:
        super().clean()
        if self.site_id and self.contract_id and self.site.vendor_id != self.contract.vendor_id:
            raise ValidationError({"site": _("This site is not one of the contract's vendor's sites.")})


class MonthlyCharge(KeptWhereCreated, models.Model):
    """The charges invoiced for one month: the base of percentage credits and caps."""

    fixed_once_created = ("contract", "month")
    moved_message = _("A month's charges keep their contract and month: correct their amount, or record that month's.")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="charges")
    month = models.DateField(_("month"), help_text=_("First day of the month."))
    # The validator names the field in a refusal; the constraint below keeps the database honest.
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0), message=_("Charges cannot be negative."))],
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    notes = models.CharField(_("notes"), max_length=250, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "month"]
        verbose_name = _("monthly charge")
        verbose_name_plural = _("monthly charges")
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="charge_unique_contract_month"),
            models.CheckConstraint(
                name="charge_amount_non_negative",
                condition=Q(amount__gte=0),
                violation_error_message=_("Charges cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.month:%Y-%m}: {money(self.amount, self.currency)}"

    def save(self, *args, **kwargs) -> None:
        self.month = first_of_month(self.month)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("Use the first day of the month.")})
        if not self.contract_id:
            return
        contract = self.contract
        if self.currency and self.currency != contract.currency:
            raise ValidationError({"currency": _("Charges are in the contract's currency (%s).") % contract.currency})
        last_day = contract.last_day_of_service
        if self.month and not first_of_month(contract.start_date) <= self.month <= first_of_month(last_day):
            raise ValidationError(
                {
                    "month": _("Charges are for a month the contract serves (%(start)s to %(end)s).")
                    % {"start": long_date(contract.start_date), "end": long_date(last_day)}
                }
            )
        self._refuse_locked_months()

    def delete(self, *args, **kwargs):
        refusal = self.deletion_refusal()
        if refusal:
            raise ValidationError(refusal)
        return super().delete(*args, **kwargs)

    def deletion_refusal(self) -> str | None:
        """Why these charges may not be deleted (None: they may): their month has a penalty statement, computed
        from them (an approved or invoiced one fixes them; an open one would stand on charges that are gone)."""
        if refusal := self._locked_month_refusal({self.month}):
            return refusal
        if self.contract.statements.filter(month=self.month).exists():
            return _(
                "The penalty statement of %(month)s was computed from these charges: correct their amount instead "
                "(the statement is recomputed)."
            ) % {"month": month_name(self.month)}
        return None

    def _refuse_locked_months(self) -> None:
        months = {self.month}
        if self.pk is not None:
            months |= set(MonthlyCharge.objects.filter(pk=self.pk).values_list("month", flat=True))
        if refusal := self._locked_month_refusal(months):
            raise ValidationError({"month": refusal})

    def _locked_month_refusal(self, months: set) -> str | None:
        """The charges of a month whose penalty statement is approved or invoiced are the base of
        its credits: they change (or go) only once procurement reopens that statement."""
        from sla_tracker.choices import StatementStatus  # the statements' app builds on this one

        locked = (
            self.contract.statements.filter(
                month__in=months, status__in=(StatementStatus.APPROVED, StatementStatus.INVOICED)
            )
            .order_by("month")
            .first()
        )
        if locked is None:
            return None
        return _(
            "The penalty statement of %(month)s is %(status)s: its charges no longer change. Ask "
            "procurement to reopen it first."
        ) % {"month": month_name(locked.month), "status": locked.get_status_display().lower()}


class Amendment(KeptWhereCreated, models.Model):
    """A signed change to the contract; new versions of terms refer to the amendment that made them."""

    fixed_once_created = ("contract",)
    moved_message = _("An amendment stays with its contract: record it in the other contract.")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="amendments")
    number = models.PositiveIntegerField(
        _("number"),
        validators=[MinValueValidator(1, message=_("Amendment numbers start at 1.")), MaxValueValidator(9999)],
    )
    title = models.CharField(_("title"), max_length=250)
    summary = models.TextField(_("summary"), blank=True)
    signed_on = models.DateField(_("signed on"), validators=DATE_BOUNDS)
    effective_from = models.DateField(_("effective from"), validators=DATE_BOUNDS)
    document_reference = models.CharField(_("document reference"), max_length=250, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "number"]
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="amendment_unique_number_per_contract"),
            models.CheckConstraint(
                name="amendment_number_positive",
                condition=Q(number__gt=0),
                violation_error_message=_("Amendment numbers start at 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} amendment {self.number}: {self.title}"

    def clean(self) -> None:
        super().clean()
        today = timezone.localdate()
        if self.signed_on and self.signed_on > today:
            raise ValidationError(
                {
                    "signed_on": _(
                        "An amendment is recorded once signed: its signing date cannot be after today (%(today)s)."
                    )
                    % {"today": long_date(today)}
                }
            )
        if self.contract_id and self.effective_from and not self.contract.is_in_term(self.effective_from):
            raise ValidationError(
                {
                    "effective_from": _("An amendment takes effect within the contract's term (%(start)s to %(end)s).")
                    % {"start": long_date(self.contract.start_date), "end": long_date(self.contract.end_date)}
                }
            )
        if self.pk is not None and self.effective_from:
            earliest = self.terms_versions_from()
            if earliest is not None and earliest < first_of_month(self.effective_from):
                raise ValidationError(
                    {
                        "effective_from": _(
                            "Terms made by this amendment apply from %(month)s: it takes effect in that month at the "
                            "latest."
                        )
                        % {"month": month_name(earliest)}
                    }
                )

    def terms_versions_from(self) -> datetime.date | None:
        """The first month of the terms (service-level versions, penalty regimes) that cite this amendment."""
        from sla_tracker.models import PenaltyRegime, ServiceLevelVersion

        months = [
            model.objects.filter(amendment_id=self.pk).aggregate(first=models.Min("valid_from"))["first"]
            for model in (ServiceLevelVersion, PenaltyRegime)
        ]
        return min((month for month in months if month is not None), default=None)


class RenewalDecision(models.Model):
    """The recorded decision to renew a term or to give notice so that it ends: one per term end."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="renewal_decisions")
    decision = models.CharField(_("decision"), max_length=12, choices=RenewalDecisionKind.choices)
    for_term_ending = models.DateField(_("for the term ending"))
    new_end_date = models.DateField(
        _("new end of term"), null=True, blank=True, help_text=_("For a renewal: the end of the renewed term.")
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["contract", "-for_term_ending"]
        verbose_name = _("renewal decision")
        verbose_name_plural = _("renewal decisions")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "for_term_ending"],
                name="renewaldecision_one_per_term",
                violation_error_message=_("This term already has a renewal decision."),
            ),
            models.CheckConstraint(
                name="renewaldecision_renewal_has_new_end",
                condition=Q(decision=RenewalDecisionKind.GIVE_NOTICE, new_end_date__isnull=True)
                | Q(decision=RenewalDecisionKind.RENEW, new_end_date__gt=F("for_term_ending")),
                violation_error_message=_("A renewal records the new end of term; notice does not."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference}: {self.get_decision_display()} ({self.for_term_ending})"
