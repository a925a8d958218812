from django.db import models
from django.utils.translation import gettext_lazy as _


class CounterUnit(models.TextChoices):
    COUNT = "count", _("Count (whole number)")
    SECONDS = "seconds", _("Seconds")
    POINTS = "points", _("Points")


class ServiceLevelKind(models.TextChoices):
    CRITICAL = "critical", _("Critical service level (credit-bearing)")
    KEY = "key", _("Key measurement (reported, never credited)")


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher_is_better", _("Higher is better (≥ target)")
    LOWER_IS_BETTER = "lower_is_better", _("Lower is better (≤ target)")


class MinVolumeRule(models.TextChoices):
    NOT_MEASURED = "not_measured", _("Month not measured")
    CARRY_FORWARD = "carry_forward", _("Carry the month's data into the next month")


class CreditType(models.TextChoices):
    NONE = "none", _("No credit")
    ALLOCATION = "allocation", _("Allocation of the at-risk amount")
    FIXED = "fixed", _("Fixed amount")
    TIERS = "tiers", _("Tiers (% of charges by band)")
    LINEAR = "linear", _("Linear (% of charges per point of shortfall)")


class ShortfallRounding(models.TextChoices):
    PROPORTIONAL = "proportional", _("Proportional")
    FLOOR = "floor", _("Each full point")
    CEIL = "ceil", _("Each point or part thereof")


class TerminationTriggerType(models.TextChoices):
    CONSECUTIVE_DEFAULTS = "consecutive_defaults", _("Same service level in default N consecutive months")
    DEFAULTS_IN_WINDOW = "defaults_in_window", _("Months with a default ≥ N in a rolling window")
    CAP_REACHED_IN_WINDOW = "cap_reached_in_window", _("Months at the at-risk cap ≥ N in a rolling window")


class MeasurementSource(models.TextChoices):
    UPLOAD = "upload", _("File upload")
    MANUAL = "manual", _("Hand entry")
    API = "api", _("API")
    SEED = "seed", _("Demo data")


class ChangeAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")


class UploadStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    NEEDS_MAPPING = "needs_mapping", _("Needs a column mapping")
    VALIDATED = "validated", _("Validated, ready to import")
    # Uploads refused before a refused pack stopped being stored keep this status and their report (readable
    # on their page); a pack refused now leaves no upload behind (kpi_import.service).
    REJECTED = "rejected", _("Rejected (errors)")
    IMPORTING = "importing", _("Importing")
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Failed")


class ExclusionReason(models.TextChoices):
    FORCE_MAJEURE = "force_majeure", _("Force majeure")
    CUSTOMER_CAUSED = "customer_caused", _("Caused by the customer")
    THIRD_PARTY = "third_party", _("Third party outside the vendor's control")
    VOLUME_ABOVE_FORECAST = "volume_above_forecast", _("Volume above forecast")
    OTHER = "other", _("Other (see description)")


class ApprovalStatus(models.TextChoices):
    """An exclusion's status: a proposal is approved or rejected by a reviewer, or withdrawn by who proposed
    it (not a rejection: no one else decided against it)."""

    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class LineStatus(models.TextChoices):
    MET = "met", _("Met")
    MISSED = "missed", _("Missed (no credit)")
    DEFAULT = "default", _("Default")
    MINIMUM_DEFAULT = "minimum_default", _("Minimum-level default")
    NOT_MEASURED = "not_measured", _("Not measured")


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    DISPUTED = "disputed", _("Disputed")
    APPROVED = "approved", _("Approved")
    INVOICED = "invoiced", _("Invoiced")


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class CloseRefusalCode(models.TextChoices):
    """Why the close could not compute a contract's month (sla_tracker.models.CloseRefusal)."""

    NO_CHARGES = "no_charges", _("No monthly charges")
    NOT_EVALUABLE = "not_evaluable", _("Terms or data the engine cannot evaluate")
    NOT_SERVED = "not_served", _("A month the contract did not serve")


class ComputationCause(models.TextChoices):
    """What made the tracker compute a statement (StatementEvent.cause): the history names it."""

    MONTHLY_CLOSE = "monthly_close", _("Monthly close")
    CLOSE_CATCH_UP = "close_catch_up", _("Daily catch-up of the monthly close")
    DAILY_RECOMPUTE = "daily_recompute", _("Daily recompute")
    KPI_DATA = "kpi_data", _("After a change of KPI data")
    EXCLUSION = "exclusion", _("After an exclusion was approved")
    WAIVER = "waiver", _("After a waiver")
    WAIVER_WITHDRAWN = "waiver_withdrawn", _("After a waiver was withdrawn")
    REOPENED = "reopened", _("After the statement was reopened")
    ON_REQUEST = "on_request", _("Recomputed on request")
    COMMAND = "command", _("compute_penalties command")


class StatementAction(models.TextChoices):
    COMPUTED = "computed", _("Computed")
    RECOMPUTED = "recomputed", _("Recomputed")
    SUBMITTED = "submitted", _("Submitted for review")
    APPROVED = "approved", _("Approved")
    INVOICED = "invoiced", _("Invoiced")
    REOPENED = "reopened", _("Reopened")
    LINE_DISPUTED = "line_disputed", _("Line disputed")
    DISPUTE_RESOLVED = "dispute_resolved", _("Dispute resolved")
    LINE_WAIVED = "line_waived", _("Line waived")
    LINE_WAIVER_WITHDRAWN = "line_waiver_withdrawn", _("Line waiver withdrawn")
    ADJUSTMENT_DISPUTED = "adjustment_disputed", _("Adjustment disputed")
    ADJUSTMENT_WAIVED = "adjustment_waived", _("Adjustment waived")
    ADJUSTMENT_WAIVER_WITHDRAWN = "adjustment_waiver_withdrawn", _("Adjustment waiver withdrawn")
    ADJUSTED = "adjusted", _("Adjustment carried in")
    DATA_CORRECTED = "data_corrected", _("Data corrected after approval")
    SETTLED = "settled", _("Difference settled outside the statements")
