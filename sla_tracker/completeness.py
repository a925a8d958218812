"""Data completeness: which days of a month lack which counters the service levels use.

One computation for the KPI workspace (many contracts, two months) and a statement's page and PDF
(one contract and month). A counter is expected on the days its channel is covered (a contract
scope's coverage days: all week, weekdays, weekends); a counter of no channel (quality, surveys)
on the days any channel is covered. A whole-month value counts for every day; days before the
contract's start, after its end (or last day of service), and today and later (a day is reported once it
is over) are not expected.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from accounts.scoping import restrict, visible_contracts
from contracts.choices import CoverageDays
from contracts.models import Contract, ContractScope
from contracts.months import last_day_of_month
from sla_tracker.models import KpiCounter, Measurement, ServiceLevelVersion

_WEEKDAYS = {CoverageDays.ALL_WEEK: range(7), CoverageDays.WEEKDAYS: range(5), CoverageDays.WEEKENDS: range(5, 7)}
EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True)
class CounterCompleteness:
    code: str
    expected_days: int
    missing_days: list[datetime.date]

    @property
    def days_with_data(self) -> int:
        return self.expected_days - len(self.missing_days)

    @property
    def ranges(self) -> str:
        """The missing days as day-of-month ranges: "1–5, 8"."""
        numbers = [day.day for day in self.missing_days]
        parts, start = [], None
        for index, number in enumerate(numbers):
            start = number if start is None else start
            if index + 1 == len(numbers) or numbers[index + 1] != number + 1:
                parts.append(str(start) if start == number else f"{start}–{number}")
                start = None
        return ", ".join(parts)


@dataclass
class MonthCompleteness:
    month: datetime.date
    counters: list[CounterCompleteness] = field(default_factory=list)

    @property
    def gaps(self) -> list[CounterCompleteness]:
        return [counter for counter in self.counters if counter.missing_days]

    @property
    def percent(self) -> int:
        expected = sum(counter.expected_days for counter in self.counters)
        if not expected:
            return 100
        return int(100 * sum(counter.days_with_data for counter in self.counters) / expected)

    @property
    def complete(self) -> bool:
        return not self.gaps

    @property
    def nothing_reported(self) -> bool:
        """Whether no counter has data on any expected day yet (the page says so once, not per counter)."""
        expected = [counter for counter in self.counters if counter.expected_days]
        return bool(expected) and not any(counter.days_with_data for counter in expected)


def completeness(
    user, contracts: list[Contract], months: list[datetime.date], today: datetime.date
) -> dict[tuple[int, datetime.date], MonthCompleteness]:
    """{(contract id, month): MonthCompleteness} for every contract and month, in four queries
    whatever their number (service level terms, scopes, counters, the measurements' keys)."""
    ids = [contract.pk for contract in contracts]
    if not ids or not months:
        return {}
    required = counters_in_use(user, ids, months)
    covered: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))  # contract → channel → weekdays
    for contract_id, channel, coverage in restrict(ContractScope.objects.filter(contract_id__in=ids), user).values_list(
        "contract_id", "channel", "coverage_days"
    ):
        covered[contract_id][channel] |= set(_WEEKDAYS.get(coverage, EVERY_DAY))
    codes = set().union(*(codes for by_contract in required.values() for codes in by_contract.values()))
    channels = dict(KpiCounter.objects.filter(code__in=codes).values_list("code", "channel"))
    present: dict[tuple, set[datetime.date]] = defaultdict(set)
    whole_month: set[tuple] = set()
    # Which days have data, not the values: shown with a statement to whoever sees its contract, so scoped by
    # the contract (a vendor's users read the values only where the vendor reports them, accounts.scoping).
    rows = (
        Measurement.objects.filter(contract__in=visible_contracts(user))
        .filter(contract_id__in=ids, month__in=months, counter__code__in=codes)
        .values_list("contract_id", "month", "counter__code", "day")
        .distinct()
    )
    for contract_id, month, code, day in rows:
        if day is None:
            whole_month.add((contract_id, month, code))
        else:
            present[(contract_id, month, code)].add(day)
    result = {}
    for contract in contracts:
        by_channel = covered.get(contract.pk, {})
        any_channel = set().union(*by_channel.values()) or EVERY_DAY
        for month in months:
            first = max(month, contract.start_date)
            last = min(last_day_of_month(month), today - datetime.timedelta(days=1), contract.last_day_of_service)
            days = [first + datetime.timedelta(days=offset) for offset in range(max(0, (last - first).days + 1))]
            status = MonthCompleteness(month=month)
            for code in sorted(required[month].get(contract.pk, set())):
                weekdays = by_channel.get(channels.get(code) or "") or any_channel
                expected = [day for day in days if day.weekday() in weekdays]
                key = (contract.pk, month, code)
                missing = [] if key in whole_month else [day for day in expected if day not in present[key]]
                status.counters.append(CounterCompleteness(code, len(expected), missing))
            result[(contract.pk, month)] = status
    return result


def counters_in_use(user, ids: list[int], months: list[datetime.date]) -> dict[datetime.date, dict[int, set[str]]]:
    """{month: {contract id: the counters its service levels use in that month (terms then in force)}},
    from one query of the versions up to the latest month."""
    latest = max(months)
    versions = list(
        restrict(ServiceLevelVersion.objects.all(), user)
        .filter(service_level__contract_id__in=ids, valid_from__lte=last_day_of_month(latest))
        .order_by("service_level_id", "valid_from")
        .values_list(
            "service_level__contract_id",
            "service_level_id",
            "service_level__retired_from",
            "valid_from",
            "numerator",
            "denominator",
        )
    )
    by_month = {}
    for month in months:
        in_force: dict[int, tuple] = {}
        for contract_id, level_id, retired_from, valid_from, numerator, denominator in versions:
            if valid_from <= last_day_of_month(month) and (retired_from is None or retired_from > month):
                in_force[level_id] = (contract_id, numerator, denominator)
        required: dict[int, set[str]] = defaultdict(set)
        for contract_id, numerator, denominator in in_force.values():
            required[contract_id] |= {code.lstrip("-") for code in [*numerator, *denominator]}
        by_month[month] = required
    return by_month
