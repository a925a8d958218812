"""Test helpers of governance (the shared factories stay as they are): a meeting held with its quorum."""

from governance.choices import AttendanceStatus, MeetingStatus, Side
from governance.models import Attendance, CommitteeMember, Meeting
from tests.factories import CommitteeMemberFactory, VendorContactFactory


def held_with_quorum(meeting: Meeting) -> Meeting:
    """`meeting`, held, with every member of its committee present and at least its quorum seated (a
    client-side and a vendor-side member among them when the committee needs one of each)."""
    committee = meeting.committee
    members = list(CommitteeMember.objects.filter(committee=committee))
    sides = {member.side for member in members}
    if committee.quorum_needs_each_side and Side.VENDOR not in sides:
        vendor = committee.vendor or committee.contract.vendor
        contact = VendorContactFactory(vendor=vendor)
        members.append(CommitteeMemberFactory(committee=committee, user=None, contact=contact, side=Side.VENDOR))
    while len(members) < committee.quorum:
        members.append(CommitteeMemberFactory(committee=committee))
    for member in members:
        Attendance.objects.update_or_create(
            meeting=meeting, member=member, defaults={"status": AttendanceStatus.PRESENT}
        )
    Meeting.objects.filter(pk=meeting.pk).update(status=MeetingStatus.HELD)
    meeting.refresh_from_db()
    return meeting
