"""Dates written out: the first of a month is an ordinal in French ("1er septembre 2026")."""

import datetime
import zoneinfo

import pytest
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
    ],
)
def test_a_moment_written_out(language, moment, written):
    with translation.override(language):
        assert long_datetime(moment) == written


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
