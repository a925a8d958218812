"""Streaming readers of KPI packs: CSV (`,`, `;` or tab; UTF-8 with or without BOM) and .xlsx.

`open_table` returns the header row and a generator of data rows, so memory does not grow with the
file's size. Fully empty rows are skipped; row numbers are the ones a spreadsheet shows (a CSV's
"sep=" line, which Excel hides, is not counted). The header is the first non-empty row, unless the
rows above the data hold a title or a group row: then it is the first row of several cells followed
by a data row (`Table.header_row` says which). A header written over two rows (a column merged down both
above others under a merged group) takes the upper row's text where the lower row has none.
"""

import codecs
import contextlib
import csv
import datetime
import io
import itertools
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext_noop

from sla_tracker.kpi_import.parsing import FormulaWithoutValue
from sla_tracker.kpi_import.reasons import Reason

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Files sent instead of a KPI pack, known by their first bytes: a whole sentence each, as the kind's
# article and gender differ between languages. A PDF's header may come after a few bytes of junk.
_PDF_MAGIC, _PDF_HEADER_WITHIN = b"%PDF-", 1024
_NOT_A_PACK = (
    (
        (b"\x89PNG\r\n\x1a\n",),
        gettext_noop("The file is a PNG image, not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file."),
    ),
    (
        (b"\xff\xd8\xff",),
        gettext_noop("The file is a JPEG image, not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file."),
    ),
    (
        (b"GIF87a", b"GIF89a"),
        gettext_noop("The file is a GIF image, not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file."),
    ),
)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# An Excel workbook encrypted by a password or a sensitivity label is an OLE2 file holding this stream.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# The largest [Content_Types].xml read to tell a workbook from another ZIP (a real one is a few kilobytes).
_CONTENT_TYPES_MAX_BYTES = 1024 * 1024
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = (";", ",", "\t")
# Excel's first line naming the separator of a CSV: "sep=;".
_SEPARATOR_LINE = re.compile(r"^sep=(.)$", re.IGNORECASE)
# The start of a web page or an XML spreadsheet saved with an Excel extension.
_MARKUP_STARTS = (b"<!doctype", b"<html", b"<table", b"<?xml", b"<head", b"<body", b"<meta")
# How many non-empty rows the header is looked for in (a title, a group row… above it).
_HEADER_SEARCH_ROWS = 10
_DATA_START = re.compile(r"^\s*[+-]?\d")
# Excel shows 15 significant digits of a number cell: 23017.199999999997 is shown 23017.2.
_EXCEL_DIGITS = 15
# Date formats parts that are not date codes: quoted text, [colours or locales], escaped characters.
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


class UnreadableFile(Exception):
    """The file as a whole is refused (empty, too large, not CSV or Excel, not UTF-8); nothing is read."""

    def __init__(self, message: Reason) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass
class Table:
    """A KPI pack opened for reading: its headers and its data rows as (row number, cells)."""

    headers: list[str]
    rows: Iterator[tuple[int, list]]
    file_format: str
    delimiter: str | None = None
    header_row: int = 1
    sheet: str | None = None

    @property
    def decimal_comma(self) -> bool | None:
        """A ";"-separated CSV writes decimals with ","; a ","-separated one with "."; a tab-separated one
        and Excel's text cells may use either (None: a number such as "1,234" is ambiguous there)."""
        if self.delimiter in (";", ","):
            return self.delimiter == ";"
        return None


def check_size(size: int) -> None:
    limit = settings.KPI_UPLOAD_MAX_BYTES
    if size == 0:
        raise UnreadableFile(Reason(gettext_noop("The file is empty.")))
    if size > limit:
        raise UnreadableFile(
            Reason(
                gettext_noop("The file is {size} MB; the limit is {limit} MB. Split it by month and upload the parts."),
                {"size": round(size / 1024 / 1024, 1), "limit": limit // 1024 // 1024},
            )
        )


def max_uncompressed_bytes() -> int:
    """The largest an Excel file may grow to once unzipped: KPI_UPLOAD_MAX_UNCOMPRESSED_BYTES (by default
    ten times the upload limit: a real workbook compresses about five to ten times)."""
    return settings.KPI_UPLOAD_MAX_UNCOMPRESSED_BYTES


@contextlib.contextmanager
def open_table(file: BinaryIO) -> Iterator[Table]:
    """Open a CSV or .xlsx file (binary, seekable) for streaming; UnreadableFile when it is neither."""
    file.seek(0)
    head = file.read(_SNIFF_BYTES)
    file.seek(0)
    if not head.strip().lstrip(codecs.BOM_UTF8).strip():
        raise UnreadableFile(Reason(gettext_noop("The file is empty.")))
    if head.startswith(_ZIP_MAGIC):
        with _open_xlsx(file) as table:
            yield table
        return
    if head.startswith(_OLE_MAGIC):
        raise UnreadableFile(_ole_reason(file, head))
    if not_a_pack := _binary_reason(head):
        raise UnreadableFile(not_a_pack)
    if head.lstrip(codecs.BOM_UTF8).lstrip()[:20].lower().startswith(_MARKUP_STARTS):
        raise UnreadableFile(
            Reason(
                gettext_noop(
                    "The file is a web page (HTML or XML), neither CSV nor Excel (.xlsx): open it in Excel and "
                    "save it as .xlsx or CSV."
                )
            )
        )
    with _open_csv(file, head) as table:
        yield table


def _binary_reason(head: bytes) -> Reason | None:
    """What a file that is not text is (an image, a PDF, UTF-16 text, any binary file), by its first bytes;
    None for text."""
    for magics, message in _NOT_A_PACK:
        if head.startswith(magics):
            return Reason(message)
    if _PDF_MAGIC in head[:_PDF_HEADER_WITHIN]:
        return Reason(
            gettext_noop("The file is a PDF document, not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file.")
        )
    if head.startswith(_UTF16_BOMS):
        return Reason(gettext_noop("The file is UTF-16 text (Excel's “Unicode text”): save it as CSV UTF-8 or .xlsx."))
    if b"\x00" in head:
        return Reason(
            gettext_noop("The file is a binary file, not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file.")
        )
    return None


def _ole_reason(file: BinaryIO, head: bytes) -> Reason:
    """Why an OLE2 (compound) file is refused: an encrypted workbook (its streams are named in the first
    sector of its directory, found from the header), else an Excel 97–2003 workbook."""
    sector_size = 1 << int.from_bytes(head[30:32], "little")
    first_directory_sector = int.from_bytes(head[48:52], "little")
    directory = b""
    if sector_size in (512, 4096):
        file.seek((first_directory_sector + 1) * sector_size)
        directory = file.read(sector_size)
        file.seek(0)
    if _ENCRYPTED_PACKAGE in directory:
        return Reason(
            gettext_noop(
                "The workbook is encrypted (by a password or a sensitivity label): save an unprotected copy as "
                ".xlsx or CSV UTF-8."
            )
        )
    return Reason(gettext_noop("The file is an old Excel .xls workbook: save it as .xlsx or CSV UTF-8."))


@contextlib.contextmanager
def _open_csv(file: BinaryIO, head: bytes) -> Iterator[Table]:
    try:
        head_text = head.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the sniffing window is not an encoding error.
        if error.start < len(head) - 4:
            raise UnreadableFile(
                Reason(gettext_noop("The file is not UTF-8 text: save it as CSV UTF-8 or as .xlsx."))
            ) from error
        head_text = head[: error.start].decode("utf-8-sig")
    lines = head_text.splitlines()
    separator = _SEPARATOR_LINE.match(lines[0].strip()) if lines else None
    if separator:
        lines = lines[1:]
    if len(head) == _SNIFF_BYTES:
        lines = lines[:-1]  # the last line may be cut by the sniffing window
    delimiter = separator.group(1) if separator else _sniff_delimiter(lines)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        if separator:
            text.readline()
        reader = csv.reader(text, delimiter=delimiter)
        header_row, headers, rows = _split_header(_csv_rows(reader))
        yield Table(headers=headers, rows=rows, file_format="csv", delimiter=delimiter, header_row=header_row)
    finally:
        text.detach()  # closing the wrapper would close the caller's file


def _sniff_delimiter(lines: list[str]) -> str:
    """The separator that splits the header row (found as `_split_header` finds it) into the most cells."""
    sample = [line for line in lines if line.strip()][: _HEADER_SEARCH_ROWS + 1]
    best, best_width = ",", 0
    for delimiter in _DELIMITERS:
        try:
            rows = [cells for cells in csv.reader(sample, delimiter=delimiter) if "".join(cells).strip()]
        except csv.Error:
            continue
        if not rows:
            continue
        width = sum(1 for cell in rows[_header_index(rows)] if cell.strip())
        if width > best_width:
            best, best_width = delimiter, width
    return best


def _csv_rows(reader) -> Iterator[tuple[int, list]]:
    # Numbered by record, as a spreadsheet shows them: a quoted cell with line breaks is one row.
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if "".join(cells).strip():  # not a blank line
                yield number, cells
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            Reason(
                gettext_noop("The file is not UTF-8 text (after row {line}): save it as CSV UTF-8 or as .xlsx."),
                {"line": number},
            )
        ) from error
    except csv.Error as error:
        raise UnreadableFile(
            Reason(gettext_noop("Row {line} is not valid CSV: {error}"), {"line": number + 1, "error": str(error)})
        ) from error


@contextlib.contextmanager
def _open_xlsx(file: BinaryIO) -> Iterator[Table]:
    from openpyxl import load_workbook

    _check_package(file)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
        # The same sheet again with its formulas: only to find the formula cells saved without a value.
        formulas = load_workbook(file, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise UnreadableFile(Reason(gettext_noop("The file is neither CSV nor Excel (.xlsx)."))) from error
    try:
        sheet = _sheet_to_read(workbook)
        if sheet is None:
            raise UnreadableFile(Reason(gettext_noop("The workbook has no visible worksheet.")))
        formula_sheet = formulas[sheet.title]
        # The dimension a program recorded may be wrong (A1:A1, B2:C3…): read every row and column.
        sheet.reset_dimensions()
        formula_sheet.reset_dimensions()
        header_row, headers, rows = _split_header(_xlsx_rows(sheet, formula_sheet))
        yield Table(headers=headers, rows=rows, file_format="xlsx", header_row=header_row, sheet=sheet.title)
    finally:
        workbook.close()
        formulas.close()


def _check_package(file: BinaryIO) -> None:
    """Before a ZIP is parsed as a workbook, refuse one that is not an .xlsx (an OpenDocument or binary
    workbook, any other archive), and a workbook that unzips to more than the bound (a "zip bomb": a small
    file holding a huge sheet would take the server's memory)."""
    try:
        with zipfile.ZipFile(file) as archive:
            size = sum(entry.file_size for entry in archive.infolist())
            not_a_workbook = _package_reason(archive)
    # An entry encrypted or compressed in a way Python does not read: RuntimeError, NotImplementedError.
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError) as error:
        raise UnreadableFile(Reason(gettext_noop("The file is neither CSV nor Excel (.xlsx)."))) from error
    finally:
        file.seek(0)
    if not_a_workbook:
        raise UnreadableFile(not_a_workbook)
    limit = max_uncompressed_bytes()
    if size > limit:
        raise UnreadableFile(
            Reason(
                gettext_noop(
                    "The workbook unzips to {size} MB, more than the {limit} MB allowed: remove what is not "
                    "KPI data (images, other sheets, long texts) or save it as CSV."
                ),
                {"size": round(size / 1024 / 1024, 1), "limit": limit // 1024 // 1024},
            )
        )


def _package_reason(archive: zipfile.ZipFile) -> Reason | None:
    """Why a ZIP is not an .xlsx: its parts name no workbook of the types openpyxl reads (.xlsx, .xlsm
    and their templates), as openpyxl finds it. None for a workbook."""
    from openpyxl.xml.constants import XLSM, XLSX, XLTM, XLTX

    names = set(archive.namelist())
    content_types = b""
    if "[Content_Types].xml" in names:
        with archive.open("[Content_Types].xml") as part:
            content_types = part.read(_CONTENT_TYPES_MAX_BYTES)
    if any(kind.encode() in content_types for kind in (XLSX, XLSM, XLTX, XLTM)):
        return None
    if b"ms-excel.sheet.binary" in content_types:
        return Reason(gettext_noop("The file is an Excel binary workbook (.xlsb): save it as .xlsx or CSV UTF-8."))
    if "mimetype" in names:
        with archive.open("mimetype") as part:
            if part.read(100).startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
                return Reason(
                    gettext_noop("The file is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV UTF-8.")
                )
    return Reason(gettext_noop("The file is a ZIP archive, not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file."))


def _sheet_to_read(workbook):
    """The active worksheet if it is visible, else the first visible one."""
    visible = [sheet for sheet in workbook.worksheets if sheet.sheet_state == "visible"]
    active = workbook.active
    return active if active in visible else (visible[0] if visible else None)


def _xlsx_rows(sheet, formula_sheet) -> Iterator[tuple[int, list]]:
    cell_rows = sheet.iter_rows(min_row=1, min_col=1)
    formula_rows = formula_sheet.iter_rows(min_row=1, min_col=1, values_only=True)
    for number, (cells, formula_cells) in enumerate(zip(cell_rows, formula_rows, strict=False), start=1):
        values = [_xlsx_value(cell) for cell in cells]
        for index, formula in enumerate(formula_cells):
            if index < len(values) and values[index] is None and isinstance(formula, str) and formula[:1] == "=":
                values[index] = FormulaWithoutValue(formula)
        values = ["" if value is None else value for value in values]
        if any(str(value).strip() for value in values):
            yield number, values


def _xlsx_value(cell) -> object:
    """A cell's value as Excel shows it: a number to 15 significant digits, a date formatted without a day
    ("mmm yyyy", "mm/yyyy") as its month ("2026-10"), a date formatted without a time as its day."""
    value = cell.value
    if value.__class__ is float:
        if not math.isfinite(value):
            return value
        number = Decimal(f"{value:.{_EXCEL_DIGITS}g}")
        return int(number) if number == number.to_integral_value() else number
    at_midnight = isinstance(value, datetime.datetime) and value.time() == datetime.time(0, 0)
    if at_midnight and value.day == 1 and is_month_format(cell.number_format):
        return f"{value:%Y-%m}"
    if at_midnight and not shows_time(cell.number_format):
        return value.date()  # a day (Excel keeps it as midnight), not an interval starting at 00:00
    return value


def _format_codes(number_format: str) -> str:
    """An Excel number format's codes, without its quoted text, [brackets] and escaped characters."""
    return _FORMAT_LITERALS.sub("", number_format or "").lower()


def shows_time(number_format: str) -> bool:
    """Whether an Excel date format shows a time of day: "dd/mm/yyyy hh:mm", "h:mm AM/PM" (not "dd/mm/yyyy")."""
    codes = _format_codes(number_format)
    return "h" in codes or "s" in codes


def is_month_format(number_format: str) -> bool:
    """Whether an Excel date format shows a month and year without a day or a time: "mmm yyyy", "mm/yyyy",
    "yyyy-mm", "[$-40C]mmmm yyyy"."""
    codes = _format_codes(number_format)
    return "y" in codes and "m" in codes and not any(code in codes for code in ("d", "h", "s"))


def _split_header(rows: Iterator[tuple[int, list]]) -> tuple[int, list[str], Iterator[tuple[int, list]]]:
    """(the header's row number, its headers, the data rows after it)."""
    buffered = list(itertools.islice(rows, _HEADER_SEARCH_ROWS + 1))
    if not buffered:
        raise UnreadableFile(Reason(gettext_noop("The file is empty.")))
    index = _header_index([cells for _number, cells in buffered])
    number, cells = buffered[index]
    headers = [str(cell).strip() for cell in cells]
    if index and buffered[index - 1][0] == number - 1:
        headers = _with_headers_from_above(headers, buffered[index - 1][1])
    while headers and not headers[-1]:
        headers.pop()
    return number, headers, itertools.chain(buffered[index + 1 :], rows)


def _with_headers_from_above(headers: list[str], above: list) -> list[str]:
    """A header written over two rows: a column's header merged down both rows ("Date") has its text in the
    upper one only, above the lower row's headers under a group ("Appels" over "reçus" and "traités"). An
    empty header takes the text of the row just above it, when that row holds more than a title (two cells
    or more), so the column can be mapped; so does a column right of the lower row's last cell (a row of a
    CSV file or a workbook may stop at its last value), whose values would otherwise be under no header, unless
    the row above is no part of the header (a text above each header)."""
    above = [str(cell).strip() for cell in above]
    if sum(1 for cell in above if cell) < 2:
        return headers
    if all(headers) and all(above[: len(headers)]):
        # Every header has its own text above it, no column merged down nor group across: the row above is a title
        # or a note ("Rapport ACD;Janvier 2025;Site Lyon"), not the header's upper row, and names no column right of
        # the header (a value there is still under no header: a stray separator, refused in a CSV file).
        return headers
    return [
        header or (above[index] if index < len(above) and above[index] not in headers else "")
        for index, header in enumerate(headers + [""] * (len(above) - len(headers)))
    ]


def _header_index(rows: list[list]) -> int:
    """The first row of at least two cells, none of them data, followed by a data row (or the last row);
    the first row when there is none such (the mapping step then shows what is wrong)."""
    for index, cells in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        filled = sum(1 for cell in cells if str(cell).strip())
        followed_by_data = index + 1 == len(rows) or _looks_like_data(rows[index + 1])
        if filled >= 2 and followed_by_data and not _looks_like_data(cells):
            return index
    return 0


def _looks_like_data(cells: list) -> bool:
    """A row with a number or a date in it (a cell of Excel that is not text, or text starting with a digit)."""
    return any((not isinstance(cell, str) and cell is not None) or _DATA_START.match(cell or "") for cell in cells)
