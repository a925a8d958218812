"""The validation rules of KPI data, shared by file uploads, hand entry and the API.

`Validator` checks values one at a time as they stream in (keeping only what the cross-value rules
need: the keys seen, and the values of counters bounded by another) and collects every error with
its place (file row and column, or API item index and field), the value and a translatable reason.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from contracts.models import Contract
from contracts.months import last_day_of_month
from sla_tracker.choices import CounterUnit, StatementStatus
from sla_tracker.kpi_import.parsing import parse_number, parse_period
from sla_tracker.models import KpiCounter, Measurement, PenaltyStatement

MAX_REPORTED_ERRORS = 1000
MAX_VALUE = Decimal("1e16")
LOOKUP_BATCH_SIZE = 500
LOCKED_STATUSES = (StatementStatus.APPROVED, StatementStatus.INVOICED)


@dataclass(frozen=True, slots=True)
class Issue:
    """One error: where (row or item index, column or field), the value as given, and why."""

    message: str | Promise
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "message": str(self.message)}


class KpiValue(NamedTuple):
    """One value to store, as given: `period` a date, a month or their text; `value` None deletes.

    `row`/`column` say where it came from (file row and header, or API item index and field), and
    `period_column` where its date came from, for the error report.
    """

    counter: str
    period: object
    value: object
    row: int | None = None
    column: str | None = None
    period_column: str | None = None
    counter_column: str | None = None


class CheckedValue(NamedTuple):
    counter_id: int
    month: datetime.date
    day: datetime.date | None
    value: Decimal | None


class _Counter(NamedTuple):
    id: int
    code: str
    channel: str
    is_integer: bool
    bound_id: int | None


class Validator:
    """Checks one contract's values; `check()` each value, then `finish()` for the cross-value rules."""

    def __init__(
        self, *, contract: Contract, today: datetime.date, decimal_comma: bool | None = None, per_item: bool = False
    ) -> None:
        self.contract = contract
        self.per_item = per_item
        self.today = today
        self.decimal_comma = decimal_comma
        self.issues: list[Issue] = []
        self.error_count = 0
        self.counters = {
            row[1]: _Counter(*row[:2], row[2], row[3] == CounterUnit.COUNT, row[4])
            for row in KpiCounter.objects.values_list("id", "code", "channel", "unit", "must_not_exceed_id")
        }
        self._codes_by_id = {counter.id: counter.code for counter in self.counters.values()}
        self._bounded_ids = {c.id for c in self.counters.values() if c.bound_id} | {
            c.bound_id for c in self.counters.values() if c.bound_id
        }
        self.channels = set(contract.scopes.values_list("channel", flat=True))
        self.locked_months = dict(
            PenaltyStatement.objects.filter(contract=contract, status__in=LOCKED_STATUSES).values_list(
                "month", "status"
            )
        )
        self._periods: dict[object, tuple | Issue] = {}
        self._seen: dict[tuple, tuple] = {}
        self._reported: set[tuple] = set()
        self._bounded: dict[tuple, dict[int, tuple]] = defaultdict(dict)
        self.months: set[datetime.date] = set()
        self.first_day: datetime.date | None = None
        self.last_day: datetime.date | None = None

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, message, *, row=None, column=None, value=None) -> None:
        self.error_count += 1
        if len(self.issues) < MAX_REPORTED_ERRORS:
            self.issues.append(Issue(message, row, column, None if value is None else str(value)))

    def add_once(self, key: tuple, message, **place) -> None:
        """Report a problem of a whole column or row once in a file; once per item in API mode."""
        if self.per_item:
            key = (*key, place.get("row"))
        if key not in self._reported:
            self._reported.add(key)
            self.add(message, **place)

    def check(self, item: KpiValue) -> CheckedValue | None:
        """The value ready to store, or None after recording why it cannot be."""
        counter = self._counter(item)
        period = self._period(item)
        if counter is None or period is None:
            return None
        month, day = period
        value = self._value(item, counter)
        if value is False:
            return None
        key = (counter.id, day or month, day is None)
        if (first := self._seen.get(key)) is not None:
            self.add(
                format_lazy(
                    _("{counter} already has a value for {when} in row {first}: give each day and counter once."),
                    counter=counter.code,
                    when=_when(month, day),
                    first=first[0],
                ),
                row=item.row,
                column=item.column,
                value=item.value,
            )
            return None
        self._seen[key] = (item.row, item.column)
        if counter.id in self._bounded_ids:
            self._bounded[(month, day)][counter.id] = (value, item.row, item.column)
        return CheckedValue(counter.id, month, day, value)

    def _counter(self, item: KpiValue) -> _Counter | None:
        counter = self.counters.get(item.counter)
        if counter is None:
            self.add_once(
                ("counter", item.column, item.counter),
                format_lazy(_("Unknown counter “{code}”."), code=item.counter),
                row=item.row,
                column=item.counter_column or item.column,
                value=item.counter,
            )
            return None
        if counter.channel and counter.channel not in self.channels:
            self.add_once(
                ("scope", item.column, counter.code),
                format_lazy(
                    _("{counter} is {channel} data, and this contract's scope has no {channel} channel."),
                    counter=counter.code,
                    channel=counter.channel,
                ),
                row=item.row,
                column=item.counter_column or item.column,
                value=item.counter,
            )
            return None
        return counter

    def _period(self, item: KpiValue) -> tuple | None:
        raw = item.period
        cache_key = raw if isinstance(raw, datetime.date | str) else repr(raw)
        result = self._periods.get(cache_key)
        if result is None:
            result = self._parse_period(raw)
            if len(self._periods) < 100_000:
                self._periods[cache_key] = result
            if isinstance(result, tuple):
                self._note_period(*result)
        if isinstance(result, tuple):
            return result
        self.add_once(("period", item.row), result, row=item.row, column=item.period_column, value=_text(raw))
        return None

    def _note_period(self, month: datetime.date, day: datetime.date | None) -> None:
        self.months.add(month)
        first_day = day or month
        self.first_day = first_day if self.first_day is None else min(self.first_day, first_day)
        self.last_day = first_day if self.last_day is None else max(self.last_day, first_day)

    def _parse_period(self, raw) -> tuple | Promise:
        try:
            month, day = parse_period(raw)
        except ValueError:
            if raw is None or str(raw).strip() == "":
                return _("The date is missing.")
            return _("Not a date: use YYYY-MM-DD or DD/MM/YYYY (a whole month: YYYY-MM).")
        contract = self.contract
        first, last = (day, day) if day else (month, last_day_of_month(month))
        if last < contract.start_date or first > contract.end_date:
            return format_lazy(
                _("{when} is outside the contract's term ({start} to {end})."),
                when=_when(month, day),
                start=contract.start_date.isoformat(),
                end=contract.end_date.isoformat(),
            )
        if first > self.today:
            return format_lazy(_("{when} is in the future."), when=_when(month, day))
        if status := self.locked_months.get(month):
            return format_lazy(
                _(
                    "The penalty statement of {month} is “{status}”, so its data can no longer change. "
                    "To correct it, enter the correction as an adjustment in the data of the next open month, "
                    "or ask procurement to reopen the statement."
                ),
                month=f"{month:%Y-%m}",
                status=StatementStatus(status).label,
            )
        return month, day

    def _value(self, item: KpiValue, counter: _Counter) -> Decimal | bool | None:
        raw = item.value
        if raw is None:
            return None
        try:
            value = parse_number(raw, decimal_comma=self.decimal_comma)
        except ValueError:
            return self._refuse_value(item, _("Not a number."))
        if value < 0:
            return self._refuse_value(item, _("Negative values are not allowed: counters count things."))
        exponent = value.as_tuple().exponent
        if exponent < 0 and counter.is_integer and value != value.to_integral_value():
            return self._refuse_value(
                item, format_lazy(_("{counter} is a count: give a whole number."), counter=counter.code)
            )
        if value >= MAX_VALUE or exponent < -4:
            return self._refuse_value(item, _("Too large, or more than 4 decimal places."))
        return value

    def _refuse_value(self, item: KpiValue, message) -> bool:
        self.add(message, row=item.row, column=item.column, value=_text(item.value))
        return False

    def finish(self) -> list[Issue]:
        """Check the same-day bounds (answered within 20 s ≤ answered…), against stored values too."""
        stored = self._stored_counterparts()
        for (month, day), values in self._bounded.items():
            for counter_id, (value, row, column) in values.items():
                for bound_id, bound_value in self._bounds_of(counter_id, values, stored, month, day):
                    if value is not None and bound_value is not None and value > bound_value:
                        self._report_bound(counter_id, value, bound_id, bound_value, month, day, row, column)
                for subset_id, subset_value in self._stored_subsets(counter_id, values, stored, month, day):
                    if value is not None and subset_value is not None and subset_value > value:
                        self._report_bound(subset_id, subset_value, counter_id, value, month, day, row, column)
        self._bounded.clear()
        return self.issues

    def _bounds_of(self, counter_id, values, stored, month, day):
        bound_id = self._counter_by_id(counter_id).bound_id
        if bound_id is None:
            return
        if bound_id in values:
            yield bound_id, values[bound_id][0]
        elif (bound_id, month, day) in stored:
            yield bound_id, stored[(bound_id, month, day)]

    def _stored_subsets(self, counter_id, values, stored, month, day):
        for subset in self.counters.values():
            if subset.bound_id == counter_id and subset.id not in values and (subset.id, month, day) in stored:
                yield subset.id, stored[(subset.id, month, day)]

    def _report_bound(self, subset_id, subset_value, bound_id, bound_value, month, day, row, column) -> None:
        self.add(
            format_lazy(
                _("{subset} ({subset_value}) cannot be more than {bound} ({bound_value}) on {when}."),
                subset=self._codes_by_id[subset_id],
                subset_value=_plain(subset_value),
                bound=self._codes_by_id[bound_id],
                bound_value=_plain(bound_value),
                when=_when(month, day),
            ),
            row=row,
            column=column,
            value=_plain(subset_value),
        )

    def _counter_by_id(self, counter_id: int) -> _Counter:
        return self.counters[self._codes_by_id[counter_id]]

    def _stored_counterparts(self) -> dict[tuple, Decimal]:
        """Stored values of the counters bounding, or bounded by, an incoming value absent from the input."""
        wanted: dict[tuple, set[int]] = {}
        for (month, day), values in self._bounded.items():
            related = set()
            for counter_id in values:
                counter = self._counter_by_id(counter_id)
                if counter.bound_id:
                    related.add(counter.bound_id)
                related |= {c.id for c in self.counters.values() if c.bound_id == counter_id}
            if missing := related - set(values):
                wanted[(month, day)] = missing
        if not wanted:
            return {}
        stored: dict[tuple, Decimal] = {}
        keys = list(wanted)
        for start in range(0, len(keys), LOOKUP_BATCH_SIZE):
            batch = keys[start : start + LOOKUP_BATCH_SIZE]
            days = {day for _month, day in batch if day}
            months = {month for month, day in batch if day is None}
            counter_ids = set().union(*(wanted[key] for key in batch))
            rows = Measurement.objects.filter(contract=self.contract, counter_id__in=counter_ids)
            by_day = rows.filter(day__in=days) if days else rows.none()
            by_month = rows.filter(day__isnull=True, month__in=months) if months else rows.none()
            for query in (by_day, by_month):
                for counter_id, month, day, value in query.values_list("counter_id", "month", "day", "value"):
                    stored[(counter_id, month, day)] = value
        return stored


def _when(month: datetime.date, day: datetime.date | None) -> str:
    return day.isoformat() if day else f"{month:%Y-%m}"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, datetime.datetime | datetime.date):
        return raw.isoformat()
    return str(raw)
