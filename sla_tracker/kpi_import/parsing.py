"""Parsing of the dates and numbers vendors put in KPI packs, in the formats they come in.

Pure functions, no Django: each returns the parsed value or raises ValueError.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
# A date followed by a time of day: "2026-03-01 08:15", "01/03/2026 08:15:00", "2026-03-01T08:15".
_DATE_AND_TIME = re.compile(r"^(\S+?)(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_PLAIN_INTEGER = re.compile(r"^\d+$")
# What Excel stores a date (and time) as: days since 1899-12-30, e.g. "45678" for 21 January 2025, which a
# cell formatted as text or as a number shows instead of the date.
_EXCEL_SERIAL = re.compile(r"^(\d{5})(?:[.,]\d+)?$")
_EXCEL_SERIALS = range(25569, 73051)  # 1 January 1970 to 31 December 2099
# A number whose one mark may group thousands or be the decimal mark: "1,234", "2.500" (not "0.500").
_ONE_GROUP = re.compile(r"[1-9]\d{0,2}[.,]\d{3}")
_NUMBER_TEXT = re.compile(r"[\d.,]+")
# An integer part grouped in thousands with this mark: "1.234.567", "1,234".
_GROUPED = {mark: re.compile(r"\d{1,3}(?:" + re.escape(mark) + r"\d{3})+") for mark in (",", ".")}
# Spaces vendors use as thousands separators: plain, non-breaking, narrow non-breaking, thin; and the
# Swiss apostrophe.
_GROUPING_MARKS = str.maketrans("", "", " \u00a0\u202f\u2009'’")


class FormulaWithoutValue(str):
    """A formula cell of an Excel file saved without its computed value (written by a program, never
    opened in Excel): its text is the formula, for the error report."""


class AmbiguousNumber(ValueError):
    """One "," or "." followed by exactly three digits ("1,234") where it may group thousands or be the
    decimal mark: nothing says which mark is the decimal one, or it is the mark the file's convention
    groups thousands with ("1.250" in a ";" file, whose decimals would be "1,25", may still be 1.25 from a
    program that writes decimal points). It may be a thousand and more, or a decimal."""

    def __init__(self, text: str, whole: Decimal, decimal: Decimal) -> None:
        super().__init__(f"{text!r} is ambiguous")
        self.whole, self.decimal = whole, decimal


class ThousandsMarkAsDecimal(ValueError):
    """A decimal written with the mark the file uses to group thousands ("12.5" where decimals are "12,5")."""

    def __init__(self, text: str, mark: str, rewritten: str) -> None:
        super().__init__(f"{text!r}: {mark!r} groups thousands here")
        self.mark, self.rewritten = mark, rewritten


class MonthFirstDate(ValueError):
    """A date written as day/month/year that is no date read day first but is one read month first
    ("03/13/2026": there is no 13th month, and 13 March is a day): most likely a month-first date."""


def parse_period(value: object) -> tuple[datetime.date, datetime.date | None]:
    """(first day of the month, day) of a date cell; a month ("2025-01", "01/2025") gives day None.

    Accepts date and datetime cells (Excel), ISO dates, and day-first dates (dd/mm/yyyy, dd.mm.yyyy,
    dd-mm-yyyy). Month-first dates are never guessed: one that can only be month-first raises MonthFirstDate.
    """
    if isinstance(value, datetime.datetime):
        if value.time() != datetime.time(0, 0):
            raise ValueError("a date and time, not a day")
        value = value.date()
    if isinstance(value, datetime.date):
        return value.replace(day=1), value
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValueError("empty")
    if match := _ISO_DATE.match(text):
        year, month, day = match.groups()
    elif match := _DAY_FIRST.match(text):
        day, month, year = match.groups()
        if int(month) > 12 and _is_day(int(year), int(day), int(month)):
            raise MonthFirstDate(f"{text!r} is month first")
    elif match := _ISO_MONTH.match(text) or _MONTH_YEAR.match(text):
        first, second = match.groups()
        year, month = (first, second) if len(first) == 4 else (second, first)
        return datetime.date(int(year), int(month), 1), None
    else:
        raise ValueError(f"{text!r} is not a date")
    day_value = datetime.date(int(year), int(month), int(day))
    return day_value.replace(day=1), day_value


def _is_day(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def looks_like_excel_serial(value: object) -> bool:
    """Whether a date cell that is not a date holds what looks like an Excel date serial number (from 1970 to
    2099, with or without a time of day): a number cell, or its digits stored as text. It is not read as a
    date: whether the workbook counts from 1900 or 1904 is not in the cell, so its fix is the file's."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return int(value) in _EXCEL_SERIALS
    match = _EXCEL_SERIAL.match(str(value).strip()) if isinstance(value, str) else None
    return bool(match) and int(match.group(1)) in _EXCEL_SERIALS


def split_time(value: object) -> tuple[object, int | None]:
    """A date cell's date part and its time of day in minutes after midnight, None without a time.

    "2026-03-01 08:15" → ("2026-03-01", 495); an Excel datetime → (its date, its minutes), so a date
    cell of Excel (a datetime at midnight) gives 0. The date part is left to `parse_period`. ValueError
    for a time that is not a whole minute of the day (intervals start on a minute).
    """
    if isinstance(value, datetime.datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1_000_000
        # Excel stores a time as a fraction of a day: 08:10 may read back a millisecond off.
        minutes = round(seconds / 60)
        if abs(seconds - minutes * 60) > 1 or minutes >= 24 * 60:
            raise ValueError("not a whole minute of the day")
        return value.date(), minutes
    if not isinstance(value, str) or not (match := _DATE_AND_TIME.match(value.strip())):
        return value, None
    date_text, hours, minutes, seconds, fraction = match.groups()
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"{value!r} is not a time of day")
    if (seconds and int(seconds)) or (fraction and int(fraction)):
        raise ValueError("not a whole minute")
    return date_text, int(hours) * 60 + int(minutes)


def parse_time_of_day(value: object) -> int | None:
    """The minutes after midnight of a time cell ("08:15", "8:15:00", an Excel time), None when empty.

    ValueError for anything else, or a time that is not a whole minute of the day.
    """
    if isinstance(value, datetime.time):
        value = datetime.datetime.combine(datetime.date.min, value)
    if isinstance(value, datetime.datetime):
        return split_time(value)[1]
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    minutes = split_time(f"2000-01-01 {text}")[1]
    if minutes is None:
        raise ValueError(f"{text!r} is not a time of day")
    return minutes


def parse_number(value: object, *, decimal_comma: bool | None = None) -> Decimal:
    """A Decimal from a number cell or text such as "1 234,5", "1.234,5", "1,234.5" or "12,5".

    With both "," and "." present the last one is the decimal mark. With one kind present more than
    once it groups thousands. A single mark is read as `decimal_comma` says the decimals are written (a
    ";"-separated CSV writes "12,5"; a ","-separated one "12.5"): the other mark groups thousands, and a
    decimal written with it ("12.5" where decimals are "12,5") raises ThousandsMarkAsDecimal. Without a
    convention (None) a single mark is the decimal mark. Either way, a single mark that is not the
    convention's decimal mark and is followed by exactly three digits ("1,234", "2.500"; "1.250" where
    decimals are "12,5") raises AmbiguousNumber: money-grade data is not guessed.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean, not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip().translate(_GROUPING_MARKS) if value is not None else ""
        if _PLAIN_INTEGER.match(text):
            return Decimal(text)
        number = _parse_text_number(text, decimal_comma)
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _parse_text_number(text: str, decimal_comma: bool | None) -> Decimal:
    sign = ""
    if text[:1] in ("+", "-"):
        sign, text = text[0], text[1:]
    if not text or not _NUMBER_TEXT.fullmatch(text):
        raise ValueError(f"{text!r} is not a number")
    decimal_mark, group_mark = _marks(text, decimal_comma)
    if group_mark:
        integer_part = text.split(decimal_mark)[0] if decimal_mark else text
        if not _GROUPED[group_mark].fullmatch(integer_part):
            raise ValueError(f"{text!r} has misplaced thousands separators")
        text = text.replace(group_mark, "")
    if decimal_mark:
        if text.count(decimal_mark) != 1:
            raise ValueError(f"{text!r} has more than one decimal mark")
        text = text.replace(decimal_mark, ".")
    try:
        return Decimal(sign + text)
    except InvalidOperation as error:
        raise ValueError(f"{text!r} is not a number") from error


def _marks(text: str, decimal_comma: bool | None) -> tuple[str | None, str | None]:
    """(decimal mark, thousands mark) used in `text`, either may be None."""
    has_comma, has_dot = "," in text, "." in text
    if has_comma and has_dot:
        return (",", ".") if text.rfind(",") > text.rfind(".") else (".", ",")
    if not (has_comma or has_dot):
        return None, None
    mark = "," if has_comma else "."
    if text.count(mark) > 1:
        return None, mark
    if decimal_comma is not None and (mark == ",") == decimal_comma:
        return mark, None
    if _ONE_GROUP.fullmatch(text):
        whole = Decimal(text.replace(mark, ""))
        raise AmbiguousNumber(text, whole, whole / 1000)
    if decimal_comma is None:
        return mark, None
    raise ThousandsMarkAsDecimal(text, mark, text.replace(mark, "," if decimal_comma else "."))
