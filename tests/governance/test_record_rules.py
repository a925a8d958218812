"""The rules that keep a committee's record honest: a meeting decides once held with its quorum, records
nothing before it took place or once cancelled, keeps its date and committee once held, its cancellation
reason whole; a committee's terms change with a reason; action items belong to the committee's vendor and
to minutes still open; corrections are voted by those present at the corrected meeting."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from governance import services
from governance.choices import AttendanceStatus, Cadence, MeetingStatus, MinutesApprovalMethod, MinutesStatus, Side
from governance.models import ActionItem, Committee, Decision, Meeting
from governance.selectors import agenda_situation, committees_with_compliance, previous_held_meeting
from governance.views import scorecard_months
from tests.factories import (
    NEXT_YEAR,
    AttendanceFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    FindingFactory,
    MeetingFactory,
    PenaltyStatementFactory,
    UserFactory,
    VendorContactFactory,
    VendorFactory,
)
from tests.governance.helpers import held_with_quorum

pytestmark = pytest.mark.django_db
D = datetime.date


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=datetime.UTC)


def _errors(error: ValidationError) -> dict[str, list[str]]:
    return error.value.message_dict


MARCH = D(2025, 3, 10)


def _held(committee, *sides_present: str, day=MARCH) -> Meeting:
    meeting = MeetingFactory(committee=committee, scheduled_for=at(day), status=MeetingStatus.HELD)
    for side in sides_present:
        if side == Side.VENDOR:
            member = CommitteeMemberFactory(committee=committee, vendor_contact=True)
        else:
            member = CommitteeMemberFactory(committee=committee)
        AttendanceFactory(meeting=meeting, member=member, status=AttendanceStatus.PRESENT)
    return meeting


# Decisions need a meeting held with its quorum ------------------------------------------------------


def test_a_meeting_that_lacked_its_quorum_takes_no_decision():
    meeting = _held(CommitteeFactory(quorum=3), Side.CLIENT)

    with pytest.raises(ValidationError) as refused:
        services.record_decision(meeting=meeting, text="Adopt the plan.", actor=UserFactory())

    assert _errors(refused) == {"meeting": ["The meeting lacked its quorum: it takes no decision."]}
    assert not Decision.objects.exists()


def test_a_meeting_whose_attendance_is_not_recorded_takes_no_decision_yet():
    meeting = MeetingFactory(scheduled_for=at(D(2025, 3, 10)))

    with pytest.raises(ValidationError) as refused:
        services.record_decision(meeting=meeting, text="Adopt the plan.", actor=UserFactory())

    assert _errors(refused) == {"meeting": ["Record the attendance first: the meeting decides with its quorum."]}


def test_a_committee_that_needs_a_member_of_each_side_decides_only_with_both_present():
    committee = CommitteeFactory(quorum=2, quorum_needs_each_side=True)
    customers_only = _held(committee, Side.CLIENT, Side.CLIENT)
    both = _held(committee, Side.CLIENT, Side.VENDOR, day=D(2025, 4, 10))

    with pytest.raises(ValidationError, match="lacked its quorum"):
        services.record_decision(meeting=customers_only, text="Adopt the plan.", actor=UserFactory())
    decision = services.record_decision(meeting=both, text="Adopt the plan.", actor=UserFactory())

    assert decision.number == 1


def test_the_last_meeting_without_a_member_of_each_side_is_flagged_as_lacking_quorum():
    committee = CommitteeFactory(quorum=2, quorum_needs_each_side=True)
    _held(committee, Side.CLIENT, Side.CLIENT)

    [row] = committees_with_compliance(today=D(2025, 3, 11))

    assert row.lacked_quorum and not row.is_compliant


def test_minutes_of_a_meeting_that_lacked_its_quorum_are_not_approved_by_vote():
    meeting = _held(CommitteeFactory(quorum=3), Side.CLIENT)
    member = meeting.attendances.get().member
    services.update_minutes(meeting=meeting, minutes="Discussed only.", actor=member.user)
    services.circulate_minutes(meeting=meeting, actor=member.user)

    with pytest.raises(ValidationError, match="lacked its quorum"):
        services.record_minutes_vote(meeting=meeting, member=member, actor=member.user)

    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.CIRCULATED


# Nothing is recorded in a meeting that has not taken place or was cancelled -------------------------


@pytest.mark.parametrize("record", ["decision", "minutes", "action item"])
@pytest.mark.parametrize("state", ["future", "cancelled"])
def test_a_meeting_that_has_not_taken_place_records_nothing(record, state):
    if state == "future":
        meeting = MeetingFactory(scheduled_for=at(D(2099, 3, 10)))
        message = "The meeting is planned for 03/10/2099: record it once it has taken place."
    else:
        meeting = MeetingFactory(scheduled_for=at(D(2025, 3, 10)), status=MeetingStatus.CANCELLED)
        message = "The meeting was cancelled: nothing is recorded in it."
    user = UserFactory()
    calls = {
        "decision": lambda: services.record_decision(meeting=meeting, text="Adopt.", actor=user),
        "minutes": lambda: services.update_minutes(meeting=meeting, minutes="Notes.", actor=user),
        "action item": lambda: services.create_action_item(
            title="Send the plan", due_date=D(2099, 4, 1), owner=user, meeting=meeting, created_by=user
        ),
    }

    with pytest.raises(ValidationError) as refused:
        calls[record]()

    assert [message] in _errors(refused).values()
    meeting.refresh_from_db()
    assert (meeting.minutes, meeting.decisions.count(), ActionItem.objects.count()) == ("", 0, 0)


def test_approved_minutes_get_no_new_action_item():
    meeting = MeetingFactory(approved_minutes=True, scheduled_for=at(D(2025, 3, 10)))
    user = UserFactory()

    with pytest.raises(ValidationError) as refused:
        services.create_action_item(title="Late", due_date=D(2025, 4, 1), owner=user, meeting=meeting, created_by=user)

    assert _errors(refused) == {"meeting": ["The minutes of this meeting are approved; record a correction instead."]}
    assert not ActionItem.objects.exists()


# Action items are owned by the committee's vendor's contacts ---------------------------------------


def test_an_action_item_is_not_owned_by_another_vendors_contact():
    meeting = MeetingFactory(scheduled_for=at(D(2025, 3, 10)))
    other = VendorContactFactory(vendor=VendorFactory(name="Pacific"))
    own = VendorContactFactory(vendor=meeting.committee.contract.vendor)
    user = UserFactory()

    with pytest.raises(ValidationError) as refused:
        services.create_action_item(
            title="Plan", due_date=D(2025, 4, 1), owner_contact=other, meeting=meeting, created_by=user
        )
    item = services.create_action_item(
        title="Plan", due_date=D(2025, 4, 1), owner_contact=own, meeting=meeting, created_by=user
    )

    assert _errors(refused) == {"owner_contact": ["The owner is a contact of another vendor."]}
    assert ActionItem.objects.get() == item


def test_a_findings_action_item_is_owned_by_a_contact_of_the_audited_vendor():
    finding = FindingFactory()
    other = VendorContactFactory(vendor=VendorFactory(name="Pacific"))

    with pytest.raises(ValidationError, match="another vendor"):
        services.create_action_item(
            title="Plan", due_date=D(2025, 4, 1), owner_contact=other, finding=finding, created_by=UserFactory()
        )


# A held meeting keeps its date and committee --------------------------------------------------------


@pytest.mark.parametrize("status", [MeetingStatus.HELD, MeetingStatus.CANCELLED])
def test_a_held_or_cancelled_meeting_keeps_its_date_and_committee(status):
    meeting = MeetingFactory(scheduled_for=at(D(2025, 3, 10)), status=status)
    committee_id = meeting.committee_id
    other = CommitteeFactory(contract=meeting.committee.contract)
    user = UserFactory()

    with pytest.raises(ValidationError) as moved_date:
        services.update_meeting(meeting=meeting, scheduled_for=at(D(2099, 3, 10)), actor=user)
    with pytest.raises(ValidationError) as moved_committee:
        services.update_meeting(meeting=meeting, committee=other, actor=user)

    assert list(_errors(moved_date)) == ["scheduled_for"]
    assert list(_errors(moved_committee)) == ["committee"]
    meeting.refresh_from_db()
    assert (meeting.scheduled_for, meeting.committee_id) == (at(D(2025, 3, 10)), committee_id)


def test_a_planned_meeting_is_rescheduled_with_its_history():
    meeting = MeetingFactory(scheduled_for=at(D(2099, 3, 10)))
    user = UserFactory()

    services.update_meeting(meeting=meeting, scheduled_for=at(D(NEXT_YEAR, 3, 17)), location="Lille", actor=user)

    meeting.refresh_from_db()
    assert (meeting.scheduled_for, meeting.location) == (at(D(NEXT_YEAR, 3, 17)), "Lille")
    record = meeting.history.latest()
    assert (record.history_user, record.history_change_reason) == (user, "Rescheduled; Location changed")


# A committee's terms change with a reason ------------------------------------------------------------


def test_a_committees_cadence_and_quorum_change_only_with_a_reason_kept_in_its_history():
    committee = CommitteeFactory(cadence=Cadence.MONTHLY, quorum=3)
    user = UserFactory()

    with pytest.raises(ValidationError) as refused:
        services.update_committee(committee=committee, actor=user, cadence=Cadence.ANNUAL, quorum=1)
    services.update_committee(committee=committee, actor=user, reason="Amendment 4", cadence=Cadence.ANNUAL, quorum=1)

    assert _errors(refused) == {"reason": ["Say why the committee's cadence or quorum changes."]}
    committee.refresh_from_db()
    assert (committee.cadence, committee.quorum) == (Cadence.ANNUAL, 1)
    record = committee.history.latest()
    assert (record.history_user, record.history_change_reason, record.quorum) == (user, "Amendment 4", 1)
    assert committee.history.earliest().quorum == 3


# The cancellation reason is kept whole ------------------------------------------------------------


def test_a_cancelled_meetings_reason_is_kept_whole():
    meeting = MeetingFactory(scheduled_for=at(D(2099, 3, 10)))
    reason = "The vendor's delivery director is on leave and the March statement is still in review; " * 3

    services.cancel_meeting(meeting=meeting, reason=reason, actor=UserFactory())

    meeting.refresh_from_db()
    assert (meeting.status, meeting.cancellation_reason) == (MeetingStatus.CANCELLED, reason.strip())
    assert len(meeting.cancellation_reason) > 200


# Corrections are voted by the members present at the corrected meeting -----------------------------


def test_a_correction_is_approved_by_the_vote_of_the_members_present_at_the_corrected_meeting():
    original = held_with_quorum(MeetingFactory(approved_minutes=True, scheduled_for=at(D(2025, 3, 10))))
    contact = CommitteeMemberFactory(committee=original.committee, vendor_contact=True)
    AttendanceFactory(meeting=original, member=contact, status=AttendanceStatus.PRESENT)
    present = [attendance.member for attendance in original.attendances.all()]
    chair = UserFactory()
    correction = services.record_minutes_correction(meeting=original, minutes="Corrected figures.", actor=chair)
    services.circulate_minutes(meeting=correction, actor=chair)

    for member in present:
        if member.contact_id:
            services.record_contact_vote(meeting=correction, member=member, actor=chair)
        else:
            services.record_minutes_vote(meeting=correction, member=member, actor=member.user)

    correction.refresh_from_db()
    assert (correction.minutes_status, correction.minutes_approval_method) == (
        MinutesStatus.APPROVED,
        MinutesApprovalMethod.VOTE,
    )
    assert correction.minutes_approvals.count() == len(present)


def test_a_correction_has_no_attendance_of_its_own():
    original = MeetingFactory(approved_minutes=True, scheduled_for=at(D(2025, 3, 10)))
    correction = services.record_minutes_correction(meeting=original, minutes="Fixed.", actor=UserFactory())
    member = CommitteeMemberFactory(committee=original.committee)

    with pytest.raises(ValidationError, match="attendance of the meeting it corrects"):
        services.record_attendance(meeting=correction, attendance={member.pk: "present"}, actor=UserFactory())


# The vote of a vendor contact who does not sign in -------------------------------------------------


def test_the_vote_of_a_vendor_contact_is_recorded_by_the_record_keeper_who_is_kept_as_its_recorder():
    meeting = held_with_quorum(MeetingFactory(scheduled_for=at(D(2025, 3, 10)), minutes="Notes."))
    contact = CommitteeMemberFactory(committee=meeting.committee, vendor_contact=True)
    AttendanceFactory(meeting=meeting, member=contact, status=AttendanceStatus.PRESENT)
    user_member = meeting.attendances.exclude(member=contact).first().member
    secretary = UserFactory()
    services.circulate_minutes(meeting=meeting, actor=secretary)

    with pytest.raises(ValidationError) as signs_in:
        services.record_contact_vote(meeting=meeting, member=user_member, actor=secretary)
    approval = services.record_contact_vote(meeting=meeting, member=contact, actor=secretary)

    assert _errors(signs_in) == {"member": ["This member signs in and records their own vote."]}
    assert (approval.member, approval.recorded_by, approval.approved_at is not None) == (contact, secretary, True)


# Agenda and cadence --------------------------------------------------------------------------------


def test_findings_not_addressed_to_the_vendor_are_not_proposed_for_the_agenda():
    committee = CommitteeFactory()
    meeting = MeetingFactory(committee=committee, scheduled_for=at(D(2025, 3, 10)))
    contract = committee.contract
    internal = FindingFactory(audit__audit_right__contract=contract, addressed_to_vendor=False, title="Internal")
    addressed = FindingFactory(audit__audit_right__contract=contract, addressed_to_vendor=True, title="Addressed")

    keys = {item.key for item in agenda_situation(meeting, today=D(2025, 3, 1))}

    assert f"finding:{addressed.pk}" in keys
    assert f"finding:{internal.pk}" not in keys


def test_a_vendor_wide_committee_that_never_met_is_overdue_one_interval_after_its_creation():
    committee = CommitteeFactory(vendor_wide=True, cadence=Cadence.QUARTERLY)
    Committee.objects.filter(pk=committee.pk).update(created_at=at(D(2025, 1, 15)))

    [due] = committees_with_compliance(today=D(2025, 4, 15))
    [overdue] = committees_with_compliance(today=D(2025, 4, 16))

    assert (due.next_meeting_due, due.is_overdue) == (D(2025, 4, 15), False)
    assert overdue.is_overdue and not overdue.is_compliant


def test_a_meeting_in_the_month_of_the_previous_one_proposes_the_statements_of_the_month_before_as_its_scorecard():
    committee = CommitteeFactory()
    held_with_quorum(MeetingFactory(committee=committee, scheduled_for=at(D(2025, 3, 4)), status=MeetingStatus.HELD))
    extraordinary = MeetingFactory(committee=committee, scheduled_for=at(D(2025, 3, 25)))
    february = PenaltyStatementFactory(contract=committee.contract, month=D(2025, 2, 1))
    PenaltyStatementFactory(contract=committee.contract, month=D(2025, 1, 1))  # reviewed before the last meeting

    keys = {item.key for item in agenda_situation(extraordinary, today=D(2025, 3, 20))}
    months = scorecard_months(extraordinary, previous_held_meeting(extraordinary))

    assert {key for key in keys if key.startswith("statement:")} == {f"statement:{february.pk}"}
    assert months == [D(2025, 2, 1)]
