"""CSV packs: a row above the header that is a title or a note (report, period, site),
not the upper row of a header over two rows, names no column right of the header, so a value there is still a
value under no header (a stray separator) and refused, not dropped without a word; an unnamed first column of row
labels (pandas' index) is read past."""

import pytest

from sla_tracker.choices import UploadStatus
from tests.sla_tracker.kpi_support import snapshot, voice_contract

from .test_kpi_import_readers import read
from .test_kpi_import_validation import STRAY_VALUE, errors_of, preview, refused

pytestmark = pytest.mark.django_db

TITLE = "Rapport ACD;Janvier 2025;Site Lyon\n"
MAPPING = {"date_column": "Date", "columns": {"Appels traités": "answered"}}


def test_a_title_row_wider_than_the_header_names_no_column_right_of_it():
    headers, rows, _delimiter = read((TITLE + "Date;Appels traités\n02/01/2025;2900\n").encode())
    assert (headers, rows) == (["Date", "Appels traités"], [(3, ["02/01/2025", "2900"])])


def test_a_value_shifted_right_of_the_header_under_a_title_row_is_refused():
    contract = voice_contract()
    before = snapshot()
    rejected = refused(contract, TITLE + "Date;Appels traités\n02/01/2025;2900\n03/01/2025;;3000\n", mapping=MAPPING)
    assert errors_of(rejected) == [(4, "C", "3000", STRAY_VALUE.format(column="C"))]
    assert snapshot() == before


# A column of row labels before the first header -----------------------------------------------------------------


def test_a_leading_column_of_row_numbers_without_a_header_is_no_stray_value():
    """pandas' to_csv (its index: an empty header over 0, 1, 2…) or a row number typed before the table: the column
    left of the first header is the rows' labels, not values shifted by a stray separator, which moves the headers
    right of it."""
    contract = voice_contract()
    text = ",Date,Appels traités\n0,02/01/2025,2900\n1,03/01/2025,3000\n"
    upload = preview(contract, text, mapping=MAPPING)
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert upload.preview["values"] == 2


def test_an_empty_header_after_a_named_one_still_refuses_its_values():
    contract = voice_contract()
    rejected = refused(
        contract, ";Date;Appels traités;;\n1;02/01/2025;2900;;\n2;03/01/2025;2900;;40\n", mapping=MAPPING
    )
    assert errors_of(rejected) == [(3, "E", "40", STRAY_VALUE.format(column="E"))]


def test_a_stray_separator_at_the_start_of_the_header_row_is_still_refused():
    """`;Date;Appels traités` over `02/01/2025;2900`: the row is narrower than the header, its date under no header
    and its count under Date."""
    contract = voice_contract()
    rejected = refused(contract, ";Date;Appels traités\n02/01/2025;2900\n", mapping=MAPPING)
    assert errors_of(rejected) == [(2, "A", "02/01/2025", STRAY_VALUE.format(column="A"))]
