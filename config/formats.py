"""Dates written out in the reader's language.

Django's French long date writes the first of a month as a cardinal ("1 septembre 2026"); French writes it as an
ordinal ("1er septembre 2026"). The first day of a month therefore has formats of its own, which each language
translates (English keeps Django's)."""

import datetime
import re

from django.utils.formats import date_format
from django.utils.translation import pgettext

MONTH_TEXT = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def long_date(day: datetime.date) -> str:
    """``day`` written out: "Sept. 1, 2026", in French "1er septembre 2026"."""
    if day.day == 1:
        # Translators: a Django date format (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date)
        # for the first day of a month; French: j\e\r F Y.
        return date_format(day, pgettext("date format of the first day of a month", "N j, Y"))
    return date_format(day)


def month_name(month: datetime.date | str | object) -> str:
    """A month written out as the pages name one: "October 2026", in French "octobre 2026". ``month`` is a date (its
    month) or a month as the data keeps it ("2026-10", the engine's months); ValueError for anything else."""
    if not isinstance(month, datetime.date):
        text = str(month)
        if not MONTH_TEXT.fullmatch(text):
            raise ValueError(f"not a month in the form YYYY-MM: {text!r}")
        month = datetime.date.fromisoformat(f"{text}-01")
    return date_format(month.replace(day=1), "YEAR_MONTH_FORMAT")


def long_datetime(moment: datetime.datetime) -> str:
    """``moment`` (already in the reader's time zone) written out: "Sept. 1, 2026, 9:30 a.m.", in French
    "1er septembre 2026 09:30"."""
    if moment.day == 1:
        # Translators: a Django date and time format for a moment on the first day of a month; French: j\e\r F Y H:i.
        return date_format(moment, pgettext("date and time format of the first day of a month", "N j, Y, P"))
    return date_format(moment, "DATETIME_FORMAT")
