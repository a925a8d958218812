"""The write path: preview then import, upserts with their change log, mappings, duplicates, the command."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.utils import formats, timezone, translation

from accounts.choices import Role
from sla_tracker.choices import ChangeAction, MeasurementSource, UploadStatus
from sla_tracker.kpi_import.reasons import readable_errors, readable_reason
from sla_tracker.kpi_import.service import (
    KpiDataRejected,
    import_upload,
    preview_upload,
    retry_import,
    save_measurements,
)
from sla_tracker.kpi_import.tasks import import_kpi_upload, refused_import
from sla_tracker.kpi_import.validation import KpiValue
from sla_tracker.models import ColumnMapping, KpiUpload, Measurement, MeasurementChange
from tests.factories import ColumnMappingFactory, MeasurementFactory, UserFactory, VendorUserFactory
from tests.sla_tracker.kpi_support import (
    SAMPLE_DATA,
    SAMPLE_TODAY,
    TODAY,
    csv_file,
    database_rows,
    demo_a_like_contract,
    fail_the_next_write,
    nothing_written,
    sample_file,
    snapshot,
    stored_files,
    voice_contract,
    xlsx_file,
)

pytestmark = pytest.mark.django_db

FRENCH_PACK = (
    "Date;Appels reçus;Appels traités;Traités en moins de 20 s;Abandons;Abandons courts;Temps d'attente total (s)\n"
    "02/01/2025;1\u00a0200;1\u00a0130;940;70;12;23\u00a0017,5\n"
    "03.01.2025;1 100;1 050;900;50;10;19 500,25\n"
)


def upload_and_import(contract, file, *, today=TODAY, **kwargs):
    upload = preview_upload(contract=contract, file=file, actor=contract.owner, today=today, **kwargs)
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    return import_upload(upload=upload, actor=contract.owner, today=today)


def values(contract):
    return {(m.counter.code, m.day): m.value for m in Measurement.objects.filter(contract=contract)}


def test_a_french_csv_with_bom_semicolons_day_first_dates_and_decimal_commas_imports():
    contract = voice_contract()
    upload = upload_and_import(contract, csv_file(FRENCH_PACK, bom=True))
    jan_2, jan_3 = datetime.date(2025, 1, 2), datetime.date(2025, 1, 3)
    assert values(contract) == {
        ("offered", jan_2): 1200,
        ("answered", jan_2): 1130,
        ("answered_within_20s", jan_2): 940,
        ("abandoned", jan_2): 70,
        ("short_abandoned", jan_2): 12,
        ("total_wait_seconds", jan_2): Decimal("23017.5"),
        ("offered", jan_3): 1100,
        ("answered", jan_3): 1050,
        ("answered_within_20s", jan_3): 900,
        ("abandoned", jan_3): 50,
        ("short_abandoned", jan_3): 10,
        ("total_wait_seconds", jan_3): Decimal("19500.25"),
    }
    assert upload.status == UploadStatus.IMPORTED
    assert upload.rows_done == upload.rows_total == 2
    assert upload.preview["result"] == {"created": 12, "updated": 0, "deleted": 0, "unchanged": 0}
    assert set(Measurement.objects.values_list("source", "upload", "updated_by", "month").distinct()) == {
        (MeasurementSource.UPLOAD, upload.pk, contract.owner.pk, datetime.date(2025, 1, 1))
    }
    changes = MeasurementChange.objects.filter(upload=upload)
    assert changes.count() == 12
    assert set(changes.values_list("action", "old_value", "changed_by")) >= {
        (ChangeAction.CREATE, None, contract.owner.pk)
    }


def test_the_first_upload_of_a_layout_saves_its_mapping_and_the_next_reuses_it():
    contract = voice_contract()
    first = upload_and_import(contract, csv_file(FRENCH_PACK, name="janvier.csv"))
    mapping = ColumnMapping.objects.get(contract=contract)
    assert first.mapping == mapping
    assert mapping.date_column == "Date"
    assert mapping.columns["Appels reçus"] == "offered"
    assert mapping.columns["Traités en moins de 20 s"] == "answered_within_20s"
    second = preview_upload(
        contract=contract,
        file=csv_file(FRENCH_PACK.replace("1\u00a0200", "1\u00a0201")),
        actor=contract.owner,
        today=TODAY,
    )
    assert second.preview["mapping"]["origin"] == "saved"
    assert second.mapping == mapping


def test_an_unknown_layout_asks_for_a_mapping_and_a_given_mapping_is_remembered():
    contract = voice_contract()
    text = "Jour;Volume entrant;Commentaire\n02/01/2025;1200;RAS\n"
    asked = preview_upload(contract=contract, file=csv_file(text), actor=contract.owner, today=TODAY, mapping_step=True)
    assert asked.status == UploadStatus.NEEDS_MAPPING
    assert asked.preview["mapping"]["unmapped_columns"] == ["Volume entrant", "Commentaire"]
    assert nothing_written()
    mapping = {
        "name": "Vendor v2",
        "date_column": "Jour",
        "columns": {"Volume entrant": "offered", "Commentaire": None},
    }
    upload_and_import(contract, csv_file(text), mapping=mapping)
    saved = ColumnMapping.objects.get(contract=contract, name="Vendor v2")
    assert saved.columns == {"Volume entrant": "offered", "Commentaire": ""}  # ignored on purpose, remembered
    assert values(contract) == {("offered", datetime.date(2025, 1, 2)): 1200}


def test_a_named_mapping_is_used():
    contract = voice_contract()
    ColumnMappingFactory(contract=contract, name="Lumen", date_column="Jour", columns={"Entrants": "offered"})
    upload = upload_and_import(contract, csv_file("Jour;Entrants\n2025-01-02;5\n"), mapping_name="Lumen")
    assert upload.mapping.name == "Lumen"


def test_re_uploading_a_period_replaces_its_values_and_logs_old_and_new():
    contract = voice_contract()
    upload_and_import(contract, csv_file(FRENCH_PACK))
    corrected = FRENCH_PACK.replace("02/01/2025;1\u00a0200;1\u00a0130;940", "02/01/2025;1\u00a0210;1\u00a0140;950")
    second = upload_and_import(contract, csv_file(corrected))
    assert Measurement.objects.filter(contract=contract).count() == 12
    assert values(contract)[("offered", datetime.date(2025, 1, 2))] == 1210
    assert second.preview["result"] == {"created": 0, "updated": 3, "deleted": 0, "unchanged": 9}
    updates = {
        (c.counter.code, c.old_value, c.new_value, c.upload_id)
        for c in MeasurementChange.objects.filter(action=ChangeAction.UPDATE)
    }
    assert updates == {
        ("offered", 1200, 1210, second.pk),
        ("answered", 1130, 1140, second.pk),
        ("answered_within_20s", 940, 950, second.pk),
    }
    assert Measurement.objects.get(counter__code="offered", day=datetime.date(2025, 1, 2)).upload == second


def test_a_re_upload_that_adds_days_creates_them_and_updates_the_changed_ones():
    contract = voice_contract()
    upload_and_import(contract, csv_file("Date;Appels reçus;Appels traités\n02/01/2025;1200;1130\n"))
    second = upload_and_import(
        contract,
        csv_file("Date;Appels reçus;Appels traités\n02/01/2025;1210;1130\n03/01/2025;900;880\n03/02/2025;5;5\n"),
    )
    assert second.preview["result"] == {"created": 4, "updated": 1, "deleted": 0, "unchanged": 1}
    assert values(contract) == {
        ("offered", datetime.date(2025, 1, 2)): 1210,
        ("answered", datetime.date(2025, 1, 2)): 1130,
        ("offered", datetime.date(2025, 1, 3)): 900,
        ("answered", datetime.date(2025, 1, 3)): 880,
        ("offered", datetime.date(2025, 2, 3)): 5,
        ("answered", datetime.date(2025, 2, 3)): 5,
    }
    log = {
        (c.counter.code, c.day, c.action, c.old_value, c.new_value)
        for c in MeasurementChange.objects.filter(upload=second)
    }
    assert log == {
        ("offered", datetime.date(2025, 1, 2), ChangeAction.UPDATE, 1200, 1210),
        ("offered", datetime.date(2025, 1, 3), ChangeAction.CREATE, None, 900),
        ("answered", datetime.date(2025, 1, 3), ChangeAction.CREATE, None, 880),
        ("offered", datetime.date(2025, 2, 3), ChangeAction.CREATE, None, 5),
        ("answered", datetime.date(2025, 2, 3), ChangeAction.CREATE, None, 5),
    }


def test_counts_are_stored_as_numbers_whatever_their_leading_zeros_or_spaces():
    contract = voice_contract()
    upload_and_import(contract, csv_file("Date;Appels reçus;Appels traités\n02/01/2025;0012; 7 \n"))
    assert values(contract) == {("offered", datetime.date(2025, 1, 2)): 12, ("answered", datetime.date(2025, 1, 2)): 7}


def test_an_error_found_after_the_values_were_sent_to_the_database_still_writes_nothing():
    contract = voice_contract()
    jan_2 = datetime.date(2025, 1, 2)
    with pytest.raises(KpiDataRejected) as rejected:
        save_measurements(
            contract=contract,
            values=[KpiValue("answered", jan_2, 10), KpiValue("answered_within_20s", jan_2, 11)],
            source=MeasurementSource.MANUAL,
            actor=contract.owner,
            today=TODAY,
        )
    assert str(rejected.value.issues[0].message).startswith(
        "answered_within_20s (11) cannot be more than answered (10)"
    )
    assert nothing_written()


def test_the_same_file_twice_is_detected_and_nothing_is_written_or_stored_again():
    contract = voice_contract()
    first = upload_and_import(contract, csv_file(FRENCH_PACK))
    before = snapshot()
    with pytest.raises(KpiDataRejected) as again:
        preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    assert again.value.preview["duplicate_of"] == first.pk
    imported_at = {"datetime": first.imported_at.isoformat()}
    assert again.value.stored_errors()[0]["params"] == {"date": imported_at, "id": first.pk}
    with translation.override("fr"):
        message = readable_errors(again.value.stored_errors())[0]["message"]
        imported_on = formats.date_format(timezone.localtime(first.imported_at), "DATETIME_FORMAT")
    assert message.startswith(f"Ce fichier a déjà été importé le {imported_on} (")
    assert snapshot() == before


def test_the_same_file_again_after_other_changes_restores_its_values():
    contract = voice_contract()
    first = upload_and_import(contract, csv_file(FRENCH_PACK))
    jan_2 = datetime.date(2025, 1, 2)
    save_measurements(
        contract=contract,
        values=[KpiValue("offered", jan_2, 1600)],
        source=MeasurementSource.MANUAL,
        actor=contract.owner,
        today=TODAY,
    )

    again = upload_and_import(contract, csv_file(FRENCH_PACK))

    assert "duplicate_of" not in again.preview
    assert values(contract)[("offered", jan_2)] == 1200
    assert again.preview["result"] == {"created": 0, "updated": 1, "deleted": 0, "unchanged": 11}
    assert again.pk != first.pk


def test_importing_twice_is_idempotent():
    contract = voice_contract()
    upload = upload_and_import(contract, csv_file(FRENCH_PACK))
    assert import_upload(upload=upload, actor=contract.owner, today=TODAY) is upload
    assert MeasurementChange.objects.count() == 12


def test_the_task_claims_the_upload_and_a_second_run_does_nothing(settings):
    contract = voice_contract()
    upload = preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    assert import_kpi_upload.apply(args=(upload.pk, contract.owner.pk)).get() == UploadStatus.IMPORTED
    assert import_kpi_upload.apply(args=(upload.pk, contract.owner.pk)).get() == UploadStatus.IMPORTED
    assert MeasurementChange.objects.count() == 12
    upload.refresh_from_db()
    assert (upload.rows_done, upload.rows_total) == (2, 2)


@pytest.mark.parametrize("language", ["fr", None])
def test_an_import_the_task_refuses_leaves_nothing_and_its_errors_read_in_the_readers_language(
    language, django_capture_on_commit_callbacks
):
    from tests.factories import PenaltyStatementFactory

    contract = voice_contract()
    files = stored_files()
    upload = preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    PenaltyStatementFactory(contract=contract, month=datetime.date(2025, 1, 1), approved=True)
    rows = database_rows()

    with django_capture_on_commit_callbacks(execute=True):
        outcome = import_kpi_upload.apply(args=(upload.pk, contract.owner.pk, language)).get()

    assert outcome == UploadStatus.REJECTED
    # The upload and its file are removed: as before the pack was sent.
    assert snapshot() == (rows | {"sla_tracker.KpiUpload": rows["sla_tracker.KpiUpload"] - 1}, files)
    refusal = refused_import(upload.pk)
    assert (refusal["contract"], refusal["name"], refusal["error_count"]) == (contract.pk, "kpi.csv", 2)
    with translation.override("en"):
        english = readable_errors(refusal["errors"])[0]["message"]
    with translation.override("fr"):
        french = readable_errors(refusal["errors"])[0]["message"]
    assert english.startswith("The penalty statement of January 2025 is “Approved”")
    assert french.startswith("Le relevé de pénalités (janvier 2025) est au statut «\u00a0Approuvé\u00a0»")
    # Delivered again, the task finds the upload gone and keeps the refusal.
    assert import_kpi_upload.apply(args=(upload.pk, contract.owner.pk, language)).get() == UploadStatus.REJECTED
    assert refused_import(upload.pk) == refusal


def test_queueing_an_import_passes_the_current_language_to_the_task(monkeypatch, django_capture_on_commit_callbacks):
    from django.utils import translation

    from sla_tracker.kpi_import import tasks

    contract = voice_contract()
    upload = preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    sent = []
    monkeypatch.setattr(tasks.import_kpi_upload, "apply_async", lambda args, task_id: sent.append((args, task_id)))

    with django_capture_on_commit_callbacks(execute=True), translation.override("fr"):
        tasks.queue_import(upload, contract.owner)

    upload.refresh_from_db()
    assert sent == [((upload.pk, contract.owner.pk, "fr"), upload.task_id)]
    assert upload.task_id


def test_a_statement_approved_between_preview_and_import_rejects_the_import_and_removes_the_upload(
    django_capture_on_commit_callbacks,
):
    from tests.factories import PenaltyStatementFactory

    contract = voice_contract()
    rows, files = snapshot()
    upload = preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    PenaltyStatementFactory(contract=contract, month=datetime.date(2025, 1, 1), approved=True)
    rows = database_rows()  # with the statement
    assert stored_files() == files | {upload.file.name}

    with pytest.raises(KpiDataRejected) as rejected, django_capture_on_commit_callbacks(execute=True):
        import_upload(upload=upload, actor=contract.owner, today=TODAY)

    assert "only changes through a correction" in readable_errors(rejected.value.stored_errors())[0]["message"]
    assert snapshot() == (rows | {"sla_tracker.KpiUpload": rows["sla_tracker.KpiUpload"] - 1}, files)
    assert not KpiUpload.objects.filter(pk=upload.pk).exists()


def test_hand_entry_creates_changes_and_deletes_with_a_log():
    contract = voice_contract()
    jan_2 = datetime.date(2025, 1, 2)
    MeasurementFactory(contract=contract, counter=_counter("offered"), day=jan_2, value=Decimal(10))
    MeasurementFactory(contract=contract, counter=_counter("abandoned"), day=jan_2, value=Decimal(3))
    result = save_measurements(
        contract=contract,
        values=[
            KpiValue("offered", jan_2, "12"),
            KpiValue("abandoned", jan_2, None),
            KpiValue("qa_evaluations", "2025-01", 28),
        ],
        source=MeasurementSource.MANUAL,
        actor=contract.owner,
        today=TODAY,
    )
    assert result.as_dict() == {"created": 1, "updated": 1, "deleted": 1, "unchanged": 0}
    assert values(contract) == {("offered", jan_2): 12, ("qa_evaluations", None): 28}
    log = {(c.counter.code, c.action, c.old_value, c.new_value) for c in MeasurementChange.objects.all()}
    assert log == {
        ("offered", ChangeAction.UPDATE, 10, 12),
        ("abandoned", ChangeAction.DELETE, 3, None),
        ("qa_evaluations", ChangeAction.CREATE, None, 28),
    }
    again = save_measurements(
        contract=contract,
        values=[KpiValue("qa_evaluations", "2025-01", 30)],
        source=MeasurementSource.MANUAL,
        actor=contract.owner,
        today=TODAY,
    )
    assert again.updated == 1
    assert Measurement.objects.filter(contract=contract, day__isnull=True).count() == 1


def test_an_xlsx_pack_imports():
    contract = voice_contract()
    rows = [
        ["Date", "Calls offered", "Calls answered", "Answered within 20 s"],
        [datetime.datetime(2025, 1, 2), 1200, 1130, 940],
        [datetime.datetime(2025, 1, 3), 1100, 1050.0, None],
    ]
    upload = upload_and_import(contract, xlsx_file(rows))
    assert upload.preview["result"]["created"] == 5
    assert values(contract)[("answered", datetime.date(2025, 1, 3))] == 1050


@pytest.mark.parametrize("name", ["kpi_pack_fr.csv", "kpi_pack.xlsx"])
def test_the_sample_packs_import_cleanly_into_a_contract_like_the_demos(name):
    contract = demo_a_like_contract()
    upload = upload_and_import(contract, sample_file(name), today=SAMPLE_TODAY)
    assert upload.preview["months"] == ["2026-10"]
    assert upload.rows_total == 31
    assert Measurement.objects.filter(contract=contract).count() == upload.preview["values"] > 150


def test_the_command_imports_a_pack(capsys):
    """The contract is named by its reference in any case, as references are unique."""
    contract = demo_a_like_contract(reference="DEMO-A")
    call_command(
        "import_kpis", str(SAMPLE_DATA / "kpi_pack_fr.csv"), "--contract", "demo-a", "--today", SAMPLE_TODAY.isoformat()
    )
    output = capsys.readouterr().out
    assert "Imported upload #" in output
    assert "Appels reçus → offered" in output
    assert KpiUpload.objects.get(contract=contract).status == UploadStatus.IMPORTED


def test_the_command_prints_the_report_and_exits_2_on_errors(tmp_path, capsys):
    voice_contract(reference="BPO-ERR")
    path = tmp_path / "bad.csv"
    path.write_text("Date;Appels reçus\n02/01/2025;-4\n", encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        call_command("import_kpis", str(path), "--contract", "BPO-ERR", "--today", TODAY.isoformat())
    assert failed.value.returncode == 2
    assert str(failed.value) == "Nothing imported: 1 error(s)."
    assert "row 2, column “Appels reçus”, value “-4”: Negative values are not allowed" in capsys.readouterr().out
    assert nothing_written()
    assert not KpiUpload.objects.exists()


def test_the_command_refuses_an_unknown_contract(tmp_path):
    path = tmp_path / "kpi.csv"
    path.write_text("Date;Appels reçus\n02/01/2025;4\n", encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        call_command("import_kpis", str(path), "--contract", "NOPE")
    assert failed.value.returncode == 2
    assert "Unknown contract" in str(failed.value)


def _counter(code):
    from sla_tracker.models import KpiCounter

    return KpiCounter.objects.get(code=code)


def test_a_saved_mapping_is_recognised_when_headers_differ_in_case_and_spaces():
    contract = voice_contract()
    ColumnMappingFactory(contract=contract, name="Vendor", date_column="Jour", columns={"Volume Entrant": "offered"})
    upload = upload_and_import(contract, csv_file("JOUR ;volume  entrant \n02/01/2025;12\n"))
    assert upload.preview["mapping"]["origin"] == "saved"
    assert upload.preview["mapping"]["columns"] == {"volume  entrant": "offered"}
    assert values(contract) == {("offered", datetime.date(2025, 1, 2)): 12}


def test_a_new_column_with_a_counters_header_beside_a_saved_mapping_asks_for_the_mapping():
    contract = voice_contract()
    ColumnMappingFactory(contract=contract, name="Vendor", date_column="Jour", columns={"Volume entrant": "offered"})
    text = "Jour;Volume entrant;Abandons;Commentaire\n02/01/2025;12;3;RAS\n"
    asked = preview_upload(contract=contract, file=csv_file(text), actor=contract.owner, today=TODAY, mapping_step=True)
    assert asked.status == UploadStatus.NEEDS_MAPPING
    assert asked.preview["mapping"]["suggested_columns"] == {"Abandons": "abandoned"}
    assert readable_reason(asked.preview["mapping_needed"]) == (
        "The mapping “Vendor” does not read these columns, which look like counters: “Abandons” (abandoned). "
        "Say which counter each holds, or ignore it."
    )
    # Without a mapping step (the API, the command), the pack is refused naming the column, and not stored.
    before = snapshot()
    with pytest.raises(KpiDataRejected) as refused:
        preview_upload(contract=contract, file=csv_file(text), actor=contract.owner, today=TODAY)
    assert [(e["row"], e["column"], e["message"]) for e in readable_errors(refused.value.stored_errors())] == [
        (
            1,
            "Abandons",
            "This column looks like the counter abandoned, which the mapping “Vendor” does not read: give a "
            "mapping that names its counter or ignores it.",
        )
    ]
    assert snapshot() == before


def test_a_column_ignored_on_purpose_is_remembered_and_not_asked_again():
    contract = voice_contract()
    text = "Jour;Volume entrant;Abandons\n02/01/2025;12;3\n"
    mapping = {"name": "Vendor", "date_column": "Jour", "columns": {"Volume entrant": "offered", "Abandons": None}}
    upload_and_import(contract, csv_file(text), mapping=mapping)
    again = preview_upload(
        contract=contract, file=csv_file(text.replace("12", "13")), actor=contract.owner, today=TODAY
    )
    assert again.status == UploadStatus.VALIDATED, again.errors
    assert again.preview["mapping"]["ignored_columns"] == ["Abandons"]
    assert again.preview["mapping"]["unmapped_columns"] == []


def test_the_preview_says_which_sheet_and_which_header_row_were_read():
    contract = voice_contract()
    upload = preview_upload(
        contract=contract,
        file=xlsx_file([["KPI report"], ["Date", "Calls offered"], ["02/01/2025", 4]]),
        actor=contract.owner,
        today=TODAY,
    )
    assert upload.status == UploadStatus.VALIDATED, upload.errors
    assert (upload.preview["sheet"], upload.preview["header_row"]) == ("Sheet", 2)


def test_the_command_refuses_a_mapping_that_is_not_json(tmp_path):
    voice_contract(reference="BPO-JSON")
    path = tmp_path / "kpi.csv"
    path.write_text("Date;Appels reçus\n02/01/2025;4\n", encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        call_command("import_kpis", str(path), "--contract", "BPO-JSON", "--mapping-json", "{'date_column': 'Date'}")
    assert failed.value.returncode == 2
    assert str(failed.value).startswith("--mapping-json is not valid JSON (Expecting property name enclosed in double")
    assert nothing_written()


# Abandoned uploads -------------------------------------------------------------------------------------


def received_days_ago(upload, days):
    KpiUpload.objects.filter(pk=upload.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))
    return upload


def one_upload_of_each_status(contract, *, days_ago):
    """Uploads of ``contract`` received ``days_ago`` days ago, by status (each a file of its own)."""
    day = datetime.date(2025, 1, 2) + datetime.timedelta(days=days_ago % 20)
    pack = f"Date;Appels reçus\n{day:%d/%m/%Y};{days_ago}\n"
    unknown_layout = f"Jour;Volume entrant\n{day:%d/%m/%Y};{days_ago}\n"
    uploads = {
        UploadStatus.NEEDS_MAPPING: preview_upload(
            contract=contract, file=csv_file(unknown_layout), actor=contract.owner, today=TODAY, mapping_step=True
        ),
        UploadStatus.VALIDATED: preview_upload(
            contract=contract, file=csv_file(pack), actor=contract.owner, today=TODAY
        ),
    }
    uploads[UploadStatus.IMPORTED] = upload_and_import(contract, csv_file(f"Date;Appels reçus\n{day:%d/%m/%Y};1\n"))
    for value, status in enumerate((UploadStatus.IMPORTING, UploadStatus.FAILED), start=2):
        other = f"Date;Appels reçus\n{day:%d/%m/%Y};{value}\n"
        uploads[status] = preview_upload(contract=contract, file=csv_file(other), actor=contract.owner, today=TODAY)
        KpiUpload.objects.filter(pk=uploads[status].pk).update(status=status)
    for status, upload in uploads.items():
        assert KpiUpload.objects.get(pk=upload.pk).status == status
        received_days_ago(upload, days_ago)
    return uploads


def test_uploads_abandoned_for_longer_than_the_setting_are_removed_with_their_files(
    settings, django_capture_on_commit_callbacks
):
    from sla_tracker.kpi_import.tasks import discard_abandoned_uploads

    settings.KPI_UPLOAD_ABANDONED_DAYS = 30
    contract = voice_contract()
    old = one_upload_of_each_status(contract, days_ago=31)
    recent = one_upload_of_each_status(contract, days_ago=29)
    values_before, changes_before = values(contract), MeasurementChange.objects.count()
    files = stored_files()
    abandoned = [old[UploadStatus.NEEDS_MAPPING], old[UploadStatus.VALIDATED]]

    with django_capture_on_commit_callbacks(execute=True):
        assert discard_abandoned_uploads.apply().get() == 2

    assert set(KpiUpload.objects.values_list("pk", flat=True)) == {
        upload.pk for upload in [*recent.values(), *old.values()] if upload not in abandoned
    }
    assert stored_files() == files - {upload.file.name for upload in abandoned}
    assert values(contract) == values_before
    assert MeasurementChange.objects.count() == changes_before
    # Run again, nothing is left to remove.
    with django_capture_on_commit_callbacks(execute=True):
        assert discard_abandoned_uploads.apply().get() == 0
    assert stored_files() == files - {upload.file.name for upload in abandoned}


def test_the_files_of_abandoned_uploads_are_removed_only_once_their_removal_is_committed(
    django_capture_on_commit_callbacks,
):
    from sla_tracker.kpi_import.service import discard_uploads_abandoned_before

    contract = voice_contract()
    upload = received_days_ago(
        preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY), 40
    )
    files = stored_files()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert discard_uploads_abandoned_before(received_before=timezone.now() - datetime.timedelta(days=30)) == 1

    assert not KpiUpload.objects.filter(pk=upload.pk).exists()
    assert stored_files() == files
    for callback in callbacks:
        callback()
    assert stored_files() == files - {upload.file.name}


def test_an_abandoned_upload_that_kpi_data_names_is_kept(caplog, django_capture_on_commit_callbacks):
    from sla_tracker.kpi_import.service import discard_uploads_abandoned_before

    contract = voice_contract()
    named = received_days_ago(
        preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY), 40
    )
    MeasurementFactory(contract=contract, day=datetime.date(2025, 1, 2), upload=named)
    files = stored_files()

    with django_capture_on_commit_callbacks(execute=True):
        assert discard_uploads_abandoned_before(received_before=timezone.now() - datetime.timedelta(days=30)) == 0

    assert KpiUpload.objects.filter(pk=named.pk).exists()
    assert stored_files() == files
    assert f"[{named.pk}]" in caplog.text


def test_the_removal_of_abandoned_uploads_runs_daily_and_expires():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["discard-abandoned-uploads"]
    assert entry["task"] == "sla_tracker.discard_abandoned_uploads"
    assert entry["schedule"].day_of_month == set(range(1, 32)) and len(entry["schedule"].hour) == 1
    assert entry["options"]["expires"] <= 24 * 3600


# Retrying a failed import --------------------------------------------------------------------------------


def failed_import(contract, monkeypatch, file=None, **kwargs):
    """An upload whose import failed on a database error: FAILED, with its file, nothing written."""
    upload = preview_upload(
        contract=contract, file=file or csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY, **kwargs
    )
    fail_the_next_write(monkeypatch)
    with pytest.raises(OperationalError):
        import_upload(upload=upload, actor=contract.owner, today=TODAY)
    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED
    return upload


def test_an_import_failing_on_a_database_error_leaves_the_upload_failed_with_its_file_and_nothing_written(
    monkeypatch,
):
    contract = voice_contract()
    upload = failed_import(contract, monkeypatch)

    assert nothing_written()
    assert (upload.rows_done, upload.imported_at, upload.retried_at) == (0, None, None)
    assert upload.file.name in stored_files()


def test_the_tasks_own_retry_imports_an_import_that_failed_on_a_database_error(monkeypatch):
    from celery.exceptions import Retry

    contract = voice_contract()
    upload = preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    fail_the_next_write(monkeypatch)

    with pytest.raises(Retry):
        import_kpi_upload.apply(args=(upload.pk, contract.owner.pk), task_id="import-1", throw=True)
    upload.refresh_from_db()
    assert (upload.status, upload.task_id) == (UploadStatus.FAILED, "import-1")
    assert nothing_written()
    # Celery's retry of the task (the same task id) checks the file again, then imports it.
    assert import_kpi_upload.apply(args=(upload.pk, contract.owner.pk), task_id="import-1").get() == (
        UploadStatus.IMPORTED
    )
    # Delivered again after it succeeded, the task does nothing.
    assert import_kpi_upload.apply(args=(upload.pk, contract.owner.pk), task_id="import-1").get() == (
        UploadStatus.IMPORTED
    )

    upload.refresh_from_db()
    assert (upload.status, upload.task_id, upload.retried_by, upload.retried_at) == (
        UploadStatus.IMPORTED,
        "import-1",
        None,
        None,
    )
    changes = MeasurementChange.objects.filter(contract=contract)
    assert changes.count() == 12
    assert set(changes.values_list("action", "upload", "changed_by")) == {
        (ChangeAction.CREATE, upload.pk, contract.owner.pk)
    }
    assert Measurement.objects.filter(contract=contract, upload=upload).count() == 12


def test_a_task_whose_first_attempt_fails_on_a_database_error_imports_every_value_once_on_its_retry(monkeypatch):
    contract = voice_contract()
    upload = preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    fail_the_next_write(monkeypatch)

    # Run eagerly without propagating the Retry, the task runs its automatic retry at once, as a worker would.
    assert import_kpi_upload.apply(args=(upload.pk, contract.owner.pk), throw=False).get() == UploadStatus.IMPORTED

    assert values(contract)[("offered", datetime.date(2025, 1, 2))] == 1200
    assert MeasurementChange.objects.filter(contract=contract, upload=upload).count() == 12
    assert Measurement.objects.filter(contract=contract, upload=upload).count() == 12
    assert KpiUpload.objects.get(pk=upload.pk).status == UploadStatus.IMPORTED


def test_the_tasks_retry_refuses_a_pack_refused_now_and_removes_it(monkeypatch, django_capture_on_commit_callbacks):
    from celery.exceptions import Retry

    from tests.factories import PenaltyStatementFactory

    contract = voice_contract()
    upload = preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    fail_the_next_write(monkeypatch)
    with pytest.raises(Retry):
        import_kpi_upload.apply(args=(upload.pk, contract.owner.pk), task_id="import-1", throw=True)
    PenaltyStatementFactory(contract=contract, month=datetime.date(2025, 1, 1), approved=True)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = import_kpi_upload.apply(args=(upload.pk, contract.owner.pk), task_id="import-1").get()

    assert outcome == UploadStatus.REJECTED
    assert not KpiUpload.objects.filter(pk=upload.pk).exists()
    assert upload.file.name not in stored_files()
    assert refused_import(upload.pk)["error_count"] == 2
    assert nothing_written()


def test_another_task_does_not_retry_a_failed_import_the_user_retries(monkeypatch):
    contract = voice_contract()
    upload = failed_import(contract, monkeypatch)  # the page's import: no task

    assert import_kpi_upload.apply(args=(upload.pk, contract.owner.pk), task_id="other").get() == UploadStatus.FAILED

    upload.refresh_from_db()
    assert (upload.status, upload.task_id) == (UploadStatus.FAILED, "")
    assert nothing_written()


def importing_since(contract, *, minutes: float, text: str = FRENCH_PACK) -> KpiUpload:
    """An upload whose import was claimed ``minutes`` ago and never finished (its worker or connection lost)."""
    from sla_tracker.kpi_import.service import claim_upload

    upload = preview_upload(contract=contract, file=csv_file(text), actor=contract.owner, today=TODAY)
    assert claim_upload(upload)
    started = timezone.now() - datetime.timedelta(minutes=minutes)
    KpiUpload.objects.filter(pk=upload.pk).update(import_started_at=started)
    upload.refresh_from_db()
    return upload


def test_an_import_stalled_longer_than_the_task_time_limit_is_failed_daily_then_retried_once(settings, caplog):
    from sla_tracker.kpi_import.tasks import STALLED_IMPORT_MARGIN, fail_stalled_imports

    settings.CELERY_TASK_TIME_LIMIT = 600
    limit = 10 + STALLED_IMPORT_MARGIN.total_seconds() / 60
    contract = voice_contract()
    stalled = importing_since(contract, minutes=limit + 1)
    recent = importing_since(contract, minutes=limit - 1, text=FRENCH_PACK.replace("1\u00a0200", "1\u00a0201"))
    rows = database_rows()

    assert fail_stalled_imports.apply().get() == 1

    stalled.refresh_from_db()
    assert (stalled.status, stalled.rows_done) == (UploadStatus.FAILED, 0)
    assert stalled.failed_at is not None and stalled.failed_at > stalled.import_started_at
    assert KpiUpload.objects.get(pk=recent.pk).status == UploadStatus.IMPORTING
    assert KpiUpload.objects.get(pk=recent.pk).failed_at is None
    assert f"[{stalled.pk}]" in caplog.text
    assert database_rows() == rows
    assert fail_stalled_imports.apply().get() == 0
    # The user's retry imports it, each value once.
    retry_import(upload=stalled, actor=contract.owner, today=TODAY)
    import_upload(upload=stalled, actor=contract.owner, today=TODAY)
    assert KpiUpload.objects.get(pk=stalled.pk).status == UploadStatus.IMPORTED
    assert MeasurementChange.objects.filter(upload=stalled).count() == 12
    assert Measurement.objects.filter(upload=stalled).count() == 12


def test_the_stalled_import_check_reads_the_task_time_limit(settings):
    from sla_tracker.kpi_import.tasks import fail_stalled_imports

    settings.CELERY_TASK_TIME_LIMIT = 3 * 3600
    contract = voice_contract()
    upload = importing_since(contract, minutes=2 * 60)

    assert fail_stalled_imports.apply().get() == 0
    assert KpiUpload.objects.get(pk=upload.pk).status == UploadStatus.IMPORTING
    settings.CELERY_TASK_TIME_LIMIT = 3600
    assert fail_stalled_imports.apply().get() == 1
    assert KpiUpload.objects.get(pk=upload.pk).status == UploadStatus.FAILED


def test_the_check_of_stalled_imports_runs_daily_and_expires():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["fail-stalled-imports"]
    assert entry["task"] == "sla_tracker.fail_stalled_imports"
    assert entry["schedule"].day_of_month == set(range(1, 32)) and len(entry["schedule"].hour) == 1
    assert entry["options"]["expires"] <= 24 * 3600


@pytest.mark.django_db(transaction=True)
def test_a_live_import_holds_its_upload_and_the_check_of_stalled_imports_passes_it_by(postgres_only, monkeypatch):
    import threading

    from django.db import connection

    from sla_tracker.kpi_import import service

    contract = voice_contract()
    upload = preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    writing, finish = threading.Event(), threading.Event()
    write = service.save_measurements

    def slow_write(**kwargs):
        writing.set()
        assert finish.wait(30)
        return write(**kwargs)

    def run_import():
        try:
            import_upload(upload=KpiUpload.objects.get(pk=upload.pk), actor=contract.owner, today=TODAY)
        finally:
            connection.close()

    monkeypatch.setattr(service, "save_measurements", slow_write)
    importer = threading.Thread(target=run_import)
    importer.start()
    try:
        assert writing.wait(30)
        # However long ago it started, a live import is left alone.
        assert service.fail_imports_started_before(started_before=timezone.now() + datetime.timedelta(days=1)) == 0
        assert KpiUpload.objects.get(pk=upload.pk).status == UploadStatus.IMPORTING
    finally:
        finish.set()
        importer.join(30)

    assert KpiUpload.objects.get(pk=upload.pk).status == UploadStatus.IMPORTED
    assert MeasurementChange.objects.filter(upload=upload).count() == 12


def test_a_retried_import_is_validated_again_then_imports_each_value_once(monkeypatch):
    contract = voice_contract()
    clerk = UserFactory(role=Role.VENDOR_MANAGER)
    contract.owner, owner = clerk, contract.owner
    upload = failed_import(contract, monkeypatch)
    contract.owner = owner

    retried = retry_import(upload=upload, actor=owner, today=TODAY)

    assert retried.pk == upload.pk
    retried.refresh_from_db()
    assert retried.status == UploadStatus.VALIDATED
    assert (retried.retried_by, retried.uploaded_by) == (owner, clerk)
    assert retried.retried_at is not None
    assert retried.preview["values"] == 12 and retried.rows_total == 2
    assert nothing_written()
    import_upload(upload=retried, actor=owner, today=TODAY)
    assert values(contract)[("offered", datetime.date(2025, 1, 2))] == 1200
    assert Measurement.objects.filter(contract=contract, upload=upload).count() == 12
    changes = MeasurementChange.objects.filter(contract=contract)
    assert changes.count() == 12
    assert set(changes.values_list("action", "upload", "changed_by")) == {(ChangeAction.CREATE, upload.pk, owner.pk)}


def test_only_a_failed_import_is_retried(monkeypatch):
    contract = voice_contract()
    validated = preview_upload(contract=contract, file=csv_file(FRENCH_PACK), actor=contract.owner, today=TODAY)
    imported = upload_and_import(contract, csv_file(FRENCH_PACK.replace("1\u00a0200", "1\u00a0201")))
    rows = database_rows()

    for upload, status in ((validated, "Validated, ready to import"), (imported, "Imported")):
        with pytest.raises(ValidationError) as refused:
            retry_import(upload=upload, actor=contract.owner, today=TODAY)
        assert refused.value.messages == [f"Only a failed import can be retried; this upload is “{status}”."]
    assert database_rows() == rows
    assert KpiUpload.objects.get(pk=validated.pk).retried_at is None


def test_a_retry_twice_imports_once(monkeypatch):
    contract = voice_contract()
    upload = failed_import(contract, monkeypatch)
    retry_import(upload=upload, actor=contract.owner, today=TODAY)
    import_upload(upload=upload, actor=contract.owner, today=TODAY)

    with pytest.raises(ValidationError):
        retry_import(upload=upload, actor=contract.owner, today=TODAY)

    assert MeasurementChange.objects.count() == 12
    assert KpiUpload.objects.get(pk=upload.pk).status == UploadStatus.IMPORTED


def test_a_pack_refused_now_is_refused_on_retry_and_removed_with_its_file(
    monkeypatch, django_capture_on_commit_callbacks
):
    from tests.factories import PenaltyStatementFactory

    contract = voice_contract()
    upload = failed_import(contract, monkeypatch)
    PenaltyStatementFactory(contract=contract, month=datetime.date(2025, 1, 1), approved=True)
    rows, files = snapshot()
    assert upload.file.name in files

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(KpiDataRejected) as refused:
        retry_import(upload=upload, actor=contract.owner, today=TODAY)

    assert refused.value.issues[0].message.msgid.startswith("The penalty statement of {month} is")
    assert snapshot() == (
        rows | {"sla_tracker.KpiUpload": rows["sla_tracker.KpiUpload"] - 1},
        files - {upload.file.name},
    )
    assert nothing_written()


def test_a_retry_reads_the_file_with_the_mapping_given_for_it(monkeypatch):
    contract = voice_contract()
    text = "Jour;Volume entrant;Commentaire\n02/01/2025;1200;RAS\n"
    mapping = {"date_column": "Jour", "columns": {"Volume entrant": "offered", "Commentaire": None}}
    upload = failed_import(contract, monkeypatch, csv_file(text), mapping=mapping)

    retry_import(upload=upload, actor=contract.owner, today=TODAY)
    import_upload(upload=upload, actor=contract.owner, today=TODAY)

    assert values(contract) == {("offered", datetime.date(2025, 1, 2)): 1200}
    saved = ColumnMapping.objects.get(contract=contract)
    assert saved.columns == {"Volume entrant": "offered", "Commentaire": ""}


def test_a_retry_is_only_for_who_may_import_the_upload(monkeypatch):
    contract = voice_contract(vendor_self_reporting=True)
    upload = failed_import(contract, monkeypatch)
    outsiders = (VendorUserFactory(), UserFactory(procurement=True))
    rows = database_rows()

    for outsider in outsiders:
        with pytest.raises(PermissionDenied):
            retry_import(upload=upload, actor=outsider, today=TODAY)

    assert database_rows() == rows
    assert KpiUpload.objects.get(pk=upload.pk).status == UploadStatus.FAILED
    own_vendor = VendorUserFactory(vendor=contract.vendor)
    assert retry_import(upload=upload, actor=own_vendor, today=TODAY).retried_by == own_vendor
