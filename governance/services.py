"""Writes of governance: agendas, minutes (draft → circulated → approved, then corrections only),
decisions and action items. Every function is atomic, validates with full_clean() and records who did what
in the models' history (``_history_user`` and ``_change_reason``)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.choices import (
    ActionStatus,
    AttendanceStatus,
    MeetingStatus,
    MemberRole,
    MinutesApprovalMethod,
    MinutesStatus,
)
from governance.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    CommitteeMember,
    Decision,
    Meeting,
    MinutesApproval,
)
from governance.selectors import agenda_situation, meeting_day


def _save(instance, *, actor, reason: str) -> None:
    instance._history_user = actor
    instance._change_reason = reason[:100]
    instance.full_clean()
    instance.save()


@transaction.atomic
def plan_meeting(*, committee, scheduled_for: datetime.datetime, location: str = "", actor) -> Meeting:
    """A new planned meeting of ``committee`` (one per committee and time; ValidationError otherwise)."""
    meeting = Meeting(committee=committee, scheduled_for=scheduled_for, location=location.strip())
    _save(meeting, actor=actor, reason="Planned")
    return meeting


def _locked_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("committee").get(pk=meeting.pk)


# Agenda --------------------------------------------------------------------------------------------


@transaction.atomic
def propose_agenda(*, meeting: Meeting, today: datetime.date | None = None) -> list[AgendaItem]:
    """Add the items the contract's situation calls for (see governance.selectors.agenda_situation)
    after the existing ones. Idempotent: an item already proposed (same source) is not added again.
    Returns the items added."""
    meeting = _locked_meeting(meeting)
    if meeting.minutes_status == MinutesStatus.APPROVED:
        raise ValidationError(_("The minutes of this meeting are approved; its agenda is closed."))
    existing = set(meeting.agenda_items.exclude(source_key="").values_list("source_key", flat=True))
    position = meeting.agenda_items.aggregate(last=Max("position"))["last"] or 0
    added = []
    for proposal in agenda_situation(meeting, today=today):
        if proposal.key in existing:
            continue
        position += 1
        item = AgendaItem(
            meeting=meeting,
            position=position,
            title=proposal.title[:250],
            notes=proposal.notes,
            proposed_automatically=True,
            source_key=proposal.key,
        )
        item.full_clean()
        item.save()
        existing.add(proposal.key)
        added.append(item)
    return added


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
    if meeting.minutes_status != MinutesStatus.DRAFT:
        raise ValidationError(_("The minutes are circulated or approved: the attendance is final."))
    day = meeting_day(meeting.scheduled_for)
    if day > (today or timezone.localdate()):
        raise ValidationError(
            _("The meeting is planned for %(day)s: record its attendance once it is held.") % {"day": day.isoformat()}
        )
    members = {member.pk: member for member in CommitteeMember.objects.filter(committee_id=meeting.committee_id)}
    if set(attendance) - set(members):
        raise ValidationError({"attendance": _("Only members of the committee attend its meetings.")})
    if missing := [members[pk] for pk in members if pk not in attendance]:
        names = ", ".join(str(member.user or member.contact) for member in missing)
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
    _save(
        meeting,
        actor=actor,
        reason="Held: {present} present, {excused} excused, {absent} absent".format(**counts),
    )
    return meeting


# The reason is kept whole in the meeting's history, whose change reasons hold 100 characters.
CANCEL_REASON_MAX = 100 - len("Cancelled: ")


@transaction.atomic
def cancel_meeting(*, meeting: Meeting, actor, reason: str) -> Meeting:
    """A planned meeting that will not take place; the reason is kept in its history."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the meeting is cancelled.")})
    if len(reason.strip()) > CANCEL_REASON_MAX:
        raise ValidationError({"reason": _("Say it in %(limit)d characters at most.") % {"limit": CANCEL_REASON_MAX}})
    meeting = _locked_meeting(meeting)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError(_("Only a planned meeting can be cancelled."))
    meeting.status = MeetingStatus.CANCELLED
    _save(meeting, actor=actor, reason=f"Cancelled: {reason.strip()}")
    return meeting


@transaction.atomic
def update_minutes(*, meeting: Meeting, minutes: str, actor) -> Meeting:
    """Edit draft or circulated minutes; editing circulated minutes returns them to draft (they must
    be circulated again). Approved minutes are refused: record a correction instead."""
    meeting = _locked_meeting(meeting)
    if meeting.minutes_status == MinutesStatus.APPROVED:
        raise ValidationError(_("Approved minutes cannot be edited; record a correction instead."))
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
    meeting.minutes_status = MinutesStatus.APPROVED
    meeting.minutes_approved_by = actor
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
    """Record that a member present at the meeting approves the circulated minutes (the secretary
    may record the vote of a vendor contact who does not sign in). Once every member present has
    approved, the minutes are approved by vote."""
    meeting = _locked_meeting(meeting)
    _require_circulated(meeting)
    present = set(meeting.attendances.filter(status=AttendanceStatus.PRESENT).values_list("member_id", flat=True))
    if member.committee_id != meeting.committee_id or member.pk not in present:
        raise ValidationError(_("Only members present at the meeting vote on its minutes."))
    votes = meeting.minutes_approvals.filter(circulation=meeting.minutes_circulation)
    if votes.filter(member=member).exists():
        raise ValidationError(_("This member has already approved these minutes."))
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
def record_minutes_correction(*, meeting: Meeting, minutes: str, actor) -> Meeting:
    """Correct approved minutes: a new meeting record (held now, minutes in draft) pointing to the
    approved one, which stays as it was. Corrections do not count as meetings for cadence."""
    meeting = _locked_meeting(meeting)
    if meeting.minutes_status != MinutesStatus.APPROVED:
        raise ValidationError(_("Only approved minutes need a correction; edit these minutes instead."))
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


# Decisions -----------------------------------------------------------------------------------------


def _refuse_if_approved(meeting: Meeting) -> None:
    if meeting.minutes_status == MinutesStatus.APPROVED:
        raise ValidationError(_("The minutes of this meeting are approved; record a correction instead."))


@transaction.atomic
def record_decision(*, meeting: Meeting, text: str, actor) -> Decision:
    """The meeting's next numbered decision. Approved minutes are final: no decision is added to them."""
    meeting = _locked_meeting(meeting)
    _refuse_if_approved(meeting)
    number = (meeting.decisions.aggregate(last=Max("number"))["last"] or 0) + 1
    decision = Decision(meeting=meeting, number=number, text=text, created_by=actor)
    _save(decision, actor=actor, reason="Recorded")
    return decision


@transaction.atomic
def update_decision(*, decision: Decision, text: str, actor) -> Decision:
    """Reword a decision while its meeting's minutes are not approved; approved ones are final."""
    _refuse_if_approved(_locked_meeting(decision.meeting))
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    decision.text = text
    _save(decision, actor=actor, reason="Reworded")
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
    meeting is then the decision's) or an audit finding."""
    if decision is not None:
        if meeting is not None and meeting.pk != decision.meeting_id:
            raise ValidationError(_("The decision belongs to another meeting."))
        meeting = decision.meeting
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
    return item


def _transition(item: ActionItem, *, allowed_from: tuple[str, ...], to: str, actor, reason: str) -> ActionItem:
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if item.status not in allowed_from:
        raise ValidationError(
            _("An action item that is %(status)s cannot become %(target)s.")
            % {"status": item.get_status_display(), "target": ActionStatus(to).label}
        )
    item.status = to
    item.closed_at = None if to in ActionStatus.open_values() else timezone.now()
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
def cancel_action_item(*, item: ActionItem, actor, reason: str = "") -> ActionItem:
    return _transition(
        item,
        allowed_from=tuple(ActionStatus.open_values()),
        to=ActionStatus.CANCELLED,
        actor=actor,
        reason=f"Cancelled: {reason}" if reason else "Cancelled",
    )


@transaction.atomic
def reopen_action_item(*, item: ActionItem, actor) -> ActionItem:
    return _transition(
        item,
        allowed_from=(ActionStatus.DONE, ActionStatus.CANCELLED),
        to=ActionStatus.OPEN,
        actor=actor,
        reason="Reopened",
    )
