"""Reference contract "A" of DOMAIN.md §6.1 and its monthly data, as engine dataclasses."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sla_tracker.engine import (
    AllocationCredit,
    Charges,
    ContractData,
    ContractTerms,
    CounterRow,
    Direction,
    Month,
    ServiceLevelTerms,
    counters,
)

D = Decimal
OFFERED_COUNTED = ("answered", "abandoned", "-short_abandoned")


def service_level(
    code: str,
    name: str,
    numerator: tuple[str, ...],
    denominator: tuple[str, ...],
    expected: str,
    allocation: str,
    **changes,
) -> ServiceLevelTerms:
    """An allocation-credit CSL of contract A; ``changes`` replace any other term."""
    terms = ServiceLevelTerms(
        code=code,
        name=name,
        numerator=counters(*numerator),
        denominator=counters(*denominator),
        expected=D(expected),
        credit=AllocationCredit(D(allocation)),
    )
    return replace(terms, **changes)


def contract_a(**changes) -> ContractTerms:
    """Contract A: €200,000 a month, 12 % at risk (€24,000), pool 200 %, five CSLs."""
    terms = ContractTerms(
        at_risk_pct=D(12),
        pool_pct=D(200),
        service_levels=(
            service_level(
                "CSL-1",
                "Voice service level 80 % in 20 s",
                ("answered_within_20s",),
                OFFERED_COUNTED,
                "80",
                "60",
            ),
            service_level(
                "CSL-2",
                "Abandonment rate",
                ("abandoned", "-short_abandoned"),
                OFFERED_COUNTED,
                "5.0",
                "40",
                direction=Direction.LOWER_IS_BETTER,
            ),
            service_level(
                "CSL-3",
                "Email response within 24 business hours",
                ("emails_answered_24bh",),
                ("emails_due",),
                "95",
                "40",
            ),
            service_level(
                "CSL-4",
                "Quality score (points per evaluation)",
                ("qa_points",),
                ("qa_evaluations",),
                "90.0",
                "30",
                scale=D(1),
            ),
            service_level(
                "CSL-5", "CSAT top-2-box", ("csat_top2",), ("csat_responses",), "85", "30"
            ),
        ),
    )
    return replace(terms, **changes)


def with_every_service_level(terms: ContractTerms, **changes) -> ContractTerms:
    """The same clause (multiplier, earn-back…) added to every service level."""
    return replace(
        terms, service_levels=tuple(replace(sl, **changes) for sl in terms.service_levels)
    )


def with_service_level(terms: ContractTerms, code: str, **changes) -> ContractTerms:
    return replace(
        terms,
        service_levels=tuple(
            replace(sl, **changes) if sl.code == code else sl for sl in terms.service_levels
        ),
    )


def month_values(
    *,
    within: int = 36_000,
    abandons: int = 2_000,
    offered: int = 43_000,
    short: int = 400,
    emails: tuple[int, int] = (9_700, 10_000),
    qa: tuple[int, int] = (55_200, 600),
    csat: tuple[int, int] = (2_200, 2_500),
) -> dict[str, int]:
    """A month of contract A counters; by default every CSL is met.

    ``abandons`` are counted abandons (short abandons excluded) and ``offered`` is
    offered_counted = answered + abandoned − short_abandoned.
    """
    return {
        "answered": offered - abandons,
        "answered_within_20s": within,
        "abandoned": abandons + short,
        "short_abandoned": short,
        "emails_answered_24bh": emails[0],
        "emails_due": emails[1],
        "qa_points": qa[0],
        "qa_evaluations": qa[1],
        "csat_top2": csat[0],
        "csat_responses": csat[1],
    }


# Data that makes each CSL default (the figures of DOMAIN.md Examples 1, 4 and 7).
DEFAULTING = {
    "CSL-1": {"within": 31_500},
    "CSL-2": {"abandons": 2_236},
    "CSL-3": {"emails": (9_120, 9_800)},
    "CSL-4": {"qa": (52_980, 600)},
    "CSL-5": {"csat": (2_075, 2_500)},
}


def defaulting(*codes: str) -> dict[str, int]:
    """A month in which exactly the given CSLs default."""
    changes: dict = {}
    for code in codes:
        changes.update(DEFAULTING[code])
    return month_values(**changes)


def monthly_rows(values_by_month: dict[Month, dict[str, int]]) -> tuple[CounterRow, ...]:
    return tuple(CounterRow.for_month(month, values) for month, values in values_by_month.items())


def contract_data(
    rows: tuple[CounterRow, ...], charges: str = "200000.00", **changes
) -> ContractData:
    return ContractData(charges=Charges(D(charges)), rows=rows, **changes)


def months_of(year: int, *numbers: int) -> list[Month]:
    return [Month(year, number) for number in numbers]
