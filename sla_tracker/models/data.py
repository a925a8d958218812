"""KPI data: counter definitions, raw counts per contract/counter/day, uploads, exclusions, incidents.

Raw data is stored as counts (never percentages): a monthly service level is Σ numerator /
Σ denominator over the month's rows (DOMAIN.md §1.1).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contracts.choices import Channel
from contracts.models import Contract, KeptWhereCreated
from contracts.months import first_of_month
from sla_tracker.choices import (
    ApprovalStatus,
    ChangeAction,
    CounterUnit,
    ExclusionReason,
    MeasurementSource,
    UploadStatus,
)
from sla_tracker.models.terms import ServiceLevel, counter_code_validator


class KpiCounter(models.Model):
    """A raw counter that vendors report, e.g. `answered_within_20s` (calls answered within 20 s).

    Thresholds belong to the counter's definition, so "within 20 s" and "within 30 s" are two
    counters. `must_not_exceed` names the counter this one is a subset of (answered within
    threshold ≤ answered; short abandons ≤ abandons): imports check it day by day.
    """

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[counter_code_validator])
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(
        _("channel"),
        max_length=20,
        choices=Channel.choices,
        blank=True,
        help_text=_("Empty: applies to every channel (e.g. quality evaluations)."),
    )
    unit = models.CharField(_("unit"), max_length=10, choices=CounterUnit.choices, default=CounterUnit.COUNT)
    must_not_exceed = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subsets",
        verbose_name=_("never more than"),
    )
    description = models.TextField(_("definition"), blank=True)

    class Meta:
        ordering = ["channel", "code"]
        verbose_name = _("KPI counter")
        verbose_name_plural = _("KPI counters")
        constraints = [
            models.CheckConstraint(
                name="counter_not_subset_of_itself",
                condition=~Q(must_not_exceed=F("pk")),
                violation_error_message=_("A counter cannot be bounded by itself."),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    # What a counter's values mean: formulas, column mappings and stored data refer to it by its code.
    DEFINING_FIELDS = ("code", "channel", "unit")

    def clean(self) -> None:
        super().clean()
        if self.pk is None:
            return
        stored = KpiCounter.objects.filter(pk=self.pk).values(*self.DEFINING_FIELDS).first()
        if stored is None:
            return
        changed = [name for name in self.DEFINING_FIELDS if getattr(self, name) != stored[name]]
        if changed:
            message = _("A counter's code, channel and unit are fixed: create a new counter for another definition.")
            raise ValidationError(dict.fromkeys(changed, message))

    @property
    def is_integer(self) -> bool:
        return self.unit == CounterUnit.COUNT

    @classmethod
    def in_scope_of(cls, contract: Contract) -> models.QuerySet:
        """The counters a contract may report: those of its channels in scope, and those of every channel."""
        return cls.objects.filter(Q(channel="") | Q(channel__in=contract.scopes.values("channel")))


class ColumnMapping(models.Model):
    """How a vendor's KPI pack layout maps to counters, saved per contract and reused."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="column_mappings")
    name = models.CharField(_("name"), max_length=100)
    date_column = models.CharField(_("date column"), max_length=100)
    time_column = models.CharField(
        _("time column"),
        max_length=100,
        blank=True,
        help_text=_("Interval files whose time of day has its own column; empty when the date holds it."),
    )
    columns = models.JSONField(_("columns"), help_text=_('{"Appels reçus": "offered", …}'))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["contract", "name"]
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        constraints = [
            models.UniqueConstraint(fields=["contract", "name"], name="mapping_unique_name_per_contract"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference}: {self.name}"


class KpiUpload(models.Model):
    """A KPI pack file received for a contract, with its validation report and import progress."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="kpi_uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), upload_to="kpi_uploads/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    mapping = models.ForeignKey(ColumnMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="uploads")
    status = models.CharField(_("status"), max_length=15, choices=UploadStatus.choices, default=UploadStatus.RECEIVED)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows imported"), default=0)
    errors = models.JSONField(_("validation errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(
        _("error count"), default=0, help_text=_("All errors found; the list keeps the first thousand.")
    )
    preview = models.JSONField(
        _("preview"), default=dict, blank=True, help_text=_("Mapping used, columns, months and values found.")
    )
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    # Given when the file corrects months whose statement is approved or invoiced (save_measurements).
    correction_reason = models.TextField(_("correction reason"), blank=True, default="")
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)
    # When its import was last claimed (kpi_import.service.claim_upload): one still importing long after that
    # died with its worker or its connection, and the daily check marks it failed (fail_imports_started_before).
    import_started_at = models.DateTimeField(_("import started"), null=True, blank=True)
    # When its import last failed: a database or server error, or found stalled by the daily check.
    failed_at = models.DateTimeField(_("import failed"), null=True, blank=True)
    # Who last sent a failed import back to be imported again, and when (kpi_import.service.retry_import).
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("import retried by"),
    )
    retried_at = models.DateTimeField(_("import retried"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("KPI upload")
        verbose_name_plural = _("KPI uploads")
        indexes = [models.Index(fields=["contract", "sha256"], name="upload_contract_sha_idx")]
        constraints = [
            models.CheckConstraint(
                name="upload_rows_done_within_total",
                condition=Q(rows_done__lte=F("rows_total")),
                violation_error_message=_("Imported rows cannot exceed the file's rows."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference}: {self.original_name} ({self.get_status_display()})"


class Measurement(models.Model):
    """The value of one counter for one contract and day, or for a whole month (day empty).

    Indexes are only the ones queries use: each index costs every imported value a write (see
    BENCHMARKS.md, KPI ingestion). The composite indexes lead with the contract, so the contract's
    own index would be redundant; counter, upload and user are never filtered on alone, and only a
    rare delete of one of those rows scans the table (PROTECT refuses it anyway while rows refer to it).
    """

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="measurements", db_index=False)
    counter = models.ForeignKey(KpiCounter, on_delete=models.PROTECT, related_name="measurements", db_index=False)
    month = models.DateField(_("month"), help_text=_("First day of the month (set from the day)."))
    day = models.DateField(_("day"), null=True, blank=True, help_text=_("Empty: a whole-month value."))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    source = models.CharField(_("source"), max_length=10, choices=MeasurementSource.choices)
    upload = models.ForeignKey(
        KpiUpload, on_delete=models.PROTECT, null=True, blank=True, related_name="measurements", db_index=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["contract", "month", "day", "counter"]
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "counter", "day"],
                condition=Q(day__isnull=False),
                name="measurement_unique_contract_counter_day",
                violation_error_message=_("This counter already has a value for this day."),
            ),
            models.UniqueConstraint(
                fields=["contract", "counter", "month"],
                condition=Q(day__isnull=True),
                name="measurement_unique_contract_counter_month",
                violation_error_message=_("This counter already has a whole-month value for this month."),
            ),
            models.CheckConstraint(
                name="measurement_value_non_negative",
                condition=Q(value__gte=0),
                violation_error_message=_("Counter values cannot be negative."),
            ),
            models.CheckConstraint(
                name="measurement_day_not_before_month",
                condition=Q(day__isnull=True) | Q(day__gte=F("month")),
                violation_error_message=_("The day cannot be before its month."),
            ),
        ]
        indexes = [models.Index(fields=["contract", "month"], name="measurement_contract_month_idx")]

    def __str__(self) -> str:
        when = self.day.isoformat() if self.day else f"{self.month:%Y-%m}"
        return f"{self.contract.reference} {self.counter.code} {when} = {self.value}"

    def save(self, *args, **kwargs) -> None:
        self.month = first_of_month(self.day or self.month)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.day is None and self.month and self.month.day != 1:
            raise ValidationError({"month": _("Use the first day of the month.")})


class MeasurementChange(models.Model):
    """One create, change or delete of a measurement: who, when, old and new value, which upload, and
    for a correction of an approved month, why.

    Written in bulk beside the measurements it describes, so a month's data history is one query;
    like Measurement, it keeps only that query's index.
    """

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="measurement_changes", db_index=False)
    counter = models.ForeignKey(KpiCounter, on_delete=models.PROTECT, related_name="+", db_index=False)
    month = models.DateField(_("month"))
    day = models.DateField(_("day"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=ChangeAction.choices)
    old_value = models.DecimalField(_("old value"), max_digits=20, decimal_places=4, null=True, blank=True)
    new_value = models.DecimalField(_("new value"), max_digits=20, decimal_places=4, null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=MeasurementSource.choices)
    upload = models.ForeignKey(
        KpiUpload, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)
    # The reason given with a correction, the only write that may change months whose statement is approved
    # or invoiced (kpi_import.service.save_measurements); empty for any other write.
    correction_reason = models.TextField(_("correction reason"), blank=True, default="")

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("measurement change")
        verbose_name_plural = _("measurement changes")
        indexes = [models.Index(fields=["contract", "month"], name="mchange_contract_month_idx")]
        constraints = [
            models.CheckConstraint(
                name="mchange_values_match_action",
                condition=Q(action=ChangeAction.CREATE, old_value__isnull=True, new_value__isnull=False)
                | Q(action=ChangeAction.UPDATE, old_value__isnull=False, new_value__isnull=False)
                | Q(action=ChangeAction.DELETE, old_value__isnull=False, new_value__isnull=True),
                violation_error_message=_("Old and new values must match the action."),
            ),
        ]

    def __str__(self) -> str:
        when = self.day or self.month
        return f"{self.get_action_display()} {self.counter_id} {when}: {self.old_value} → {self.new_value}"


def validate_service_levels_of(contract: Contract | None, service_levels, *, field: str = "service_levels") -> None:
    """Refuse service levels of another contract for an exclusion or an incident of ``contract``
    (a many-to-many choice, which the model's own validation cannot see). An exclusion naming none
    applies to every service level, so a wrong choice must never be dropped silently."""
    if contract is None:
        return
    foreign = sorted(str(level) for level in service_levels or () if level.contract_id != contract.pk)
    if foreign:
        raise ValidationError(
            {
                field: _("These service levels belong to another contract than %(contract)s: %(levels)s.")
                % {"contract": contract.reference, "levels": "; ".join(foreign)}
            }
        )


class Exclusion(KeptWhereCreated, models.Model):
    """Approved excused days: their numerator and denominator leave the named service levels' month."""

    fixed_once_created = ("contract",)
    moved_message = _("An exclusion stays with its contract: propose one for the other contract.")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="exclusions")
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to (inclusive)"))
    reason = models.CharField(_("reason"), max_length=25, choices=ExclusionReason.choices)
    description = models.TextField(_("description"))
    evidence = models.TextField(_("evidence"), blank=True)
    service_levels = models.ManyToManyField(
        ServiceLevel,
        blank=True,
        related_name="exclusions",
        help_text=_("Empty: every service level of the contract."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PROPOSED
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(
        _("decision note"), blank=True, help_text=_("Why it was decided so; required for a rejection.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    # Which service levels it excuses is part of the proposal, changed and shown in its history like its days.
    history = HistoricalRecords(m2m_fields=[service_levels])

    class Meta:
        ordering = ["contract", "-start_date"]
        verbose_name = _("exclusion")
        verbose_name_plural = _("exclusions")
        indexes = [models.Index(fields=["contract", "status", "start_date"], name="exclusion_lookup_idx")]
        constraints = [
            models.CheckConstraint(
                name="exclusion_end_not_before_start",
                condition=Q(end_date__gte=F("start_date")),
                violation_error_message=_("The exclusion cannot end before it starts."),
            ),
            models.CheckConstraint(
                name="exclusion_decision_has_decider",
                condition=Q(status=ApprovalStatus.PROPOSED) | Q(decided_by__isnull=False, decided_at__isnull=False),
                violation_error_message=_("An approved or rejected exclusion records who decided and when."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.start_date}–{self.end_date}: {self.get_reason_display()}"


class Incident(KeptWhereCreated, models.Model):
    """One incident (root cause) that caused defaults on several service levels in a month.

    Under a single-incident clause only one of them is credited: the customer's selection, or the
    highest credit while none is selected (on a tie, the first by code).
    """

    fixed_once_created = ("contract",)
    moved_message = _("An incident stays with its contract: record one for the other contract.")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="incidents")
    title = models.CharField(_("title"), max_length=200)
    occurred_on = models.DateField(_("occurred on"))
    month = models.DateField(_("month"), editable=False)
    root_cause = models.TextField(_("root cause"), blank=True)
    service_levels = models.ManyToManyField(ServiceLevel, related_name="incidents")
    selected_service_level = models.ForeignKey(
        ServiceLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credit claimed for"),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "-occurred_on"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [models.Index(fields=["contract", "month"], name="incident_contract_month_idx")]

    def __str__(self) -> str:
        return f"{self.contract.reference} {self.occurred_on}: {self.title}"

    def save(self, *args, **kwargs) -> None:
        self.month = first_of_month(self.occurred_on)
        super().save(*args, **kwargs)
