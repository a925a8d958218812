"""Inputs of the engine: a contract's penalty terms and the data they are applied to.

The database layer builds these from ORM rows; the scenario module builds them from JSON.
Percentages are ``Decimal`` per cent (``Decimal("60")`` is 60 %).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from .months import Month


class Kind(StrEnum):
    CRITICAL = "critical"  # credit-bearing
    KEY = "key"  # measured and reported, never credited


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Status(StrEnum):
    MET = "met"
    MISSED = "missed"
    DEFAULT = "default"
    MINIMUM_DEFAULT = "minimum_default"
    NOT_MEASURED = "not_measured"

    @property
    def is_credit_bearing(self) -> bool:
        return self in (Status.DEFAULT, Status.MINIMUM_DEFAULT)

    @property
    def missed_expected(self) -> bool:
        """Whether the measured value missed the expected level (an occurrence)."""
        return self in (Status.MISSED, Status.DEFAULT, Status.MINIMUM_DEFAULT)


class MinVolumeRule(StrEnum):
    NOT_MEASURED = "not_measured"
    CARRY_FORWARD = "carry_forward"


class Shortfall(StrEnum):
    PROPORTIONAL = "proportional"
    FLOOR = "floor"  # "for each full point"
    CEIL = "ceil"  # "for each point or part thereof"


class TriggerType(StrEnum):
    CONSECUTIVE_DEFAULTS = "consecutive_defaults"
    DEFAULTS_IN_WINDOW = "defaults_in_window"
    CAP_REACHED_IN_WINDOW = "cap_reached_in_window"


@dataclass(frozen=True)
class CounterTerm:
    """One counter of a numerator or denominator, added or (``negative``) subtracted."""

    name: str
    negative: bool = False

    @classmethod
    def parse(cls, text: str) -> CounterTerm:
        """``"answered"`` adds the counter, ``"-short_abandoned"`` subtracts it."""
        if text.startswith("-"):
            return cls(text[1:], negative=True)
        return cls(text)

    def __str__(self) -> str:
        return f"-{self.name}" if self.negative else self.name


@lru_cache(maxsize=4096)  # the same few formulas for every contract of a close; the terms are immutable
def counters(*texts: str) -> tuple[CounterTerm, ...]:
    """A formula side from its texts: ``counters("answered", "abandoned", "-short_abandoned")``."""
    return tuple(CounterTerm.parse(text) for text in texts)


@dataclass(frozen=True)
class AllocationCredit:
    """Credit = ``allocation_pct`` × the month's at-risk amount."""

    allocation_pct: Decimal


@dataclass(frozen=True)
class FixedCredit:
    """Credit = a fixed amount per credit-bearing month."""

    amount: Decimal


@dataclass(frozen=True)
class Tier:
    """Half-open band ``[lower, upper)`` of the compared value; ``upper`` None is unbounded."""

    lower: Decimal
    upper: Decimal | None
    pct: Decimal

    def contains(self, value: object) -> bool:
        return self.lower <= value and (self.upper is None or value < self.upper)


@dataclass(frozen=True)
class TieredCredit:
    """Credit = the pct of the band holding the compared value × the month's charges."""

    bands: tuple[Tier, ...]


@dataclass(frozen=True)
class LinearCredit:
    """Credit = ``pct_per_point`` × points of shortfall against expected × charges."""

    pct_per_point: Decimal
    shortfall: Shortfall = Shortfall.PROPORTIONAL


CreditModel = AllocationCredit | FixedCredit | TieredCredit | LinearCredit


@dataclass(frozen=True)
class Multiplier:
    """The credit is multiplied by ``factor`` when the run of credit-bearing months is ≥ ``run``."""

    run: int
    factor: Decimal


@dataclass(frozen=True)
class EarnBack:
    """``pct`` of a month's final credit is earned back if the next ``months`` months are met."""

    months: int
    pct: Decimal


@dataclass(frozen=True)
class Bonus:
    """``pct_per_full_point`` of charges per full point beyond ``above``, at most ``max_pct``."""

    above: Decimal
    pct_per_full_point: Decimal
    max_pct: Decimal


@dataclass(frozen=True)
class MinVolume:
    """Below ``at_least`` (Σ denominator) the month is not measured, or carried forward."""

    at_least: Decimal
    rule: MinVolumeRule = MinVolumeRule.NOT_MEASURED


@dataclass(frozen=True)
class ExpectedMissRule:
    """An expected-level miss is a default only on the ``occurrences``-th miss in ``window``."""

    occurrences: int
    window: int


@dataclass(frozen=True)
class TerminationTrigger:
    """A chronic-failure condition that gives the customer a termination right."""

    type: TriggerType
    months: int
    window: int | None = None


@dataclass(frozen=True)
class ServiceLevelTerms:
    """The terms of one service level as in force in a month."""

    code: str
    numerator: tuple[CounterTerm, ...]
    denominator: tuple[CounterTerm, ...]
    expected: Decimal
    name: str = ""
    kind: Kind = Kind.CRITICAL
    scale: Decimal = Decimal(100)
    direction: Direction = Direction.HIGHER_IS_BETTER
    minimum: Decimal | None = None
    expected_miss_rule: ExpectedMissRule | None = None
    precision: int | None = None
    min_volume: MinVolume | None = None
    credit: CreditModel | None = None
    cap_pct: Decimal | None = None
    multipliers: tuple[Multiplier, ...] = ()
    earn_back: EarnBack | None = None
    bonus: Bonus | None = None
    # Days after month end during which the month's result stays provisional (late data).
    finalisation_days: int = 0

    def is_better_or_equal(self, value: object, threshold: object) -> bool:
        """Whether ``value`` meets ``threshold`` in this service level's direction."""
        if self.direction is Direction.HIGHER_IS_BETTER:
            return value >= threshold
        return value <= threshold


@dataclass(frozen=True)
class ContractTerms:
    """A contract's penalty schedule as in force in a month."""

    service_levels: tuple[ServiceLevelTerms, ...]
    currency: str = "EUR"
    at_risk_pct: Decimal | None = None
    pool_pct: Decimal | None = None
    annual_cap_pct: Decimal | None = None
    contract_year_start: int = 1
    termination_triggers: tuple[TerminationTrigger, ...] = ()

    def contract_year_of(self, month: Month) -> Month:
        """The first month of the contract year that holds ``month``."""
        start = Month(month.year, self.contract_year_start)
        return start if start <= month else start - 12


@dataclass(frozen=True)
class CounterRow:
    """Counter values for one day, or for a whole month (``day`` None; cannot be excluded)."""

    month: Month
    values: Mapping[str, Decimal]
    day: date | None = None

    @classmethod
    def for_day(cls, day: date, values: Mapping[str, Decimal | int]) -> CounterRow:
        return cls(Month.of(day), _decimals(values), day)

    @classmethod
    def for_month(cls, month: Month, values: Mapping[str, Decimal | int]) -> CounterRow:
        return cls(month, _decimals(values))


def _decimals(values: Mapping[str, Decimal | int]) -> dict[str, Decimal]:
    return {name: Decimal(value) for name, value in values.items()}


@dataclass(frozen=True)
class Exclusion:
    """Approved excluded days ``start``..``end`` (inclusive) for some service levels (None: all)."""

    start: date
    end: date
    service_levels: tuple[str, ...] | None = None
    reason: str = ""

    def excludes(self, day: date, code: str) -> bool:
        applies = self.service_levels is None or code in self.service_levels
        return applies and self.start <= day <= self.end


@dataclass(frozen=True)
class Incident:
    """One root cause behind several service levels' defaults in a month."""

    month: Month
    service_levels: tuple[str, ...]
    selected: str | None = None


@dataclass(frozen=True)
class Charges:
    """The credit base of each month: per-month amounts, else ``default``."""

    default: Decimal | None = None
    by_month: Mapping[Month, Decimal] = field(default_factory=dict)

    def for_month(self, month: Month) -> Decimal:
        amount = self.by_month.get(month, self.default)
        if amount is None:
            raise EngineError(f"no charges for {month}")
        return amount


@dataclass(frozen=True)
class ContractData:
    """What happened: charges, counters, approved exclusions and incidents."""

    charges: Charges
    rows: tuple[CounterRow, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    incidents: tuple[Incident, ...] = ()


class EngineError(ValueError):
    """Inputs the engine cannot evaluate (e.g. a month without charges or terms)."""
