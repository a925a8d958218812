"""Renewal and notice arithmetic: pure date helpers, no database, no clock.

Conventions (each one tested in tests/contracts/test_dates.py):
- A term's ``end`` is its last day (inclusive); the next term starts the day after.
- A term of N months ends on the day before the day that corresponds to its start day N months later; when that
  month has no such day, it ends on the last day of that month (the legal rule, e.g. BGB §188(3)): 31 January
  + 1 month ends on 28 February, 28 January + 1 month on 27 February, 29 February 2028 + 12 months on
  28 February 2029.
- Adding months keeps the day of the month and clamps to the month's end: 31 January + 1 month is
  28 February (29 in a leap year).
- Notice of N months given on day D runs until D + N months. The notice deadline of a term is the
  latest day D on which notice still runs out by the end of the term: for a term ending on
  29 February 2028 with three months' notice that is 30 November 2027 (30 November + 3 months
  clamps to 29 February).
- Notice in calendar days: the deadline is ``end − N days``. In business days (of the contract's
  calendar, contracts.calendars: Monday to Friday when it names none): at least N business days lie
  after the deadline up to and including the end, and the deadline itself is a business day. A notice
  given on a day that is not a business day counts from the next business day (as it is deemed
  received then), so the notice it gives and the deadline always agree: enough notice exactly when it
  is given on or before the deadline.
- The internal decision is due ``decision_buffer_days`` before the notice deadline.
- Contract years run from the start date's anniversary (clamped for a 29 February start).
"""

from __future__ import annotations

import datetime
import functools
import math
from calendar import monthrange
from dataclasses import dataclass

from contracts.calendars import MONDAY_TO_FRIDAY, BusinessCalendar

ONE_DAY = datetime.timedelta(days=1)
RENEWAL_NONE = "none"
RENEWAL_TACIT = "tacit"
UNIT_DAYS = "days"
UNIT_BUSINESS_DAYS = "business_days"
UNIT_MONTHS = "months"


def add_months(day: datetime.date, count: int) -> datetime.date:
    """``day`` moved by ``count`` months (negative goes back), clamped to the end of the month."""
    index = day.year * 12 + (day.month - 1) + count
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, monthrange(year, month)[1]))


def business_days_between(start: datetime.date, end: datetime.date, *, calendar: BusinessCalendar) -> int:
    """How many business days lie after ``start`` up to and including ``end`` (0 if end ≤ start)."""
    if end <= start:
        return 0
    return (end - start).days - calendar.closed_days_between(start, end)


def subtract_business_days(end: datetime.date, count: int, *, calendar: BusinessCalendar) -> datetime.date:
    """The latest business day with at least ``count`` business days after it up to ``end``."""
    day = end
    found = 0
    while found < count:
        if calendar.is_business_day(day):
            found += 1
        day -= ONE_DAY
    while not calendar.is_business_day(day):
        day -= ONE_DAY
    return day


def days_of_notice(
    notice_date: datetime.date, start: datetime.date, *, business_days: bool, calendar: BusinessCalendar
) -> int:
    """The notice given by ``notice_date`` for something starting on ``start``, in the clause's unit. In
    business days, a notice given on a day that is not one counts from the next business day."""
    if business_days:
        while not calendar.is_business_day(notice_date) and notice_date < start:
            notice_date += ONE_DAY
        return business_days_between(notice_date, start, calendar=calendar)
    return (start - notice_date).days


def notice_deadline(term_end: datetime.date, period: int, unit: str, *, calendar: BusinessCalendar) -> datetime.date:
    """The last day on which notice of ``period`` ``unit`` still runs out by ``term_end`` (business days in
    ``calendar``)."""
    if unit == UNIT_MONTHS:
        deadline = add_months(term_end, -period)
        # Month ends: notice given on a later day may still run out in time (30 Nov + 3 months = 29 Feb).
        while add_months(deadline + ONE_DAY, period) <= term_end:
            deadline += ONE_DAY
        return deadline
    if unit == UNIT_BUSINESS_DAYS:
        return subtract_business_days(term_end, period, calendar=calendar)
    if unit == UNIT_DAYS:
        return term_end - datetime.timedelta(days=period)
    raise ValueError(f"unknown notice period unit {unit!r}")


def term_end(start: datetime.date, months: int) -> datetime.date:
    """The last day of a term of ``months`` months starting on ``start``: the day before the day corresponding
    to ``start``'s day ``months`` months later or, when that month has no such day (31 January + 1 month), the
    last day of that month."""
    corresponding = add_months(start, months)
    if corresponding.day < start.day:  # clamped: the month has no corresponding day
        return corresponding
    return corresponding - ONE_DAY


def _month_index(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def _first_of(index: int) -> datetime.date:
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, 1)


def _days_in(index: int) -> int:
    year, month = divmod(index, 12)
    return monthrange(year, month + 1)[1]


@functools.cache
def _first_short_term(first_start: datetime.date, months: int) -> int | None:
    """The first term j (≥ 1) of a chain from ``first_start`` whose corresponding month (``months`` × j months
    on) has no day ``first_start.day``, or None if none has (until the calendar ends)."""
    day, first = first_start.day, _month_index(first_start)
    if day <= 28:
        return None
    if day == 29 and (1 - first) % math.gcd(months, 12):
        return None  # the chain never reaches a February, the only month that may lack a 29th
    last = _month_index(datetime.date.max) - 1
    # Months of 30 and 31 days recur with the month of the year (12 steps at most); only a 29 February
    # depends on the year.
    steps = 12 if day > 29 else (last - first) // months
    for number in range(1, steps + 1):
        index = first + number * months
        if index > last:
            return None
        if _days_in(index) < day:
            return number
    return None


@dataclass(frozen=True)
class TermChain:
    """Terms of ``months`` months chained from ``first_start``: term 1 starts then, each next term the day after
    the previous one ends (term_end). Computed arithmetically, not term by term: a term keeps the first start's
    day while the months have it; once a term ends on a month's last day (31 January + 1 month ends on
    28 February), every later term starts on the 1st."""

    first_start: datetime.date
    months: int

    def start(self, number: int) -> datetime.date:
        """The first day of term ``number`` (≥ 1)."""
        index = _month_index(self.first_start) + (number - 1) * self.months
        short = _first_short_term(self.first_start, self.months)
        if short is None or number <= short:
            year, month = divmod(index, 12)
            return datetime.date(year, month + 1, self.first_start.day)
        return _first_of(index + 1)

    def end(self, number: int) -> datetime.date:
        """The last day of term ``number`` (≥ 1)."""
        return self.start(number + 1) - ONE_DAY

    def number_on(self, day: datetime.date) -> int:
        """The number of the term running on ``day`` (on or after the first start)."""
        number = max(1, (_month_index(day) - _month_index(self.first_start)) // self.months + 1)
        while number > 1 and self.start(number) > day:
            number -= 1
        while self.start(number + 1) <= day:
            number += 1
        return number


def contract_year(start_date: datetime.date, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the contract year (from the start date's anniversary) containing ``day``."""
    years = day.year - start_date.year
    first = add_months(start_date, 12 * years)
    if first > day:
        years -= 1
        first = add_months(start_date, 12 * years)
    return first, add_months(start_date, 12 * (years + 1)) - ONE_DAY


@dataclass(frozen=True)
class ContractTerms:
    """The renewal and notice clauses of a contract, as the arithmetic needs them."""

    start_date: datetime.date
    initial_term_months: int
    end_date: datetime.date
    renewal_type: str
    renewal_term_months: int | None
    max_renewals: int | None
    notice_period: int
    notice_unit: str
    decision_buffer_days: int = 0
    calendar: BusinessCalendar = MONDAY_TO_FRIDAY

    @property
    def renewable(self) -> bool:
        return self.renewal_type != RENEWAL_NONE and bool(self.renewal_term_months)

    @property
    def initial_end(self) -> datetime.date:
        return term_end(self.start_date, self.initial_term_months)

    def term_ends(self):
        """The last day of the initial term, then of each renewal in turn (within the maximum).

        A renewed term starts the day after the previous one ends and runs for the renewal term, so
        the ends are chained from one to the next: the six-month initial and renewal terms of a contract
        that starts on 31 August end on 28 February, then on 31 August (the second term starts on 1 March).
        """
        end = self.initial_end
        yield end
        if not self.renewable:
            return
        number = 0
        while self.max_renewals is None or number < self.max_renewals:
            end = term_end(end + ONE_DAY, self.renewal_term_months)
            number += 1
            yield end

    @property
    def renewal_chain(self) -> TermChain | None:
        """The renewal terms, from the day after the initial term (None: the contract does not renew)."""
        return TermChain(self.initial_end + ONE_DAY, self.renewal_term_months) if self.renewable else None

    def renewals_used(self, end: datetime.date | None = None) -> int:
        """How many renewals the term ending on ``end`` (default: the recorded end date) includes: the renewal
        terms ending by then (within the maximum)."""
        end = end or self.end_date
        chain = self.renewal_chain
        if chain is None or end <= self.initial_end:
            return 0
        number = chain.number_on(end)
        used = number if chain.end(number) == end else number - 1
        return used if self.max_renewals is None else min(used, self.max_renewals)

    def is_term_end(self, day: datetime.date) -> bool:
        """Whether ``day`` ends the initial term or one of its renewals."""
        if day <= self.initial_end:
            return day == self.initial_end
        chain = self.renewal_chain
        if chain is None:
            return False
        number = chain.number_on(day)
        return chain.end(number) == day and (self.max_renewals is None or number <= self.max_renewals)

    def may_renew(self, renewals_used: int) -> bool:
        return self.renewable and (self.max_renewals is None or renewals_used < self.max_renewals)


@dataclass(frozen=True)
class RenewalWindow:
    """The choice to make before a term ends: renew it or let it end (notice)."""

    term_end: datetime.date
    notice_deadline: datetime.date
    decision_due: datetime.date
    renewal_number: int
    renewed_term_end: datetime.date

    def days_left(self, today: datetime.date) -> int:
        return (self.notice_deadline - today).days


def window_for_term(terms: ContractTerms, end: datetime.date) -> RenewalWindow | None:
    """The renewal window of the term ending on ``end``, or None if that term cannot renew."""
    used = terms.renewals_used(end)
    if not terms.may_renew(used):
        return None
    deadline = notice_deadline(end, terms.notice_period, terms.notice_unit, calendar=terms.calendar)
    return RenewalWindow(
        term_end=end,
        notice_deadline=deadline,
        decision_due=deadline - datetime.timedelta(days=terms.decision_buffer_days),
        renewal_number=used + 1,
        renewed_term_end=term_end(end + ONE_DAY, terms.renewal_term_months),
    )


def current_term_end(terms: ContractTerms, today: datetime.date) -> datetime.date:
    """The end of the term running on ``today``: a tacit contract whose recorded end has passed
    renewed itself (within its maximum renewals); any other contract keeps its recorded end.

    The renewals since the recorded end are counted arithmetically (TermChain), not one by one: a contract of
    1900 renewing monthly costs what one renewing yearly does."""
    end = terms.end_date
    if terms.renewal_type != RENEWAL_TACIT or end >= today or not terms.renewable:
        return end
    left = None if terms.max_renewals is None else terms.max_renewals - terms.renewals_used(end)
    if left is not None and left <= 0:
        return end
    since_recorded_end = TermChain(end + ONE_DAY, terms.renewal_term_months)
    number = since_recorded_end.number_on(today)
    return since_recorded_end.end(number if left is None else min(number, left))


def upcoming_windows(terms: ContractTerms, *, today: datetime.date, count: int = 3) -> list[RenewalWindow]:
    """The next ``count`` renewal windows whose notice deadline is today or later.

    A tacit contract whose deadline has passed renews, so its next window is the next term's; an
    explicit contract renews only by agreement, so only the term running today has a window.
    """
    windows: list[RenewalWindow] = []
    end = current_term_end(terms, today)
    while len(windows) < count:
        window = window_for_term(terms, end)
        if window is None:
            break
        if window.notice_deadline >= today:
            windows.append(window)
        if terms.renewal_type != RENEWAL_TACIT:
            break
        end = window.renewed_term_end
    return windows


def next_window(terms: ContractTerms, *, today: datetime.date) -> RenewalWindow | None:
    windows = upcoming_windows(terms, today=today, count=1)
    return windows[0] if windows else None
