"""Steering committees, meetings and action items: their database constraints."""

import datetime

import pytest

from governance.choices import ActionStatus, MemberRole, MinutesStatus, Side
from governance.models import ActionItem, AgendaItem, Attendance, Committee, CommitteeMember, Decision, Meeting
from tests.factories import (
    DECIDED_AT,
    ActionItemFactory,
    AgendaItemFactory,
    AttendanceFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    ContractFactory,
    DecisionFactory,
    FindingFactory,
    MeetingFactory,
    UserFactory,
    VendorContactFactory,
    VendorFactory,
    VendorUserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("both", [True, False], ids=["both", "neither"])
def test_a_committee_belongs_to_a_contract_or_to_a_vendor(rejected_by, both):
    CommitteeFactory()
    CommitteeFactory(vendor_wide=True)

    with rejected_by(Committee, "committee_contract_xor_vendor"):
        if both:
            CommitteeFactory(contract=ContractFactory(), vendor=VendorFactory())
        else:
            CommitteeFactory(contract=None, vendor=None)


def test_a_committee_quorum_is_at_least_one_member(rejected_by):
    CommitteeFactory(quorum=1)

    with rejected_by(Committee, "committee_quorum_positive"):
        CommitteeFactory(quorum=0)


@pytest.mark.parametrize("both", [True, False], ids=["both", "neither"])
def test_a_committee_member_is_a_user_or_a_vendor_contact(rejected_by, both):
    CommitteeMemberFactory()
    CommitteeMemberFactory(vendor_contact=True)

    with rejected_by(CommitteeMember, "member_user_xor_contact"):
        if both:
            CommitteeMemberFactory(contact=VendorContactFactory())
        else:
            CommitteeMemberFactory(user=None, contact=None)


def test_a_user_holds_one_seat_per_committee(rejected_by):
    member = CommitteeMemberFactory()
    CommitteeMemberFactory(user=member.user)  # a seat on another committee

    with rejected_by(CommitteeMember, "member_unique_user"):
        CommitteeMemberFactory(committee=member.committee, user=member.user)


def test_a_vendor_contact_holds_one_seat_per_committee(rejected_by):
    member = CommitteeMemberFactory(vendor_contact=True)
    CommitteeMemberFactory(vendor_contact=True, committee=member.committee)

    with rejected_by(CommitteeMember, "member_unique_contact"):
        CommitteeMemberFactory(vendor_contact=True, committee=member.committee, contact=member.contact)


def test_a_committee_has_one_chair(rejected_by):
    chair = CommitteeMemberFactory(role=MemberRole.CHAIR)
    CommitteeMemberFactory(committee=chair.committee, role=MemberRole.SECRETARY)
    CommitteeMemberFactory(committee=chair.committee, role=MemberRole.MEMBER)
    CommitteeMemberFactory(role=MemberRole.CHAIR)  # another committee's chair

    with rejected_by(CommitteeMember, "member_one_chair"):
        CommitteeMemberFactory(committee=chair.committee, role=MemberRole.CHAIR)


def test_a_committee_meets_once_at_a_given_time(rejected_by):
    meeting = MeetingFactory()
    MeetingFactory(committee=meeting.committee, scheduled_for=meeting.scheduled_for + datetime.timedelta(hours=1))

    with rejected_by(Meeting, "meeting_unique_committee_time"):
        MeetingFactory(committee=meeting.committee, scheduled_for=meeting.scheduled_for)


@pytest.mark.parametrize("missing", ["minutes_approved_by", "minutes_approved_at"])
def test_approved_minutes_record_who_approved_them_and_when(rejected_by, missing):
    MeetingFactory(approved_minutes=True)
    MeetingFactory(minutes_status=MinutesStatus.CIRCULATED)

    with rejected_by(Meeting, "meeting_minutes_approval_recorded"):
        MeetingFactory(approved_minutes=True, **{missing: None})


def test_agenda_positions_are_unique_per_meeting(rejected_by):
    item = AgendaItemFactory(position=1)
    AgendaItemFactory(meeting=item.meeting, position=2)

    with rejected_by(AgendaItem, "agenda_unique_position"):
        AgendaItemFactory(meeting=item.meeting, position=1)


def test_a_member_attends_a_meeting_once(rejected_by):
    attendance = AttendanceFactory()
    AttendanceFactory(meeting=attendance.meeting)

    with rejected_by(Attendance, "attendance_unique_member"):
        AttendanceFactory(meeting=attendance.meeting, member=attendance.member)


def test_decision_numbers_are_unique_per_meeting(rejected_by):
    decision = DecisionFactory(number=1)
    DecisionFactory(meeting=decision.meeting, number=2)

    with rejected_by(Decision, "decision_unique_number"):
        DecisionFactory(meeting=decision.meeting, number=1)


@pytest.mark.parametrize("both", [True, False], ids=["both", "neither"])
def test_an_action_item_has_one_owner(rejected_by, both):
    ActionItemFactory()
    ActionItemFactory(owner=None, owner_contact=VendorContactFactory())

    with rejected_by(ActionItem, "action_has_one_owner"):
        if both:
            ActionItemFactory(owner_contact=VendorContactFactory())
        else:
            ActionItemFactory(owner=None, owner_contact=None)


def test_an_action_item_comes_from_a_meeting_or_an_audit_finding(rejected_by):
    ActionItemFactory(meeting=None, finding=FindingFactory())

    with rejected_by(ActionItem, "action_has_origin"):
        ActionItemFactory(meeting=None, finding=None)


@pytest.mark.parametrize(
    ("status", "closed_at"),
    [
        (ActionStatus.OPEN, DECIDED_AT),
        (ActionStatus.IN_PROGRESS, DECIDED_AT),
        (ActionStatus.DONE, None),
        (ActionStatus.CANCELLED, None),
    ],
)
def test_finished_action_items_record_when_they_closed_and_open_ones_do_not(rejected_by, status, closed_at):
    ActionItemFactory(status=ActionStatus.IN_PROGRESS, closed_at=None)
    ActionItemFactory(status=ActionStatus.DONE, closed_at=DECIDED_AT)

    with rejected_by(ActionItem, "action_closed_when_finished"):
        ActionItemFactory(status=status, closed_at=closed_at)


def test_the_committee_factory_seats_vendor_contacts_of_the_committees_own_vendor():
    member = CommitteeMemberFactory(vendor_contact=True)

    assert member.contact.vendor == member.committee.contract.vendor
    assert member.user is None
    assert UserFactory(committee_member=True).role == "committee_member"


def test_a_vendors_people_are_named_with_their_vendor_whether_users_or_contacts():
    """QA: a vendor's user sat on a committee as "Nadia Benali", its contacts as "Camille Roux (Lumen …)"."""
    vendor = VendorFactory(name="Lumen Relation Client")
    committee = CommitteeFactory(contract=ContractFactory(vendor=vendor))
    vendor_user = VendorUserFactory(vendor=vendor, first_name="Nadia", last_name="Benali")
    contact = VendorContactFactory(vendor=vendor, name="Camille Roux")
    client_user = UserFactory(first_name="Hélène", last_name="Girard")
    seats = [
        CommitteeMemberFactory(committee=committee, user=vendor_user, side=Side.VENDOR),
        CommitteeMemberFactory(committee=committee, user=None, contact=contact, side=Side.VENDOR),
        CommitteeMemberFactory(committee=committee, user=client_user),
    ]
    owned = [ActionItemFactory(owner=vendor_user), ActionItemFactory(owner=None, owner_contact=contact)]

    assert [seat.name for seat in seats] == [
        "Nadia Benali (Lumen Relation Client)",
        "Camille Roux (Lumen Relation Client)",
        "Hélène Girard",
    ]
    assert [item.owner_name for item in owned] == [
        "Nadia Benali (Lumen Relation Client)",
        "Camille Roux (Lumen Relation Client)",
    ]
