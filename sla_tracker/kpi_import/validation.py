"""The validation rules of KPI data, shared by file uploads, hand entry and the API.

`Validator` checks values as they stream in (keeping only what the cross-value rules need: the
keys seen, and the values of counters bounded by another) and collects every error with its place
(file row and column, or API item index and field), the value and a translatable reason.

A file is daily (a date per row) or by interval (a date and time per row, e.g. every 15 minutes),
never both for one day. Interval rows are summed per day and counter and the sums are what is
stored and checked against the same-day bounds: an interval whose counts disagree on their own is
accepted when the day adds up (ACD reports may count a call in the interval it arrived and in the
one it was answered). Each value is still checked on its own (number, sign, whole for counts).

A CSV row with a value under no header (right of the header's last column, or under an empty header) is
refused: a stray separator may have shifted its values by a column, and no value of the row can be trusted to be
under its header. Columns left of the first header are the rows' labels (pandas' index), unless the row is narrower
than the header.

Interval times are local wall-clock times, as ACD systems export them, in the time zone of the contract's
sites (`local_time_zones`). On the day the clocks go back, the times they repeat (02:00–02:59 in Paris on
25 October 2026) may each be given twice, both summed into the day; any other time still once. On the day
they go forward, the times they skip are accepted as written (see `_DaySums.add`).
"""

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils.translation import gettext_noop
from openpyxl.utils import get_column_letter

from contracts.models import Contract
from contracts.months import last_day_of_month
from sla_tracker.choices import CounterUnit, StatementStatus
from sla_tracker.kpi_import.parsing import (
    AmbiguousNumber,
    FormulaWithoutValue,
    MonthFirstDate,
    ThousandsMarkAsDecimal,
    looks_like_excel_serial,
    parse_number,
    parse_period,
    parse_time_of_day,
    split_time,
)
from sla_tracker.kpi_import.reasons import Reason, date_param
from sla_tracker.models import KpiCounter, Measurement, PenaltyStatement

MAX_REPORTED_ERRORS = 1000
FORMULA_WITHOUT_VALUE = Reason(
    gettext_noop("A formula without a computed value: open and save the file in Excel, then upload it again.")
)
EXCEL_SERIAL_AS_TEXT = Reason(
    gettext_noop(
        "This looks like an Excel date serial number stored as text, not a date: format the column as a date in "
        "Excel (or write the dates as YYYY-MM-DD), then upload the file again."
    )
)
EXCEL_SERIAL_AS_NUMBER = Reason(
    gettext_noop(
        "This looks like an Excel date serial number in a cell formatted as a number, not a date: format the "
        "column as a date in Excel (or write the dates as YYYY-MM-DD), then upload the file again."
    )
)
MONTH_FIRST_DATE = Reason(
    gettext_noop(
        "Dates are read day first (DD/MM/YYYY), and this one looks month-first: write it as DD/MM/YYYY or YYYY-MM-DD."
    )
)
# The values the database stores exactly. PostgreSQL: up to 16 digits before the point and 4 after (the
# column). SQLite (the demo) keeps a decimal as a float: 15 significant digits, and a value near 1e16 made
# Django's converter fail on every read of it (a 500 no page could undo), so there: below 1e15, 15 digits.
_ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
MAX_VALUE = Decimal("1e15") if _ON_SQLITE else Decimal("1e16")
STORED_DIGITS = 15 if _ON_SQLITE else 20
# Digits of the largest plain integer checked as text, below MAX_VALUE.
_PLAIN_DIGITS = 15 if _ON_SQLITE else 16
LOOKUP_BATCH_SIZE = 500
LOCKED_STATUSES = (StatementStatus.APPROVED, StatementStatus.INVOICED)
LOCKED_MONTH = gettext_noop(
    "The penalty statement of {month} is “{status}”, so its data only changes through a correction: the "
    "contract's vendor manager corrects the month with a reason, on the month's grid, by uploading the file "
    "with a reason, or through the API's measurement corrections. The statement stays as it is, and the "
    "difference in credits is carried into the next open statement as an adjustment."
)
_MINUTES_A_DAY = 24 * 60
# Shorter runs are checked row by row: summing them at once saves less than it costs (a file that
# lists every day's 00:00, then every day's 00:15…, has runs of one row).
_SUMMED_RUN = 2
# A number as `parse_number` reads it without doubt: digits grouped by spaces or not, and at most one
# decimal mark with up to 4 decimals (whether "," or "." is the decimal mark is the file's, see
# `_column_sum`). Anything else goes through `parse_number`.
_WRITTEN_NUMBER = re.compile(r"([0-9]{1,3}(?:[ \u00a0\u202f\u2009][0-9]{3})+|[0-9]+)(?:([.,])([0-9]{1,4}))?")
_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")


@dataclass(frozen=True, slots=True)
class Issue:
    """One error: where (row or item index, column or field), the value as given, and why (written in the
    reader's language by `str(issue.message)`, stored in none by `as_dict`)."""

    message: Reason
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, **self.message.as_dict()}


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


class Period(NamedTuple):
    """The day a value is for, or its month (first day) with day None for a whole-month value."""

    month: datetime.date
    day: datetime.date | None


@dataclass(frozen=True)
class FileRows:
    """A KPI pack's data rows as a mapping reads them: (row number, cells) pairs, where the date is
    (and the time of day, when an interval file gives it in its own column), and each counter column
    as (cell index, header, counter code).

    `headers`, for a CSV file, are its header's cells: a row with a value under no header (right of the last one,
    or under an empty one) is refused, as a stray separator may have shifted its values (see
    `_stray_values_reported`)."""

    rows: Iterable[tuple[int, list]]
    date_index: int
    date_column: str
    columns: list[tuple[int, str, str]]
    time_index: int | None = None
    time_column: str | None = None
    headers: list[str] | None = None


class _Counter(NamedTuple):
    id: int
    code: str
    channel: str
    is_integer: bool
    bound_id: int | None


_UNREAD = object()


class _DaySums:
    """One day of an interval file: each counter's running sum, its intervals seen (a bit per minute of
    the day, so a repeated interval is found without keeping the intervals), and its first row.

    `repeated` has a bit for each minute whose wall-clock time the day has twice (the clocks go back
    that day, see `repeated_minutes`); `again` has, per counter, those of them already given twice."""

    __slots__ = ("again", "first", "first_row", "refused", "repeated", "slots", "sums", "timed_row")

    def __init__(self, first_row: int, repeated: int = 0) -> None:
        self.first_row = first_row
        self.repeated = repeated
        self.timed_row: int | None = None  # the first row with a time after midnight
        self.sums: dict[int, int | Decimal] = {}
        self.slots: dict[int, int] = {}
        self.again: dict[int, int] = {}
        self.first: dict[int, tuple[int, str, int]] = {}
        self.refused: set[int] = set()  # counters with a refused interval: no sum to check or store

    def add(self, counter_id: int, minute: int, value: int | Decimal, row: int, column: str) -> bool:
        """Add an interval's value to the day; False if the counter already has that interval (twice, for
        a time the day has twice).

        A time the day does not have (skipped when the clocks go forward, 02:00–02:59 in Paris in
        spring) is accepted as written: the day is what is stored, the row belongs to that day either
        way, and an ACD export that lists every quarter hour of a day writes those rows (with zeros)."""
        bit = 1 << minute
        slots = self.slots.get(counter_id, 0)
        if slots & bit:
            again = self.again.get(counter_id, 0)
            if not self.repeated & bit or again & bit:
                return False
            self.again[counter_id] = again | bit  # the second time of a wall-clock time the day has twice
        else:
            self.slots[counter_id] = slots | bit
        if counter_id in self.sums:
            self.sums[counter_id] += value
        else:
            self.sums[counter_id] = value
            self.first[counter_id] = (row, column, minute)
        return True


class Validator:
    """Checks one contract's values as they stream in (`check_rows` for a file, `check_items` for
    hand entry and the API), then `finish()` checks the cross-value rules.

    A checked value comes out as its counter's id and its number as text (None deletes), beside its
    Period: the text of a plain integer is used as given, so most values never become a Decimal.
    """

    # Whether `check_rows` sums runs of interval rows at once (`_sum_block`); the tests compare the two ways.
    sums_day_blocks = True

    def __init__(
        self,
        *,
        contract: Contract,
        today: datetime.date,
        decimal_comma: bool | None = None,
        per_item: bool = False,
        corrects_locked_months: bool = False,
    ) -> None:
        self.contract = contract
        self.corrects_locked_months = corrects_locked_months
        self.per_item = per_item
        self.today = today
        self.decimal_comma = decimal_comma
        self.in_file = False  # a file's rows (check_rows), not values given one by one
        self.issues: list[Issue] = []
        self.error_count = 0
        self.value_count = 0
        self.counters = {
            row[1]: _Counter(*row[:2], row[2], row[3] == CounterUnit.COUNT, row[4])
            for row in KpiCounter.objects.values_list("id", "code", "channel", "unit", "must_not_exceed_id")
        }
        self._codes_by_id = {counter.id: counter.code for counter in self.counters.values()}
        self._bound_of = {c.id: c.bound_id for c in self.counters.values() if c.bound_id}
        self._subsets_of: dict[int, list[int]] = defaultdict(list)
        for counter in self.counters.values():
            if counter.bound_id:
                self._subsets_of[counter.bound_id].append(counter.id)
        self._bounded_ids = set(self._bound_of) | set(self._subsets_of)
        self.channels = set(contract.scopes.values_list("channel", flat=True))
        self.locked_months = dict(
            PenaltyStatement.objects.filter(contract=contract, status__in=LOCKED_STATUSES).values_list(
                "month", "status"
            )
        )
        self._periods: dict[object, Period | Reason] = {}
        # Per period: the row of each counter's value (duplicates), and the values of bounded counters.
        self._seen: dict[Period, dict[int, int | None]] = {}
        self._daily_rows: dict[Period, int] = {}
        # Days a file gives by intervals (date and time): their running sums, until the file ends.
        self._interval_days: dict[Period, _DaySums] = {}
        self._time_zones: list[ZoneInfo] | None = None  # read when a file first gives a day by intervals
        self._summed_days: set[Period] = set()
        # The first row and the counters of each day given by intervals.
        self._interval_counters: dict[Period, tuple[int, list[int]]] = {}
        # Whole months and days given in one input: where each counter's whole-month value came from
        # (row, column), which values delete, and each counter's column.
        self._month_places: dict[tuple[int, datetime.date], tuple[int | None, str | None]] = {}
        self._deleted: set[tuple[int, Period]] = set()
        self._column_of: dict[int, str | None] = {}
        self._bounded: dict[Period, dict[int, tuple]] = defaultdict(dict)
        self._reported: set[tuple] = set()
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

    def check_rows(self, source: FileRows) -> Iterator[tuple[Period, list[tuple[int, str]]]]:
        """Check a file row by row; yield each row's period and (counter id, number as text) pairs
        while no error has been found.

        Kept lean, as it runs for every cell of files of a million values: a column's counter is
        looked up once, a date once per distinct text, and a plain integer is checked as text.
        """
        self.in_file = True
        columns = []
        for index, header, code in source.columns:
            counter = self.counters.get(code)
            if counter is not None and counter.channel and counter.channel not in self.channels:
                counter = None  # out of scope: reported like an unknown counter, once for its column
            columns.append((index, header, code, counter, counter is not None and counter.id in self._bounded_ids))
            if counter is not None:
                self._column_of.setdefault(counter.id, header)
        date_index, date_column = source.date_index, source.date_column
        time_index, time_column = source.time_index, source.time_column
        bounded_by_period = self._bounded
        if source.headers is not None:
            # Before the runs summed at once are taken out of the rows: each row is looked at here.
            source = replace(source, rows=self._stray_values_reported(source.rows, source.headers))
        rows = source.rows
        counter_ids = [counter.id for *_column, counter, _bounded in columns if counter is not None]
        if self.sums_day_blocks and columns and len(counter_ids) == len(columns) == len(set(counter_ids)):
            rows = self._unsummed_rows(source, columns)
        for row, cells in rows:
            width = len(cells)
            period = seen = _UNREAD
            day_sums = minute = None
            pairs = []
            for index, header, code, counter, bounded in columns:
                raw = cells[index] if index < width else ""
                plain = raw.__class__ is str and raw.isdigit() and raw.isascii() and len(raw) <= _PLAIN_DIGITS
                if not plain and (raw is None or (isinstance(raw, str) and (not raw or raw.isspace()))):
                    continue
                self.value_count += 1
                if counter is None:
                    self._counter(code, row=row, column=header)
                    continue
                if period is _UNREAD:
                    raw_date = cells[date_index] if date_index < width else ""
                    if time_index is not None:
                        raw_time = cells[time_index] if time_index < width else ""
                        raw_date = self._with_time(raw_date, raw_time, row=row, column=time_column)
                    period, minute, seen, day_sums = self._row_day(raw_date, row=row, column=date_column)
                if period is None:
                    continue
                if plain:
                    text, number = raw, None
                else:
                    number = self._number(raw, counter, row=row, column=header)
                    if number is None:
                        if day_sums is not None:
                            day_sums.refused.add(counter.id)
                        elif bounded:  # refused: its bounds are not checked against the stored value instead
                            bounded_by_period[period][counter.id] = (None, row, header)
                        continue
                    text = str(number)
                counter_id = counter.id
                if day_sums is not None:
                    value = int(raw) if plain else number
                    if not day_sums.add(counter_id, minute, value, row, header):
                        day_sums.refused.add(counter_id)
                        self._duplicate_interval(counter, period, minute, day_sums, row=row, column=header, value=raw)
                    continue
                if counter_id in seen:
                    self._duplicate(counter, period, seen[counter_id], row=row, column=header, value=raw)
                    continue
                seen[counter_id] = row
                if bounded:
                    bounded_by_period[period][counter_id] = (int(raw) if plain else number, row, header)
                pairs.append((counter_id, text))
            if pairs and period.day is None:
                for counter_id, _text in pairs:
                    self._month_places[(counter_id, period.month)] = (row, self._column_of[counter_id])
            if pairs and not self.error_count:
                yield period, pairs
        summed = self._sum_intervals()
        if not self.error_count:
            yield from summed

    def _stray_values_reported(
        self, rows: Iterable[tuple[int, list]], headers: list[str]
    ) -> Iterator[tuple[int, list]]:
        """The rows as they are, reporting each row with a value in a column without a header: right of the
        header's last column (a stray separator in the row), or under an empty header (a stray separator in the
        header row), where a value most likely comes from a stray separator that shifted the row's values by a
        column (a CSV row's cells are found by counting its separators). Empty cells there (trailing
        separators) are no value."""
        width = len(headers)
        # Left of the first header, columns without one hold the rows' labels (pandas' index, row numbers) in rows as
        # wide as the header; a row narrower than the header has its values left of the headers they belong under, as
        # a stray separator at the start of the header row leaves them.
        first = next((index for index, header in enumerate(headers) if header), width)
        unnamed = [index for index, header in enumerate(headers) if not header and index > first]
        for row, cells in rows:
            count = len(cells)
            if unnamed or count > width or (first and count < width):
                suspects = (*(range(first) if count < width else ()), *unnamed, *range(width, count))
                index = next((i for i in suspects if i < count and str(cells[i]).strip()), None)
                if index is not None:
                    self._stray_value(row, index, cells[index])
            yield row, cells

    def _stray_value(self, row: int, index: int, value: str) -> None:
        column = get_column_letter(index + 1)  # as a spreadsheet names a column without a header
        message = gettext_noop(
            "This row has a value in column {column}, which has no header: a stray separator may have shifted the "
            "row's values. Correct the row, or give the column a header."
        )
        self.add(Reason(message, {"column": column}), row=row, column=column, value=value)

    def _unsummed_rows(self, source: FileRows, columns: list) -> Iterator[tuple[int, list]]:
        """The rows of ``source`` that `check_rows` must check one by one: all of them but the runs of
        interval rows (a run: consecutive rows with the same date text and a time) that `_sum_block`
        adds to their day at once. A run is summed only when checking it row by row could find nothing
        wrong, and it changes the day exactly as that would, so the result and the errors (each in
        file order) are the same; a run with anything unusual in it goes through row by row."""
        date_index, time_index = source.date_index, source.time_index
        needed = max(index for index, *_rest in columns)
        if time_index is not None:
            needed = max(needed, time_index)
        needed = max(needed, date_index)
        block: list[tuple[int, list, int]] = []
        block_date = None
        for row, cells in source.rows:
            moment = None
            if len(cells) > needed:
                moment = _interval_moment(cells[date_index], None if time_index is None else cells[time_index])
            if moment is not None and moment[0] == block_date and len(block) < _MINUTES_A_DAY:
                block.append((row, cells, moment[1]))
                continue
            yield from self._left_unsummed(block, source, columns)
            if moment is None:
                block, block_date = [], None
                yield row, cells
            else:
                block, block_date = [(row, cells, moment[1])], moment[0]
        yield from self._left_unsummed(block, source, columns)

    def _left_unsummed(self, block: list[tuple[int, list, int]], source: FileRows, columns: list) -> list:
        """The rows of a run to check one by one: none once `_sum_block` has summed it."""
        if len(block) >= _SUMMED_RUN and self._sum_block(block, source, columns):
            return []
        return [(row, cells) for row, cells, _minute in block]

    def _sum_block(self, block: list[tuple[int, list, int]], source: FileRows, columns: list) -> bool:
        """Add a run of interval rows of one date to its day's sums, as checking them row by row would;
        False, with nothing changed that checking them row by row would not change the same way, when
        a row could be refused (an empty or unusual cell, a repeated time, a date that is refused...)."""
        # The run's times (`mask`), and those it gives a second time (`twice`): on the day the clocks go back,
        # its repeated times may be (checked once the day is known); a third time is never accepted.
        mask = twice = 0
        for _row, _cells, minute in block:
            bit = 1 << minute
            if mask & bit:
                if twice & bit:
                    return False
                twice |= bit
            else:
                mask |= bit
        sums = []
        decimal_comma = self.decimal_comma
        for index, _header, _code, counter, _bounded in columns:
            total = _column_sum([cells[index] for _row, cells, _minute in block], counter.is_integer, decimal_comma)
            if total is None:
                return False
            sums.append(total)
        first_row, first_cells, first_minute = block[0]
        raw = first_cells[source.date_index]
        if source.time_index is not None:
            raw = self._with_time(raw, first_cells[source.time_index], row=first_row, column=source.time_column)
        period, _minute = self._row_period(raw, row=first_row, column=source.date_column)
        if period is None or period in self._seen:
            return False  # refused, or a day the file also gives without a time: reported row by row
        day_sums = self._interval_days.get(period)
        repeated = self._repeated_minutes(period.day) if day_sums is None else day_sums.repeated
        if twice & ~repeated:
            return False  # a time given twice that the day has once
        # A time the day already has from earlier rows comes again in this run: accepted only for a repeated
        # time given once so far, and given once in this run (else a third time).
        overlaps = []
        if day_sums is not None:
            for *_column, counter, _bounded in columns:
                overlap = day_sums.slots.get(counter.id, 0) & mask
                if overlap & (~repeated | twice | day_sums.again.get(counter.id, 0)):
                    return False
                overlaps.append(overlap)
        day_sums = self._interval_day(period, first_minute, row=first_row, column=source.date_column, value=raw)
        if day_sums.timed_row is None:
            day_sums.timed_row = next((row for row, _cells, minute in block if minute), None)
        for position, ((_index, header, _code, counter, _bounded), total) in enumerate(zip(columns, sums, strict=True)):
            counter_id = counter.id
            day_sums.slots[counter_id] = day_sums.slots.get(counter_id, 0) | mask
            if again := twice | (overlaps[position] if overlaps else 0):
                day_sums.again[counter_id] = day_sums.again.get(counter_id, 0) | again
            if counter_id in day_sums.sums:
                day_sums.sums[counter_id] += total
            else:
                day_sums.sums[counter_id] = total
                day_sums.first[counter_id] = (first_row, header, first_minute)
        self.value_count += len(block) * len(columns)
        return True

    def _with_time(self, raw_date: object, raw_time: object, *, row, column) -> object:
        """The date cell with the time of the row's time column, as one date and time; the date cell
        alone when the time cell is empty."""
        try:
            minute = parse_time_of_day(raw_time)
            if minute is None:
                return raw_date
            date_part, own_minute = (raw_date, None) if isinstance(raw_date, str) else split_time(raw_date)
        except ValueError:
            date_part, minute, own_minute = raw_date, None, None
        if date_part is None or not str(date_part).strip():
            return raw_date  # reported as a missing date
        if minute is None or own_minute:
            self.add_once(
                ("period", row),
                Reason(
                    gettext_noop(
                        "Not a time of day: give the time as HH:MM, e.g. 08:15, and the day in the date column."
                    )
                ),
                row=row,
                column=column,
                value=_text(raw_time),
            )
            return None
        text = date_part.isoformat() if isinstance(date_part, datetime.date) else str(date_part).strip()
        return f"{text} {minute // 60:02d}:{minute % 60:02d}"

    def _row_day(self, raw: object, *, row, column) -> tuple[Period | None, int | None, dict | None, "_DaySums | None"]:
        """A file row's period and time (minutes after midnight, or None), with what its values are checked
        against: the day's values so far for a row without a time, the day's running sums for one with."""
        period, minute = self._row_period(raw, row=row, column=column)
        if period is None:
            return None, None, None, None
        if minute is not None:
            day_sums = self._interval_day(period, minute, row=row, column=column, value=raw)
            return (period if day_sums else None), minute, None, day_sums
        if (day_sums := self._interval_days.get(period)) is not None:
            self._mixed(period, interval_row=day_sums.first_row, daily_row=row, row=row, column=column, value=raw)
            return None, None, None, None
        seen = self._seen.get(period)
        if seen is None:
            seen = self._seen[period] = {}
            self._daily_rows[period] = row
        return period, None, seen, None

    def _row_period(self, raw: object, *, row, column) -> tuple[Period | None, int | None]:
        """A file row's period, and its time in minutes after midnight when the date cell has one."""
        try:
            date_part, minute = split_time(raw)
        except ValueError:
            self.add_once(
                ("period", row),
                Reason(gettext_noop("Not a time of day: an interval starts on a whole minute, e.g. 2026-03-01 08:15.")),
                row=row,
                column=column,
                value=_text(raw),
            )
            return None, None
        period = self._period(date_part, row=row, column=column, shown=raw)
        if period is not None and minute is not None and period.day is None:
            self.add_once(
                ("period", row),
                Reason(gettext_noop("A time needs a day: give the date and time as YYYY-MM-DD HH:MM.")),
                row=row,
                column=column,
                value=_text(raw),
            )
            return None, None
        return period, minute

    def _interval_day(self, period: Period, minute: int, *, row, column, value) -> "_DaySums | None":
        """The running sums of a day given by intervals; None (after reporting it) if the file also
        gives the day without a time."""
        day_sums = self._interval_days.get(period)
        if day_sums is None:
            if period in self._seen:
                self._mixed(
                    period,
                    interval_row=row,
                    daily_row=self._daily_rows.get(period),
                    row=row,
                    column=column,
                    value=value,
                )
                return None
            day_sums = self._interval_days[period] = _DaySums(row, self._repeated_minutes(period.day))
        if minute and day_sums.timed_row is None:
            day_sums.timed_row = row
        return day_sums

    def _repeated_minutes(self, day: datetime.date) -> int:
        """The minutes whose wall-clock time `day` has twice in one of the contract's time zones."""
        if self._time_zones is None:
            self._time_zones = local_time_zones(self.contract)
        repeated = 0
        for zone in self._time_zones:
            repeated |= repeated_minutes(day, zone)
        return repeated

    def _mixed(self, period: Period, *, interval_row, daily_row, row, column, value) -> None:
        self.add_once(
            ("mixed", period),
            Reason(
                gettext_noop(
                    "Row {interval_row} gives {day} with a time and row {daily_row} without one: a file gives "
                    "either daily values or interval values (date and time), not both for the same day."
                ),
                {"interval_row": interval_row, "daily_row": daily_row, "day": date_param(*period)},
            ),
            row=row,
            column=column,
            value=_text(value),
        )

    def _duplicate_interval(self, counter: _Counter, period: Period, minute: int, day_sums, *, row, column, value):
        first_row, _header, first_minute = day_sums.first[counter.id]
        if day_sums.timed_row is None:
            # Only midnight so far: an Excel date cell, that is a daily file.
            self._duplicate(counter, period, first_row, row=row, column=column, value=value)
            return
        when = {"date": period.day.isoformat(), "time": f"{minute // 60:02d}:{minute % 60:02d}"}
        if minute == first_minute:
            message = Reason(
                gettext_noop(
                    "{counter} already has a value for {when} in row {first}: give each interval and counter once."
                ),
                {"counter": counter.code, "when": when, "first": first_row},
            )
        else:
            message = Reason(
                gettext_noop(
                    "{counter} already has a value for {when} earlier in the file: give each interval and counter once."
                ),
                {"counter": counter.code, "when": when},
            )
        self.add(message, row=row, column=column, value=value)

    def _sum_intervals(self) -> list[tuple[Period, list[tuple[int, str]]]]:
        """The daily sums of the days given by intervals, ready to store; their same-day bounds are
        checked by `finish` like a daily file's values (the error names the day's first row)."""
        summed = []
        for period, day_sums in self._interval_days.items():
            if day_sums.timed_row is not None:
                self._summed_days.add(period)
            self._interval_counters[period] = (day_sums.first_row, list(day_sums.sums))
            pairs = []
            for counter_id in day_sums.refused & self._bounded_ids:  # as a refused cell of a daily file
                self._bounded[period][counter_id] = (None, day_sums.first_row, None)
            for counter_id, total in day_sums.sums.items():
                if counter_id in day_sums.refused:
                    continue
                row, header, _minute = day_sums.first[counter_id]
                if total >= MAX_VALUE:
                    self.add(
                        Reason(
                            gettext_noop("The values of {when} add up to more than the largest value stored."),
                            {"when": date_param(*period)},
                        ),
                        row=row,
                        column=header,
                        value=_plain(total),
                    )
                    continue
                if counter_id in self._bounded_ids:
                    self._bounded[period][counter_id] = (total, row, header)
                pairs.append((counter_id, _plain(total)))
            summed.append((period, pairs))
        self._interval_days.clear()
        return summed

    def check_items(self, items: Iterable[KpiValue]) -> Iterator[tuple[Period, list[tuple[int, str | None]]]]:
        """Check values given one by one; yield each as (period, [(counter id, number as text)]) while
        no error has been found."""
        for item in items:
            self.value_count += 1
            checked = self.check(item)
            if checked is not None and not self.error_count:
                period, counter_id, text = checked
                yield period, [(counter_id, text)]

    def check(self, item: KpiValue) -> tuple[Period, int, str | None] | None:
        """The value ready to store as (period, counter id, number as text or None to delete), or None
        after recording why it cannot be."""
        counter = self._counter(item.counter, row=item.row, column=item.column, counter_column=item.counter_column)
        if counter is None:
            return None
        period = self._period(item.period, row=item.row, column=item.period_column)
        if period is None:
            return None
        number = text = None
        if item.value is not None:
            number = self._number(item.value, counter, row=item.row, column=item.column)
            if number is None:
                if counter.id in self._bounded_ids:  # as a refused cell of a file (check_rows)
                    self._bounded[period][counter.id] = (None, item.row, item.column)
                return None
            text = str(number)
        seen = self._seen.setdefault(period, {})
        if counter.id in seen:
            self._duplicate(counter, period, seen[counter.id], row=item.row, column=item.column, value=item.value)
            return None
        seen[counter.id] = item.row
        self._column_of.setdefault(counter.id, item.column)
        if text is None:
            self._deleted.add((counter.id, period))
        elif period.day is None:
            self._month_places[(counter.id, period.month)] = (item.row, item.column)
        if counter.id in self._bounded_ids:
            self._bounded[period][counter.id] = (number, item.row, item.column)
        return period, counter.id, text

    def _counter(self, code: str, *, row, column, counter_column=None) -> _Counter | None:
        counter = self.counters.get(code)
        if counter is None:
            self.add_once(
                ("counter", column, code),
                Reason(gettext_noop("Unknown counter “{code}”."), {"code": code}),
                row=row,
                column=counter_column or column,
                value=code,
            )
            return None
        if counter.channel and counter.channel not in self.channels:
            self.add_once(
                ("scope", column, counter.code),
                Reason(
                    gettext_noop("{counter} is {channel} data, and this contract's scope has no {channel} channel."),
                    {"counter": counter.code, "channel": counter.channel},
                ),
                row=row,
                column=counter_column or column,
                value=code,
            )
            return None
        return counter

    def _period(self, raw: object, *, row, column, shown: object = None) -> Period | None:
        cache_key = raw if isinstance(raw, datetime.date | str) else repr(raw)
        result = self._periods.get(cache_key)
        if result is None:
            result = self._parse_period(raw)
            if len(self._periods) < 100_000:
                self._periods[cache_key] = result
            if isinstance(result, Period):
                self._note_period(result)
        if isinstance(result, Period):
            return result
        self.add_once(("period", row), result, row=row, column=column, value=_text(raw if shown is None else shown))
        return None

    def _note_period(self, period: Period) -> None:
        self.months.add(period.month)
        first_day = period.day or period.month
        self.first_day = first_day if self.first_day is None else min(self.first_day, first_day)
        self.last_day = first_day if self.last_day is None else max(self.last_day, first_day)

    def _parse_period(self, raw) -> Period | Reason:
        if isinstance(raw, FormulaWithoutValue):
            return FORMULA_WITHOUT_VALUE
        try:
            month, day = parse_period(raw)
        except MonthFirstDate:
            return MONTH_FIRST_DATE
        except ValueError:
            if raw is None or str(raw).strip() == "":
                return Reason(gettext_noop("The date is missing."))
            if looks_like_excel_serial(raw):
                return EXCEL_SERIAL_AS_TEXT if isinstance(raw, str) else EXCEL_SERIAL_AS_NUMBER
            return Reason(gettext_noop("Not a date: use YYYY-MM-DD or DD/MM/YYYY (a whole month: YYYY-MM)."))
        contract = self.contract
        first = day or month
        # The month's last day only once its first is within the term: December 9999 has no month after it.
        if first > contract.last_day_of_service or (day or last_day_of_month(month)) < contract.start_date:
            return Reason(
                gettext_noop("{when} is outside the contract's term ({start} to {end})."),
                {
                    "when": date_param(month, day),
                    "start": {"date": contract.start_date.isoformat()},
                    "end": {"date": contract.last_day_of_service.isoformat()},
                },
            )
        if first > self.today:
            return Reason(gettext_noop("{when} is in the future."), {"when": date_param(month, day)})
        if (status := self.locked_months.get(month)) and not self.corrects_locked_months:
            return Reason(LOCKED_MONTH, {"month": date_param(month, None), "status": {"statement_status": status}})
        return Period(month, day)

    def _number(self, raw: object, counter: _Counter, *, row, column) -> Decimal | None:
        """The number in a cell that is not a plain integer, or None after recording why it is refused."""
        if isinstance(raw, FormulaWithoutValue):
            return self._refuse(raw, FORMULA_WITHOUT_VALUE, row=row, column=column)
        try:
            value = parse_number(raw, decimal_comma=self.decimal_comma)
        except AmbiguousNumber as error:
            return self._refuse(
                raw,
                Reason(
                    gettext_noop(
                        "“{value}” may mean {whole} or {decimal}: write {whole} without a thousands separator, "
                        "or {decimal_written} for the decimal."
                    ),
                    {
                        "value": str(raw),
                        "whole": _plain(error.whole),
                        "decimal": _plain(error.decimal),
                        "decimal_written": _decimal_written(error.decimal, self.decimal_comma),
                    },
                ),
                row=row,
                column=column,
            )
        except ThousandsMarkAsDecimal as error:
            message = (
                gettext_noop("“{mark}” is read as a thousands separator in this file: write {example}.")
                if self.in_file
                else gettext_noop("“{mark}” is read as a thousands separator in your language: write {example}.")
            )
            return self._refuse(
                raw, Reason(message, {"mark": error.mark, "example": error.rewritten}), row=row, column=column
            )
        except ValueError:
            return self._refuse(raw, Reason(gettext_noop("Not a number.")), row=row, column=column)
        if value < 0:
            return self._refuse(
                raw,
                Reason(gettext_noop("Negative values are not allowed: counters count things.")),
                row=row,
                column=column,
            )
        exponent = value.as_tuple().exponent
        if exponent < 0 and counter.is_integer and value != value.to_integral_value():
            return self._refuse(
                raw,
                Reason(gettext_noop("{counter} is a count: give a whole number."), {"counter": counter.code}),
                row=row,
                column=column,
            )
        if value >= MAX_VALUE or exponent < -4:
            return self._refuse(
                raw, Reason(gettext_noop("Too large, or more than 4 decimal places.")), row=row, column=column
            )
        if len(value.normalize().as_tuple().digits) > STORED_DIGITS:
            return self._refuse(
                raw,
                Reason(
                    gettext_noop("More than {digits} significant digits: this database stores {digits} exactly."),
                    {"digits": STORED_DIGITS},
                ),
                row=row,
                column=column,
            )
        return value

    def _refuse(self, raw: object, message, *, row, column) -> None:
        self.add(message, row=row, column=column, value=_text(raw))

    def _duplicate(self, counter: _Counter, period: Period, first_row, *, row, column, value) -> None:
        message = (
            gettext_noop("{counter} already has a value for {when} in item {first}: give each day and counter once.")
            if self.per_item
            else gettext_noop(
                "{counter} already has a value for {when} in row {first}: give each day and counter once."
            )
        )
        self.add(
            Reason(message, {"counter": counter.code, "when": date_param(*period), "first": first_row}),
            row=row,
            column=column,
            value=value,
        )

    def finish(self) -> list[Issue]:
        """Check the rules across values, against stored values too: a counter's month given either by
        day or as a whole, and the same-day bounds (answered within 20 s ≤ answered…); the issues in row
        (or item) order, those of no row first."""
        self._check_months_given_once()
        stored = self._stored_counterparts()
        bound_of, subsets_of = self._bound_of, self._subsets_of
        for period, values in self._bounded.items():
            for counter_id, (value, row, column) in values.items():
                if value is None:
                    continue
                if (bound_id := bound_of.get(counter_id)) is not None:
                    bound_value = values[bound_id][0] if bound_id in values else stored.get((bound_id, period))
                    if bound_value is not None and value > bound_value:
                        summed = period in self._summed_days
                        self._report_bound(
                            counter_id,
                            value,
                            bound_id,
                            bound_value,
                            period,
                            row,
                            column,
                            summed,
                            stored=None if bound_id in values else "bound",
                        )
                for subset_id in subsets_of.get(counter_id, ()):
                    if subset_id not in values:
                        subset_value = stored.get((subset_id, period))
                        if subset_value is not None and subset_value > value:
                            self._report_bound(
                                subset_id, subset_value, counter_id, value, period, row, column, stored="subset"
                            )
        self._bounded.clear()
        self.issues.sort(key=lambda issue: (issue.row is not None, issue.row or 0))
        return self.issues

    def _check_months_given_once(self) -> None:
        """A counter's month is given by day or as a whole, not both: the engine adds a whole-month
        value to the days' values. Refuse an input that gives both, or that would leave both with the
        stored values (unless it deletes the stored ones)."""
        if not self.months:
            return
        stored_months = set(
            Measurement.objects.filter(contract=self.contract, day__isnull=True, month__in=self.months).values_list(
                "counter_id", "month"
            )
        )
        stored_months -= {(counter_id, period.month) for counter_id, period in self._deleted if period.day is None}
        if not (self._month_places or stored_months):
            return  # no whole month on either side: the usual daily data
        days: dict[tuple[int, datetime.date], int | None] = {}  # (counter, month) → the row of its first day
        for period, seen in self._seen.items():
            if period.day is not None:
                for counter_id, row in seen.items():
                    if (counter_id, period) not in self._deleted:
                        days.setdefault((counter_id, period.month), row)
        for period, (first_row, counter_ids) in self._interval_counters.items():
            for counter_id in counter_ids:
                days.setdefault((counter_id, period.month), first_row)
        stored_days: dict[tuple[int, datetime.date], set[datetime.date]] = defaultdict(set)
        if self._month_places:
            for counter_id, month, day in Measurement.objects.filter(
                contract=self.contract,
                day__isnull=False,
                month__in={month for _counter_id, month in self._month_places},
                counter_id__in={counter_id for counter_id, _month in self._month_places},
            ).values_list("counter_id", "month", "day"):
                if (counter_id, Period(month, day)) not in self._deleted:
                    stored_days[(counter_id, month)].add(day)
        for (counter_id, month), (row, column) in sorted(self._month_places.items(), key=lambda item: item[1][0] or 0):
            code, when = self._codes_by_id[counter_id], date_param(month, None)
            if (counter_id, month) in days:
                message = Reason(
                    gettext_noop(
                        "{counter} is given for the whole of {month} and for days of it (row {day_row}): give "
                        "the month by day or as a whole, not both (the whole month would be added to the days)."
                    ),
                    {"counter": code, "month": when, "day_row": days[(counter_id, month)]},
                )
            elif stored_days.get((counter_id, month)):
                message = Reason(
                    gettext_noop(
                        "{counter} already has values for days of {month}: a whole-month value would be added "
                        "to them. Give the month by day, or delete its daily values first."
                    ),
                    {"counter": code, "month": when},
                )
            else:
                continue
            self.add(message, row=row, column=column)
        for counter_id, month in sorted(stored_months, key=lambda key: key[1]):
            if (counter_id, month) in days and (counter_id, month) not in self._month_places:
                self.add(
                    Reason(
                        gettext_noop(
                            "{counter} has a value for the whole of {month}: a value for one of its days would be "
                            "added to it. Give the month as a whole, or delete its whole-month value first."
                        ),
                        {"counter": self._codes_by_id[counter_id], "month": date_param(month, None)},
                    ),
                    row=days[(counter_id, month)],
                    column=self._column_of.get(counter_id),
                )

    def _report_bound(
        self, subset_id, subset_value, bound_id, bound_value, period, row, column, summed=False, *, stored=None
    ) -> None:
        """`summed`: the subset's value is the sum of a day's intervals in the file. `stored`: which of the two
        values is the stored one ("subset" or "bound"), the other being the cell at `row` and `column`."""
        if stored == "subset":
            message = gettext_noop(
                "{bound} ({bound_value}) cannot be less than {subset} on {when}: {subset_value} is stored."
            )
            cell_value = bound_value
        elif stored == "bound":
            message = gettext_noop(
                "{subset} ({subset_value}) cannot be more than {bound} on {when}: {bound_value} is stored."
            )
            cell_value = subset_value
        elif summed:
            message = gettext_noop(
                "On {when}, the intervals of {subset} add up to {subset_value}, more than {bound} ({bound_value})."
            )
            cell_value = subset_value
        else:
            message = gettext_noop("{subset} ({subset_value}) cannot be more than {bound} ({bound_value}) on {when}.")
            cell_value = subset_value
        self.add(
            Reason(
                message,
                {
                    "subset": self._codes_by_id[subset_id],
                    "subset_value": _plain(subset_value),
                    "bound": self._codes_by_id[bound_id],
                    "bound_value": _plain(bound_value),
                    "when": date_param(*period),
                },
            ),
            row=row,
            column=column,
            value=_plain(cell_value),
        )

    def _stored_counterparts(self) -> dict[tuple[int, Period], Decimal]:
        """Stored values of the counters bounding, or bounded by, an incoming value absent from the input."""
        wanted: dict[Period, set[int]] = {}
        missing_by_layout: dict[tuple, set[int]] = {}
        for period, values in self._bounded.items():
            layout = tuple(values)
            missing = missing_by_layout.get(layout)
            if missing is None:
                related = set()
                for counter_id in layout:
                    if counter_id in self._bound_of:
                        related.add(self._bound_of[counter_id])
                    related.update(self._subsets_of.get(counter_id, ()))
                missing = missing_by_layout[layout] = related - set(layout)
            if missing:
                wanted[period] = missing
        if not wanted:
            return {}
        stored: dict[tuple[int, Period], Decimal] = {}
        periods = list(wanted)
        for start in range(0, len(periods), LOOKUP_BATCH_SIZE):
            batch = periods[start : start + LOOKUP_BATCH_SIZE]
            days = {period.day for period in batch if period.day}
            months = {period.month for period in batch if period.day is None}
            counter_ids = set().union(*(wanted[period] for period in batch))
            rows = Measurement.objects.filter(contract=self.contract, counter_id__in=counter_ids)
            by_day = rows.filter(day__in=days) if days else rows.none()
            by_month = rows.filter(day__isnull=True, month__in=months) if months else rows.none()
            for query in (by_day, by_month):
                for counter_id, month, day, value in query.values_list("counter_id", "month", "day", "value"):
                    stored[(counter_id, Period(month, day))] = value
        return stored


def local_time_zones(contract: Contract) -> list[ZoneInfo]:
    """The time zones a contract's interval files are written in: those of the vendor sites its scopes
    name (an ACD exports intervals in its site's local time), else the deployment's TIME_ZONE. A contract
    whose sites are in several zones gets them all (an interval file does not say which site it is from),
    so a time one of them has twice may be given twice. A site's zone that is no known zone is left out."""
    zones = []
    names = contract.scopes.exclude(site=None).values_list("site__time_zone", flat=True).distinct()
    for name in sorted(set(names)):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones, e.g. "Europe"
            continue
    return zones or [ZoneInfo(settings.TIME_ZONE)]


def repeated_minutes(day: datetime.date, zone: ZoneInfo) -> int:
    """A bit per minute of the day (as `_DaySums` keeps them) whose wall-clock time `day` has twice in
    `zone`, as the clocks go back: 02:00–02:59 in Europe/Paris on 25 October 2026, 01:30–01:59 in
    Australia/Lord_Howe on 5 April 2026 (half an hour back); 0 on other days."""
    midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    next_midnight = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=zone)
    if midnight.utcoffset() == next_midnight.utcoffset():
        return 0  # the same offset all day (two changes that cancel out within a day do not happen)
    repeated = 0
    for minute in range(_MINUTES_A_DAY):
        # A wall-clock time (adding to an aware datetime keeps its zone's wall clock): fold=0 reads it as
        # the first time it happens, fold=1 as the second, with a smaller offset when it happens twice.
        moment = midnight + datetime.timedelta(minutes=minute)
        if moment.utcoffset() > moment.replace(fold=1).utcoffset():
            repeated |= 1 << minute
    return repeated


def _interval_moment(raw_date: object, raw_time: object) -> tuple[str, int] | None:
    """(date text, minute of the day) of an interval row of a CSV file given as expected; None for
    anything else (a daily row, a cell that is not text, a time that is not one), left to the checks
    row by row."""
    if raw_date.__class__ is not str:
        return None
    try:
        if raw_time is None:
            date_text, minute = split_time(raw_date)
        else:
            if raw_time.__class__ is not str or split_time(raw_date)[1] is not None:
                return None
            date_text, minute = raw_date.strip(), parse_time_of_day(raw_time)
    except ValueError:
        return None
    if minute is None or not date_text:
        return None
    return date_text, minute


def _column_sum(cells: list, is_integer: bool, decimal_comma: bool | None) -> int | Decimal | None:
    """The sum of a run's cells of one counter when each is a number the checks would accept as it
    is written; None when any is empty, not text, or needs the full parser (which may refuse it)."""
    try:
        joined = "".join(cells)
    except TypeError:  # a cell of an Excel file
        return None
    if joined.isdigit() and joined.isascii():
        lengths = list(map(len, cells))
        if min(lengths) and max(lengths) <= _PLAIN_DIGITS:
            return sum(map(int, cells))
        return None
    if not joined:
        return None
    total = 0
    for cell in cells:
        if cell.isdigit() and cell.isascii() and len(cell) <= _PLAIN_DIGITS:
            total += int(cell)
            continue
        match = _WRITTEN_NUMBER.fullmatch(cell)
        if match is None:
            return None
        whole, mark, fraction = match.groups()
        whole = whole.translate(_SPACES)
        if len(whole) > _PLAIN_DIGITS:
            return None
        if mark is None:
            total += Decimal(whole)
            continue
        if decimal_comma is not None and (mark == ",") != decimal_comma:
            return None  # the mark groups thousands in this file: left to the parser
        if decimal_comma is None and len(fraction) == 3:
            return None  # "1,234" without a convention is ambiguous: left to the parser
        if is_integer and fraction.strip("0"):
            return None  # a count with a fraction: refused row by row
        total += Decimal(f"{whole}.{fraction}")
    return total


def _decimal_written(value: Decimal, decimal_comma: bool | None) -> str:
    """How to write an ambiguous number's decimal reading so that it is read as a decimal: with the
    convention's decimal mark, or, without one, with four decimals (a single mark followed by three
    digits would be ambiguous again)."""
    if decimal_comma is None:
        return f"{value:.4f}"
    written = _plain(value)
    return written.replace(".", ",") if decimal_comma else written


def _plain(value: Decimal | int) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, datetime.datetime | datetime.date):
        return raw.isoformat()
    return str(raw)
