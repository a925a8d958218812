"""Streaming readers of KPI packs: CSV (`,`, `;` or tab; UTF-8 with or without BOM) and .xlsx.

`open_table` returns the header row and a generator of data rows, so memory does not grow with the
file's size. Fully empty rows are skipped; row numbers are the ones a spreadsheet shows (header = 1).
"""

import codecs
import contextlib
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SNIFF_BYTES = 64 * 1024
_DELIMITERS = (";", ",", "\t")


class UnreadableFile(Exception):
    """The file as a whole is refused (empty, too large, not CSV or Excel, not UTF-8); nothing is read."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass
class Table:
    """A KPI pack opened for reading: its headers and its data rows as (row number, cells)."""

    headers: list[str]
    rows: Iterator[tuple[int, list]]
    file_format: str
    delimiter: str | None = None

    @property
    def decimal_comma(self) -> bool | None:
        """A ";"-separated CSV writes decimals with ","; a ","-separated one cannot; Excel stores numbers."""
        if self.delimiter is None:
            return None
        return self.delimiter != ","


def check_size(size: int) -> None:
    limit = settings.KPI_UPLOAD_MAX_BYTES
    if size == 0:
        raise UnreadableFile(_("The file is empty."))
    if size > limit:
        raise UnreadableFile(
            format_lazy(
                _("The file is {size} MB; the limit is {limit} MB. Split it by month and upload the parts."),
                size=round(size / 1024 / 1024, 1),
                limit=limit // 1024 // 1024,
            )
        )


@contextlib.contextmanager
def open_table(file: BinaryIO) -> Iterator[Table]:
    """Open a CSV or .xlsx file (binary, seekable) for streaming; UnreadableFile when it is neither."""
    file.seek(0)
    head = file.read(_SNIFF_BYTES)
    file.seek(0)
    if not head.strip().lstrip(codecs.BOM_UTF8).strip():
        raise UnreadableFile(_("The file is empty."))
    if head.startswith(_ZIP_MAGIC):
        with _open_xlsx(file) as table:
            yield table
        return
    if head.startswith(_OLE_MAGIC):
        raise UnreadableFile(_("Excel 97–2003 files (.xls) are not supported: save the file as .xlsx or CSV."))
    if b"\x00" in head:
        raise UnreadableFile(_("The file is neither CSV nor Excel (.xlsx)."))
    with _open_csv(file, head) as table:
        yield table


@contextlib.contextmanager
def _open_csv(file: BinaryIO, head: bytes) -> Iterator[Table]:
    try:
        first_line = head.decode("utf-8-sig", errors="strict").splitlines()[0]
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the sniffing window is not an encoding error.
        if error.start < len(head) - 4:
            raise UnreadableFile(_("The file is not UTF-8 text: save it as CSV UTF-8 or as .xlsx.")) from error
        first_line = head[: error.start].decode("utf-8-sig").splitlines()[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in _DELIMITERS}
    delimiter = max(_DELIMITERS, key=lambda d: counts[d]) if any(counts.values()) else ","
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        rows = _csv_rows(csv.reader(text, delimiter=delimiter))
        yield Table(headers=_first_row(rows), rows=rows, file_format="csv", delimiter=delimiter)
    finally:
        text.detach()  # closing the wrapper would close the caller's file


def _csv_rows(reader) -> Iterator[tuple[int, list]]:
    try:
        for cells in reader:
            if "".join(cells).strip():  # not a blank line
                # line_num counts physical lines; a quoted cell with a line break spans several.
                yield reader.line_num, cells
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            format_lazy(
                _("The file is not UTF-8 text (after line {line}): save it as CSV UTF-8 or as .xlsx."),
                line=reader.line_num,
            )
        ) from error
    except csv.Error as error:
        raise UnreadableFile(
            format_lazy(_("Line {line} is not valid CSV: {error}"), line=reader.line_num, error=str(error))
        ) from error


@contextlib.contextmanager
def _open_xlsx(file: BinaryIO) -> Iterator[Table]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFile(_("The file is neither CSV nor Excel (.xlsx).")) from error
    try:
        sheet = workbook.worksheets[0]
        rows = _xlsx_rows(sheet)
        headers = _first_row(rows)
        yield Table(headers=headers, rows=rows, file_format="xlsx")
    finally:
        workbook.close()


def _xlsx_rows(sheet) -> Iterator[tuple[int, list]]:
    for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
        values = ["" if cell is None else cell for cell in cells]
        if any(str(value).strip() for value in values):
            yield number, values


def _first_row(rows: Iterator[tuple[int, list]]) -> list[str]:
    for _number, cells in rows:
        headers = [str(cell).strip() for cell in cells]
        while headers and not headers[-1]:
            headers.pop()
        return headers
    raise UnreadableFile(_("The file is empty."))
