"""audits 0002 carries the findings' history over to the new fields; 0003 dates each finding's recording
from its history."""

import datetime
import importlib

import pytest
from django.apps import apps

from audits import services
from audits.models import Finding
from tests.factories import FindingFactory, UserFactory

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("audits.migrations.0002_cancel_audits_finding_due_dates_and_notes")
RECORDED_ON = importlib.import_module("audits.migrations.0003_finding_recorded_on_and_fieldwork_reschedules")


def test_due_dates_changed_with_a_reason_and_risk_acceptance_reasons_are_carried_over():
    auditor = UserFactory(auditor=True)
    moved = services.change_finding_due_date(
        finding=FindingFactory(), due_date=datetime.date(2030, 1, 1), reason="Vendor's release", actor=auditor
    )
    accepted = services.accept_risk(finding=FindingFactory(), reason="Tool retired in June", actor=auditor)
    Finding.objects.update(due_date_set_by_hand=False, risk_acceptance_reason="")  # as before the migration

    MIGRATION.carry_over_the_findings_history(apps, None)

    moved.refresh_from_db()
    accepted.refresh_from_db()
    assert (moved.due_date_set_by_hand, accepted.due_date_set_by_hand) == (True, False)
    assert accepted.risk_acceptance_reason == "Tool retired in June"


def test_a_finding_was_recorded_on_the_day_of_its_first_history_record_in_the_local_time_zone(settings):
    settings.TIME_ZONE = "Europe/Paris"
    finding = FindingFactory()
    first = finding.history.earliest()
    # 23:30 UTC on 12 March is already 13 March in Paris.
    first.history_date = datetime.datetime(2025, 3, 12, 23, 30, tzinfo=datetime.UTC)
    first.save()
    services.update_finding(finding=finding, changes={"title": "Renamed"}, actor=UserFactory(auditor=True))
    Finding.objects.update(recorded_on=datetime.date(2030, 1, 1))  # as the new column's default left it
    finding.history.update(recorded_on=datetime.date(2030, 1, 1))

    RECORDED_ON.date_the_findings_from_their_history(apps, None)

    finding.refresh_from_db()
    assert finding.recorded_on == datetime.date(2025, 3, 13)
    assert set(finding.history.values_list("recorded_on", flat=True)) == {datetime.date(2025, 3, 13)}
