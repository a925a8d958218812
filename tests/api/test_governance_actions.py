"""Decisions and action items through the API: created and changed by governance.services, so decisions
are numbered in their meeting, approved minutes stay as they were, and refusals are 400s. The record is
the customer's, kept by administrators and the committee's customer-side members whatever their role's
permissions (governance.permissions, as on the web pages): a vendor member only votes on circulated minutes,
a customer-side user who does not sit on the committee changes nothing; both are refused with a 403."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.choices import Role
from governance.choices import ActionStatus, AttendanceStatus, MeetingStatus, MemberRole, MinutesStatus, Side
from governance.models import ActionItem, AgendaItem, Attendance, CommitteeMember, Decision, Meeting, MinutesApproval
from tests import factories as f
from tests.api.endpoints import READ_ONLY
from tests.governance.helpers import held_with_quorum

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(users, client_for):
    return client_for(users[Role.COMMITTEE_MEMBER])


@pytest.fixture
def admin(users, client_for):
    return client_for(users[Role.ADMINISTRATOR])


@pytest.fixture
def meeting(worlds):
    """The first world's meeting, held with its quorum: it decides."""
    return held_with_quorum(worlds[0]["governance.Meeting"])


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


def test_a_posted_meeting_is_planned_as_on_the_committee_page(meeting, member, users):
    body = {
        "committee": meeting.committee_id,
        "scheduled_for": f"{f.NEXT_YEAR}-03-02T10:00:00Z",
        "location": "  Lille  ",
    }

    created = member.post("/api/v1/meetings/", body, format="json")
    again = member.post("/api/v1/meetings/", body, format="json")

    assert created.status_code == 201, created.content
    assert (created.json()["status"], created.json()["location"]) == (MeetingStatus.PLANNED, "Lille")
    planned = Meeting.objects.get(pk=created.json()["id"])
    assert planned.history.get().history_change_reason == "Planned"
    assert planned.history.get().history_user == users[Role.COMMITTEE_MEMBER]
    assert _errors(again)  # one meeting per committee and time
    assert Meeting.objects.filter(committee=meeting.committee, scheduled_for=planned.scheduled_for).count() == 1


def test_a_meeting_whose_minutes_are_approved_is_not_changed(approved, member):
    response = member.patch(f"/api/v1/meetings/{approved.pk}/", {"location": "Lisbon office"}, format="json")

    assert _errors(response) == ["The minutes of this meeting are approved; record a correction instead."]
    approved.refresh_from_db()
    assert approved.location == "Video call"


def test_posted_decisions_are_numbered_in_their_meeting_and_a_number_sent_is_refused(meeting, member, users):
    last = meeting.decisions.get().number

    numbered = member.post("/api/v1/decisions/", {"meeting": meeting.pk, "number": 1, "text": "A."}, format="json")
    first = member.post("/api/v1/decisions/", {"meeting": meeting.pk, "text": "A."}, format="json")
    second = member.post("/api/v1/decisions/", {"meeting": meeting.pk, "text": "B."}, format="json")

    assert numbered.status_code == 400
    assert numbered.json()["errors"] == {"number": READ_ONLY}
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

    moved = member.patch(f"/api/v1/decisions/{decision.pk}/", payload, format="json")
    sent_back = {**payload, "meeting": meeting.pk, "number": decision.number}
    response = member.patch(f"/api/v1/decisions/{decision.pk}/", sent_back, format="json")

    assert moved.status_code == 400
    assert moved.json()["errors"] == {"meeting": READ_ONLY, "number": READ_ONLY}
    assert response.status_code == 200, response.content
    decision.refresh_from_db()
    assert (decision.text, decision.meeting, decision.number) == ("Adopt the revised plan.", meeting, decision.number)
    assert decision.history.latest().history_user == users[Role.COMMITTEE_MEMBER]


# Action items --------------------------------------------------------------------------------------


def _action_item(world, **values) -> dict:
    return {
        "title": "Share the staffing plan",
        "owner_contact": world["contracts.VendorContact"].pk,
        "due_date": "2999-12-31",
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


def test_an_action_item_a_service_refuses_as_a_whole_is_a_400_under_non_field_errors(meeting, admin):
    """The model's rule that names no field (an owner, a user or a vendor contact) reaches the API through the
    service's full_clean(): it reads under non_field_errors, as the API's other such errors do, not "__all__"."""
    before = ActionItem.objects.count()

    response = admin.post(
        "/api/v1/action-items/", {"meeting": meeting.pk, "title": "t", "due_date": "2099-12-30"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["non_field_errors"]
    assert response.json()["errors"]["non_field_errors"]
    assert ActionItem.objects.count() == before


def test_an_action_items_origin_and_status_do_not_change_through_a_patch(worlds, approved, member):
    item = worlds[0]["governance.ActionItem"]
    title = item.title
    payload = {"meeting": approved.pk, "status": "done", "title": "Send the revised recovery plan"}

    response = member.patch(f"/api/v1/action-items/{item.pk}/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"meeting": READ_ONLY, "status": READ_ONLY}
    item.refresh_from_db()
    assert (item.meeting, item.status, item.title) == (worlds[0]["governance.Meeting"], ActionStatus.OPEN, title)


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


# The record is the customer's: vendor members vote on circulated minutes, nothing else -----------------


@pytest.fixture
def held(worlds, users):
    """The first world's meeting, held, with circulated minutes; its vendor member and a customer member
    were present (the world's committee member was not recorded)."""
    meeting = worlds[0]["governance.Meeting"]
    Meeting.objects.filter(pk=meeting.pk).update(
        status=MeetingStatus.HELD, minutes="## Service levels\nCSL-1 missed.", minutes_status=MinutesStatus.CIRCULATED
    )
    Attendance.objects.filter(meeting=meeting).delete()
    vendor_seat = CommitteeMember.objects.get(committee=meeting.committee, user=users[Role.VENDOR_USER])
    customer_seat = f.CommitteeMemberFactory(committee=meeting.committee)
    for seat in (vendor_seat, customer_seat):
        f.AttendanceFactory(meeting=meeting, member=seat, status=AttendanceStatus.PRESENT)
    meeting.refresh_from_db()
    meeting.customer_member = customer_seat.user
    return meeting


def _record(meeting) -> dict:
    """What the customer's record of the meeting holds."""
    meeting = Meeting.objects.get(pk=meeting.pk)
    return {
        "minutes": (meeting.minutes, meeting.minutes_status),
        "decisions": list(Decision.objects.filter(meeting=meeting).values_list("number", "text")),
        "agenda": list(AgendaItem.objects.filter(meeting=meeting).values_list("title", flat=True)),
        "actions": list(ActionItem.objects.order_by("pk").values_list("title", "status", "due_date")),
        "votes": MinutesApproval.objects.filter(meeting=meeting).count(),
        "meetings": list(
            Meeting.objects.filter(committee=meeting.committee).values_list("scheduled_for", "location", "status")
        ),
        "attendance": list(
            Attendance.objects.filter(meeting=meeting).order_by("member").values_list("member", "status")
        ),
    }


def _writes(world, meeting) -> dict[str, tuple[str, str, dict]]:
    """Every governance write of the API on the meeting's record: name → (method, url, body)."""
    decision = meeting.decisions.get()
    item = world["governance.ActionItem"]
    waived = "Credits for October waived by the client."
    return {
        "plan meeting": (
            "post",
            "/api/v1/meetings/",
            {"committee": meeting.committee_id, "scheduled_for": f"{f.NEXT_YEAR}-03-02T10:00:00Z", "location": "Lille"},
        ),
        "edit minutes": ("post", f"/api/v1/meetings/{meeting.pk}/minutes/", {"minutes": waived}),
        "circulate": ("post", f"/api/v1/meetings/{meeting.pk}/circulate/", {}),
        "approve as chair": ("post", f"/api/v1/meetings/{meeting.pk}/approve-minutes/", {}),
        "record correction": ("post", f"/api/v1/meetings/{meeting.pk}/correct-minutes/", {"minutes": waived}),
        "discard correction": ("post", f"/api/v1/meetings/{meeting.pk}/discard-correction/", {}),
        "change meeting": ("patch", f"/api/v1/meetings/{meeting.pk}/", {"location": "Vendor office"}),
        "record decision": ("post", "/api/v1/decisions/", {"meeting": meeting.pk, "text": waived}),
        "reword decision": ("patch", f"/api/v1/decisions/{decision.pk}/", {"text": waived}),
        "add action item": ("post", "/api/v1/action-items/", _action_item(world, meeting=meeting.pk)),
        "change action item": ("patch", f"/api/v1/action-items/{item.pk}/", {"due_date": "2099-12-31"}),
        "start action item": ("post", f"/api/v1/action-items/{item.pk}/start/", {}),
        "close action item": ("post", f"/api/v1/action-items/{item.pk}/close/", {}),
        "cancel action item": ("post", f"/api/v1/action-items/{item.pk}/cancel/", {"reason": "Not needed"}),
        "reopen action item": ("post", f"/api/v1/action-items/{item.pk}/reopen/", {}),
        "record attendance": (
            "post",
            f"/api/v1/meetings/{meeting.pk}/attendance/",
            {
                "attendance": [
                    {"member": seat, "status": "present"}
                    for seat in CommitteeMember.objects.filter(committee=meeting.committee).values_list("pk", flat=True)
                ]
            },
        ),
        "cancel meeting": ("post", f"/api/v1/meetings/{meeting.pk}/cancel/", {"reason": "The vendor asked"}),
    }


WRITES = [
    "plan meeting",
    "edit minutes",
    "circulate",
    "approve as chair",
    "record correction",
    "discard correction",
    "change meeting",
    "record decision",
    "reword decision",
    "add action item",
    "change action item",
    "start action item",
    "close action item",
    "cancel action item",
    "reopen action item",
    "record attendance",
    "cancel meeting",
]


@pytest.mark.parametrize("write", WRITES)
def test_a_vendor_member_changes_nothing_through_the_api(worlds, held, users, client_for, write):
    method, url, payload = _writes(worlds[0], held)[write]
    before = _record(held)

    response = getattr(client_for(users[Role.VENDOR_USER]), method)(url, payload, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["type"] == "permission_denied"
    assert _record(held) == before


# What the services refuse a customer member on this meeting (a 400 with the reason, never a 403).
SERVICE_REFUSALS = {
    "circulate": "Only draft minutes can be circulated.",
    "approve as chair": "Only the committee's chair approves the minutes alone; the members may vote instead.",
    "record correction": "Only approved minutes need a correction; edit these minutes instead.",
    "discard correction": "This is a meeting, not a correction: only a draft correction of minutes is discarded.",
    "reopen action item": "The action item is already open.",
    "record attendance": "The minutes are circulated or approved: the attendance is final.",
    "cancel meeting": "Only a planned meeting can be cancelled.",
}


def _seated(committee, user, **seat):
    CommitteeMember.objects.create(committee=committee, user=user, side=seat.pop("side", Side.CLIENT), **seat)
    return type(user).objects.get(pk=user.pk)  # without the permission cache of an earlier check


@pytest.fixture
def procurement_member(worlds):
    """A customer-side member of the first world's committee whose role (procurement) may not change
    governance rows."""
    return _seated(worlds[0]["governance.Committee"], f.UserFactory(procurement=True))


@pytest.mark.parametrize("who", ["committee member", "procurement member"])
@pytest.mark.parametrize("write", WRITES)
def test_a_customer_member_still_makes_each_write(worlds, held, users, procurement_member, client_for, write, who):
    """A customer-side member of the committee who is not its chair, whether or not their role has
    governance's model permissions."""
    user = users[Role.COMMITTEE_MEMBER] if who == "committee member" else procurement_member
    assert user.has_perm("governance.change_meeting") == (who == "committee member")
    method, url, payload = _writes(worlds[0], held)[write]
    before = _record(held)

    response = getattr(client_for(user), method)(url, payload, format="json")

    if write in SERVICE_REFUSALS:
        assert _errors(response) == [SERVICE_REFUSALS[write]]
        return
    assert response.status_code in (200, 201), response.content
    assert write == "change meeting" or _record(held) != before


@pytest.mark.parametrize("write", WRITES)
def test_a_customer_user_with_the_permission_who_does_not_sit_on_the_committee_changes_nothing(
    worlds, held, users, client_for, write
):
    """The contract's vendor manager sees the committee and their role may change governance rows, but
    they do not sit on it: the web pages refuse them, and so does the API."""
    manager = users[Role.VENDOR_MANAGER]
    assert manager.has_perm("governance.change_meeting") and manager.has_perm("governance.add_decision")
    method, url, payload = _writes(worlds[0], held)[write]
    before = _record(held)

    response = getattr(client_for(manager), method)(url, payload, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["type"] == "permission_denied"
    assert _record(held) == before


def test_a_customer_chair_without_the_permission_approves_the_minutes(worlds, held, client_for):
    chair = _seated(worlds[0]["governance.Committee"], f.UserFactory(procurement=True), role=MemberRole.CHAIR)
    assert not chair.has_perm("governance.change_meeting")

    response = client_for(chair).post(f"/api/v1/meetings/{held.pk}/approve-minutes/")

    assert response.status_code == 200, response.content
    assert (response.json()["minutes_status"], response.json()["minutes_approval_method"]) == ("approved", "chair")


def test_a_meeting_is_not_moved_to_a_committee_the_user_does_not_keep_the_record_of(worlds, held, member):
    other = f.CommitteeFactory(contract=worlds[0]["contracts.Contract"])

    response = member.patch(f"/api/v1/meetings/{held.pk}/", {"committee": other.pk}, format="json")

    assert (response.status_code, response.json()["type"]) == (403, "permission_denied")
    assert Meeting.objects.get(pk=held.pk).committee_id == held.committee_id


def test_a_vendor_user_given_governance_permissions_still_changes_nothing(worlds, held, users, client_for):
    vendor = users[Role.VENDOR_USER]
    vendor.user_permissions.add(*Permission.objects.filter(content_type__app_label="governance"))
    vendor = type(vendor).objects.get(pk=vendor.pk)
    assert vendor.has_perm("governance.change_meeting")
    before = _record(held)
    client = client_for(vendor)

    writes = _writes(worlds[0], held)
    assert set(writes) == set(WRITES)
    for write, (method, url, payload) in writes.items():
        assert getattr(client, method)(url, payload, format="json").status_code == 403, write

    assert _record(held) == before


def test_a_customer_member_still_edits_and_circulates_the_minutes(held, member):
    edited = member.post(f"/api/v1/meetings/{held.pk}/minutes/", {"minutes": "Revised."}, format="json")
    assert (edited.status_code, edited.json()["minutes_status"]) == (200, "draft")

    circulated = member.post(f"/api/v1/meetings/{held.pk}/circulate/")

    assert (circulated.status_code, circulated.json()["minutes_status"]) == (200, "circulated")
    assert _record(held)["minutes"] == ("Revised.", MinutesStatus.CIRCULATED)


def test_present_members_of_both_sides_approve_the_minutes_by_their_votes(held, users, client_for):
    vendor = client_for(users[Role.VENDOR_USER])

    first = vendor.post(f"/api/v1/meetings/{held.pk}/vote-minutes/")

    assert (first.status_code, first.json()["minutes_status"]) == (200, "circulated"), first.content
    assert _errors(vendor.post(f"/api/v1/meetings/{held.pk}/vote-minutes/")) == [
        "This member has already approved these minutes."
    ]

    second = client_for(held.customer_member).post(f"/api/v1/meetings/{held.pk}/vote-minutes/")

    assert second.status_code == 200, second.content
    assert (second.json()["minutes_status"], second.json()["minutes_approval_method"]) == ("approved", "vote")
    assert second.json()["minutes"] == "## Service levels\nCSL-1 missed."
    voters = set(MinutesApproval.objects.filter(meeting=held).values_list("member__user", flat=True))
    assert voters == {users[Role.VENDOR_USER].pk, held.customer_member.pk}


def test_only_members_present_vote_on_the_minutes(held, users, member, client_for):
    absent = member.post(f"/api/v1/meetings/{held.pk}/vote-minutes/")
    not_a_member = client_for(users[Role.VENDOR_MANAGER]).post(f"/api/v1/meetings/{held.pk}/vote-minutes/")

    assert _errors(absent) == ["Only members present at the meeting vote on its minutes."]
    assert (not_a_member.status_code, not_a_member.json()["type"]) == (403, "permission_denied")
    assert _record(held)["votes"] == 0


# The meeting page and the API answer the same users the same way -------------------------------------------


def _person(who: str, worlds, users):
    committee = worlds[0]["governance.Committee"]
    if who == "procurement member":
        return _seated(committee, f.UserFactory(procurement=True))
    if who == "procurement chair":
        return _seated(committee, f.UserFactory(procurement=True), role=MemberRole.CHAIR)
    if who == "vendor member given governance permissions":
        vendor = users[Role.VENDOR_USER]
        vendor.user_permissions.add(*Permission.objects.filter(content_type__app_label="governance"))
        return type(vendor).objects.get(pk=vendor.pk)
    return {
        "administrator": users[Role.ADMINISTRATOR],
        "customer member": users[Role.COMMITTEE_MEMBER],
        "vendor manager without a seat": users[Role.VENDOR_MANAGER],
        "procurement without a seat": users[Role.PROCUREMENT],
        "auditor without a seat": users[Role.AUDITOR],
        "vendor member": users[Role.VENDOR_USER],
    }[who]


# Who keeps the first world's committee's record, and who votes on its minutes (a seat of either side).
KEEP_THE_RECORD = {"administrator", "customer member", "procurement member", "procurement chair"}
VOTE = (KEEP_THE_RECORD - {"administrator"}) | {"vendor member", "vendor member given governance permissions"}
PEOPLE = [
    *sorted(KEEP_THE_RECORD),
    "vendor manager without a seat",
    "procurement without a seat",
    "auditor without a seat",
    "vendor member",
    "vendor member given governance permissions",
]


def _both_ways(world, meeting) -> dict[str, tuple[tuple[str, dict], tuple[str, str, dict]]]:
    """Each change that the meeting pages and the API both make: name → ((page url, form), (method, url, body))."""
    item = world["governance.ActionItem"]
    owner = world["governance.CommitteeMember"].user
    text = "Credits for October waived by the client."

    def page(action: str) -> str:
        return reverse("governance:meeting-action", args=[meeting.pk, action])

    def item_page(change: str) -> str:
        return reverse(f"governance:action-{change}", args=[item.pk])

    return {
        "plan meeting": (
            (
                reverse("governance:committee", args=[meeting.committee_id]),
                {"scheduled_for": f"{f.NEXT_YEAR}-03-02T10:00"},
            ),
            (
                "post",
                "/api/v1/meetings/",
                {"committee": meeting.committee_id, "scheduled_for": f"{f.NEXT_YEAR}-04-02T10:00Z"},
            ),
        ),
        "vote": ((page("vote"), {}), ("post", f"/api/v1/meetings/{meeting.pk}/vote-minutes/", {})),
        "edit minutes": (
            (page("minutes"), {"minutes": text}),
            ("post", f"/api/v1/meetings/{meeting.pk}/minutes/", {"minutes": text}),
        ),
        "circulate": ((page("circulate"), {}), ("post", f"/api/v1/meetings/{meeting.pk}/circulate/", {})),
        "approve as chair": ((page("approve"), {}), ("post", f"/api/v1/meetings/{meeting.pk}/approve-minutes/", {})),
        "record correction": (
            (page("correction"), {"minutes": text}),
            ("post", f"/api/v1/meetings/{meeting.pk}/correct-minutes/", {"minutes": text}),
        ),
        "discard correction": (
            (page("discard-correction"), {}),
            ("post", f"/api/v1/meetings/{meeting.pk}/discard-correction/", {}),
        ),
        "record decision": (
            (page("decision"), {"text": text}),
            ("post", "/api/v1/decisions/", {"meeting": meeting.pk, "text": text}),
        ),
        "add action item": (
            (page("action-item"), {"title": "Share the plan", "owner": f"user:{owner.pk}", "due_date": "2025-05-15"}),
            ("post", "/api/v1/action-items/", _action_item(world, meeting=meeting.pk)),
        ),
        "start action item": ((item_page("start"), {}), ("post", f"/api/v1/action-items/{item.pk}/start/", {})),
        "close action item": ((item_page("close"), {}), ("post", f"/api/v1/action-items/{item.pk}/close/", {})),
        "cancel action item": ((item_page("cancel"), {}), ("post", f"/api/v1/action-items/{item.pk}/cancel/", {})),
    }


def _answer(response) -> str:
    """Whether the change was refused (403), hidden (404) or let through to its service (which may refuse it
    in turn: a 400 from the API, a message on the page)."""
    assert response.status_code < 500, response.content
    return {403: "refused", 404: "hidden"}.get(response.status_code, "let through")


@pytest.mark.parametrize("who", PEOPLE)
def test_the_meeting_pages_and_the_api_let_the_same_users_change_the_record(worlds, held, users, client_for, who):
    user = _person(who, worlds, users)
    page, api = Client(), client_for(user)
    page.force_login(user)
    before = _record(held)

    answers = {}
    for change, ((url, form), (method, api_url, body)) in _both_ways(worlds[0], held).items():
        answers[change] = (_answer(page.post(url, form)), _answer(getattr(api, method)(api_url, body, format="json")))

    allowed = {change: who in (VOTE if change == "vote" else KEEP_THE_RECORD) for change in answers}
    assert answers == {change: ("let through",) * 2 if allowed[change] else ("refused",) * 2 for change in answers}
    if who not in KEEP_THE_RECORD:
        assert {**_record(held), "votes": None} == {**before, "votes": None}


# Holding and cancelling a meeting ------------------------------------------------------------------


@pytest.fixture
def planned(worlds):
    """A planned meeting of the first world's committee, scheduled in the past, minutes not started."""
    return f.MeetingFactory(
        committee=worlds[0]["governance.Committee"], scheduled_for="2025-03-03T10:00:00Z", status=MeetingStatus.PLANNED
    )


def test_recording_the_attendance_holds_the_meeting_and_the_api_shows_it(planned, member, users):
    committee = member.get(f"/api/v1/committees/{planned.committee_id}/").json()
    seats = {seat["id"]: seat for seat in committee["members"]}
    statuses = dict(zip(seats, ["present", "excused", "absent", "present"], strict=False))
    statuses = {seat: statuses.get(seat, "present") for seat in seats}

    response = member.post(
        f"/api/v1/meetings/{planned.pk}/attendance/",
        {"attendance": [{"member": seat, "status": status} for seat, status in statuses.items()]},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == MeetingStatus.HELD
    assert {row["member"]: row["status"] for row in body["attendance"]} == statuses
    assert dict(Attendance.objects.filter(meeting=planned).values_list("member", "status")) == statuses
    latest = Meeting.objects.get(pk=planned.pk).history.latest()
    assert latest.history_user == users[Role.COMMITTEE_MEMBER]
    assert latest.history_change_reason.startswith("Held: ")
    assert users[Role.COMMITTEE_MEMBER].pk in {seat["user"] for seat in seats.values()}


def test_an_attendance_that_leaves_a_member_out_or_names_one_twice_is_refused(planned, member):
    seats = list(CommitteeMember.objects.filter(committee=planned.committee).values_list("pk", flat=True))

    missing = member.post(
        f"/api/v1/meetings/{planned.pk}/attendance/",
        {"attendance": [{"member": seat, "status": "present"} for seat in seats[1:]]},
        format="json",
    )
    twice = member.post(
        f"/api/v1/meetings/{planned.pk}/attendance/",
        {"attendance": [{"member": seats[0], "status": "present"}] * 2},
        format="json",
    )

    assert _errors(missing)[0].startswith("Give the attendance of every member: ")
    assert _errors(twice) == ["Give each member once."]
    planned.refresh_from_db()
    assert planned.status == MeetingStatus.PLANNED
    assert not Attendance.objects.filter(meeting=planned).exists()


def test_a_meeting_status_is_not_patched_but_held_or_cancelled_through_its_actions(planned, member):
    patched = member.patch(f"/api/v1/meetings/{planned.pk}/", {"status": "held"}, format="json")
    unchanged = member.patch(f"/api/v1/meetings/{planned.pk}/", {"status": "planned"}, format="json")
    cancelled = member.post(f"/api/v1/meetings/{planned.pk}/cancel/", {"reason": "No quorum"}, format="json")

    assert patched.status_code == 400 and patched.json()["errors"] == {"status": READ_ONLY}
    assert unchanged.status_code == 200 and unchanged.json()["status"] == MeetingStatus.PLANNED
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == MeetingStatus.CANCELLED
    assert Meeting.objects.get(pk=planned.pk).history.latest().history_change_reason == "Cancelled: No quorum"


def test_an_action_item_joins_a_meeting_only_to_a_finding_its_committee_governs(worlds, meeting, admin):
    """An item of both is shown to whoever sees either: another vendor's finding would show it to that vendor."""
    others = worlds[1]["audits.Finding"]
    own = worlds[0]["audits.Finding"]

    refused = admin.post(
        "/api/v1/action-items/", _action_item(worlds[0], meeting=meeting.pk, finding=others.pk), format="json"
    )
    accepted = admin.post(
        "/api/v1/action-items/", _action_item(worlds[0], meeting=meeting.pk, finding=own.pk), format="json"
    )

    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "finding": [
            f"The finding is on {others.audit.audit_right.contract.reference}, "
            "which the meeting's committee does not govern."
        ]
    }
    assert not ActionItem.objects.filter(finding=others).exclude(pk=worlds[1]["governance.ActionItem"].pk).exists()
    assert accepted.status_code == 201, accepted.content


def test_a_planned_meeting_moves_only_to_a_committee_of_the_same_vendor(worlds, planned, admin):
    other_vendors = worlds[1]["governance.Committee"]

    response = admin.patch(f"/api/v1/meetings/{planned.pk}/", {"committee": other_vendors.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "committee": ["A meeting moves only to another committee of the same vendor: plan a new one."]
    }
    planned.refresh_from_db()
    assert planned.committee == worlds[0]["governance.Committee"]
