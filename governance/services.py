"""Writes of governance: agendas, minutes (draft → circulated → approved, then corrections only),
decisions and action items. Every function is atomic, validates with full_clean() and records who did what
in the models' history (``_history_user`` and ``_change_reason``)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.formats import long_date
from contracts.dates import add_months
from governance.choices import (
    ActionStatus,
    AttendanceStatus,
    MeetingStatus,
    MemberRole,
    MinutesApprovalMethod,
    MinutesStatus,
    Side,
)
from governance.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Committee,
    CommitteeMember,
    Decision,
    Meeting,
    MinutesApproval,
)
from governance.permissions import is_administrator, keeps_the_record
from governance.selectors import (
    MEMBER_NAME,
    agenda_situation,
    attendance_meeting,
    committee_terms_on,
    meeting_day,
    meeting_quorum,
)


def _save(instance, *, actor, reason: str) -> None:
    instance._history_user = actor
    instance._change_reason = reason[:100]
    instance.full_clean()
    instance.save()


# How far ahead a meeting is planned (a committee's calendar; a date beyond is a typing error, and would have
# its dashboard review every month up to it).
MEETING_PLANNING_YEARS = 3


def _require_within_planning_horizon(scheduled_for: datetime.datetime) -> None:
    # The same day MEETING_PLANNING_YEARS years on (calendar years: not 365-day ones, which a leap day shortens).
    last_day = add_months(timezone.localdate(), 12 * MEETING_PLANNING_YEARS)
    if timezone.localdate(scheduled_for) > last_day:
        raise ValidationError(
            {
                "scheduled_for": _("A meeting is planned at most %(years)s years ahead, by %(day)s.")
                % {"years": MEETING_PLANNING_YEARS, "day": long_date(last_day)}
            }
        )


@transaction.atomic
def plan_meeting(*, committee, scheduled_for: datetime.datetime, location: str = "", actor) -> Meeting:
    """A new planned meeting of ``committee`` (one per committee and time, within the planning horizon;
    ValidationError otherwise), while the committee is active."""
    _require_active(committee)
    _require_within_planning_horizon(scheduled_for)
    meeting = Meeting(committee=committee, scheduled_for=scheduled_for, location=location.strip())
    _save(meeting, actor=actor, reason="Planned")
    return meeting


def _require_active(committee: Committee) -> None:
    if not committee.is_active:
        raise ValidationError({"committee": _("The committee is inactive: no meeting is planned for it.")})


def _locked_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("committee").get(pk=meeting.pk)


@transaction.atomic
def update_meeting(
    *,
    meeting: Meeting,
    actor,
    scheduled_for: datetime.datetime | None = None,
    committee: Committee | None = None,
    location: str | None = None,
) -> Meeting:
    """Reschedule a planned meeting (or move it to another committee) and change its location. A held
    or cancelled meeting keeps its date and committee: its attendance, minutes and place in the cadence
    stand on them. Approved minutes are final."""
    meeting = _locked_meeting(meeting)
    if meeting.minutes_status == MinutesStatus.APPROVED:
        raise ValidationError(_("The minutes of this meeting are approved; record a correction instead."))
    changes = []
    if scheduled_for is not None and scheduled_for != meeting.scheduled_for:
        if meeting.status != MeetingStatus.PLANNED:
            raise ValidationError(
                {"scheduled_for": _("A held or cancelled meeting keeps its date; only a planned one is rescheduled.")}
            )
        _require_within_planning_horizon(scheduled_for)
        meeting.scheduled_for = scheduled_for
        changes.append("Rescheduled")
    if committee is not None and committee.pk != meeting.committee_id:
        if meeting.status != MeetingStatus.PLANNED:
            raise ValidationError(
                {"committee": _("A held or cancelled meeting stays with its committee; only a planned one moves.")}
            )
        if _committee_vendor_id(committee) != _committee_vendor_id(meeting.committee):
            # Its agenda (proposed from the contract's situation) and attendance concern the vendor it was planned
            # with; the other vendor's users would read them.
            raise ValidationError(
                {"committee": _("A meeting moves only to another committee of the same vendor: plan a new one.")}
            )
        _require_active(committee)
        meeting.committee = committee
        changes.append("Moved to another committee")
    if location is not None and location.strip() != meeting.location:
        meeting.location = location.strip()
        changes.append("Location changed")
    if changes:
        _save(meeting, actor=actor, reason="; ".join(changes))
    return meeting


# What changes a committee's governance terms: each change says why, in the committee's history.
COMMITTEE_TERMS = ("cadence", "quorum", "quorum_needs_each_side")


@transaction.atomic
def create_committee(*, actor, **fields) -> Committee:
    """A new committee (of a contract, or of a vendor across its contracts). A customer-side user other than an
    administrator who creates one takes a seat on its client side: only its customer-side members and the
    administrators keep its record (governance.permissions), so without the seat its creator could not plan
    its meetings nor change its terms."""
    committee = Committee(**fields)
    _save(committee, actor=actor, reason="Created")
    if actor is not None and keeps_the_record(actor) and not is_administrator(actor):
        seat = CommitteeMember(committee=committee, user=actor, side=Side.CLIENT, role=MemberRole.MEMBER)
        _save(seat, actor=actor, reason="Seated as the committee's creator")
    return committee


@transaction.atomic
def update_committee(*, committee: Committee, actor, reason: str = "", **changes) -> Committee:
    """Change a committee's fields. Its cadence and quorum are the contract's governance terms: changing
    them needs a reason, kept with who and when in the committee's history."""
    committee = Committee.objects.select_for_update().get(pk=committee.pk)
    changed = [name for name, value in changes.items() if getattr(committee, name) != value]
    if not changed:
        return committee
    if any(name in COMMITTEE_TERMS for name in changed) and not reason.strip():
        raise ValidationError({"reason": _("Say why the committee's cadence or quorum changes.")})
    for name in changed:
        setattr(committee, name, changes[name])
    _save(committee, actor=actor, reason=reason.strip() or "Changed: " + ", ".join(changed))
    return committee


# Agenda --------------------------------------------------------------------------------------------
# The agenda is written while the meeting is planned and, once held, until its minutes are approved
# (items are often added or reordered at the meeting itself); a cancelled meeting has none to change.


def _refuse_if_correction(meeting: Meeting, *, field: str) -> None:
    """A correction record carries corrected minutes only: decisions, agenda and actions are the meeting's."""
    if meeting.corrects_id:
        raise ValidationError(
            {
                field: _(
                    "This record corrects the minutes of an approved meeting: it carries the corrected minutes "
                    "only. Record decisions, agenda items and actions in a meeting."
                )
            }
        )


def _meeting_with_open_agenda(meeting: Meeting) -> Meeting:
    meeting = _locked_meeting(meeting)
    _refuse_if_correction(meeting, field="meeting")
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError(_("The meeting was cancelled: its agenda is closed."))
    if meeting.minutes_status == MinutesStatus.APPROVED:
        raise ValidationError(_("The minutes of this meeting are approved; its agenda is closed."))
    return meeting


def _next_agenda_position(meeting: Meeting) -> int:
    return (meeting.agenda_items.aggregate(last=Max("position"))["last"] or 0) + 1


@transaction.atomic
def propose_agenda(*, meeting: Meeting, actor=None, today: datetime.date | None = None) -> list[AgendaItem]:
    """Add the items the contract's situation calls for (see governance.selectors.agenda_situation)
    after the existing ones. Idempotent: an item already proposed (same source) is not added again.
    Returns the items added (none when the situation calls for nothing new)."""
    meeting = _meeting_with_open_agenda(meeting)
    existing = set(meeting.agenda_items.exclude(source_key="").values_list("source_key", flat=True))
    position = _next_agenda_position(meeting)
    added = []
    for proposal in agenda_situation(meeting, today=today):
        if proposal.key in existing:
            continue
        item = AgendaItem(
            meeting=meeting,
            position=position,
            title=proposal.title[:250],
            notes=proposal.notes,
            proposed_automatically=True,
            source_key=proposal.key,
        )
        _save(item, actor=actor, reason=f"Proposed ({proposal.key})")
        existing.add(proposal.key)
        added.append(item)
        position += 1
    return added


@transaction.atomic
def add_agenda_item(*, meeting: Meeting, title: str, notes: str = "", actor) -> AgendaItem:
    """An item written by hand, at the end of the meeting's agenda."""
    meeting = _meeting_with_open_agenda(meeting)
    item = AgendaItem(
        meeting=meeting, position=_next_agenda_position(meeting), title=title.strip(), notes=notes.strip()
    )
    _save(item, actor=actor, reason="Added")
    return item


def _renumber(items: list[AgendaItem], *, actor, reasons: dict[int, str]) -> None:
    """Number ``items`` 1, 2, … in their order, saving (with history) only those whose position changes.
    Those are first lifted above every position in use, so no two items ever share one."""
    changed = [(item, position) for position, item in enumerate(items, start=1) if item.position != position]
    if not changed:
        return
    lift = max(item.position for item in items) + 1
    AgendaItem.objects.filter(pk__in=[item.pk for item, _position in changed]).update(position=F("position") + lift)
    for item, position in changed:
        item.position = position
        _save(item, actor=actor, reason=reasons.get(item.pk, "Renumbered"))


def _agenda_of(item: AgendaItem) -> list[AgendaItem]:
    """The agenda ``item`` is on, in order, once its meeting is locked and its agenda open."""
    meeting = _meeting_with_open_agenda(item.meeting)
    return list(meeting.agenda_items.order_by("position", "pk"))


AGENDA_MOVES = ("up", "down")


@transaction.atomic
def move_agenda_item(*, item: AgendaItem, direction: str, actor) -> AgendaItem:
    """Move ``item`` one place up or down the agenda (it swaps places with its neighbour)."""
    if direction not in AGENDA_MOVES:
        raise ValidationError({"direction": _("An agenda item moves up or down.")})
    items = _agenda_of(item)
    index = next(index for index, row in enumerate(items) if row.pk == item.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        raise ValidationError(
            _("This item is already first on the agenda.")
            if direction == "up"
            else _("This item is already last on the agenda.")
        )
    items[index], items[other] = items[other], items[index]
    _renumber(items, actor=actor, reasons={item.pk: f"Moved {direction}"})
    return next(row for row in items if row.pk == item.pk)


@transaction.atomic
def remove_agenda_item(*, item: AgendaItem, actor) -> None:
    """Take ``item`` off the agenda (its history keeps it); the items after it move up one place."""
    items = _agenda_of(item)
    removed = next(row for row in items if row.pk == item.pk)
    remaining = [row for row in items if row is not removed]
    removed._history_user = actor
    removed._change_reason = "Removed"
    removed.delete()
    _renumber(remaining, actor=actor, reasons={})


# Minutes -------------------------------------------------------------------------------------------


@transaction.atomic
def record_attendance(
    *, meeting: Meeting, attendance: dict[int, str], actor, today: datetime.date | None = None
) -> Meeting:
    """Record who attended ``meeting`` ({member id: present, excused or absent}, for every member of its
    committee) and mark it held. The attendance of a held meeting may be corrected while its minutes
    are a draft: once circulated, the members present are the ones who vote on them."""
    meeting = _locked_meeting(meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError(_("A cancelled meeting was not held."))
    if meeting.corrects_id:
        raise ValidationError(
            {"attendance": _("A correction has the attendance of the meeting it corrects, whose members vote on it.")}
        )
    if meeting.minutes_status != MinutesStatus.DRAFT:
        raise ValidationError(_("The minutes are circulated or approved: the attendance is final."))
    day = meeting_day(meeting.scheduled_for)
    if day > (today or timezone.localdate()):
        raise ValidationError(
            _("The meeting is planned for %(day)s: record its attendance once it is held.")
            % {"day": date_format(day, "SHORT_DATE_FORMAT")}
        )
    seats = CommitteeMember.objects.filter(committee_id=meeting.committee_id).select_related(*MEMBER_NAME)
    members = {member.pk: member for member in seats}
    if set(attendance) - set(members):
        raise ValidationError({"attendance": _("Only members of the committee attend its meetings.")})
    if missing := [members[pk] for pk in members if pk not in attendance]:
        names = ", ".join(member.name for member in missing)
        raise ValidationError({"attendance": _("Give the attendance of every member: %(names)s.") % {"names": names}})
    if set(attendance.values()) - set(AttendanceStatus.values):
        raise ValidationError({"attendance": _("An attendance is present, excused or absent.")})
    stored = {row.member_id: row for row in Attendance.objects.filter(meeting=meeting)}
    for member_id, status in attendance.items():
        row = stored.get(member_id) or Attendance(meeting=meeting, member_id=member_id)
        if row.pk is None or row.status != status:
            row.status = status
            _save(row, actor=actor, reason="Recorded" if row.pk is None else "Corrected")
    counts = {status: list(attendance.values()).count(status) for status in AttendanceStatus.values}
    meeting.status = MeetingStatus.HELD
    # The quorum it is held under stays that of its day, whatever the committee's terms become.
    terms = committee_terms_on(meeting.committee, meeting.scheduled_for)
    meeting.quorum = terms.quorum
    meeting.quorum_needs_each_side = terms.quorum_needs_each_side
    _save(
        meeting,
        actor=actor,
        reason="Held: {present} present, {excused} excused, {absent} absent".format(**counts),
    )
    return meeting


CANCEL_REASON_MAX = 2000


@transaction.atomic
def cancel_meeting(*, meeting: Meeting, actor, reason: str) -> Meeting:
    """A planned meeting that will not take place; the reason is kept whole on the meeting (its history's
    change reason holds the first 100 characters)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the meeting is cancelled.")})
    if len(reason.strip()) > CANCEL_REASON_MAX:
        raise ValidationError({"reason": _("Say it in %(limit)d characters at most.") % {"limit": CANCEL_REASON_MAX}})
    meeting = _locked_meeting(meeting)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError(_("Only a planned meeting can be cancelled."))
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancellation_reason = reason.strip()
    _save(meeting, actor=actor, reason=f"Cancelled: {reason.strip()}")
    return meeting


@transaction.atomic
def update_minutes(*, meeting: Meeting, minutes: str, actor) -> Meeting:
    """Edit draft or circulated minutes; editing circulated minutes returns them to draft (they must
    be circulated again). Approved minutes are refused: record a correction instead."""
    meeting = _locked_meeting(meeting)
    if meeting.minutes_status == MinutesStatus.APPROVED:
        raise ValidationError(_("Approved minutes cannot be edited; record a correction instead."))
    _require_taken_place(meeting, field="minutes")
    if meeting.corrects_id:
        _require_corrected_text(minutes)
    reason = "Minutes edited"
    if meeting.minutes_status == MinutesStatus.CIRCULATED:
        reason += "; back to draft, votes on the circulated text no longer count"
    meeting.minutes = minutes
    meeting.minutes_status = MinutesStatus.DRAFT
    _save(meeting, actor=actor, reason=reason)
    return meeting


@transaction.atomic
def circulate_minutes(*, meeting: Meeting, actor) -> Meeting:
    meeting = _locked_meeting(meeting)
    if meeting.minutes_status != MinutesStatus.DRAFT:
        raise ValidationError(_("Only draft minutes can be circulated."))
    if meeting.status != MeetingStatus.HELD:
        raise ValidationError(_("Minutes are circulated after the meeting is held."))
    if not meeting.minutes.strip():
        raise ValidationError(_("Write the minutes before circulating them."))
    meeting.minutes_status = MinutesStatus.CIRCULATED
    meeting.minutes_circulation += 1
    _save(meeting, actor=actor, reason="Minutes circulated")
    return meeting


def _approve(meeting: Meeting, *, actor, method: str) -> Meeting:
    """Approve the minutes: by the chair, who is their approver; by vote, by the members present, with no single
    approver (who entered the last vote is in the votes and the history, not the approver)."""
    meeting.minutes_status = MinutesStatus.APPROVED
    meeting.minutes_approved_by = actor if method == MinutesApprovalMethod.CHAIR else None
    meeting.minutes_approved_at = timezone.now()
    meeting.minutes_approval_method = method
    _save(meeting, actor=actor, reason=f"Minutes approved ({method})")
    return meeting


def _require_circulated(meeting: Meeting) -> None:
    if meeting.minutes_status != MinutesStatus.CIRCULATED:
        raise ValidationError(_("Only circulated minutes can be approved."))


@transaction.atomic
def approve_minutes_as_chair(*, meeting: Meeting, actor) -> Meeting:
    """The committee's chair approves the circulated minutes."""
    meeting = _locked_meeting(meeting)
    _require_circulated(meeting)
    if not CommitteeMember.objects.filter(
        committee_id=meeting.committee_id, role=MemberRole.CHAIR, user=actor
    ).exists():
        raise ValidationError(_("Only the committee's chair approves the minutes alone; the members may vote instead."))
    return _approve(meeting, actor=actor, method=MinutesApprovalMethod.CHAIR)


@transaction.atomic
def record_minutes_vote(*, meeting: Meeting, member: CommitteeMember, actor) -> MinutesApproval:
    """Record that a member present at the meeting approves the circulated minutes: a member who signs
    in votes for themselves; the vote of a vendor contact who does not sign in is recorded by one who keeps
    the record (record_contact_vote). A correction of approved minutes is voted by the members present at
    the meeting it corrects. Once every member present has approved, the minutes are approved by vote;
    a meeting that lacked its quorum approves none by vote (its chair may approve them)."""
    meeting = _locked_meeting(meeting)
    _require_circulated(meeting)
    attended = attendance_meeting(meeting)
    present = set(attended.attendances.filter(status=AttendanceStatus.PRESENT).values_list("member_id", flat=True))
    if member.committee_id != meeting.committee_id or member.pk not in present:
        raise ValidationError({"member": _("Only members present at the meeting vote on its minutes.")})
    if not meeting_quorum(meeting):
        raise ValidationError(
            _("The meeting lacked its quorum: its minutes are not approved by vote; the chair may approve them.")
        )
    votes = meeting.minutes_approvals.filter(circulation=meeting.minutes_circulation)
    if votes.filter(member=member).exists():
        raise ValidationError({"member": _("This member has already approved these minutes.")})
    approval = MinutesApproval(
        meeting=meeting,
        member=member,
        circulation=meeting.minutes_circulation,
        recorded_by=actor,
        approved_at=timezone.now(),
    )
    approval.full_clean()
    approval.save()
    approved = set(votes.values_list("member_id", flat=True))
    if present <= approved:
        _approve(meeting, actor=actor, method=MinutesApprovalMethod.VOTE)
    return approval


@transaction.atomic
def record_contact_vote(*, meeting: Meeting, member: CommitteeMember, actor) -> MinutesApproval:
    """Record the vote of a vendor contact present at the meeting who does not sign in (the vote keeps
    who recorded it and when). A member who signs in records their own vote."""
    if member.contact_id is None:
        raise ValidationError({"member": _("This member signs in and records their own vote.")})
    return record_minutes_vote(meeting=meeting, member=member, actor=actor)


def _require_corrected_text(minutes: str) -> None:
    """A correction is its corrected text: without one it would replace the approved minutes by nothing."""
    if not minutes.strip():
        raise ValidationError(
            {"minutes": _("Write the corrected minutes: a correction replaces the approved text with its own.")}
        )


def _normalised(text: str) -> str:
    # A browser posts a textarea's lines ending in CRLF; the same text read back has LF.
    return text.replace("\r\n", "\n").strip()


@transaction.atomic
def record_minutes_correction(*, meeting: Meeting, minutes: str, actor) -> Meeting:
    """Correct approved minutes: a new meeting record (held now, minutes in draft) pointing to the
    approved one, which stays as it was. Corrections do not count as meetings for cadence. The corrected
    text is written out and differs from the current one (the last approved correction's, else the
    minutes'): a correction that changes nothing would wait for a vote all the same."""
    meeting = _locked_meeting(meeting)
    if meeting.corrects_id:
        raise ValidationError(_("This record is a correction: correct the minutes of the meeting it corrects."))
    if meeting.minutes_status != MinutesStatus.APPROVED:
        raise ValidationError(_("Only approved minutes need a correction; edit these minutes instead."))
    pending = meeting.corrections.exclude(minutes_status=MinutesStatus.APPROVED).order_by("pk").first()
    if pending is not None:
        raise ValidationError(
            _("A correction of these minutes, recorded on %(day)s, is not approved yet: edit it instead.")
            % {"day": date_format(timezone.localtime(pending.scheduled_for), "SHORT_DATE_FORMAT")}
        )
    _require_corrected_text(minutes)
    approved = meeting.corrections.filter(minutes_status=MinutesStatus.APPROVED)
    current = approved.order_by("-scheduled_for", "-pk").first() or meeting
    if _normalised(minutes) == _normalised(current.minutes):
        raise ValidationError({"minutes": _("The corrected minutes are the current text: change what is wrong.")})
    correction = Meeting(
        committee=meeting.committee,
        scheduled_for=timezone.now(),
        location=meeting.location,
        status=MeetingStatus.HELD,
        minutes=minutes,
        minutes_status=MinutesStatus.DRAFT,
        corrects=meeting,
    )
    _save(correction, actor=actor, reason=f"Correction of the minutes of meeting {meeting.pk}")
    return correction


@transaction.atomic
def discard_minutes_correction(*, correction: Meeting, actor) -> Meeting:
    """Discard a correction recorded by mistake, while it is a draft never circulated (no member has read
    it for approval, let alone voted). Its history keeps it, with who discarded it and when; the approved
    minutes and the meeting it corrects stay as they are. Returns that meeting."""
    correction = _locked_meeting(correction)
    if not correction.corrects_id:
        raise ValidationError(
            _("This is a meeting, not a correction: only a draft correction of minutes is discarded.")
        )
    if correction.minutes_status == MinutesStatus.APPROVED:
        raise ValidationError(
            _("This correction is approved and final: to change the minutes again, record a new correction.")
        )
    if correction.minutes_circulation:
        raise ValidationError(
            _("This correction was circulated for approval: edit it and circulate it again instead of discarding it.")
        )
    corrected = correction.corrects
    correction._history_user = actor
    correction._change_reason = "Correction discarded before it was circulated"
    correction.delete()
    return corrected


# Decisions -----------------------------------------------------------------------------------------


def _back_to_draft(meeting: Meeting, *, actor, change: str) -> None:
    """Circulated minutes whose decisions or action items change go back to draft, as when their text is edited
    (update_minutes): the members voted on what was circulated, so they vote again once it is circulated again."""
    if meeting.minutes_status == MinutesStatus.CIRCULATED:
        meeting.minutes_status = MinutesStatus.DRAFT
        _save(meeting, actor=actor, reason=f"{change}; back to draft, votes on the circulated minutes no longer count")


def _refuse_if_approved(meeting: Meeting) -> None:
    if meeting.minutes_status == MinutesStatus.APPROVED:
        raise ValidationError(_("The minutes of this meeting are approved; record a correction instead."))


def _require_taken_place(meeting: Meeting, *, field: str, today: datetime.date | None = None) -> None:
    """Refuse, under ``field``, a record of a meeting that was cancelled or has not taken place yet."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({field: _("The meeting was cancelled: nothing is recorded in it.")})
    day = meeting_day(meeting.scheduled_for)
    if meeting.status == MeetingStatus.PLANNED and day > (today or timezone.localdate()):
        raise ValidationError(
            {
                field: _("The meeting is planned for %(day)s: record it once it has taken place.")
                % {"day": date_format(day, "SHORT_DATE_FORMAT")}
            }
        )


@transaction.atomic
def record_decision(*, meeting: Meeting, text: str, actor) -> Decision:
    """The meeting's next numbered decision. The meeting decides once held with its quorum (its
    attendance recorded: see governance.selectors.quorum_is_met). Approved minutes are final: no
    decision is added to them; circulated ones go back to draft (their votes no longer count)."""
    meeting = _locked_meeting(meeting)
    _refuse_if_correction(meeting, field="meeting")
    _refuse_if_approved(meeting)
    _require_taken_place(meeting, field="meeting")
    quorum = meeting_quorum(meeting)
    if quorum is None:
        raise ValidationError({"meeting": _("Record the attendance first: the meeting decides with its quorum.")})
    if not quorum:
        raise ValidationError({"meeting": _("The meeting lacked its quorum: it takes no decision.")})
    number = (meeting.decisions.aggregate(last=Max("number"))["last"] or 0) + 1
    decision = Decision(meeting=meeting, number=number, text=text, created_by=actor)
    _save(decision, actor=actor, reason="Recorded")
    _back_to_draft(meeting, actor=actor, change=f"Decision {number} recorded")
    return decision


@transaction.atomic
def update_decision(*, decision: Decision, text: str, actor) -> Decision:
    """Reword a decision while its meeting's minutes are not approved; approved ones are final. Circulated
    minutes go back to draft (their votes no longer count), as when their text is edited."""
    meeting = _locked_meeting(decision.meeting)
    _refuse_if_approved(meeting)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if decision.text == text:
        return decision
    decision.text = text
    _save(decision, actor=actor, reason="Reworded")
    _back_to_draft(meeting, actor=actor, change=f"Decision {decision.number} reworded")
    return decision


# Action items --------------------------------------------------------------------------------------


@transaction.atomic
def create_action_item(
    *,
    title: str,
    due_date: datetime.date,
    created_by,
    owner=None,
    owner_contact=None,
    meeting: Meeting | None = None,
    decision: Decision | None = None,
    finding=None,
    description: str = "",
) -> ActionItem:
    """An open action item owned by a user or a vendor contact, from a meeting, a decision (its
    meeting is then the decision's) or an audit finding. A meeting's items are recorded once it has
    taken place and until its minutes are approved, due on the meeting's day or later; a vendor contact
    who owns one is a contact of the committee's vendor (of the audited vendor, for a finding's). Circulated
    minutes go back to draft (their votes no longer count), as when their text is edited."""
    if decision is not None:
        if meeting is not None and meeting.pk != decision.meeting_id:
            raise ValidationError(_("The decision belongs to another meeting."))
        meeting = decision.meeting
    if meeting is not None:
        meeting = _locked_meeting(meeting)
        _refuse_if_correction(meeting, field="meeting")
        if meeting.minutes_status == MinutesStatus.APPROVED:
            raise ValidationError(
                {"meeting": _("The minutes of this meeting are approved; record a correction instead.")}
            )
        _require_taken_place(meeting, field="meeting")
    _require_due_after_meeting(meeting, due_date)
    if (
        meeting is not None
        and finding is not None
        and not _governs(meeting.committee, finding.audit.audit_right.contract)
    ):
        # An item of both is shown to whoever sees either: the finding's vendor would read the meeting's item.
        raise ValidationError(
            {
                "finding": _("The finding is on %(contract)s, which the meeting's committee does not govern.")
                % {"contract": finding.audit.audit_right.contract.reference}
            }
        )
    if owner_contact is not None and owner_contact.vendor_id != _vendor_id_of(meeting, finding):
        raise ValidationError({"owner_contact": _("The owner is a contact of another vendor.")})
    item = ActionItem(
        title=title,
        description=description,
        due_date=due_date,
        owner=owner,
        owner_contact=owner_contact,
        meeting=meeting,
        decision=decision,
        finding=finding,
        status=ActionStatus.OPEN,
        created_by=created_by,
    )
    _save(item, actor=created_by, reason="Created")
    if meeting is not None:
        _back_to_draft(meeting, actor=created_by, change="Action item added")
    return item


def _vendor_id_of(meeting: Meeting | None, finding) -> int | None:
    """The vendor whose contacts may own an action item of ``meeting`` (its committee's) or of ``finding``."""
    if meeting is not None:
        return _committee_vendor_id(meeting.committee)
    return finding.audit.audit_right.contract.vendor_id if finding is not None else None


def _committee_vendor_id(committee: Committee) -> int:
    """The vendor a committee governs: its own, or its contract's."""
    return committee.vendor_id if committee.vendor_id else committee.contract.vendor_id


def _governs(committee: Committee, contract) -> bool:
    """Whether ``contract`` is one the committee governs: its contract, or a contract of its vendor."""
    if committee.contract_id:
        return committee.contract_id == contract.pk
    return committee.vendor_id == contract.vendor_id


def _require_due_after_meeting(meeting: Meeting | None, due_date: datetime.date) -> None:
    """A meeting's action is due on the meeting's day or later: one due before the meeting that raised it
    is a typing slip (a past year, a swapped month). Not "from today": the minutes are often written
    days after the meeting, and an action due in between is recorded as it was agreed."""
    if meeting is None:
        return
    day = meeting_day(meeting.scheduled_for)
    if due_date < day:
        raise ValidationError(
            {
                "due_date": _("The action is due on the meeting's day, %(day)s, or later.")
                % {"day": date_format(day, "SHORT_DATE_FORMAT")}
            }
        )


# What an action item's owner and wording may become after it is created; its origin and status stay.
ACTION_ITEM_FIELDS = ("title", "description", "owner", "owner_contact", "due_date")
# What the committee approves with its meeting's minutes: final once they are. Its owner and due date are not:
# reassigning or rescheduling an action is the follow-up of the register, kept in the item's history.
ACTION_ITEM_WORDING = ("title", "description")
ACTION_WORDING_FINAL = gettext_lazy(
    "The minutes of this meeting are approved: the action's wording is final; record a correction instead."
)


@transaction.atomic
def update_action_item(*, item: ActionItem, actor, **changes) -> ActionItem:
    """Reword an action item, give it another owner or another due date (on its meeting's day or later;
    a vendor contact of the committee's vendor as owner), kept in its history. Circulated minutes go back to draft
    (their votes no longer count), as when an item is added to them; once approved, the item's wording is final
    (ACTION_ITEM_WORDING), its owner and due date still change."""
    if unknown := set(changes) - set(ACTION_ITEM_FIELDS):
        raise ValidationError(_("These fields are not changed here: %(fields)s.") % {"fields": ", ".join(unknown)})
    # The meeting first, as when an item is added to it (create_action_item): its minutes may go back to draft.
    meeting = _locked_meeting(item.meeting) if item.meeting_id else None
    item = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("meeting__committee__contract")
        .get(pk=item.pk)
    )
    changed = [name for name, value in changes.items() if getattr(item, name) != value]
    if not changed:
        return item
    reworded = [name for name in changed if name in ACTION_ITEM_WORDING]
    if reworded and meeting is not None and meeting.minutes_status == MinutesStatus.APPROVED:
        raise ValidationError(dict.fromkeys(reworded, ACTION_WORDING_FINAL))
    for name in changed:
        setattr(item, name, changes[name])
    if "due_date" in changed:
        _require_due_after_meeting(item.meeting, item.due_date)
    contact = item.owner_contact if "owner_contact" in changed else None
    if contact is not None and contact.vendor_id != _vendor_id_of(item.meeting, item.finding):
        raise ValidationError({"owner_contact": _("The owner is a contact of another vendor.")})
    _save(item, actor=actor, reason="Changed: " + ", ".join(changed))
    if meeting is not None:
        _back_to_draft(meeting, actor=actor, change="Action item changed")
    return item


def _transition(
    item: ActionItem, *, allowed_from: tuple[str, ...], to: str, actor, reason: str, cancellation_reason: str = ""
) -> ActionItem:
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if item.status == to:
        raise ValidationError(
            _("The action item is already %(status)s.") % {"status": item.get_status_display().lower()}
        )
    if item.status not in allowed_from:
        raise ValidationError(
            _("An action item that is %(status)s cannot become %(target)s.")
            % {"status": item.get_status_display(), "target": ActionStatus(to).label}
        )
    item.status = to
    item.closed_at = None if to in ActionStatus.open_values() else timezone.now()
    item.cancellation_reason = cancellation_reason
    _save(item, actor=actor, reason=reason)
    return item


@transaction.atomic
def start_action_item(*, item: ActionItem, actor) -> ActionItem:
    return _transition(
        item, allowed_from=(ActionStatus.OPEN,), to=ActionStatus.IN_PROGRESS, actor=actor, reason="Started"
    )


@transaction.atomic
def close_action_item(*, item: ActionItem, actor) -> ActionItem:
    return _transition(
        item, allowed_from=tuple(ActionStatus.open_values()), to=ActionStatus.DONE, actor=actor, reason="Done"
    )


@transaction.atomic
def cancel_action_item(*, item: ActionItem, actor, reason: str) -> ActionItem:
    """An open action item that will not be done, with the reason: kept whole on the item while it stays
    cancelled (its history's change reason holds the first 100 characters)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the action item is cancelled.")})
    if len(reason) > CANCEL_REASON_MAX:
        raise ValidationError({"reason": _("Say it in %(limit)d characters at most.") % {"limit": CANCEL_REASON_MAX}})
    return _transition(
        item,
        allowed_from=tuple(ActionStatus.open_values()),
        to=ActionStatus.CANCELLED,
        actor=actor,
        reason=f"Cancelled: {reason}",
        cancellation_reason=reason,
    )


@transaction.atomic
def reopen_action_item(*, item: ActionItem, actor) -> ActionItem:
    """A done or cancelled item that is open again (a cancelled one's reason stays in its history)."""
    return _transition(
        item,
        allowed_from=(ActionStatus.DONE, ActionStatus.CANCELLED),
        to=ActionStatus.OPEN,
        actor=actor,
        reason="Reopened",
    )
