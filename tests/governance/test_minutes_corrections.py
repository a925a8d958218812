"""Corrections of approved minutes (QA review): a correction carries a corrected text, and a draft correction
recorded by mistake is discarded before it is circulated, by the services and through the API."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from governance import services
from governance.choices import MemberRole, MinutesApprovalMethod, MinutesStatus, Side
from governance.models import CommitteeMember, Meeting
from tests.factories import CommitteeMemberFactory, MeetingFactory, VendorUserFactory
from tests.governance.helpers import held_with_quorum

pytestmark = pytest.mark.django_db

NO_TEXT = "Write the corrected minutes: a correction replaces the approved text with its own."


@pytest.fixture
def approved():
    """A held meeting whose minutes ("Original text") its chair approved."""
    meeting = held_with_quorum(MeetingFactory(scheduled_for=datetime.datetime(2025, 6, 10, 10, tzinfo=datetime.UTC)))
    chair = CommitteeMemberFactory(committee=meeting.committee, role=MemberRole.CHAIR).user
    Meeting.objects.filter(pk=meeting.pk).update(
        minutes="Original text",
        minutes_status=MinutesStatus.APPROVED,
        minutes_approved_by=chair,
        minutes_approved_at=timezone.now(),
        minutes_approval_method=MinutesApprovalMethod.CHAIR,
    )
    meeting.refresh_from_db()
    return meeting


@pytest.fixture
def chair(approved):
    return CommitteeMember.objects.get(committee=approved.committee, role=MemberRole.CHAIR).user


def _stored(meeting: Meeting) -> tuple:
    """The meeting's row and how many history rows it has: what a refused write leaves unchanged."""
    return Meeting.objects.filter(pk=meeting.pk).values().get(), meeting.history.count()


# The corrected text -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "  \r\n\t "], ids=["empty", "blank"])
def test_a_correction_without_text_is_refused_under_the_minutes(approved, chair, text):
    before = _stored(approved)

    with pytest.raises(ValidationError) as refused:
        services.record_minutes_correction(meeting=approved, minutes=text, actor=chair)

    assert refused.value.message_dict == {"minutes": [NO_TEXT]}
    assert not approved.corrections.exists()
    assert _stored(approved) == before


def test_a_correction_that_repeats_the_current_text_is_refused(approved, chair):
    with pytest.raises(ValidationError) as same_as_approved:
        services.record_minutes_correction(meeting=approved, minutes="Original text\r\n", actor=chair)
    first = services.record_minutes_correction(meeting=approved, minutes="Line one\r\nLine two", actor=chair)
    services.circulate_minutes(meeting=first, actor=chair)
    services.approve_minutes_as_chair(meeting=first, actor=chair)

    # The current text is now the approved correction's, whatever the line endings the browser posts.
    with pytest.raises(ValidationError) as same_as_current:
        services.record_minutes_correction(meeting=approved, minutes="Line one\nLine two", actor=chair)
    second = services.record_minutes_correction(meeting=approved, minutes="Original text", actor=chair)

    for refused in (same_as_approved, same_as_current):
        assert refused.value.message_dict == {
            "minutes": ["The corrected minutes are the current text: change what is wrong."]
        }
    assert list(approved.corrections.order_by("pk")) == [first, second]


def test_a_corrections_text_is_not_emptied_while_a_meetings_draft_may_be(approved, chair):
    correction = services.record_minutes_correction(meeting=approved, minutes="Corrected", actor=chair)
    draft = held_with_quorum(MeetingFactory(committee=approved.committee, minutes="Notes taken during the meeting"))

    with pytest.raises(ValidationError) as refused:
        services.update_minutes(meeting=correction, minutes=" ", actor=chair)
    services.update_minutes(meeting=draft, minutes="", actor=chair)

    assert refused.value.message_dict == {"minutes": [NO_TEXT]}
    correction.refresh_from_db()
    draft.refresh_from_db()
    assert (correction.minutes, draft.minutes) == ("Corrected", "")


# Discarding a draft correction ------------------------------------------------------------------------------


def test_a_draft_correction_never_circulated_is_discarded_and_its_history_keeps_it(approved, chair):
    correction = services.record_minutes_correction(meeting=approved, minutes="Mistaken text", actor=chair)
    before = _stored(approved)

    corrected = services.discard_minutes_correction(correction=correction, actor=chair)

    assert corrected == approved
    assert not Meeting.objects.filter(pk=correction.pk).exists()
    gone = Meeting.history.filter(id=correction.pk).order_by("-history_id").first()
    assert (gone.history_type, gone.history_user, gone.minutes, gone.corrects_id) == (
        "-",
        chair,
        "Mistaken text",
        approved.pk,
    )
    assert gone.history_change_reason == "Correction discarded before it was circulated"
    assert _stored(approved) == before  # the approved minutes and their meeting untouched
    again = services.record_minutes_correction(meeting=approved, minutes="The right text", actor=chair)
    assert list(approved.corrections.all()) == [again]


@pytest.mark.parametrize(
    ("stage", "reason"),
    [
        ("circulated", "was circulated for approval"),
        ("edited after it was circulated", "was circulated for approval"),
        ("approved", "approved and final"),
    ],
)
def test_a_correction_once_circulated_is_not_discarded(approved, chair, stage, reason):
    correction = services.record_minutes_correction(meeting=approved, minutes="Corrected", actor=chair)
    services.circulate_minutes(meeting=correction, actor=chair)
    if stage == "edited after it was circulated":
        services.update_minutes(meeting=correction, minutes="Corrected again", actor=chair)
    elif stage == "approved":
        services.approve_minutes_as_chair(meeting=correction, actor=chair)
    before = _stored(correction)

    with pytest.raises(ValidationError, match=reason):
        services.discard_minutes_correction(correction=correction, actor=chair)

    assert _stored(correction) == before


def test_a_meeting_is_not_discarded_as_a_correction(approved, chair):
    before = _stored(approved)

    with pytest.raises(ValidationError, match="This is a meeting, not a correction"):
        services.discard_minutes_correction(correction=approved, actor=chair)

    assert _stored(approved) == before


# Through the API ----------------------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_correction_is_recorded_through_the_api_with_its_text_or_refused_under_it(approved, chair):
    blank = api(chair).post(f"/api/v1/meetings/{approved.pk}/correct-minutes/", {"minutes": "  "}, format="json")
    assert blank.status_code == 400
    assert blank.json() == {"type": "validation_error", "errors": {"minutes": [NO_TEXT]}}
    assert not approved.corrections.exists()

    response = api(chair).post(
        f"/api/v1/meetings/{approved.pk}/correct-minutes/", {"minutes": "Corrected figures"}, format="json"
    )

    assert response.status_code == 201, response.content
    correction = approved.corrections.get()
    assert response.json()["id"] == correction.pk
    assert (response.json()["corrects"], response.json()["minutes"], response.json()["minutes_status"]) == (
        approved.pk,
        "Corrected figures",
        MinutesStatus.DRAFT,
    )
    emptied = api(chair).post(f"/api/v1/meetings/{correction.pk}/minutes/", {"minutes": ""}, format="json")
    assert emptied.json()["errors"] == {"minutes": [NO_TEXT]}


def test_a_draft_correction_is_discarded_through_the_api_by_those_who_keep_the_record(approved, chair):
    correction = services.record_minutes_correction(meeting=approved, minutes="Mistaken text", actor=chair)
    vendor_user = VendorUserFactory(vendor=approved.committee.contract.vendor)
    CommitteeMemberFactory(committee=approved.committee, user=vendor_user, side=Side.VENDOR)
    url = f"/api/v1/meetings/{correction.pk}/discard-correction/"

    refused = api(vendor_user).post(url, format="json")
    not_a_correction = api(chair).post(f"/api/v1/meetings/{approved.pk}/discard-correction/", format="json")
    assert refused.status_code == 403
    assert not_a_correction.status_code == 400
    assert Meeting.objects.filter(pk=correction.pk).exists()

    response = api(chair).post(url, format="json")

    assert response.status_code == 204
    assert not Meeting.objects.filter(pk=correction.pk).exists()
    assert api(chair).get(f"/api/v1/meetings/{correction.pk}/").status_code == 404


def test_a_circulated_correction_is_not_discarded_through_the_api(approved, chair):
    correction = services.record_minutes_correction(meeting=approved, minutes="Corrected", actor=chair)
    services.circulate_minutes(meeting=correction, actor=chair)

    response = api(chair).post(f"/api/v1/meetings/{correction.pk}/discard-correction/", format="json")

    assert response.status_code == 400
    assert "was circulated for approval" in response.json()["errors"]["non_field_errors"][0]
    correction.refresh_from_db()
    assert correction.minutes_status == MinutesStatus.CIRCULATED
