"""A past meeting's scorecard shows each line as it stood at the end of the meeting day (the lines' history, which
every close records), as its penalties table shows the statements: a month recomputed after the meeting shows the
figures the committee saw, a line computed later none. A meeting of today shows the lines as they stand."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.choices import MeetingStatus, MemberRole, Side
from governance.models import Meeting
from sla_tracker.models import PenaltyStatement, ServiceLevel, ServiceLevelVersion, StatementLine
from sla_tracker.services import submit_statement
from tests.factories import (
    CommitteeFactory,
    CommitteeMemberFactory,
    MeetingFactory,
    UserFactory,
    VendorUserFactory,
)
from tests.sla_tracker.test_adjustments_carry import contract_a, correct_january
from tests.sla_tracker.test_close import close, statement_of
from tests.web.conftest import computed_at

pytestmark = pytest.mark.django_db
JANUARY, FEBRUARY = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def closed_on(statement: PenaltyStatement, day: datetime.date) -> None:
    """``statement`` and its lines as if the close computed them on ``day``."""
    statement.history.update(history_date=at(day, 6))
    computed_at(statement, at(day, 6))


class Review:
    """Contract A (DOMAIN.md §6, Example 1) with its January closed on 5 February (CSL-1 a default, 73.26 % against
    80 %, credited €14,400.00), and its committee's meeting of 10 March reviewing January and February (the previous
    meeting held on 10 January)."""

    day = datetime.date(2026, 3, 10)

    def __init__(self, *extra_months: str):
        self.contract = contract_a("2026-02", *extra_months)
        closed_on(close(self.contract, "2026-01"), datetime.date(2026, 2, 5))
        self.committee = CommitteeFactory(contract=self.contract)
        self.chair = CommitteeMemberFactory(committee=self.committee, role=MemberRole.CHAIR).user
        self.previous = MeetingFactory(
            committee=self.committee, scheduled_for=at(datetime.date(2026, 1, 10)), status=MeetingStatus.HELD
        )
        self.meeting = MeetingFactory(committee=self.committee, scheduled_for=at(self.day), status=MeetingStatus.HELD)

    @property
    def url(self) -> str:
        return reverse("governance:meeting", args=[self.meeting.pk])

    def dashboard(self, client, user=None):
        client.force_login(user or self.chair)
        response = client.get(self.url)
        assert response.status_code == 200
        return response

    def recompute_after_the_meeting(self) -> None:
        """January's data corrected after the meeting (CSL-1 met after all: 93.02 %) and January recomputed with
        February's first close (both today)."""
        correct_january(self.contract)
        close(self.contract, "2026-01")
        close(self.contract, "2026-02")


@pytest.fixture
def review():
    return Review()


def row_of(response, code: str):
    return next(row for row in response.context["scorecard"] if row.level.code == code)


def lines_of(response, code: str) -> dict:
    return {cell.month: cell.line for cell in row_of(response, code).cells}


def chart_of(response, code: str) -> dict:
    row = row_of(response, code)
    page = response.content.decode()
    return json.loads(page.split(f'<script id="{row.element_id}" type="application/json">')[1].split("</script>")[0])


def scorecard_html(response) -> str:
    return response.content.decode().split('id="scorecard"')[1].split("</table>")[0]


def test_a_past_meetings_scorecard_shows_a_line_recomputed_since_as_it_stood_that_day(client, review):
    review.recompute_after_the_meeting()

    response = review.dashboard(client)

    csl1 = lines_of(response, "CSL-1")[JANUARY]
    assert (csl1.status, csl1.measured, csl1.credit, csl1.terms.expected) == (
        "default",
        Decimal("73.255814"),
        Decimal("14400.00"),
        Decimal("80.0000"),
    )
    assert chart_of(response, "CSL-1")["measured"][0] == 73.255814
    table = scorecard_html(response)
    assert 'data-status="default">Default</span><div class="small">73.26 / 80</div>' in table
    assert "93.02" not in table
    assert 'data-testid="scorecard-as-of"' in response.content.decode()
    # The penalties table beside it shows January's statement of that day too.
    penalties = response.content.decode().split('id="penalties"')[1].split("</table>")[0]
    assert "€14,400.00" in penalties


def test_a_line_first_computed_after_the_meeting_day_is_absent_from_its_scorecard(client, review):
    review.recompute_after_the_meeting()  # February's lines computed today

    response = review.dashboard(client)

    assert all(lines_of(response, code)[FEBRUARY] is None for code in ("CSL-1", "CSL-2", "CSL-5"))
    assert chart_of(response, "CSL-1")["measured"][1] is None
    assert chart_of(response, "CSL-1")["target"] == [80.0, None]
    assert StatementLine.objects.filter(statement__contract=review.contract, statement__month=FEBRUARY).count() == 5


def test_a_meeting_of_today_shows_the_lines_as_they_stand(client, review):
    review.recompute_after_the_meeting()
    Meeting.objects.filter(pk=review.meeting.pk).update(scheduled_for=timezone.now(), status=MeetingStatus.PLANNED)

    response = review.dashboard(client)

    lines = lines_of(response, "CSL-1")
    assert (lines[JANUARY].status, lines[JANUARY].measured, lines[JANUARY].credit) == (
        "met",
        Decimal("93.023256"),
        Decimal("0.00"),
    )
    assert lines[FEBRUARY].status == "not_measured"
    assert chart_of(response, "CSL-1")["measured"][0] == 93.023256
    assert 'data-status="met">Met</span><div class="small">93.02 / 80</div>' in scorecard_html(response)
    assert 'data-testid="scorecard-as-of"' not in response.content.decode()


def test_the_target_is_that_of_the_terms_the_line_was_computed_with_then(client, review):
    # After the meeting, January's terms of CSL-1 were replaced by a version expecting 75 %, and January recomputed.
    old = ServiceLevelVersion.objects.get(service_level__contract=review.contract, service_level__code="CSL-1")
    ServiceLevelVersion.objects.filter(pk=old.pk).update(valid_from=datetime.date(2025, 12, 1))
    new = ServiceLevelVersion.objects.get(pk=old.pk)
    new.pk, new._state.adding, new.valid_from, new.expected = None, True, JANUARY, Decimal("75")
    new.save()
    close(review.contract, "2026-01")
    assert StatementLine.objects.get(pk=lines_of(review.dashboard(client), "CSL-1")[JANUARY].id).terms_id == new.pk

    past = review.dashboard(client)
    Meeting.objects.filter(pk=review.meeting.pk).update(scheduled_for=timezone.now(), status=MeetingStatus.PLANNED)
    today = review.dashboard(client)

    assert chart_of(past, "CSL-1")["target"][0] == 80.0
    assert chart_of(today, "CSL-1")["target"][0] == 75.0


def test_a_line_removed_since_the_meeting_is_shown_as_it_was(client, review):
    ServiceLevel.objects.filter(contract=review.contract, code="CSL-5").update(retired_from=JANUARY)
    close(review.contract, "2026-01")  # January's CSL-5 line removed today
    assert not StatementLine.objects.filter(statement__contract=review.contract, service_level__code="CSL-5").exists()

    past = review.dashboard(client)
    Meeting.objects.filter(pk=review.meeting.pk).update(scheduled_for=timezone.now(), status=MeetingStatus.PLANNED)
    today = review.dashboard(client)

    line = lines_of(past, "CSL-5")[JANUARY]
    assert (line.status, line.measured) == ("met", Decimal("88.000000"))
    assert lines_of(today, "CSL-5")[JANUARY] is None


def test_a_vendor_member_sees_their_contracts_lines_once_submitted_as_they_stood_that_day(client, review):
    vendor_user = VendorUserFactory(vendor=review.contract.vendor)
    CommitteeMemberFactory(committee=review.committee, user=vendor_user, side=Side.VENDOR)
    other = contract_a("2026-02")  # another vendor's contract, closed and recomputed alike
    closed_on(close(other, "2026-01"), datetime.date(2026, 2, 5))
    review.recompute_after_the_meeting()

    draft = review.dashboard(client, vendor_user)
    submit_statement(statement_id=statement_of(review.contract, "2026-01").pk, actor=UserFactory(procurement=True))
    submitted = review.dashboard(client, vendor_user)

    assert all(cell.line is None for row in draft.context["scorecard"] for cell in row.cells)  # a draft is internal
    shown = [cell.line for row in submitted.context["scorecard"] for cell in row.cells if cell.line]
    assert {line.statement.contract_id for line in shown} == {review.contract.pk}
    assert len(shown) == 5  # January's lines; February's were computed after the meeting
    assert lines_of(submitted, "CSL-1")[JANUARY].status == "default"
    assert {row.level.contract_id for row in submitted.context["scorecard"]} == {review.contract.pk}


def test_a_past_meetings_scorecard_takes_the_same_queries_for_2_and_6_months(client, count_queries):
    review = Review("2026-03", "2026-04", "2026-05", "2026-06")
    for statement in close(review.contract, "2026-06").contract.statements.all():
        closed_on(statement, datetime.date(2026, 7, 5))
    Meeting.objects.filter(pk=review.meeting.pk).update(scheduled_for=at(datetime.date(2026, 7, 10)))
    Meeting.objects.filter(pk=review.previous.pk).update(scheduled_for=at(datetime.date(2026, 5, 10)))
    client.force_login(review.chair)

    two = count_queries(client, review.url)
    assert len(client.get(review.url).context["months"]) == 2
    Meeting.objects.filter(pk=review.previous.pk).update(scheduled_for=at(datetime.date(2026, 1, 10)))
    six = count_queries(client, review.url)

    response = client.get(review.url)
    assert len(response.context["months"]) == 6
    assert all(cell.line is not None for row in response.context["scorecard"] for cell in row.cells)
    assert six == two
