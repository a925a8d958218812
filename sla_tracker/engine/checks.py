"""Consistency checks of terms and data, each problem named by its path in the scenario format
(e.g. ``service_levels[0].credit.allocation_pct``), so the database layer can reuse them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from .money import plain
from .terms import (
    AllocationCredit,
    ContractData,
    ContractTerms,
    Direction,
    Kind,
    ServiceLevelTerms,
    TieredCredit,
    TriggerType,
)

_KEY_FORBIDDEN = ("credit", "cap_pct", "multipliers", "earn_back")


@dataclass(frozen=True)
class Problem:
    """One inconsistency: where (a JSON path) and what."""

    path: str
    message: str


def find_problems(terms: ContractTerms, data: ContractData | None = None) -> list[Problem]:
    """Every inconsistency of the terms, and of the data against the terms."""
    problems = [*_contract_problems(terms), *_pool_problems(terms)]
    for index, service_level in enumerate(terms.service_levels):
        path = f"service_levels[{index}]"
        problems += _service_level_problems(service_level, path, terms)
    if data is not None:
        problems += _data_problems(terms, data)
    return problems


def _contract_problems(terms: ContractTerms) -> Iterator[Problem]:
    if not 1 <= terms.contract_year_start <= 12:
        yield Problem("contract_year_start", "must be a month number from 01 to 12")
    seen: dict[str, int] = {}
    for index, service_level in enumerate(terms.service_levels):
        code = service_level.code
        if code in seen:
            also = f"service_levels[{seen[code]}]"
            yield Problem(f"service_levels[{index}].code", f"duplicate code {code!r} (also {also})")
        seen.setdefault(code, index)
    for index, trigger in enumerate(terms.termination_triggers):
        path = f"termination_triggers[{index}]"
        if trigger.type is TriggerType.CONSECUTIVE_DEFAULTS:
            if trigger.window is not None:
                yield Problem(f"{path}.window", "consecutive_defaults takes no window")
        elif trigger.window is None:
            yield Problem(f"{path}.window", f"required for {trigger.type}")
        elif trigger.months > trigger.window:
            yield Problem(
                f"{path}.months",
                f"{trigger.months} months cannot fit in a window of {trigger.window}",
            )
        if trigger.type is TriggerType.CAP_REACHED_IN_WINDOW and terms.at_risk_pct is None:
            # Without an at-risk amount no month reaches the cap: the trigger could never hold.
            yield Problem(f"{path}.type", "cap_reached_in_window needs at_risk_pct (the cap it counts)")


def _pool_problems(terms: ContractTerms) -> Iterator[Problem]:
    allocations = [
        (index, service_level.credit.allocation_pct)
        for index, service_level in enumerate(terms.service_levels)
        if isinstance(service_level.credit, AllocationCredit)
    ]
    total = sum((pct for _, pct in allocations), Decimal(0))
    if terms.pool_pct is None or total <= terms.pool_pct:
        return
    running = Decimal(0)
    for index, pct in allocations:
        running += pct
        if running > terms.pool_pct:
            yield Problem(
                f"service_levels[{index}].credit.allocation_pct",
                f"allocations sum to {plain(total)} %, above pool_pct {plain(terms.pool_pct)} %",
            )
            return


def _service_level_problems(
    service_level: ServiceLevelTerms, path: str, terms: ContractTerms
) -> Iterator[Problem]:
    if service_level.kind is Kind.KEY:
        for name in _KEY_FORBIDDEN:
            if getattr(service_level, name):
                yield Problem(f"{path}.{name}", "a key service level is never credited: remove it")
    elif service_level.credit is None:
        yield Problem(f"{path}.credit", "required for a critical service level")
    minimum, expected = service_level.minimum, service_level.expected
    if (
        minimum is not None
        and minimum != expected
        and service_level.is_better_or_equal(minimum, expected)
    ):
        side = "below" if service_level.direction is Direction.HIGHER_IS_BETTER else "above"
        yield Problem(f"{path}.minimum", f"must be {side} expected ({expected:f})")
    rule = service_level.expected_miss_rule
    if rule is not None and rule.occurrences > rule.window:
        yield Problem(
            f"{path}.expected_miss_rule.occurrences",
            f"{rule.occurrences} occurrences cannot fit in a window of {rule.window}",
        )
    credit = service_level.credit
    if isinstance(credit, AllocationCredit) and terms.at_risk_pct is None:
        yield Problem(f"{path}.credit", "an allocation credit needs at_risk_pct (its base)")
    if isinstance(credit, TieredCredit):
        yield from band_problems(
            credit, f"{path}.credit", service_level.expected, service_level.direction
        )
    runs: set[int] = set()
    for index, item in enumerate(service_level.multipliers):
        if item.run in runs:
            yield Problem(f"{path}.multipliers[{index}].run", f"run {item.run} is given twice")
        runs.add(item.run)
    if service_level.earn_back is not None and service_level.earn_back.pct > 100:
        yield Problem(f"{path}.earn_back.pct", "cannot exceed 100")


def band_problems(
    credit: TieredCredit,
    path: str,
    expected: Decimal | None = None,
    direction: Direction = Direction.HIGHER_IS_BETTER,
) -> Iterator[Problem]:
    """Bands that end before they start, overlap, or leave a gap, and, given the target, bands that
    do not reach over the whole missing side of it: a value outside every band would be a default
    that no band prices, a credit of 0. Also checked on a stored version's tiers (the admin's rows)."""
    problems = []
    for index, band in enumerate(credit.bands):
        if band.upper is not None and band.upper <= band.lower:
            problems.append(Problem(f"{path}.bands[{index}].to", "must be above from"))
    ordered = sorted(enumerate(credit.bands), key=lambda item: item[1].lower)
    for (low_index, low), (high_index, high) in pairwise(ordered):
        if low.upper is None or low.upper > high.lower:
            upper = "∞" if low.upper is None else plain(low.upper)
            problems.append(Problem(
                f"{path}.bands[{high_index}]",
                f"overlaps bands[{low_index}] [{plain(low.lower)}, {upper})",
            ))
        elif low.upper < high.lower:
            problems.append(Problem(
                f"{path}.bands[{high_index}]",
                f"leaves [{plain(low.upper)}, {plain(high.lower)}) without a band after bands[{low_index}]",
            ))
    yield from problems
    if problems or expected is None or not credit.bands:
        return
    (lowest_index, lowest), (highest_index, highest) = ordered[0], ordered[-1]
    if direction is Direction.HIGHER_IS_BETTER:
        # Measured values are never below 0 (counters are not negative).
        if lowest.lower > 0:
            yield Problem(
                f"{path}.bands[{lowest_index}].from",
                f"leaves [0, {plain(lowest.lower)}) without a band: start the lowest band at 0",
            )
        if highest.upper is not None and highest.upper < expected:
            yield Problem(
                f"{path}.bands[{highest_index}].to",
                f"leaves [{plain(highest.upper)}, {plain(expected)}) below expected without a band",
            )
    else:
        if lowest.lower > expected:
            yield Problem(
                f"{path}.bands[{lowest_index}].from",
                f"leaves ({plain(expected)}, {plain(lowest.lower)}) above expected without a band",
            )
        if highest.upper is not None:
            yield Problem(
                f"{path}.bands[{highest_index}].to",
                f"leaves values from {plain(highest.upper)} up without a band: leave out the highest band's to",
            )


def _data_problems(terms: ContractTerms, data: ContractData) -> Iterator[Problem]:
    codes = {service_level.code for service_level in terms.service_levels}
    for index, exclusion in enumerate(data.exclusions):
        path = f"exclusions[{index}]"
        if exclusion.end < exclusion.start:
            yield Problem(f"{path}.to", "must not be before from")
        for position, code in enumerate(exclusion.service_levels or ()):
            if code not in codes:
                yield Problem(
                    f"{path}.service_levels[{position}]", f"unknown service level {code!r}"
                )
    for index, incident in enumerate(data.incidents):
        path = f"incidents[{index}]"
        for position, code in enumerate(incident.service_levels):
            if code not in codes:
                yield Problem(
                    f"{path}.service_levels[{position}]", f"unknown service level {code!r}"
                )
        if incident.selected is not None and incident.selected not in incident.service_levels:
            yield Problem(
                f"{path}.selected",
                f"{incident.selected!r} is not one of the incident's service levels",
            )
