"""Governance rules: cadence and quorum, the proposed agenda, minutes approval and corrections, action items."""

import datetime
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import translation

from audits.choices import FindingStatus
from contracts.choices import ContractStatus
from governance import services
from governance.choices import (
    ActionStatus,
    AttendanceStatus,
    Cadence,
    MeetingStatus,
    MemberRole,
    MinutesApprovalMethod,
    MinutesStatus,
)
from governance.models import AgendaItem, Attendance, Committee, Meeting
from governance.selectors import (
    committees_with_compliance,
    next_meeting_due,
    overdue_action_items,
    statement_versions_as_of,
)
from sla_tracker.choices import DisputeStatus, LineStatus, StatementStatus
from tests.factories import (
    ActionItemFactory,
    AdjustmentDisputeFactory,
    AttendanceFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    ContractFactory,
    DecisionFactory,
    FindingFactory,
    LineDisputeFactory,
    MeetingFactory,
    PenaltyStatementFactory,
    StatementLineFactory,
    UserFactory,
)
from tests.governance.helpers import held_with_quorum

pytestmark = pytest.mark.django_db
D = datetime.date


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=datetime.UTC)


# Cadence and quorum --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "last", "due"),
    [
        (Cadence.WEEKLY, D(2025, 12, 29), D(2026, 1, 5)),
        (Cadence.FORTNIGHTLY, D(2028, 2, 20), D(2028, 3, 5)),
        (Cadence.MONTHLY, D(2025, 1, 31), D(2025, 2, 28)),
        (Cadence.MONTHLY, D(2028, 1, 31), D(2028, 2, 29)),
        (Cadence.QUARTERLY, D(2025, 11, 30), D(2026, 2, 28)),
        (Cadence.SEMIANNUAL, D(2025, 8, 31), D(2026, 2, 28)),
        (Cadence.ANNUAL, D(2028, 2, 29), D(2029, 2, 28)),
    ],
)
def test_the_next_meeting_is_due_one_cadence_interval_after_the_last_held_one(cadence, last, due):
    assert next_meeting_due(cadence, last) == due


def _held(committee, day, present=2, absent=0):
    meeting = MeetingFactory(committee=committee, scheduled_for=at(day), status=MeetingStatus.HELD)
    for _ in range(present):
        AttendanceFactory(meeting=meeting, status=AttendanceStatus.PRESENT)
    for _ in range(absent):
        AttendanceFactory(meeting=meeting, status=AttendanceStatus.ABSENT)
    return meeting


def test_a_committee_is_overdue_the_day_after_its_next_meeting_was_due():
    committee = CommitteeFactory(cadence=Cadence.MONTHLY)
    _held(committee, D(2025, 1, 31))
    MeetingFactory(committee=committee, scheduled_for=at(D(2025, 3, 20)))  # planned, not held: does not count

    [on_due_day] = committees_with_compliance(today=D(2025, 2, 28))
    [day_after] = committees_with_compliance(today=D(2025, 3, 1))

    assert (on_due_day.last_held_on, on_due_day.next_meeting_due, on_due_day.is_overdue) == (
        D(2025, 1, 31),
        D(2025, 2, 28),
        False,
    )
    assert day_after.is_overdue and not day_after.is_compliant


def test_a_committee_that_never_met_is_due_one_interval_after_the_contract_start():
    committee = CommitteeFactory(cadence=Cadence.QUARTERLY)  # contract from 2025-01-01
    [row] = committees_with_compliance(Committee.objects.filter(pk=committee.pk), today=D(2025, 4, 2))
    assert (row.last_held_on, row.next_meeting_due, row.is_overdue, row.lacked_quorum) == (
        None,
        D(2025, 4, 1),
        True,
        False,
    )


@pytest.mark.parametrize(
    ("status", "fields"),
    [
        (ContractStatus.EXPIRED, {"end_date": D(2025, 2, 15)}),
        (ContractStatus.TERMINATED, {"terminated_on": D(2025, 2, 15)}),
    ],
)
def test_a_committee_owes_no_meeting_after_its_contract_ended_before_one_was_due(status, fields):
    ended = CommitteeFactory(
        cadence=Cadence.MONTHLY, contract__status=status, **{f"contract__{k}": v for k, v in fields.items()}
    )
    _held(ended, D(2025, 1, 31))  # next due 2025-02-28, after the contract's last day of service
    lapsed = CommitteeFactory(
        cadence=Cadence.MONTHLY, contract__status=status, **{f"contract__{k}": v for k, v in fields.items()}
    )
    _held(lapsed, D(2024, 12, 31))  # next due 2025-01-31, while the contract still ran: the lapse stands

    rows = {row.pk: row for row in committees_with_compliance(today=D(2025, 6, 1))}

    assert (rows[ended.pk].next_meeting_due, rows[ended.pk].is_overdue) == (None, False)
    assert rows[ended.pk].contract_ended_on == D(2025, 2, 15)
    assert rows[ended.pk].is_compliant
    assert (rows[lapsed.pk].next_meeting_due, rows[lapsed.pk].is_overdue) == (D(2025, 1, 31), True)
    assert rows[lapsed.pk].contract_ended_on is None


def test_a_vendor_wide_committee_owes_no_meeting_after_the_last_of_its_vendors_contracts_ended():
    def vendor_wide(*contracts):
        committee = CommitteeFactory(vendor_wide=True, cadence=Cadence.MONTHLY)
        for status, fields in contracts:
            ContractFactory(vendor=committee.vendor, status=status, **fields)
        return committee

    expired = (ContractStatus.EXPIRED, {"end_date": D(2025, 2, 15)})
    terminated = (ContractStatus.TERMINATED, {"terminated_on": D(2025, 1, 20)})
    all_ended = vendor_wide(expired, terminated)
    _held(all_ended, D(2025, 1, 31))  # next due 2025-02-28, after the last day of service of the last contract
    one_runs = vendor_wide(expired, (ContractStatus.ACTIVE, {}))
    _held(one_runs, D(2025, 1, 31))
    one_is_a_draft = vendor_wide(expired, (ContractStatus.DRAFT, {}))  # a contract to come: still governed
    _held(one_is_a_draft, D(2025, 1, 31))
    lapsed = vendor_wide(expired, terminated)
    _held(lapsed, D(2024, 12, 31))  # next due 2025-01-31, while a contract still ran: the lapse stands

    rows = {row.pk: row for row in committees_with_compliance(today=D(2025, 6, 1))}

    assert (rows[all_ended.pk].next_meeting_due, rows[all_ended.pk].contract_ended_on) == (None, D(2025, 2, 15))
    assert rows[all_ended.pk].is_compliant
    for still_due in (one_runs, one_is_a_draft):
        assert (rows[still_due.pk].next_meeting_due, rows[still_due.pk].is_overdue) == (D(2025, 2, 28), True)
        assert rows[still_due.pk].contract_ended_on is None
    assert (rows[lapsed.pk].next_meeting_due, rows[lapsed.pk].is_overdue) == (D(2025, 1, 31), True)


def test_no_meeting_is_planned_for_or_moved_to_an_inactive_committee():
    inactive = CommitteeFactory(is_active=False)
    planned = MeetingFactory(committee=CommitteeFactory(contract__vendor=inactive.contract.vendor))
    actor = UserFactory()
    before = Meeting.objects.count()

    with pytest.raises(ValidationError) as planning:
        services.plan_meeting(committee=inactive, scheduled_for=at(D(2025, 6, 2)), actor=actor)
    with pytest.raises(ValidationError) as moving:
        services.update_meeting(meeting=planned, committee=inactive, actor=actor)

    expected = {"committee": ["The committee is inactive: no meeting is planned for it."]}
    assert planning.value.message_dict == expected == moving.value.message_dict
    assert Meeting.objects.count() == before
    planned.refresh_from_db()
    assert planned.committee_id != inactive.pk


def test_a_committee_whose_last_meeting_had_fewer_members_present_than_the_quorum_is_flagged():
    committee = CommitteeFactory(quorum=3)
    _held(committee, D(2025, 1, 15), present=3)
    _held(committee, D(2025, 2, 14), present=2, absent=2)

    [row] = committees_with_compliance(today=D(2025, 2, 20))

    assert row.lacked_quorum and not row.is_overdue and not row.is_compliant


def test_a_correction_record_does_not_count_as_a_meeting():
    committee = CommitteeFactory()
    original = _held(committee, D(2025, 1, 15))
    MeetingFactory(committee=committee, scheduled_for=at(D(2025, 3, 1)), status=MeetingStatus.HELD, corrects=original)

    [row] = committees_with_compliance(today=D(2025, 3, 2))

    assert row.last_held_on == D(2025, 1, 15) and row.is_overdue


def test_cadence_compliance_takes_one_query_whatever_the_number_of_committees(django_assert_num_queries):
    for _ in range(3):
        committee = CommitteeFactory()
        _held(committee, D(2025, 1, 15))
    with django_assert_num_queries(1):
        rows = committees_with_compliance(today=D(2025, 3, 1))
    assert [row.is_overdue for row in rows] == [True, True, True]


# What a past meeting reviewed ------------------------------------------------------------------------


def test_a_statements_status_and_totals_on_a_day_are_read_from_its_history(django_assert_num_queries):
    computed = PenaltyStatementFactory(
        status=StatementStatus.IN_REVIEW, uncapped_credits=Decimal("1500.00"), credits=Decimal("1500.00")
    )
    computed.history.update(history_date=at(D(2025, 2, 5)))
    computed.status, computed.credits = StatementStatus.INVOICED, Decimal("0.00")
    computed.approved_by, computed.approved_at = UserFactory(), at(D(2025, 3, 1))
    computed.save()  # approved with its line waived, then invoiced: after the meeting
    computed.history.filter(history_type="~").update(history_date=at(D(2025, 3, 1)))
    later = PenaltyStatementFactory(contract=computed.contract)
    later.history.update(history_date=at(D(2025, 3, 5)))
    meeting_day_end = at(D(2025, 2, 21), 0)

    with django_assert_num_queries(1):
        then = statement_versions_as_of([computed, later], meeting_day_end)

    assert list(then) == [computed.pk]  # the later statement was not computed by then
    assert (then[computed.pk].status, then[computed.pk].credits) == (StatementStatus.IN_REVIEW, Decimal("1500.00"))
    today = statement_versions_as_of([computed, later], at(D(2025, 3, 6)))
    assert (today[computed.pk].status, today[later.pk].status) == (StatementStatus.INVOICED, StatementStatus.DRAFT)


# Agenda --------------------------------------------------------------------------------------------


def test_the_agenda_is_proposed_from_the_contracts_situation_once():
    contract = ContractFactory(initial_term_months=6, notice_period=1)  # ends 2025-06-30, notice by 2025-05-31
    committee = CommitteeFactory(contract=contract)
    previous = _held(committee, D(2025, 2, 14))
    meeting = MeetingFactory(committee=committee, scheduled_for=at(D(2025, 4, 15)))
    PenaltyStatementFactory(contract=contract, month=D(2025, 1, 1))  # discussed at the previous meeting
    february = PenaltyStatementFactory(
        contract=contract,
        month=D(2025, 2, 1),
        status=StatementStatus.IN_REVIEW,
        uncapped_credits=Decimal("6000.00"),
        credits=Decimal("6000.00"),
        termination_rights=[{"type": "consecutive_defaults", "since": "2025-02", "evidence": "CSL-1 3 months"}],
    )
    default = StatementLineFactory(statement=february, status=LineStatus.DEFAULT, credit=Decimal("6000.00"))
    dispute = LineDisputeFactory(line=default)
    ActionItemFactory(meeting=previous, due_date=D(2025, 3, 1), title="Send the recovery plan")
    ActionItemFactory(meeting=previous, due_date=D(2025, 5, 1))  # not overdue
    finding = FindingFactory(audit__audit_right__contract=contract, due_date=D(2025, 8, 5))
    FindingFactory(audit=finding.audit, status=FindingStatus.RISK_ACCEPTED)

    added = services.propose_agenda(meeting=meeting, today=D(2025, 4, 15))
    again = services.propose_agenda(meeting=meeting, today=D(2025, 4, 15))

    keys = [item.source_key for item in meeting.agenda_items.order_by("position")]
    assert keys == [
        f"statement:{february.pk}",
        f"default:{default.pk}",
        f"termination:{february.pk}:0",
        f"dispute:{dispute.pk}",
        keys[4],
        f"finding:{finding.pk}",
        f"notice:{contract.pk}:2025-06-30",
    ]
    assert keys[4].startswith("action:")
    assert len(added) == 7 and again == []
    assert all(item.proposed_automatically for item in added)
    assert [item.position for item in added] == [1, 2, 3, 4, 5, 6, 7]
    assert "credits €6,000.00" in added[0].title
    # Months and days as the pages write them, in the proposer's language: the titles are stored as proposed.
    assert [item.title for item in added] == [
        f"Statement {contract.reference} February 2025: credits €6,000.00 (In review)",
        f"Default {contract.reference} {default.service_level.code} February 2025: credit €6,000.00",
        f"{contract.reference}: termination right since February 2025 – CSL-1 3 months",
        f"Open dispute {contract.reference} {default.service_level.code} February 2025",
        "Overdue action (due March 1, 2025): Send the recovery plan",
        f"Open audit finding {finding.audit.reference}-{finding.number} ({finding.get_severity_display()}, "
        f"due Aug. 5, 2025): {finding.title}",
        f"Notice deadline {contract.reference}: May 31, 2025 (term ends June 30, 2025; decide by May 1, 2025)",
    ]


def test_a_committees_first_meeting_is_proposed_the_statements_of_one_cadence_interval_not_every_one():
    contract = ContractFactory(start_date=D(2024, 1, 1), renewal_type="explicit")
    committee = CommitteeFactory(contract=contract, cadence=Cadence.QUARTERLY)
    meeting = MeetingFactory(committee=committee, scheduled_for=at(D(2025, 4, 15)))
    statements = {month: PenaltyStatementFactory(contract=contract, month=D(2025, month, 1)) for month in (1, 2, 3, 4)}
    PenaltyStatementFactory(contract=contract, month=D(2024, 12, 1))  # before the quarter the meeting reviews

    added = services.propose_agenda(meeting=meeting, today=D(2025, 4, 15))

    proposed = [item.source_key for item in added if item.source_key.startswith("statement:")]
    # January to March, as the meeting's scorecard reviews them (April has not ended).
    assert proposed == [f"statement:{statements[month].pk}" for month in (1, 2, 3)]


def test_the_agenda_proposed_in_french_writes_its_months_and_days_in_french():
    contract = ContractFactory(initial_term_months=6, notice_period=1)
    committee = CommitteeFactory(contract=contract)
    _held(committee, D(2025, 2, 14))
    meeting = MeetingFactory(committee=committee, scheduled_for=at(D(2025, 4, 15)))
    february = PenaltyStatementFactory(
        contract=contract, month=D(2025, 2, 1), uncapped_credits=Decimal("6000.00"), credits=Decimal("6000.00")
    )
    default = StatementLineFactory(statement=february, status=LineStatus.DEFAULT, credit=Decimal("6000.00"))

    with translation.override("fr"):
        added = services.propose_agenda(meeting=meeting, today=D(2025, 4, 15))

    titles = {item.source_key: item.title for item in added}
    assert "février 2025" in titles[f"default:{default.pk}"] and "2025-02" not in titles[f"default:{default.pk}"]
    assert "31 mai 2025" in titles[f"notice:{contract.pk}:2025-06-30"]
    assert "2025-05-31" not in titles[f"notice:{contract.pk}:2025-06-30"]


def test_an_open_dispute_of_an_adjustment_is_proposed_on_the_agenda_after_the_older_line_dispute():
    contract = ContractFactory(renewal_type="explicit")
    committee = CommitteeFactory(contract=contract)
    meeting = MeetingFactory(committee=committee, scheduled_for=at(D(2025, 4, 15)))
    line_dispute = LineDisputeFactory(line__statement__contract=contract)
    dispute = AdjustmentDisputeFactory(adjustment__origin__contract=contract, reason="Wrong carrier file.")
    adjustment = dispute.adjustment
    AdjustmentDisputeFactory(  # resolved: nothing to discuss
        adjustment=adjustment,
        status=DisputeStatus.REJECTED,
        resolution="The correction stands.",
        resolved_by=UserFactory(procurement=True),
        resolved_at=at(D(2025, 4, 1)),
    )

    added = services.propose_agenda(meeting=meeting, today=D(2025, 4, 15))

    disputes = [item for item in added if "dispute" in item.source_key]
    assert [item.source_key for item in disputes] == [f"dispute:{line_dispute.pk}", f"adjustment-dispute:{dispute.pk}"]
    statement = adjustment.statement
    assert disputes[1].title == (
        f"Open dispute {contract.reference} {statement.month:%B %Y}: "
        f"{adjustment.service_level.code} adjustment for {adjustment.origin.month:%B %Y}"
    )
    assert disputes[1].notes == "Wrong carrier file."


def test_the_agenda_of_approved_minutes_is_closed():
    meeting = MeetingFactory(approved_minutes=True)
    with pytest.raises(ValidationError, match="agenda is closed"):
        services.propose_agenda(meeting=meeting, today=D(2025, 2, 1))


# Minutes -------------------------------------------------------------------------------------------


@pytest.fixture
def held_meeting():
    committee = CommitteeFactory()
    chair = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR)
    meeting = MeetingFactory(committee=committee, status=MeetingStatus.HELD, minutes="## Decisions\nNone.")
    return meeting, chair


def test_minutes_move_from_draft_to_circulated_to_approved_by_the_chair(held_meeting):
    meeting, chair = held_meeting
    services.circulate_minutes(meeting=meeting, actor=chair.user)
    meeting = services.approve_minutes_as_chair(meeting=meeting, actor=chair.user)

    assert meeting.minutes_status == MinutesStatus.APPROVED
    assert meeting.minutes_approved_by == chair.user and meeting.minutes_approved_at is not None
    assert meeting.minutes_approval_method == MinutesApprovalMethod.CHAIR
    assert meeting.history.latest().history_change_reason == "Minutes approved (chair)"


def test_draft_minutes_cannot_be_approved_and_only_the_chair_approves_alone(held_meeting):
    meeting, chair = held_meeting
    with pytest.raises(ValidationError, match="Only circulated minutes"):
        services.approve_minutes_as_chair(meeting=meeting, actor=chair.user)
    services.circulate_minutes(meeting=meeting, actor=chair.user)
    with pytest.raises(ValidationError, match="chair"):
        services.approve_minutes_as_chair(meeting=meeting, actor=UserFactory())


def test_minutes_are_approved_once_every_member_present_has_voted(held_meeting):
    meeting, chair = held_meeting
    vendor_member = CommitteeMemberFactory(committee=meeting.committee, vendor_contact=True)
    absent = CommitteeMemberFactory(committee=meeting.committee)
    for member, status in ((chair, AttendanceStatus.PRESENT), (vendor_member, AttendanceStatus.PRESENT)):
        AttendanceFactory(meeting=meeting, member=member, status=status)
    AttendanceFactory(meeting=meeting, member=absent, status=AttendanceStatus.ABSENT)
    secretary = UserFactory()
    services.circulate_minutes(meeting=meeting, actor=secretary)

    with pytest.raises(ValidationError, match="present"):
        services.record_minutes_vote(meeting=meeting, member=absent, actor=secretary)
    services.record_minutes_vote(meeting=meeting, member=chair, actor=chair.user)
    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.CIRCULATED
    services.record_minutes_vote(meeting=meeting, member=vendor_member, actor=secretary)

    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.APPROVED
    assert meeting.minutes_approval_method == MinutesApprovalMethod.VOTE
    assert meeting.minutes_approvals.count() == 2


def test_votes_on_circulated_minutes_do_not_count_once_the_minutes_are_edited_and_circulated_again(held_meeting):
    meeting, chair = held_meeting
    vendor_member = CommitteeMemberFactory(committee=meeting.committee, vendor_contact=True)
    for member in (chair, vendor_member):
        AttendanceFactory(meeting=meeting, member=member, status=AttendanceStatus.PRESENT)
    secretary = UserFactory()
    services.circulate_minutes(meeting=meeting, actor=secretary)
    services.record_minutes_vote(meeting=meeting, member=vendor_member, actor=secretary)

    services.update_minutes(meeting=meeting, minutes="## Decisions\nRewritten.", actor=secretary)
    services.circulate_minutes(meeting=meeting, actor=secretary)
    services.record_minutes_vote(meeting=meeting, member=chair, actor=chair.user)

    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.CIRCULATED  # the vendor member's vote was on the old text
    assert (
        "votes on the circulated text no longer count"
        in meeting.history.filter(history_change_reason__startswith="Minutes edited").get().history_change_reason
    )
    services.record_minutes_vote(meeting=meeting, member=vendor_member, actor=secretary)
    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.APPROVED
    assert sorted(meeting.minutes_approvals.values_list("circulation", "member_id")) == sorted(
        [(1, vendor_member.pk), (2, chair.pk), (2, vendor_member.pk)]
    )  # the earlier vote is kept, with the circulation it was cast on


def test_editing_circulated_minutes_returns_them_to_draft(held_meeting):
    meeting, chair = held_meeting
    services.circulate_minutes(meeting=meeting, actor=chair.user)
    meeting = services.update_minutes(meeting=meeting, minutes="## Decisions\nOne.", actor=chair.user)
    assert meeting.minutes_status == MinutesStatus.DRAFT


def test_approved_minutes_are_never_edited_by_the_service_or_by_a_save():
    meeting = MeetingFactory(approved_minutes=True)
    with pytest.raises(ValidationError, match="record a correction"):
        services.update_minutes(meeting=meeting, minutes="Rewritten", actor=UserFactory())

    stored = Meeting.objects.get(pk=meeting.pk)
    stored.minutes = "Rewritten behind the service's back"
    with pytest.raises(ValidationError, match="Approved minutes cannot be changed"):
        stored.save()
    stored = Meeting.objects.get(pk=meeting.pk)
    stored.minutes_status = MinutesStatus.DRAFT
    with pytest.raises(ValidationError):
        stored.save()
    stored = Meeting.objects.get(pk=meeting.pk)
    stored.location = "Room 4"  # other fields may change
    stored.save()
    assert Meeting.objects.get(pk=meeting.pk).minutes == meeting.minutes


def test_a_correction_is_a_new_record_pointing_to_the_approved_minutes():
    meeting = MeetingFactory(approved_minutes=True)
    correction = services.record_minutes_correction(meeting=meeting, minutes="Corrected figures", actor=UserFactory())

    assert correction.pk != meeting.pk and correction.corrects == meeting
    assert (correction.minutes, correction.minutes_status) == ("Corrected figures", MinutesStatus.DRAFT)
    assert list(meeting.corrections.all()) == [correction]
    meeting.refresh_from_db()
    assert meeting.minutes.startswith("## Attendees")


# Decisions -----------------------------------------------------------------------------------------


def test_decisions_are_numbered_in_the_order_they_are_recorded_in_their_meeting():
    meeting, user = held_with_quorum(MeetingFactory(scheduled_for=at(D(2025, 3, 10)))), UserFactory()
    DecisionFactory(meeting=MeetingFactory(), number=7)  # another meeting's numbers do not count

    first = services.record_decision(meeting=meeting, text="Adopt the recovery plan.", actor=user)
    second = services.record_decision(meeting=meeting, text="Escalate CSL-2.", actor=user)

    assert (first.number, second.number) == (1, 2)
    assert (second.created_by, second.history.latest().history_user) == (user, user)


def test_a_decision_is_reworded_while_the_minutes_are_not_approved():
    decision = DecisionFactory(
        meeting=MeetingFactory(status=MeetingStatus.HELD, minutes_status=MinutesStatus.CIRCULATED)
    )
    user = UserFactory()

    decision = services.update_decision(decision=decision, text="Adopt the revised recovery plan.", actor=user)

    decision.refresh_from_db()
    assert decision.text == "Adopt the revised recovery plan."
    assert decision.history.latest().history_user == user


def test_approved_minutes_get_no_new_decision_and_keep_their_decisions_as_they_are():
    decision = DecisionFactory(meeting=MeetingFactory(approved_minutes=True), text="Adopt the recovery plan.")
    user = UserFactory()

    with pytest.raises(ValidationError, match="approved; record a correction instead"):
        services.record_decision(meeting=decision.meeting, text="Another decision.", actor=user)
    with pytest.raises(ValidationError, match="approved; record a correction instead"):
        services.update_decision(decision=decision, text="Something else.", actor=user)

    decision.refresh_from_db()
    assert decision.text == "Adopt the recovery plan."
    assert decision.meeting.decisions.count() == 1


# Action items --------------------------------------------------------------------------------------


def test_action_items_are_created_open_and_closing_records_when():
    meeting = MeetingFactory(scheduled_for=at(D(2025, 2, 10)))
    user = UserFactory()
    item = services.create_action_item(
        title="Send the plan", due_date=D(2025, 3, 1), owner=user, meeting=meeting, created_by=user
    )
    assert (item.status, item.closed_at) == (ActionStatus.OPEN, None)

    item = services.start_action_item(item=item, actor=user)
    assert item.status == ActionStatus.IN_PROGRESS and item.closed_at is None
    item = services.close_action_item(item=item, actor=user)
    assert item.status == ActionStatus.DONE and item.closed_at is not None
    item = services.reopen_action_item(item=item, actor=user)
    assert (item.status, item.closed_at) == (ActionStatus.OPEN, None)
    item = services.cancel_action_item(item=item, actor=user, reason="Superseded")
    assert item.status == ActionStatus.CANCELLED and item.closed_at is not None
    assert item.history.latest().history_change_reason == "Cancelled: Superseded"


def test_an_action_item_cannot_skip_its_states():
    item = ActionItemFactory()
    with pytest.raises(ValidationError, match="is already open"):
        services.reopen_action_item(item=item, actor=item.created_by)
    services.close_action_item(item=item, actor=item.created_by)
    with pytest.raises(ValidationError, match="cannot become"):
        services.cancel_action_item(item=item, actor=item.created_by, reason="Superseded")


def test_an_action_item_without_owner_is_refused():
    with pytest.raises(ValidationError):
        services.create_action_item(
            title="x", due_date=D(2025, 3, 1), meeting=MeetingFactory(), created_by=UserFactory()
        )


def test_an_action_from_a_decision_belongs_to_the_decisions_meeting():
    decision = DecisionFactory(meeting=MeetingFactory(scheduled_for=at(D(2025, 2, 10))))
    user = UserFactory()
    item = services.create_action_item(
        title="x", due_date=D(2025, 3, 1), owner=user, decision=decision, created_by=user
    )
    assert item.meeting == decision.meeting


def test_overdue_action_items_are_the_open_ones_past_their_due_date():
    overdue = ActionItemFactory(due_date=D(2025, 2, 14))
    ActionItemFactory(due_date=D(2025, 2, 15))
    ActionItemFactory(due_date=D(2025, 2, 1), status=ActionStatus.DONE, closed_at=at(D(2025, 2, 1)))
    in_progress = ActionItemFactory(due_date=D(2025, 2, 10), status=ActionStatus.IN_PROGRESS)

    assert set(overdue_action_items(today=D(2025, 2, 15))) == {overdue, in_progress}


# Holding and cancelling a meeting ------------------------------------------------------------------


@pytest.fixture
def seated():
    """A planned meeting of 2025-03-03 and its committee's three seats (chair, customer member, vendor contact)."""
    committee = CommitteeFactory()
    seats = [
        CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR),
        CommitteeMemberFactory(committee=committee),
        CommitteeMemberFactory(committee=committee),
    ]
    meeting = MeetingFactory(committee=committee, scheduled_for=datetime.datetime(2025, 3, 3, 10, tzinfo=datetime.UTC))
    return meeting, seats


def test_recording_the_attendance_holds_the_meeting_and_counts_for_the_quorum(seated):
    meeting, (chair, member, contact) = seated
    actor = chair.user
    attendance = {chair.pk: AttendanceStatus.PRESENT, member.pk: AttendanceStatus.EXCUSED, contact.pk: "absent"}

    services.record_attendance(meeting=meeting, attendance=attendance, actor=actor, today=D(2025, 3, 3))

    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD
    assert dict(meeting.attendances.values_list("member", "status")) == attendance
    latest = meeting.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (actor, "Held: 1 present, 1 excused, 1 absent")
    (committee,) = committees_with_compliance(Committee.objects.filter(pk=meeting.committee_id))
    assert committee.last_held_id == meeting.pk


def test_the_attendance_is_corrected_while_the_minutes_are_a_draft_then_final(seated):
    meeting, seats = seated
    everyone = {seat.pk: AttendanceStatus.PRESENT for seat in seats}
    services.record_attendance(meeting=meeting, attendance=everyone, actor=seats[0].user, today=D(2025, 3, 4))
    corrected = {**everyone, seats[2].pk: AttendanceStatus.ABSENT}

    services.record_attendance(meeting=meeting, attendance=corrected, actor=seats[0].user, today=D(2025, 3, 4))
    services.update_minutes(meeting=meeting, minutes="## Minutes", actor=seats[0].user)
    services.circulate_minutes(meeting=meeting, actor=seats[0].user)

    assert dict(meeting.attendances.values_list("member", "status")) == corrected
    changes = Attendance.history.filter(member_id=seats[2].pk).order_by("history_id")
    assert [(row.status, row.history_type, row.history_change_reason) for row in changes] == [
        (AttendanceStatus.PRESENT, "+", "Recorded"),
        (AttendanceStatus.ABSENT, "~", "Corrected"),
    ]
    assert {row.history_user for row in changes} == {seats[0].user}
    assert not Attendance.history.filter(member_id=seats[1].pk, history_type="~").exists()  # unchanged
    with pytest.raises(ValidationError, match="the attendance is final"):
        services.record_attendance(meeting=meeting, attendance=everyone, actor=seats[0].user, today=D(2025, 3, 4))
    assert dict(meeting.attendances.values_list("member", "status")) == corrected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("missing", "Give the attendance of every member: "),
        ("stranger", "Only members of the committee attend its meetings."),
        ("bad status", "An attendance is present, excused or absent."),
        ("future", "The meeting is planned for 03/03/2025: record its attendance once it is held."),
        ("cancelled", "A cancelled meeting was not held."),
    ],
)
def test_an_attendance_that_cannot_be_recorded_writes_nothing(seated, change, message):
    meeting, seats = seated
    attendance = {seat.pk: AttendanceStatus.PRESENT for seat in seats}
    today = D(2025, 3, 3)
    if change == "missing":
        del attendance[seats[1].pk]
    elif change == "stranger":
        attendance[CommitteeMemberFactory().pk] = AttendanceStatus.PRESENT
    elif change == "bad status":
        attendance[seats[1].pk] = "late"
    elif change == "future":
        today = D(2025, 3, 2)
    else:
        services.cancel_meeting(meeting=meeting, actor=seats[0].user, reason="The vendor asked to move it")

    with pytest.raises(ValidationError) as refused:
        services.record_attendance(meeting=meeting, attendance=attendance, actor=seats[0].user, today=today)

    assert refused.value.messages[0].startswith(message)
    meeting.refresh_from_db()
    assert meeting.status == (MeetingStatus.CANCELLED if change == "cancelled" else MeetingStatus.PLANNED)
    assert not meeting.attendances.exists()


def test_a_planned_meeting_is_cancelled_with_its_reason_and_only_then(seated):
    meeting, seats = seated
    with pytest.raises(ValidationError, match="Say why the meeting is cancelled"):
        services.cancel_meeting(meeting=meeting, actor=seats[0].user, reason="  ")
    with pytest.raises(ValidationError, match="characters at most"):
        services.cancel_meeting(meeting=meeting, actor=seats[0].user, reason="x" * (services.CANCEL_REASON_MAX + 1))

    services.cancel_meeting(meeting=meeting, actor=seats[0].user, reason="The vendor asked to move it")

    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert meeting.history.latest().history_change_reason == "Cancelled: The vendor asked to move it"
    with pytest.raises(ValidationError, match="Only a planned meeting can be cancelled"):
        services.cancel_meeting(meeting=meeting, actor=seats[0].user, reason="Again")


def test_the_attendance_recorded_before_its_history_was_kept_becomes_its_first_history_row(seated):
    meeting, seats = seated
    earlier = AttendanceFactory(meeting=meeting, member=seats[1], status=AttendanceStatus.EXCUSED)
    Attendance.history.all().delete()  # as before migration 0003
    migration = import_module("governance.migrations.0003_attendance_history")

    migration.record_existing_attendance(apps, None)

    (first,) = Attendance.history.all()
    assert (first.id, first.meeting_id, first.member_id, first.status, first.history_type) == (
        earlier.pk,
        meeting.pk,
        seats[1].pk,
        AttendanceStatus.EXCUSED,
        "+",
    )
    assert first.history_change_reason == "Recorded before its history was kept"


# Writing the agenda --------------------------------------------------------------------------------


def _titles(meeting: Meeting) -> list[tuple[int, str]]:
    return list(meeting.agenda_items.order_by("position").values_list("position", "title"))


def test_agenda_items_are_added_moved_and_removed_with_their_history():
    meeting, user = MeetingFactory(scheduled_for=at(D(2099, 3, 10))), UserFactory()
    first, second, third = (
        services.add_agenda_item(meeting=meeting, title=f" {title} ", notes=notes, actor=user)
        for title, notes in (("Service levels", "March and April"), ("Staffing", ""), ("Any other business", ""))
    )

    services.move_agenda_item(item=third, direction="up", actor=user)
    assert _titles(meeting) == [(1, "Service levels"), (2, "Any other business"), (3, "Staffing")]
    services.remove_agenda_item(item=first, actor=user)
    assert _titles(meeting) == [(1, "Any other business"), (2, "Staffing")]

    assert first.notes == "March and April"
    history = AgendaItem.history.filter(id=third.pk).order_by("history_date", "history_id")
    assert [(row.history_change_reason, row.position, row.history_user) for row in history] == [
        ("Added", 3, user),
        ("Moved up", 2, user),
        ("Renumbered", 1, user),
    ]
    assert [row.history_change_reason for row in second.history.order_by("history_date", "history_id")] == [
        "Added",
        "Renumbered",
        "Renumbered",
    ]
    removed = AgendaItem.history.filter(id=first.pk).latest()
    assert (removed.history_type, removed.history_change_reason, removed.history_user) == ("-", "Removed", user)


def test_the_first_agenda_item_does_not_move_up_nor_the_last_down():
    meeting, user = MeetingFactory(scheduled_for=at(D(2099, 3, 10))), UserFactory()
    first = services.add_agenda_item(meeting=meeting, title="Service levels", actor=user)
    last = services.add_agenda_item(meeting=meeting, title="Staffing", actor=user)

    with pytest.raises(ValidationError, match="already first"):
        services.move_agenda_item(item=first, direction="up", actor=user)
    with pytest.raises(ValidationError, match="already last"):
        services.move_agenda_item(item=last, direction="down", actor=user)
    with pytest.raises(ValidationError, match="up or down"):
        services.move_agenda_item(item=last, direction="sideways", actor=user)
    assert _titles(meeting) == [(1, "Service levels"), (2, "Staffing")]


def test_an_agenda_item_needs_a_title():
    with pytest.raises(ValidationError) as refused:
        services.add_agenda_item(meeting=MeetingFactory(), title="  ", actor=UserFactory())
    assert "title" in refused.value.message_dict
    assert not AgendaItem.objects.exists()


def test_a_held_meetings_agenda_is_written_until_its_minutes_are_approved():
    user = UserFactory()
    held = MeetingFactory(status=MeetingStatus.HELD, minutes="Notes.", minutes_status=MinutesStatus.CIRCULATED)
    services.add_agenda_item(meeting=held, title="Raised at the meeting", actor=user)

    for meeting in (MeetingFactory(approved_minutes=True), MeetingFactory(status=MeetingStatus.CANCELLED)):
        item = AgendaItem.objects.create(meeting=meeting, position=1, title="Service levels")
        changes = {
            "add": lambda meeting=meeting: services.add_agenda_item(meeting=meeting, title="Late item", actor=user),
            "move": lambda item=item: services.move_agenda_item(item=item, direction="down", actor=user),
            "remove": lambda item=item: services.remove_agenda_item(item=item, actor=user),
            "propose": lambda meeting=meeting: services.propose_agenda(meeting=meeting, actor=user),
        }
        for name, change in changes.items():
            with pytest.raises(ValidationError, match="agenda is closed"):
                change()
            assert _titles(meeting) == [(1, "Service levels")], name
    assert _titles(held) == [(1, "Raised at the meeting")]


def test_proposed_agenda_items_keep_who_proposed_them():
    contract = ContractFactory()
    meeting = MeetingFactory(committee=CommitteeFactory(contract=contract), scheduled_for=at(D(2025, 4, 15)))
    PenaltyStatementFactory(contract=contract, month=D(2025, 3, 1))
    user = UserFactory()

    [item] = services.propose_agenda(meeting=meeting, actor=user, today=D(2025, 4, 15))

    record = item.history.get()
    assert (record.history_user, record.history_change_reason) == (user, f"Proposed ({item.source_key})")


# An action item's due date, cancellation and reopening --------------------------------------------


def test_a_meetings_action_is_due_on_the_meetings_day_or_later():
    meeting, user = MeetingFactory(scheduled_for=at(D(2026, 11, 27))), UserFactory()

    with pytest.raises(ValidationError) as refused:
        services.create_action_item(
            title="Send the plan", due_date=D(2026, 1, 15), owner=user, meeting=meeting, created_by=user
        )
    on_the_day = services.create_action_item(
        title="Send the plan", due_date=D(2026, 11, 27), owner=user, meeting=meeting, created_by=user
    )

    assert refused.value.message_dict == {"due_date": ["The action is due on the meeting's day, 11/27/2026, or later."]}
    assert on_the_day.due_date == D(2026, 11, 27)


def test_a_new_due_date_before_the_meetings_day_is_refused_and_a_later_one_kept_in_history():
    meeting, user = MeetingFactory(scheduled_for=at(D(2025, 3, 10))), UserFactory()
    item = services.create_action_item(
        title="Send the plan", due_date=D(2025, 4, 1), owner=user, meeting=meeting, created_by=user
    )

    with pytest.raises(ValidationError, match="03/10/2025, or later"):
        services.update_action_item(item=item, due_date=D(2025, 3, 9), actor=user)
    item = services.update_action_item(item=item, due_date=D(2025, 5, 2), title="Send the final plan", actor=user)

    assert (item.due_date, item.title) == (D(2025, 5, 2), "Send the final plan")
    record = item.history.latest()
    assert (record.history_user, record.history_change_reason) == (user, "Changed: due_date, title")


WORDING_FINAL = "The minutes of this meeting are approved: the action's wording is final; record a correction instead."


def test_the_wording_of_an_action_of_approved_minutes_is_final_and_its_owner_and_due_date_still_change():
    meeting = MeetingFactory(approved_minutes=True, scheduled_for=at(D(2025, 3, 10)))
    item = ActionItemFactory(meeting=meeting, title="Send the plan", description="By e-mail.", due_date=D(2025, 4, 1))
    user, new_owner = UserFactory(), UserFactory()

    refusals = {}
    for changes in ({"title": "Send the final plan"}, {"description": "By post."}):
        with pytest.raises(ValidationError) as refused:
            services.update_action_item(item=item, actor=user, owner=new_owner, **changes)
        refusals |= refused.value.message_dict
    item = services.update_action_item(
        item=item, actor=user, title="Send the plan", owner=new_owner, due_date=D(2025, 5, 2)
    )

    assert refusals == {"title": [WORDING_FINAL], "description": [WORDING_FINAL]}
    assert (item.title, item.description, item.owner, item.due_date) == (
        "Send the plan",
        "By e-mail.",
        new_owner,
        D(2025, 5, 2),
    )
    assert item.history.latest().history_change_reason == "Changed: owner, due_date"
    services.start_action_item(item=item, actor=user)
    services.close_action_item(item=item, actor=user)
    item = services.reopen_action_item(item=item, actor=user)
    assert item.status == ActionStatus.OPEN
    assert Meeting.objects.get(pk=meeting.pk).minutes_status == MinutesStatus.APPROVED


def test_the_wording_of_a_findings_action_changes_after_it_is_created():
    item = ActionItemFactory(meeting=None, finding=FindingFactory(), title="Fix the access review")

    item = services.update_action_item(item=item, actor=UserFactory(), title="Fix the quarterly access review")

    assert item.title == "Fix the quarterly access review"


def test_an_older_item_due_before_its_meeting_still_changes_status():
    """The due-date rule is checked when the date is written, not on every later change of the item."""
    item = ActionItemFactory(meeting=MeetingFactory(scheduled_for=at(D(2025, 3, 10))), due_date=D(2025, 2, 14))

    services.close_action_item(item=item, actor=item.created_by)
    services.update_action_item(item=item, title="Renamed", actor=item.created_by)

    item.refresh_from_db()
    assert (item.status, item.title, item.due_date) == (ActionStatus.DONE, "Renamed", D(2025, 2, 14))


def test_cancelling_an_action_item_needs_the_reason_kept_whole_until_it_is_reopened():
    item = ActionItemFactory()
    reason = "Superseded by the recovery plan agreed with the vendor's delivery director in the April review. " * 2

    with pytest.raises(ValidationError, match=r"Say why the action item is cancelled\."):
        services.cancel_action_item(item=item, actor=item.created_by, reason="   ")
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN
    item = services.cancel_action_item(item=item, actor=item.created_by, reason=reason)
    assert (item.status, item.cancellation_reason) == (ActionStatus.CANCELLED, reason.strip())
    assert item.history.latest().history_change_reason == f"Cancelled: {reason.strip()}"[:100]

    item = services.reopen_action_item(item=item, actor=item.created_by)
    assert (item.status, item.closed_at, item.cancellation_reason) == (ActionStatus.OPEN, None, "")
    assert item.history.filter(cancellation_reason=reason.strip()).exists()


def test_an_action_item_started_twice_is_refused_as_already_in_progress():
    item = ActionItemFactory()
    services.start_action_item(item=item, actor=item.created_by)

    with pytest.raises(ValidationError) as refused:
        services.start_action_item(item=item, actor=item.created_by)

    assert refused.value.messages == ["The action item is already in progress."]
