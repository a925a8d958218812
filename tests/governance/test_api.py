"""Governance's rules through the API: a 400 in the API's shape naming the field, or a 403, never a 500."""

import datetime
from datetime import UTC

import pytest
from rest_framework.test import APIClient

from accounts.choices import Role
from governance.choices import AttendanceStatus, Cadence, MeetingStatus, MinutesStatus
from governance.models import ActionItem, AgendaItem, Committee
from tests.factories import (
    NEXT_YEAR,
    ActionItemFactory,
    AgendaItemFactory,
    AttendanceFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    ContractFactory,
    FindingFactory,
    MeetingFactory,
    UserFactory,
    VendorContactFactory,
    VendorFactory,
    VendorUserFactory,
)
from tests.governance.helpers import held_with_quorum

pytestmark = pytest.mark.django_db
MARCH = datetime.datetime(2025, 3, 10, 10, tzinfo=datetime.UTC)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _errors(response) -> dict:
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    return response.json()["errors"]


@pytest.fixture
def member():
    """A customer-side member of a monthly committee with a quorum of 3."""
    return CommitteeMemberFactory(committee=CommitteeFactory(quorum=3))


def test_a_held_meetings_date_is_not_patched_into_the_future(member):
    meeting = MeetingFactory(committee=member.committee, scheduled_for=MARCH, status=MeetingStatus.HELD)

    response = api(member.user).patch(
        f"/api/v1/meetings/{meeting.pk}/", {"scheduled_for": "2099-03-10T10:00:00Z"}, format="json"
    )

    assert list(_errors(response)) == ["scheduled_for"]
    meeting.refresh_from_db()
    assert meeting.scheduled_for == MARCH


def test_a_planned_meeting_is_rescheduled_through_the_api(member):
    meeting = MeetingFactory(
        committee=member.committee, scheduled_for=datetime.datetime(2099, 3, 10, tzinfo=datetime.UTC)
    )

    response = api(member.user).patch(
        f"/api/v1/meetings/{meeting.pk}/", {"scheduled_for": f"{NEXT_YEAR}-03-17T10:00:00Z"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert meeting.history.latest().history_change_reason == "Rescheduled"


def test_a_committees_terms_are_changed_by_its_customer_members_with_a_reason():
    committee = CommitteeFactory(cadence=Cadence.MONTHLY, quorum=3)
    member = CommitteeMemberFactory(committee=committee)
    outsider = committee.contract.owner  # a vendor manager: governance permissions, no seat
    url = f"/api/v1/committees/{committee.pk}/"

    refused = api(outsider).patch(url, {"cadence": "annual", "quorum": 1, "reason": "x"}, format="json")
    no_reason = api(member.user).patch(url, {"cadence": "annual", "quorum": 1}, format="json")
    changed = api(member.user).patch(url, {"cadence": "annual", "quorum": 1, "reason": "Amendment 4"}, format="json")

    assert refused.status_code == 403
    assert _errors(no_reason) == {"reason": ["Say why the committee's cadence or quorum changes."]}
    assert changed.status_code == 200, changed.content
    committee.refresh_from_db()
    assert (committee.cadence, committee.quorum) == ("annual", 1)
    record = committee.history.latest()
    assert (record.history_user, record.history_change_reason) == (member.user, "Amendment 4")


def test_a_decision_without_quorum_is_a_400_naming_the_meeting(member):
    meeting = MeetingFactory(committee=member.committee, scheduled_for=MARCH, status=MeetingStatus.HELD)
    AttendanceFactory(meeting=meeting, member=member, status=AttendanceStatus.PRESENT)

    response = api(member.user).post("/api/v1/decisions/", {"meeting": meeting.pk, "text": "Adopt."}, format="json")

    assert _errors(response) == {"meeting": ["The meeting lacked its quorum: it takes no decision."]}


def test_an_action_item_owned_by_another_vendors_contact_is_a_400(member):
    meeting = MeetingFactory(committee=member.committee, scheduled_for=MARCH, status=MeetingStatus.HELD)
    pacific = VendorContactFactory(vendor=VendorFactory(name="Pacific"))
    payload = {"meeting": meeting.pk, "title": "Plan", "owner_contact": pacific.pk, "due_date": "2025-04-30"}

    response = api(UserFactory(administrator=True)).post("/api/v1/action-items/", payload, format="json")

    assert _errors(response) == {"owner_contact": ["The owner is a contact of another vendor."]}
    assert not ActionItem.objects.exists()


def test_a_cancelled_meeting_shows_its_whole_reason(member):
    meeting = MeetingFactory(
        committee=member.committee, scheduled_for=datetime.datetime(2099, 3, 10, tzinfo=datetime.UTC)
    )
    reason = "The vendor's delivery director is on leave; the statement is still in review. " * 3

    response = api(member.user).post(f"/api/v1/meetings/{meeting.pk}/cancel/", {"reason": reason}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["cancellation_reason"] == reason.strip()


def test_the_vote_of_a_vendor_contact_is_recorded_through_the_api(member):
    meeting = held_with_quorum(
        MeetingFactory(committee=member.committee, scheduled_for=MARCH, minutes="Notes.", minutes_circulation=1)
    )
    contact = CommitteeMemberFactory(committee=member.committee, vendor_contact=True)
    AttendanceFactory(meeting=meeting, member=contact, status=AttendanceStatus.PRESENT)
    meeting.minutes_status = MinutesStatus.CIRCULATED
    meeting.save()
    vendor_user = CommitteeMemberFactory(
        committee=member.committee, user=VendorUserFactory(vendor=member.committee.contract.vendor), side="vendor"
    )
    url = f"/api/v1/meetings/{meeting.pk}/record-vote/"

    refused = api(vendor_user.user).post(url, {"member": contact.pk}, format="json")
    recorded = api(member.user).post(url, {"member": contact.pk}, format="json")
    again = api(member.user).post(url, {"member": contact.pk}, format="json")

    assert refused.status_code == 403
    assert recorded.status_code == 200, recorded.content
    approval = meeting.minutes_approvals.get()
    assert (approval.member, approval.recorded_by) == (contact, member.user)
    assert _errors(again) == {"member": ["This member has already approved these minutes."]}


def test_a_findings_action_items_are_created_and_closed_by_auditors_not_by_readers_of_audits():
    finding = FindingFactory()
    contract = finding.audit.audit_right.contract
    auditor = UserFactory(role=Role.AUDITOR)
    contract.auditors.add(auditor)
    reader = contract.owner  # a vendor manager: reads audits, may change governance rows
    payload = {"finding": finding.pk, "title": "Clean-desk checks", "owner": auditor.pk, "due_date": "2025-04-30"}

    refused = api(reader).post("/api/v1/action-items/", payload, format="json")
    created = api(auditor).post("/api/v1/action-items/", payload, format="json")
    item = ActionItem.objects.get()
    not_closed = api(reader).post(f"/api/v1/action-items/{item.pk}/close/", format="json")
    closed = api(auditor).post(f"/api/v1/action-items/{item.pk}/close/", format="json")

    assert (refused.status_code, created.status_code) == (403, 201), created.content
    assert (not_closed.status_code, closed.status_code) == (403, 200)
    assert Committee.objects.count() == 0


def test_the_agenda_is_written_through_the_meetings_actions_and_read_in_order(member):
    meeting = MeetingFactory(committee=member.committee, scheduled_for=datetime.datetime(2099, 3, 10, tzinfo=UTC))
    client, url = api(member.user), f"/api/v1/meetings/{meeting.pk}"

    client.post(f"{url}/add-agenda-item/", {"title": "Service levels", "notes": "March"}, format="json")
    added = client.post(f"{url}/add-agenda-item/", {"title": "Staffing"}, format="json")
    staffing = added.json()["agenda"][1]["id"]
    moved = client.post(f"{url}/move-agenda-item/", {"item": staffing, "direction": "up"}, format="json")
    first = moved.json()["agenda"][1]["id"]
    removed = client.post(f"{url}/remove-agenda-item/", {"item": first}, format="json")
    proposed = client.post(f"{url}/propose-agenda/", format="json")

    assert [(row["position"], row["title"]) for row in moved.json()["agenda"]] == [
        (1, "Staffing"),
        (2, "Service levels"),
    ]
    assert [(row["position"], row["title"]) for row in removed.json()["agenda"]] == [(1, "Staffing")]
    assert proposed.status_code == 200, proposed.content
    assert client.get(f"{url}/").json()["agenda"][0]["title"] == "Staffing"
    assert AgendaItem.history.filter(history_user=member.user).count() >= 4


def test_the_agenda_actions_refuse_a_vendor_user_another_meetings_item_and_a_closed_agenda(member):
    meeting = MeetingFactory(committee=member.committee, scheduled_for=datetime.datetime(2099, 3, 10, tzinfo=UTC))
    other = AgendaItemFactory(position=1)
    vendor_seat = CommitteeMemberFactory(
        committee=member.committee, user=VendorUserFactory(vendor=member.committee.contract.vendor), side="vendor"
    )
    approved = MeetingFactory(committee=member.committee, approved_minutes=True)
    url = f"/api/v1/meetings/{meeting.pk}"

    by_vendor = api(vendor_seat.user).post(f"{url}/add-agenda-item/", {"title": "x"}, format="json")
    elsewhere = api(member.user).post(f"{url}/remove-agenda-item/", {"item": other.pk}, format="json")
    closed = api(member.user).post(f"/api/v1/meetings/{approved.pk}/add-agenda-item/", {"title": "x"}, format="json")
    untitled = api(member.user).post(f"{url}/add-agenda-item/", {"title": ""}, format="json")

    assert by_vendor.status_code == 403
    assert _errors(elsewhere) == {"item": ["This is not an item of the meeting's agenda."]}
    assert "agenda is closed" in str(_errors(closed))
    assert list(_errors(untitled)) == ["title"]
    assert list(AgendaItem.objects.values_list("pk", flat=True)) == [other.pk]


def test_an_action_item_is_cancelled_through_the_api_with_its_reason_only(member):
    meeting = MeetingFactory(committee=member.committee, scheduled_for=MARCH, status=MeetingStatus.HELD)
    item = ActionItemFactory(meeting=meeting, due_date=datetime.date(2025, 4, 1))
    url = f"/api/v1/action-items/{item.pk}/cancel/"

    without = api(member.user).post(url, {}, format="json")
    cancelled = api(member.user).post(url, {"reason": "Superseded by the recovery plan"}, format="json")

    assert list(_errors(without)) == ["reason"]
    assert cancelled.status_code == 200, cancelled.content
    assert (cancelled.json()["status"], cancelled.json()["cancellation_reason"]) == (
        "cancelled",
        "Superseded by the recovery plan",
    )


def test_an_action_items_due_date_is_not_patched_before_its_meetings_day(member):
    meeting = MeetingFactory(committee=member.committee, scheduled_for=MARCH, status=MeetingStatus.HELD)
    item = ActionItemFactory(meeting=meeting, due_date=datetime.date(2025, 4, 1))
    url = f"/api/v1/action-items/{item.pk}/"

    early = api(member.user).patch(url, {"due_date": "2025-01-15"}, format="json")
    later = api(member.user).patch(url, {"due_date": "2025-05-15"}, format="json")

    assert _errors(early) == {"due_date": ["The action is due on the meeting's day, 03/10/2025, or later."]}
    assert later.status_code == 200, later.content
    item.refresh_from_db()
    assert item.due_date == datetime.date(2025, 5, 15)
    assert (item.history.latest().history_user, item.history.latest().history_change_reason) == (
        member.user,
        "Changed: due_date",
    )


def test_the_wording_of_an_action_of_approved_minutes_is_not_patched_its_due_date_is(member):
    meeting = MeetingFactory(committee=member.committee, scheduled_for=MARCH, approved_minutes=True)
    item = ActionItemFactory(meeting=meeting, title="Send the plan", due_date=datetime.date(2025, 4, 1))
    url = f"/api/v1/action-items/{item.pk}/"

    reworded = api(member.user).patch(url, {"title": "Send the final plan"}, format="json")
    rescheduled = api(member.user).patch(url, {"title": "Send the plan", "due_date": "2025-05-15"}, format="json")

    assert _errors(reworded) == {
        "title": [
            "The minutes of this meeting are approved: the action's wording is final; record a correction instead."
        ]
    }
    assert rescheduled.status_code == 200, rescheduled.content
    item.refresh_from_db()
    assert (item.title, item.due_date) == ("Send the plan", datetime.date(2025, 5, 15))


@pytest.mark.parametrize("administrator", [False, True])
def test_a_committee_created_through_the_api_can_be_kept_by_its_creator(administrator):
    creator = UserFactory(administrator=True) if administrator else UserFactory(role=Role.COMMITTEE_MEMBER)
    contract = ContractFactory()
    if not administrator:  # a committee member sees the contracts of the committees they sit on
        CommitteeMemberFactory(user=creator, committee=CommitteeFactory(contract=contract))
    client = api(creator)

    response = client.post(
        "/api/v1/committees/",
        {"name": "Shadow committee", "contract": contract.pk, "tier": "tactical", "cadence": "monthly", "quorum": 1},
        format="json",
    )

    assert response.status_code == 201, response.content
    committee = Committee.objects.get(pk=response.json()["id"])
    assert [member["user"] for member in response.json()["members"]] == ([] if administrator else [creator.pk])
    seats = [(member.user, member.side, member.role) for member in committee.members.all()]
    # An administrator keeps every committee's record without a seat; anyone else is seated by creating it.
    assert seats == ([] if administrator else [(creator, "client", "member")])
    changed = client.patch(
        f"/api/v1/committees/{committee.pk}/", {"quorum": 2, "reason": "Two members now"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    planned = client.post(
        "/api/v1/meetings/", {"committee": committee.pk, "scheduled_for": f"{NEXT_YEAR}-03-10T10:00:00Z"}, format="json"
    )
    assert planned.status_code == 201, planned.content


def test_approved_minutes_name_the_records_that_correct_them_in_the_api(member):
    meeting = MeetingFactory(committee=member.committee, scheduled_for=MARCH, approved_minutes=True)
    second = MeetingFactory(
        committee=member.committee, corrects=meeting, status=MeetingStatus.HELD, scheduled_for=MARCH.replace(day=20)
    )
    first = MeetingFactory(
        committee=member.committee, corrects=meeting, status=MeetingStatus.HELD, scheduled_for=MARCH.replace(day=12)
    )

    response = api(member.user).get(f"/api/v1/meetings/{meeting.pk}/")
    listed = api(member.user).get("/api/v1/meetings/", {"committee": member.committee_id})

    assert response.status_code == 200, response.content
    assert response.json()["corrections"] == [first.pk, second.pk]
    rows = {row["id"]: row for row in listed.json()["results"]}
    assert rows[meeting.pk]["corrections"] == [first.pk, second.pk]
    assert rows[first.pk]["corrects"] == meeting.pk and rows[first.pk]["corrections"] == []
