"""Decisions and action items through the API: created and changed by governance.services, so decisions
are numbered in their meeting, approved minutes stay as they were, and refusals are 400s."""

import pytest

from accounts.choices import Role
from governance.choices import ActionStatus
from governance.models import ActionItem, Decision
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(users, client_for):
    return client_for(users[Role.COMMITTEE_MEMBER])


@pytest.fixture
def meeting(worlds):
    return worlds[0]["governance.Meeting"]


@pytest.fixture
def approved(worlds):
    """A meeting of the first world's committee whose minutes are approved, with one decision."""
    meeting = f.MeetingFactory(committee=worlds[0]["governance.Committee"], approved_minutes=True)
    f.DecisionFactory(meeting=meeting, number=1, text="Adopt the recovery plan.")
    return meeting


def _errors(response) -> list[str]:
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    return [message for messages in response.json()["errors"].values() for message in messages]


# Meetings and decisions ----------------------------------------------------------------------------


def test_a_meeting_whose_minutes_are_approved_is_not_changed(approved, member):
    response = member.patch(f"/api/v1/meetings/{approved.pk}/", {"location": "Lisbon office"}, format="json")

    assert _errors(response) == ["The minutes of this meeting are approved; record a correction instead."]
    approved.refresh_from_db()
    assert approved.location == "Video call"


def test_posted_decisions_are_numbered_in_their_meeting_whatever_number_is_sent(meeting, member, users):
    last = meeting.decisions.get().number

    first = member.post("/api/v1/decisions/", {"meeting": meeting.pk, "number": 1, "text": "A."}, format="json")
    second = member.post("/api/v1/decisions/", {"meeting": meeting.pk, "text": "B."}, format="json")

    assert (first.status_code, second.status_code) == (201, 201), first.content
    assert (first.json()["number"], second.json()["number"]) == (last + 1, last + 2)
    assert second.json()["created_by"] == users[Role.COMMITTEE_MEMBER].pk
    decision = Decision.objects.get(pk=second.json()["id"])
    assert decision.history.latest().history_user == users[Role.COMMITTEE_MEMBER]


def test_a_decision_on_approved_minutes_is_a_400_and_nothing_is_written(approved, member):
    response = member.post("/api/v1/decisions/", {"meeting": approved.pk, "text": "Late addition."}, format="json")

    assert _errors(response) == ["The minutes of this meeting are approved; record a correction instead."]
    assert list(approved.decisions.values_list("text", flat=True)) == ["Adopt the recovery plan."]


def test_a_decision_of_approved_minutes_is_not_reworded(approved, member):
    decision = approved.decisions.get()

    response = member.patch(f"/api/v1/decisions/{decision.pk}/", {"text": "Something else."}, format="json")

    assert _errors(response) == ["The minutes of this meeting are approved; record a correction instead."]
    decision.refresh_from_db()
    assert decision.text == "Adopt the recovery plan."


def test_a_decision_is_reworded_but_stays_in_its_meeting_with_its_number(worlds, meeting, member, users):
    decision = meeting.decisions.get()
    other = f.MeetingFactory(committee=worlds[0]["governance.Committee"])
    payload = {"text": "Adopt the revised plan.", "meeting": other.pk, "number": 42}

    response = member.patch(f"/api/v1/decisions/{decision.pk}/", payload, format="json")

    assert response.status_code == 200, response.content
    decision.refresh_from_db()
    assert (decision.text, decision.meeting, decision.number) == ("Adopt the revised plan.", meeting, decision.number)
    assert decision.history.latest().history_user == users[Role.COMMITTEE_MEMBER]


# Action items --------------------------------------------------------------------------------------


def _action_item(world, **values) -> dict:
    return {
        "title": "Share the staffing plan",
        "owner_contact": world["contracts.VendorContact"].pk,
        "due_date": "2025-04-30",
        **values,
    }


def test_an_action_item_from_a_decision_belongs_to_the_decisions_meeting(worlds, meeting, member, users):
    decision = meeting.decisions.get()

    response = member.post("/api/v1/action-items/", _action_item(worlds[0], decision=decision.pk), format="json")

    assert response.status_code == 201, response.content
    item = ActionItem.objects.get(pk=response.json()["id"])
    assert (item.meeting, item.decision, item.status) == (meeting, decision, ActionStatus.OPEN)
    assert (item.created_by, item.history.latest().history_user) == (users[Role.COMMITTEE_MEMBER],) * 2


def test_an_action_item_from_another_meetings_decision_is_a_400(worlds, approved, meeting, member):
    payload = _action_item(worlds[0], meeting=meeting.pk, decision=approved.decisions.get().pk)
    before = ActionItem.objects.count()

    response = member.post("/api/v1/action-items/", payload, format="json")

    assert _errors(response) == ["The decision belongs to another meeting."]
    assert ActionItem.objects.count() == before


def test_an_action_items_origin_and_status_do_not_change_through_a_patch(worlds, approved, member):
    item = worlds[0]["governance.ActionItem"]
    payload = {"meeting": approved.pk, "status": "done", "title": "Send the revised recovery plan"}

    response = member.patch(f"/api/v1/action-items/{item.pk}/", payload, format="json")

    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert (item.meeting, item.status, item.title) == (
        worlds[0]["governance.Meeting"],
        ActionStatus.OPEN,
        "Send the revised recovery plan",
    )


def test_an_action_item_is_started_cancelled_and_reopened_through_its_actions(worlds, member):
    url = f"/api/v1/action-items/{worlds[0]['governance.ActionItem'].pk}"

    assert member.post(f"{url}/start/").json()["status"] == "in_progress"
    cancelled = member.post(f"{url}/cancel/", {"reason": "Superseded by decision 3"}, format="json").json()
    assert (cancelled["status"], cancelled["closed_at"] is not None) == ("cancelled", True)
    assert _errors(member.post(f"{url}/start/")) == ["An action item that is Cancelled cannot become In progress."]
    assert member.post(f"{url}/reopen/").json()["status"] == "open"
    item = ActionItem.objects.get(pk=worlds[0]["governance.ActionItem"].pk)
    assert [record.history_change_reason for record in item.history.order_by("history_id")][-2:] == [
        "Cancelled: Superseded by decision 3",
        "Reopened",
    ]
