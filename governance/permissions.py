"""Who changes a committee's record: the one rule of the web pages and the API.

Committees are joint, but the record (agenda, minutes, their circulation and approval, corrections,
decisions, action items) is kept by the customer. So:

- administrators and the customer-side members of the committee (internal, non-vendor users who sit
  on it) change its meetings;
- vendor users (the BPO's own staff) never change the record, whatever permission they were given;
  those who sit on the committee read its meetings and record their own vote approving circulated
  minutes when they were present (governance.services.record_minutes_vote), nothing else.

The API also asks the role's model permission for every write (config.api.RolePermission); the web
pages ask committee membership instead. Both refuse vendor users through `keeps_the_record`.
"""

from __future__ import annotations

from collections.abc import Iterable

from accounts.choices import Role
from governance.choices import AttendanceStatus, MemberRole, MinutesStatus
from governance.models import Attendance, CommitteeMember, Meeting, MinutesApproval


def is_administrator(user) -> bool:
    return user.is_active and (user.is_superuser or user.role == Role.ADMINISTRATOR)


def keeps_the_record(user) -> bool:
    """Whether `user` is on the customer's side, which keeps the committees' record (vendor users never are)."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and not user.is_vendor_user


def seat_of(user, members: Iterable[CommitteeMember]) -> CommitteeMember | None:
    """The seat `user` holds among a committee's `members` (None when they do not sit on it)."""
    return next((member for member in members if member.user_id is not None and member.user_id == user.pk), None)


def may_change_meeting(user, members: Iterable[CommitteeMember]) -> bool:
    """Whether `user` changes the meetings of the committee whose `members` are given: administrators
    and customer-side members do; vendor users (members or not) never do."""
    if not keeps_the_record(user):
        return False
    return is_administrator(user) or seat_of(user, members) is not None


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
