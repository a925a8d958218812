"""sla_tracker 0014 gives a withdrawn exclusion its own status: it was stored as rejected by its own proposer;
0015 records the service levels of the exclusions' versions written before they were recorded; 0020 counts the imports
under way when it runs as started then (the daily check of stalled imports reads when an import started); 0021 gives
every statement line a first version in its history (the close wrote its lines without)."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from sla_tracker.choices import ApprovalStatus
from sla_tracker.models import Exclusion
from sla_tracker.services import decide_exclusion, withdraw_exclusion
from tests.factories import ExclusionFactory, ServiceLevelFactory, UserFactory

pytestmark = pytest.mark.django_db
WITHDRAWN_STATUS = importlib.import_module("sla_tracker.migrations.0014_exclusion_withdrawn_status")
LEVELS_HISTORY = importlib.import_module("sla_tracker.migrations.0015_exclusion_service_levels_history")
IMPORT_STARTED = importlib.import_module("sla_tracker.migrations.0020_kpiupload_import_started_failed")
LINE_VERSIONS = importlib.import_module("sla_tracker.migrations.0021_statement_line_first_versions")


def test_a_proposal_rejected_by_its_proposer_becomes_withdrawn_and_a_reviewers_rejection_stays_rejected():
    reviewer = UserFactory(procurement=True)
    withdrawn = ExclusionFactory()
    withdraw_exclusion(exclusion_id=withdrawn.pk, actor=withdrawn.requested_by)
    rejected = ExclusionFactory()
    decide_exclusion(exclusion_id=rejected.pk, actor=reviewer, approve=False, note="Not excusable.")
    Exclusion.objects.filter(pk=withdrawn.pk).update(status=ApprovalStatus.REJECTED)  # as stored before
    withdrawn.history.filter(status=ApprovalStatus.WITHDRAWN).update(status=ApprovalStatus.REJECTED)

    WITHDRAWN_STATUS.store_withdrawals(apps, None)

    withdrawn.refresh_from_db()
    rejected.refresh_from_db()
    assert (withdrawn.status, rejected.status) == (ApprovalStatus.WITHDRAWN, ApprovalStatus.REJECTED)
    assert withdrawn.history.latest().status == ApprovalStatus.WITHDRAWN
    assert list(withdrawn.history.values_list("status", flat=True).order_by("history_id")) == [
        ApprovalStatus.PROPOSED,
        ApprovalStatus.WITHDRAWN,
    ]


def test_the_versions_written_before_service_levels_were_recorded_get_the_exclusions_current_ones():
    level = ServiceLevelFactory()
    exclusion = ExclusionFactory(contract=level.contract, service_levels=[level])
    exclusion.description = "Flood."
    exclusion.save()
    recorded = Exclusion.history.model.service_levels.model
    recorded.objects.all().delete()  # as before the migration

    LEVELS_HISTORY.record_the_current_service_levels_in_every_version(apps, None)

    versions = set(exclusion.history.values_list("history_id", flat=True))
    assert len(versions) >= 2
    assert sorted(recorded.objects.values_list("history_id", "servicelevel_id")) == sorted(
        (version, level.pk) for version in versions
    )


def test_the_imports_under_way_when_the_start_is_first_kept_count_as_started_then():
    from django.utils import timezone

    from sla_tracker.choices import UploadStatus
    from sla_tracker.models import KpiUpload
    from tests.sla_tracker.kpi_support import csv_file, voice_contract

    contract = voice_contract()
    uploads = {}
    for number, status in enumerate((UploadStatus.IMPORTING, UploadStatus.VALIDATED, UploadStatus.FAILED)):
        uploads[status] = KpiUpload.objects.create(
            contract=contract,
            uploaded_by=contract.owner,
            file=csv_file(f"Date;Appels reçus\n02/01/2025;{number}\n"),
            original_name="kpi.csv",
            sha256=f"{number:064d}",
            size_bytes=30,
            status=status,
        )
    before = timezone.now()

    IMPORT_STARTED.start_the_imports_under_way_now(apps, None)

    started = dict(KpiUpload.objects.values_list("status", "import_started_at"))
    assert started[UploadStatus.IMPORTING] >= before
    assert started[UploadStatus.VALIDATED] is None and started[UploadStatus.FAILED] is None


def test_every_line_gets_a_first_version_from_when_its_statement_was_first_computed():
    from types import SimpleNamespace

    from django.db import connection

    from sla_tracker.models import PenaltyStatement, ServiceLevel, StatementLine
    from sla_tracker.services import waive_line
    from tests.sla_tracker.test_adjustments_carry import contract_a, correct_january
    from tests.sla_tracker.test_close import close, line_of, statement_of

    contract = contract_a()
    close(contract, "2026-01")
    computed = datetime.datetime(2026, 2, 5, 6, tzinfo=datetime.UTC)
    PenaltyStatement.history.update(history_date=computed)
    recomputed, waived, removed = (line_of(contract, "2026-01", code) for code in ("CSL-1", "CSL-2", "CSL-5"))
    waive_line(line_id=waived.pk, actor=UserFactory(procurement=True), reason="Carrier outage")
    correct_january(contract)
    ServiceLevel.objects.filter(contract=contract, code="CSL-5").update(retired_from=datetime.date(2026, 1, 1))
    close(contract, "2026-01")
    # As before: the close recorded no version of its lines; a waiver and a removal recorded theirs.
    HistoricalLine = StatementLine.history.model
    HistoricalLine.objects.filter(history_type="+").delete()
    HistoricalLine.objects.filter(history_type="~", id=recomputed.pk).delete()
    kept = {row.history_id: row.history_date for row in HistoricalLine.objects.all()}

    LINE_VERSIONS.record_the_lines_first_versions(apps, SimpleNamespace(connection=connection))
    LINE_VERSIONS.record_the_lines_first_versions(apps, SimpleNamespace(connection=connection))  # once only

    lines = list(statement_of(contract, "2026-01").lines.all())
    firsts = HistoricalLine.objects.filter(history_type="+")
    assert sorted(firsts.values_list("id", flat=True)) == sorted([line.pk for line in lines] + [removed.pk])
    assert set(firsts.values_list("history_date", flat=True)) == {computed}
    recomputed.refresh_from_db()
    first = firsts.get(id=recomputed.pk)
    assert (first.status, first.measured, first.credit) == (recomputed.status, recomputed.measured, Decimal("0.00"))
    assert (firsts.get(id=waived.pk).waived, firsts.get(id=waived.pk).waiver_reason) == (False, "")
    assert firsts.get(id=removed.pk).measured == Decimal("88.000000")
    assert {row.history_id: row.history_date for row in HistoricalLine.objects.exclude(history_type="+")} == kept
