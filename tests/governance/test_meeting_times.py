"""A meeting's time in the app's time zone (Europe/Paris): a time that does not exist that day (the clocks go
forward) or occurs twice (they go back) is refused under the field, never shifted or guessed; the API takes
a time with its UTC offset, which names one instant."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from config.formats import long_date
from config.local_time import aware_local_time
from governance.models import Meeting
from tests.factories import NEXT_YEAR, CommitteeFactory, CommitteeMemberFactory, UserFactory
from tests.sla_tracker.test_kpi_api import client_for


def last_sunday(year: int, month: int) -> datetime.date:
    day = datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
    return day - datetime.timedelta(days=(day.weekday() + 1) % 7)


SPRING = last_sunday(NEXT_YEAR, 3)  # Paris: 02:00 becomes 03:00
AUTUMN = last_sunday(NEXT_YEAR, 10)  # Paris: 03:00 becomes 02:00 again
GAP_MESSAGE = (
    f"02:30 does not exist on {long_date(SPRING)} in Europe/Paris: the clocks go forward that night (summer time). "
    "Choose another time."
)
TWICE_MESSAGE = (
    f"02:30 occurs twice on {long_date(AUTUMN)} in Europe/Paris: the clocks go back that night (end of summer "
    "time). Choose another time."
)


def half_past_two(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(2, 30))


def test_a_time_in_the_spring_gap_does_not_exist_and_one_in_the_autumn_overlap_occurs_twice():
    with timezone.override("Europe/Paris"):
        with pytest.raises(ValidationError) as gap:
            aware_local_time(half_past_two(SPRING))
        with pytest.raises(ValidationError) as twice:
            aware_local_time(half_past_two(AUTUMN))
        before, after = (aware_local_time(datetime.datetime.combine(SPRING, datetime.time(h, 30))) for h in (1, 3))

    assert gap.value.messages == [GAP_MESSAGE]
    assert twice.value.messages == [TWICE_MESSAGE]
    assert (before.utcoffset(), after.utcoffset()) == (datetime.timedelta(hours=1), datetime.timedelta(hours=2))
    assert after.astimezone(datetime.UTC) - before.astimezone(datetime.UTC) == datetime.timedelta(hours=1)


@pytest.fixture
def member():
    return CommitteeMemberFactory(committee=CommitteeFactory())


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "message"), [(SPRING, GAP_MESSAGE), (AUTUMN, TWICE_MESSAGE)])
def test_the_committee_page_refuses_such_a_time_under_the_field(client, member, day, message):
    client.force_login(member.user)

    response = client.post(
        reverse("governance:committee", args=[member.committee.pk]), {"scheduled_for": f"{day.isoformat()}T02:30"}
    )

    assert response.status_code == 200
    assert response.context["plan_form"].errors == {"scheduled_for": [message]}
    assert not Meeting.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "message"), [(SPRING, GAP_MESSAGE), (AUTUMN, TWICE_MESSAGE)])
def test_the_api_refuses_such_a_time_without_an_offset_under_the_field(member, day, message):
    client = client_for(member.user)
    body = {"committee": member.committee.pk, "scheduled_for": f"{day.isoformat()}T02:30:00"}

    response = client.post("/api/v1/meetings/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"scheduled_for": [message]}
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_the_api_takes_the_autumn_hour_with_its_offset(member):
    client = client_for(member.user)
    first, second = (
        client.post(
            "/api/v1/meetings/",
            {"committee": member.committee.pk, "scheduled_for": f"{AUTUMN.isoformat()}T02:30:00{offset}"},
            format="json",
        )
        for offset in ("+02:00", "+01:00")
    )

    assert (first.status_code, second.status_code) == (201, 201)
    instants = sorted(Meeting.objects.values_list("scheduled_for", flat=True))
    assert [instant.astimezone(datetime.UTC).time() for instant in instants] == [
        datetime.time(0, 30),
        datetime.time(1, 30),
    ]


@pytest.mark.django_db
def test_the_back_office_refuses_a_time_in_the_spring_gap_under_the_field(client, member):
    client.force_login(UserFactory(administrator=True))

    response = client.post(
        reverse("admin:governance_meeting_add"),
        {"committee": member.committee.pk, "scheduled_for_0": SPRING.isoformat(), "scheduled_for_1": "02:30:00"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"scheduled_for": [GAP_MESSAGE]}
    assert not Meeting.objects.exists()
