"""The back office records decisions and action items through governance.services, and leaves approved
minutes as they are: a refusal is a form error and nothing is written."""

import pytest
from django.urls import reverse

from governance.choices import MeetingStatus, MinutesStatus
from governance.models import ActionItem
from tests.factories import ActionItemFactory, DecisionFactory, MeetingFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD_DECISION = reverse("admin:governance_decision_add")
ADD_ACTION_ITEM = reverse("admin:governance_actionitem_add")


@pytest.fixture
def administrator():
    return UserFactory(administrator=True)


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def approved():
    """A meeting whose minutes are approved, with one decision."""
    meeting = MeetingFactory(approved_minutes=True)
    DecisionFactory(meeting=meeting, number=1, text="Adopt the recovery plan.")
    return meeting


def _form_errors(response) -> list[str]:
    assert response.status_code == 200, "the form was not shown again"
    form = response.context["adminform"].form
    return [message for messages in form.errors.values() for message in messages]


# Decisions -----------------------------------------------------------------------------------------


def test_a_decision_added_is_numbered_in_its_meeting_by_the_service(admin_client, administrator):
    meeting = MeetingFactory(status=MeetingStatus.HELD)
    DecisionFactory(meeting=meeting, number=4)

    response = admin_client.post(ADD_DECISION, {"meeting": meeting.pk, "text": "Escalate CSL-2."})

    assert response.status_code == 302
    decision = meeting.decisions.get(text="Escalate CSL-2.")
    assert (decision.number, decision.created_by) == (5, administrator)
    assert decision.history.latest().history_user == administrator


def test_a_decision_added_to_approved_minutes_is_a_form_error_and_nothing_is_written(admin_client, approved):
    response = admin_client.post(ADD_DECISION, {"meeting": approved.pk, "text": "Late addition."})

    assert _form_errors(response) == ["The minutes of this meeting are approved; record a correction instead."]
    assert list(approved.decisions.values_list("text", flat=True)) == ["Adopt the recovery plan."]


def test_a_decision_is_reworded_on_its_page_by_the_service_while_the_minutes_are_open(admin_client, administrator):
    decision = DecisionFactory(meeting=MeetingFactory(status=MeetingStatus.HELD))
    url = reverse("admin:governance_decision_change", args=[decision.pk])

    assert set(admin_client.get(url).context["adminform"].form.fields) == {"text"}
    response = admin_client.post(url, {"text": "Adopt the revised recovery plan."})

    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.text == "Adopt the revised recovery plan."
    record = decision.history.latest()
    assert (record.history_user, record.history_change_reason) == (administrator, "Reworded")


def test_the_decisions_of_approved_minutes_are_read_only(admin_client, approved):
    decision = approved.decisions.get()
    url = reverse("admin:governance_decision_change", args=[decision.pk])

    assert admin_client.get(url).context["has_change_permission"] is False
    assert admin_client.post(url, {"text": "Something else."}).status_code == 403
    decision.refresh_from_db()
    assert decision.text == "Adopt the recovery plan."


# Action items --------------------------------------------------------------------------------------


def _action_item(**values) -> dict:
    return {
        "meeting": "",
        "decision": "",
        "finding": "",
        "title": "Send the staffing plan",
        "description": "",
        "owner": UserFactory().pk,
        "owner_contact": "",
        "due_date": "2025-03-14",
        **values,
    }


def test_an_action_item_added_from_a_decision_belongs_to_the_decisions_meeting(admin_client, administrator):
    decision = DecisionFactory()

    response = admin_client.post(ADD_ACTION_ITEM, _action_item(decision=decision.pk))

    assert response.status_code == 302
    item = ActionItem.objects.get(title="Send the staffing plan")
    assert (item.meeting, item.decision, item.created_by) == (decision.meeting, decision, administrator)


def test_an_action_item_from_another_meetings_decision_is_a_form_error(admin_client, approved):
    payload = _action_item(meeting=MeetingFactory().pk, decision=approved.decisions.get().pk)

    response = admin_client.post(ADD_ACTION_ITEM, payload)

    assert _form_errors(response) == ["The decision belongs to another meeting."]
    assert not ActionItem.objects.exists()


def test_an_action_items_origin_and_status_are_read_only_on_its_page(admin_client):
    item = ActionItemFactory()

    form = admin_client.get(reverse("admin:governance_actionitem_change", args=[item.pk])).context["adminform"].form

    assert not {"meeting", "decision", "finding", "status", "closed_at", "created_by"} & set(form.fields)


# Meetings ------------------------------------------------------------------------------------------


def test_the_minutes_are_not_edited_on_the_meetings_page(admin_client):
    meeting = MeetingFactory()

    response = admin_client.get(reverse("admin:governance_meeting_change", args=[meeting.pk]))

    form = response.context["adminform"].form
    assert not {"minutes", "minutes_status", "minutes_approved_by", "corrects"} & set(form.fields)
    decisions, action_items = response.context["inline_admin_formsets"][2:]
    assert not (decisions.has_add_permission or action_items.has_add_permission)


def test_a_meeting_whose_minutes_are_approved_is_final_in_the_back_office(admin_client, approved):
    url = reverse("admin:governance_meeting_change", args=[approved.pk])

    response = admin_client.get(url)
    refused = admin_client.post(url, {"location": "Lisbon office", "status": MeetingStatus.CANCELLED})

    assert response.context["has_change_permission"] is False
    assert refused.status_code == 403
    approved.refresh_from_db()
    assert (approved.location, approved.status) == ("Video call", MeetingStatus.HELD)


def test_approved_minutes_are_not_restored_to_a_past_draft(admin_client):
    meeting = MeetingFactory(status=MeetingStatus.HELD, minutes="Draft.")
    draft = meeting.history.earliest()
    meeting.minutes_status = MinutesStatus.APPROVED
    meeting.minutes_approved_by = UserFactory()
    meeting.minutes_approved_at = meeting.scheduled_for
    meeting.save()
    url = reverse("admin:governance_meeting_simple_history", args=[meeting.pk, draft.history_id])

    response = admin_client.post(url, {"committee": meeting.committee_id, "location": "Video call"})

    assert response.status_code == 403
    meeting.refresh_from_db()
    assert (meeting.minutes_status, meeting.minutes) == (MinutesStatus.APPROVED, "Draft.")
