"""Shared set-up of the KPI import tests: the demo's counters and a contract like the demo's DEMO-A."""

import datetime
import io
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from contracts.choices import Channel
from demo import data
from sla_tracker.models import KpiCounter, Measurement, MeasurementChange
from tests.factories import ContractFactory, ContractScopeFactory

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
TODAY = datetime.date(2025, 3, 15)
SAMPLE_TODAY = datetime.date(2026, 11, 26)


def demo_counters() -> dict[str, KpiCounter]:
    counters = {}
    for code, name, channel, unit, bound, description in data.COUNTERS:
        counters[code], _created = KpiCounter.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "channel": channel,
                "unit": unit,
                "must_not_exceed": counters.get(bound),
                "description": description,
            },
        )
    return counters


def voice_contract(*, channels=(Channel.VOICE,), **fields):
    """A contract from 2025-01-01 to 2027-12-31 with the given channels in scope, and the demo's counters."""
    demo_counters()
    contract = ContractFactory(**fields)
    for channel in channels:
        ContractScopeFactory(contract=contract, channel=channel)
    return contract


def demo_a_like_contract(**fields):
    """Like the seeded DEMO-A on 2026-11-26: started 24 months earlier for 48 months, voice and e-mail."""
    return voice_contract(
        channels=(Channel.VOICE, Channel.EMAIL),
        start_date=datetime.date(2024, 11, 1),
        initial_term_months=48,
        vendor_self_reporting=True,
        **fields,
    )


def csv_file(text: str, *, name: str = "kpi.csv", bom: bool = False) -> SimpleUploadedFile:
    raw = text.encode("utf-8")
    return SimpleUploadedFile(name, (b"\xef\xbb\xbf" if bom else b"") + raw, content_type="text/csv")


def xlsx_file(rows: list[list], *, name: str = "kpi.xlsx") -> SimpleUploadedFile:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def sample_file(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (SAMPLE_DATA / name).read_bytes())


def nothing_written() -> bool:
    return not Measurement.objects.exists() and not MeasurementChange.objects.exists()


def database_rows() -> dict[str, int]:
    """The rows of every model of the project's apps (history tables included), by model."""
    return {
        model._meta.label: model._base_manager.count()
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(settings.BASE_DIR) and ".venv" not in Path(config.path).parts
        for model in config.get_models()
    }


def stored_files(folder: str = "kpi_uploads") -> set[str]:
    """Every file of the storage under ``folder``, at any depth."""
    found, folders = set(), [folder]
    while folders:
        current = folders.pop()
        if not default_storage.exists(current):
            continue
        directories, files = default_storage.listdir(current)
        folders += [f"{current}/{name}" for name in directories]
        found |= {f"{current}/{name}" for name in files}
    return found


def snapshot() -> tuple[dict[str, int], set[str]]:
    """The database's rows and the stored KPI packs: a refused pack leaves both as they were."""
    return database_rows(), stored_files()


def pack_file(rows: list[list], file_format: str) -> SimpleUploadedFile:
    """The same rows as a French CSV (";") or as an .xlsx."""
    if file_format == "xlsx":
        return xlsx_file(rows)
    return csv_file("".join(";".join(str(cell) for cell in row) + "\n" for row in rows))


def unreadable_file(file_format: str) -> SimpleUploadedFile:
    """A file of that extension that cannot be read as a KPI pack: a PDF, or a workbook that is no zip."""
    if file_format == "xlsx":
        return SimpleUploadedFile("kpi.xlsx", b"PK\x03\x04 not really a workbook")
    return SimpleUploadedFile("kpi.csv", b"%PDF-1.7\n\x00\x01binary")


def fail_the_next_write(monkeypatch) -> None:
    """The next write of KPI values (save_measurements, as an import calls it) fails on a database error, as a
    lost connection would make it fail; the writes after it work."""
    from django.db import OperationalError

    from sla_tracker.kpi_import import service

    write, failed = service.save_measurements, []

    def failing_once(**kwargs):
        if not failed:
            failed.append(kwargs.get("upload"))
            raise OperationalError("server closed the connection unexpectedly")
        return write(**kwargs)

    monkeypatch.setattr(service, "save_measurements", failing_once)
