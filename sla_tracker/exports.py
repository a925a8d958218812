"""Downloads of the penalty report and of a statement: XLSX, CSV and a printable PDF.

Amounts are written as numbers (Decimal), never as formatted text, so a spreadsheet can sum them;
months are dates shown yyyy-mm in a workbook (they sort as dates) and "2026-04" in a CSV, where a full
date would read as a day. A waived line or adjustment gives its waiver (why, who, when) as the page does.
Totals are per currency: amounts in different currencies are never added together.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.child import INVALID_TITLE_REGEX

from contracts.months import month_label

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
PDF = "application/pdf"
MONEY_FORMAT = "#,##0.00"
MONTH_FORMAT = "yyyy-mm"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
AMOUNT_FIELDS = ("charges", "credits", "bonuses", "earn_backs", "adjustments", "net")
ZERO = Decimal("0.00")


class MonthCell(datetime.date):
    """A month, held as its first day: what the writers tell from a date that is a real day."""


def _month(day: datetime.date) -> MonthCell:
    return MonthCell(day.year, day.month, 1)


def _local(moment: datetime.datetime | None) -> datetime.datetime | None:
    """A moment in the app's time zone, to the minute, as the pages show it (a workbook holds no time zone)."""
    if moment is None:
        return None
    return timezone.localtime(moment).replace(tzinfo=None, second=0, microsecond=0)


def _waiver(item) -> list[Any]:
    """Why a waived line or adjustment was waived, who waived it and when, as the statement page shows it
    (nothing when it is not waived)."""
    if not item.waived:
        return [None, None, None]
    return [item.waiver_reason, str(item.waived_by) if item.waived_by else None, _local(item.waived_at)]


@dataclass
class CurrencyTotal:
    """The sums of one currency's statements."""

    currency: str
    statements: int = 0
    cap_reached: int = 0
    amounts: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(AMOUNT_FIELDS, ZERO))


def totals_by_currency(statements) -> list[CurrencyTotal]:
    totals: dict[str, CurrencyTotal] = {}
    for statement in statements:
        total = totals.setdefault(statement.currency, CurrencyTotal(statement.currency))
        total.statements += 1
        total.cap_reached += statement.cap_reached
        for name in AMOUNT_FIELDS:
            total.amounts[name] += getattr(statement, name)
    return [totals[currency] for currency in sorted(totals)]


# The report ---------------------------------------------------------------------------------------------


def _report_header() -> list[str]:
    return [
        _("Contract"),
        _("Title"),
        _("Vendor"),
        _("Month"),
        _("Status"),
        _("Currency"),
        _("Charges"),
        _("Credits"),
        _("Bonuses"),
        _("Earn-backs"),
        _("Adjustments"),
        _("Net"),
        _("Cap reached"),
    ]


def _report_row(statement) -> list[Any]:
    return [
        statement.contract.reference,
        statement.contract.title,
        statement.contract.vendor.name,
        _month(statement.month),
        statement.get_status_display(),
        statement.currency,
        *(getattr(statement, name) for name in AMOUNT_FIELDS),
        _("Yes") if statement.cap_reached else _("No"),
    ]


def _total_row(total: CurrencyTotal) -> list[Any]:
    label = _("Total %(currency)s") % {"currency": total.currency}
    return [
        label,
        "",
        "",
        None,
        "",
        total.currency,
        *(total.amounts[name] for name in AMOUNT_FIELDS),
        # A text like the rows' Yes/No: how many of the currency's statements reached the cap.
        _("%(reached)s of %(statements)s") % {"reached": total.cap_reached, "statements": total.statements},
    ]


def report_xlsx(statements) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Penalty report")[:31]
    _write_table(
        sheet,
        _report_header(),
        [_report_row(statement) for statement in statements],
        [_total_row(total) for total in totals_by_currency(statements)],
        money_columns=range(7, 13),
        date_columns=(4,),
    )
    return _save(workbook)


def report_csv(statements) -> bytes:
    rows = [_report_row(statement) for statement in statements]
    totals = [_total_row(total) for total in totals_by_currency(statements)]
    return _csv([_report_header(), *rows, *totals])


# A statement --------------------------------------------------------------------------------------------


def _line_header() -> list[str]:
    return [
        _("Service level"),
        _("Name"),
        _("Measured"),
        _("Expected"),
        _("Minimum"),
        _("Status"),
        _("Credit"),
        _("Credit waived"),
        _("Bonus"),
        _("Earn-back"),
        _("Explanation"),
        *_waiver_header(),
    ]


def _waiver_header() -> list[str]:
    return [_("Waiver"), _("Waived by"), _("Waived on")]


def _line_row(line) -> list[Any]:
    return [
        line.service_level.code,
        line.service_level.name,
        line.measured,
        line.terms.expected,
        line.terms.minimum,
        line.get_status_display(),
        line.charged_credit,
        line.waived_credit if line.waived else None,  # empty: not waived
        line.bonus,
        line.earn_back,
        line.readable_explanation,
        *_waiver(line),
    ]


def _statement_totals(details: dict[str, Any]) -> list[list[Any]]:
    """The statement's totals under the lines' Credit column; the credits and adjustments waived beside them,
    under the lines' Credit waived column, as the page shows them."""
    statement = details["statement"]
    rows = [
        (_("Charges"), statement.charges, ""),
        (_("Credits"), statement.credits, details["waived_credits"]),
        (_("Bonuses"), statement.bonuses, ""),
        (_("Earn-backs"), statement.earn_backs, ""),
        (_("Adjustments"), statement.adjustments, details["waived_adjustments"]),
        (_("Net"), statement.net, ""),
    ]
    return [
        [label, "", "", "", "", statement.currency, amount, waived, "", "", "", "", "", ""]
        for label, amount, waived in rows
    ]


def _adjustment_table(details: dict[str, Any]) -> list[list[Any]]:
    """Each adjustment carried into the statement, as the page and the PDF list them, under a title and
    a header (no adjustment: nothing): its amount as the totals count it (nothing once waived), the amount
    waived beside it, as for a line's credit."""
    statement = details["statement"]
    rows = [
        [
            _month(adjustment.origin.month),
            adjustment.service_level.code,
            adjustment.charged_amount,
            adjustment.waived_amount if adjustment.waived else None,  # empty: not waived
            statement.currency,
            adjustment.readable_reason,
            *_waiver(adjustment),
        ]
        for adjustment in details["adjustments"]
    ]
    if not rows:
        return []
    header = [
        _("Month recomputed"),
        _("Service level"),
        _("Amount"),
        _("Amount waived"),
        _("Currency"),
        _("Reason"),
        *_waiver_header(),
    ]
    return [[_("Adjustments carried in")], header, *rows]


def _statement_heading(statement) -> list[list[Any]]:
    return [
        [_("Contract"), statement.contract.reference, statement.contract.title],
        [_("Vendor"), statement.contract.vendor.name],
        [_("Month"), _month(statement.month)],
        [_("Status"), statement.get_status_display()],
        [_("Currency"), statement.currency],
        [_("Cap reached"), _("Yes") if statement.cap_reached else _("No")],
        [],
    ]


def statement_xlsx(details: dict[str, Any]) -> bytes:
    statement = details["statement"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(statement.contract.reference)
    for row in _statement_heading(statement):
        sheet.append([_xlsx_value(value) for value in row])
    sheet["B3"].number_format = MONTH_FORMAT
    sheet["A1"].font = Font(bold=True)
    start = sheet.max_row + 1
    _write_table(
        sheet,
        _line_header(),
        [_line_row(line) for line in details["lines"]],
        _statement_totals(details),
        money_columns=(7, 8, 9, 10),
        number_columns=(3, 4, 5),
        datetime_columns=(14,),
        first_row=start,
    )
    first = sheet.max_row + 2
    for offset, values in enumerate(_adjustment_table(details)):
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=first + offset, column=column, value=_xlsx_value(value))
            if offset < 2:  # the title and the header
                cell.font = Font(bold=True)
            elif column == 1:
                cell.number_format = MONTH_FORMAT
            elif column in (3, 4):
                cell.number_format = MONEY_FORMAT
            elif column == 9:  # waived on
                cell.number_format = DATETIME_FORMAT
    return _save(workbook)


def statement_csv(details: dict[str, Any]) -> bytes:
    statement = details["statement"]
    rows = [_line_row(line) for line in details["lines"]]
    adjustments = _adjustment_table(details)
    separator = [[]] if adjustments else []
    return _csv(
        [*_statement_heading(statement), _line_header(), *rows, *_statement_totals(details), *separator, *adjustments]
    )


def statement_pdf(details: dict[str, Any], request) -> bytes:
    """The printable statement procurement sends to the vendor (WeasyPrint, reading only the app's own
    static files: config.pdf)."""
    from config.pdf import render_pdf  # WeasyPrint loads slowly: only when a PDF is asked for

    html = render_to_string("sla_tracker/statement_pdf.html", details, request=request)
    return render_pdf(html, base_url=request.build_absolute_uri("/"))


# Writers ------------------------------------------------------------------------------------------------


def _write_table(
    sheet,
    header: list[str],
    rows: list[list[Any]],
    totals: list[list[Any]],
    *,
    money_columns=(),
    number_columns=(),
    date_columns=(),
    datetime_columns=(),
    first_row: int | None = None,
) -> None:
    """A header row, the rows, then the total rows in bold; numbers and dates keep their types."""
    header_row = first_row or sheet.max_row + (0 if sheet.max_row == 1 and sheet["A1"].value is None else 1)
    for column, title in enumerate(header, start=1):
        cell = sheet.cell(row=header_row, column=column, value=title)
        cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    for offset, values in enumerate([*rows, *totals], start=1):
        row = header_row + offset
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=_xlsx_value(value))
            if column in money_columns:
                cell.number_format = MONEY_FORMAT
            elif column in date_columns:
                cell.number_format = MONTH_FORMAT
            elif column in datetime_columns:
                cell.number_format = DATETIME_FORMAT
            elif column in number_columns:
                cell.number_format = "0.00##"
            if offset > len(rows):
                cell.font = Font(bold=True)
    for column, title in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = max(12, min(len(str(title)) + 4, 40))


def _xlsx_value(value: Any) -> Any:
    """``value`` as a workbook takes it: a text without the control characters a worksheet refuses (a reason
    pasted from a word processor holds its line breaks as vertical tabs: they become line breaks)."""
    if not isinstance(value, str):
        return value
    return ILLEGAL_CHARACTERS_RE.sub(lambda match: "\n" if match.group() == "\v" else "", value)


def _sheet_title(text: str) -> str:
    """``text`` as a sheet's name: at most 31 characters, none of those a workbook refuses in one (a contract
    reference such as "BPO/2026/01" names its sheet "BPO-2026-01")."""
    return INVALID_TITLE_REGEX.sub("-", text)[:31]


def _save(workbook: Workbook) -> bytes:
    """The workbook's bytes. Every cell is a value: openpyxl takes a text starting with "=" (a waiver's reason
    "= agreed at the steering committee") for a formula, which the spreadsheet would refuse or evaluate."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(rows: list[list[Any]]) -> bytes:
    """UTF-8 with a byte-order mark so spreadsheet programs read accents; months as 2026-04, days as ISO
    dates, moments as 2026-04-03 14:05 (the app's time zone), amounts as 1234.50, or, for a French reader,
    as French spreadsheets read CSV: ";" between fields and 1234,50; a text a spreadsheet would take for a
    formula after an apostrophe."""
    french = (get_language() or "en").startswith("fr")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if french else ",")
    for row in rows:
        writer.writerow(["" if value is None else _csv_value(value, french) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode()


# What a spreadsheet opening a CSV file takes for the start of a formula (OWASP, "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Any, french: bool) -> Any:
    if isinstance(value, str):
        # A text typed by a user (a waiver's reason "=HYPERLINK(…)") is shown as typed, not evaluated: a leading
        # apostrophe is how spreadsheets mark a cell as text.
        return "'" + value if value.startswith(_FORMULA_STARTS) else value
    if isinstance(value, MonthCell):
        return month_label(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if french and isinstance(value, Decimal | float):
        return str(value).replace(".", ",")
    return value
