"""Outputs of the engine: one result per service level and month, and the month's totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from .explain import Note
from .months import Month
from .terms import EarnBack, Kind, Status, TerminationTrigger


@dataclass(frozen=True)
class CarriedSums:
    """Sums of a month below minimum volume, to be added to the next month's (carry-forward)."""

    since: Month
    numerator: Decimal
    denominator: Decimal


@dataclass(frozen=True)
class TerminationRight:
    """A termination trigger that holds at this close: available since ``since``, never acted on.

    ``evidence`` is in English; ``notes`` give it for the reader's language (see ``explain``). They are
    not part of the history a later month reads (nor of its fingerprint), so a right read back from a
    stored statement has none and equals the one computed."""

    trigger: TerminationTrigger
    since: Month
    evidence: str
    notes: tuple[Note, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class ServiceLevelResult:
    """One service level's line for a month.

    ``raw_credit`` is before multipliers and caps (exact), ``capped_credit`` after the multiplier,
    the per-service-level cap and the single-incident rule (exact), ``credit`` the final credit
    after the monthly and annual caps, in cents.
    """

    code: str
    kind: Kind
    status: Status
    measured: Fraction | None
    compared: Fraction | None
    numerator: Decimal
    denominator: Decimal
    excluded_days: tuple[date, ...]
    occurrences: int | None
    run: int
    raw_credit: Fraction
    multiplier: Decimal
    capped_credit: Fraction
    credit: Decimal
    bonus: Decimal
    earn_back: Decimal
    earn_back_rule: EarnBack | None
    carried_forward: CarriedSums | None
    provisional: bool
    explanation: str
    notes: tuple[Note, ...] = ()  # the explanation's parts, for the pages to write in the reader's language


@dataclass(frozen=True)
class MonthResult:
    """A month's close for one contract: its lines, totals and termination rights."""

    month: Month
    currency: str
    charges: Decimal
    at_risk_amount: Decimal | None
    annual_cap_amount: Decimal | None
    lines: tuple[ServiceLevelResult, ...]
    uncapped_credits: Decimal
    cap_reached: bool
    termination_rights: tuple[TerminationRight, ...]

    @property
    def credits(self) -> Decimal:
        return sum((line.credit for line in self.lines), Decimal("0.00"))

    @property
    def bonuses(self) -> Decimal:
        return sum((line.bonus for line in self.lines), Decimal("0.00"))

    @property
    def earn_backs(self) -> Decimal:
        return sum((line.earn_back for line in self.lines), Decimal("0.00"))

    @property
    def net(self) -> Decimal:
        """What the month changes on the invoice: bonuses + earn-backs − credits."""
        return self.bonuses + self.earn_backs - self.credits

    @property
    def provisional(self) -> bool:
        return any(line.provisional for line in self.lines)

    def line(self, code: str) -> ServiceLevelResult:
        return next(line for line in self.lines if line.code == code)


@dataclass(frozen=True)
class Evaluation:
    """The results of consecutive months."""

    months: tuple[MonthResult, ...]

    def month(self, month: Month) -> MonthResult:
        return next(result for result in self.months if result.month == month)
