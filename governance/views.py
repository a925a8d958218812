"""Web pages of steering committees: the committees, a committee's meetings, and a meeting's dashboard.

Every queryset goes through accounts.scoping.restrict, so a committee the user may not see is a 404.
Vendor users see only the committees they sit on. Who changes a committee's record (plans a meeting,
changes it, its agenda, minutes, decisions and action items) is decided by governance.permissions, as in the
API (customer-side members and administrators; vendor members only vote on circulated minutes; the
chair's approval is the service's to refuse); each change calls one governance service and shows the
service's refusal on the page.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.scoping import restrict
from audits.choices import Severity
from audits.models import Finding
from config.admin import show_refusal
from config.formats import long_datetime
from config.local_time import LocalDateTimeField
from contracts.dates import add_months
from contracts.models import Contract
from contracts.selectors import with_next_notice_deadline
from governance.choices import ActionStatus, AttendanceStatus, MeetingStatus, MinutesStatus, Side
from governance.minutes import render_minutes
from governance.models import (
    DECISION_MAX,
    ActionItem,
    AgendaItem,
    Attendance,
    Committee,
    CommitteeMember,
    Decision,
    Meeting,
    MinutesApproval,
)
from governance.permissions import (
    is_chair,
    may_change_meeting,
    may_change_record_of,
    may_vote_on_minutes,
    members_seen_by,
    seat_of,
)
from governance.selectors import (
    ACTION_OWNER,
    MEMBER_NAME,
    NOTICE_DEADLINE_HORIZON_DAYS,
    REVIEW_MONTHS_MAX,
    committees_with_compliance,
    is_overdue,
    line_versions_as_of,
    meeting_contracts,
    meeting_day,
    meeting_terms,
    minutes_withheld,
    open_disputes,
    open_findings_as_of,
    previous_held_meeting,
    quorum_is_met,
    review_start,
    statement_versions_as_of,
    with_present_count,
)
from governance.services import (
    CANCEL_REASON_MAX,
    add_agenda_item,
    approve_minutes_as_chair,
    cancel_action_item,
    cancel_meeting,
    circulate_minutes,
    close_action_item,
    create_action_item,
    discard_minutes_correction,
    move_agenda_item,
    plan_meeting,
    propose_agenda,
    record_attendance,
    record_contact_vote,
    record_decision,
    record_minutes_correction,
    record_minutes_vote,
    remove_agenda_item,
    reopen_action_item,
    start_action_item,
    update_minutes,
)
from sla_tracker.choices import StatementAction
from sla_tracker.exports import PDF
from sla_tracker.models import ServiceLevel, StatementEvent
from sla_tracker.views import visible_lines, visible_statements

SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]


# Scoped querysets -----------------------------------------------------------------------------------


def visible_committees(user):
    """The committees `user` may see; a vendor user sees only those they sit on."""
    committees = restrict(Committee.objects.all(), user)
    if user.is_vendor_user:
        committees = committees.filter(members__user=user)
    return committees


def visible_meetings(user):
    return restrict(Meeting.objects.all(), user).filter(committee__in=visible_committees(user))


def get_meeting(user, pk: int) -> Meeting:
    return get_object_or_404(
        visible_meetings(user).select_related("committee__contract__vendor", "committee__vendor", "corrects"), pk=pk
    )


def committee_members(user, committee_id: int) -> list[CommitteeMember]:
    return list(members_seen_by(user, committee_id).select_related(*MEMBER_NAME))


# The committees ---------------------------------------------------------------------------------------


def _with_next_meeting(committees, now: datetime.datetime):
    upcoming = Meeting.objects.filter(
        committee=OuterRef("pk"), status=MeetingStatus.PLANNED, scheduled_for__gte=now, corrects__isnull=True
    ).order_by("scheduled_for")
    return committees.annotate(
        next_meeting_at=Subquery(upcoming.values("scheduled_for")[:1]),
        next_meeting_id=Subquery(upcoming.values("pk")[:1]),
    )


@login_required
@require_GET
def committee_list(request):
    """The user's active committees with their tier, cadence, last and next meeting, and compliance."""
    committees = _with_next_meeting(visible_committees(request.user).filter(is_active=True), timezone.now())
    return render(
        request,
        "governance/committee_list.html",
        {"committees": committees_with_compliance(committees), "active_section": "committees"},
    )


class PlanMeetingForm(forms.Form):
    scheduled_for = LocalDateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
    )
    location = forms.CharField(
        label=_("Location"), max_length=200, required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )


@login_required
@require_http_methods(["GET", "POST"])
def committee_detail(request, pk: int):
    """A committee's members and meetings (next first, then past), and whether its cadence is kept;
    those who keep its record plan the next meeting here (POST)."""
    rows = committees_with_compliance(
        _with_next_meeting(visible_committees(request.user).filter(pk=pk), timezone.now())
    )
    if not rows:
        raise Http404
    committee = rows[0]
    meetings = list(
        with_present_count(restrict(Meeting.objects.filter(committee=committee), request.user))
        .select_related("corrects")
        .order_by("-scheduled_for")
    )
    now = timezone.now()
    for meeting in meetings:
        # A correction is no meeting: it is shown as the correction of the one it corrects.
        meeting.lacked_quorum = (
            meeting.status == MeetingStatus.HELD
            and meeting.corrects_id is None
            and not quorum_is_met(
                meeting_terms(meeting, committee),
                client_present=meeting.client_present,
                vendor_present=meeting.vendor_present,
            )
        )
    members = committee_members(request.user, committee.pk)
    may_plan = may_change_meeting(request.user, members)
    form = None
    if may_plan and committee.is_active:
        form = PlanMeetingForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                meeting = plan_meeting(committee=committee, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(request, _("The meeting was planned."))
                return redirect("governance:meeting", pk=meeting.pk)
    elif request.method == "POST":
        if not may_plan:
            raise PermissionDenied
        # A page opened before the committee was made inactive: say why nothing was planned.
        messages.error(request, _("The committee is inactive: no meeting is planned for it."))
        return redirect("governance:committee", pk=committee.pk)
    return render(
        request,
        "governance/committee_detail.html",
        {
            "committee": committee,
            "plan_form": form,
            "members": members,
            "upcoming": [m for m in reversed(meetings) if m.status == MeetingStatus.PLANNED and m.scheduled_for >= now],
            "past": _corrections_under_their_meeting(
                [m for m in meetings if not (m.status == MeetingStatus.PLANNED and m.scheduled_for >= now)]
            ),
            "active_section": "committees",
        },
    )


def _corrections_under_their_meeting(meetings: list[Meeting]) -> list[Meeting]:
    """``meetings`` (newest first) with each correction right under the meeting whose minutes it corrects,
    oldest first, rather than among the meetings at the time it was recorded. A correction stays with its
    meeting's committee (a held meeting keeps its committee: governance.services.update_meeting)."""
    corrections: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in sorted((m for m in meetings if m.corrects_id), key=lambda m: (m.scheduled_for, m.pk)):
        corrections[meeting.corrects_id].append(meeting)
    return [row for meeting in meetings if not meeting.corrects_id for row in (meeting, *corrections[meeting.pk])]


# A meeting's dashboard --------------------------------------------------------------------------------


# The most months a meeting's scorecard shows: after a long lapse, the last two years.
SCORECARD_MONTHS_MAX = REVIEW_MONTHS_MAX


def scorecard_months(meeting: Meeting, previous: Meeting | None) -> list[datetime.date]:
    """The months the meeting reviews, as the proposed agenda does (governance.selectors.review_start), up to the
    month before this meeting."""
    end = meeting_day(meeting.scheduled_for).replace(day=1)
    start = review_start(meeting, previous)
    months_list = []
    month = start
    while month < end:
        months_list.append(month)
        month = add_months(month, 1)
    return months_list


@dataclass(frozen=True)
class ScorecardCell:
    month: datetime.date
    line: Any
    # Waived by the end of the day the dashboard stands on (a waiver is never undone: sla_tracker.services).
    waived: bool = False


@dataclass(frozen=True)
class ScorecardRow:
    level: ServiceLevel
    cells: list[ScorecardCell]

    @property
    def element_id(self) -> str:
        return f"scorecard-{self.level.pk}"

    @property
    def has_data(self) -> bool:
        """Whether any month has a statement line to draw (a chart without one is an empty frame)."""
        return any(cell.line is not None for cell in self.cells)

    @property
    def chart(self) -> dict[str, Any]:
        """The measured value against the target of each month, for the trend chart."""
        return {
            "labels": [date_format(cell.month, "M Y") for cell in self.cells],
            "measured": [
                float(cell.line.measured) if cell.line and cell.line.measured is not None else None
                for cell in self.cells
            ],
            "target": [
                float(cell.line.terms.expected) if cell.line and cell.line.terms else None for cell in self.cells
            ],
            "measuredLabel": str(_("Measured")),
            "targetLabel": str(_("Target")),
        }


def scorecard(
    user, contracts: list[Contract], months: list[datetime.date], *, day_end: datetime.datetime, past: bool = False
) -> list[ScorecardRow]:
    """Each service level's line of each month; a line waived before ``day_end`` is marked so. ``past``: the lines as
    they stood at ``day_end`` (their history: a line computed later shows as none), else as they stand now."""
    levels = list(
        restrict(ServiceLevel.objects.filter(contract__in=contracts), user)
        .select_related("contract")
        .order_by("contract__reference", "display_order", "code")
    )
    lines = {}
    if months:
        if past:
            statements = visible_statements(user).filter(contract__in=contracts, month__range=(months[0], months[-1]))
            found = line_versions_as_of(statements, day_end)
        else:
            found = (
                visible_lines(user)
                .filter(statement__contract__in=contracts, statement__month__range=(months[0], months[-1]))
                .select_related("statement", "terms")
            )
        for line in found:
            lines[(line.service_level_id, line.statement.month)] = line
    # A line's id, not its pk: a history version's pk is the version's own.
    waived = waived_lines_at([line.id for line in lines.values()], day_end)
    return [
        ScorecardRow(level=level, cells=[_cell(month, lines.get((level.pk, month)), waived) for month in months])
        for level in levels
    ]


def _cell(month: datetime.date, line, waived: set[int]) -> ScorecardCell:
    return ScorecardCell(month, line, waived=line is not None and line.id in waived)


def waived_lines_at(line_ids: list[int], moment: datetime.datetime) -> set[int]:
    """Which of the lines ``line_ids`` stood waived just before ``moment``: those whose last waiver event before
    it is a waiver, not its withdrawal (a line's own fields say only how it stands now)."""
    last: dict[int, str] = {}
    for line_id, action in (
        StatementEvent.objects.filter(
            line_id__in=line_ids,
            action__in=(StatementAction.LINE_WAIVED, StatementAction.LINE_WAIVER_WITHDRAWN),
            created_at__lt=moment,
        )
        .order_by("created_at", "id")
        .values_list("line_id", "action")
    ):
        last[line_id] = action
    return {line_id for line_id, action in last.items() if action == StatementAction.LINE_WAIVED}


def meeting_details(user, meeting: Meeting, *, today: datetime.date | None = None) -> dict[str, Any]:
    """Everything the dashboard and its PDF pack show, in a fixed number of queries. A correction of approved
    minutes shows its corrected minutes and who votes on them, not a review of its own."""
    today = today or timezone.localdate()
    committee = meeting.committee
    contracts = with_next_notice_deadline(
        restrict(meeting_contracts(meeting), user).select_related("vendor").order_by("reference"), today=today
    )
    # A past meeting's review as it stood at the end of its day; a coming meeting's as it stands today.
    as_of = min(today, meeting_day(meeting.scheduled_for))
    review = {} if meeting.corrects_id else _review(user, meeting, contracts, today=today, as_of=as_of)
    members = committee_members(user, committee.pk)
    # A correction of approved minutes is voted by the members present at the meeting it corrects.
    attended = meeting.corrects if meeting.corrects_id else meeting
    attendances = list(
        restrict(Attendance.objects.filter(meeting=attended), user).select_related(
            "member__user__vendor", "member__contact__vendor"
        )
    )
    present = [row.member for row in attendances if row.status == AttendanceStatus.PRESENT]
    quorum_met = None
    # The terms in force on the meeting's day, not the committee's current ones.
    quorum_terms = meeting_terms(attended, committee)
    if attended.status == MeetingStatus.HELD:
        sides = [member.side for member in present]
        quorum_met = quorum_is_met(
            quorum_terms, client_present=sides.count(Side.CLIENT), vendor_present=sides.count(Side.VENDOR)
        )
    minutes_approvals = list(
        restrict(MinutesApproval.objects.filter(meeting=meeting, circulation=meeting.minutes_circulation), user)
        .select_related("member__user__vendor", "member__contact__vendor")
        .order_by("approved_at", "pk")
    )
    voted = {approval.member_id for approval in minutes_approvals}
    meeting_actions = list(
        restrict(ActionItem.objects.filter(meeting=meeting), user)
        .select_related(*ACTION_OWNER, "decision")
        .order_by("due_date", "pk")
    )
    # One overdue flag wherever an item is shown: its status is today's (open and past due today).
    for item in (*review.get("open_actions", ()), *meeting_actions):
        item.is_overdue = is_overdue(item, today=today)
    return {
        **review,
        "meeting": meeting,
        "committee": committee,
        "contracts": contracts,
        # The meeting's date and time, in one localized format wherever the page or its pack names it; a
        # correction is named by the meeting whose minutes it corrects.
        "meeting_when": long_datetime(timezone.localtime(attended.scheduled_for)),
        "agenda": list(restrict(AgendaItem.objects.filter(meeting=meeting), user).order_by("position")),
        "attendances": attendances,
        "present_count": len(present),
        "quorum_met": quorum_met,
        "quorum_terms": quorum_terms,
        # Present vendor contacts who do not sign in, whose vote those who keep the record enter.
        "contact_voters": [member for member in present if member.contact_id and member.pk not in voted],
        "minutes_html": "" if minutes_withheld(user, meeting) else render_minutes(meeting.minutes),
        "minutes_withheld": minutes_withheld(user, meeting),
        "decisions": list(
            restrict(Decision.objects.filter(meeting=meeting), user).select_related("created_by").order_by("number")
        ),
        "meeting_actions": meeting_actions,
        **_corrections(user, meeting),
        "minutes_approvals": minutes_approvals,
        "members": members,
        "today": today,
        "as_of": as_of,
        "horizon_days": NOTICE_DEADLINE_HORIZON_DAYS,
        "cancel_reason_max": CANCEL_REASON_MAX,
    }


def _review(user, meeting: Meeting, contracts, *, today: datetime.date, as_of: datetime.date) -> dict[str, Any]:
    """What a meeting reviews: the scorecard and penalties of the months since the previous meeting, the open
    disputes, action items and findings, and the notice dates, as they stood at the end of the day ``as_of``
    (what was raised by then and not yet settled)."""
    day_end = timezone.make_aware(datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time()))
    previous = previous_held_meeting(meeting)
    months = scorecard_months(meeting, previous)
    statements = []
    if months:
        statements = list(
            visible_statements(user)
            .filter(contract__in=contracts, month__gte=months[0], month__lte=months[-1])
            .select_related("contract")
            .order_by("contract__reference", "month")
        )
    # A past meeting's statements with their status and totals of its day, from their history; one computed
    # after that day has none then (the page shows it as it stands today, marked so).
    versions = statement_versions_as_of(statements, day_end) if as_of < today else {s.pk: s for s in statements}
    for statement in statements:
        statement.then = versions.get(statement.pk)
    disputes = open_disputes(contracts, user=user, as_of=day_end)
    open_actions = list(
        restrict(ActionItem.objects.filter(meeting__committee=meeting.committee), user)
        .filter(created_at__lt=day_end)
        .filter(Q(status__in=ActionStatus.open_values()) | Q(closed_at__gte=day_end))
        .select_related(*ACTION_OWNER, "meeting")
        .order_by("due_date", "pk")
    )
    # Findings likewise: those recorded by the end of the day and not settled then (their history).
    findings = list(
        open_findings_as_of(restrict(Finding.objects.filter(audit__audit_right__contract__in=contracts), user), day_end)
        .select_related("audit__audit_right__contract", "owner")
        .order_by("due_date", "pk")
    )
    horizon = today + datetime.timedelta(days=NOTICE_DEADLINE_HORIZON_DAYS)
    for contract in contracts:
        window = contract.next_renewal
        contract.notice_soon = bool(window and window.notice_deadline <= horizon)
    rows = scorecard(user, contracts, months, day_end=day_end, past=as_of < today)
    return {
        "previous": previous,
        "months": months,
        "scorecard": rows,
        "charted_rows": [row for row in rows if row.has_data],
        "statements": statements,
        "disputes": disputes,
        "open_actions": open_actions,
        "findings_by_severity": [
            (Severity(severity).label, severity, [finding for finding in findings if finding.severity == severity])
            for severity in SEVERITY_ORDER
        ],
        "findings_count": len(findings),
    }


def _corrections(user, meeting: Meeting) -> dict[str, Any]:
    """The corrections of ``meeting``'s approved minutes, oldest first: the last approved one holds the
    current text (which a new correction starts from); one not approved yet is edited, not doubled."""
    corrections = list(visible_meetings(user).filter(corrects=meeting).order_by("scheduled_for", "pk"))
    approved = [item for item in corrections if item.minutes_status == MinutesStatus.APPROVED]
    return {
        "corrections": corrections,
        "current_correction": approved[-1] if approved else None,
        "pending_correction": next((item for item in corrections if item not in approved), None),
    }


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=_("Minutes (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "class": "form-control font-monospace"}),
    )


class AgendaItemForm(forms.Form):
    title = forms.CharField(
        label=_("Agenda item"), max_length=250, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class DecisionForm(forms.Form):
    text = forms.CharField(
        label=_("Decision"),
        max_length=DECISION_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class AttendanceForm(forms.Form):
    """Each member's attendance (present by default, or as recorded): one field per member."""

    def __init__(self, *args, members: list[CommitteeMember], attendances: list[Attendance], **kwargs):
        super().__init__(*args, **kwargs)
        recorded = {attendance.member_id: attendance.status for attendance in attendances}
        for member in members:
            self.fields[self.key(member)] = forms.ChoiceField(
                label=f"{member.name} ({member.get_role_display()})",
                choices=AttendanceStatus.choices,
                initial=recorded.get(member.pk, AttendanceStatus.PRESENT),
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
        self.members = members

    @staticmethod
    def key(member: CommitteeMember) -> str:
        return f"member_{member.pk}"

    def attendance(self) -> dict[int, str]:
        return {member.pk: self.cleaned_data[self.key(member)] for member in self.members}


class CancelMeetingForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it cancelled?"),
        max_length=CANCEL_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


class ContactVoteForm(forms.Form):
    """The vote of a vendor contact present at the meeting who does not sign in."""

    member = forms.TypedChoiceField(
        label=_("Vendor contact present"),
        coerce=int,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, voters: list[CommitteeMember], **kwargs):
        super().__init__(*args, **kwargs)
        self.voters = voters
        self.fields["member"].choices = [(member.pk, member.name) for member in voters]

    def voter(self) -> CommitteeMember:
        return next(member for member in self.voters if member.pk == self.cleaned_data["member"])


class ActionItemForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=250, widget=forms.TextInput(attrs={"class": "form-control"}))
    owner = forms.ChoiceField(label=_("Owner"), widget=forms.Select(attrs={"class": "form-select"}))
    due_date = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}))
    decision = forms.TypedChoiceField(
        label=_("From decision"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(
        self,
        *args,
        members: list[CommitteeMember],
        decisions: list[Decision],
        first_day: datetime.date | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.members = members
        if first_day is not None:
            # The browser offers no day before the meeting's, which the service refuses.
            self.fields["due_date"].widget.attrs["min"] = first_day.isoformat()
        self.fields["owner"].choices = [("", "—")] + [(self.owner_key(member), member.name) for member in members]
        self.fields["decision"].choices = [("", "—")] + [
            (decision.pk, _("Decision %(number)s") % {"number": decision.number}) for decision in decisions
        ]

    @staticmethod
    def owner_key(member: CommitteeMember) -> str:
        return f"user:{member.user_id}" if member.user_id else f"contact:{member.contact_id}"

    def owner_fields(self) -> dict[str, Any]:
        member = next(m for m in self.members if self.owner_key(m) == self.cleaned_data["owner"])
        return {"owner": member.user, "owner_contact": member.contact}


# The chair's approval is final: its form carries this confirmation, which a bare POST lacks.
APPROVAL_CONFIRMED = "final"


# The dashboard's form of each change posted with one.
POSTED_FORMS = {
    "minutes": "minutes_form",
    "correction": "correction_form",
    "decision": "decision_form",
    "agenda-item": "agenda_form",
    "action-item": "action_form",
    "attendance": "attendance_form",
    "cancel": "cancel_form",
    "contact-vote": "contact_vote_form",
}


def _forms(
    details: dict[str, Any], data=None, *, posted: str = "", refusal: ValidationError | None = None
) -> dict[str, Any]:
    """The dashboard's forms; the ``posted`` one bound to ``data``, with the service's ``refusal`` under the field
    it names."""
    meeting = details["meeting"]
    forms_shown = {
        "minutes_form": MinutesForm(data if posted == "minutes" else None, initial={"minutes": meeting.minutes}),
        "correction_form": MinutesForm(
            data if posted == "correction" else None,
            initial={"minutes": (details["current_correction"] or meeting).minutes},
        ),
        "decision_form": DecisionForm(data if posted == "decision" else None),
        "agenda_form": AgendaItemForm(data if posted == "agenda-item" else None),
        "action_form": ActionItemForm(
            data if posted == "action-item" else None,
            members=details["members"],
            decisions=details["decisions"],
            first_day=meeting_day(meeting.scheduled_for),
        ),
        "attendance_form": AttendanceForm(
            data if posted == "attendance" else None, members=details["members"], attendances=details["attendances"]
        ),
        "cancel_form": CancelMeetingForm(data if posted == "cancel" else None),
        "contact_vote_form": ContactVoteForm(
            data if posted == "contact-vote" else None, voters=details["contact_voters"]
        ),
    }
    if refusal is not None:
        form = forms_shown[POSTED_FORMS[posted]]
        form.is_valid()
        show_refusal(form, refusal)
    return forms_shown


def _render_dashboard(
    request,
    meeting: Meeting,
    *,
    data=None,
    posted: str = "",
    refusal: ValidationError | None = None,
    status: int = 200,
):
    user = request.user
    details = meeting_details(user, meeting)
    members = details["members"]
    can_edit = may_change_meeting(user, members)
    context = {
        **details,
        **(_forms(details, data, posted=posted, refusal=refusal) if can_edit else {}),
        "can_edit": can_edit,
        "is_chair": can_edit and is_chair(user, members),
        "approval_confirmed": APPROVAL_CONFIRMED,
        # A meeting that lacked its quorum approves no minutes by vote (governance.services.record_minutes_vote).
        "can_vote": bool(details["quorum_met"])
        and may_vote_on_minutes(meeting, seat_of(user, members), details["attendances"], details["minutes_approvals"]),
        "minutes_approved": meeting.minutes_status == MinutesStatus.APPROVED,
        # The agenda is written until the minutes are approved, not for a cancelled meeting nor for a correction,
        # which carries minutes only (governance.services).
        "agenda_open": can_edit
        and meeting.minutes_status != MinutesStatus.APPROVED
        and meeting.status != MeetingStatus.CANCELLED
        and not meeting.corrects_id,
        # A correction recorded by mistake is discarded until it is circulated (discard_minutes_correction).
        "can_discard": can_edit
        and bool(meeting.corrects_id)
        and meeting.minutes_status == MinutesStatus.DRAFT
        and not meeting.minutes_circulation,
        # Attendance is recorded from the meeting's day on (governance.services.record_attendance).
        "has_taken_place": meeting_day(meeting.scheduled_for) <= timezone.localdate(),
        "active_section": "committees",
    }
    return render(request, "governance/meeting_dashboard.html", context, status=status)


@login_required
@require_GET
def meeting_dashboard(request, pk: int):
    return _render_dashboard(request, get_meeting(request.user, pk))


@login_required
@require_GET
def meeting_pack(request, pk: int):
    """The dashboard as a PDF to circulate before the meeting (WeasyPrint, reading only the app's own
    static files: config.pdf)."""
    from config.pdf import render_pdf

    meeting = get_meeting(request.user, pk)
    details = meeting_details(request.user, meeting)
    # Approved minutes are never changed: the pack that circulates them carries their approved correction too.
    current = details["current_correction"]
    details["current_correction_html"] = render_minutes(current.minutes) if current is not None else ""
    html = render_to_string("governance/meeting_pack.html", details, request=request)
    content = render_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(content, content_type=PDF)
    day = meeting_day(meeting.scheduled_for).isoformat()
    response["Content-Disposition"] = f'attachment; filename="committee-pack-{meeting.committee_id}-{day}.pdf"'
    return response


# Changes ----------------------------------------------------------------------------------------------


def _refusal(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


MEETING_ACTIONS = {
    "discard-correction",
    "propose-agenda",
    "agenda-item",
    "agenda-move",
    "agenda-remove",
    "attendance",
    "cancel",
    "minutes",
    "circulate",
    "approve",
    "correction",
    "decision",
    "action-item",
    "vote",
    "contact-vote",
}


@login_required
@require_POST
def meeting_action(request, pk: int, action: str):
    """One change to a meeting by a member of its committee; a refusal is shown on the dashboard.

    Customer-side members and administrators make every change; a member of either side records
    their own vote on circulated minutes (governance.permissions)."""
    if action not in MEETING_ACTIONS:
        raise Http404
    meeting = get_meeting(request.user, pk)
    members = committee_members(request.user, meeting.committee_id)
    if action == "vote":
        return _vote(request, meeting, members)
    if not may_change_meeting(request.user, members):
        raise PermissionDenied
    user = request.user
    dashboard = reverse("governance:meeting", args=[meeting.pk])
    try:
        if action == "propose-agenda":
            added = propose_agenda(meeting=meeting, actor=user)
            if added:
                messages.success(
                    request,
                    ngettext("%(count)d agenda item was proposed.", "%(count)d agenda items were proposed.", len(added))
                    % {"count": len(added)},
                )
            else:
                messages.info(
                    request,
                    _(
                        "Nothing to propose: no statement, default, dispute, overdue action, open audit finding "
                        "or notice deadline calls for an item that is not on the agenda already."
                    ),
                )
        elif action in ("agenda-move", "agenda-remove"):
            item = get_object_or_404(
                restrict(AgendaItem.objects.filter(meeting=meeting), user), pk=_posted_id(request, "item")
            )
            if action == "agenda-remove":
                remove_agenda_item(item=item, actor=user)
                messages.success(request, _("“%(title)s” was taken off the agenda.") % {"title": item.title})
            else:
                move_agenda_item(item=item, direction=request.POST.get("direction", ""), actor=user)
        elif action == "discard-correction":
            corrected = discard_minutes_correction(correction=meeting, actor=user)
            messages.success(request, _("The draft correction was discarded; the approved minutes stand."))
            return redirect("governance:meeting", pk=corrected.pk)
        elif action == "circulate":
            circulate_minutes(meeting=meeting, actor=user)
            messages.success(request, _("The minutes were circulated to the committee."))
        elif action == "approve":
            # Approval by the chair alone is final: only the page's confirmation step posts APPROVAL_CONFIRMED.
            if request.POST.get("confirm") != APPROVAL_CONFIRMED:
                messages.error(request, _("Confirm the approval: approved minutes are final."))
                return redirect(dashboard)
            approve_minutes_as_chair(meeting=meeting, actor=user)
            messages.success(request, _("The minutes were approved."))
        else:
            return _form_action(request, meeting, action, members)
    except ValidationError as error:
        _refusal(request, error)
    return redirect(dashboard)


def _posted_id(request, name: str) -> int:
    value = request.POST.get(name, "")
    if not value.isdigit():
        raise Http404
    return int(value)


def _vote(request, meeting: Meeting, members: list[CommitteeMember]):
    """The signed-in member approves the circulated minutes by their vote; once every member present
    has voted, the minutes are approved (governance.services.record_minutes_vote)."""
    seat = seat_of(request.user, members)
    if seat is None:
        raise PermissionDenied
    try:
        approval = record_minutes_vote(meeting=meeting, member=seat, actor=request.user)
        if approval.meeting.minutes_status == MinutesStatus.APPROVED:
            messages.success(request, _("Every member present approved the minutes: they are approved."))
        else:
            messages.success(request, _("Your approval of the minutes was recorded."))
    except ValidationError as error:
        _refusal(request, error)
    return redirect("governance:meeting", pk=meeting.pk)


def _form_action(request, meeting: Meeting, action: str, members: list[CommitteeMember]):
    user = request.user
    dashboard = reverse("governance:meeting", args=[meeting.pk])
    if action in ("minutes", "correction"):
        form = MinutesForm(request.POST)
    elif action == "attendance":
        attendances = list(Attendance.objects.filter(meeting=meeting))
        form = AttendanceForm(request.POST, members=members, attendances=attendances)
    elif action == "cancel":
        form = CancelMeetingForm(request.POST)
    elif action == "decision":
        form = DecisionForm(request.POST)
    elif action == "agenda-item":
        form = AgendaItemForm(request.POST)
    elif action == "contact-vote":
        form = ContactVoteForm(request.POST, voters=meeting_details(user, meeting)["contact_voters"])
    else:
        decisions = list(restrict(Decision.objects.filter(meeting=meeting), user))
        form = ActionItemForm(request.POST, members=members, decisions=decisions)
    if not form.is_valid():
        messages.error(request, _("Please correct the errors below."))
        return _render_dashboard(request, meeting, data=request.POST, posted=action, status=400)
    data = form.cleaned_data
    try:
        if action == "attendance":
            record_attendance(meeting=meeting, attendance=form.attendance(), actor=user)
            messages.success(request, _("The attendance was recorded: the meeting is held."))
        elif action == "cancel":
            cancel_meeting(meeting=meeting, reason=data["reason"], actor=user)
            messages.success(request, _("The meeting was cancelled."))
        elif action == "minutes":
            update_minutes(meeting=meeting, minutes=data["minutes"], actor=user)
            messages.success(request, _("The minutes were saved as a draft."))
        elif action == "correction":
            correction = record_minutes_correction(meeting=meeting, minutes=data["minutes"], actor=user)
            messages.success(request, _("The correction was recorded; circulate it for approval."))
            return redirect("governance:meeting", pk=correction.pk)
        elif action == "agenda-item":
            add_agenda_item(meeting=meeting, title=data["title"], notes=data["notes"], actor=user)
            messages.success(request, _("The item was added to the agenda."))
        elif action == "decision":
            decision = record_decision(meeting=meeting, text=data["text"], actor=user)
            messages.success(request, _("Decision %(number)s was recorded.") % {"number": decision.number})
        elif action == "contact-vote":
            approval = record_contact_vote(meeting=meeting, member=form.voter(), actor=user)
            if approval.meeting.minutes_status == MinutesStatus.APPROVED:
                messages.success(request, _("Every member present approved the minutes: they are approved."))
            else:
                messages.success(request, _("The approval of %(member)s was recorded.") % {"member": form.voter().name})
        else:
            decision = next((d for d in decisions if d.pk == data["decision"]), None)
            create_action_item(
                title=data["title"],
                due_date=data["due_date"],
                created_by=user,
                meeting=meeting,
                decision=decision,
                **form.owner_fields(),
            )
            messages.success(request, _("The action item was added."))
    except ValidationError as error:
        if hasattr(error, "error_dict") and set(error.error_dict) <= set(form.fields):
            # A refusal of what was typed is said under its field, on the page as posted, like the form's own errors.
            messages.error(request, _("Please correct the errors below."))
            return _render_dashboard(request, meeting, data=request.POST, posted=action, refusal=error, status=400)
        _refusal(request, error)
    return redirect(dashboard)


# An action item's changes on the dashboard: the service, and the message once done.
ACTION_ITEM_CHANGES = {
    "start": (start_action_item, _("The action item is in progress.")),
    "close": (close_action_item, _("The action item was closed.")),
    "cancel": (cancel_action_item, _("The action item was cancelled.")),
    "reopen": (reopen_action_item, _("The action item is open again.")),
}


@login_required
@require_POST
def change_action(request, pk: int, change: str):
    """Start, close, cancel (with the reason) or reopen an action item of a meeting, by those who keep the
    committee's record."""
    item = get_object_or_404(
        restrict(ActionItem.objects.all(), request.user).filter(meeting__in=visible_meetings(request.user)), pk=pk
    )
    if not may_change_record_of(request.user, item.meeting.committee_id):
        raise PermissionDenied
    service, done = ACTION_ITEM_CHANGES[change]
    extra = {"reason": request.POST.get("reason", "")} if change == "cancel" else {}
    try:
        service(item=item, actor=request.user, **extra)
        messages.success(request, done)
    except ValidationError as error:
        _refusal(request, error)
    back = request.POST.get("meeting", "")
    return redirect("governance:meeting", pk=int(back) if back.isdigit() else item.meeting_id)
