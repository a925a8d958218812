"""What earlier, already closed months looked like: the engine's only memory.

Evaluating month M needs runs, occurrence windows, earn-back windows, the annual cap used,
carried sums and termination rights of earlier months. The database layer gives them "as they
stand" (an approved statement as approved unless a correction recomputed it, a waived line with
credit 0); evaluating a range
month by month feeds each month's own result back in, so both paths give the same figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from itertools import pairwise
from typing import Any

from .months import Month
from .results import CarriedSums, MonthResult, TerminationRight
from .terms import EarnBack, Status, TerminationTrigger, TriggerType


@dataclass(frozen=True)
class PriorServiceLevel:
    """A service level's outcome in a closed month; ``credit`` is the credit as applied."""

    code: str
    status: Status
    credit: Decimal
    run: int
    earn_back_rule: EarnBack | None = None
    carried_forward: CarriedSums | None = None


@dataclass(frozen=True)
class PriorMonth:
    """A closed month: its service levels' outcomes, whether the at-risk cap was reached and the
    termination rights that held.

    A month can be given as a summary: ``summary_credits`` (the credits applied) instead of its
    service levels. The database layer summarises the months that only the annual cap looks at,
    older than any rule that reads service levels (runs, windows, earn-backs), to read less."""

    month: Month
    service_levels: tuple[PriorServiceLevel, ...]
    cap_reached: bool = False
    termination_rights: tuple[TerminationRight, ...] = ()
    summary_credits: Decimal | None = None

    def __post_init__(self) -> None:
        if self.summary_credits is not None and self.service_levels:
            raise ValueError(f"{self.month}: a summarised month has no service levels")

    @property
    def has_credit_bearing_default(self) -> bool:
        return any(line.status.is_credit_bearing for line in self.service_levels)

    @property
    def credits(self) -> Decimal:
        if self.summary_credits is not None:
            return self.summary_credits
        return sum((line.credit for line in self.service_levels), Decimal("0.00"))

    def line(self, code: str) -> PriorServiceLevel | None:
        return next((line for line in self.service_levels if line.code == code), None)

    def summary(self) -> PriorMonth:
        """This month given by its totals only."""
        if self.summary_credits is not None:
            return self
        return replace(self, service_levels=(), summary_credits=self.credits)

    def right(self, trigger: TerminationTrigger) -> TerminationRight | None:
        return next((right for right in self.termination_rights if right.trigger == trigger), None)


@dataclass(frozen=True)
class History:
    """Closed months in increasing order, all before the months being evaluated."""

    months: tuple[PriorMonth, ...] = ()

    def __post_init__(self) -> None:
        for earlier, later in pairwise(self.months):
            if not earlier.month < later.month:
                raise ValueError(f"history months out of order: {earlier.month}, {later.month}")

    @cached_property
    def _by_month(self) -> dict[Month, PriorMonth]:
        return {prior.month: prior for prior in self.months}

    def get(self, month: Month) -> PriorMonth | None:
        return self._by_month.get(month)

    def line(self, month: Month, code: str) -> PriorServiceLevel | None:
        prior = self.get(month)
        return prior.line(code) if prior else None

    def between(self, first: Month, last: Month) -> Iterator[PriorMonth]:
        """The closed months from ``first`` to ``last``, both included."""
        return (prior for prior in self.months if first <= prior.month <= last)

    def appended(self, prior: PriorMonth) -> History:
        return History((*self.months, prior))

    @classmethod
    def from_results(cls, results: tuple[MonthResult, ...] | list[MonthResult]) -> History:
        """The history the given results leave behind, as if they had been closed unchanged."""
        return cls(tuple(prior_month(result) for result in results))


def prior_month(result: MonthResult) -> PriorMonth:
    """A month's result as a closed month of history."""
    lines = tuple(
        PriorServiceLevel(
            code=line.code,
            status=line.status,
            credit=line.credit,
            run=line.run,
            earn_back_rule=line.earn_back_rule,
            carried_forward=line.carried_forward,
        )
        for line in result.lines
    )
    return PriorMonth(result.month, lines, result.cap_reached, result.termination_rights)


def history_to_dict(history: History) -> dict[str, Any]:
    """A JSON-ready form of the history (decimals and months as strings)."""
    return {"months": [prior_month_to_dict(prior) for prior in history.months]}


def history_from_dict(data: dict[str, Any]) -> History:
    """The inverse of :func:`history_to_dict`."""
    return History(tuple(prior_month_from_dict(item) for item in data["months"]))


def prior_month_to_dict(prior: PriorMonth) -> dict[str, Any]:
    """One month of history, JSON-ready (decimals and months as strings)."""
    summary = {} if prior.summary_credits is None else {"summary_credits": str(prior.summary_credits)}
    return {
        **summary,
        "month": str(prior.month),
        "cap_reached": prior.cap_reached,
        "service_levels": [
            {
                "code": line.code,
                "status": str(line.status),
                "credit": str(line.credit),
                "run": line.run,
                "earn_back_rule": line.earn_back_rule
                and {"months": line.earn_back_rule.months, "pct": str(line.earn_back_rule.pct)},
                "carried_forward": line.carried_forward
                and {
                    "since": str(line.carried_forward.since),
                    "numerator": str(line.carried_forward.numerator),
                    "denominator": str(line.carried_forward.denominator),
                },
            }
            for line in prior.service_levels
        ],
        "termination_rights": [
            {
                "type": str(right.trigger.type),
                "months": right.trigger.months,
                "window": right.trigger.window,
                "since": str(right.since),
                "evidence": right.evidence,
            }
            for right in prior.termination_rights
        ],
    }


def prior_month_from_dict(data: dict[str, Any]) -> PriorMonth:
    """The inverse of :func:`prior_month_to_dict`."""
    summary = data.get("summary_credits")
    return PriorMonth(
        summary_credits=None if summary is None else Decimal(summary),
        month=Month.parse(data["month"]),
        cap_reached=data["cap_reached"],
        service_levels=tuple(_line_from_dict(line) for line in data["service_levels"]),
        termination_rights=tuple(
            TerminationRight(
                TerminationTrigger(TriggerType(right["type"]), right["months"], right["window"]),
                Month.parse(right["since"]),
                right["evidence"],
            )
            for right in data["termination_rights"]
        ),
    )


def _line_from_dict(data: dict[str, Any]) -> PriorServiceLevel:
    rule = data["earn_back_rule"]
    carried = data["carried_forward"]
    return PriorServiceLevel(
        code=data["code"],
        status=Status(data["status"]),
        credit=Decimal(data["credit"]),
        run=data["run"],
        earn_back_rule=rule and EarnBack(rule["months"], Decimal(rule["pct"])),
        carried_forward=carried
        and CarriedSums(
            Month.parse(carried["since"]),
            Decimal(carried["numerator"]),
            Decimal(carried["denominator"]),
        ),
    )
