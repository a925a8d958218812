"""Why KPI data was refused, kept in no language and written in the reader's.

A reason is its English message (the catalogue's msgid, marked with gettext_noop) and its parameters;
it is written through the catalogue only when it is shown (`str()`, `readable_errors`), so an upload's
stored errors (KpiUpload.errors) read in French to a French reader and in English to an English one,
whoever uploaded the file. Dates, months and statement statuses are parameters of their own kind, shown
in the reader's format: ``{"date": "2026-10-02"}`` (with ``"time": "08:15"`` for an interval),
``{"month": "2026-10"}``, ``{"datetime": "2026-11-27T16:37:00+00:00"}``, ``{"statement_status": "approved"}``.
None of the reasons needs a plural or a context.

Errors stored before hold their reason as text (``"message"``): they are shown as they are.
"""

import datetime
import logging
from typing import NamedTuple

from django.utils import formats, timezone
from django.utils.translation import gettext

from config.formats import long_date, long_datetime
from sla_tracker.choices import StatementStatus

logger = logging.getLogger(__name__)


class Reason(NamedTuple):
    """A message id of the catalogue and its parameters (JSON values, see the module's docstring)."""

    msgid: str
    params: dict | None = None

    def __str__(self) -> str:
        return render(self.msgid, self.params)

    def as_dict(self) -> dict:
        return {"msgid": self.msgid, "params": self.params} if self.params else {"msgid": self.msgid}


def date_param(month: datetime.date, day: datetime.date | None) -> dict:
    """A day, or a whole month when ``day`` is None."""
    return {"date": day.isoformat()} if day else {"month": f"{month:%Y-%m}"}


def readable_errors(errors: list[dict]) -> list[dict]:
    """Stored errors (KpiUpload.errors) in row order, each with its ``message`` in the active language."""
    readable = [
        {
            "row": error.get("row"),
            "column": error.get("column"),
            "value": error.get("value"),
            "message": readable_reason(error),
        }
        for error in errors
    ]
    readable.sort(key=lambda error: (error["row"] is not None, error["row"] or 0))
    return readable


def readable_reason(stored: dict | str | None) -> str:
    """A stored reason (`stored_reason`, or text kept before) in the active language."""
    if isinstance(stored, dict) and "msgid" in stored:
        return render(stored["msgid"], stored.get("params"))
    if isinstance(stored, dict):
        return str(stored.get("message", ""))
    return stored or ""


def render(msgid: str, params: dict | None) -> str:
    """The message in the active language with its parameters; in English if its translation does not
    take the parameters (a catalogue being edited), never an error page."""
    translated = gettext(msgid)
    if not params:
        return translated
    values = {name: _param_text(value) for name, value in params.items()}
    try:
        return translated.format(**values)
    except (KeyError, IndexError, ValueError):
        logger.warning("The translation of %r does not take its parameters", msgid)
    try:
        return msgid.format(**values)
    except (KeyError, IndexError, ValueError):
        return msgid


def _param_text(value: object) -> str:
    if not isinstance(value, dict):
        return str(value)
    try:
        if "date" in value:
            text = long_date(datetime.date.fromisoformat(value["date"]))
            # An interval's time as files write it (08:15), not as the language tells the time (8:15 a.m.).
            return f"{text} {value['time']}" if "time" in value else text
        if "month" in value:
            return formats.date_format(datetime.date.fromisoformat(f"{value['month']}-01"), "YEAR_MONTH_FORMAT")
        if "datetime" in value:
            moment = timezone.localtime(datetime.datetime.fromisoformat(value["datetime"]))
            return long_datetime(moment)
        if "statement_status" in value:
            return str(StatementStatus(value["statement_status"]).label)
    except (TypeError, ValueError):
        pass
    return ", ".join(str(part) for part in value.values())
