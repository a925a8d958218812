"""A statement line's explanation in the reader's language.

The engine writes each explanation in English and gives its parts as notes (an English template
and its arguments: amounts, figures, words; see ``sla_tracker.engine.explain``), which the close
stores with the line. The pages write the notes again in the active language: the template and
the words through the translation catalogue, amounts and figures as that language writes numbers.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import get_language, gettext, pgettext

from accounts.templatetags.ui import money

logger = logging.getLogger(__name__)


def readable(english: str, notes: list[dict[str, Any]] | None) -> str:
    """The explanation in the active language: ``english`` as stored when the interface is in
    English or the line has no notes (computed before they were stored), else the notes rendered."""
    if not notes or (get_language() or "en").startswith("en"):
        return english
    try:
        return _parts_separator().join(_note(item) for item in notes)
    except (KeyError, IndexError, ValueError, TypeError):  # a catalogue or stored note out of step
        logger.exception("explanation notes not rendered; the English text is shown")
        return english


def _note(item: dict[str, Any]) -> str:
    args = {name: _arg(value) for name, value in item.get("args", {}).items()}
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
