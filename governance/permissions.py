"""Who changes a committee's record: the one rule of the web pages and the API.

Committees are joint, but the record (agenda, minutes, their circulation and approval, corrections,
decisions, action items) is kept by the customer. So:

- administrators and the customer-side members of the committee (internal, non-vendor users who sit
  on it) change its record: meetings (and their minutes), decisions and action items;
- vendor users (the BPO's own staff) never change the record, whatever permission they were given;
  those who sit on the committee read its meetings and record their own vote approving circulated
  minutes when they were present (governance.services.record_minutes_vote), nothing else.

The role's model permissions (accounts.roles) play no part in it: a customer-side user who does not sit
on the committee is refused whatever their role, and a customer-side member is not refused for lacking
one. The web pages ask `may_change_meeting` with the members they show; the API asks
`may_change_record_of` for the committee of the row it writes or creates (governance.api.views).

A committee's own terms (cadence, quorum) are changed by the same people: administrators and its
customer-side members (`may_change_record_of`); creating a committee and seating its members follow the
role's model permissions, as in the rest of the API and the back office.

Action items of an audit finding alone are no committee's record: they are the remediation of the finding,
created, started, closed, cancelled and reopened by those who follow findings up (auditors and
administrators: audits.permissions.follows_up_findings), like the finding itself. Vendor users change none
of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.choices import Role
from accounts.scoping import restrict
from audits.permissions import follows_up_findings
from governance.choices import AttendanceStatus, MemberRole, MinutesStatus
from governance.models import ActionItem, Attendance, CommitteeMember, Decision, Meeting, MinutesApproval


def is_administrator(user) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.ADMINISTRATOR)


def keeps_the_record(user) -> bool:
    """Whether `user` is on the customer's side, which keeps the committees' record (vendor users never are)."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and not user.is_vendor_user


def seat_of(user, members: Iterable[CommitteeMember]) -> CommitteeMember | None:
    """The seat `user` holds among a committee's `members` (None when they do not sit on it)."""
    return next((member for member in members if member.user_id is not None and member.user_id == user.pk), None)


def may_change_meeting(user, members: Iterable[CommitteeMember]) -> bool:
    """Whether `user` changes the record (meetings, decisions, action items) of the committee whose
    `members` are given: administrators and customer-side members do; vendor users (members or not) never do."""
    if not keeps_the_record(user):
        return False
    return is_administrator(user) or seat_of(user, members) is not None


def members_seen_by(user, committee_id: int) -> QuerySet[CommitteeMember]:
    """The members of committee `committee_id`, as `user` sees them (accounts.scoping)."""
    return restrict(CommitteeMember.objects.filter(committee_id=committee_id), user)


def may_change_record_of(user, committee_id: int) -> bool:
    """`may_change_meeting` for the committee `committee_id`, for a caller that has not read its members."""
    return may_change_meeting(user, members_seen_by(user, committee_id))


def may_change_finding_action(user) -> bool:
    """Whether `user` creates and changes the action items of an audit finding alone (no meeting's)."""
    return follows_up_findings(user)


def may_change_item(user, item: ActionItem) -> bool:
    """Whether `user` changes the action item `item`: a meeting's by the committee's rule, a finding's
    alone by those who follow findings up."""
    committee_id = committee_id_of(item)
    return may_change_finding_action(user) if committee_id is None else may_change_record_of(user, committee_id)


def committee_id_of(row: Meeting | Decision | ActionItem) -> int | None:
    """The committee whose record `row` belongs to (saved or about to be created); None for an action
    item of an audit finding alone, which is no committee's record."""
    meeting = row if isinstance(row, Meeting) else row.meeting
    return None if meeting is None else meeting.committee_id


def is_chair(user, members: Iterable[CommitteeMember]) -> bool:
    """Whether `user` chairs the committee and may approve its minutes alone (a customer-side chair)."""
    seat = seat_of(user, members)
    return seat is not None and seat.role == MemberRole.CHAIR and keeps_the_record(user)


def may_vote_on_minutes(
    meeting: Meeting,
    seat: CommitteeMember | None,
    attendances: Iterable[Attendance],
    approvals: Iterable[MinutesApproval],
) -> bool:
    """Whether the member in `seat` may now record their vote approving the meeting's minutes, as
    governance.services.record_minutes_vote allows it: the minutes are circulated, the member was
    present and has not voted yet. Members of either side vote."""
    if seat is None or meeting.minutes_status != MinutesStatus.CIRCULATED:
        return False
    present = any(a.member_id == seat.pk and a.status == AttendanceStatus.PRESENT for a in attendances)
    return present and not any(approval.member_id == seat.pk for approval in approvals)
