"""Shared set-up of the KPI import tests: the demo's counters and a contract like the demo's DEMO-A."""

import datetime
import io
from pathlib import Path

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
