"""QA: a change of a committee's quorum rewrote whether its past meetings (approved ones too) had their quorum.
Each held meeting keeps the quorum terms in force on its day."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from governance import services
from governance.choices import AttendanceStatus, MeetingStatus, Side
from governance.models import Meeting
from governance.selectors import committees_with_compliance, meeting_quorum
from tests.factories import (
    CommitteeFactory,
    CommitteeMemberFactory,
    MeetingFactory,
    UserFactory,
    VendorContactFactory,
)

pytestmark = pytest.mark.django_db


def a_meeting_held_with_two_present(*, days_ago: int = 30) -> tuple[Meeting, object]:
    """A meeting of a committee of quorum 2, held with its two client-side members present."""
    committee = CommitteeFactory(quorum=2, quorum_needs_each_side=False)
    members = [CommitteeMemberFactory(committee=committee) for _ in range(2)]
    admin = UserFactory(administrator=True)
    meeting = MeetingFactory(committee=committee, scheduled_for=timezone.now() - datetime.timedelta(days=days_ago))
    services.record_attendance(
        meeting=meeting, attendance={member.pk: AttendanceStatus.PRESENT for member in members}, actor=admin
    )
    return Meeting.objects.get(pk=meeting.pk), admin


def test_a_held_meeting_keeps_its_quorum_when_the_committee_raises_it():
    meeting, admin = a_meeting_held_with_two_present()

    services.update_committee(committee=meeting.committee, actor=admin, reason="Larger board", quorum=6)

    meeting = Meeting.objects.get(pk=meeting.pk)
    assert (meeting.quorum, meeting.quorum_needs_each_side) == (2, False)
    assert meeting_quorum(meeting) is True
    (committee,) = committees_with_compliance(type(meeting.committee).objects.filter(pk=meeting.committee_id))
    assert committee.lacked_quorum is False
    # The meeting still decides: it had its quorum on its day.
    assert services.record_decision(meeting=meeting, text="Renew the contract.", actor=admin).number == 1


def test_a_held_meeting_keeps_its_quorum_when_the_committee_later_needs_each_side():
    meeting, admin = a_meeting_held_with_two_present()

    services.update_committee(
        committee=meeting.committee, actor=admin, reason="One vote per party", quorum_needs_each_side=True
    )

    assert meeting_quorum(Meeting.objects.get(pk=meeting.pk)) is True


def test_the_quorum_changed_after_the_meeting_but_before_its_attendance_is_the_old_one():
    admin = UserFactory(administrator=True)
    committee = CommitteeFactory(quorum=2)
    committee.history.update(history_date=timezone.now() - datetime.timedelta(days=90))  # set up months ago
    members = [CommitteeMemberFactory(committee=committee) for _ in range(2)]
    meeting = MeetingFactory(committee=committee, scheduled_for=timezone.now() - datetime.timedelta(hours=2))
    services.update_committee(committee=committee, actor=admin, reason="Larger board", quorum=6)

    services.record_attendance(
        meeting=meeting, attendance={member.pk: AttendanceStatus.PRESENT for member in members}, actor=admin
    )

    assert Meeting.objects.get(pk=meeting.pk).quorum == 2
    assert meeting_quorum(Meeting.objects.get(pk=meeting.pk)) is True


def test_the_api_and_the_pages_show_the_quorum_of_the_meetings_day_after_a_change(client):
    meeting, admin = a_meeting_held_with_two_present()
    api = APIClient()
    api.force_authenticate(admin)

    changed = api.patch(
        f"/api/v1/committees/{meeting.committee_id}/", {"quorum": 6, "reason": "Larger board"}, format="json"
    )

    assert changed.status_code == 200, changed.content
    compliance = api.get(f"/api/v1/committees/{meeting.committee_id}/").json()["compliance"]
    assert compliance["lacked_quorum"] is False
    client.force_login(admin)
    dashboard = client.get(reverse("governance:meeting", args=[meeting.pk])).content.decode()
    assert 'data-quorum="met"' in dashboard
    assert "of 2 needed" in dashboard
    page = client.get(reverse("governance:committee", args=[meeting.committee_id])).content.decode()
    assert "No quorum" not in page


def test_the_migration_gives_held_meetings_the_terms_of_their_day_from_the_committees_history():
    admin = UserFactory(administrator=True)
    committee = CommitteeFactory(quorum=2, quorum_needs_each_side=False)
    contact = VendorContactFactory(vendor=committee.contract.vendor)
    CommitteeMemberFactory(committee=committee, user=None, contact=contact, side=Side.VENDOR)
    held = MeetingFactory(committee=committee, status=MeetingStatus.HELD, scheduled_for=timezone.now())
    before_history = MeetingFactory(
        committee=committee, status=MeetingStatus.HELD, scheduled_for=timezone.now() - datetime.timedelta(days=400)
    )
    services.update_committee(committee=committee, actor=admin, reason="Larger board", quorum=5)
    planned = MeetingFactory(committee=committee, scheduled_for=timezone.now() + datetime.timedelta(days=30))
    migration = importlib.import_module("governance.migrations.0009_meeting_quorum_terms")

    migration.keep_terms_of_held_meetings(apps, None)

    # Held after the committee was set up with quorum 2 (its history), before the change to 5.
    assert Meeting.objects.get(pk=held.pk).quorum == 2
    # Held before the committee's history begins: its current terms.
    assert Meeting.objects.get(pk=before_history.pk).quorum == 5
    assert Meeting.objects.get(pk=planned.pk).quorum is None
