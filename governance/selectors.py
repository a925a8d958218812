"""Reads of governance: cadence compliance, quorum, overdue actions and a meeting's situation."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.choices import FindingStatus
from audits.models import Finding
from contracts.dates import add_months
from contracts.models import Contract
from contracts.selectors import with_next_notice_deadline
from governance.choices import ActionStatus, AttendanceStatus, Cadence, MeetingStatus, MemberRole
from governance.models import ActionItem, Attendance, Committee, CommitteeMember, Meeting
from sla_tracker.choices import DisputeStatus
from sla_tracker.explanations import readable
from sla_tracker.models import LineDispute, PenaltyStatement, StatementLine

CADENCE_INTERVALS: dict[str, tuple[int, int]] = {
    # cadence: (months, days)
    Cadence.WEEKLY: (0, 7),
    Cadence.FORTNIGHTLY: (0, 14),
    Cadence.MONTHLY: (1, 0),
    Cadence.QUARTERLY: (3, 0),
    Cadence.SEMIANNUAL: (6, 0),
    Cadence.ANNUAL: (12, 0),
}
NOTICE_DEADLINE_HORIZON_DAYS = 90


def next_meeting_due(cadence: str, last: datetime.date) -> datetime.date:
    """The day by which the next meeting is due after one held on ``last`` (months clamp to month end)."""
    months, days = CADENCE_INTERVALS[cadence]
    return add_months(last, months) + datetime.timedelta(days=days)


def meeting_day(meeting_time: datetime.datetime) -> datetime.date:
    return timezone.localtime(meeting_time).date()


def held_meetings() -> QuerySet[Meeting]:
    """Meetings that count for cadence: held, and not a correction record of earlier minutes."""
    return Meeting.objects.filter(status=MeetingStatus.HELD, corrects__isnull=True)


def with_present_count(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    return meetings.annotate(
        present_count=Count("attendances", filter=Q(attendances__status=AttendanceStatus.PRESENT), distinct=True)
    )


def meeting_lacked_quorum(meeting: Meeting) -> bool:
    present = meeting.attendances.filter(status=AttendanceStatus.PRESENT).count()
    return present < meeting.committee.quorum


def committees_with_compliance(
    committees: QuerySet[Committee] | None = None, *, today: datetime.date | None = None
) -> list[Committee]:
    """The committees (active ones by default), each with ``last_held_on``, ``next_meeting_due``,
    ``is_overdue`` (today is after the due day) and ``lacked_quorum`` (its last held meeting had
    fewer members present than the quorum). One query whatever the number of committees.

    A committee that never met is due one interval after its contract's start; a vendor-wide
    committee that never met has no due day yet.
    """
    if committees is None:
        committees = Committee.objects.filter(is_active=True)
    rows = list(with_compliance_annotations(committees))
    for committee in rows:
        set_compliance(committee, today=today)
    return rows


def with_compliance_annotations(committees: QuerySet[Committee]) -> QuerySet[Committee]:
    """``committees`` with what set_compliance() needs: the last held meeting and who attended it."""
    last_held = held_meetings().filter(committee=OuterRef("pk")).order_by("-scheduled_for")
    present = (
        Attendance.objects.filter(meeting_id=OuterRef("last_held_id"), status=AttendanceStatus.PRESENT)
        .order_by()
        .values("meeting_id")
        .annotate(count=Count("pk"))
        .values("count")[:1]
    )
    return (
        committees.select_related("contract", "vendor")
        .annotate(
            last_held_at=Subquery(last_held.values("scheduled_for")[:1]),
            last_held_id=Subquery(last_held.values("pk")[:1]),
        )
        .annotate(last_present=Coalesce(Subquery(present, output_field=IntegerField()), Value(0)))
    )


def set_compliance(committee: Committee, *, today: datetime.date | None = None) -> Committee:
    """Derive the compliance flags of a committee annotated by with_compliance_annotations()."""
    today = today or timezone.localdate()
    committee.last_held_on = meeting_day(committee.last_held_at) if committee.last_held_at else None
    anchor = committee.last_held_on or (committee.contract.start_date if committee.contract else None)
    committee.next_meeting_due = next_meeting_due(committee.cadence, anchor) if anchor else None
    committee.is_overdue = committee.next_meeting_due is not None and today > committee.next_meeting_due
    committee.lacked_quorum = committee.last_held_id is not None and committee.last_present < committee.quorum
    committee.is_compliant = not (committee.is_overdue or committee.lacked_quorum)
    return committee


def committee_chair(committee: Committee) -> CommitteeMember | None:
    return committee.members.filter(role=MemberRole.CHAIR).select_related("user", "contact").first()


def open_action_items() -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(status__in=ActionStatus.open_values())


def overdue_action_items(*, today: datetime.date | None = None) -> QuerySet[ActionItem]:
    """Open or in-progress items whose due date has passed."""
    today = today or timezone.localdate()
    return open_action_items().filter(due_date__lt=today).select_related("owner", "owner_contact")


def action_items_due_within(*, days: int, today: datetime.date | None = None) -> QuerySet[ActionItem]:
    """Open or in-progress items due from today up to ``days`` days ahead."""
    today = today or timezone.localdate()
    return (
        open_action_items()
        .filter(due_date__gte=today, due_date__lte=today + datetime.timedelta(days=days))
        .select_related("owner", "owner_contact")
    )


# The situation a meeting's agenda is proposed from --------------------------------------------------


@dataclass(frozen=True)
class ProposedItem:
    """One agenda point the situation calls for; ``key`` names its source so it is proposed once.
    Titles are in the active language, at most the agenda title's length."""

    key: str
    title: str
    notes: str = ""


def meeting_contracts(meeting: Meeting) -> QuerySet[Contract]:
    committee = meeting.committee
    if committee.contract_id:
        return Contract.objects.filter(pk=committee.contract_id)
    return Contract.objects.filter(vendor_id=committee.vendor_id)


def previous_held_meeting(meeting: Meeting) -> Meeting | None:
    return (
        held_meetings()
        .filter(committee_id=meeting.committee_id, scheduled_for__lt=meeting.scheduled_for)
        .exclude(pk=meeting.pk)
        .order_by("-scheduled_for")
        .first()
    )


def _termination_right_title(reference: str, right: dict) -> str:
    return _("%(contract)s: termination right since %(since)s – %(evidence)s") % {
        "contract": reference,
        "since": right.get("since", "?"),
        "evidence": readable(right.get("evidence", ""), right.get("evidence_notes")),
    }


def agenda_situation(meeting: Meeting, *, today: datetime.date | None = None) -> list[ProposedItem]:
    """What the meeting should discuss, in agenda order: the statements of the months that ended
    since the last held meeting (with their credits), their credit-bearing defaults and
    termination rights, open disputes, overdue action items of the committee, open audit
    findings, and notice deadlines within 90 days."""
    today = today or timezone.localdate()
    contracts = meeting_contracts(meeting)
    meeting_month = meeting_day(meeting.scheduled_for).replace(day=1)
    previous = previous_held_meeting(meeting)
    statements = PenaltyStatement.objects.filter(contract__in=contracts, month__lt=meeting_month)
    if previous is not None:
        statements = statements.filter(month__gte=meeting_day(previous.scheduled_for).replace(day=1))
    statements = list(statements.select_related("contract").order_by("contract__reference", "month"))
    items: list[ProposedItem] = []
    for statement in statements:
        reference = f"{statement.contract.reference} {statement.month:%Y-%m}"
        items.append(
            ProposedItem(
                key=f"statement:{statement.pk}",
                title=_("Statement %(statement)s: credits %(credits)s %(currency)s (%(status)s)")
                % {
                    "statement": reference,
                    "credits": statement.credits,
                    "currency": statement.currency,
                    "status": statement.get_status_display(),
                },
                notes=(
                    _("Net %(net)s %(currency)s; the cap is reached.")
                    if statement.cap_reached
                    else _("Net %(net)s %(currency)s.")
                )
                % {"net": statement.net, "currency": statement.currency},
            )
        )
    defaults = (
        StatementLine.objects.filter(statement__in=statements, credit__gt=0)
        .select_related("statement__contract", "service_level")
        .order_by("statement__contract__reference", "statement__month", "service_level__code")
    )
    for line in defaults:
        statement = line.statement
        items.append(
            ProposedItem(
                key=f"default:{line.pk}",
                title=_("Default %(contract)s %(service_level)s %(month)s: credit %(credit)s %(currency)s")
                % {
                    "contract": statement.contract.reference,
                    "service_level": line.service_level.code,
                    "month": f"{statement.month:%Y-%m}",
                    "credit": line.credit,
                    "currency": statement.currency,
                },
                notes=line.readable_explanation,
            )
        )
    for statement in statements:
        for index, right in enumerate(statement.termination_rights or []):
            items.append(
                ProposedItem(
                    key=f"termination:{statement.pk}:{index}",
                    title=_termination_right_title(statement.contract.reference, right),
                )
            )
    disputes = (
        LineDispute.objects.filter(line__statement__contract__in=contracts, status=DisputeStatus.OPEN)
        .select_related("line__statement__contract", "line__service_level")
        .order_by("created_at", "pk")
    )
    for dispute in disputes:
        statement = dispute.line.statement
        items.append(
            ProposedItem(
                key=f"dispute:{dispute.pk}",
                title=_("Open dispute %(contract)s %(service_level)s %(month)s")
                % {
                    "contract": statement.contract.reference,
                    "service_level": dispute.line.service_level.code,
                    "month": f"{statement.month:%Y-%m}",
                },
                notes=dispute.reason,
            )
        )
    for action in overdue_action_items(today=today).filter(meeting__committee_id=meeting.committee_id):
        items.append(
            ProposedItem(
                key=f"action:{action.pk}",
                title=_("Overdue action (due %(due)s): %(title)s") % {"due": action.due_date, "title": action.title},
                notes=_("Owner: %(owner)s") % {"owner": action.owner or action.owner_contact},
            )
        )
    findings = (
        Finding.objects.filter(audit__audit_right__contract__in=contracts)
        .exclude(status__in=FindingStatus.settled_values())
        .select_related("audit")
        .order_by("due_date", "pk")
    )
    for finding in findings:
        items.append(
            ProposedItem(
                key=f"finding:{finding.pk}",
                title=_("Open audit finding %(finding)s (%(severity)s, due %(due)s): %(title)s")
                % {
                    "finding": f"{finding.audit.reference}-{finding.number}",
                    "severity": finding.get_severity_display(),
                    "due": finding.due_date,
                    "title": finding.title,
                },
            )
        )
    horizon = today + datetime.timedelta(days=NOTICE_DEADLINE_HORIZON_DAYS)
    for contract in with_next_notice_deadline(contracts.order_by("reference"), today=today):
        window = contract.next_renewal
        if window and window.notice_deadline <= horizon:
            items.append(
                ProposedItem(
                    key=f"notice:{contract.pk}:{window.term_end}",
                    title=_("Notice deadline %(contract)s: %(deadline)s (term ends %(end)s; decide by %(decision)s)")
                    % {
                        "contract": contract.reference,
                        "deadline": window.notice_deadline,
                        "end": window.term_end,
                        "decision": window.decision_due,
                    },
                )
            )
    return items
