"""Reading KPI packs: CSV dialects and encodings, Excel, and streaming without loading the file."""

import datetime
import io
import re
import tracemalloc
import zipfile
from decimal import Decimal

import pytest

from sla_tracker.kpi_import.readers import UnreadableFile, open_table
from tests.sla_tracker.kpi_support import SAMPLE_DATA, xlsx_file


def read(raw: bytes):
    with open_table(io.BytesIO(raw)) as table:
        return table.headers, list(table.rows), table.delimiter


def test_a_semicolon_csv_with_a_bom_and_french_headers_is_read():
    raw = "\ufeffDate;Appels reçus;Appels traités\r\n02/01/2025;1 200;1 130\r\n".encode()
    headers, rows, delimiter = read(raw)
    assert headers == ["Date", "Appels reçus", "Appels traités"]
    assert rows == [(2, ["02/01/2025", "1 200", "1 130"])]
    assert delimiter == ";"


def test_a_comma_csv_without_bom_is_read_with_quoted_thousands():
    headers, rows, delimiter = read(b'Date,Calls offered\n2025-01-02,"1,200"\n')
    assert headers == ["Date", "Calls offered"]
    assert rows == [(2, ["2025-01-02", "1,200"])]
    assert delimiter == ","


def test_empty_rows_are_skipped_and_row_numbers_are_the_files():
    _headers, rows, _delimiter = read(b"Date;A\n\n;\n2025-01-02;1\n")
    assert rows == [(4, ["2025-01-02", "1"])]


def test_an_xlsx_is_read_with_its_date_cells():
    upload = xlsx_file([["Date", "Calls offered"], [datetime.datetime(2025, 1, 2), 1200], [None, None]])
    with open_table(upload) as table:
        assert table.headers == ["Date", "Calls offered"]
        assert list(table.rows) == [(2, [datetime.datetime(2025, 1, 2), 1200])]
        assert table.file_format == "xlsx"


def test_the_sample_packs_are_read():
    with (SAMPLE_DATA / "kpi_pack_fr.csv").open("rb") as handle, open_table(handle) as table:
        assert table.headers[:2] == ["Date", "Appels reçus"]
        assert len(list(table.rows)) == 31
    with (SAMPLE_DATA / "kpi_pack.xlsx").open("rb") as handle, open_table(handle) as table:
        assert table.headers[:2] == ["Date", "Calls offered"]
        assert len(list(table.rows)) == 31


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf  \n", "The file is empty."),
        (b"PK\x03\x04 not really a zip", "The file is neither CSV nor Excel (.xlsx)."),
        ("Date;Appels reçus\n".encode("latin-1"), "The file is not UTF-8 text"),
    ],
)
def test_files_that_are_not_csv_or_excel_are_refused(raw, reason):
    with pytest.raises(UnreadableFile) as refused:
        read(raw)
    assert str(refused.value.message).startswith(reason)


def ole_file(*streams: str) -> bytes:
    """An OLE2 (compound) file of 512-byte sectors whose directory, in sector 0, names ``streams``."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[30:32] = (9).to_bytes(2, "little")  # sectors of 2⁹ bytes
    header[48:52] = (0).to_bytes(4, "little")  # the directory starts at sector 0, after the header
    directory = b"".join(name.encode("utf-16-le").ljust(128, b"\x00") for name in ("Root Entry", *streams))
    return bytes(header) + directory.ljust(512, b"\x00")


def zip_file(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def content_types(main: str) -> bytes:
    return (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/main.xml" ContentType="{main}"/></Types>'
    ).encode()


SEND_A_PACK = "not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file."


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", f"The file is a PDF document, {SEND_A_PACK}"),
        (b"\r\n%PDF-1.4\n", f"The file is a PDF document, {SEND_A_PACK}"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", f"The file is a PNG image, {SEND_A_PACK}"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", f"The file is a JPEG image, {SEND_A_PACK}"),
        (b"GIF89a\x01\x00\x01\x00", f"The file is a GIF image, {SEND_A_PACK}"),
        (b"GIF87a\x01\x00\x01\x00", f"The file is a GIF image, {SEND_A_PACK}"),
        (b"MZ\x90\x00\x03\x00\x00\x00", f"The file is a binary file, {SEND_A_PACK}"),
        (
            "\ufeffDate\tAppels reçus\n".encode("utf-16-le"),
            "The file is UTF-16 text (Excel's “Unicode text”): save it as CSV UTF-8 or .xlsx.",
        ),
        (ole_file("Workbook"), "The file is an old Excel .xls workbook: save it as .xlsx or CSV UTF-8."),
        (
            ole_file("EncryptionInfo", "EncryptedPackage"),
            "The workbook is encrypted (by a password or a sensitivity label): save an unprotected copy as .xlsx "
            "or CSV UTF-8.",
        ),
        (zip_file({"report.pdf": b"%PDF-1.7"}), f"The file is a ZIP archive, {SEND_A_PACK}"),
        (
            zip_file(
                {
                    "[Content_Types].xml": content_types(
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
                    )
                }
            ),
            f"The file is a ZIP archive, {SEND_A_PACK}",
        ),
        (
            zip_file({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}),
            "The file is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV UTF-8.",
        ),
        (
            zip_file({"[Content_Types].xml": content_types("application/vnd.ms-excel.sheet.binary.macroEnabled.main")}),
            "The file is an Excel binary workbook (.xlsb): save it as .xlsx or CSV UTF-8.",
        ),
    ],
)
def test_a_binary_file_is_refused_saying_what_it_is_and_what_to_send(raw, reason):
    with pytest.raises(UnreadableFile) as refused:
        read(raw)
    assert str(refused.value.message) == reason


def test_a_workbook_declared_as_an_xlsm_is_read():
    raw = rewritten(
        xlsx_bytes(lambda workbook: workbook.active.append(["Date", "Calls offered"])),
        "[Content_Types].xml",
        lambda data: data.replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        ),
    )
    headers, _rows, _delimiter = read(raw)
    assert headers == ["Date", "Calls offered"]


def test_the_reader_streams_rows_without_reading_the_whole_file(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Date;Offered;Answered\n")
        for number in range(200_000):
            handle.write(f"2025-01-02;{number};{number}\n")
    size = path.stat().st_size
    with path.open("rb") as handle, open_table(handle) as table:
        first = next(table.rows)
        assert first == (2, ["2025-01-02", "0", "0"])
        assert handle.tell() < size / 20
        tracemalloc.start()
        count = sum(1 for _row in table.rows)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert count == 199_999
    assert peak < 2 * 1024 * 1024


def xlsx_bytes(build) -> bytes:
    """An .xlsx written by openpyxl after `build(workbook)`."""
    from openpyxl import Workbook

    workbook = Workbook()
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewritten(raw: bytes, name: str, change) -> bytes:
    """The zip `raw` with its entry `name` passed through `change`."""
    source, target = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            data = source.read(entry.filename)
            archive.writestr(entry.filename, change(data) if entry.filename == name else data)
    return target.getvalue()


def test_an_xlsx_is_read_beyond_the_dimension_its_program_recorded():
    def build(workbook):
        for row in [
            ["Date", "Calls offered", "Calls answered"],
            *[[f"0{day}/01/2025", day, day] for day in range(2, 7)],
        ]:
            workbook.active.append(row)

    raw = rewritten(
        xlsx_bytes(build),
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="B2"', xml),
    )
    headers, rows, _delimiter = read(raw)
    assert headers == ["Date", "Calls offered", "Calls answered"]
    assert [number for number, _cells in rows] == [2, 3, 4, 5, 6]
    assert rows[-1] == (6, ["06/01/2025", 6, 6])


def test_a_workbook_that_unzips_beyond_the_bound_is_refused_before_it_is_parsed(settings):
    settings.KPI_UPLOAD_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    raw = rewritten(
        xlsx_bytes(lambda workbook: workbook.active.append(["Date", "Calls offered"])),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</worksheet>", b"<!--" + b" " * 2 * 1024 * 1024 + b"--></worksheet>"),
    )
    assert len(raw) < 100 * 1024
    with pytest.raises(UnreadableFile) as refused:
        read(raw)
    assert str(refused.value.message) == (
        "The workbook unzips to 2.0 MB, more than the 1 MB allowed: remove what is not KPI data (images, other "
        "sheets, long texts) or save it as CSV."
    )


def test_the_uncompressed_bound_is_ten_times_the_upload_limit_by_default():
    from config.settings import base

    assert base.KPI_UPLOAD_MAX_UNCOMPRESSED_BYTES == 10 * base.KPI_UPLOAD_MAX_BYTES == 200 * 1024 * 1024


def test_an_excel_date_formatted_without_a_day_is_its_whole_month_and_without_a_time_its_day():
    def build(workbook):
        sheet = workbook.active
        sheet.append(["Month", "Quality evaluations"])
        formats = ("mmm yyyy", "mm/yyyy", "yyyy-mm", "[$-40C]mmmm\\ yyyy", "dd/mm/yyyy", "dd/mm/yyyy hh:mm", "h:mm")
        for number_format in formats:
            sheet.append([datetime.datetime(2026, 10, 1), 40])
            sheet.cell(row=sheet.max_row, column=1).number_format = number_format

    _headers, rows, _delimiter = read(xlsx_bytes(build))
    # A day is read as its date, a time (even midnight) as a date and time.
    assert [cells[0] for _number, cells in rows] == ["2026-10"] * 4 + [
        datetime.date(2026, 10, 1),
        datetime.datetime(2026, 10, 1),
        datetime.datetime(2026, 10, 1),
    ]


def test_float_cells_are_read_as_excel_shows_them():
    def build(workbook):
        workbook.active.append(["Date", "Total wait seconds", "Calls offered"])
        workbook.active.append(["02/01/2025", 23017.199999999997, 1596.0000000000002])

    _headers, rows, _delimiter = read(xlsx_bytes(build))
    assert rows == [(2, ["02/01/2025", Decimal("23017.2"), 1596])]


def test_a_formula_saved_without_its_value_is_told_apart_from_an_empty_cell():
    from sla_tracker.kpi_import.parsing import FormulaWithoutValue

    def build(workbook):
        workbook.active.append(["Date", "Calls offered", "Calls answered"])
        workbook.active.append(["02/01/2025", 10, "=B2-1"])

    _headers, rows, _delimiter = read(xlsx_bytes(build))
    cell = rows[0][1][2]
    assert isinstance(cell, FormulaWithoutValue)
    assert cell == "=B2-1"


def test_the_active_visible_sheet_is_read_and_named():
    def build(workbook):
        workbook.active.title = "Instructions"
        workbook.active.append(["Fill in the KPI sheet"])
        data = workbook.create_sheet("KPI")
        data.append(["Date", "Calls offered"])
        data.append(["02/01/2025", 4])
        workbook.active = 1

    with open_table(io.BytesIO(xlsx_bytes(build))) as table:
        assert (table.sheet, table.headers, list(table.rows)) == (
            "KPI",
            ["Date", "Calls offered"],
            [(2, ["02/01/2025", 4])],
        )


def test_a_hidden_active_sheet_gives_way_to_the_first_visible_one():
    def build(workbook):
        workbook.active.title = "Old"
        workbook.active.append(["Date", "Calls offered"])
        workbook.active.sheet_state = "hidden"
        data = workbook.create_sheet("KPI")
        data.append(["Date", "Calls answered"])
        data.append(["02/01/2025", 4])
        workbook.active = 0

    with open_table(io.BytesIO(xlsx_bytes(build))) as table:
        assert (table.sheet, table.headers) == ("KPI", ["Date", "Calls answered"])


@pytest.mark.parametrize(
    ("raw", "header_row", "first_row"),
    [
        (b"Rapport KPI novembre 2026\nDate;Appels re\xc3\xa7us;Abandons\n02/01/2025;10;1\n", 2, 3),
        (b"\n\nDate;Appels re\xc3\xa7us;Abandons\n02/01/2025;10;1\n", 3, 4),
        (b";Voix;\nDate;Appels re\xc3\xa7us;Abandons\n02/01/2025;10;1\n", 2, 3),
        (b"Rapport, novembre 2026\nDate;Appels re\xc3\xa7us;Abandons\n02/01/2025;10,5;1\n", 2, 3),
    ],
)
def test_the_header_is_found_under_a_title_blank_lines_or_a_group_row(raw, header_row, first_row):
    with open_table(io.BytesIO(raw)) as table:
        assert (table.headers, table.delimiter, table.header_row) == (
            ["Date", "Appels reçus", "Abandons"],
            ";",
            header_row,
        )
        assert [number for number, _cells in table.rows] == [first_row]


def test_a_header_over_two_rows_takes_the_upper_text_of_a_column_merged_down_both():
    """Date merged down rows 2 and 3 (its text in row 2), Calls merged across the two columns it heads."""

    def build(workbook):
        sheet = workbook.active
        for row in (["KPI report, November"], ["Date", "Calls", None], [None, "offered", "answered"]):
            sheet.append(row)
        sheet.append(["02/01/2025", 4, 3])
        sheet.merge_cells("A1:C1")
        sheet.merge_cells("A2:A3")
        sheet.merge_cells("B2:C2")

    with open_table(io.BytesIO(xlsx_bytes(build))) as table:
        assert (table.headers, table.header_row, list(table.rows)) == (
            ["Date", "offered", "answered"],
            3,
            [(4, ["02/01/2025", 4, 3])],
        )


def test_a_header_over_two_rows_takes_the_upper_text_of_a_column_right_of_the_lower_rows_last_cell():
    """Abandons merged down both rows, right of the group's lower row, which stops at its last text."""
    headers, rows, _delimiter = read("Date;Appels;;Abandons\n;reçus;traités\n02/01/2025;4;3;1\n".encode())
    assert (headers, rows) == (["Date", "reçus", "traités", "Abandons"], [(3, ["02/01/2025", "4", "3", "1"])])


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        # A title alone above the header (one cell) names no column.
        (b"Rapport KPI\n;Date;Appels\n1;02/01/2025;10\n", ["", "Date", "Appels"]),
        # A text already a header of the row is not given to a second column.
        (b"Date;Voix\n;Date;Appels\n1;02/01/2025;10\n", ["", "Date", "Appels"]),
    ],
)
def test_an_empty_header_under_a_title_stays_empty(raw, headers):
    with open_table(io.BytesIO(raw)) as table:
        assert table.headers == headers


def test_a_title_above_the_header_of_an_xlsx_is_skipped():
    def build(workbook):
        for row in (["KPI report, November"], [], ["Date", "Calls offered"], ["02/01/2025", 4]):
            workbook.active.append(row)

    with open_table(io.BytesIO(xlsx_bytes(build))) as table:
        assert (table.headers, table.header_row, list(table.rows)) == (
            ["Date", "Calls offered"],
            3,
            [(4, ["02/01/2025", 4])],
        )


def test_an_excel_separator_line_names_the_separator_and_is_not_a_row():
    headers, rows, delimiter = read(b"sep=;\nDate;Calls offered, total\n02/01/2025;4\n")
    assert (headers, rows, delimiter) == (["Date", "Calls offered, total"], [(2, ["02/01/2025", "4"])], ";")


def test_rows_after_a_cell_with_line_breaks_are_numbered_as_a_spreadsheet_shows_them():
    _headers, rows, _delimiter = read(
        b'Date;Calls offered;Comment\n02/01/2025;1;"line\nbreak\nhere"\n03/01/2025;2;ok\n'
    )
    assert [number for number, _cells in rows] == [2, 3]


def test_an_html_table_saved_as_xls_is_refused_with_the_way_to_save_it():
    with pytest.raises(UnreadableFile) as refused:
        read(b"<html><body><table><tr><td>Date</td></tr></table></body></html>")
    assert str(refused.value.message) == (
        "The file is a web page (HTML or XML), neither CSV nor Excel (.xlsx): open it in Excel and save it as .xlsx "
        "or CSV."
    )
