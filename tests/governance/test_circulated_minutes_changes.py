"""QA: a decision or an action item added (or either reworded) while the minutes were circulated kept the votes
cast on the earlier text. As when the minutes' text is edited, the minutes go back to draft: the members vote again
once they are circulated again."""

import datetime

import pytest
from rest_framework.test import APIClient

from governance import services
from governance.choices import AttendanceStatus, MinutesStatus
from governance.models import Meeting
from tests.factories import CommitteeFactory, CommitteeMemberFactory, MeetingFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def circulated():
    """A meeting held with its two members present, its minutes circulated, and the first member's vote cast."""
    committee = CommitteeFactory(quorum=2)
    first, second = CommitteeMemberFactory(committee=committee), CommitteeMemberFactory(committee=committee)
    meeting = MeetingFactory(committee=committee, scheduled_for=datetime.datetime(2025, 3, 3, 10, tzinfo=datetime.UTC))
    services.record_attendance(
        meeting=meeting,
        attendance={first.pk: AttendanceStatus.PRESENT, second.pk: AttendanceStatus.PRESENT},
        actor=first.user,
    )
    services.update_minutes(meeting=meeting, minutes="## Decisions\nNone yet.", actor=first.user)
    services.circulate_minutes(meeting=meeting, actor=first.user)
    services.record_minutes_vote(meeting=meeting, member=first, actor=first.user)
    return Meeting.objects.get(pk=meeting.pk), first, second


def the_earlier_vote_no_longer_counts(meeting, first, second) -> None:
    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.minutes_status == MinutesStatus.DRAFT
    assert "votes on the circulated minutes no longer count" in meeting.history.latest().history_change_reason
    services.circulate_minutes(meeting=meeting, actor=first.user)
    services.record_minutes_vote(meeting=meeting, member=second, actor=second.user)
    assert Meeting.objects.get(pk=meeting.pk).minutes_status == MinutesStatus.CIRCULATED  # the first must vote again


def test_a_decision_recorded_on_circulated_minutes_returns_them_to_draft(circulated):
    meeting, first, second = circulated

    services.record_decision(meeting=meeting, text="Adopt the recovery plan.", actor=first.user)

    the_earlier_vote_no_longer_counts(meeting, first, second)


def test_a_decision_reworded_on_circulated_minutes_returns_them_to_draft(circulated):
    meeting, first, second = circulated
    Meeting.objects.filter(pk=meeting.pk).update(minutes_status=MinutesStatus.DRAFT)
    decision = services.record_decision(meeting=meeting, text="Adopt the plan.", actor=first.user)
    Meeting.objects.filter(pk=meeting.pk).update(minutes_status=MinutesStatus.CIRCULATED)

    services.update_decision(decision=decision, text="Adopt the recovery plan by May.", actor=first.user)

    the_earlier_vote_no_longer_counts(meeting, first, second)


def test_an_action_item_added_to_circulated_minutes_returns_them_to_draft(circulated):
    meeting, first, second = circulated

    services.create_action_item(
        meeting=meeting,
        title="Send the plan",
        due_date=datetime.date(2025, 4, 1),
        owner=first.user,
        created_by=first.user,
    )

    the_earlier_vote_no_longer_counts(meeting, first, second)


def test_an_action_item_reworded_or_given_another_owner_or_date_on_circulated_minutes_returns_them_to_draft(
    circulated,
):
    meeting, first, second = circulated
    Meeting.objects.filter(pk=meeting.pk).update(minutes_status=MinutesStatus.DRAFT)
    item = services.create_action_item(
        meeting=meeting,
        title="Send the plan",
        due_date=datetime.date(2025, 4, 1),
        owner=first.user,
        created_by=first.user,
    )
    Meeting.objects.filter(pk=meeting.pk).update(minutes_status=MinutesStatus.CIRCULATED)

    services.update_action_item(
        item=item, actor=first.user, owner=second.user, due_date=datetime.date(2025, 5, 1), title="Send the full plan"
    )

    the_earlier_vote_no_longer_counts(meeting, first, second)


def test_an_unchanged_action_item_leaves_circulated_minutes_as_they_are(circulated):
    meeting, first, _ = circulated
    Meeting.objects.filter(pk=meeting.pk).update(minutes_status=MinutesStatus.DRAFT)
    item = services.create_action_item(
        meeting=meeting,
        title="Send the plan",
        due_date=datetime.date(2025, 4, 1),
        owner=first.user,
        created_by=first.user,
    )
    Meeting.objects.filter(pk=meeting.pk).update(minutes_status=MinutesStatus.CIRCULATED)

    services.update_action_item(item=item, actor=first.user, title="Send the plan")

    assert Meeting.objects.get(pk=meeting.pk).minutes_status == MinutesStatus.CIRCULATED


def test_the_api_returns_circulated_minutes_to_draft_when_a_decision_is_posted_or_reworded(circulated):
    meeting, first, _ = circulated
    api = APIClient()
    api.force_authenticate(UserFactory(administrator=True))

    posted = api.post("/api/v1/decisions/", {"meeting": meeting.pk, "text": "Adopt the plan."}, format="json")

    assert posted.status_code == 201, posted.content
    assert Meeting.objects.get(pk=meeting.pk).minutes_status == MinutesStatus.DRAFT
    services.circulate_minutes(meeting=meeting, actor=first.user)
    reworded = api.patch(f"/api/v1/decisions/{posted.json()['id']}/", {"text": "Adopt it by May."}, format="json")
    assert reworded.status_code == 200, reworded.content
    assert Meeting.objects.get(pk=meeting.pk).minutes_status == MinutesStatus.DRAFT
