"""QA: minutes approved by vote named as their approver whoever entered the last vote (a vendor contact's vote,
entered by a secretary who was absent). Approved by vote, they have no single approver: the page says they were
approved by the vote of the members present."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from governance import services
from governance.choices import AttendanceStatus, MinutesApprovalMethod, MinutesStatus
from governance.models import Meeting
from tests.factories import CommitteeFactory, CommitteeMemberFactory, MeetingFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_minutes_approved_by_vote_name_no_single_approver_and_the_page_says_who_approved_them(client):
    committee = CommitteeFactory(quorum=2)
    chair = CommitteeMemberFactory(committee=committee)
    contact = CommitteeMemberFactory(committee=committee, vendor_contact=True)
    absent = CommitteeMemberFactory(committee=committee)
    meeting = MeetingFactory(committee=committee, scheduled_for=timezone.now() - datetime.timedelta(days=3))
    services.record_attendance(
        meeting=meeting,
        attendance={
            chair.pk: AttendanceStatus.PRESENT,
            contact.pk: AttendanceStatus.PRESENT,
            absent.pk: AttendanceStatus.ABSENT,
        },
        actor=absent.user,
    )
    services.update_minutes(meeting=meeting, minutes="## Service levels\nAll met.", actor=absent.user)
    services.circulate_minutes(meeting=meeting, actor=absent.user)
    services.record_minutes_vote(meeting=meeting, member=chair, actor=chair.user)

    # The absent member enters the vendor contact's vote, the last one.
    services.record_contact_vote(meeting=meeting, member=contact, actor=absent.user)

    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.minutes_status == MinutesStatus.APPROVED
    assert meeting.minutes_approval_method == MinutesApprovalMethod.VOTE
    assert meeting.minutes_approved_by is None
    assert meeting.minutes_approved_at is not None
    client.force_login(UserFactory(administrator=True))
    page = client.get(reverse("governance:meeting", args=[meeting.pk])).content.decode()
    approval = page.split('id="minutes-approval">')[1].split("</p>")[0]
    day = date_format(timezone.localtime(meeting.minutes_approved_at), "SHORT_DATE_FORMAT")
    assert approval == f"Approved by the vote of the members present on {day}."
    assert str(absent.user) not in approval


def test_minutes_approved_by_the_chair_name_the_chair():
    committee = CommitteeFactory()
    chair = CommitteeMemberFactory(committee=committee, role="chair")
    meeting = MeetingFactory(committee=committee, scheduled_for=timezone.now() - datetime.timedelta(days=3))
    services.record_attendance(meeting=meeting, attendance={chair.pk: AttendanceStatus.PRESENT}, actor=chair.user)
    services.update_minutes(meeting=meeting, minutes="All met.", actor=chair.user)
    services.circulate_minutes(meeting=meeting, actor=chair.user)

    meeting = services.approve_minutes_as_chair(meeting=meeting, actor=chair.user)

    assert (meeting.minutes_approved_by, meeting.minutes_approval_method) == (chair.user, MinutesApprovalMethod.CHAIR)
