"""Dates written out: the first of a month is an ordinal in French ("1er septembre 2026"); British English writes it
as its other days, day first ("1 Sep 2026")."""

import datetime
import zoneinfo

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import timezone, translation

from config.formats import long_date, long_datetime, month_name
from sla_tracker.services import exclusion_day_errors
from tests.factories import ContractFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("language", "day", "written"),
    [
        ("fr", datetime.date(2026, 9, 1), "1er septembre 2026"),
        ("fr", datetime.date(2026, 9, 2), "2 septembre 2026"),
        ("fr", datetime.date(2026, 9, 11), "11 septembre 2026"),
        ("en", datetime.date(2026, 9, 1), "Sept. 1, 2026"),
        ("en", datetime.date(2026, 9, 2), "Sept. 2, 2026"),
        ("en-gb", datetime.date(2026, 9, 1), "1 Sep 2026"),
        ("en-gb", datetime.date(2026, 9, 2), "2 Sep 2026"),
        ("en-gb", datetime.date(2025, 12, 31), "31 Dec 2025"),
    ],
)
def test_a_date_written_out(language, day, written):
    with translation.override(language):
        assert long_date(day) == written


@pytest.mark.parametrize(
    ("language", "month", "written"),
    [
        ("en", "2026-10", "October 2026"),
        ("fr", "2026-10", "octobre 2026"),
        ("fr", datetime.date(2026, 8, 17), "août 2026"),
    ],
)
def test_a_month_written_out_as_the_pages_name_it(language, month, written):
    with translation.override(language):
        assert month_name(month) == written
        assert Template("{% load ui %}{{ month|month_name }}").render(Context({"month": month})) == written


def test_a_text_that_is_not_a_month_is_refused_and_the_filter_shows_it_as_it_is():
    with pytest.raises(ValueError):
        month_name("2026-13")
    assert Template("{% load ui %}{{ month|month_name }}").render(Context({"month": "soon"})) == "soon"


@pytest.mark.parametrize(
    ("language", "moment", "written"),
    [
        ("fr", datetime.datetime(2026, 10, 1, 9, 30), "1er octobre 2026 09:30"),
        ("fr", datetime.datetime(2026, 10, 21, 9, 30), "21 octobre 2026 09:30"),
        ("en", datetime.datetime(2026, 10, 1, 9, 30), "Oct. 1, 2026, 9:30 a.m."),
        ("en-gb", datetime.datetime(2026, 10, 1, 9, 30), "1 Oct 2026, 9:30 a.m."),
        ("en-gb", datetime.datetime(2026, 10, 21, 14, 0), "21 Oct 2026, 2 p.m."),
    ],
)
def test_a_moment_written_out(language, moment, written):
    with translation.override(language):
        assert long_datetime(moment) == written


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("en", "Sept. 1, 2026 · 09/01/2026 · 12/31/2025 · Sept. 1, 2026, 9:30 a.m. · 09/01/2026 9:30 a.m."),
        ("en-gb", "1 Sep 2026 · 01/09/2026 · 31/12/2025 · 1 Sep 2026, 9:30 a.m. · 01/09/2026 9:30 a.m."),
        ("fr", "1er septembre 2026 · 01/09/2026 · 31/12/2025 · 1er septembre 2026 09:30 · 01/09/2026 09:30"),
    ],
)
def test_the_pages_date_formats_follow_the_language_british_english_day_first(language, written):
    """What the templates use (long_date, long_datetime, SHORT_DATE_FORMAT, SHORT_DATETIME_FORMAT): Django's formats
    of the language, en_GB's for British English."""
    template = Template(
        "{% load ui %}{{ day|long_date }} · {{ day|date:'SHORT_DATE_FORMAT' }} · {{ eve|date:'SHORT_DATE_FORMAT' }} · "
        "{{ moment|long_datetime }} · {{ moment|date:'SHORT_DATETIME_FORMAT' }}"
    )
    context = Context(
        {
            "day": datetime.date(2026, 9, 1),
            "eve": datetime.date(2025, 12, 31),
            "moment": datetime.datetime(2026, 9, 1, 7, 30, tzinfo=datetime.UTC),
        }
    )
    with translation.override(language), timezone.override(PARIS):
        assert template.render(context) == written


@pytest.mark.parametrize(
    ("language", "typed", "read"),
    [
        ("en-gb", "01/02/2026", datetime.date(2026, 2, 1)),
        ("en-gb", "31/12/2025", datetime.date(2025, 12, 31)),
        ("en-gb", "2026-02-01", datetime.date(2026, 2, 1)),
        ("en", "01/02/2026", datetime.date(2026, 1, 2)),
        ("fr", "01/02/2026", datetime.date(2026, 2, 1)),
    ],
)
def test_a_typed_date_is_read_day_first_in_british_english(language, typed, read):
    with translation.override(language):
        assert forms.DateField().clean(typed) == read


def test_a_month_first_date_is_refused_in_british_english():
    with translation.override("en-gb"), pytest.raises(ValidationError):
        forms.DateField().clean("12/31/2025")


def test_the_template_filters_write_a_moment_in_the_readers_time_zone():
    # 23:30 UTC on 30 September is 1 October in Paris: the day written is the reader's.
    moment = datetime.datetime(2026, 9, 30, 23, 30, tzinfo=datetime.UTC)
    template = Template("{% load ui %}{{ day|long_date }} · {{ moment|long_datetime }} · {{ missing|long_date }}.")
    with translation.override("fr"), timezone.override(PARIS):
        rendered = template.render(Context({"day": datetime.date(2026, 9, 1), "moment": moment, "missing": None}))
    assert rendered == "1er septembre 2026 · 1er octobre 2026 01:30 · ."


@pytest.mark.django_db
def test_a_message_names_the_first_of_a_month_as_french_writes_it():
    contract = ContractFactory(start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2027, 12, 31))
    with translation.override("fr"):
        errors = exclusion_day_errors(contract, datetime.date(2025, 12, 30), datetime.date(2026, 1, 2))
    assert "1er janvier 2026" in errors["start_date"][0]
