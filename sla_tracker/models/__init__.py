"""Service-level terms, KPI data and penalty statements."""

from sla_tracker.models.data import (
    ColumnMapping,
    Exclusion,
    Incident,
    KpiCounter,
    KpiUpload,
    Measurement,
    MeasurementChange,
)
from sla_tracker.models.statements import (
    CLOSE_REFUSAL_MESSAGES,
    AdjustmentDispute,
    CloseRefusal,
    LineDispute,
    PenaltyStatement,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
)
from sla_tracker.models.terms import (
    CreditMultiplier,
    CreditTier,
    PenaltyRegime,
    ServiceLevel,
    ServiceLevelVersion,
    TerminationTrigger,
)

__all__ = [
    "CLOSE_REFUSAL_MESSAGES",
    "AdjustmentDispute",
    "CloseRefusal",
    "ColumnMapping",
    "CreditMultiplier",
    "CreditTier",
    "Exclusion",
    "Incident",
    "KpiCounter",
    "KpiUpload",
    "LineDispute",
    "Measurement",
    "MeasurementChange",
    "PenaltyRegime",
    "PenaltyStatement",
    "ServiceLevel",
    "ServiceLevelVersion",
    "StatementAdjustment",
    "StatementEvent",
    "StatementLine",
    "TerminationTrigger",
]
