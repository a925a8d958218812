"""Every validation rule of KPI data: each reports row, column, value and reason, and nothing is written."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from contracts.choices import Channel
from sla_tracker.choices import MeasurementSource, StatementStatus, UploadStatus
from sla_tracker.kpi_import import reasons
from sla_tracker.kpi_import.readers import UnreadableFile
from sla_tracker.kpi_import.reasons import Reason, readable_errors, readable_reason
from sla_tracker.kpi_import.service import KpiDataRejected, import_upload, preview_upload, save_measurements
from sla_tracker.kpi_import.validation import KpiValue, Validator
from sla_tracker.models import KpiUpload, Measurement
from tests.factories import MeasurementFactory, PenaltyStatementFactory, UserFactory
from tests.sla_tracker.kpi_support import TODAY, csv_file, nothing_written, snapshot, voice_contract, xlsx_file

pytestmark = pytest.mark.django_db

HEADER = "Date;Appels reçus;Appels traités;Traités en moins de 20 s;Abandons;Abandons courts\n"


def preview(contract, text, **kwargs):
    return preview_upload(
        contract=contract, file=csv_file(text), actor=contract.owner, today=kwargs.pop("today", TODAY), **kwargs
    )


def refused_upload(**kwargs) -> KpiDataRejected:
    """The refusal of a pack, which stores nothing."""
    uploads = set(KpiUpload.objects.values_list("pk", flat=True))
    with pytest.raises(KpiDataRejected) as rejected:
        preview_upload(**kwargs)
    assert set(KpiUpload.objects.values_list("pk", flat=True)) == uploads
    return rejected.value


def refused(contract, text, **kwargs) -> KpiDataRejected:
    return refused_upload(
        contract=contract, file=csv_file(text), actor=contract.owner, today=kwargs.pop("today", TODAY), **kwargs
    )


def errors_of(rejected: KpiDataRejected) -> list[tuple]:
    return [(e["row"], e["column"], e["value"], e["message"]) for e in readable_errors(rejected.stored_errors())]


def test_a_valid_file_is_validated_and_nothing_is_written_before_the_import():
    contract = voice_contract()
    upload = preview(contract, HEADER + "02/01/2025;1200;1130;940;70;12\n03/01/2025;1100;1050;900;50;10\n")
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert upload.rows_total == 2
    assert upload.preview["values"] == 10
    assert upload.preview["months"] == ["2025-01"]
    assert nothing_written()


def test_an_unknown_contract_is_refused_by_the_api_path():
    # The API and the command look contracts up by id or reference; see test_kpi_api and the command test.
    contract = voice_contract()
    with pytest.raises(KpiDataRejected):
        save_measurements(
            contract=contract,
            values=[KpiValue("no_such_counter", "2025-01-02", 1, row=0, column="value", counter_column="counter")],
            source=MeasurementSource.API,
            actor=contract.owner,
            today=TODAY,
        )


def test_an_unknown_counter_is_reported_once_for_its_column():
    contract = voice_contract()
    mapping = {"date_column": "Date", "columns": {"Calls": "calls_received"}}
    rejected = refused(contract, "Date;Calls\n2025-01-02;10\n2025-01-03;11\n", mapping=mapping)
    assert errors_of(rejected) == [(2, "Calls", "calls_received", "Unknown counter “calls_received”.")]
    assert nothing_written()


def test_a_date_outside_the_contracts_term_is_refused():
    contract = voice_contract()
    rejected = refused(contract, HEADER + "31/12/2024;1200;1130;940;70;12\n")
    assert errors_of(rejected) == [
        (2, "Date", "31/12/2024", "Dec. 31, 2024 is outside the contract's term (Jan. 1, 2025 to Dec. 31, 2027).")
    ]
    assert nothing_written()


@pytest.mark.parametrize("cell", ["9999-12", "12/9999"])
def test_the_last_month_of_the_calendar_is_outside_the_contracts_term_not_a_server_error(cell):
    """December 9999 has no month after it to end on."""
    contract = voice_contract()
    rejected = refused(contract, HEADER + f"{cell};1200;1130;940;70;12\n")
    assert errors_of(rejected) == [
        (2, "Date", cell, "December 9999 is outside the contract's term (Jan. 1, 2025 to Dec. 31, 2027).")
    ]
    assert nothing_written()


def test_a_date_in_the_future_is_refused():
    contract = voice_contract()
    rejected = refused(contract, HEADER + "16/03/2025;1200;1130;940;70;12\n")
    assert errors_of(rejected) == [(2, "Date", "16/03/2025", "March 16, 2025 is in the future.")]
    assert nothing_written()


def test_a_missing_or_unreadable_date_is_refused():
    contract = voice_contract()
    rejected = refused(contract, HEADER + ";1200;1130;940;70;12\n13/13/2025;1;1;1;0;0\n")
    assert [(row, column, message) for row, column, _value, message in errors_of(rejected)] == [
        (2, "Date", "The date is missing."),
        (3, "Date", "Not a date: use YYYY-MM-DD or DD/MM/YYYY (a whole month: YYYY-MM)."),
    ]


MONTH_FIRST = (
    "Dates are read day first (DD/MM/YYYY), and this one looks month-first: write it as DD/MM/YYYY or YYYY-MM-DD."
)


def test_a_month_first_date_is_refused_saying_dates_are_read_day_first():
    """13 January written month first, in a daily file and in an interval file; 30 February is no date either way."""
    contract = voice_contract()
    rejected = refused(
        contract,
        "Date;Appels reçus\n01/13/2025;1200\n01/14/2025;1100\n02/30/2025;1000\n",
    )
    assert errors_of(rejected) == [
        (2, "Date", "01/13/2025", MONTH_FIRST),
        (3, "Date", "01/14/2025", MONTH_FIRST),
        (4, "Date", "02/30/2025", "Not a date: use YYYY-MM-DD or DD/MM/YYYY (a whole month: YYYY-MM)."),
    ]
    rejected = refused(contract, "Date;Appels reçus\n01/13/2025 08:15;1200\n")
    assert errors_of(rejected) == [(2, "Date", "01/13/2025 08:15", MONTH_FIRST)]
    assert nothing_written()


def test_a_counter_outside_the_contracts_scope_is_refused():
    contract = voice_contract(channels=(Channel.VOICE,))
    rejected = refused(contract, "Date;Chats offered\n2025-01-02;40\n")
    assert errors_of(rejected) == [
        (
            2,
            "Chats offered",
            "chats_offered",
            "chats_offered is chat data, and this contract's scope has no chat channel.",
        )
    ]
    assert nothing_written()


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("-5", "Negative values are not allowed: counters count things."),
        ("beaucoup", "Not a number."),
        ("12,5", "offered is a count: give a whole number."),
    ],
)
def test_negative_non_numeric_and_fractional_counts_are_refused(cell, message):
    contract = voice_contract()
    rejected = refused(contract, f"Date;Appels reçus\n02/01/2025;{cell}\n")
    assert errors_of(rejected) == [(2, "Appels reçus", cell, message)]
    assert nothing_written()


@pytest.mark.parametrize("cell", ["12345678901234567", "1,23456"])
def test_a_number_too_large_or_too_precise_is_refused(cell):
    contract = voice_contract()
    rejected = refused(contract, f"Date;Temps d'attente total (s)\n02/01/2025;{cell}\n")
    assert errors_of(rejected) == [(2, "Temps d'attente total (s)", cell, "Too large, or more than 4 decimal places.")]


def test_seconds_may_have_decimals():
    contract = voice_contract()
    upload = preview(contract, "Date;Temps d'attente total (s)\n02/01/2025;23 017,2\n")
    assert upload.status == UploadStatus.VALIDATED, upload.errors


def test_answered_within_the_threshold_cannot_exceed_answered_on_the_same_day():
    contract = voice_contract()
    rejected = refused(contract, HEADER + "02/01/2025;1200;1130;1140;70;12\n")
    assert errors_of(rejected) == [
        (
            2,
            "Traités en moins de 20 s",
            "1140",
            "answered_within_20s (1140) cannot be more than answered (1130) on Jan. 2, 2025.",
        )
    ]
    assert nothing_written()


def test_a_bound_is_checked_between_a_plain_count_and_one_with_thousands_separators():
    contract = voice_contract()
    rejected = refused(contract, HEADER + "02/01/2025;1200;1130;1\u00a0140;70;12\n")
    assert errors_of(rejected) == [
        (
            2,
            "Traités en moins de 20 s",
            "1140",
            "answered_within_20s (1140) cannot be more than answered (1130) on Jan. 2, 2025.",
        )
    ]


def test_short_abandons_cannot_exceed_abandons_on_the_same_day():
    contract = voice_contract()
    rejected = refused(contract, HEADER + "02/01/2025;1200;1130;940;70;71\n")
    assert errors_of(rejected) == [
        (2, "Abandons courts", "71", "short_abandoned (71) cannot be more than abandoned (70) on Jan. 2, 2025.")
    ]


def test_a_bound_is_checked_against_the_stored_value_when_the_file_has_one_side_only():
    contract = voice_contract()
    answered = contract and MeasurementFactory(
        contract=contract, counter=_counter("answered"), day=datetime.date(2025, 1, 2), value=Decimal(100)
    )
    rejected = refused(contract, "Date;Traités en moins de 20 s\n02/01/2025;101\n")
    assert (
        errors_of(rejected)[0][3]
        == "answered_within_20s (101) cannot be more than answered on Jan. 2, 2025: 100 is stored."
    )
    assert answered.value == 100


def test_a_refused_cell_is_not_replaced_by_its_stored_value_in_the_bounds_of_its_row():
    """QA: "douze" as calls answered also reported "offered (333) cannot be less than answered: 339 is stored",
    a bound against the value the file was replacing, on a cell that is right."""
    contract = voice_contract()
    MeasurementFactory(contract=contract, counter=_counter("answered"), day=datetime.date(2025, 1, 2), value=339)
    rejected = refused(contract, "Date;Appels reçus;Appels traités\n02/01/2025;333;douze\n")
    item = save_measurements_refusal(contract, [("offered", "333"), ("answered", "douze")])

    assert [(row, column) for row, column, _value, _message in errors_of(rejected)] == [(2, "Appels traités")]
    assert [issue.column for issue in item] == ["answered"]


def save_measurements_refusal(contract, values):
    with pytest.raises(KpiDataRejected) as rejected:
        save_measurements(
            contract=contract,
            values=[
                KpiValue(code, "2025-01-02", value, row=index, column=code)
                for index, (code, value) in enumerate(values)
            ],
            source=MeasurementSource.MANUAL,
            actor=contract.owner,
            today=TODAY,
        )
    return rejected.value.issues


def test_a_duplicate_row_for_the_same_day_and_counter_is_refused():
    contract = voice_contract()
    rejected = refused(contract, "Date;Appels reçus\n02/01/2025;1200\n2025-01-02;1250\n")
    assert errors_of(rejected) == [
        (
            3,
            "Appels reçus",
            "1250",
            "offered already has a value for Jan. 2, 2025 in row 2: give each day and counter once.",
        )
    ]
    assert nothing_written()


def test_a_month_given_both_by_day_and_as_a_whole_in_one_file_is_refused():
    contract = voice_contract()
    rejected = refused(contract, "Date;Appels reçus;Appels traités\n02/01/2025;1200;1100\n2025-01;5000;\n")
    assert errors_of(rejected) == [
        (
            3,
            "Appels reçus",
            None,
            "offered is given for the whole of January 2025 and for days of it (row 2): give the month by day or as a "
            "whole, not both (the whole month would be added to the days).",
        )
    ]
    assert nothing_written()


def test_a_whole_month_and_stored_days_of_it_or_the_reverse_are_refused():
    contract = voice_contract()
    MeasurementFactory(contract=contract, counter=_counter("offered"), day=datetime.date(2025, 1, 2), value=1200)
    MeasurementFactory(contract=contract, counter=_counter("answered"), day=None, month=datetime.date(2025, 2, 1))

    rejected = refused(contract, "Date;Appels reçus;Appels traités\n2025-01;5000;4000\n03/02/2025;1200;1100\n")

    assert errors_of(rejected) == [
        (
            2,
            "Appels reçus",
            None,
            "offered already has values for days of January 2025: a whole-month value would be added to them. Give the "
            "month by day, or delete its daily values first.",
        ),
        (
            3,
            "Appels traités",
            None,
            "answered has a value for the whole of February 2025: a value for one of its days would be added to it. "
            "Give the month as a whole, or delete its whole-month value first.",
        ),
    ]
    assert preview(contract, "Date;Appels reçus\n2025-02;5000\n03/01/2025;1200\n").status == UploadStatus.VALIDATED


def test_a_whole_month_replaces_the_days_it_deletes_in_the_same_input():
    contract = voice_contract()
    offered = _counter("offered")
    MeasurementFactory(contract=contract, counter=offered, day=datetime.date(2025, 1, 2), value=1200)
    items = [
        KpiValue("offered", "2025-01", 5000, row=0, column="value"),
        KpiValue("offered", "2025-01-02", None, row=1, column="value"),
    ]

    save_measurements(contract=contract, values=items, source=MeasurementSource.API, actor=contract.owner, today=TODAY)

    assert list(contract.measurements.values_list("day", "value")) == [(None, 5000)]


@pytest.mark.parametrize("status", [StatementStatus.APPROVED, StatementStatus.INVOICED])
def test_a_month_whose_statement_is_approved_is_refused_with_the_way_to_correct_it(status):
    contract = voice_contract()
    PenaltyStatementFactory(contract=contract, month=datetime.date(2025, 1, 1), approved=True, status=status)
    rejected = refused(contract, "Date;Appels reçus\n02/01/2025;1200\n03/01/2025;1200\n03/02/2025;1200\n")
    errors = errors_of(rejected)
    assert len(errors) == 2  # once per row of the locked month; February is open
    message = errors[0][3]
    assert message.startswith(f"The penalty statement of January 2025 is “{StatementStatus(status).label}”")
    # The way to correct it, approved or invoiced: a correction, whose difference becomes an adjustment.
    assert "only changes through a correction" in message
    assert "carried into the next open statement as an adjustment" in message
    assert nothing_written()


def test_an_empty_file_is_refused_and_nothing_is_stored():
    contract = voice_contract()
    with pytest.raises(UnreadableFile) as refused:
        preview(contract, "")
    assert str(refused.value.message) == "The file is empty."
    assert not contract.kpi_uploads.exists()
    assert nothing_written()


@pytest.mark.parametrize("header", [HEADER, "MZ this is not a KPI pack\n"], ids=["known layout", "unknown layout"])
def test_a_file_with_no_data_rows_is_refused(header):
    contract = voice_contract()
    rejected = refused(contract, header)
    assert errors_of(rejected) == [(None, None, None, "The file has a header row but no data rows.")]
    assert nothing_written()


def test_a_file_over_the_size_limit_is_refused(settings):
    contract = voice_contract()
    settings.KPI_UPLOAD_MAX_BYTES = 100
    with pytest.raises(UnreadableFile) as refused:
        preview(contract, HEADER + "02/01/2025;1200;1130;940;70;12\n" * 3)
    assert "the limit is 0 MB" in str(refused.value.message)
    assert not contract.kpi_uploads.exists()
    assert nothing_written()


def test_a_file_that_is_not_csv_or_excel_is_refused():
    contract = voice_contract()
    upload = csv_file("", name="report.pdf")
    upload.file.write(b"%PDF-1.7\n\x00\x01binary")
    upload.size = upload.file.tell()
    with pytest.raises(UnreadableFile) as refused:
        preview_upload(contract=contract, file=upload, actor=contract.owner, today=TODAY)
    assert str(refused.value.message) == (
        "The file is a PDF document, not a KPI pack: send a CSV (UTF-8) or Excel .xlsx file."
    )
    assert nothing_written()


def test_all_errors_are_collected_not_just_the_first():
    contract = voice_contract()
    rejected = refused(
        contract, HEADER + "02/01/2025;x;1130;940;70;12\n03/01/2025;-1;1130;940;70;12\n04/04/2025;1;1;1;0;0\n"
    )
    assert [error[0] for error in errors_of(rejected)] == [2, 3, 4]
    assert rejected.error_count == 3


def test_a_refusal_is_kept_in_no_language_and_read_in_the_readers():
    """A reason is its English message id and its parameters (a day as a date): written in French for a
    French reader and in English for an English one, whichever language the uploader had."""
    contract = voice_contract()
    with translation.override("fr"):
        rejected = refused(contract, HEADER + "02/01/2025;1200;1130;1140;70;12\n")

    assert rejected.stored_errors() == [
        {
            "row": 2,
            "column": "Traités en moins de 20 s",
            "value": "1140",
            "msgid": "{subset} ({subset_value}) cannot be more than {bound} ({bound_value}) on {when}.",
            "params": {
                "subset": "answered_within_20s",
                "subset_value": "1140",
                "bound": "answered",
                "bound_value": "1130",
                "when": {"date": "2025-01-02"},
            },
        }
    ]
    with translation.override("en"):
        assert readable_errors(rejected.stored_errors())[0]["message"] == (
            "answered_within_20s (1140) cannot be more than answered (1130) on Jan. 2, 2025."
        )
    with translation.override("fr"):
        assert readable_errors(rejected.stored_errors())[0]["message"] == (
            "answered_within_20s (1140) ne peut pas dépasser answered (1130) le 2 janvier 2025."
        )


def test_errors_stored_as_text_before_are_shown_as_they_are_in_row_order():
    stored = [
        {"row": 5, "column": "A", "value": "x", "message": "Not a number."},
        {"row": 3, "column": "A", "value": "-1", "message": "Les valeurs négatives ne sont pas autorisées."},
        {"row": None, "column": None, "value": None, "message": "The file was already imported."},
    ]
    with translation.override("en"):
        assert [(error["row"], error["message"]) for error in readable_errors(stored)] == [
            (None, "The file was already imported."),
            (3, "Les valeurs négatives ne sont pas autorisées."),
            (5, "Not a number."),
        ]


def test_a_reason_whose_translation_lacks_a_parameter_is_shown_in_english(monkeypatch):
    monkeypatch.setattr(reasons, "gettext", lambda msgid: "{counter} est un comptage : {oops}.")
    reason = Reason("{counter} is a count: give a whole number.", {"counter": "offered"})
    assert str(reason) == "offered is a count: give a whole number."


def test_errors_found_after_the_rows_are_listed_in_row_order():
    """The same-day bounds are checked once the file is read: their rows come among the others."""
    contract = voice_contract()
    rejected = refused(contract, HEADER + "02/01/2025;1200;1130;1140;70;12\n03/01/2025;x;1;1;0;0\n")
    assert [error["row"] for error in rejected.stored_errors()] == [2, 3]


def test_a_mapping_that_names_columns_the_file_lacks_needs_a_new_mapping():
    contract = voice_contract()
    text = "Date;A\n2025-01-02;1\n"
    mapping = {"date_column": "Date", "columns": {"B": "offered"}}

    upload = preview(contract, text, mapping=mapping, mapping_step=True)
    assert upload.status == UploadStatus.NEEDS_MAPPING
    assert readable_reason(upload.preview["mapping_needed"]) == "The file has no column “B”."
    # Sent without a mapping step (API, command), the pack is refused, naming the column: nothing is stored.
    assert errors_of(refused(contract, text, mapping=mapping)) == [(1, "B", None, "The file has no column “B”.")]


def test_an_unknown_mapping_name_is_refused():
    contract = voice_contract()
    with pytest.raises(ValidationError):
        preview(contract, "Date;A\n2025-01-02;1\n", mapping_name="nope")


def test_an_xlsx_is_validated_like_a_csv():
    contract = voice_contract()
    rejected = refused_upload(
        contract=contract,
        file=xlsx_file([["Date", "Calls offered", "Calls answered"], [datetime.datetime(2025, 1, 2), 10, 11]]),
        actor=UserFactory(),
        today=TODAY,
    )
    assert errors_of(rejected)[0][3] == "answered (11) cannot be more than offered (10) on Jan. 2, 2025."


def _counter(code):
    from sla_tracker.models import KpiCounter

    return KpiCounter.objects.get(code=code)


def xlsx_pack(rows, *, build=None):
    upload = xlsx_file(rows)
    if build:
        from openpyxl import load_workbook

        workbook = load_workbook(upload)
        build(workbook.active)
        buffer = io.BytesIO()
        workbook.save(buffer)
        upload = SimpleUploadedFile("kpi.xlsx", buffer.getvalue())
    return upload


def xlsx_preview(contract, rows, *, build=None):
    return preview_upload(contract=contract, file=xlsx_pack(rows, build=build), actor=contract.owner, today=TODAY)


def xlsx_refused(contract, rows, *, build=None) -> KpiDataRejected:
    return refused_upload(contract=contract, file=xlsx_pack(rows, build=build), actor=contract.owner, today=TODAY)


SERIAL_AS_TEXT = (
    "This looks like an Excel date serial number stored as text, not a date: format the column as a date in Excel "
    "(or write the dates as YYYY-MM-DD), then upload the file again."
)
SERIAL_AS_NUMBER = (
    "This looks like an Excel date serial number in a cell formatted as a number, not a date: format the column "
    "as a date in Excel (or write the dates as YYYY-MM-DD), then upload the file again."
)


def test_an_excel_date_serial_number_in_a_date_cell_is_refused_naming_the_cell_and_the_fix():
    contract = voice_contract()

    def as_text(sheet):
        sheet["A2"].number_format = "@"

    rejected = xlsx_refused(
        contract, [["Date", "Calls offered"], ["45659", 10], [45660, 11], ["45661.5", 12], ["12345", 13]], build=as_text
    )

    assert errors_of(rejected) == [
        (2, "Date", "45659", SERIAL_AS_TEXT),
        (3, "Date", "45660", SERIAL_AS_NUMBER),
        (4, "Date", "45661.5", SERIAL_AS_TEXT),
        (5, "Date", "12345", "Not a date: use YYYY-MM-DD or DD/MM/YYYY (a whole month: YYYY-MM)."),
    ]
    assert nothing_written()


def test_a_month_column_of_excel_dates_formatted_without_a_day_gives_whole_month_values():
    contract = voice_contract()

    def month_format(sheet):
        sheet["A2"].number_format = "mmm yyyy"

    upload = xlsx_preview(
        contract, [["Month", "Calls offered"], [datetime.datetime(2025, 1, 1), 4000]], build=month_format
    )
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert (upload.preview["first_day"], upload.preview["months"]) == ("2025-01-01", ["2025-01"])
    import_upload(upload=upload, actor=contract.owner, today=TODAY)
    assert list(Measurement.objects.values_list("month", "day", "value")) == [(datetime.date(2025, 1, 1), None, 4000)]


def test_excel_float_noise_is_read_as_excel_shows_the_number():
    contract = voice_contract()
    upload = xlsx_preview(
        contract,
        [["Date", "Total wait seconds", "Calls offered"], ["02/01/2025", 23017.199999999997, 1596.0000000000002]],
    )
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    import_upload(upload=upload, actor=contract.owner, today=TODAY)
    assert sorted(Measurement.objects.values_list("value", flat=True)) == [Decimal("1596"), Decimal("23017.2")]


def test_a_formula_without_a_computed_value_is_refused_with_the_way_to_fix_it():
    contract = voice_contract()
    rejected = xlsx_refused(contract, [["Date", "Calls offered", "Calls answered"], ["02/01/2025", 10, "=B2-1"]])
    assert errors_of(rejected) == [
        (
            2,
            "Calls answered",
            "=B2-1",
            "A formula without a computed value: open and save the file in Excel, then upload it again.",
        )
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Date\tAppels reçus\n02/01/2025\t1,234\n",
            "“1,234” may mean 1234 or 1.234: write 1234 without a thousands separator, or 1.2340 for the decimal.",
        ),
        (
            "Date;Temps d'attente total (s)\n02/01/2025;12.5\n",
            "“.” is read as a thousands separator in this file: write 12,5.",
        ),
        (
            'Date,Total wait seconds\n02/01/2025,"12,5"\n',
            "“,” is read as a thousands separator in this file: write 12.5.",
        ),
    ],
)
def test_a_number_the_files_convention_cannot_settle_is_refused_with_the_way_to_write_it(text, message):
    contract = voice_contract()
    rejected = refused(contract, text)
    assert errors_of(rejected)[0][3] == message


@pytest.mark.parametrize(
    ("text", "value", "message"),
    [
        (
            "Date;Appels reçus\n02/01/2025;1.250\n",
            "1.250",
            "“1.250” may mean 1250 or 1.25: write 1250 without a thousands separator, or 1,25 for the decimal.",
        ),
        (
            'Date,Appels reçus\n02/01/2025,"1,250"\n',
            "1,250",
            "“1,250” may mean 1250 or 1.25: write 1250 without a thousands separator, or 1.25 for the decimal.",
        ),
    ],
)
def test_one_thousands_separator_before_three_digits_is_refused_with_both_readings_whatever_the_files_convention(
    text, value, message
):
    contract = voice_contract()
    rejected = refused(contract, text)
    assert errors_of(rejected) == [(2, "Appels reçus", value, message)]
    assert nothing_written()


@pytest.mark.parametrize(
    ("cell", "expected"), [("1250", Decimal(1250)), ("1.250.000", Decimal(1250000)), ("1,25", Decimal("1.25"))]
)
def test_a_semicolon_files_numbers_written_as_the_ambiguity_error_says_are_read_as_written(cell, expected):
    contract = voice_contract()
    upload = preview(contract, f"Date;Temps d'attente total (s)\n02/01/2025;{cell}\n")
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    import_upload(upload=upload, actor=contract.owner, today=TODAY)
    assert Measurement.objects.get().value == expected


def test_an_ambiguous_text_number_in_an_xlsx_is_refused():
    contract = voice_contract()
    rejected = xlsx_refused(contract, [["Date", "Calls offered"], ["02/01/2025", "2.500"]])
    assert errors_of(rejected) == [
        (
            2,
            "Calls offered",
            "2.500",
            "“2.500” may mean 2500 or 2.5: write 2500 without a thousands separator, or 2.5000 for the decimal.",
        )
    ]


def test_a_decimal_point_in_the_french_grid_says_how_to_write_it():
    contract = voice_contract()
    with pytest.raises(KpiDataRejected) as rejected:
        save_measurements(
            contract=contract,
            values=[KpiValue("total_wait_seconds", "2025-01-02", "12.5", row=2, column="total_wait_seconds")],
            source=MeasurementSource.MANUAL,
            actor=contract.owner,
            today=TODAY,
            decimal_comma=True,
        )
    assert str(rejected.value.issues[0].message) == "“.” is read as a thousands separator in your language: write 12,5."


def test_a_bound_broken_by_the_files_value_against_a_stored_one_reports_the_files_cell():
    contract = voice_contract()
    MeasurementFactory(
        contract=contract, counter=_counter("answered_within_20s"), day=datetime.date(2025, 1, 2), value=Decimal(1000)
    )
    rejected = refused(contract, "Date;Appels traités\n02/01/2025;100\n")
    assert errors_of(rejected) == [
        (
            2,
            "Appels traités",
            "100",
            "answered (100) cannot be less than answered_within_20s on Jan. 2, 2025: 1000 is stored.",
        )
    ]


# A value under no header ------------------------------------------------------------------------------------

STRAY_VALUE = (
    "This row has a value in column {column}, which has no header: a stray separator may have shifted the row's "
    "values. Correct the row, or give the column a header."
)


def test_a_csv_row_shifted_by_a_stray_separator_is_refused_naming_its_row_and_the_column_without_a_header():
    """`02/01/2025;3000;;40` under `Date;Appels traités;Abandons` would read answered 3000 and no abandons."""
    contract = voice_contract()
    before = snapshot()
    rejected = refused(
        contract,
        "Date;Appels traités;Abandons\n02/01/2025;3000;40\n03/01/2025;3000;;40\n04/01/2025;3000;40;;\n"
        "05/01/2025;;;;;7;\n",
    )
    assert errors_of(rejected) == [
        (3, "D", "40", STRAY_VALUE.format(column="D")),
        (5, "F", "7", STRAY_VALUE.format(column="F")),
    ]
    assert snapshot() == before


def test_a_value_under_an_empty_header_of_a_csv_file_is_refused_as_a_stray_separator_in_the_header_row():
    """`Date;Appels traités;;Abandons` (a stray separator in the header) over `02/01/2025;3000;40`: the abandons are
    under the empty header, and "Abandons" would read nothing."""
    contract = voice_contract()
    mapping = {"date_column": "Date", "columns": {"Appels traités": "answered", "Abandons": "abandoned"}}
    text = "Date;Appels traités;;Abandons\n02/01/2025;3000;;40\n03/01/2025;2900;30\n"
    before = snapshot()
    rejected = refused(contract, text, mapping=mapping)
    assert errors_of(rejected) == [(3, "C", "30", STRAY_VALUE.format(column="C"))]
    assert snapshot() == before
    upload = preview(contract, "Date;Appels traités;;Abandons\n02/01/2025;3000;;40\n", mapping=mapping)
    assert upload.status == UploadStatus.VALIDATED, upload.errors  # an empty column under it is no value


def test_trailing_empty_cells_of_a_csv_row_are_no_values():
    contract = voice_contract()
    upload = preview(contract, "Date;Appels traités;Abandons\n02/01/2025;3000;40;\n03/01/2025;2900;30;; \n;;;;\n")
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    import_upload(upload=upload, actor=contract.owner, today=TODAY)
    stored = {(m.counter.code, m.day.day): m.value for m in Measurement.objects.filter(contract=contract)}
    assert stored == {("answered", 2): 3000, ("abandoned", 2): 40, ("answered", 3): 2900, ("abandoned", 3): 30}


def test_a_stray_value_after_an_excel_separator_line_names_the_row_a_spreadsheet_shows():
    contract = voice_contract()
    rejected = refused(contract, "sep=;\nDate;Appels traités;Abandons\n02/01/2025;3000;;40\n")
    assert errors_of(rejected) == [(2, "D", "40", STRAY_VALUE.format(column="D"))]


def test_a_column_named_only_by_the_upper_row_of_a_two_row_header_has_a_header():
    contract = voice_contract()
    text = "Date;Appels;;Abandons\n;reçus;traités\n02/01/2025;1200;1130;70\n"
    mapping = {"date_column": "Date", "columns": {"reçus": "offered", "traités": "answered", "Abandons": "abandoned"}}
    upload = preview(contract, text, mapping=mapping)
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert upload.preview["values"] == 3
    rejected = refused(contract, text + "03/01/2025;1200;1130;;70\n", mapping=mapping)
    assert errors_of(rejected) == [(4, "E", "70", STRAY_VALUE.format(column="E"))]


def test_a_stray_value_in_a_run_of_interval_rows_summed_at_once_is_refused(monkeypatch):
    """The run's rows are well formed but for the value right of the header: the run is summed without
    checking each row (`Validator._sum_block`), and the file is still refused."""
    monkeypatch.setattr(Validator, "_row_day", lambda *args, **kwargs: pytest.fail("a row was checked on its own"))
    contract = voice_contract()
    rows = [f"02/01/2025;{quarter // 4:02d}:{quarter % 4 * 15:02d};10;9" for quarter in range(8)]
    rows[5] += ";4"
    before = snapshot()
    rejected = refused(contract, "Date;Heure;Appels reçus;Appels traités\n" + "\n".join(rows) + "\n")
    assert errors_of(rejected) == [(7, "E", "4", STRAY_VALUE.format(column="E"))]
    assert snapshot() == before


def test_a_value_right_of_an_excel_table_is_a_note_not_a_shift():
    """A workbook's cells keep their columns: notes or totals typed beside the table are left out."""
    contract = voice_contract()
    upload = preview_upload(
        contract=contract,
        file=xlsx_file([["Date", "Appels traités"], ["02/01/2025", 3000, None, "checked by N."], [None, None, 3000]]),
        actor=contract.owner,
        today=TODAY,
    )
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert upload.preview["values"] == 1
