"""Review of session 23's KPI packs: a row above the header that is a title or a note (report, period, site),
not the upper row of a header over two rows, names no column right of the header, so a value there is still a
value under no header (a stray separator) and refused, not dropped without a word."""

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


def test_a_header_over_two_rows_still_names_the_column_merged_down_at_its_right_edge():
    contract = voice_contract()
    text = "Date;Appels;;Abandons\n;reçus;traités\n02/01/2025;1200;1130;70\n"
    mapping = {"date_column": "Date", "columns": {"reçus": "offered", "traités": "answered", "Abandons": "abandoned"}}
    upload = preview(contract, text, mapping=mapping)
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert upload.preview["values"] == 3
