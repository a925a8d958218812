"""Steering committee pages: the committees, a committee's meetings, a meeting's dashboard, its
changes by members (customer-side members keep the record; vendor members read it and vote on the
minutes), and the PDF pack."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from audits.choices import Severity
from contracts.choices import ContractStatus
from governance import services
from governance.choices import (
    ActionStatus,
    AttendanceStatus,
    MeetingStatus,
    MemberRole,
    MinutesApprovalMethod,
    MinutesStatus,
    Side,
)
from governance.models import ActionItem, AgendaItem, Attendance, CommitteeMember, Decision, Meeting, MinutesApproval
from sla_tracker import services as statement_services
from sla_tracker.choices import StatementAction, StatementStatus
from sla_tracker.models import AdjustmentDispute, LineDispute
from tests.factories import (
    NEXT_YEAR,
    ActionItemFactory,
    AdjustmentDisputeFactory,
    AgendaItemFactory,
    AttendanceFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    ContractFactory,
    FindingFactory,
    LineDisputeFactory,
    MeetingFactory,
    ServiceLevelFactory,
    StatementAdjustmentFactory,
    UserFactory,
    VendorFactory,
    VendorUserFactory,
)
from tests.governance.helpers import held_with_quorum
from tests.web.conftest import computed_at, make_statement

pytestmark = pytest.mark.django_db


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 10, tzinfo=datetime.UTC)


class Committee:
    """A monthly review of a contract with a March statement: the chair, the previous meeting (held
    in March) and the April meeting whose dashboard reviews March."""

    def __init__(self):
        self.statement = make_statement()
        self.contract = self.statement.contract
        self.committee = CommitteeFactory(contract=self.contract, name="Acme service review")
        self.chair = CommitteeMemberFactory(committee=self.committee, role=MemberRole.CHAIR).user
        self.previous = MeetingFactory(
            committee=self.committee, scheduled_for=at(datetime.date(2025, 3, 10)), status=MeetingStatus.HELD
        )
        self.meeting = MeetingFactory(
            committee=self.committee, scheduled_for=at(datetime.date(2025, 4, 15)), status=MeetingStatus.HELD
        )
        computed_at(self.statement, at(datetime.date(2025, 4, 5)))  # its lines, as the meeting saw them

    def url(self, action: str = "") -> str:
        if action:
            return reverse("governance:meeting-action", args=[self.meeting.pk, action])
        return reverse("governance:meeting", args=[self.meeting.pk])


@pytest.fixture
def review():
    return Committee()


def recorded_at_the_previous_meeting(review, finding):
    """``finding`` as recorded at the previous meeting (its recorded day and its history say when)."""
    finding.history.update(history_date=review.previous.scheduled_for)
    type(finding).objects.filter(pk=finding.pk).update(recorded_on=review.previous.scheduled_for.date())
    finding.refresh_from_db()
    return finding


def raised_at_the_previous_meeting(review, row):
    """``row`` (an action item or a dispute) as raised at the previous meeting, before the reviewed one."""
    type(row).objects.filter(pk=row.pk).update(created_at=review.previous.scheduled_for)
    row.refresh_from_db()
    return row


@pytest.fixture
def chair_client(client, review):
    client.force_login(review.chair)
    return client


# The committees ---------------------------------------------------------------------------------------


def test_the_list_shows_tier_cadence_meetings_and_flags_as_text(chair_client, review):
    MeetingFactory(committee=review.committee, scheduled_for=at(datetime.date(2099, 1, 15)))

    page = chair_client.get(reverse("governance:list")).content.decode()

    assert "Acme service review" in page
    assert "Tactical (service review)" in page
    assert "Monthly" in page
    assert 'data-flag="overdue">Meeting overdue</span>' in page
    assert 'data-flag="quorum">Last meeting lacked quorum</span>' in page
    assert review.contract.reference in page
    assert reverse("governance:meeting", args=[Meeting.objects.get(scheduled_for__year=2099).pk]) in page


def test_the_list_shows_only_the_committees_the_user_may_see(client, review):
    CommitteeFactory(name="Other vendor review", contract=ContractFactory(vendor=VendorFactory(name="Other BPO")))
    client.force_login(review.chair)

    page = client.get(reverse("governance:list")).content.decode()

    assert "Acme service review" in page
    assert "Other vendor review" not in page


def test_a_vendor_user_sees_only_the_committees_they_sit_on(client, review):
    vendor_user = VendorUserFactory(vendor=review.contract.vendor)
    client.force_login(vendor_user)
    assert "Acme service review" not in client.get(reverse("governance:list")).content.decode()
    assert client.get(review.url()).status_code == 404

    CommitteeMemberFactory(committee=review.committee, user=vendor_user, side="vendor")

    assert "Acme service review" in client.get(reverse("governance:list")).content.decode()
    dashboard = client.get(review.url())
    assert dashboard.status_code == 200
    # The contract is named, not linked: its page is not for vendor users.
    contract_page = reverse("contracts:detail", args=[review.contract.pk])
    assert review.contract.reference in dashboard.content.decode()
    assert contract_page not in dashboard.content.decode()
    committee_page = client.get(reverse("governance:committee", args=[review.committee.pk])).content.decode()
    assert contract_page not in committee_page
    assert client.get(contract_page).status_code == 403


def test_a_member_plans_the_next_meeting_from_the_committee_page(chair_client, review):
    from governance.models import Meeting

    url = reverse("governance:committee", args=[review.committee.pk])
    assert 'data-testid="plan-meeting"' in chair_client.get(url).content.decode()

    response = chair_client.post(url, {"scheduled_for": f"{NEXT_YEAR}-03-02T10:00", "location": "Lille, room 4"})

    meeting = Meeting.objects.get(committee=review.committee, location="Lille, room 4")
    assert response.url == reverse("governance:meeting", args=[meeting.pk])
    assert timezone.localtime(meeting.scheduled_for).replace(tzinfo=None) == datetime.datetime(NEXT_YEAR, 3, 2, 10, 0)
    assert meeting.history.get().history_user == review.chair
    again = chair_client.post(url, {"scheduled_for": f"{NEXT_YEAR}-03-02T10:00", "location": "Elsewhere"})
    assert again.status_code == 200  # the same committee and time: refused on the page
    assert Meeting.objects.filter(committee=review.committee, scheduled_for=meeting.scheduled_for).count() == 1


def test_an_inactive_committee_is_not_offered_a_meeting_nor_flagged_overdue(chair_client, review):
    from governance.models import Meeting

    review.committee.is_active = False
    review.committee.save()
    url = reverse("governance:committee", args=[review.committee.pk])
    before = Meeting.objects.count()

    page = chair_client.get(url).content.decode()
    stale = chair_client.post(url, {"scheduled_for": f"{NEXT_YEAR}-03-02T10:00"}, follow=True)

    assert 'data-testid="plan-meeting"' not in page
    assert "Meeting overdue" not in page
    assert '<span data-testid="inactive">The committee is inactive: no meeting is due or planned for it.</span>' in page
    assert "The committee is inactive: no meeting is planned for it." in [str(m) for m in stale.context["messages"]]
    assert Meeting.objects.count() == before


def test_a_vendor_member_is_not_offered_to_plan_a_meeting_and_cannot(client, review, vendor_member):
    from governance.models import Meeting

    url = reverse("governance:committee", args=[review.committee.pk])
    client.force_login(vendor_member)
    before = Meeting.objects.count()

    assert 'data-testid="plan-meeting"' not in client.get(url).content.decode()
    assert client.post(url, {"scheduled_for": "2099-03-02T10:00"}).status_code == 403
    assert Meeting.objects.count() == before


def test_the_committee_page_lists_past_and_next_meetings_and_the_cadence(chair_client, review):
    upcoming = MeetingFactory(committee=review.committee, scheduled_for=at(datetime.date(2099, 1, 15)))

    response = chair_client.get(reverse("governance:committee", args=[review.committee.pk]))

    assert [m.pk for m in response.context["upcoming"]] == [upcoming.pk]
    assert [m.pk for m in response.context["past"]] == [review.meeting.pk, review.previous.pk]
    page = response.content.decode()
    assert "Meeting overdue" in page
    assert "No quorum" in page


def test_the_committee_page_of_an_expired_contract_says_no_meeting_is_due_not_overdue(chair_client, review):
    review.contract.status, review.contract.end_date = ContractStatus.EXPIRED, datetime.date(2025, 4, 30)
    review.contract.save()  # expired before the meeting after April's was due (May 15)

    page = chair_client.get(reverse("governance:committee", args=[review.committee.pk])).content.decode()

    assert "Meeting overdue" not in page
    assert "The cadence requires" not in page
    assert (
        '<span data-testid="contract-ended">The contract ended on 04/30/2025: no further meeting is due.</span>' in page
    )


def test_the_page_of_a_vendor_wide_committee_whose_vendors_contracts_all_ended_says_no_meeting_is_due(
    chair_client, review
):
    review.contract.status, review.contract.end_date = ContractStatus.EXPIRED, datetime.date(2025, 4, 30)
    review.contract.save()  # the vendor's only contract
    review.committee.contract, review.committee.vendor = None, review.contract.vendor
    review.committee.save()  # now governs the vendor's contracts, which it met about on April 15

    page = chair_client.get(reverse("governance:committee", args=[review.committee.pk])).content.decode()

    assert "Meeting overdue" not in page
    assert (
        '<span data-testid="contract-ended">The vendor\'s last contract ended on 04/30/2025: no further meeting '
        "is due.</span>" in page
    )


def test_a_committee_the_user_cannot_see_is_404(client, review):
    client.force_login(UserFactory(committee_member=True))

    assert client.get(reverse("governance:committee", args=[review.committee.pk])).status_code == 404
    assert client.get(review.url()).status_code == 404
    assert client.get(reverse("governance:meeting-pack", args=[review.meeting.pk])).status_code == 404
    assert client.post(review.url("minutes"), {"minutes": "x"}).status_code == 404


# The dashboard ------------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_scorecard_of_the_months_since_the_previous_meeting(chair_client, review):
    response = chair_client.get(review.url())

    assert response.context["months"] == [datetime.date(2025, 3, 1)]
    page = response.content.decode()
    assert 'data-status="default">Default</span>' in page
    assert 'data-status="met">Met</span>' in page
    row = response.context["scorecard"][0]
    data = json.loads(page.split(f'<script id="{row.element_id}" type="application/json">')[1].split("</script>")[0])
    assert data["measured"] == [72.5]
    assert data["target"] == [80.0]
    assert "chart.umd.min.js" in page
    assert "governance/scorecard.js" in page


def test_the_dashboard_shows_penalties_disputes_actions_findings_and_dates(chair_client, review):
    dispute = raised_at_the_previous_meeting(review, LineDisputeFactory(line=review.statement.lines.first()))
    later = ActionItemFactory(meeting=review.previous, title="Later action", due_date=datetime.date(2099, 1, 1))
    overdue = ActionItemFactory(meeting=review.previous, title="Overdue action", due_date=datetime.date(2025, 2, 1))
    for item in (later, overdue):
        raised_at_the_previous_meeting(review, item)
    for severity, title, due in (
        (Severity.HIGH, "Abandons miscounted", datetime.date(2099, 1, 1)),
        (Severity.LOW, "Late access removal", datetime.date(2025, 2, 1)),
    ):
        recorded_at_the_previous_meeting(
            review,
            FindingFactory(audit__audit_right__contract=review.contract, severity=severity, title=title, due_date=due),
        )

    response = chair_client.get(review.url())

    page = response.content.decode()
    assert reverse("sla_tracker:statement", args=[review.statement.pk]) in page
    assert 'data-status="in_review">In review</span>' in page
    assert [d.pk for d in response.context["disputes"]] == [dispute.pk]
    assert [item.pk for item in response.context["open_actions"]] == [overdue.pk, later.pk]
    assert ">Overdue</span>" in page
    assert str(overdue.owner) in page
    high = {severity: found for _label, severity, found in response.context["findings_by_severity"]}["high"]
    assert [finding.title for finding in high] == ["Abandons miscounted"]
    assert 'data-severity="high">High</span> 1' in page
    findings = page.split('id="findings"')[1].split("</table>")[0]
    assert findings.count('data-testid="finding-overdue"') == 1  # the low one, past its due date
    assert findings.index("Late access removal") < findings.index('data-testid="finding-overdue"')
    assert response.context["contracts"][0].next_renewal is not None
    assert "Notice deadline" in page


def test_the_dashboard_and_its_pack_list_the_disputes_of_lines_and_adjustments_oldest_first(chair_client, review):
    line = review.statement.lines.first()
    adjustment = StatementAdjustmentFactory(
        statement=review.statement,
        origin__contract=review.contract,
        origin__month=datetime.date(2025, 2, 1),
        service_level=line.service_level,
    )
    raised_at_the_previous_meeting(review, AdjustmentDisputeFactory(adjustment=adjustment))
    on_line = LineDisputeFactory(line=line)
    LineDispute.objects.filter(pk=on_line.pk).update(created_at=at(datetime.date(2025, 3, 20)))  # raised later

    response = chair_client.get(review.url())
    pack = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk]))

    assert [type(item) for item in response.context["disputes"]] == [AdjustmentDispute, LineDispute]
    disputes = response.content.decode().split('id="disputes"')[1].split("</ul>")[0]
    statement_page = reverse("sla_tracker:statement", args=[review.statement.pk])
    named = f"{review.contract.reference} {line.service_level.code} adjustment for February 2025 March 2025"
    assert f'href="{statement_page}#adjustment-{adjustment.pk}">{named}</a>' in disputes
    assert (
        f'href="{statement_page}#line-{line.pk}">{review.contract.reference} {line.service_level.code} March'
        in disputes
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pack.content)).pages)
    assert named in text


def test_a_past_meetings_dashboard_shows_the_disputes_and_actions_as_they_stood_that_day(chair_client, review):
    line = review.statement.lines.first()
    before = raised_at_the_previous_meeting(review, ActionItemFactory(meeting=review.previous, title="Raised before"))
    closed_later = raised_at_the_previous_meeting(
        review, ActionItemFactory(meeting=review.previous, title="Closed after the meeting")
    )
    ActionItem.objects.filter(pk=closed_later.pk).update(
        status=ActionStatus.DONE, closed_at=at(datetime.date(2025, 5, 2))
    )
    closed_before = raised_at_the_previous_meeting(
        review, ActionItemFactory(meeting=review.previous, title="Closed before the meeting")
    )
    ActionItem.objects.filter(pk=closed_before.pk).update(
        status=ActionStatus.DONE, closed_at=at(datetime.date(2025, 4, 1))
    )
    ActionItemFactory(meeting=review.previous, title="Raised after the meeting")  # created today
    dispute = raised_at_the_previous_meeting(review, LineDisputeFactory(line=line))
    LineDisputeFactory(line=review.statement.lines.exclude(pk=line.pk).first())  # raised today

    response = chair_client.get(review.url())

    assert {item.title for item in response.context["open_actions"]} == {before.title, closed_later.title}
    assert [item.pk for item in response.context["disputes"]] == [dispute.pk]
    page = response.content.decode()
    assert 'data-testid="actions-as-of"' in page and 'data-testid="disputes-as-of"' in page
    assert reverse("governance:action-close", args=[closed_later.pk]) not in page  # already done


def test_the_minutes_are_rendered_from_markdown_and_sanitised(chair_client, review):
    Meeting.objects.filter(pk=review.meeting.pk).update(
        minutes="# Review\n\n## Service levels\n\n**CSL-1** missed.<script>alert(1)</script>\n\n"
        "<img src=x onerror=alert(2)>"
    )

    page = chair_client.get(review.url()).content.decode()
    minutes = page.split('id="minutes">')[1].split("</div>")[0]

    # Under the page's "Minutes" heading: one h1 per page, the minutes' own headings below it.
    assert "<h3>Review</h3>" in minutes and "<h4>Service levels</h4>" in minutes
    assert page.count("<h1") == 1
    assert "<strong>CSL-1</strong>" in minutes
    assert "<script>" not in minutes
    assert "onerror" not in minutes


def test_a_vendor_wide_committee_shows_all_the_vendors_contracts(client, review):
    second = make_statement(vendor=review.contract.vendor)
    committee = CommitteeFactory(vendor_wide=True, vendor=review.contract.vendor, contract=None)
    member = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR).user
    meeting = MeetingFactory(committee=committee, scheduled_for=at(datetime.date(2025, 4, 20)))
    client.force_login(member)

    response = client.get(reverse("governance:meeting", args=[meeting.pk]))

    assert {c.pk for c in response.context["contracts"]} == {review.contract.pk, second.contract.pk}
    assert {s.pk for s in response.context["statements"]} == {review.statement.pk, second.pk}


def test_the_pack_is_a_pdf_with_the_committee_name(chair_client, review):
    response = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Acme service review" in text


# Changes by members ----------------------------------------------------------------------------------------


def test_a_member_proposes_the_agenda(chair_client, review):
    response = chair_client.post(review.url("propose-agenda"), follow=True)

    titles = [item.title for item in review.meeting.agenda_items.all()]
    assert any(title.startswith(f"Statement {review.contract.reference} March 2025") for title in titles)
    assert "agenda items were proposed" in response.content.decode()


def test_a_member_edits_circulates_and_approves_the_minutes_as_chair(chair_client, review):
    chair_client.post(review.url("minutes"), {"minutes": "## Decisions\nNone."})
    review.meeting.refresh_from_db()
    assert review.meeting.minutes == "## Decisions\nNone."

    chair_client.post(review.url("circulate"))
    review.meeting.refresh_from_db()
    assert review.meeting.minutes_status == MinutesStatus.CIRCULATED

    response = chair_client.post(review.url("approve"), {"confirm": "final"}, follow=True)
    review.meeting.refresh_from_db()
    assert review.meeting.minutes_status == MinutesStatus.APPROVED
    assert review.meeting.minutes_approved_by == review.chair
    assert "The minutes were approved." in response.content.decode()


def test_approved_minutes_cannot_be_edited_and_a_correction_is_offered(chair_client, review):
    Meeting.objects.filter(pk=review.meeting.pk).update(
        minutes="Approved text", minutes_status=MinutesStatus.APPROVED, minutes_approved_by=review.chair,
        minutes_approved_at=at(datetime.date(2025, 4, 20)),
    )  # fmt: skip

    response = chair_client.post(review.url("minutes"), {"minutes": "Changed"}, follow=True)

    review.meeting.refresh_from_db()
    assert review.meeting.minutes == "Approved text"
    page = response.content.decode()
    assert "Approved minutes cannot be edited; record a correction instead." in page
    assert 'id="correction-form"' in page
    assert 'id="minutes-form"' not in page


def test_a_member_records_a_correction_of_approved_minutes(chair_client, review):
    Meeting.objects.filter(pk=review.meeting.pk).update(
        minutes="Approved text", minutes_status=MinutesStatus.APPROVED, minutes_approved_by=review.chair,
        minutes_approved_at=at(datetime.date(2025, 4, 20)),
    )  # fmt: skip

    response = chair_client.post(review.url("correction"), {"minutes": "Corrected text"})

    correction = Meeting.objects.get(corrects=review.meeting)
    assert correction.minutes == "Corrected text"
    assert response.url == reverse("governance:meeting", args=[correction.pk])
    assert "This record corrects the approved minutes" in chair_client.get(response.url).content.decode()


def test_circulating_empty_minutes_is_refused_with_the_reason(chair_client, review):
    response = chair_client.post(review.url("circulate"), follow=True)

    review.meeting.refresh_from_db()
    assert review.meeting.minutes_status == MinutesStatus.DRAFT
    assert "Write the minutes before circulating them." in response.content.decode()


def test_a_member_who_is_not_chair_cannot_approve(client, review):
    member = CommitteeMemberFactory(committee=review.committee).user
    Meeting.objects.filter(pk=review.meeting.pk).update(minutes="Text", minutes_status=MinutesStatus.CIRCULATED)
    client.force_login(member)
    assert 'data-action="approve"' not in client.get(review.url()).content.decode()

    response = client.post(review.url("approve"), {"confirm": "final"}, follow=True)

    review.meeting.refresh_from_db()
    assert review.meeting.minutes_status == MinutesStatus.CIRCULATED
    assert "Only the committee&#x27;s chair approves the minutes alone" in response.content.decode()


def test_only_the_chair_is_offered_to_approve_circulated_minutes_alone(chair_client, review):
    Meeting.objects.filter(pk=review.meeting.pk).update(minutes="Text", minutes_status=MinutesStatus.CIRCULATED)

    page = chair_client.get(review.url()).content.decode()

    assert 'data-action="approve"' in page
    assert 'data-action="vote"' not in page  # the chair was not recorded present


def test_a_member_records_a_decision_and_an_action_item_from_it(chair_client, review):
    held_with_quorum(review.meeting)
    chair_client.post(review.url("decision"), {"text": "The vendor presents a recovery plan."})
    decision = Decision.objects.get(meeting=review.meeting)
    assert decision.number == 1

    response = chair_client.post(
        review.url("action-item"),
        {"title": "Send the recovery plan", "owner": f"user:{review.chair.pk}", "due_date": "2025-05-15",
         "decision": decision.pk},
    )  # fmt: skip

    assert response.status_code == 302
    item = ActionItem.objects.get(meeting=review.meeting)
    assert (item.title, item.owner, item.decision, item.status) == (
        "Send the recovery plan",
        review.chair,
        decision,
        ActionStatus.OPEN,
    )


def test_an_action_item_may_be_owned_by_a_vendor_contact_member(chair_client, review):
    contact = CommitteeMemberFactory(committee=review.committee, vendor_contact=True).contact

    chair_client.post(
        review.url("action-item"), {"title": "Fix the IVR", "owner": f"contact:{contact.pk}", "due_date": "2025-05-15"}
    )

    assert ActionItem.objects.get(meeting=review.meeting).owner_contact == contact


def test_an_invalid_action_item_shows_the_form_errors(chair_client, review):
    response = chair_client.post(review.url("action-item"), {"title": "", "owner": "user:999999", "due_date": "x"})

    assert response.status_code == 400
    assert not ActionItem.objects.exists()
    assert "This field is required." in response.content.decode()


def test_a_member_closes_an_action_item(chair_client, review):
    item = ActionItemFactory(meeting=review.previous)

    response = chair_client.post(reverse("governance:action-close", args=[item.pk]), {"meeting": review.meeting.pk})

    item.refresh_from_db()
    assert item.status == ActionStatus.DONE
    assert response.url == review.url()


def test_a_member_starts_then_cancels_an_action_item_and_a_closed_one_cannot_start(chair_client, review):
    item = raised_at_the_previous_meeting(review, ActionItemFactory(meeting=review.previous))
    page = chair_client.get(review.url()).content.decode()
    assert reverse("governance:action-start", args=[item.pk]) in page

    chair_client.post(reverse("governance:action-start", args=[item.pk]), {"meeting": review.meeting.pk})
    item.refresh_from_db()
    assert item.status == ActionStatus.IN_PROGRESS
    chair_client.post(
        reverse("governance:action-cancel", args=[item.pk]), {"meeting": review.meeting.pk, "reason": "Superseded"}
    )
    item.refresh_from_db()
    assert item.status == ActionStatus.CANCELLED and item.closed_at is not None

    refused = chair_client.post(
        reverse("governance:action-start", args=[item.pk]), {"meeting": review.meeting.pk}, follow=True
    )
    item.refresh_from_db()
    assert item.status == ActionStatus.CANCELLED
    assert "cannot become" in refused.content.decode()


@pytest.mark.parametrize("change", ["action-start", "action-cancel"])
def test_a_vendor_member_cannot_start_or_cancel_an_action_item(client, review, vendor_member, change):
    item = ActionItemFactory(meeting=review.previous, owner=review.chair)
    client.force_login(vendor_member)

    response = client.post(reverse(f"governance:{change}", args=[item.pk]), {"meeting": review.meeting.pk})

    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN


def test_a_non_member_who_sees_the_committee_cannot_change_it(client, review):
    item = ActionItemFactory(meeting=review.previous)
    client.force_login(UserFactory(procurement=True))

    assert client.get(review.url()).status_code == 200
    assert 'id="minutes-form"' not in client.get(review.url()).content.decode()
    for action in (
        "propose-agenda",
        "minutes",
        "circulate",
        "approve",
        "correction",
        "decision",
        "action-item",
        "vote",
    ):
        assert client.post(review.url(action), {"minutes": "x", "text": "x"}).status_code == 403, action
    assert client.post(reverse("governance:action-close", args=[item.pk])).status_code == 403
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN
    assert not Decision.objects.exists()


def test_an_administrator_may_change_any_meeting(client, review):
    client.force_login(UserFactory(administrator=True))
    held_with_quorum(review.meeting)

    client.post(review.url("decision"), {"text": "Escalate to the executive committee."})

    assert Decision.objects.filter(meeting=review.meeting).count() == 1


def test_an_unknown_action_is_404(chair_client, review):
    assert chair_client.post(review.url("delete")).status_code == 404


# Vendor members: they read the record the customer keeps and vote on circulated minutes ----------------------


@pytest.fixture
def vendor_member(review):
    """A vendor user (the BPO's own staff) who sits on the committee and was present at the meeting."""
    user = VendorUserFactory(vendor=review.contract.vendor)
    seat = CommitteeMemberFactory(committee=review.committee, user=user, side=Side.VENDOR)
    AttendanceFactory(meeting=review.meeting, member=seat, status=AttendanceStatus.PRESENT)
    return user


@pytest.fixture
def customer_member(review):
    """A customer-side member (not the chair) present at the meeting."""
    seat = CommitteeMemberFactory(committee=review.committee)
    AttendanceFactory(meeting=review.meeting, member=seat, status=AttendanceStatus.PRESENT)
    return seat.user


def _set_minutes(review, status: str) -> None:
    approved = status == MinutesStatus.APPROVED
    Meeting.objects.filter(pk=review.meeting.pk).update(
        minutes="## Service levels\nCSL-1 missed in March.", minutes_status=status,
        minutes_approved_by=review.chair if approved else None,
        minutes_approved_at=at(datetime.date(2025, 4, 20)) if approved else None,
    )  # fmt: skip


def _record(review) -> dict:
    """What the customer's record of the meeting holds."""
    meeting = Meeting.objects.get(pk=review.meeting.pk)
    return {
        "minutes": (meeting.minutes, meeting.minutes_status),
        "corrections": Meeting.objects.filter(corrects=meeting).count(),
        "decisions": list(Decision.objects.filter(meeting=meeting).values_list("number", "text")),
        "agenda": list(meeting.agenda_items.values_list("title", flat=True)),
        "actions": list(ActionItem.objects.order_by("pk").values_list("title", "status")),
        "votes": MinutesApproval.objects.filter(meeting=meeting).count(),
    }


# action: (the minutes status in which a customer member makes it, its form)
MEETING_CHANGES = {
    "propose-agenda": (MinutesStatus.CIRCULATED, {}),
    "minutes": (MinutesStatus.CIRCULATED, {"minutes": "Credits for October waived by the client."}),
    "circulate": (MinutesStatus.DRAFT, {}),
    "approve": (MinutesStatus.CIRCULATED, {"confirm": "final"}),
    "correction": (MinutesStatus.APPROVED, {"minutes": "Credits for October waived by the client."}),
    "decision": (MinutesStatus.CIRCULATED, {"text": "Credits for October waived by the client."}),
    "action-item": (MinutesStatus.CIRCULATED, {"title": "Waive the October credits", "due_date": "2025-05-15"}),
}


@pytest.mark.parametrize("action", MEETING_CHANGES)
def test_a_vendor_member_cannot_change_the_meeting_and_nothing_changes(client, review, vendor_member, action):
    status, form = MEETING_CHANGES[action]
    _set_minutes(review, status)
    ActionItemFactory(meeting=review.previous, title="Client's action")
    before = _record(review)
    client.force_login(vendor_member)

    response = client.post(review.url(action), {**form, "owner": f"user:{vendor_member.pk}"})

    assert response.status_code == 403
    assert _record(review) == before


@pytest.mark.parametrize("action", MEETING_CHANGES)
def test_the_chair_still_makes_each_change_a_vendor_member_is_refused(chair_client, review, vendor_member, action):
    status, form = MEETING_CHANGES[action]
    _set_minutes(review, status)
    if action == "decision":
        held_with_quorum(review.meeting)
    before = _record(review)

    response = chair_client.post(review.url(action), {**form, "owner": f"user:{review.chair.pk}"}, follow=True)

    assert response.status_code == 200
    assert not [m for m in response.context["messages"] if m.level_tag == "error"]
    assert _record(review) != before


def test_a_customer_member_who_is_not_chair_still_keeps_the_record(client, review, customer_member, vendor_member):
    _set_minutes(review, MinutesStatus.CIRCULATED)
    client.force_login(customer_member)

    client.post(review.url("minutes"), {"minutes": "Corrected before approval."})
    client.post(review.url("decision"), {"text": "The vendor presents a recovery plan."})
    item = ActionItemFactory(meeting=review.previous)
    client.post(reverse("governance:action-close", args=[item.pk]), {"meeting": review.meeting.pk})

    record = _record(review)
    assert record["minutes"] == ("Corrected before approval.", MinutesStatus.DRAFT)
    assert record["decisions"] == [(1, "The vendor presents a recovery plan.")]
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE


def test_a_vendor_member_cannot_close_an_action_item_of_the_clients_staff(client, review, vendor_member):
    item = ActionItemFactory(meeting=review.previous, owner=review.chair)
    client.force_login(vendor_member)

    response = client.post(reverse("governance:action-close", args=[item.pk]), {"meeting": review.meeting.pk})

    assert response.status_code == 403
    item.refresh_from_db()
    assert (item.status, item.closed_at) == (ActionStatus.OPEN, None)


@pytest.mark.parametrize("status", [MinutesStatus.DRAFT, MinutesStatus.CIRCULATED, MinutesStatus.APPROVED])
def test_the_dashboard_of_a_vendor_member_shows_no_form_to_change_the_record(client, review, vendor_member, status):
    held_with_quorum(review.meeting)  # the vote is offered where the meeting made its quorum
    _set_minutes(review, status)
    item = ActionItemFactory(meeting=review.previous)
    client.force_login(vendor_member)

    response = client.get(review.url())

    assert response.status_code == 200
    page = response.content.decode()
    # A draft is the customer's working text: the vendor's members read the minutes once circulated.
    assert ("CSL-1 missed in March." in page) == (status != MinutesStatus.DRAFT)
    assert ("shown once circulated" in page) == (status == MinutesStatus.DRAFT)
    for form in ("minutes-form", "correction-form", "decision-form", "action-item-form"):
        assert f'id="{form}"' not in page, form
    for action in ("propose-agenda", "circulate", "approve"):
        assert f'data-action="{action}"' not in page, action
    assert reverse("governance:action-close", args=[item.pk]) not in page
    assert ('data-action="vote"' in page) == (status == MinutesStatus.CIRCULATED)
    assert client.get(reverse("governance:meeting-pack", args=[review.meeting.pk])).status_code == 200


def test_present_members_of_both_sides_approve_the_minutes_by_their_votes(
    client, review, vendor_member, customer_member
):
    _set_minutes(review, MinutesStatus.CIRCULATED)
    client.force_login(vendor_member)
    assert 'data-action="vote"' in client.get(review.url()).content.decode()

    response = client.post(review.url("vote"), follow=True)

    review.meeting.refresh_from_db()
    assert review.meeting.minutes_status == MinutesStatus.CIRCULATED
    page = response.content.decode()
    assert "Your approval of the minutes was recorded." in page
    assert 'data-action="vote"' not in page
    assert str(vendor_member) in page.split('id="minutes-votes">')[1].split("</p>")[0]
    assert client.post(review.url("minutes"), {"minutes": "Changed"}).status_code == 403

    client.force_login(customer_member)
    page = client.get(review.url()).content.decode()
    assert 'data-action="vote"' in page
    assert 'data-action="approve"' not in page
    response = client.post(review.url("vote"), follow=True)

    review.meeting.refresh_from_db()
    assert review.meeting.minutes_status == MinutesStatus.APPROVED
    assert review.meeting.minutes_approval_method == MinutesApprovalMethod.VOTE
    assert review.meeting.minutes == "## Service levels\nCSL-1 missed in March."
    assert "Every member present approved the minutes: they are approved." in response.content.decode()
    assert {approval.member.user for approval in MinutesApproval.objects.filter(meeting=review.meeting)} == {
        vendor_member,
        customer_member,
    }


def test_a_member_who_was_not_present_is_not_offered_the_vote_and_is_refused(client, review, vendor_member):
    _set_minutes(review, MinutesStatus.CIRCULATED)
    absent = CommitteeMemberFactory(committee=review.committee, user=VendorUserFactory(vendor=review.contract.vendor))
    AttendanceFactory(meeting=review.meeting, member=absent, status=AttendanceStatus.ABSENT)
    client.force_login(absent.user)
    assert 'data-action="vote"' not in client.get(review.url()).content.decode()

    response = client.post(review.url("vote"), follow=True)

    assert "Only members present at the meeting vote on its minutes." in response.content.decode()
    assert not MinutesApproval.objects.exists()
    review.meeting.refresh_from_db()
    assert review.meeting.minutes_status == MinutesStatus.CIRCULATED


def test_minutes_that_are_not_circulated_are_not_voted_on(client, review, vendor_member):
    _set_minutes(review, MinutesStatus.DRAFT)
    client.force_login(vendor_member)

    response = client.post(review.url("vote"), follow=True)

    assert "Only circulated minutes can be approved." in response.content.decode()
    assert not MinutesApproval.objects.exists()


# Query counts ------------------------------------------------------------------------------------------------


def _grow(review, start: int, stop: int) -> None:
    """More meetings, action items, service levels, attendees, decisions, findings and agenda items."""
    for index in range(start, stop):
        MeetingFactory(committee=review.committee, scheduled_for=at(datetime.date(2024, 1 + index, 5)))
        ActionItemFactory(meeting=review.previous, due_date=datetime.date(2025, 1, 1 + index))
        ServiceLevelFactory(contract=review.contract)
        AttendanceFactory(meeting=review.meeting)
        AgendaItemFactory(meeting=review.meeting, position=index + 1)
        Decision.objects.create(meeting=review.meeting, number=index + 1, text="x", created_by=review.chair)
        FindingFactory(audit__audit_right__contract=review.contract)
        CommitteeFactory(contract=review.contract)


@pytest.mark.parametrize("page", ["list", "committee", "meeting"])
def test_each_page_runs_the_same_number_of_queries_for_1_and_5_rows(client, count_queries, review, page):
    client.force_login(UserFactory(administrator=True))
    url = {
        "list": reverse("governance:list"),
        "committee": reverse("governance:committee", args=[review.committee.pk]),
        "meeting": review.url(),
    }[page]
    _grow(review, 0, 1)
    one = count_queries(client, url)

    _grow(review, 1, 5)

    assert count_queries(client, url) == one


# Holding or cancelling the meeting --------------------------------------------------------------------


def _planned(review) -> None:
    Meeting.objects.filter(pk=review.meeting.pk).update(status=MeetingStatus.PLANNED)


def test_the_chair_records_who_attended_and_the_meeting_is_held(chair_client, review, vendor_member):
    _planned(review)
    Attendance.objects.filter(meeting=review.meeting).delete()
    seats = list(CommitteeMember.objects.filter(committee=review.committee).order_by("pk"))
    vendor_seat = next(seat for seat in seats if seat.user == vendor_member)

    page = chair_client.get(review.url()).content.decode()
    form = {f"member_{seat.pk}": AttendanceStatus.PRESENT for seat in seats}
    form[f"member_{vendor_seat.pk}"] = AttendanceStatus.EXCUSED
    response = chair_client.post(review.url("attendance"), form, follow=True)

    assert 'id="attendance-form"' in page and 'id="cancel-form"' in page
    assert response.status_code == 200
    assert "The attendance was recorded: the meeting is held." in response.content.decode()
    review.meeting.refresh_from_db()
    assert review.meeting.status == MeetingStatus.HELD
    assert dict(Attendance.objects.filter(meeting=review.meeting).values_list("member", "status")) == {
        seat.pk: AttendanceStatus.EXCUSED if seat == vendor_seat else AttendanceStatus.PRESENT for seat in seats
    }
    assert 'id="cancel-form"' not in response.content.decode()


def test_an_attendance_the_service_refuses_is_shown_and_nothing_changes(chair_client, review):
    _planned(review)
    Meeting.objects.filter(pk=review.meeting.pk).update(scheduled_for=at(datetime.date(2099, 1, 5)))
    seats = CommitteeMember.objects.filter(committee=review.committee)

    response = chair_client.post(
        review.url("attendance"), {f"member_{seat.pk}": "present" for seat in seats}, follow=True
    )
    bad = chair_client.post(review.url("attendance"), {f"member_{seat.pk}": "late" for seat in seats})

    assert "The meeting is planned for 01/05/2099: record its attendance once it is held." in response.content.decode()
    assert 'id="attendance-form"' not in response.content.decode()  # offered from the meeting's day on
    assert 'id="cancel-form"' in response.content.decode()
    assert bad.status_code == 400
    assert not Attendance.objects.filter(meeting=review.meeting).exists()
    review.meeting.refresh_from_db()
    assert review.meeting.status == MeetingStatus.PLANNED


def test_the_chair_cancels_a_planned_meeting_with_a_reason(chair_client, review):
    _planned(review)

    blank = chair_client.post(review.url("cancel"), {"reason": ""})
    done = chair_client.post(review.url("cancel"), {"reason": "The vendor's site is closed"}, follow=True)

    assert blank.status_code == 400
    assert "This field is required." in blank.content.decode()
    assert "The meeting was cancelled." in done.content.decode()
    review.meeting.refresh_from_db()
    assert review.meeting.status == MeetingStatus.CANCELLED
    assert review.meeting.history.latest().history_change_reason == "Cancelled: The vendor's site is closed"
    assert 'id="attendance-form"' not in done.content.decode()


@pytest.mark.parametrize("action", ["attendance", "cancel"])
def test_a_vendor_member_neither_holds_nor_cancels_the_meeting(client, review, vendor_member, action):
    _planned(review)
    seats = CommitteeMember.objects.filter(committee=review.committee)
    client.force_login(vendor_member)

    page = client.get(review.url()).content.decode()
    response = client.post(review.url(action), {"reason": "x", **{f"member_{seat.pk}": "absent" for seat in seats}})

    assert 'id="attendance-form"' not in page and 'id="cancel-form"' not in page
    assert response.status_code == 403
    review.meeting.refresh_from_db()
    assert review.meeting.status == MeetingStatus.PLANNED
    assert list(Attendance.objects.filter(meeting=review.meeting).values_list("status", flat=True)) == ["present"]


# The pack reads no outside resource; the minutes show no outside image -------------------------------


def test_the_minutes_drop_images_from_other_sites_and_keep_links():
    from governance.minutes import render_minutes

    html = render_minutes(
        "![c](http://127.0.0.1:8199/x.png) ![p](//tracker.example/p.gif) <img src='/\\evil.example/y'> "
        "![logo](/static/img/logo.png) [the report](https://example.com/report)"
    )

    assert "127.0.0.1" not in html and "tracker.example" not in html and "evil.example" not in html
    assert '<img alt="logo" src="/static/img/logo.png">' in html
    assert '<a href="https://example.com/report" rel="noopener noreferrer">the report</a>' in html


def test_the_packs_renderer_reads_the_apps_static_files_and_nothing_else(monkeypatch):
    import urllib.request

    from config.pdf import StaticFilesOnly

    opened = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *args, **kwargs: opened.append(args))
    fetcher = StaticFilesOnly("http://testserver/")

    static = fetcher("http://testserver/static/governance/scorecard.js")
    for url in (
        "http://127.0.0.1:8199/x.png",
        "http://testserver/media/secret.pdf",
        "http://testserver/static/../config/settings/base.py",
        "file:///etc/passwd",
    ):
        with pytest.raises(ValueError):
            fetcher(url)

    assert static.read().strip() and static.content_type == "text/javascript"
    assert opened == []


def test_the_pack_of_minutes_naming_an_outside_image_requests_nothing(chair_client, review, monkeypatch):
    import urllib.request

    opened = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, *args, **kwargs: opened.append(args))
    Meeting.objects.filter(pk=review.meeting.pk).update(minutes="![c](http://127.0.0.1:8199/x.png)\n\nNotes.")

    response = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk]))

    assert response.content.startswith(b"%PDF")
    assert opened == []


# Quorum, penalties, findings as of the day, cancellations and corrections on the pages ---------------------


def test_the_dashboard_and_pack_say_whether_the_quorum_was_met_and_explain_the_net(chair_client, review):
    AttendanceFactory(meeting=review.meeting, status=AttendanceStatus.PRESENT)

    page = chair_client.get(review.url()).content.decode()
    pack = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk])).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pack)).pages)

    assert 'data-quorum="not-met"' in page and "Quorum not met: 1 member present of 2 needed" in page
    assert "Quorum not met" in text
    penalties = page.split('id="penalties"')[1].split("</table>")[0]
    assert "Earn-backs" in penalties and "Bonuses" in penalties and "200.00" in penalties
    assert "Earn-backs" in text and "Bonuses" in text
    assert 'id="decision-form"' not in page  # no decision without the quorum
    held_with_quorum(review.meeting)
    assert 'data-quorum="met"' in chair_client.get(review.url()).content.decode()


def test_the_penalties_of_the_months_give_the_adjustments_the_net_counts(chair_client, review):
    # A correction of an approved month carried into this statement: without its column the net does not add up.
    statement = review.statement
    statement.adjustments, statement.net = Decimal("14400.00"), statement.net + Decimal("14400.00")
    statement.save()

    page = chair_client.get(review.url()).content.decode()
    pack = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk])).content
    text = " ".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pack)).pages).split())

    penalties = page.split('id="penalties"')[1].split("</table>")[0]
    headers = penalties.split("</thead>")[0]
    assert headers.index("Bonuses") < headers.index("Adjustments") < headers.index(">Net<")
    row = penalties.split(f'data-statement="{statement.pk}"')[1].split("</tr>")[0]
    assert "€1,500.00" in row and "€14,400.00" in row and "€13,100.00" in row  # 200 − 1,500 + 14,400
    assert "Adjustments Net" in text and "€14,400.00 €13,100.00" in text


def test_a_past_meetings_findings_are_those_open_on_its_day(chair_client, review):
    contract = review.contract
    before = FindingFactory(
        audit__audit_right__contract=contract, title="Before", recorded_on=datetime.date(2025, 4, 1)
    )
    before.history.update(history_date=at(datetime.date(2025, 4, 1)))
    on_the_day = FindingFactory(
        audit__audit_right__contract=contract, title="On the day", recorded_on=datetime.date(2025, 4, 15)
    )
    on_the_day.history.update(history_date=at(datetime.date(2025, 4, 15)))
    # Recorded in March, entered in May (its history starts then): it was open on the meeting's day.
    entered_later = FindingFactory(
        audit__audit_right__contract=contract, title="Entered later", recorded_on=datetime.date(2025, 3, 20)
    )
    entered_later.history.update(history_date=at(datetime.date(2025, 5, 1)))
    after = FindingFactory(audit__audit_right__contract=contract, title="After", recorded_on=datetime.date(2025, 5, 1))
    after.history.update(history_date=at(datetime.date(2025, 5, 1)))

    response = chair_client.get(review.url())

    shown = [f.title for _label, _severity, found in response.context["findings_by_severity"] for f in found]
    assert sorted(shown) == ["Before", "Entered later", "On the day"]
    assert 'data-testid="findings-as-of"' in response.content.decode()


def test_a_cancelled_meetings_whole_reason_is_shown_on_its_dashboard_and_committee_page(chair_client, review):
    planned = MeetingFactory(committee=review.committee, scheduled_for=at(datetime.date(2099, 5, 15)))
    reason = "The vendor's delivery director is on leave and the March statement is still in review. " * 2

    chair_client.post(reverse("governance:meeting-action", args=[planned.pk, "cancel"]), {"reason": reason})

    dashboard = chair_client.get(reverse("governance:meeting", args=[planned.pk])).content.decode()
    committee = chair_client.get(reverse("governance:committee", args=[review.committee.pk])).content.decode()
    assert reason.strip().replace("'", "&#x27;") in dashboard
    assert reason.strip().replace("'", "&#x27;") in committee


def test_approved_minutes_show_no_action_item_form(chair_client, review):
    _set_minutes(review, MinutesStatus.APPROVED)

    page = chair_client.get(review.url()).content.decode()
    refused = chair_client.post(
        review.url("action-item"), {"title": "Late", "owner": f"user:{review.chair.pk}", "due_date": "2025-05-15"}
    )

    assert 'id="action-item-form"' not in page
    assert refused.status_code == 302
    assert not ActionItem.objects.filter(meeting=review.meeting).exists()


def test_a_correction_is_listed_as_the_correction_of_the_meeting_it_corrects(chair_client, review):
    _set_minutes(review, MinutesStatus.APPROVED)
    MeetingFactory(
        committee=review.committee,
        scheduled_for=at(datetime.date(2025, 5, 2)),
        status=MeetingStatus.HELD,
        corrects=review.meeting,
    )

    page = chair_client.get(reverse("governance:committee", args=[review.committee.pk])).content.decode()
    past = page.split('id="past-meetings"')[1].split("</table>")[0]
    [row] = [row for row in past.split("<tr>") if "Correction of the minutes of" in row]

    assert "<td>Correction" in row and "As at the corrected meeting" in row
    assert "Held" not in row and "No quorum" not in row


def test_a_past_meeting_whose_attendance_was_never_recorded_says_so_among_the_past_meetings(chair_client, review):
    lapsed = MeetingFactory(committee=review.committee, scheduled_for=at(datetime.date(2025, 5, 20)))

    page = chair_client.get(reverse("governance:committee", args=[review.committee.pk])).content.decode()

    past = page.split('id="past-meetings"')[1].split("</table>")[0]
    rows = {row.split('href="')[1].split('"')[0]: row for row in past.split("<tr>")[1:] if 'href="' in row}
    lapsed_row = rows[reverse("governance:meeting", args=[lapsed.pk])]
    assert "Planned" in lapsed_row and "Attendance not recorded yet." in lapsed_row
    assert "Attendance not recorded yet." not in rows[reverse("governance:meeting", args=[review.meeting.pk])]


def test_the_vote_of_a_vendor_contact_is_recorded_on_the_dashboard(chair_client, review):
    held_with_quorum(review.meeting)
    contact = CommitteeMemberFactory(committee=review.committee, vendor_contact=True)
    AttendanceFactory(meeting=review.meeting, member=contact, status=AttendanceStatus.PRESENT)
    _set_minutes(review, MinutesStatus.CIRCULATED)
    Meeting.objects.filter(pk=review.meeting.pk).update(minutes_circulation=1)

    page = chair_client.get(review.url()).content.decode()
    chair_client.post(review.url("contact-vote"), {"member": contact.pk})

    assert 'id="contact-vote-form"' in page
    approval = MinutesApproval.objects.get(meeting=review.meeting)
    assert (approval.member, approval.recorded_by) == (contact, review.chair)


def test_a_meeting_that_lacked_its_quorum_offers_no_vote_on_its_minutes(client, review, vendor_member):
    _set_minutes(review, MinutesStatus.CIRCULATED)  # the vendor member alone was present, of a quorum of 2
    client.force_login(vendor_member)

    page = client.get(review.url()).content.decode()

    assert 'data-action="vote"' not in page
    assert 'data-quorum="not-met"' in page


# Writing the agenda on the meeting page -------------------------------------------------------------


def _agenda(review) -> list[str]:
    return list(review.meeting.agenda_items.order_by("position").values_list("title", flat=True))


def test_a_member_writes_moves_and_removes_agenda_items_of_a_planned_meeting(chair_client, review):
    Meeting.objects.filter(pk=review.meeting.pk).update(
        status=MeetingStatus.PLANNED, scheduled_for=at(datetime.date(2099, 4, 15))
    )
    page = chair_client.get(review.url()).content.decode()
    assert 'id="agenda-form"' in page

    for title in ("Service levels", "Staffing", "Any other business"):
        added = chair_client.post(review.url("agenda-item"), {"title": title, "notes": f"About {title.lower()}"})
        assert added.status_code == 302
    items = {item.title: item for item in review.meeting.agenda_items.all()}
    chair_client.post(review.url("agenda-move"), {"item": items["Any other business"].pk, "direction": "up"})
    assert _agenda(review) == ["Service levels", "Any other business", "Staffing"]
    chair_client.post(review.url("agenda-move"), {"item": items["Service levels"].pk, "direction": "down"})
    removed = chair_client.post(review.url("agenda-remove"), {"item": items["Staffing"].pk}, follow=True)

    assert _agenda(review) == ["Any other business", "Service levels"]
    page = removed.content.decode()
    assert "“Staffing” was taken off the agenda." in page
    agenda = page.split('id="agenda"')[1].split("</ol>")[0]
    assert agenda.index("Any other business") < agenda.index("Service levels") and "About service levels" in agenda
    assert agenda.count('data-testid="agenda-remove"') == 2
    assert agenda.count('data-testid="agenda-up"') == agenda.count('data-testid="agenda-down"') == 1
    assert {row.history_user for row in AgendaItem.history.all()} == {review.chair}


def test_an_agenda_item_without_title_shows_the_form_error(chair_client, review):
    response = chair_client.post(review.url("agenda-item"), {"title": "", "notes": "x"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode().split('id="agenda-form"')[1]
    assert not review.meeting.agenda_items.exists()


def test_an_approved_or_cancelled_meetings_agenda_offers_no_change_and_refuses_one(chair_client, review):
    item = AgendaItemFactory(meeting=review.meeting, position=1, title="Service levels")
    for status, minutes in ((MeetingStatus.HELD, MinutesStatus.APPROVED), (MeetingStatus.CANCELLED, "draft")):
        Meeting.objects.filter(pk=review.meeting.pk).update(
            status=status, minutes_status=minutes, minutes_approved_by=review.chair, minutes_approved_at=timezone.now()
        )

        page = chair_client.get(review.url()).content.decode()
        refused = chair_client.post(review.url("agenda-remove"), {"item": item.pk}, follow=True)

        assert 'id="agenda-form"' not in page and 'data-testid="agenda-remove"' not in page
        assert "its agenda is closed" in refused.content.decode()
        assert _agenda(review) == ["Service levels"]


def test_a_vendor_member_neither_sees_nor_makes_agenda_changes(client, review, vendor_member):
    item = AgendaItemFactory(meeting=review.meeting, position=1, title="Service levels")
    client.force_login(vendor_member)

    page = client.get(review.url()).content.decode()
    responses = [
        client.post(review.url("agenda-item"), {"title": "Vendor's point"}),
        client.post(review.url("agenda-move"), {"item": item.pk, "direction": "down"}),
        client.post(review.url("agenda-remove"), {"item": item.pk}),
    ]

    assert 'id="agenda-form"' not in page and 'data-testid="agenda-remove"' not in page
    assert [response.status_code for response in responses] == [403, 403, 403]
    assert _agenda(review) == ["Service levels"]


def test_an_item_of_another_meetings_agenda_is_404(chair_client, review):
    other = AgendaItemFactory(meeting=review.previous, position=1)

    assert chair_client.post(review.url("agenda-remove"), {"item": other.pk}).status_code == 404
    assert chair_client.post(review.url("agenda-remove"), {"item": "x"}).status_code == 404
    assert AgendaItem.objects.filter(pk=other.pk).exists()


def test_proposing_when_nothing_is_new_is_information_not_success(chair_client, review):
    chair_client.post(review.url("propose-agenda"), follow=True)
    before = _agenda(review)

    response = chair_client.post(review.url("propose-agenda"), follow=True)

    [message] = list(response.context["messages"])
    assert message.level_tag == "info"
    assert message.message.startswith("Nothing to propose:")
    assert "0 agenda items" not in response.content.decode()
    assert _agenda(review) == before


# Cancelling and reopening an action item ----------------------------------------------------------------


def test_cancelling_an_action_item_asks_for_the_reason_and_shows_it(chair_client, review):
    item = ActionItemFactory(meeting=review.meeting, due_date=datetime.date(2099, 1, 1))
    url = reverse("governance:action-cancel", args=[item.pk])

    page = chair_client.get(review.url()).content.decode()
    refused = chair_client.post(url, {"meeting": review.meeting.pk, "reason": " "}, follow=True)
    item.refresh_from_db()
    assert item.status == ActionStatus.OPEN
    done = chair_client.post(url, {"meeting": review.meeting.pk, "reason": "Superseded by decision 2"}, follow=True)

    panel = page.split('data-testid="action-cancel-panel"')[1].split("</details>")[0]
    assert f'action="{url}"' in panel and 'name="reason"' in panel and "required" in panel
    assert "Say why the action item is cancelled." in refused.content.decode()
    item.refresh_from_db()
    assert (item.status, item.cancellation_reason) == (ActionStatus.CANCELLED, "Superseded by decision 2")
    actions = done.content.decode().split('id="meeting-actions"')[1].split("</table>")[0]
    assert "Superseded by decision 2" in actions


def test_a_done_or_cancelled_action_item_is_reopened_on_the_meeting_page(chair_client, review, vendor_member):
    item = ActionItemFactory(
        meeting=review.meeting,
        due_date=datetime.date(2099, 1, 1),
        status=ActionStatus.CANCELLED,
        closed_at=timezone.now(),
        cancellation_reason="Superseded",
    )
    url = reverse("governance:action-reopen", args=[item.pk])
    assert f'action="{url}"' in chair_client.get(review.url()).content.decode()

    chair_client.force_login(vendor_member)
    assert chair_client.post(url, {"meeting": review.meeting.pk}).status_code == 403
    chair_client.force_login(review.chair)
    response = chair_client.post(url, {"meeting": review.meeting.pk}, follow=True)

    item.refresh_from_db()
    assert (item.status, item.closed_at, item.cancellation_reason) == (ActionStatus.OPEN, None, "")
    assert "The action item is open again." in response.content.decode()
    assert item.history.latest().history_user == review.chair


# An action item's due date and overdue flag --------------------------------------------------------------


def test_an_action_item_due_before_the_meetings_day_is_refused(chair_client, review):
    page = chair_client.get(review.url()).content.decode()

    response = chair_client.post(
        review.url("action-item"),
        {"title": "Send the plan", "owner": f"user:{review.chair.pk}", "due_date": "2025-01-15"},
        follow=True,
    )

    assert 'min="2025-04-15"' in page.split('id="action-item-form"')[1].split("</form>")[0]
    assert "The action is due on the meeting&#x27;s day, 04/15/2025, or later." in response.content.decode()
    assert not ActionItem.objects.filter(meeting=review.meeting).exists()


def test_an_overdue_item_has_the_same_status_in_both_tables_of_the_page(chair_client, review):
    item = ActionItemFactory(meeting=review.meeting, title="Send the plan", due_date=datetime.date(2025, 5, 1))
    ActionItem.objects.filter(pk=item.pk).update(created_at=review.meeting.scheduled_for)  # raised in the meeting

    response = chair_client.get(review.url())

    page = response.content.decode()
    committee = page.split('id="open-actions"')[1].split("</table>")[0]
    meeting = page.split('id="meeting-actions"')[1].split("</table>")[0]
    for table in (committee, meeting):
        row = table.split(f'data-action-item="{item.pk}"')[1].split("</tr>")[0]
        assert 'data-action-status="open">Open</span>' in row
        assert 'data-testid="action-overdue">Overdue</span>' in row


# The minutes' votes and the chair's approval --------------------------------------------------------------


def test_votes_on_circulated_minutes_say_so_far_and_how_many_are_needed(client, review, vendor_member):
    held_with_quorum(review.meeting)  # the chair and the vendor member present: two votes needed
    _set_minutes(review, MinutesStatus.CIRCULATED)
    client.force_login(vendor_member)

    before = client.get(review.url()).content.decode()
    after = client.post(review.url("vote"), follow=True).content.decode()

    assert "No member has voted to approve yet." in before and "(0 of 2 votes needed" in before
    votes = after.split('id="minutes-votes">')[1].split("</p>")[0]
    assert f"Voted to approve so far: {vendor_member}" in votes
    assert "(1 of 2 votes needed: every member present approves.)" in votes
    assert "Approved by" not in votes


def test_approving_as_chair_asks_for_confirmation(chair_client, review):
    _set_minutes(review, MinutesStatus.CIRCULATED)

    page = chair_client.get(review.url()).content.decode()
    unconfirmed = chair_client.post(review.url("approve"), follow=True)

    panel = page.split('id="approve-panel"')[1].split("</details>")[0]
    assert 'data-action="approve-confirm"' in panel and 'name="confirm" value="final"' in panel
    assert "Confirm the approval: approved minutes are final." in unconfirmed.content.decode()
    review.meeting.refresh_from_db()
    assert review.meeting.minutes_status == MinutesStatus.CIRCULATED


# The pack's attendance and the meeting's date -------------------------------------------------------------


def test_the_pack_lists_who_was_present_excused_and_absent_with_the_quorum(chair_client, review):
    chair_seat = CommitteeMember.objects.get(user=review.chair)
    AttendanceFactory(meeting=review.meeting, member=chair_seat, status=AttendanceStatus.PRESENT)
    excused = AttendanceFactory(meeting=review.meeting, status=AttendanceStatus.EXCUSED)
    absent = AttendanceFactory(meeting=review.meeting, status=AttendanceStatus.ABSENT)

    pack = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk])).content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pack)).pages)
    text = " ".join(text.split())

    assert "Attendance" in text
    assert "Quorum not met: 1 member present of 2 needed" in text
    for member, status in ((chair_seat, "Present"), (excused.member, "Excused"), (absent.member, "Absent")):
        assert f"{member.user} {member.get_role_display()} {member.get_side_display()} {status}" in text


def test_the_pack_of_a_planned_meeting_says_the_attendance_is_not_recorded(chair_client, review):
    Meeting.objects.filter(pk=review.meeting.pk).update(status=MeetingStatus.PLANNED)

    pack = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk])).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pack)).pages)

    assert "Attendance not recorded yet." in text


def test_the_meetings_date_and_time_read_the_same_in_title_heading_and_pack(chair_client, review):
    when = "April 15, 2025, noon"  # 10:00 UTC in Paris, in the language's DATETIME_FORMAT

    page = chair_client.get(review.url()).content.decode()
    pack = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk])).content
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pack)).pages).split())

    title = page.split("<title>")[1].split("</title>")[0]
    heading = page.split("<h1")[1].split("</h1>")[0]
    breadcrumb = page.split('class="breadcrumb-item active" aria-current="page">')[1].split("</li>")[0]
    assert when in title and when in heading and breadcrumb == when
    assert "04/15/2025" not in title + heading
    assert f"Acme service review: pack for the meeting of {when}" in text


# The trend charts -------------------------------------------------------------------------------------------


def test_months_without_statements_show_a_sentence_instead_of_empty_charts(chair_client, review):
    review.statement.lines.all().delete()
    review.statement.delete()

    page = chair_client.get(review.url()).content.decode()

    assert 'id="charts-empty"' in page
    assert "scorecard-chart" not in page


def test_only_service_levels_with_a_month_to_draw_get_a_chart(chair_client, review):
    ServiceLevelFactory(contract=review.contract, code="CSL-9")  # no statement line in March

    response = chair_client.get(review.url())

    page = response.content.decode()
    drawn = [row.level.code for row in response.context["charted_rows"]]
    assert len(response.context["scorecard"]) == len(drawn) + 1 and "CSL-9" not in drawn
    assert page.count('class="scorecard-chart"') == len(drawn)
    assert 'id="charts-empty"' not in page


# QA review: a correction's page, discarding a draft correction, names, the meeting day's penalties ----------


def _correction(review, minutes: str = "Corrected: CSL-1 was met in March."):
    _set_minutes(review, MinutesStatus.APPROVED)
    return services.record_minutes_correction(meeting=review.meeting, minutes=minutes, actor=review.chair)


def test_an_empty_correction_is_refused_under_its_field_and_nothing_is_recorded(chair_client, review):
    _set_minutes(review, MinutesStatus.APPROVED)

    response = chair_client.post(review.url("correction"), {"minutes": " \r\n "})

    assert response.status_code == 400
    form = response.content.decode().split('id="correction-form"')[1].split("</form>")[0]
    assert "is-invalid" in form
    assert "Write the corrected minutes: a correction replaces the approved text with its own." in form
    assert not Meeting.objects.filter(corrects=review.meeting).exists()


def test_a_correction_presents_itself_as_the_correction_of_the_meetings_minutes(chair_client, review):
    held_with_quorum(review.meeting)
    correction = _correction(review)
    when = "April 15, 2025, noon"  # the corrected meeting's, not the day the correction was recorded

    page = chair_client.get(reverse("governance:meeting", args=[correction.pk])).content.decode()

    assert f"Correction of the minutes of {when}" in page.split("<title>")[1].split("</title>")[0]
    heading = page.split("<h1")[1].split("</h1>")[0]
    assert f"Acme service review: correction of the minutes of the meeting of {when}" in heading
    status = page.split('id="record-status">')[1].split("</div>")[0]
    assert "Correction of approved minutes, recorded on" in status
    assert "Held" not in status and "Quorum" not in status and "Video call" not in status
    assert reverse("governance:meeting", args=[review.meeting.pk]) in page.split('class="breadcrumb"')[1]
    # Its review, agenda, decisions and action items are the meeting's: none is shown nor offered here.
    for absent in ('id="scorecard"', 'id="penalties"', 'id="agenda"', 'id="decisions"', 'id="meeting-actions"'):
        assert absent not in page, absent
    for form in ("agenda-form", "decision-form", "action-item-form", "attendance-form"):
        assert f'id="{form}"' not in page, form
    assert 'data-action="propose-agenda"' not in page
    # Who votes on it (the members present at the meeting), its text, and what may be done with it.
    assert 'id="attendees"' in page and 'data-quorum="met"' in page
    assert 'id="minutes-form"' in page and 'data-action="circulate"' in page and 'id="discard-form"' in page


def test_the_pack_of_a_correction_names_it_and_carries_its_minutes_only(chair_client, review):
    correction = _correction(review)

    pack = chair_client.get(reverse("governance:meeting-pack", args=[correction.pk])).content
    text = " ".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pack)).pages).split())

    assert "Acme service review: correction of the minutes of the meeting of April 15, 2025, noon" in text
    assert "Corrected: CSL-1 was met in March." in text
    assert "Scorecard since the previous meeting" not in text and "Penalties of these months" not in text


def test_the_minutes_of_a_meeting_not_recorded_as_held_are_written_but_not_offered_for_circulation(
    chair_client, review
):
    planned = MeetingFactory(committee=review.committee, scheduled_for=at(datetime.date(2025, 5, 15)))
    services.update_minutes(meeting=planned, minutes="Draft notes", actor=review.chair)

    page = chair_client.get(reverse("governance:meeting", args=[planned.pk])).content.decode()

    assert 'id="minutes-form"' in page
    assert 'data-action="circulate"' not in page
    assert 'data-testid="circulate-disabled"' in page
    assert "Minutes are circulated after the meeting is held." in page


def test_the_pack_of_corrected_minutes_names_the_corrections_and_carries_the_approved_text(chair_client, review):
    correction = _correction(review)
    services.circulate_minutes(meeting=correction, actor=review.chair)
    services.approve_minutes_as_chair(meeting=correction, actor=review.chair)
    pending = services.record_minutes_correction(
        meeting=review.meeting, minutes="Corrected again: CSL-1 was met in March.", actor=review.chair
    )

    pack = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk])).content
    text = " ".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pack)).pages).split())

    # The approved minutes stand as they were, with what corrects them after them: never silently superseded.
    assert "CSL-1 missed in March." in text
    assert "Corrections of these minutes" in text
    when = timezone.localtime(correction.scheduled_for).strftime("%m/%d/%Y")
    assert f"Correction of {when}" in text and "(Approved)" in text and "(Draft)" in text
    assert "replaces the minutes above. Its text: Corrected: CSL-1 was met in March." in text
    assert "Corrected again" not in text  # a correction not approved yet is named, not carried
    assert pending.minutes_status == MinutesStatus.DRAFT


def test_the_committee_page_lists_a_correction_under_the_meeting_it_corrects(chair_client, review):
    correction = _correction(review)

    response = chair_client.get(reverse("governance:committee", args=[review.committee.pk]))

    assert [m.pk for m in response.context["past"]] == [review.meeting.pk, correction.pk, review.previous.pk]
    past = response.content.decode().split('id="past-meetings"')[1].split("</table>")[0]
    [row] = [row for row in past.split("<tr>") if 'data-testid="correction-of"' in row]
    link = row.split('data-testid="correction-of">')[1].split("</a>")[0]
    assert link == "Correction of the minutes of 04/15/2025"
    assert "recorded on" in row and "Held" not in row


def test_a_draft_correction_is_discarded_from_its_page_and_the_approved_minutes_stand(chair_client, review):
    correction = _correction(review)
    url = reverse("governance:meeting-action", args=[correction.pk, "discard-correction"])

    response = chair_client.post(url, follow=True)

    assert response.redirect_chain == [(review.url(), 302)]
    assert "The draft correction was discarded; the approved minutes stand." in response.content.decode()
    assert not Meeting.objects.filter(corrects=review.meeting).exists()
    review.meeting.refresh_from_db()
    assert (review.meeting.minutes, review.meeting.minutes_status) == (
        "## Service levels\nCSL-1 missed in March.",
        MinutesStatus.APPROVED,
    )
    assert 'id="correction-form"' in response.content.decode()  # a new correction may be recorded


def test_a_circulated_correction_offers_no_discard_and_is_not_discarded(chair_client, review, vendor_member):
    correction = _correction(review)
    url = reverse("governance:meeting-action", args=[correction.pk, "discard-correction"])
    chair_client.force_login(vendor_member)
    assert chair_client.post(url).status_code == 403
    chair_client.force_login(review.chair)
    services.circulate_minutes(meeting=correction, actor=review.chair)

    page = chair_client.get(reverse("governance:meeting", args=[correction.pk])).content.decode()
    response = chair_client.post(url, follow=True)

    assert 'id="discard-form"' not in page
    assert "This correction was circulated for approval" in response.content.decode()
    correction.refresh_from_db()
    assert correction.minutes_status == MinutesStatus.CIRCULATED


def test_a_vendor_user_member_is_named_with_their_vendor_on_the_pages_and_in_the_pack(chair_client, review):
    vendor = review.contract.vendor
    user = VendorUserFactory(vendor=vendor, first_name="Nadia", last_name="Benali")
    seat = CommitteeMemberFactory(committee=review.committee, user=user, side=Side.VENDOR)
    AttendanceFactory(meeting=review.meeting, member=seat, status=AttendanceStatus.PRESENT)
    item = ActionItemFactory(meeting=review.meeting, owner=user, due_date=datetime.date(2099, 1, 1))
    ActionItem.objects.filter(pk=item.pk).update(created_at=review.meeting.scheduled_for)
    named = f"Nadia Benali ({vendor})"

    dashboard = chair_client.get(review.url()).content.decode()
    committee = chair_client.get(reverse("governance:committee", args=[review.committee.pk])).content.decode()
    pack = chair_client.get(reverse("governance:meeting-pack", args=[review.meeting.pk])).content
    text = " ".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pack)).pages).split())

    attendees = dashboard.split('id="attendees"')[1].split("</ul>")[0]
    assert f"{named} <span" in attendees and "Member · Vendor" in attendees
    assert named in dashboard.split('id="meeting-actions"')[1].split("</table>")[0]
    assert named in committee.split('id="members"')[1].split("</ul>")[0]
    assert f"{named} Member Vendor Present" in text
    assert named in text.split("Open action items of the committee")[1]


def _dated(statement, when: datetime.datetime) -> None:
    """``statement``'s history as if it was computed at ``when``."""
    statement.history.update(history_date=when)


def test_a_past_meetings_penalties_are_those_of_its_day_and_one_computed_later_is_marked(chair_client, review):
    statement = review.statement
    pack_url = reverse("governance:meeting-pack", args=[review.meeting.pk])

    computed_today = chair_client.get(review.url()).content.decode()  # its history starts today: after the meeting
    _dated(statement, at(datetime.date(2025, 4, 5)))
    # After the meeting, its default line was waived, then it was approved.
    statement.status, statement.credits, statement.net = StatementStatus.APPROVED, Decimal("0.00"), Decimal("200.00")
    statement.approved_by, statement.approved_at = review.chair, at(datetime.date(2025, 5, 2))
    statement.save()
    statement.history.filter(history_type="~").update(history_date=at(datetime.date(2025, 5, 2)))
    page = chair_client.get(review.url()).content.decode()
    pack = chair_client.get(pack_url).content
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pack)).pages).split())

    marked = computed_today.split('id="penalties"')[1].split("</table>")[0]
    assert 'data-testid="computed-after-meeting">Computed after the meeting day; today:' in marked
    assert 'data-status="in_review">In review</span>' in marked
    penalties = page.split('id="penalties"')[1].split("</table>")[0]
    assert 'data-testid="penalties-as-of"' in page and "computed-after-meeting" not in penalties
    assert 'data-status="in_review">In review</span>' in penalties and "Approved" not in penalties
    assert "€1,500.00" in penalties and "−€1,300.00" in penalties  # the credit and net of that day
    assert "March 2025 In review €1,500.00" in text and "Computed after" not in text


def test_the_scorecard_marks_a_line_waived_by_the_meeting_day(chair_client, review):
    line = review.statement.lines.get(status="default")

    def scorecard() -> str:
        return chair_client.get(review.url()).content.decode().split('id="scorecard"')[1].split("</table>")[0]

    def dated(action: str, day: datetime.date) -> None:
        line.events.filter(action=action).update(created_at=at(day))

    statement_services.waive_line(line_id=line.pk, actor=review.chair, reason="Carrier outage")
    dated(StatementAction.LINE_WAIVED, datetime.date(2025, 4, 16))
    assert "line-waived" not in scorecard()  # waived the day after the meeting
    dated(StatementAction.LINE_WAIVED, datetime.date(2025, 4, 15))
    assert 'data-testid="line-waived">Waived</span>' in scorecard()

    # Withdrawn after the meeting: the meeting saw it waived. Withdrawn on its day: it did not.
    statement_services.withdraw_line_waiver(line_id=line.pk, actor=review.chair, reason="Outage was the vendor's")
    dated(StatementAction.LINE_WAIVER_WITHDRAWN, datetime.date(2025, 4, 16))
    assert 'data-testid="line-waived">Waived</span>' in scorecard()
    dated(StatementAction.LINE_WAIVER_WITHDRAWN, datetime.date(2025, 4, 15))
    assert "line-waived" not in scorecard()


def test_automatically_proposed_items_are_marked_so_only_while_the_meeting_is_planned(chair_client, review):
    AgendaItemFactory(meeting=review.meeting, position=1, title="Statement 2025-03", proposed_automatically=True)

    held = chair_client.get(review.url()).content.decode()
    Meeting.objects.filter(pk=review.meeting.pk).update(
        status=MeetingStatus.PLANNED, scheduled_for=at(datetime.date(2099, 4, 15))
    )
    planned = chair_client.get(review.url()).content.decode()

    assert "Proposed" not in held.split('id="agenda"')[1].split("</ol>")[0]
    agenda = planned.split('id="agenda"')[1].split("</ol>")[0]
    assert 'data-testid="proposed-automatically">Proposed automatically</span>' in agenda
