"""sla_tracker 0014 gives a withdrawn exclusion its own status: it was stored as rejected by its own proposer;
0015 records the service levels of the exclusions' versions written before they were recorded; 0020 counts the imports
under way when it runs as started then (the daily check of stalled imports reads when an import started)."""

import importlib

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
