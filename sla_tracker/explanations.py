"""A statement line's explanation in the reader's language.

The engine writes each explanation in English and gives its parts as notes (an English template
and its arguments: amounts, figures, words; see ``sla_tracker.engine.explain``), which the close
stores with the line. The pages write the notes again in the active language: the template and
the words through the translation catalogue, amounts and figures as that language writes numbers.
In English they keep the engine's words and figures and write the amounts as every page does
(``money``: a no-break space after a currency code, "−" before a negative amount), where the engine's
own plain text, the one its JSON gives, has an ordinary space and "-". The days and months the engine
gives as ISO text ("provisional until 2026-12-08", "earn-back of the 2026-01 credit") are written as the
pages write them ("provisional until Dec. 8, 2026", "earn-back of the January 2026 credit"), in the
reader's language.
"""

from __future__ import annotations

import datetime
import logging
import re
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import get_language, gettext, pgettext

from accounts.templatetags.ui import money
from config.formats import long_date, month_name
from sla_tracker.engine import explain, round_half_up

logger = logging.getLogger(__name__)

# The engine's arguments that are days or months, as text: one, or several separated by ", " (excluded days,
# the months a termination right lists). Only these names, and only text of that form, are written out.
_DAY_ARGUMENTS = frozenset({"day", "days"})
_MONTH_ARGUMENTS = frozenset({"month", "current", "first", "last", "since", "listed"})
_DAYS = re.compile(r"\d{4}-\d{2}-\d{2}(, \d{4}-\d{2}-\d{2})*")
_MONTHS = re.compile(r"\d{4}-\d{2}(, \d{4}-\d{2})*")


def readable(english: str, notes: list[dict[str, Any]] | None) -> str:
    """The explanation in the active language: ``english`` as stored when the line has no notes
    (computed before they were stored), else the notes rendered."""
    if not notes:
        return english
    try:
        if (get_language() or "en").startswith("en"):
            return explain.english(tuple(_english_note(item) for item in notes))
        return _parts_separator().join(_note(item) for item in notes)
    except (KeyError, IndexError, ValueError, TypeError):  # a catalogue or stored note out of step
        logger.exception("explanation notes not rendered; the English text is shown")
        return english


def _english_note(item: dict[str, Any]) -> explain.Note:
    """A stored note as the engine's, its amounts already written by ``money`` and its days and months as the
    pages write them (the engine writes a text argument as it is): the engine's English with the pages' amounts
    and dates."""
    args = tuple((name, _english_arg(_calendar_text(name, value))) for name, value in item.get("args", {}).items())
    return explain.Note(item["template"], args, tuple(_english_note(detail) for detail in item.get("detail", ())))


def _english_arg(value: Any) -> explain.Arg:
    if isinstance(value, dict):
        if "amount" in value:
            return money(value["amount"], value["currency"], exact=True)
        if "figure" in value:
            return explain.Figure(Decimal(value["figure"]), value["unit"])
        if "word" in value:
            return explain.Word(value["word"])
        if "ordinal" in value:
            return explain.Ordinal(value["ordinal"])
        if "note" in value:
            return _english_note(value["note"])
        raise ValueError(f"unknown explanation argument {value!r}")
    return value


def _calendar_text(name: str, value: Any) -> Any:
    """A day or month argument ("2026-12-08", "2026-10", or several separated by ", ") written out in the
    active language; any other argument as it is."""
    if not isinstance(value, str):
        return value
    try:
        if name in _DAY_ARGUMENTS and _DAYS.fullmatch(value):
            return ", ".join(long_date(datetime.date.fromisoformat(day)) for day in value.split(", "))
        if name in _MONTH_ARGUMENTS and _MONTHS.fullmatch(value):
            return ", ".join(month_name(month) for month in value.split(", "))
    except ValueError:  # not a day or month after all (e.g. "2026-13"): as it is
        pass
    return value


def _note(item: dict[str, Any]) -> str:
    args = {name: _arg(_calendar_text(name, value)) for name, value in item.get("args", {}).items()}
    text = gettext(item["template"]).format(**args)
    if item.get("detail"):
        text += " (" + _parts_separator().join(_note(detail) for detail in item["detail"]) + ")"
    return text


def _parts_separator() -> str:
    # French sets a narrow no-break space before a semicolon.
    return pgettext("between the parts of an explanation", "; ")


def _arg(value: Any) -> str:
    if isinstance(value, dict):
        if "amount" in value:
            return money(value["amount"], value["currency"], exact=True)
        if "figure" in value:
            shown = number_format(Decimal(value["figure"]))
            return f"{shown}\u00a0%" if value["unit"] == "%" else shown
        if "word" in value:
            return gettext(value["word"])
        if "ordinal" in value:
            return gettext("{number}th").format(number=value["ordinal"])
        if "note" in value:
            return _note(value["note"])
        raise ValueError(f"unknown explanation argument {value!r}")
    return str(value)


def measured_as_explained(measured: Decimal | None, notes: list[dict[str, Any]] | None) -> Decimal | None:
    """A line's measured value with the decimals its explanation writes it with: the figure the explanation
    compares ("18.1493 → 18.1 rounded to 1 decimal", "79.9977 % < 80 %"), where 2 decimals would read as
    another value (18.15, which rounds to 18.2; 80.00, which meets 80 %); else the value with 2 decimals."""
    if measured is None:
        return None
    try:
        value = notes[0]["args"]["value"]
        if "note" in value:  # the value rounded to the service level's precision: the value before it
            value = value["note"]["args"]["value"]
        return Decimal(value["figure"])
    except (IndexError, KeyError, TypeError, ArithmeticError):  # no notes, or a line not measured
        return round_half_up(Decimal(measured), 2)
