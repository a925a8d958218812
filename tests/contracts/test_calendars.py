"""Business-day calendars: the public holidays of a contract's jurisdiction in the notice arithmetic, and the
calendar a contract names (validated against the calendars the holidays library knows)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from contracts.calendars import MONDAY_TO_FRIDAY, BusinessCalendar, business_days_text, calendar_errors
from contracts.dates import business_days_between, notice_deadline, subtract_business_days

D = datetime.date
FRANCE = BusinessCalendar("FR")


def test_ten_business_days_in_france_skip_1_may_8_may_and_ascension_2026():
    # Term ending Friday 15 May 2026: 15, 13, 12, 11, 7, 6, 5, 4 May, 30 and 29 April; Ascension (Thursday 14),
    # Victory Day (Friday 8) and Labour Day (Friday 1 May) are not business days.
    deadline = notice_deadline(D(2026, 5, 15), 10, "business_days", calendar=FRANCE)

    assert deadline == D(2026, 4, 28)
    assert business_days_between(deadline, D(2026, 5, 15), calendar=FRANCE) == 10
    # Monday to Friday alone, the same notice could still be given on Friday 1 May.
    assert notice_deadline(D(2026, 5, 15), 10, "business_days", calendar=MONDAY_TO_FRIDAY) == D(2026, 5, 1)


def test_a_subdivisions_own_holiday_counts_which_the_country_calendar_alone_does_not_have():
    # Corpus Christi, Thursday 4 June 2026, is a public holiday in Bavaria, not in all of Germany.
    bavaria, germany = BusinessCalendar("DE", "BY"), BusinessCalendar("DE")

    assert not bavaria.is_business_day(D(2026, 6, 4))
    assert germany.is_business_day(D(2026, 6, 4))
    # Three business days up to Monday 8 June: 8, 5 and 3 June in Bavaria; 8, 5 and 4 June in Germany.
    assert subtract_business_days(D(2026, 6, 8), 3, calendar=bavaria) == D(2026, 6, 2)
    assert subtract_business_days(D(2026, 6, 8), 3, calendar=germany) == D(2026, 6, 3)
    # The country's own holidays stay: Whit Monday, 25 May 2026.
    assert not bavaria.is_business_day(D(2026, 5, 25))


def test_a_holiday_on_a_weekend_costs_no_business_day_unless_the_country_moves_it():
    # 1 and 8 May 2027 are Saturdays: France does not move them, so May 2027 counts as Monday to Friday does
    # until Ascension (Thursday 6 May).
    assert business_days_between(D(2027, 4, 29), D(2027, 5, 5), calendar=FRANCE) == 4
    assert business_days_between(D(2027, 4, 29), D(2027, 5, 5), calendar=MONDAY_TO_FRIDAY) == 4
    assert business_days_between(D(2027, 4, 29), D(2027, 5, 7), calendar=FRANCE) == 5
    # Christmas and Boxing Day 2027 fall on the weekend: England's bank holidays move to Monday 27 and
    # Tuesday 28 December.
    england = BusinessCalendar("GB", "ENG")
    assert not england.is_business_day(D(2027, 12, 27))
    assert not england.is_business_day(D(2027, 12, 28))
    assert business_days_between(D(2027, 12, 24), D(2027, 12, 31), calendar=england) == 3


def test_a_country_whose_weekend_is_friday_and_saturday_works_on_sunday():
    saudi_arabia = BusinessCalendar("SA")
    assert saudi_arabia.is_business_day(D(2026, 3, 1))  # a Sunday
    assert not saudi_arabia.is_business_day(D(2026, 2, 27))  # a Friday


def test_without_a_calendar_business_days_are_monday_to_friday_holidays_included():
    days = [D(2026, 4, 27) + datetime.timedelta(days=n) for n in range(21)]  # 1, 8 and 14 May 2026 among them

    assert [MONDAY_TO_FRIDAY.is_business_day(day) for day in days] == [day.weekday() < 5 for day in days]
    assert business_days_between(D(2026, 4, 26), D(2026, 5, 17), calendar=MONDAY_TO_FRIDAY) == 15


def test_the_calendar_reads_with_its_count():
    assert business_days_text(10, FRANCE) == "10 business days (FR holiday calendar)"
    assert business_days_text(1, BusinessCalendar("DE", "BY")) == "1 business day (DE-BY holiday calendar)"
    assert business_days_text(10, MONDAY_TO_FRIDAY) == "10 business days (Monday to Friday, no holiday calendar)"


def test_the_calendars_are_the_libraries_countries_and_their_subdivisions():
    assert calendar_errors("FR", "") == {}
    assert calendar_errors("DE", "BY") == {}
    assert calendar_errors("", "") == {}


@pytest.mark.parametrize(
    ("country", "subdivision", "field", "message"),
    [
        (
            "XX",
            "",
            "calendar_country",
            "No holiday calendar is known for the country “XX”: give its ISO 3166-1 code in two capital letters, "
            "e.g. FR or DE.",
        ),
        (
            "fr",
            "",
            "calendar_country",
            "No holiday calendar is known for the country “fr”: give its ISO 3166-1 code in two capital letters, "
            "e.g. FR or DE.",
        ),
        (
            "DE",
            "ZZ",
            "calendar_subdivision",
            "DE has no subdivision “ZZ” in its holiday calendar; its subdivisions are: BB, BE, BW, BY, HB, HE, HH, "
            "MV, NI, NW, RP, SH, SL, SN, ST, TH, Augsburg.",
        ),
        ("MA", "01", "calendar_subdivision", "The calendar of MA has no subdivisions: leave the subdivision empty."),
        ("", "BY", "calendar_subdivision", "Give the country of the subdivision BY first."),
    ],
)
def test_an_unknown_calendar_is_refused_under_the_field_it_concerns(country, subdivision, field, message):
    assert calendar_errors(country, subdivision) == {field: message}


@pytest.mark.django_db
def test_a_contract_validates_its_calendar_and_keeps_it_in_its_history():
    from tests.factories import ContractFactory

    contract = ContractFactory(calendar_country="DE", calendar_subdivision="ZZ")
    with pytest.raises(ValidationError) as refused:
        contract.full_clean()
    assert list(refused.value.message_dict) == ["calendar_subdivision"]

    contract.calendar_subdivision = "BY"
    contract.full_clean()
    contract.save()
    assert contract.business_calendar == BusinessCalendar("DE", "BY")
    assert contract.terms.calendar == BusinessCalendar("DE", "BY")
    assert [(h.calendar_country, h.calendar_subdivision) for h in contract.history.order_by("history_id")] == [
        ("DE", "ZZ"),
        ("DE", "BY"),
    ]


@pytest.mark.django_db
def test_an_existing_contract_names_no_calendar_and_counts_monday_to_friday():
    from tests.factories import ContractFactory

    contract = ContractFactory()
    assert (contract.calendar_country, contract.calendar_subdivision) == ("", "")
    assert contract.business_calendar == MONDAY_TO_FRIDAY
