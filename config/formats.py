"""Dates written out in the reader's language.

Django's French long date writes the first of a month as a cardinal ("1 septembre 2026"); French writes it as an
ordinal ("1er septembre 2026"). The first day of a month therefore has formats of its own, which a language's
catalogue gives where it writes that day differently from the others (French). A language whose catalogue leaves
them untranslated writes the first of a month with its ordinary formats, Django's DATE_FORMAT and DATETIME_FORMAT
of that language: "Sept. 1, 2026" in American English ("en"), "1 Sep 2026" in British English ("en-gb"), which
needs no catalogue of its own for that. (The English source of these formats is American English's own.)"""

import datetime
import re

from django.utils.formats import date_format
from django.utils.translation import pgettext

# The English source of the first-of-month formats: what pgettext gives back when a language does not translate them.
_FIRST_DAY_SOURCE = "N j, Y"
_FIRST_MOMENT_SOURCE = "N j, Y, P"
MONTH_TEXT = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def long_date(day: datetime.date) -> str:
    """``day`` written out: "Sept. 1, 2026", in British English "1 Sep 2026", in French "1er septembre 2026"."""
    if day.day == 1:
        # Translators: a Django date format (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date)
        # for the first day of a month; French: j\e\r F Y. Leave it untranslated where the first of a month is
        # written as the other days: the language's own DATE_FORMAT is then used.
        first = pgettext("date format of the first day of a month", "N j, Y")
        if first != _FIRST_DAY_SOURCE:
            return date_format(day, first)
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
    """``moment`` (already in the reader's time zone) written out: "Sept. 1, 2026, 9:30 a.m.", in British English
    "1 Sep 2026, 9:30 a.m.", in French "1er septembre 2026 09:30"."""
    if moment.day == 1:
        # Translators: a Django date and time format for a moment on the first day of a month; French: j\e\r F Y H:i.
        # Leave it untranslated where the first of a month is written as the other days (DATETIME_FORMAT is used).
        first = pgettext("date and time format of the first day of a month", "N j, Y, P")
        if first != _FIRST_MOMENT_SOURCE:
            return date_format(moment, first)
    return date_format(moment, "DATETIME_FORMAT")
