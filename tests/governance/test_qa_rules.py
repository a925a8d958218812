"""Rules found missing by QA: the planning horizon of a meeting, the scorecard's longest review, corrections
that carry minutes only (one at a time, from the current text), and draft minutes kept from the vendor."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from rest_framework.test import APIClient

from governance import services
from governance.choices import MinutesApprovalMethod, MinutesStatus
from governance.models import Meeting
from governance.views import SCORECARD_MONTHS_MAX, scorecard_months
from tests.factories import (
    NEXT_YEAR,
    CommitteeMemberFactory,
    ContractFactory,
    MeetingFactory,
    UserFactory,
    VendorUserFactory,
)
from tests.governance.helpers import held_with_quorum

pytestmark = pytest.mark.django_db


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


# The planning horizon ------------------------------------------------------------------------------------


def test_a_meeting_is_planned_at_most_three_years_ahead():
    committee = MeetingFactory().committee
    user = UserFactory()
    within = timezone.now() + datetime.timedelta(days=365 * 3 - 1)

    services.plan_meeting(committee=committee, scheduled_for=within, actor=user)
    with pytest.raises(ValidationError) as refused:
        services.plan_meeting(committee=committee, scheduled_for=at(datetime.date(9999, 12, 31)), actor=user)

    assert list(refused.value.message_dict) == ["scheduled_for"]
    assert "at most 3 years ahead" in refused.value.message_dict["scheduled_for"][0]
    assert not Meeting.objects.filter(scheduled_for__year=9999).exists()


def test_the_horizon_is_the_same_day_three_calendar_years_on():
    """QA: counted as 3 × 365 days, the horizon fell a day short whenever a 29 February came in between."""
    from contracts.dates import add_months

    committee = MeetingFactory().committee
    user = UserFactory()
    last_day = add_months(timezone.localdate(), 36)
    noon = datetime.time(12, tzinfo=timezone.get_current_timezone())

    services.plan_meeting(committee=committee, scheduled_for=datetime.datetime.combine(last_day, noon), actor=user)
    with pytest.raises(ValidationError) as refused:
        services.plan_meeting(
            committee=committee,
            scheduled_for=datetime.datetime.combine(last_day + datetime.timedelta(days=1), noon),
            actor=user,
        )

    assert refused.value.message_dict["scheduled_for"][0].endswith(f"by {date_format(last_day)}.")


def test_a_planned_meeting_is_not_rescheduled_beyond_the_horizon():
    meeting = MeetingFactory(scheduled_for=at(datetime.date(NEXT_YEAR, 3, 10)))

    with pytest.raises(ValidationError, match="at most 3 years ahead"):
        services.update_meeting(meeting=meeting, scheduled_for=at(datetime.date(9999, 1, 1)), actor=UserFactory())

    meeting.refresh_from_db()
    assert meeting.scheduled_for == at(datetime.date(NEXT_YEAR, 3, 10))


def test_the_api_and_the_committee_page_name_the_date_beyond_the_horizon():
    member = CommitteeMemberFactory()
    api = APIClient()
    api.force_authenticate(member.user)

    response = api.post(
        "/api/v1/meetings/",
        {"committee": member.committee_id, "scheduled_for": "9999-12-31T23:59:00Z"},
        format="json",
    )
    page = APIClient()
    page.force_login(member.user)
    posted = page.post(
        reverse("governance:committee", args=[member.committee_id]),
        {"scheduled_for": "9999-12-31T23:59", "location": "x" * 201},
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["scheduled_for"]
    form = posted.context["plan_form"]
    assert "location" in form.errors  # over 200 characters: said under the field, as the page now shows it
    assert "Ensure this value has at most 200 characters" in posted.content.decode()
    assert not Meeting.objects.filter(committee=member.committee, scheduled_for__year=9999).exists()


def test_the_scorecard_reviews_at_most_two_years_after_a_long_lapse():
    meeting = MeetingFactory(scheduled_for=at(datetime.date(2026, 11, 10)))
    previous = MeetingFactory(committee=meeting.committee, scheduled_for=at(datetime.date(2019, 5, 10)))

    months = scorecard_months(meeting, previous)

    assert len(months) == SCORECARD_MONTHS_MAX == 24
    assert (months[0], months[-1]) == (datetime.date(2024, 11, 1), datetime.date(2026, 10, 1))


# Corrections ---------------------------------------------------------------------------------------------


@pytest.fixture
def approved():
    meeting = held_with_quorum(MeetingFactory(scheduled_for=at(datetime.date(2025, 6, 10))))
    Meeting.objects.filter(pk=meeting.pk).update(
        minutes="Original text",
        minutes_status=MinutesStatus.APPROVED,
        minutes_approved_by=UserFactory(),
        minutes_approved_at=timezone.now(),
        minutes_approval_method=MinutesApprovalMethod.CHAIR,
    )
    meeting.refresh_from_db()
    return meeting


def test_a_correction_carries_minutes_only(approved):
    user = UserFactory()
    correction = services.record_minutes_correction(meeting=approved, minutes="Corrected", actor=user)

    for record in (
        lambda: services.record_decision(meeting=correction, text="A new decision", actor=user),
        lambda: services.add_agenda_item(meeting=correction, title="A new item", actor=user),
        lambda: services.propose_agenda(meeting=correction, actor=user),
        lambda: services.create_action_item(
            title="A new action", due_date=datetime.date(2030, 1, 1), owner=user, meeting=correction, created_by=user
        ),
    ):
        with pytest.raises(ValidationError, match="carries the corrected minutes only"):
            record()

    assert not correction.decisions.exists() and not correction.agenda_items.exists()
    assert not correction.action_items.exists()


def test_one_correction_at_a_time_and_the_next_starts_from_the_current_text(approved, client):
    user = UserFactory(is_superuser=True, is_staff=True)
    first = services.record_minutes_correction(meeting=approved, minutes="First correction", actor=user)

    with pytest.raises(ValidationError, match="is not approved yet: edit it instead"):
        services.record_minutes_correction(meeting=approved, minutes="Second, too early", actor=user)
    Meeting.objects.filter(pk=first.pk).update(
        minutes_status=MinutesStatus.APPROVED,
        minutes_approved_by=user,
        minutes_approved_at=timezone.now(),
        minutes_approval_method=MinutesApprovalMethod.CHAIR,
    )
    first.refresh_from_db()
    with pytest.raises(ValidationError, match="correct the minutes of the meeting it corrects"):
        services.record_minutes_correction(meeting=first, minutes="A correction of a correction", actor=user)

    client.force_login(user)
    page = client.get(reverse("governance:meeting", args=[approved.pk]))
    assert page.context["current_correction"] == first
    assert page.context["correction_form"].initial["minutes"] == "First correction"
    assert "current text" in page.content.decode()
    second = services.record_minutes_correction(meeting=approved, minutes="Second correction", actor=user)
    pending = client.get(reverse("governance:meeting", args=[approved.pk])).content.decode()
    assert 'id="correction-form"' not in pending
    assert reverse("governance:meeting", args=[second.pk]) in pending
    assert list(approved.corrections.order_by("pk")) == [first, second]


# Draft minutes and the vendor ----------------------------------------------------------------------------


def test_a_vendor_user_reads_the_minutes_once_circulated_in_the_api_too():
    contract = ContractFactory()
    meeting = held_with_quorum(MeetingFactory(committee__contract=contract, minutes="Draft: credits to waive?"))
    vendor_user = VendorUserFactory(vendor=contract.vendor)
    CommitteeMemberFactory(committee=meeting.committee, user=vendor_user)
    api = APIClient()
    api.force_authenticate(vendor_user)

    draft = api.get(f"/api/v1/meetings/{meeting.pk}/").json()
    Meeting.objects.filter(pk=meeting.pk).update(minutes_status=MinutesStatus.CIRCULATED)
    circulated = api.get(f"/api/v1/meetings/{meeting.pk}/").json()

    assert (draft["minutes"], draft["minutes_status"]) == ("", MinutesStatus.DRAFT)
    assert circulated["minutes"] == "Draft: credits to waive?"
    customer = APIClient()
    customer.force_authenticate(UserFactory(is_superuser=True))
    Meeting.objects.filter(pk=meeting.pk).update(minutes_status=MinutesStatus.DRAFT)
    assert customer.get(f"/api/v1/meetings/{meeting.pk}/").json()["minutes"] == "Draft: credits to waive?"


def test_a_vendor_users_search_does_not_read_draft_minutes():
    contract = ContractFactory()
    meeting = held_with_quorum(
        MeetingFactory(committee__contract=contract, location="Lyon", minutes="Draft: we plan to terminate")
    )
    vendor_user = VendorUserFactory(vendor=contract.vendor)
    CommitteeMemberFactory(committee=meeting.committee, user=vendor_user)
    vendor, customer = APIClient(), APIClient()
    vendor.force_authenticate(vendor_user)
    customer.force_authenticate(UserFactory(is_superuser=True))

    def found(api, text):
        return [row["id"] for row in api.get("/api/v1/meetings/", {"q": text}).json()["results"]]

    assert found(vendor, "terminate") == []
    assert found(customer, "terminate") == [meeting.pk]
    assert found(vendor, "Lyon") == [meeting.pk]  # the other fields are searched as before
    Meeting.objects.filter(pk=meeting.pk).update(minutes_status=MinutesStatus.CIRCULATED)
    assert found(vendor, "terminate") == [meeting.pk]


def test_meetings_are_not_ordered_by_their_minutes():
    """The order of a list by its minutes would tell a vendor's users what a draft says, letter by letter."""
    committee = MeetingFactory().committee
    early = MeetingFactory(committee=committee, scheduled_for=at(datetime.date(NEXT_YEAR, 3, 2)), minutes="Zeta")
    late = MeetingFactory(committee=committee, scheduled_for=at(datetime.date(NEXT_YEAR, 4, 6)), minutes="Alpha")
    api = APIClient()
    api.force_authenticate(UserFactory(is_superuser=True))

    def order(**params):
        return [
            row["id"]
            for row in api.get("/api/v1/meetings/", params).json()["results"]
            if row["id"] in {early.pk, late.pk}
        ]

    for term in ("minutes", "-minutes"):
        refused = api.get("/api/v1/meetings/", {"ordering": term})
        assert refused.status_code == 400
        assert list(refused.json()["errors"]) == ["ordering"]
    assert order(ordering="scheduled_for") == [early.pk, late.pk]
    assert order(ordering="-scheduled_for") == [late.pk, early.pk]


# Cadence ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days_after_due", "late"), [(-3, False), (20, True)])
def test_a_next_meeting_planned_after_the_cadence_deadline_is_flagged(client, days_after_due, late):
    from governance.choices import Cadence
    from governance.selectors import next_meeting_due

    member = CommitteeMemberFactory(committee__cadence=Cadence.MONTHLY)
    committee = member.committee
    last = timezone.localdate() - datetime.timedelta(days=10)
    held_with_quorum(MeetingFactory(committee=committee, scheduled_for=at(last)))
    due = next_meeting_due(Cadence.MONTHLY, last)
    MeetingFactory(committee=committee, scheduled_for=at(due + datetime.timedelta(days=days_after_due)))
    client.force_login(member.user)

    listed = client.get(reverse("governance:list")).content.decode()
    page = client.get(reverse("governance:committee", args=[committee.pk])).content.decode()

    for html in (listed, page):
        assert ('data-flag="planned-late"' in html) == late
        assert ('data-flag="compliant"' in html) == (not late)


# Bounded texts -------------------------------------------------------------------------------------------


def test_a_decision_and_a_finding_say_what_they_say_within_bounds():
    from audits import services as audit_services
    from audits.choices import AuditStatus, Severity
    from audits.models import FINDING_DESCRIPTION_MAX, Finding
    from governance.models import DECISION_MAX, Decision
    from tests.factories import AuditFactory

    meeting = held_with_quorum(MeetingFactory(scheduled_for=at(datetime.date(2025, 3, 10))))
    user = UserFactory()
    services.record_decision(meeting=meeting, text="x" * DECISION_MAX, actor=user)
    with pytest.raises(ValidationError) as too_long:
        services.record_decision(meeting=meeting, text="x" * (DECISION_MAX + 1), actor=user)
    audit = AuditFactory(status=AuditStatus.FIELDWORK)
    with pytest.raises(ValidationError) as finding_too_long:
        audit_services.record_finding(
            audit=audit,
            title="Records kept incompletely",
            severity=Severity.LOW,
            description="y" * (FINDING_DESCRIPTION_MAX + 1),
            actor=UserFactory(auditor=True),
        )

    assert "text" in too_long.value.message_dict
    assert Decision.objects.filter(meeting=meeting).count() == 1
    assert "description" in finding_too_long.value.message_dict
    assert not Finding.objects.filter(audit=audit).exists()
