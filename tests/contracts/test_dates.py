"""Renewal and notice arithmetic, without a database: month ends, leap years, business days."""

import datetime
import itertools
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.calendars import MONDAY_TO_FRIDAY, BusinessCalendar
from contracts.dates import (
    ContractTerms,
    add_months,
    business_days_between,
    contract_year,
    current_term_end,
    days_of_notice,
    next_window,
    notice_deadline,
    subtract_business_days,
    term_end,
    upcoming_windows,
    window_for_term,
)

D = datetime.date
W = MONDAY_TO_FRIDAY
FRANCE = BusinessCalendar("FR")
BAVARIA = BusinessCalendar("DE", "BY")
# Calendars whose business days the properties below are checked in: Monday to Friday, holidays of a country
# and of a subdivision, substitute days (GB), another weekend (Saudi Arabia: Friday and Saturday).
CALENDARS = [W, FRANCE, BAVARIA, BusinessCalendar("GB", "ENG"), BusinessCalendar("SA")]


def terms(**overrides) -> ContractTerms:
    """The factories' contract: 2025-01-01 for 36 months, tacit 12-month renewals (2 at most), 6 months' notice."""
    values = {
        "start_date": D(2025, 1, 1),
        "initial_term_months": 36,
        "end_date": D(2027, 12, 31),
        "renewal_type": "tacit",
        "renewal_term_months": 12,
        "max_renewals": 2,
        "notice_period": 6,
        "notice_unit": "months",
        "decision_buffer_days": 30,
    }
    values.update(overrides)
    return ContractTerms(**values)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2028, 2, 29), -3, D(2027, 11, 29)),
        (D(2025, 3, 31), -1, D(2025, 2, 28)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),
    ],
)
def test_adding_months_clamps_to_the_end_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (D(2026, 1, 1), 1, D(2026, 1, 31)),
        (D(2026, 1, 15), 1, D(2026, 2, 14)),
        (D(2026, 1, 28), 1, D(2026, 2, 27)),  # 28 February corresponds: the term ends the day before
        (D(2026, 1, 29), 1, D(2026, 2, 28)),  # no 29 February: the term ends on the last day of February
        (D(2026, 1, 30), 1, D(2026, 2, 28)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 29), 1, D(2028, 2, 28)),  # leap year: 29 February corresponds
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2028, 2, 29), 48, D(2032, 2, 28)),  # 29 February 2032 corresponds
        (D(2027, 2, 28), 12, D(2028, 2, 27)),
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2025, 12, 31), 2, D(2026, 2, 28)),
        (D(2025, 1, 1), 36, D(2027, 12, 31)),
    ],
)
def test_a_term_ends_the_day_before_the_corresponding_day_or_on_the_last_day_of_a_month_without_one(start, months, end):
    assert term_end(start, months) == end


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2900, 1, 1)), st.integers(min_value=1, max_value=600))
def test_a_term_ends_in_the_month_n_months_on_and_the_next_term_starts_on_the_corresponding_day_if_there_is_one(
    start, months
):
    end = term_end(start, months)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) in (months - 1, months)
    following = end + datetime.timedelta(days=1)
    assert following.day == start.day or (following.day == 1 and start.day > 28)


def test_renewals_chain_from_the_day_after_the_previous_end():
    # 31 January, one-month terms: 28 February, then from 1 March to 31 March, from 1 April to 30 April.
    monthly = terms(
        start_date=D(2026, 1, 31),
        initial_term_months=1,
        end_date=D(2026, 2, 28),
        renewal_term_months=1,
        max_renewals=None,
    )
    assert list(itertools.islice(monthly.term_ends(), 4)) == [
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
    ]
    # 29 February 2028, yearly: 28 February 2029, then from 1 March each year to the end of February.
    leap = terms(start_date=D(2028, 2, 29), initial_term_months=12, end_date=D(2029, 2, 28), max_renewals=4)
    assert list(leap.term_ends()) == [D(2029, 2, 28), D(2030, 2, 28), D(2031, 2, 28), D(2032, 2, 29), D(2033, 2, 28)]
    assert leap.is_term_end(D(2032, 2, 29)) and not leap.is_term_end(D(2032, 2, 28))


def test_notice_of_months_for_a_term_ending_on_29_february_may_be_given_until_30_november():
    # 30 November + 3 months clamps to 29 February: notice that day still runs out by the end.
    assert notice_deadline(D(2028, 2, 29), 3, "months", calendar=W) == D(2027, 11, 30)


def test_notice_of_months_for_a_term_ending_on_31_december():
    assert notice_deadline(D(2027, 12, 31), 6, "months", calendar=W) == D(2027, 6, 30)


def test_a_years_notice_for_a_term_ending_28_february_after_a_leap_year_may_be_given_on_29_february():
    assert notice_deadline(D(2029, 2, 28), 12, "months", calendar=W) == D(2028, 2, 29)


def test_a_years_notice_for_a_term_ending_on_28_february_of_a_leap_year():
    assert notice_deadline(D(2028, 2, 28), 12, "months", calendar=W) == D(2027, 2, 28)


def test_notice_in_calendar_days_counts_back_from_the_end_of_the_term():
    assert notice_deadline(D(2025, 12, 31), 90, "days", calendar=W) == D(2025, 10, 2)
    assert notice_deadline(D(2028, 3, 1), 1, "days", calendar=W) == D(2028, 2, 29)


def test_notice_in_business_days_skips_weekends():
    # Ten business days up to Wednesday 31 December 2025: 18, 19, 22–26, 29–31 December.
    deadline = notice_deadline(D(2025, 12, 31), 10, "business_days", calendar=W)
    assert deadline == D(2025, 12, 17)
    assert business_days_between(deadline, D(2025, 12, 31), calendar=W) == 10


def test_a_business_day_deadline_that_would_fall_on_a_weekend_moves_to_the_friday_before():
    # One business day before Monday 29 December 2025: the Sunday would do, but the deadline is a business day.
    assert subtract_business_days(D(2025, 12, 29), 1, calendar=W) == D(2025, 12, 26)


def test_an_unknown_notice_unit_is_an_error():
    with pytest.raises(ValueError, match="fortnights"):
        notice_deadline(D(2025, 12, 31), 1, "fortnights", calendar=W)


@pytest.mark.parametrize("calendar", CALENDARS, ids=lambda calendar: calendar.code or "monday-to-friday")
@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)), st.integers(min_value=0, max_value=800))
def test_business_days_between_matches_counting_day_by_day(calendar, start, length):
    end = start + datetime.timedelta(days=length)
    naive = sum(1 for n in range(1, length + 1) if calendar.is_business_day(start + datetime.timedelta(days=n)))
    assert business_days_between(start, end, calendar=calendar) == naive


@pytest.mark.parametrize("calendar", CALENDARS, ids=lambda calendar: calendar.code or "monday-to-friday")
@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)), st.integers(min_value=1, max_value=40))
def test_the_business_day_deadline_gives_at_least_the_notice_and_is_the_latest_such_business_day(calendar, end, count):
    deadline = subtract_business_days(end, count, calendar=calendar)
    assert calendar.is_business_day(deadline)
    assert business_days_between(deadline, end, calendar=calendar) >= count
    later = deadline + datetime.timedelta(days=1)
    while not calendar.is_business_day(later):
        later += datetime.timedelta(days=1)
    assert business_days_between(later, end, calendar=calendar) < count


@pytest.mark.parametrize("calendar", CALENDARS, ids=lambda calendar: calendar.code or "monday-to-friday")
@given(
    st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)),
    st.integers(min_value=-5, max_value=60),
    st.integers(min_value=1, max_value=40),
)
def test_the_notice_a_day_gives_is_enough_exactly_up_to_the_deadline(calendar, start, days_before, count):
    """The deadline shown (and reminded) and the check of a notice agree for every day, weekends and holidays
    included: a notice given on a day that is not a business day counts from the next business day."""
    notice = start - datetime.timedelta(days=days_before)
    given_days = days_of_notice(notice, start, business_days=True, calendar=calendar)
    deadline = notice_deadline(start, count, "business_days", calendar=calendar)
    assert (given_days >= count) == (notice <= deadline)
    calendar_days = days_of_notice(notice, start, business_days=False, calendar=calendar)
    assert (calendar_days >= count) == (notice <= notice_deadline(start, count, "days", calendar=calendar))


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)), st.integers(min_value=1, max_value=24))
def test_the_month_deadline_is_the_latest_day_whose_notice_runs_out_by_the_end(end, months):
    deadline = notice_deadline(end, months, "months", calendar=W)
    assert add_months(deadline, months) <= end
    assert add_months(deadline + datetime.timedelta(days=1), months) > end


def test_days_of_notice_in_either_unit():
    assert days_of_notice(D(2025, 5, 2), D(2025, 6, 2), business_days=False, calendar=W) == 31
    # Friday to the Monday ten days later: 5, 6, 7, 8, 9, 12 May → 6 business days.
    assert days_of_notice(D(2025, 5, 2), D(2025, 5, 12), business_days=True, calendar=W) == 6
    # Given on the Saturday, it counts from the Monday: 6, 7, 8, 9, 12 May → 5 business days.
    assert days_of_notice(D(2025, 5, 3), D(2025, 5, 12), business_days=True, calendar=W) == 5


def test_contract_years_run_from_the_start_dates_anniversary():
    assert contract_year(D(2025, 4, 15), D(2026, 4, 14)) == (D(2025, 4, 15), D(2026, 4, 14))
    assert contract_year(D(2025, 4, 15), D(2026, 4, 15)) == (D(2026, 4, 15), D(2027, 4, 14))
    assert contract_year(D(2024, 2, 29), D(2025, 3, 1)) == (D(2025, 2, 28), D(2026, 2, 27))


def test_upcoming_windows_of_a_tacit_contract_stop_at_its_maximum_renewals():
    windows = upcoming_windows(terms(), today=D(2026, 1, 1), count=5)
    assert [(w.term_end, w.notice_deadline, w.decision_due, w.renewal_number, w.renewed_term_end) for w in windows] == [
        (D(2027, 12, 31), D(2027, 6, 30), D(2027, 5, 31), 1, D(2028, 12, 31)),
        (D(2028, 12, 31), D(2028, 6, 30), D(2028, 5, 31), 2, D(2029, 12, 31)),
    ]


def test_after_a_missed_deadline_the_tacit_contract_renews_and_the_next_window_is_the_next_terms():
    window = next_window(terms(), today=D(2027, 7, 1))
    assert (window.term_end, window.notice_deadline) == (D(2028, 12, 31), D(2028, 6, 30))


def test_a_tacit_contract_whose_recorded_end_has_passed_runs_in_its_renewed_term():
    assert current_term_end(terms(), D(2028, 3, 1)) == D(2028, 12, 31)
    assert current_term_end(terms(), D(2030, 3, 1)) == D(2029, 12, 31)  # no third renewal


def test_an_explicit_contract_only_has_the_window_of_its_running_term():
    assert next_window(terms(renewal_type="explicit"), today=D(2027, 7, 1)) is None
    assert next_window(terms(renewal_type="explicit"), today=D(2027, 6, 1)).term_end == D(2027, 12, 31)


def test_a_contract_without_renewal_has_no_window():
    assert next_window(terms(renewal_type="none", renewal_term_months=None), today=D(2026, 1, 1)) is None


def test_a_leap_year_term_end_and_business_day_notice_with_buffer():
    leap = terms(
        start_date=D(2025, 3, 1),
        end_date=D(2028, 2, 29),
        notice_period=20,
        notice_unit="business_days",
        decision_buffer_days=10,
    )
    window = next_window(leap, today=D(2027, 12, 1))
    assert window.term_end == D(2028, 2, 29)
    assert window.notice_deadline == D(2028, 2, 1)  # 20 business days: 2–29 February 2028
    assert window.decision_due == D(2028, 1, 22)
    assert window.renewed_term_end == D(2029, 2, 28)


def _current_term_end_term_by_term(terms: ContractTerms, today: datetime.date) -> datetime.date:
    """The reference: renew one term at a time while the recorded end has passed."""
    end = terms.end_date
    if terms.renewal_type != "tacit":
        return end
    while end < today:
        window = window_for_term(terms, end)
        if window is None:
            break
        end = window.renewed_term_end
    return end


@given(
    start=st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31)),
    initial=st.integers(min_value=1, max_value=60),
    renewal=st.integers(min_value=1, max_value=60),
    max_renewals=st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
    recorded=st.integers(min_value=0, max_value=5),
    later=st.integers(min_value=0, max_value=20_000),
)
def test_the_term_running_today_is_computed_as_renewing_term_by_term_would(
    start, initial, renewal, max_renewals, recorded, later
):
    base = terms(start_date=start, initial_term_months=initial, renewal_term_months=renewal, max_renewals=max_renewals)
    recorded_end = next(itertools.islice(base.term_ends(), recorded, None), None) or base.initial_end
    contract = terms(
        start_date=start,
        initial_term_months=initial,
        end_date=recorded_end,
        renewal_term_months=renewal,
        max_renewals=max_renewals,
    )
    today = recorded_end + datetime.timedelta(days=later)
    assert current_term_end(contract, today) == _current_term_end_term_by_term(contract, today)
    ends = list(itertools.islice(contract.term_ends(), 30))
    assert [contract.renewals_used(end) for end in ends] == list(range(len(ends)))
    assert all(contract.is_term_end(end) for end in ends)
    assert not any(contract.is_term_end(end - datetime.timedelta(days=1)) for end in ends[1:])


def test_a_contract_of_1900_renewing_monthly_gets_its_running_term_without_counting_the_months():
    monthly = terms(
        start_date=D(1900, 1, 31),
        initial_term_months=1,
        end_date=D(1900, 2, 28),
        renewal_term_months=1,
        max_renewals=None,
        notice_period=1,
    )
    with mock.patch("contracts.dates.term_end", wraps=term_end) as computed:
        window = next_window(monthly, today=D(2026, 11, 29))
    assert (window.term_end, window.renewal_number) == (D(2026, 12, 31), 1523)  # November's deadline has passed
    assert computed.call_count < 10  # one per window looked at, not one per month since 1900
