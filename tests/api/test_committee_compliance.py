"""The API flags a committee whose next meeting is overdue against its cadence, or that lacked quorum."""

import datetime

import pytest
from django.utils import timezone

from governance.choices import AttendanceStatus, Cadence, MeetingStatus
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_committee_behind_its_cadence_and_short_of_quorum_is_flagged(client_for):
    committee = f.CommitteeFactory(cadence=Cadence.MONTHLY, quorum=2)
    held = f.MeetingFactory(
        committee=committee,
        status=MeetingStatus.HELD,
        scheduled_for=timezone.now() - datetime.timedelta(days=75),
    )
    f.AttendanceFactory(meeting=held, status=AttendanceStatus.PRESENT)

    response = client_for(f.UserFactory(administrator=True)).get(f"/api/v1/committees/{committee.pk}/")

    assert response.status_code == 200
    compliance = response.json()["compliance"]
    assert compliance["is_overdue"] is True
    assert compliance["lacked_quorum"] is True
    assert compliance["is_compliant"] is False
    assert compliance["last_held_on"] == timezone.localdate(held.scheduled_for).isoformat()


def test_a_committee_that_met_recently_with_quorum_is_compliant(client_for):
    committee = f.CommitteeFactory(cadence=Cadence.QUARTERLY, quorum=1)
    held = f.MeetingFactory(
        committee=committee,
        status=MeetingStatus.HELD,
        scheduled_for=timezone.now() - datetime.timedelta(days=20),
    )
    f.AttendanceFactory(meeting=held, status=AttendanceStatus.PRESENT)

    listed = client_for(f.UserFactory(administrator=True)).get("/api/v1/committees/").json()["results"]

    (row,) = [item for item in listed if item["id"] == committee.pk]
    assert row["compliance"]["is_compliant"] is True
