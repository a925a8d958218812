"""The back office records decisions and action items through governance.services, and leaves approved
minutes as they are: a refusal is a form error and nothing is written."""

import datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse

from governance.choices import MeetingStatus, MemberRole, MinutesStatus
from governance.models import ActionItem, AgendaItem, CommitteeMember
from tests.factories import (
    ActionItemFactory,
    AgendaItemFactory,
    AttendanceFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    DecisionFactory,
    FindingFactory,
    MeetingFactory,
    UserFactory,
)
from tests.governance.helpers import held_with_quorum

pytestmark = pytest.mark.django_db

ADD_DECISION = reverse("admin:governance_decision_add")
ADD_ACTION_ITEM = reverse("admin:governance_actionitem_add")
PAST = datetime.datetime(2025, 3, 10, 10, tzinfo=datetime.UTC)


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
    meeting = held_with_quorum(MeetingFactory(scheduled_for=PAST))
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
    decision = DecisionFactory(meeting=MeetingFactory(scheduled_for=PAST))

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


# The record is kept by administrators and the committee's customer-side members, as on the pages ----------


def outsider_of(committee, client):
    """`client` signed in as the contract's vendor manager: a customer-side user who sees the committee
    and whose role may change governance rows, but who does not sit on it."""
    owner = committee.contract.owner
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    return client


def test_a_customer_user_off_the_committee_does_not_change_its_meeting_in_the_back_office(client):
    meeting = MeetingFactory(status=MeetingStatus.HELD, scheduled_for=PAST)
    CommitteeMemberFactory(committee=meeting.committee)
    url = reverse("admin:governance_meeting_change", args=[meeting.pk])

    refused = outsider_of(meeting.committee, client).post(
        url, {"committee": meeting.committee_id, "scheduled_for_0": "2025-03-10"}
    )

    assert refused.status_code == 403
    meeting.refresh_from_db()
    assert (meeting.status, meeting.scheduled_for) == (MeetingStatus.HELD, PAST)


def test_a_meetings_status_and_attendance_are_read_only_in_the_back_office(client):
    meeting = MeetingFactory(status=MeetingStatus.HELD, scheduled_for=PAST, minutes_status=MinutesStatus.CIRCULATED)
    member = CommitteeMemberFactory(committee=meeting.committee, user__is_staff=True)
    AttendanceFactory(meeting=meeting, member=member)
    client.force_login(member.user)
    url = reverse("admin:governance_meeting_change", args=[meeting.pk])

    response = client.get(url)

    assert "status" not in response.context["adminform"].form.fields
    attendance = response.context["inline_admin_formsets"][1]
    assert not (attendance.has_add_permission or attendance.has_change_permission)
    client.post(
        url,
        {
            "committee": meeting.committee_id,
            "scheduled_for_0": "2025-03-10",
            "scheduled_for_1": "10:00:00",
            "status": MeetingStatus.PLANNED,
            "location": "Video call",
        },
    )
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD


def test_a_held_meetings_date_is_a_form_error_in_the_back_office(admin_client):
    meeting = MeetingFactory(status=MeetingStatus.HELD, scheduled_for=PAST)
    url = reverse("admin:governance_meeting_change", args=[meeting.pk])

    response = admin_client.post(
        url,
        {
            "committee": meeting.committee_id,
            "scheduled_for_0": "2099-03-10",
            "scheduled_for_1": "10:00:00",
            "location": "Video call",
            **_empty_inlines(),
        },
    )

    assert _form_errors(response) == ["A held or cancelled meeting keeps its date; only a planned one is rescheduled."]
    meeting.refresh_from_db()
    assert meeting.scheduled_for == PAST


def _empty_inlines() -> dict:
    return {
        f"{prefix}-{key}": value
        for prefix in ("agenda_items", "attendances", "decisions", "action_items")
        for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
    }


def test_a_committees_cadence_changes_in_the_back_office_with_a_reason_kept_in_its_history(client):
    committee = CommitteeFactory(quorum=3)
    member = CommitteeMemberFactory(committee=committee, user__is_staff=True)
    client.force_login(member.user)
    url = reverse("admin:governance_committee_change", args=[committee.pk])
    fields = {
        "name": committee.name,
        "tier": committee.tier,
        "cadence": "annual",
        "quorum": "1",
        "terms_of_reference": "",
        "is_active": "on",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
    }

    without_reason = client.post(url, fields)
    with_reason = client.post(url, {**fields, "reason": "Amendment 4: annual review"})

    assert _form_errors(without_reason) == ["Say why the committee's cadence or quorum changes."]
    assert with_reason.status_code == 302, _form_errors(with_reason)
    committee.refresh_from_db()
    assert (committee.cadence, committee.quorum) == ("annual", 1)
    record = committee.history.latest()
    assert (record.history_user, record.history_change_reason) == (member.user, "Amendment 4: annual review")


def test_a_customer_user_off_the_committee_does_not_change_it_in_the_back_office(client):
    committee = CommitteeFactory()
    url = reverse("admin:governance_committee_change", args=[committee.pk])

    assert (
        outsider_of(committee, client).post(url, {"name": "x", "cadence": "annual", "quorum": "1"}).status_code == 403
    )


def test_a_findings_action_item_is_added_in_the_back_office_by_an_auditor_not_a_committee_member(client):
    finding = FindingFactory()
    auditor = UserFactory(role="auditor", is_staff=True)
    finding.audit.audit_right.contract.auditors.add(auditor)
    member = CommitteeMemberFactory(committee__contract=finding.audit.audit_right.contract, user__is_staff=True)
    payload = _action_item(finding=finding.pk)

    client.force_login(member.user)
    refused = client.post(ADD_ACTION_ITEM, payload)
    client.force_login(auditor)
    added = client.post(ADD_ACTION_ITEM, payload)

    assert _form_errors(refused) == ["Only those who follow audit findings up add their action items."]
    assert added.status_code == 302
    assert ActionItem.objects.get().created_by == auditor


def test_the_agenda_is_read_only_on_the_meetings_back_office_page(admin_client):
    """The agenda is written through governance.services (its order and history): the page only shows it."""
    meeting = MeetingFactory(scheduled_for=datetime.datetime(2099, 3, 10, 10, tzinfo=datetime.UTC))
    AgendaItemFactory(meeting=meeting, position=1, title="Service levels")

    response = admin_client.get(reverse("admin:governance_meeting_change", args=[meeting.pk]))

    agenda = response.context["inline_admin_formsets"][0]
    assert agenda.opts.model is AgendaItem
    assert not (agenda.has_add_permission or agenda.has_change_permission or agenda.has_delete_permission)


def test_an_action_items_due_date_before_its_meetings_day_is_a_form_error_in_the_back_office(admin_client):
    item = ActionItemFactory(meeting=MeetingFactory(scheduled_for=PAST), due_date=datetime.date(2025, 4, 1))
    url = reverse("admin:governance_actionitem_change", args=[item.pk])
    fields = {"title": item.title, "description": "", "owner": item.owner_id, "owner_contact": ""}

    early = admin_client.post(url, {**fields, "due_date": "2025-01-15"})
    later = admin_client.post(url, {**fields, "due_date": "2025-05-15"})

    assert _form_errors(early) == ["The action is due on the meeting's day, 03/10/2025, or later."]
    assert later.status_code == 302, _form_errors(later)
    item.refresh_from_db()
    assert item.due_date == datetime.date(2025, 5, 15)
    assert item.history.latest().history_change_reason == "Changed: due_date"


WORDING_FINAL = "The minutes of this meeting are approved: the action's wording is final; record a correction instead."


@pytest.fixture
def approved_action():
    """An action item of a meeting of 10 March 2025 whose minutes are approved."""
    return ActionItemFactory(
        meeting=MeetingFactory(approved_minutes=True, scheduled_for=PAST),
        title="Send the plan",
        description="By e-mail.\nBoth sites.",
        due_date=datetime.date(2025, 4, 1),
    )


def test_the_wording_of_an_action_of_approved_minutes_is_read_only_on_its_page_with_the_reason(
    admin_client, approved_action
):
    url = reverse("admin:governance_actionitem_change", args=[approved_action.pk])

    response = admin_client.get(url)
    rescheduled = admin_client.post(
        url, {"owner": approved_action.owner_id, "owner_contact": "", "due_date": "2025-05-15"}
    )

    form = response.context["adminform"].form
    assert not {"title", "description"} & set(form.fields)
    assert {"owner", "owner_contact", "due_date"} <= set(form.fields)
    assert WORDING_FINAL in response.content.decode()
    assert rescheduled.status_code == 302, _form_errors(rescheduled)
    approved_action.refresh_from_db()
    assert (approved_action.title, approved_action.due_date) == ("Send the plan", datetime.date(2025, 5, 15))


def test_a_page_opened_before_the_minutes_were_approved_has_its_rewording_refused_not_dropped(
    admin_client, approved_action
):
    url = reverse("admin:governance_actionitem_change", args=[approved_action.pk])
    fields = {
        "title": "Send the plan",
        "description": "By e-mail.\r\nBoth sites.",
        "owner": approved_action.owner_id,
        "owner_contact": "",
        "due_date": "2025-05-15",
    }

    reworded = admin_client.post(url, {**fields, "title": "Send the final plan"})
    approved_action.refresh_from_db()
    unchanged_wording = admin_client.post(url, fields)

    assert _form_errors(reworded) == [WORDING_FINAL]
    assert (approved_action.title, approved_action.due_date) == ("Send the plan", datetime.date(2025, 4, 1))
    assert unchanged_wording.status_code == 302, _form_errors(unchanged_wording)
    approved_action.refresh_from_db()
    assert (approved_action.description, approved_action.due_date) == (
        "By e-mail.\nBoth sites.",
        datetime.date(2025, 5, 15),
    )


def test_the_wording_of_an_action_of_open_minutes_or_of_a_finding_is_changed_on_its_page(admin_client):
    for item in (
        ActionItemFactory(meeting=MeetingFactory(scheduled_for=PAST), due_date=datetime.date(2025, 4, 1)),
        ActionItemFactory(meeting=None, finding=FindingFactory(), due_date=datetime.date(2025, 4, 1)),
    ):
        url = reverse("admin:governance_actionitem_change", args=[item.pk])
        fields = {"title": "Send the final plan", "description": "", "owner": item.owner_id, "owner_contact": ""}

        response = admin_client.post(url, {**fields, "due_date": "2025-04-01"})

        assert response.status_code == 302, _form_errors(response)
        item.refresh_from_db()
        assert item.title == "Send the final plan"


def test_a_change_of_chair_in_the_back_office_is_kept_in_the_seats_history_with_who_and_when(
    admin_client, administrator
):
    committee = CommitteeFactory()
    chair = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR)
    member = CommitteeMemberFactory(committee=committee, role=MemberRole.MEMBER)

    admin_client.post(
        reverse("admin:governance_committeemember_change", args=[chair.pk]),
        {"committee": committee.pk, "user": chair.user_id, "side": chair.side, "role": MemberRole.MEMBER},
    )
    response = admin_client.post(
        reverse("admin:governance_committeemember_change", args=[member.pk]),
        {"committee": committee.pk, "user": member.user_id, "side": member.side, "role": MemberRole.CHAIR},
    )

    assert response.status_code == 302
    former, new = chair.history.latest(), member.history.latest()
    assert (former.role, former.history_type, former.history_user) == (MemberRole.MEMBER, "~", administrator)
    assert (new.role, new.history_type, new.history_user) == (MemberRole.CHAIR, "~", administrator)
    assert new.history_date >= former.history_date


def test_a_seat_taken_away_in_the_back_office_stays_in_its_history(admin_client, administrator):
    member = CommitteeMemberFactory()

    admin_client.post(reverse("admin:governance_committeemember_delete", args=[member.pk]), {"post": "yes"})

    record = CommitteeMember.history.filter(id=member.pk).latest()
    assert (record.history_type, record.history_user, record.user_id) == ("-", administrator, member.user_id)


def test_the_seats_given_before_their_history_was_kept_become_their_first_history_row():
    member = CommitteeMemberFactory(role=MemberRole.CHAIR)
    CommitteeMember.history.all().delete()  # as before migration 0011
    migration = import_module("governance.migrations.0011_committeemember_history")

    migration.record_existing_seats(apps, None)

    (first,) = CommitteeMember.history.all()
    assert (first.id, first.committee_id, first.user_id, first.role, first.history_type) == (
        member.pk,
        member.committee_id,
        member.user_id,
        MemberRole.CHAIR,
        "+",
    )
    assert first.history_change_reason == "Seated before its history was kept"
