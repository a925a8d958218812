"""Reading KPI packs: CSV dialects and encodings, Excel, and streaming without loading the file."""

import datetime
import io
import tracemalloc

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
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "The file is neither CSV nor Excel (.xlsx)."),
        (b"PK\x03\x04 not really a zip", "The file is neither CSV nor Excel (.xlsx)."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "Excel 97–2003 files (.xls) are not supported"),
        ("Date;Appels reçus\n".encode("latin-1"), "The file is not UTF-8 text"),
    ],
)
def test_files_that_are_not_csv_or_excel_are_refused(raw, reason):
    with pytest.raises(UnreadableFile) as refused:
        read(raw)
    assert str(refused.value.message).startswith(reason)


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
