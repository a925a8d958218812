"""Interval files (a date and time per row, e.g. every 15 minutes) are stored as daily sums."""

import datetime
import io
import random
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contracts.choices import Channel
from sla_tracker.choices import ChangeAction, UploadStatus
from sla_tracker.kpi_import.reasons import readable_errors
from sla_tracker.kpi_import.service import KpiDataRejected, import_upload, preview_upload
from sla_tracker.kpi_import.validation import local_time_zones, repeated_minutes
from sla_tracker.models import KpiUpload, Measurement, MeasurementChange
from tests.factories import VendorSiteFactory
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


# Daylight-saving days: interval times are the local wall-clock times of the contract's sites.

AUTUMN, SPRING = datetime.date(2026, 10, 25), datetime.date(2026, 3, 29)  # in Europe/Paris
AFTER_DST = datetime.date(2026, 12, 1)


def contract_in(*zones: str):
    """A voice contract whose scope names a site in the first zone, with sites in the others on more scopes."""
    contract = voice_contract()
    sites = [VendorSiteFactory(vendor=contract.vendor, time_zone=zone) for zone in zones]
    contract.scopes.update(site=sites[0])
    for channel, site in zip((Channel.EMAIL, Channel.CHAT), sites[1:], strict=False):
        contract.scopes.create(channel=channel, languages="fr", site=site)
    return contract


def local_quarter_hours(day: datetime.date, zone: str) -> list[datetime.datetime]:
    """The wall-clock start of each quarter hour `day` has in `zone`, in the order an ACD lists them: 100 on
    the day the clocks go back an hour (02:00–02:45 twice in Paris), 92 on the day they go forward."""
    tz = ZoneInfo(zone)
    moment = datetime.datetime.combine(day, datetime.time(), tzinfo=tz).astimezone(datetime.UTC)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=tz)
    times = []
    while moment < end:
        times.append(moment.astimezone(tz).replace(tzinfo=None))
        moment += datetime.timedelta(minutes=15)
    return times


def interval_lines(times: list[datetime.datetime]) -> list[str]:
    """A CSV line per interval: calls offered 1, 2, 3… (all different, so a lost or extra row changes the sum),
    all answered, 1 within 20 s."""
    return [f"{time:%d/%m/%Y %H:%M};{number};{number};1\n" for number, time in enumerate(times, start=1)]


def dst_preview(contract, file):
    return preview_upload(contract=contract, file=file, actor=contract.owner, today=AFTER_DST)


def dst_import(contract, file):
    upload = dst_preview(contract, file)
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    return import_upload(upload=upload, actor=contract.owner, today=AFTER_DST)


def dst_refused(contract, file) -> list[tuple]:
    with pytest.raises(KpiDataRejected) as rejected:
        dst_preview(contract, file)
    return errors_of(rejected.value)


def test_on_the_autumn_day_the_repeated_hour_is_given_twice_and_every_row_is_summed():
    contract = contract_in("Europe/Paris")
    times = local_quarter_hours(AUTUMN, "Europe/Paris")
    assert len(times) == 100 and [f"{t:%H:%M}" for t in times[8:16]] == ["02:00", "02:15", "02:30", "02:45"] * 2
    upload = dst_import(contract, csv_file(HEADER + "".join(interval_lines(times))))
    assert upload.rows_total == 100
    assert values(contract) == {
        ("offered", AUTUMN): sum(range(1, 101)),
        ("answered", AUTUMN): sum(range(1, 101)),
        ("answered_within_20s", AUTUMN): 100,
    }


def test_the_deployments_time_zone_is_the_contracts_when_its_scope_names_no_site(settings):
    settings.TIME_ZONE = "Europe/Paris"
    contract = voice_contract()
    dst_import(contract, csv_file(HEADER + "".join(interval_lines(local_quarter_hours(AUTUMN, "Europe/Paris")))))
    assert values(contract)[("offered", AUTUMN)] == sum(range(1, 101))


def test_the_autumn_days_rows_may_come_in_any_order_among_other_days():
    """Shuffled with the day before, the rows come in short runs of one date, some added at once and some
    row by row, in any order: the repeated quarter hours' second times included."""
    contract = contract_in("Europe/Paris")
    day_before = AUTUMN - datetime.timedelta(days=1)
    lines = interval_lines(local_quarter_hours(AUTUMN, "Europe/Paris"))
    lines += [f"{time:%d/%m/%Y %H:%M};1000;1000;1\n" for time in local_quarter_hours(day_before, "Europe/Paris")]
    random.Random(2026).shuffle(lines)
    dst_import(contract, csv_file(HEADER + "".join(lines)))
    assert values(contract)[("offered", AUTUMN)] == sum(range(1, 101))
    assert values(contract)[("offered", day_before)] == 96 * 1000
    assert values(contract)[("answered_within_20s", AUTUMN)] == 100


def test_the_autumn_day_with_the_time_in_its_own_column():
    contract = contract_in("Europe/Paris")
    times = local_quarter_hours(AUTUMN, "Europe/Paris")
    text = SPLIT_HEADER + "".join(f"{t:%d/%m/%Y};{t:%H:%M};{n};{n}\n" for n, t in enumerate(times, start=1))
    dst_import(contract, csv_file(text))
    assert values(contract) == {("offered", AUTUMN): 5050, ("answered", AUTUMN): 5050}


def test_an_autumn_day_xlsx_with_the_repeated_hour_twice_is_summed():
    contract = contract_in("Europe/Paris")
    times = local_quarter_hours(AUTUMN, "Europe/Paris")
    rows = [[t, n, n] for n, t in enumerate(times, start=1)]
    random.Random(25).shuffle(rows)
    dst_import(contract, xlsx_file([["Date", "Calls offered", "Calls answered"], *rows]))
    assert values(contract) == {("offered", AUTUMN): 5050, ("answered", AUTUMN): 5050}


def test_a_third_time_of_a_repeated_quarter_hour_is_refused_naming_its_row():
    contract = contract_in("Europe/Paris")
    lines = [*interval_lines(local_quarter_hours(AUTUMN, "Europe/Paris")), "25/10/2026 02:15;7;7;1\n"]
    assert dst_refused(contract, csv_file(HEADER + "".join(lines))) == [
        (
            102,
            column,
            value,
            f"{code} already has a value for Oct. 25, 2026 02:15 earlier in the file: give each interval and "
            "counter once.",
        )
        for column, value, code in (
            ("Appels reçus", "7", "offered"),
            ("Appels traités", "7", "answered"),
            ("Traités en moins de 20 s", "1", "answered_within_20s"),
        )
    ]
    assert nothing_written()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_time_outside_the_repeated_hour_given_twice_on_the_autumn_day_is_refused(file_format):
    contract = contract_in("Europe/Paris")
    times = [*local_quarter_hours(AUTUMN, "Europe/Paris"), datetime.datetime(2026, 10, 25, 5, 0)]
    if file_format == "csv":
        file = csv_file(HEADER + "".join(interval_lines(times)))
    else:
        file = xlsx_file([["Date", "Calls offered"]] + [[t, n] for n, t in enumerate(times, start=1)])
    errors = dst_refused(contract, file)
    assert [(row, value) for row, _column, value, _message in errors][:1] == [(102, "101")]
    assert errors[0][3].startswith("offered already has a value for Oct. 25, 2026 05:00")
    assert nothing_written()


def test_the_third_time_is_refused_in_an_xlsx_too():
    contract = contract_in("Europe/Paris")
    times = [*local_quarter_hours(AUTUMN, "Europe/Paris"), datetime.datetime(2026, 10, 25, 2, 45)]
    rows = [["Date", "Calls offered"]] + [[t, n] for n, t in enumerate(times, start=1)]
    assert [(row, value) for row, _column, value, _message in dst_refused(contract, xlsx_file(rows))] == [(102, "101")]


def test_on_an_ordinary_day_a_quarter_hour_of_2_am_given_twice_is_still_refused():
    contract = contract_in("Europe/Paris")
    ordinary = datetime.date(2026, 10, 18)
    lines = [*interval_lines(local_quarter_hours(ordinary, "Europe/Paris")), "18/10/2026 02:15;7;7;1\n"]
    errors = dst_refused(contract, csv_file(HEADER + "".join(lines)))
    assert [(row, value) for row, _column, value, _message in errors] == [(98, "7"), (98, "7"), (98, "1")]
    assert errors[0][3].startswith("offered already has a value for Oct. 18, 2026 02:15 earlier in the file")


def test_a_contract_in_new_york_has_its_own_repeated_hour():
    contract = contract_in("America/New_York")
    november_1 = datetime.date(2026, 11, 1)
    times = local_quarter_hours(november_1, "America/New_York")
    assert [f"{t:%H:%M}" for t in times[4:12]] == ["01:00", "01:15", "01:30", "01:45"] * 2
    dst_import(contract, csv_file(HEADER + "".join(interval_lines(times))))
    assert values(contract)[("offered", november_1)] == sum(range(1, 101))
    # Paris's repeated hour is an ordinary one in New York, where 25 October is an ordinary day.
    paris_autumn = HEADER + "".join(interval_lines(local_quarter_hours(AUTUMN, "Europe/Paris")))
    errors = dst_refused(contract, csv_file(paris_autumn))
    assert [(row, value) for row, _column, value, _message in errors][:4] == [(14, "13")] * 2 + [(14, "1"), (15, "14")]


def test_a_contract_with_sites_in_two_zones_accepts_the_repeated_hour_of_each():
    contract = contract_in("Europe/Paris", "America/New_York")
    november_1 = datetime.date(2026, 11, 1)
    lines = interval_lines(local_quarter_hours(AUTUMN, "Europe/Paris"))
    lines += interval_lines(local_quarter_hours(november_1, "America/New_York"))
    dst_import(contract, csv_file(HEADER + "".join(lines)))
    assert values(contract)[("offered", AUTUMN)] == values(contract)[("offered", november_1)] == 5050


def test_on_the_spring_day_the_skipped_hour_may_be_missing_or_given_as_written():
    """ACD exports either leave out the hour the clocks skip (92 quarter hours) or list every quarter hour of
    the day, those of 02:00–02:45 with zeros: both are the day's data, summed as written."""
    contract = contract_in("Europe/Paris")
    times = local_quarter_hours(SPRING, "Europe/Paris")
    assert len(times) == 92 and "02:00" not in {f"{t:%H:%M}" for t in times}
    dst_import(contract, csv_file(HEADER + "".join(interval_lines(times))))
    assert values(contract)[("offered", SPRING)] == sum(range(1, 93))

    every_quarter_hour = [datetime.datetime(2026, 3, 29) + datetime.timedelta(minutes=15 * i) for i in range(96)]
    dst_import(contract, csv_file(HEADER + "".join(interval_lines(every_quarter_hour))))
    assert values(contract)[("offered", SPRING)] == sum(range(1, 97))


def test_on_the_spring_day_a_skipped_quarter_hour_given_twice_is_refused():
    contract = contract_in("Europe/Paris")
    lines = interval_lines(local_quarter_hours(SPRING, "Europe/Paris")) + ["29/03/2026 02:15;1;1;0\n"] * 2
    errors = dst_refused(contract, csv_file(HEADER + "".join(lines)))
    assert [(row, value) for row, _column, value, _message in errors] == [(95, "1"), (95, "1"), (95, "0")]


def minutes(first: str, last: str) -> set[int]:
    start, end = (int(text[:2]) * 60 + int(text[3:]) for text in (first, last))
    return set(range(start, end + 1))


@pytest.mark.parametrize(
    ("zone", "day", "repeated"),
    [
        ("Europe/Paris", AUTUMN, minutes("02:00", "02:59")),
        ("Europe/Paris", SPRING, set()),
        ("Europe/Paris", datetime.date(2026, 10, 24), set()),
        ("America/New_York", datetime.date(2026, 11, 1), minutes("01:00", "01:59")),
        ("Australia/Lord_Howe", datetime.date(2026, 4, 5), minutes("01:30", "01:59")),  # half an hour back
        ("Africa/Casablanca", datetime.date(2025, 2, 23), minutes("02:00", "02:59")),  # Ramadan time
        ("UTC", AUTUMN, set()),
    ],
)
def test_the_repeated_minutes_of_a_day_come_from_its_time_zone(zone, day, repeated):
    mask = repeated_minutes(day, ZoneInfo(zone))
    assert {minute for minute in range(24 * 60) if mask >> minute & 1} == repeated


def test_a_sites_zone_that_is_no_time_zone_is_left_out(settings):
    settings.TIME_ZONE = "Europe/Paris"
    assert local_time_zones(contract_in("Mars/Olympus_Mons")) == [ZoneInfo("Europe/Paris")]
    assert local_time_zones(contract_in("Europe", "America/New_York")) == [ZoneInfo("America/New_York")]
