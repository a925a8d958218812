"""Reads of governance: cadence compliance, quorum, overdue actions and a meeting's situation."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import restrict
from accounts.templatetags.ui import money
from audits.choices import FindingStatus
from audits.models import Finding
from config.formats import long_date, month_name
from contracts.choices import ContractStatus
from contracts.dates import add_months
from contracts.models import Contract
from contracts.selectors import with_next_notice_deadline
from governance.choices import (
    ActionStatus,
    AttendanceStatus,
    Cadence,
    MeetingStatus,
    MemberRole,
    MinutesStatus,
    Side,
)
from governance.models import ActionItem, Attendance, Committee, CommitteeMember, Meeting
from sla_tracker.choices import DisputeStatus
from sla_tracker.explanations import readable
from sla_tracker.models import AdjustmentDispute, LineDispute, PenaltyStatement, StatementLine

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
    """``meetings`` with ``present_count`` and the members present of each side (``client_present``,
    ``vendor_present``), which quorum_is_met() reads."""
    present = Q(attendances__status=AttendanceStatus.PRESENT)
    return meetings.annotate(
        present_count=Count("attendances", filter=present, distinct=True),
        client_present=Count("attendances", filter=present & Q(attendances__member__side=Side.CLIENT), distinct=True),
        vendor_present=Count("attendances", filter=present & Q(attendances__member__side=Side.VENDOR), distinct=True),
    )


@dataclass(frozen=True)
class QuorumTerms:
    """A quorum: the members present needed, and whether one of each side must be among them."""

    quorum: int
    quorum_needs_each_side: bool


def committee_terms_on(committee: Committee, moment: datetime.datetime) -> QuorumTerms:
    """The committee's quorum terms in force at ``moment``: its latest history version up to then (its current
    terms when it has none that early)."""
    version = (
        Committee.history.filter(id=committee.pk, history_date__lte=moment)
        .order_by("-history_date", "-history_id")
        .values("quorum", "quorum_needs_each_side")
        .first()
    )
    if version is None:
        return QuorumTerms(committee.quorum, committee.quorum_needs_each_side)
    return QuorumTerms(version["quorum"], version["quorum_needs_each_side"])


def meeting_terms(meeting: Meeting, committee: Committee | None = None) -> QuorumTerms:
    """The quorum terms ``meeting`` is held under: those kept on it when its attendance was recorded (the terms
    in force on its day), else its committee's current ones (a meeting not held yet). ``committee``: the
    meeting's, where the caller has it (no query then)."""
    if meeting.quorum is not None and meeting.quorum_needs_each_side is not None:
        return QuorumTerms(meeting.quorum, meeting.quorum_needs_each_side)
    committee = committee or meeting.committee
    return QuorumTerms(
        committee.quorum if meeting.quorum is None else meeting.quorum,
        committee.quorum_needs_each_side if meeting.quorum_needs_each_side is None else meeting.quorum_needs_each_side,
    )


def quorum_is_met(terms: QuorumTerms | Committee, *, client_present: int, vendor_present: int) -> bool:
    """Whether that many members present of each side make the quorum of ``terms`` (a meeting's, see
    meeting_terms()): the number of members present, and a member of each side where the terms require it
    (one vote per party)."""
    if client_present + vendor_present < terms.quorum:
        return False
    return not terms.quorum_needs_each_side or (client_present > 0 and vendor_present > 0)


def attendance_meeting(meeting: Meeting) -> Meeting:
    """The meeting whose attendance counts for ``meeting``: a correction of approved minutes is decided
    by the members present at the meeting it corrects."""
    return meeting.corrects if meeting.corrects_id else meeting


def minutes_withheld(user, meeting: Meeting) -> bool:
    """Whether ``meeting``'s minutes are kept from ``user``: a vendor's users read them once circulated for
    approval (a draft is the customer's working text), wherever they are shown (page, pack, API)."""
    return user.is_vendor_user and meeting.minutes_status == MinutesStatus.DRAFT


def meeting_quorum(meeting: Meeting) -> bool | None:
    """Whether the held meeting (for a correction, the meeting it corrects) had its quorum; None while
    its attendance is not recorded (planned or cancelled)."""
    attended = attendance_meeting(meeting)
    if attended.status != MeetingStatus.HELD:
        return None
    sides = list(
        Attendance.objects.filter(meeting=attended, status=AttendanceStatus.PRESENT).values_list(
            "member__side", flat=True
        )
    )
    return quorum_is_met(
        meeting_terms(attended), client_present=sides.count(Side.CLIENT), vendor_present=sides.count(Side.VENDOR)
    )


def committees_with_compliance(
    committees: QuerySet[Committee] | None = None, *, today: datetime.date | None = None
) -> list[Committee]:
    """The committees (active ones by default), each with ``last_held_on``, ``next_meeting_due``,
    ``is_overdue`` (today is after the due day) and ``lacked_quorum`` (its last held meeting did not
    make the quorum, see quorum_is_met). One query whatever the number of committees. A contract's committee
    whose contract ended (expired or terminated) before its next meeting was due, or an inactive committee, has no
    ``next_meeting_due`` and is not overdue; ``contract_ended_on`` is the ended contract's last day of service. So
    does a vendor-wide committee once the last of its vendor's contracts ended (``contract_ended_on``: its last day).

    A committee that never met is due one interval after its contract's start; a vendor-wide
    committee that never met, one interval after it was set up.
    """
    if committees is None:
        committees = Committee.objects.filter(is_active=True)
    rows = list(with_compliance_annotations(committees))
    for committee in rows:
        set_compliance(committee, today=today)
    return rows


def _present_at_last_held(side: str | None = None) -> Coalesce:
    present = Attendance.objects.filter(meeting_id=OuterRef("last_held_id"), status=AttendanceStatus.PRESENT)
    if side is not None:
        present = present.filter(member__side=side)
    count = present.order_by().values("meeting_id").annotate(count=Count("pk")).values("count")[:1]
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


def with_compliance_annotations(committees: QuerySet[Committee]) -> QuerySet[Committee]:
    """``committees`` with what set_compliance() needs: the last held meeting and who attended it."""
    last_held = held_meetings().filter(committee=OuterRef("pk")).order_by("-scheduled_for")
    return (
        committees.select_related("contract", "vendor")
        .annotate(
            last_held_at=Subquery(last_held.values("scheduled_for")[:1]),
            last_held_id=Subquery(last_held.values("pk")[:1]),
            # The quorum terms the last held meeting was held under (the committee's own where none were kept).
            last_held_quorum=Coalesce(Subquery(last_held.values("quorum")[:1]), F("quorum")),
            last_held_needs_each_side=Coalesce(
                Subquery(last_held.values("quorum_needs_each_side")[:1]), F("quorum_needs_each_side")
            ),
        )
        .annotate(
            last_client_present=_present_at_last_held(Side.CLIENT),
            last_vendor_present=_present_at_last_held(Side.VENDOR),
            # A vendor-wide committee: the last day of service of its vendor's contracts once every one has ended.
            vendor_contracts_ended_on=_vendor_contracts_ended_on(),
        )
    )


def _vendor_contracts_ended_on() -> Subquery:
    """The last day of service of the committee's vendor's contracts when all of them ended (expired or terminated);
    None while one is a draft or runs, when the vendor has none, and for a contract's committee."""
    ended = (ContractStatus.EXPIRED, ContractStatus.TERMINATED)
    contracts = Contract.objects.filter(vendor=OuterRef("vendor_id")).order_by().values("vendor")
    last_day = contracts.annotate(
        last_day=Max(Coalesce("terminated_on", "end_date")),
        not_ended=Count("pk", filter=~Q(status__in=ended)),
    ).filter(not_ended=0)
    return Subquery(last_day.values("last_day")[:1])


def set_compliance(committee: Committee, *, today: datetime.date | None = None) -> Committee:
    """Derive the compliance flags of a committee annotated by with_compliance_annotations()."""
    today = today or timezone.localdate()
    committee.last_held_on = meeting_day(committee.last_held_at) if committee.last_held_at else None
    if committee.last_held_on:
        anchor = committee.last_held_on
    elif committee.contract_id:
        anchor = committee.contract.start_date
    else:
        anchor = meeting_day(committee.created_at)
    committee.next_meeting_due = next_meeting_due(committee.cadence, anchor)
    # A contract's committee owes no meeting after its contract ended (expired or terminated) before one was due, a
    # vendor-wide committee none after the last of its vendor's contracts ended; an inactive committee owes none.
    if committee.contract_id:
        contract = committee.contract
        ended = contract.status in (ContractStatus.EXPIRED, ContractStatus.TERMINATED)
        ended_on = contract.last_day_of_service if ended else None
    else:
        ended_on = committee.vendor_contracts_ended_on
    committee.contract_ended_on = None
    if not committee.is_active:
        committee.next_meeting_due = None
    elif ended_on is not None and ended_on < committee.next_meeting_due:
        committee.contract_ended_on, committee.next_meeting_due = ended_on, None
    committee.is_overdue = committee.next_meeting_due is not None and today > committee.next_meeting_due
    committee.lacked_quorum = committee.last_held_id is not None and not quorum_is_met(
        QuorumTerms(committee.last_held_quorum, committee.last_held_needs_each_side),
        client_present=committee.last_client_present,
        vendor_present=committee.last_vendor_present,
    )
    # Where the next planned meeting is known (committee pages), one planned after the due day is flagged now.
    next_at = getattr(committee, "next_meeting_at", None)
    committee.planned_late = (
        committee.next_meeting_due is not None
        and not committee.is_overdue
        and next_at is not None
        and meeting_day(next_at) > committee.next_meeting_due
    )
    committee.is_compliant = not (committee.is_overdue or committee.lacked_quorum or committee.planned_late)
    return committee


def open_findings_as_of(findings: QuerySet[Finding], day_end: datetime.datetime) -> QuerySet[Finding]:
    """The ``findings`` recorded (their ``recorded_on``) before ``day_end``, the midnight that ends a day, and not
    settled then, each with ``status_then``: their status at that moment, read from their history (a finding
    entered later than it was recorded, without history then, counts with today's status)."""
    versions = Finding.history.model.objects.filter(id=OuterRef("pk"))
    status_then = versions.filter(history_date__lt=day_end).order_by("-history_date", "-history_id").values("status")
    return (
        findings.filter(recorded_on__lt=timezone.localdate(day_end))
        .annotate(status_then=Coalesce(Subquery(status_then[:1]), F("status")))
        .exclude(status_then__in=FindingStatus.settled_values())
    )


def statement_versions_as_of(statements: list[PenaltyStatement], day_end: datetime.datetime) -> dict[int, Any]:
    """Each of ``statements`` as it stood at ``day_end``, the midnight that ends a day: its last history version
    before then (its status and totals, which every save and every close records), by statement id. A statement
    computed after that moment has none. One query."""
    versions = PenaltyStatement.history.model.objects
    latest = (
        versions.filter(id=OuterRef("id"), history_date__lt=day_end)
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    then = versions.filter(id__in=[statement.pk for statement in statements], history_id=Subquery(latest))
    return {version.id: version for version in then}


def line_versions_as_of(statements: QuerySet[PenaltyStatement], day_end: datetime.datetime) -> list[Any]:
    """The lines of ``statements`` as they stood at ``day_end``, the midnight that ends a day: each line's last history
    version before then (its figures and status, which every close and every save records), with the terms version
    it pointed to then and its statement. A line computed after that moment has none, nor one deleted by then; one
    deleted since is read as it was. One query."""
    versions = StatementLine.history.model.objects
    latest = (
        versions.filter(id=OuterRef("id"), history_date__lt=day_end)
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    return list(
        versions.filter(statement__in=statements, history_id=Subquery(latest))
        .exclude(history_type="-")
        .select_related("statement", "terms")
    )


def committee_chair(committee: Committee) -> CommitteeMember | None:
    return committee.members.filter(role=MemberRole.CHAIR).select_related("user", "contact").first()


# What a member's name and an action item's owner_name read (a vendor's person is named with their vendor).
MEMBER_NAME = ("user__vendor", "contact__vendor")
ACTION_OWNER = ("owner__vendor", "owner_contact__vendor")


def open_action_items() -> QuerySet[ActionItem]:
    return ActionItem.objects.filter(status__in=ActionStatus.open_values())


def is_overdue(item: ActionItem, *, today: datetime.date) -> bool:
    """Whether ``item`` is open or in progress past its due date (as overdue_action_items() selects)."""
    return item.status in ActionStatus.open_values() and item.due_date < today


def overdue_action_items(*, today: datetime.date | None = None) -> QuerySet[ActionItem]:
    """Open or in-progress items whose due date has passed (is_overdue() for one item)."""
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
    Titles are in the active language (their months and days written out as the pages write them: they are
    stored as proposed), at most the agenda title's length."""

    key: str
    title: str
    notes: str = ""


def meeting_contracts(meeting: Meeting) -> QuerySet[Contract]:
    committee = meeting.committee
    if committee.contract_id:
        return Contract.objects.filter(pk=committee.contract_id)
    return Contract.objects.filter(vendor_id=committee.vendor_id)


# The most months a meeting reviews (its scorecard, the statements proposed for its agenda): after a long lapse,
# the last two years.
REVIEW_MONTHS_MAX = 24


def review_start(meeting: Meeting, previous: Meeting | None) -> datetime.date:
    """The first month ``meeting`` reviews (its scorecard, the statements proposed for its agenda): that of
    ``previous``, the previous held meeting, or for a committee's first meeting one cadence interval back; at least
    the month before the meeting's (a meeting in the month of the previous one still reviews the month before), at
    most REVIEW_MONTHS_MAX months back."""
    end = meeting_day(meeting.scheduled_for).replace(day=1)
    if previous is not None:
        start = meeting_day(previous.scheduled_for).replace(day=1)
    else:
        months, _days = CADENCE_INTERVALS[meeting.committee.cadence]
        start = add_months(end, -months)
    return max(min(start, add_months(end, -1)), add_months(end, -REVIEW_MONTHS_MAX))


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
        "since": _month_text(right.get("since")),
        "evidence": readable(right.get("evidence", ""), right.get("evidence_notes")),
    }


def _month_text(month: str | None) -> str:
    """A month kept as text ("2026-08") as the pages name it; what is not one, as it is."""
    try:
        return month_name(month)
    except ValueError:
        return month or "?"


def open_disputes(contracts, *, user=None, as_of: datetime.datetime | None = None) -> list:
    """The disputes of the lines and adjustments of ``contracts``' statements, oldest first, with what the pages
    name of them: those open now, or, ``as_of`` a past moment, those raised by then and not yet resolved then.
    ``user``: only those the user may see."""
    if as_of is None:
        pending = Q(status=DisputeStatus.OPEN)
    else:
        pending = Q(created_at__lt=as_of) & (Q(status=DisputeStatus.OPEN) | Q(resolved_at__gte=as_of))
    kinds = (
        LineDispute.objects.filter(line__statement__contract__in=contracts).select_related(
            "line__statement__contract", "line__service_level", "raised_by"
        ),
        AdjustmentDispute.objects.filter(adjustment__statement__contract__in=contracts).select_related(
            "adjustment__statement__contract", "adjustment__service_level", "adjustment__origin", "raised_by"
        ),
    )
    kinds = tuple(queryset.order_by("created_at", "pk") for queryset in kinds)
    disputes = [
        dispute
        for queryset in kinds
        for dispute in (queryset if user is None else restrict(queryset, user)).filter(pending)
    ]
    return sorted(disputes, key=lambda dispute: dispute.created_at)


def agenda_situation(meeting: Meeting, *, today: datetime.date | None = None) -> list[ProposedItem]:
    """What the meeting should discuss, in agenda order: the statements of the months that ended
    since the last held meeting (for a first meeting, of one cadence interval: review_start) with their credits,
    their credit-bearing defaults and
    termination rights, open disputes, overdue action items of the committee, open audit
    findings addressed to the vendor, and notice deadlines within 90 days."""
    today = today or timezone.localdate()
    contracts = meeting_contracts(meeting)
    meeting_month = meeting_day(meeting.scheduled_for).replace(day=1)
    previous = previous_held_meeting(meeting)
    # The months the meeting's scorecard reviews: a first meeting's agenda is not every statement ever computed.
    statements = PenaltyStatement.objects.filter(
        contract__in=contracts, month__gte=review_start(meeting, previous), month__lt=meeting_month
    )
    statements = list(statements.select_related("contract").order_by("contract__reference", "month"))
    items: list[ProposedItem] = []
    for statement in statements:
        reference = f"{statement.contract.reference} {month_name(statement.month)}"
        items.append(
            ProposedItem(
                key=f"statement:{statement.pk}",
                title=_("Statement %(statement)s: credits %(credits)s (%(status)s)")
                % {
                    "statement": reference,
                    "credits": money(statement.credits, statement.currency),
                    "status": statement.get_status_display(),
                },
                notes=(_("Net %(net)s; the cap is reached.") if statement.cap_reached else _("Net %(net)s."))
                % {"net": money(statement.net, statement.currency)},
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
                title=_("Default %(contract)s %(service_level)s %(month)s: credit %(credit)s")
                % {
                    "contract": statement.contract.reference,
                    "service_level": line.service_level.code,
                    "month": month_name(statement.month),
                    "credit": money(line.credit, statement.currency),
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
    for dispute in open_disputes(contracts):
        statement = dispute.statement
        params = {"contract": statement.contract.reference, "month": month_name(statement.month)}
        if isinstance(dispute, AdjustmentDispute):
            key = f"adjustment-dispute:{dispute.pk}"
            title = _("Open dispute %(contract)s %(month)s: %(service_level)s adjustment for %(origin)s") % {
                **params,
                "service_level": dispute.adjustment.service_level.code,
                "origin": month_name(dispute.adjustment.origin.month),
            }
        else:
            key = f"dispute:{dispute.pk}"
            title = _("Open dispute %(contract)s %(service_level)s %(month)s") % {
                **params,
                "service_level": dispute.line.service_level.code,
            }
        items.append(ProposedItem(key=key, title=title, notes=dispute.reason))
    overdue = overdue_action_items(today=today).filter(meeting__committee_id=meeting.committee_id)
    for action in overdue.select_related(*ACTION_OWNER):
        items.append(
            ProposedItem(
                key=f"action:{action.pk}",
                title=_("Overdue action (due %(due)s): %(title)s")
                % {"due": long_date(action.due_date), "title": action.title},
                notes=_("Owner: %(owner)s") % {"owner": action.owner_name},
            )
        )
    findings = (
        # The agenda is read by the committee's vendor members: only findings addressed to the vendor.
        Finding.objects.filter(audit__audit_right__contract__in=contracts, addressed_to_vendor=True)
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
                    "due": long_date(finding.due_date),
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
                        "deadline": long_date(window.notice_deadline),
                        "end": long_date(window.term_end),
                        "decision": long_date(window.decision_due),
                    },
                )
            )
    return items
