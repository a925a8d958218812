"""The iCalendar feed: RFC 5545 text escaping and line folding, and the per-user secret address."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audits.choices import AuditStatus
from contracts.choices import RenewalType
from governance.choices import MemberRole, Side
from notifications import services
from notifications.ical import Event, calendar, escape_text, fold
from tests.factories import (
    ActionItemFactory,
    AuditFactory,
    CommitteeMemberFactory,
    ContractFactory,
    FindingFactory,
    MeetingFactory,
    UserFactory,
    VendorUserFactory,
)

D = datetime.date
STAMP = datetime.datetime(2025, 2, 1, 8, 0, tzinfo=datetime.UTC)


def test_text_values_escape_backslashes_semicolons_commas_and_newlines():
    assert escape_text("a\\b;c,d\ne\r\nf") == "a\\\\b\\;c\\,d\\ne\\nf"


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join(part[1:] if i else part for i, part in enumerate(parts)) == line


def test_a_calendar_has_crlf_lines_and_all_day_and_timed_events():
    text = calendar(
        [
            Event(uid="a@x", summary="Due, soon", start=D(2025, 2, 14), end=D(2025, 2, 15)),
            Event(
                uid="b@x",
                summary="Review",
                start=datetime.datetime(2025, 2, 15, 10, tzinfo=datetime.UTC),
                end=datetime.datetime(2025, 2, 15, 11, tzinfo=datetime.UTC),
            ),
        ],
        name="Mine",
        stamp=STAMP,
    )
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "DTSTART;VALUE=DATE:20250214\r\nDTEND;VALUE=DATE:20250215\r\nSUMMARY:Due\\, soon" in text
    assert "DTSTART:20250215T100000Z\r\nDTEND:20250215T110000Z" in text
    assert "DTSTAMP:20250201T080000Z" in text


@pytest.mark.django_db
def test_the_feed_lists_the_users_meetings_deadlines_and_due_dates(client):
    user = UserFactory()
    contract = ContractFactory(owner=user, auditors=[user])
    member = CommitteeMemberFactory(committee__contract=contract, user=user, role=MemberRole.CHAIR)
    meeting = MeetingFactory(committee=member.committee)
    ActionItemFactory(owner=user, due_date=D(2025, 2, 14), title="Send the plan; today")
    FindingFactory(owner=user, audit__audit_right__contract=contract, audit__status=AuditStatus.REPORTED)
    AuditFactory(audit_right__contract=contract, reference="AUD-X")
    AuditFactory(
        audit_right__contract=contract,
        reference="AUD-CANCELLED",
        status=AuditStatus.CANCELLED,
        cancellation_reason="Vendor merger",
        cancelled_by=user,
        cancelled_at=timezone.now(),
    )
    ActionItemFactory(due_date=D(2025, 2, 14), title="Someone else's")
    feed = services.calendar_feed_for(user=user)

    response = client.get(reverse("notifications:calendar-feed", args=[feed.token]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert f"UID:meeting-{meeting.pk}@127.0.0.1" in body
    assert "SUMMARY:Action due: Send the plan\\; today" in body
    assert "Someone else" not in body
    assert "SUMMARY:Remediation due:" in body
    assert f"SUMMARY:Notice deadline: {contract.reference}" in body
    unfolded = body.replace("\r\n ", "")
    # The dates written out, as the notices write them (a comma escaped, as iCalendar escapes it).
    assert "renews until Dec. 31\\, 2028 without notice. Notice period: 6 months." in unfolded  # a tacit renewal
    assert "SUMMARY:Audit fieldwork: AUD-X" in body
    assert "AUD-CANCELLED" not in body


@pytest.mark.django_db
def test_a_vendor_users_feed_lists_their_vendors_findings_and_committees_only(client):
    """Of their vendor's findings, those addressed to the vendor; nothing of another vendor, and none of the customer's
    own dates (notice deadlines, audit fieldwork)."""
    contract = ContractFactory()
    vendor_user = VendorUserFactory(vendor=contract.vendor)
    member = CommitteeMemberFactory(committee__contract=contract, user=vendor_user, side=Side.VENDOR)
    meeting = MeetingFactory(committee=member.committee)
    audit = AuditFactory(audit_right__contract=contract, reference="AUD-OWN", status=AuditStatus.REPORTED)
    FindingFactory(audit=audit, title="Addressed to us", addressed_to_vendor=True)
    FindingFactory(audit=audit, title="Internal to the customer", addressed_to_vendor=False)
    other = ContractFactory()
    FindingFactory(
        audit__audit_right__contract=other,
        audit__reference="AUD-OTHER",
        audit__status=AuditStatus.REPORTED,
        title="Another vendor's",
        addressed_to_vendor=True,
    )
    MeetingFactory(committee__contract=other)
    feed = services.calendar_feed_for(user=vendor_user)

    body = client.get(reverse("notifications:calendar-feed", args=[feed.token])).content.decode()

    assert body.count("BEGIN:VEVENT") == 2
    assert f"UID:meeting-{meeting.pk}@127.0.0.1" in body
    assert "SUMMARY:Remediation due: AUD-OWN-" in body and "Addressed to us" in body
    assert "Internal to the customer" not in body
    assert "AUD-OTHER" not in body and "Another vendor" not in body
    assert "Notice deadline" not in body and "Audit fieldwork" not in body


@pytest.mark.django_db
def test_an_unknown_or_rotated_token_finds_nothing(client):
    user = UserFactory()
    old = services.calendar_feed_for(user=user).token
    new = services.rotate_calendar_token(user=user).token
    assert new != old
    assert client.get(reverse("notifications:calendar-feed", args=[old])).status_code == 404
    assert client.get(reverse("notifications:calendar-feed", args=[new])).status_code == 200
    user.is_active = False
    user.save()
    assert client.get(reverse("notifications:calendar-feed", args=[new])).status_code == 404


@pytest.mark.django_db
def test_a_contract_renewed_only_by_agreement_is_not_announced_as_renewing_itself(client):
    user = UserFactory(procurement=True)
    ContractFactory(renewal_type=RenewalType.EXPLICIT)
    feed = services.calendar_feed_for(user=user)

    body = client.get(reverse("notifications:calendar-feed", args=[feed.token])).content.decode()
    body = body.replace("\r\n ", "")  # lines unfolded

    assert "SUMMARY:Notice deadline:" in body
    assert "renews until" not in body
    assert "without an agreement to renew it\\, the contract ends then." in body
