"""Interval files (a date and time per row, e.g. every 15 minutes) are stored as daily sums."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sla_tracker.choices import ChangeAction, UploadStatus
from sla_tracker.kpi_import.reasons import readable_errors
from sla_tracker.kpi_import.service import KpiDataRejected, import_upload, preview_upload
from sla_tracker.models import KpiUpload, Measurement, MeasurementChange
from tests.sla_tracker.kpi_support import (
    SAMPLE_DATA,
    SAMPLE_TODAY,
    TODAY,
    csv_file,
    demo_a_like_contract,
    nothing_written,
    sample_file,
    voice_contract,
    xlsx_file,
)

pytestmark = pytest.mark.django_db

JAN_2, JAN_3 = datetime.date(2025, 1, 2), datetime.date(2025, 1, 3)
HEADER = "Date;Appels reçus;Appels traités;Traités en moins de 20 s\n"


def intervals(day: str, *rows: tuple) -> str:
    """CSV lines of one day's quarter hours from 00:00: each row is (offered, answered, within 20 s)."""
    start = datetime.datetime.fromisoformat(day)
    return "".join(
        f"{start + datetime.timedelta(minutes=15 * i):%d/%m/%Y %H:%M};{';'.join(map(str, row))}\n"
        for i, row in enumerate(rows)
    )


def preview(contract, file):
    return preview_upload(contract=contract, file=file, actor=contract.owner, today=TODAY)


def upload_and_import(contract, file):
    upload = preview(contract, file)
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    return import_upload(upload=upload, actor=contract.owner, today=TODAY)


def refused(contract, file) -> KpiDataRejected:
    uploads = KpiUpload.objects.count()
    with pytest.raises(KpiDataRejected) as rejected:
        preview(contract, file)
    assert KpiUpload.objects.count() == uploads  # a refused pack is not stored
    return rejected.value


def errors_of(rejected: KpiDataRejected) -> list[tuple]:
    return [(e["row"], e["column"], e["value"], e["message"]) for e in readable_errors(rejected.stored_errors())]


def values(contract):
    return {(m.counter.code, m.day): m.value for m in Measurement.objects.filter(contract=contract)}


def test_an_interval_csv_is_stored_as_daily_sums():
    contract = voice_contract()
    text = HEADER + intervals("2025-01-02", (10, 9, 8), (20, 18, 15), (5, 5, 5)) + intervals("2025-01-03", (7, 7, 6))
    upload = upload_and_import(contract, csv_file(text))
    assert values(contract) == {
        ("offered", JAN_2): 35,
        ("answered", JAN_2): 32,
        ("answered_within_20s", JAN_2): 28,
        ("offered", JAN_3): 7,
        ("answered", JAN_3): 7,
        ("answered_within_20s", JAN_3): 6,
    }
    assert upload.rows_total == 4
    assert (upload.preview["values"], upload.preview["stored_values"]) == (12, 6)
    assert (upload.preview["first_day"], upload.preview["last_day"]) == ("2025-01-02", "2025-01-03")
    assert upload.preview["result"] == {"created": 6, "updated": 0, "deleted": 0, "unchanged": 0}


def test_iso_date_times_and_decimals_are_summed_per_value():
    contract = voice_contract()
    text = "Date,Temps d'attente total (s)\n2025-01-02 08:00,12.5\n2025-01-02T08:15,7.25\n2025-01-02 08:30:00,1\n"
    upload_and_import(contract, csv_file(text))
    assert values(contract) == {("total_wait_seconds", JAN_2): 20.75}


def test_an_interval_xlsx_with_excel_date_times_is_stored_as_daily_sums():
    contract = voice_contract()
    start = datetime.datetime(2025, 1, 2)
    rows = [["Date", "Calls offered", "Calls answered"]]
    rows += [[start + datetime.timedelta(minutes=15 * i), 10 + i, 10] for i in range(96)]
    rows += [[datetime.datetime(2025, 1, 3, 8, 0), 4, 4]]
    upload_and_import(contract, xlsx_file(rows))
    assert values(contract) == {
        ("offered", JAN_2): 96 * 10 + sum(range(96)),
        ("answered", JAN_2): 960,
        ("offered", JAN_3): 4,
        ("answered", JAN_3): 4,
    }


def test_a_day_given_with_and_without_a_time_is_refused_with_both_rows():
    contract = voice_contract()
    text = HEADER + "02/01/2025;50;45;40\n" + intervals("2025-01-02", (10, 9, 8), (20, 18, 15))
    assert errors_of(refused(contract, csv_file(text))) == [
        (
            3,
            "Date",
            "02/01/2025 00:00",
            "Row 3 gives Jan. 2, 2025 with a time and row 2 without one: a file gives either daily values or "
            "interval values (date and time), not both for the same day.",
        )
    ]
    assert nothing_written()


def test_an_xlsx_date_cell_without_a_time_is_a_day_not_an_interval_at_midnight():
    """Excel keeps a date as midnight: formatted without a time, it is the day's total, not the 00:00 quarter
    hour, which the day's intervals would have been added to."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Date", "Calls offered"])
    for minute, offered in ((8 * 60 + 15, 5), (8 * 60 + 30, 5)):
        sheet.append([datetime.datetime(2025, 1, 2) + datetime.timedelta(minutes=minute), offered])
        sheet.cell(sheet.max_row, 1).number_format = "dd/mm/yyyy hh:mm"
    sheet.append([datetime.datetime(2025, 1, 2), 10])
    sheet.cell(sheet.max_row, 1).number_format = "dd/mm/yyyy"
    sheet.append([datetime.datetime(2025, 1, 3), 7])
    sheet.cell(sheet.max_row, 1).number_format = "dd/mm/yyyy"
    buffer = io.BytesIO()
    workbook.save(buffer)
    contract = voice_contract()

    errors = errors_of(refused(contract, SimpleUploadedFile("pack.xlsx", buffer.getvalue())))

    assert [(row, message[:40]) for row, _column, _value, message in errors] == [
        (4, "Row 2 gives Jan. 2, 2025 with a time and")
    ]
    assert nothing_written()
    sheet.delete_rows(2, 2)  # the daily rows alone: stored as they are
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = upload_and_import(contract, SimpleUploadedFile("pack.xlsx", buffer.getvalue()))
    assert values(contract) == {("offered", JAN_2): 10, ("offered", JAN_3): 7}
    assert (upload.preview["values"], upload.preview["stored_values"]) == (2, 2)


def test_a_day_given_by_intervals_then_as_a_day_is_refused():
    contract = voice_contract()
    text = HEADER + intervals("2025-01-02", (10, 9, 8), (20, 18, 15)) + "03/01/2025;1;1;1\n02/01/2025;50;45;40\n"
    errors = errors_of(refused(contract, csv_file(text)))
    assert [(row, message[:39]) for row, _column, _value, message in errors] == [
        (5, "Row 2 gives Jan. 2, 2025 with a time an")
    ]


def test_a_daily_file_and_an_interval_file_may_cover_different_days():
    contract = voice_contract()
    text = HEADER + "02/01/2025;50;45;40\n" + intervals("2025-01-03", (10, 9, 8), (20, 18, 15))
    upload_and_import(contract, csv_file(text))
    assert values(contract)[("offered", JAN_2)] == 50
    assert values(contract)[("offered", JAN_3)] == 30


def test_an_interval_given_twice_is_refused():
    contract = voice_contract()
    text = HEADER + intervals("2025-01-02", (10, 9, 8), (20, 18, 15)) + "02/01/2025 00:15;20;18;15\n"
    errors = errors_of(refused(contract, csv_file(text)))
    assert [(row, column, value) for row, column, value, _message in errors] == [
        (4, "Appels reçus", "20"),
        (4, "Appels traités", "18"),
        (4, "Traités en moins de 20 s", "15"),
    ]
    assert errors[0][3] == (
        "offered already has a value for Jan. 2, 2025 00:15 earlier in the file: give each interval and counter once."
    )
    assert nothing_written()


def test_an_interval_given_twice_names_the_first_row_when_it_is_the_days_first():
    contract = voice_contract()
    text = HEADER + intervals("2025-01-02", (10, 9, 8), (20, 18, 15)) + "02/01/2025 00:00;10;9;8\n"
    assert errors_of(refused(contract, csv_file(text)))[0][3] == (
        "offered already has a value for Jan. 2, 2025 00:00 in row 2: give each interval and counter once."
    )


def test_a_re_upload_of_the_period_replaces_the_daily_sums_with_the_change_log():
    contract = voice_contract()
    upload_and_import(contract, csv_file(HEADER + intervals("2025-01-02", (10, 9, 8), (20, 18, 15))))
    second = upload_and_import(contract, csv_file(HEADER + intervals("2025-01-02", (10, 9, 8), (25, 18, 15))))
    assert values(contract)[("offered", JAN_2)] == 35
    assert second.preview["result"] == {"created": 0, "updated": 1, "deleted": 0, "unchanged": 2}
    change = MeasurementChange.objects.get(action=ChangeAction.UPDATE)
    assert (change.counter.code, change.day, change.old_value, change.new_value, change.upload) == (
        "offered",
        JAN_2,
        30,
        35,
        second,
    )


def test_the_same_day_bounds_apply_to_the_daily_sums():
    contract = voice_contract()
    # An interval may count a call answered within 20 s in another interval than its answer (ACD
    # reports differ): the day's sums are checked, consistent on 2 January, not on 3 January.
    text = HEADER + intervals("2025-01-02", (10, 8, 9), (10, 9, 7)) + intervals("2025-01-03", (10, 9, 10), (10, 8, 9))
    assert errors_of(refused(contract, csv_file(text))) == [
        (
            4,
            "Traités en moins de 20 s",
            "19",
            "On Jan. 3, 2025, the intervals of answered_within_20s add up to 19, more than answered (17).",
        )
    ]


def test_a_time_that_is_not_a_whole_minute_is_refused():
    contract = voice_contract()
    rejected = refused(contract, csv_file(HEADER + "02/01/2025 08:15:30;10;9;8\n"))
    assert errors_of(rejected) == [
        (
            2,
            "Date",
            "02/01/2025 08:15:30",
            "Not a time of day: an interval starts on a whole minute, e.g. 2026-03-01 08:15.",
        )
    ]


def test_values_are_still_checked_one_by_one():
    contract = voice_contract()
    text = HEADER + intervals("2025-01-02", (10, 9, 8), (20, "-1", 15), (5, "2,5", 5))
    assert [(row, column, value) for row, column, value, _message in errors_of(refused(contract, csv_file(text)))] == [
        (3, "Appels traités", "-1"),
        (4, "Appels traités", "2,5"),
    ]


def test_the_sample_interval_pack_imports_as_two_days_of_sums():
    contract = demo_a_like_contract()
    upload = preview_upload(
        contract=contract, file=sample_file("kpi_intervals_fr.csv"), actor=contract.owner, today=SAMPLE_TODAY
    )
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert upload.rows_total == 192
    import_upload(upload=upload, actor=contract.owner, today=SAMPLE_TODAY)
    assert Measurement.objects.filter(contract=contract).count() == 6
    lines = (SAMPLE_DATA / "kpi_intervals_fr.csv").read_text(encoding="utf-8").splitlines()[1:]
    offered_on_2_november = sum(int(line.split(";")[1]) for line in lines if line.startswith("02/11/2026"))
    stored = Measurement.objects.get(contract=contract, counter__code="offered", day=datetime.date(2026, 11, 2))
    assert stored.value == offered_on_2_november


# The time of day in its own column ("Date" + "Heure"): the mapping names it.

SPLIT_HEADER = "Date;Heure;Appels reçus;Appels traités\n"


def test_a_time_column_is_suggested_from_its_header_and_the_rows_are_summed_per_day():
    contract = voice_contract()
    text = SPLIT_HEADER + "02/01/2025;00:00;10;9\n02/01/2025;00:15;20;18\n02/01/2025;8:30;5;5\n03/01/2025;08:00;7;7\n"
    upload = upload_and_import(contract, csv_file(text))
    assert upload.preview["mapping"]["time_column"] == "Heure"
    assert upload.mapping.time_column == "Heure"
    assert values(contract) == {
        ("offered", JAN_2): 35,
        ("answered", JAN_2): 32,
        ("offered", JAN_3): 7,
        ("answered", JAN_3): 7,
    }


def test_the_saved_mapping_keeps_the_time_column_for_the_next_file():
    contract = voice_contract()
    upload_and_import(contract, csv_file(SPLIT_HEADER + "02/01/2025;00:00;10;9\n02/01/2025;00:15;20;18\n"))
    second = upload_and_import(contract, csv_file(SPLIT_HEADER + "02/01/2025;00:00;10;9\n02/01/2025;00:15;25;18\n"))
    assert second.preview["mapping"]["origin"] == "saved"
    assert values(contract)[("offered", JAN_2)] == 35


def test_a_time_column_can_be_given_in_the_json_mapping_with_excel_date_and_time_cells():
    contract = voice_contract()
    rows = [["Jour", "Tranche", "Entrants"]]
    rows += [[datetime.datetime(2025, 1, 2), datetime.time(8, 15 * i), 10] for i in range(4)]
    mapping = {"date_column": "Jour", "time_column": "Tranche", "columns": {"Entrants": "offered"}}
    upload = preview_upload(contract=contract, file=xlsx_file(rows), actor=contract.owner, today=TODAY, mapping=mapping)
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    import_upload(upload=upload, actor=contract.owner, today=TODAY)
    assert values(contract) == {("offered", JAN_2): 40}


def test_a_duplicate_interval_and_a_bad_time_are_refused_in_a_time_column():
    contract = voice_contract()
    text = SPLIT_HEADER + "02/01/2025;00:00;10;9\n02/01/2025;0:00;20;18\n02/01/2025;midi;5;5\n"
    assert [(row, column, value) for row, column, value, _message in errors_of(refused(contract, csv_file(text)))] == [
        (3, "Appels reçus", "20"),
        (3, "Appels traités", "18"),
        (4, "Heure", "midi"),
    ]


def test_rows_without_a_time_in_the_time_column_are_daily_values_and_cannot_share_a_day_with_intervals():
    contract = voice_contract()
    text = SPLIT_HEADER + "02/01/2025;;50;45\n02/01/2025;08:00;10;9\n"
    assert [message[:38] for _row, _column, _value, message in errors_of(refused(contract, csv_file(text)))] == [
        "Row 3 gives Jan. 2, 2025 with a time a"
    ]


def test_the_progress_of_an_interval_import_counts_the_rows_read(monkeypatch):
    """An interval file's values are written only once summed into days: progress counts rows read."""
    from sla_tracker.kpi_import import service

    reported = []
    monkeypatch.setattr(service._ProgressReporter, "report", lambda self, rows: reported.append(rows))
    contract = voice_contract()
    days = [JAN_2 + datetime.timedelta(days=offset) for offset in range(12)]
    text = HEADER + "".join(intervals(day.isoformat(), *[(4, 4, 3)] * 96) for day in days)
    upload = preview(contract, csv_file(text))
    assert upload.status == UploadStatus.VALIDATED, upload.errors

    imported = import_upload(upload=upload, actor=contract.owner, today=TODAY, report_progress=True)

    assert imported.rows_total == 12 * 96
    assert reported == [1000]  # every 1,000 rows read, the last row waiting for the write
    assert imported.rows_done == imported.rows_total
    assert values(contract)[("offered", JAN_2)] == 4 * 96
