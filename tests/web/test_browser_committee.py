"""The meeting dashboard in a real browser: a committee member sees the scorecard chart drawn and
adds an action item; a vendor member finds no form to change the record and votes on the minutes.
Same Chromium and fixtures as tests/web/test_browser.py (no browser download)."""

import datetime

import pytest

from governance.choices import AttendanceStatus, MeetingStatus, MemberRole, MinutesStatus, Side
from governance.models import ActionItem, AgendaItem, Meeting, MinutesApproval
from tests.factories import (
    ActionItemFactory,
    AgendaItemFactory,
    AttendanceFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    MeetingFactory,
    UserFactory,
    VendorUserFactory,
)
from tests.web.conftest import computed_at, make_statement
from tests.web.test_browser import browser, page, shot, sign_in  # noqa: F401 - fixtures shared with that module

pytestmark = pytest.mark.django_db(transaction=True)

# True once some pixel of the canvas is not fully transparent: Chart.js has drawn on it.
CANVAS_HAS_PIXELS = """(canvas) => {
  const context = canvas.getContext("2d");
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  for (let index = 3; index < pixels.length; index += 4) {
    if (pixels[index] !== 0) return true;
  }
  return false;
}"""


def test_a_committee_member_reads_the_dashboard_and_adds_an_action_item(page, live_server):  # noqa: F811
    statement = make_statement()
    committee = CommitteeFactory(contract=statement.contract, name="Acme service review")
    member = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR)
    MeetingFactory(
        committee=committee,
        scheduled_for=datetime.datetime(2025, 3, 10, 10, tzinfo=datetime.UTC),
        status=MeetingStatus.HELD,
    )
    meeting = MeetingFactory(
        committee=committee,
        scheduled_for=datetime.datetime(2025, 4, 15, 10, tzinfo=datetime.UTC),
        status=MeetingStatus.HELD,
    )
    computed_at(statement, datetime.datetime(2025, 4, 5, 6, tzinfo=datetime.UTC))  # before the meeting

    sign_in(page, live_server, member.user)
    page.goto(f"{live_server.url}/committees/")
    page.click("#committee-table >> text=Acme service review")
    page.wait_for_selector("#past-meetings")
    page.click(f"a[href='/committees/meetings/{meeting.pk}/']")
    page.wait_for_selector("#scorecard")
    assert "Default" in page.inner_text("#scorecard")

    canvas = page.wait_for_selector("canvas.scorecard-chart")
    page.wait_for_function(f"({CANVAS_HAS_PIXELS})(document.querySelector('canvas.scorecard-chart'))")
    assert canvas.evaluate(CANVAS_HAS_PIXELS) is True
    shot(page, "committee-meeting-dashboard")

    page.fill("#action-item-form [name=title]", "Send the CSL-1 recovery plan")
    page.select_option("#action-item-form [name=owner]", f"user:{member.user_id}")
    page.fill("#action-item-form [name=due_date]", "2025-05-15")
    page.click("#action-item-form button[type=submit]")
    page.wait_for_selector("#meeting-actions >> text=Send the CSL-1 recovery plan")
    assert "The action item was added." in page.inner_text(".messages")
    shot(page, "committee-action-item-added")

    item = ActionItem.objects.get(meeting=meeting)
    assert (item.title, item.owner_id, item.due_date) == (
        "Send the CSL-1 recovery plan",
        member.user_id,
        datetime.date(2025, 5, 15),
    )


def test_a_vendor_member_reads_the_minutes_and_votes_to_approve_them(page, live_server):  # noqa: F811
    statement = make_statement()
    # The vendor member alone makes the quorum: the minutes are approved by their vote.
    committee = CommitteeFactory(contract=statement.contract, name="Acme service review", quorum=1)
    CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR)
    vendor_user = VendorUserFactory(vendor=statement.contract.vendor)
    seat = CommitteeMemberFactory(committee=committee, user=vendor_user, side=Side.VENDOR)
    meeting = MeetingFactory(
        committee=committee,
        scheduled_for=datetime.datetime(2025, 4, 15, 10, tzinfo=datetime.UTC),
        status=MeetingStatus.HELD,
        minutes="## Service levels\nCSL-1 missed in March.",
        minutes_status=MinutesStatus.CIRCULATED,
    )
    AttendanceFactory(meeting=meeting, member=seat, status=AttendanceStatus.PRESENT)
    ActionItemFactory(meeting=meeting, title="Send the CSL-1 recovery plan")

    sign_in(page, live_server, vendor_user)
    page.goto(f"{live_server.url}/committees/meetings/{meeting.pk}/")
    page.wait_for_selector("#minutes >> text=CSL-1 missed in March.")
    for selector in ("#minutes-form", "#decision-form", "#action-item-form", "[data-action=propose-agenda]"):
        assert page.query_selector(selector) is None, selector
    assert page.query_selector("#open-actions button") is None
    shot(page, "committee-vendor-member-dashboard")

    page.click("[data-action=vote]")
    page.wait_for_selector("[data-minutes-status=approved]")
    assert "Every member present approved the minutes: they are approved." in page.inner_text(".messages")
    shot(page, "committee-vendor-member-voted")

    meeting = Meeting.objects.get(pk=meeting.pk)
    assert (meeting.minutes_status, meeting.minutes) == (
        MinutesStatus.APPROVED,
        "## Service levels\nCSL-1 missed in March.",
    )
    assert MinutesApproval.objects.get().member == seat


# The chart's legend names each line by a line: solid for the measured values, dashed for the target.
LEGEND_ITEMS = """(canvas) => Chart.getChart(canvas).legend.legendItems.map(
  (item) => [item.text, item.pointStyle, item.lineDash || []]
)"""
# True when the page is no wider than the window (nothing to scroll sideways).
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _review_with_a_record():
    """A held April meeting reviewing March, with an agenda, attendance, action items of both tables and
    circulated minutes: the dashboard with all its tables and forms."""
    statement = make_statement()
    committee = CommitteeFactory(contract=statement.contract, name="Acme service review")
    chair = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR)
    previous = MeetingFactory(
        committee=committee,
        scheduled_for=datetime.datetime(2025, 3, 10, 10, tzinfo=datetime.UTC),
        status=MeetingStatus.HELD,
    )
    meeting = MeetingFactory(
        committee=committee,
        scheduled_for=datetime.datetime(2025, 4, 15, 10, tzinfo=datetime.UTC),
        status=MeetingStatus.HELD,
        minutes="## Service levels\nCSL-1 missed in March.",
        minutes_status=MinutesStatus.CIRCULATED,
    )
    computed_at(statement, datetime.datetime(2025, 4, 5, 6, tzinfo=datetime.UTC))  # before the meeting
    AttendanceFactory(meeting=meeting, member=chair, status=AttendanceStatus.PRESENT)
    AgendaItemFactory(meeting=meeting, position=1, title="Statement of March: credits and the cap")
    AgendaItemFactory(meeting=meeting, position=2, title="Staffing plan for the summer peak")
    older = ActionItemFactory(meeting=previous, title="Root-cause analysis of the telephony outage")
    ActionItem.objects.filter(pk=older.pk).update(created_at=previous.scheduled_for)
    ActionItemFactory(
        meeting=meeting, title="Send the CSL-1 recovery plan", owner=chair.user, due_date=datetime.date(2025, 5, 15)
    )
    return committee, chair, meeting


def test_the_trend_charts_legend_shows_line_swatches(page, live_server):  # noqa: F811
    _committee, chair, meeting = _review_with_a_record()

    sign_in(page, live_server, chair.user)
    page.goto(f"{live_server.url}/committees/meetings/{meeting.pk}/")
    canvas = page.wait_for_selector("canvas.scorecard-chart")
    page.wait_for_function(f"({CANVAS_HAS_PIXELS})(document.querySelector('canvas.scorecard-chart'))")

    assert canvas.evaluate(LEGEND_ITEMS) == [["Measured", "line", []], ["Target", "line", [6, 4]]]
    shot(page, "committee-chart-legend")


def test_the_meeting_and_committee_pages_do_not_scroll_sideways_on_a_phone(page, live_server):  # noqa: F811
    committee, chair, meeting = _review_with_a_record()

    sign_in(page, live_server, chair.user)
    page.set_viewport_size({"width": 390, "height": 844})
    for url, ready in (
        (f"/committees/meetings/{meeting.pk}/", "#meeting-actions"),
        (f"/committees/{committee.pk}/", "#past-meetings"),
    ):
        page.goto(f"{live_server.url}{url}")
        page.wait_for_selector(ready)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), (url, widths)
        shot(page, "committee-phone-" + url.strip("/").replace("/", "-"))


def test_a_member_writes_the_agenda_and_cancels_an_action_with_a_reason(page, live_server):  # noqa: F811
    _committee, chair, meeting = _review_with_a_record()
    item = ActionItem.objects.get(meeting=meeting)

    sign_in(page, live_server, chair.user)
    page.goto(f"{live_server.url}/committees/meetings/{meeting.pk}/")
    page.click("[data-action=add-agenda-item]")
    page.fill("#agenda-form [name=title]", "Any other business")
    page.click("#agenda-form button[type=submit]")
    page.wait_for_selector("#agenda >> text=Any other business")
    page.click("#agenda li:nth-child(3) [data-testid=agenda-up]")
    page.wait_for_selector("#agenda li:nth-child(2) >> text=Any other business")
    assert list(AgendaItem.objects.filter(meeting=meeting).order_by("position").values_list("title", flat=True)) == [
        "Statement of March: credits and the cap",
        "Any other business",
        "Staffing plan for the summer peak",
    ]

    row = f"#meeting-actions [data-action-item='{item.pk}']"
    page.click(f"{row} [data-testid=action-cancel]")
    page.fill(f"{row} textarea[name=reason]", "Superseded by the recovery plan of decision 2")
    page.click(f"{row} [data-testid=action-cancel-confirm]")
    page.wait_for_selector(f"{row} >> text=Superseded by the recovery plan of decision 2")
    shot(page, "committee-action-cancelled")
    item.refresh_from_db()
    assert (item.status, item.cancellation_reason) == ("cancelled", "Superseded by the recovery plan of decision 2")

    page.click(f"{row} [data-testid=action-reopen]")
    page.wait_for_selector(f"{row} [data-action-status=open]")
    item.refresh_from_db()
    assert item.status == "open"


def test_a_decision_being_recorded_cannot_be_sent_twice(page, live_server):  # noqa: F811
    from governance.models import Decision
    from tests.governance.helpers import held_with_quorum

    committee = CommitteeFactory(contract=make_statement().contract)
    chair = CommitteeMemberFactory(committee=committee, role=MemberRole.CHAIR)
    meeting = held_with_quorum(
        MeetingFactory(committee=committee, scheduled_for=datetime.datetime(2025, 4, 15, 10, tzinfo=datetime.UTC))
    )
    held = []  # the decision's POST, held as a slow server would keep it
    page.route("**/decision/", lambda route: held.append(route))

    sign_in(page, live_server, chair.user)
    page.goto(f"{live_server.url}/committees/meetings/{meeting.pk}/")
    # The answer goes to a frame, so that the page stays to be looked at while the POST is on its way.
    page.evaluate(
        """() => {
        const frame = document.createElement("iframe");
        frame.name = "answer";
        document.body.append(frame);
        document.querySelector("#decision-form").target = "answer";
    }"""
    )
    page.fill("#decision-form textarea[name=text]", "Adopt the recovery plan.")
    page.click("#decision-form button[type=submit]")
    page.wait_for_function("document.querySelector('#decision-form button[type=submit]').disabled")
    page.click("#decision-form button[type=submit]", force=True)  # a second, impatient click
    page.wait_for_timeout(300)
    assert len(held) == 1
    with page.expect_response("**/decision/"):
        held[0].continue_()
    page.wait_for_timeout(300)  # a second request, had one been sent, would be answered by now

    assert list(Decision.objects.filter(meeting=meeting).values_list("text", flat=True)) == ["Adopt the recovery plan."]


def test_the_header_of_a_committee_member_fits_a_laptop_screen_in_french(page, live_server):  # noqa: F811
    # The longest role and menu labels: the menu wraps onto rows, "Sign out" stays on screen.
    member = UserFactory(committee_member=True, first_name="Hélène", last_name="Girard")
    page.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, member)

    shot(page, "header-committee-fr-1366")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, overflow
    sign_out = page.get_by_role("button", name="Se déconnecter").bounding_box()
    assert sign_out["x"] + sign_out["width"] <= 1366, sign_out
