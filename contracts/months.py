"""Calendar-month helpers shared by the apps (months are stored as their first day)."""

import datetime
import re

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(month: datetime.date, count: int) -> datetime.date:
    """The first day of the month `count` months after (or before) `month`'s month."""
    index = month.year * 12 + (month.month - 1) + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> datetime.date:
    """Parse "YYYY-MM" into the month's first day; ValueError names the bad input. The years 1 and 9999 are
    refused: the pages of a month name the months around it and its last day, which would fall outside the
    dates Python holds."""
    match = _MONTH_RE.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"{text!r} is not a month in the form YYYY-MM")
    if not datetime.MINYEAR < int(match.group(1)) < datetime.MAXYEAR:
        raise ValueError(f"{text!r} is not a month from 0002-01 to 9998-12")
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


def month_label(month: datetime.date) -> str:
    return f"{month:%Y-%m}"


def last_day_of_month(month: datetime.date) -> datetime.date:
    return add_months(month, 1) - datetime.timedelta(days=1)
