"""Steering committees, their meetings, minutes, decisions and action items."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from contracts.models import Contract, KeptWhereCreated, Vendor, VendorContact
from governance.choices import (
    ActionStatus,
    AttendanceStatus,
    Cadence,
    MeetingStatus,
    MemberRole,
    MinutesApprovalMethod,
    MinutesStatus,
    Side,
    Tier,
)


class Committee(KeptWhereCreated, models.Model):
    """A governance body required by a contract (or by a vendor relationship across contracts)."""

    # Its meetings, minutes and members (the vendor's side) belong to that contract's or vendor's record.
    fixed_once_created = ("contract", "vendor")
    moved_message = _("A committee stays with its contract or vendor: set up a committee there instead.")

    name = models.CharField(_("name"), max_length=200)
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="committees")
    vendor = models.ForeignKey(
        Vendor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="committees",
        help_text=_("For a committee that governs all of a vendor's contracts."),
    )
    tier = models.CharField(_("tier"), max_length=12, choices=Tier.choices)
    cadence = models.CharField(_("required cadence"), max_length=12, choices=Cadence.choices)
    quorum = models.PositiveSmallIntegerField(
        _("quorum"),
        default=2,
        help_text=_("Members present needed for the meeting to decide."),
        validators=[MaxValueValidator(100)],
    )
    quorum_needs_each_side = models.BooleanField(
        _("quorum needs a member from each side"),
        default=False,
        help_text=_("The meeting decides only when members of both the client and the vendor are present."),
    )
    terms_of_reference = models.TextField(_("terms of reference"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # A vendor-wide committee that never met is due one cadence interval after it was set up.
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("steering committee")
        verbose_name_plural = _("steering committees")
        constraints = [
            models.CheckConstraint(
                name="committee_contract_xor_vendor",
                condition=Q(contract__isnull=False, vendor__isnull=True)
                | Q(contract__isnull=True, vendor__isnull=False),
                violation_error_message=_("A committee belongs to a contract or to a vendor, not both."),
            ),
            models.CheckConstraint(
                name="committee_quorum_positive",
                condition=Q(quorum__gte=1),
                violation_error_message=_("The quorum is at least one member."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


def person_name(user, contact) -> str:
    """A committee member or action owner as the pages and the pack name them: a user of a vendor with their
    vendor, as a vendor contact's name reads ("Nadia Benali (Lumen Relation Client)"), so that every person
    of the vendor's side is told apart from the customer's alike."""
    if contact is not None:
        return str(contact)
    return f"{user} ({user.vendor})" if user.vendor_id else str(user)


class CommitteeMember(models.Model):
    """A seat on a committee: a user of either side, or a vendor contact who does not sign in."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="committee_seats"
    )
    contact = models.ForeignKey(
        VendorContact, on_delete=models.PROTECT, null=True, blank=True, related_name="committee_seats"
    )
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    role = models.CharField(_("role"), max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    # Who sits, on which side, and who chairs decide who votes on the minutes and who approves them alone:
    # each seat given, changed or taken away is kept, with who did it and when.
    history = HistoricalRecords()

    class Meta:
        ordering = ["committee", "side", "role"]
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")
        constraints = [
            models.CheckConstraint(
                name="member_user_xor_contact",
                condition=Q(user__isnull=False, contact__isnull=True) | Q(user__isnull=True, contact__isnull=False),
                violation_error_message=_("A member is either a user or a vendor contact."),
            ),
            models.UniqueConstraint(
                fields=["committee", "user"], condition=Q(user__isnull=False), name="member_unique_user"
            ),
            models.UniqueConstraint(
                fields=["committee", "contact"], condition=Q(contact__isnull=False), name="member_unique_contact"
            ),
            models.UniqueConstraint(
                fields=["committee"],
                condition=Q(role=MemberRole.CHAIR),
                name="member_one_chair",
                violation_error_message=_("A committee has one chair."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.contact} ({self.get_role_display()}, {self.committee})"

    @property
    def name(self) -> str:
        return person_name(self.user, self.contact)


class Meeting(models.Model):
    """A committee meeting with its minutes. Approved minutes are never edited; a correction is a
    new meeting record that points to the one it corrects."""

    committee = models.ForeignKey(
        Committee, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("committee")
    )
    scheduled_for = models.DateTimeField(_("date and time"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    cancellation_reason = models.TextField(_("why it was cancelled"), max_length=2000, blank=True, editable=False)
    # The quorum terms in force on the meeting's day, kept when its attendance is recorded: a later change of
    # the committee's terms does not rewrite whether a past meeting had its quorum (governance.selectors).
    quorum = models.PositiveSmallIntegerField(_("quorum"), null=True, blank=True, editable=False)
    quorum_needs_each_side = models.BooleanField(
        _("quorum needs a member from each side"), null=True, blank=True, editable=False
    )
    minutes = models.TextField(_("minutes (Markdown)"), blank=True)
    minutes_status = models.CharField(
        _("minutes status"), max_length=10, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT
    )
    # Each circulation of the minutes is voted on afresh: votes on an earlier text do not count.
    minutes_circulation = models.PositiveSmallIntegerField(_("minutes circulated (times)"), default=0, editable=False)
    minutes_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The chair who approved the minutes; none when the members present approved them by vote."),
    )
    minutes_approved_at = models.DateTimeField(_("minutes approved"), null=True, blank=True)
    minutes_approval_method = models.CharField(
        _("minutes approval"), max_length=10, choices=MinutesApprovalMethod.choices, blank=True
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects the minutes of"),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["committee", "-scheduled_for"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.UniqueConstraint(fields=["committee", "scheduled_for"], name="meeting_unique_committee_time"),
            models.CheckConstraint(
                name="meeting_minutes_approval_recorded",
                # Approved by vote, they are the members present's: no one person approved them.
                condition=~Q(minutes_status=MinutesStatus.APPROVED)
                | Q(minutes_approved_at__isnull=False, minutes_approval_method=MinutesApprovalMethod.VOTE)
                | Q(minutes_approved_by__isnull=False, minutes_approved_at__isnull=False),
                violation_error_message=_("Approved minutes record who approved them and when."),
            ),
        ]
        indexes = [models.Index(fields=["committee", "status", "scheduled_for"], name="meeting_cadence_idx")]

    def __str__(self) -> str:
        return f"{self.committee} – {self.scheduled_for:%Y-%m-%d}"

    def save(self, *args, **kwargs) -> None:
        """Refuse to change approved minutes, whoever calls save: a correction is a new meeting record."""
        if getattr(self, "_stored_minutes_status", None) == MinutesStatus.APPROVED and (
            self.minutes != self._stored_minutes or self.minutes_status != MinutesStatus.APPROVED
        ):
            raise ValidationError(
                _("Approved minutes cannot be changed; record a correction that points to this meeting.")
            )
        super().save(*args, **kwargs)
        self._remember_minutes()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._remember_minutes()
        return instance

    def _remember_minutes(self) -> None:
        self._stored_minutes = self.minutes
        self._stored_minutes_status = self.minutes_status


class AgendaItem(models.Model):
    """One point of a meeting's agenda, proposed from the contract's situation or added by hand. Each
    addition, move and removal is kept in its history (governance.services)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=250)
    notes = models.TextField(_("notes"), blank=True)
    proposed_automatically = models.BooleanField(_("proposed automatically"), default=False)
    source_key = models.CharField(
        _("source"),
        max_length=100,
        blank=True,
        help_text=_("What a proposed item comes from (e.g. statement:12), so proposing twice adds it once."),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["meeting", "position"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="agenda_unique_position"),
            models.UniqueConstraint(
                fields=["meeting", "source_key"], condition=~Q(source_key=""), name="agenda_unique_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class Attendance(models.Model):
    """Whether a member attended a meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="attendances")
    status = models.CharField(_("status"), max_length=10, choices=AttendanceStatus.choices)
    # A corrected attendance changes who votes on the minutes: each change is kept.
    history = HistoricalRecords()

    class Meta:
        ordering = ["meeting", "member"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="attendance_unique_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.get_status_display()}"


class MinutesApproval(models.Model):
    """One present member's vote approving a meeting's circulated minutes, as circulated that time
    (``circulation``: the meeting's ``minutes_circulation`` when the vote was cast)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="minutes_approvals")
    member = models.ForeignKey(CommitteeMember, on_delete=models.PROTECT, related_name="minutes_approvals")
    circulation = models.PositiveSmallIntegerField(_("circulation"), default=1)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("approved"))

    class Meta:
        ordering = ["meeting", "approved_at"]
        verbose_name = _("minutes approval")
        verbose_name_plural = _("minutes approvals")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "circulation", "member"], name="minutesapproval_one_per_member_and_circulation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: approved by {self.member}"


# A decision is a resolution, not a report: its text is bounded (pasted documents go in the minutes).
DECISION_MAX = 10_000


class Decision(models.Model):
    """A decision recorded in a meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    number = models.PositiveSmallIntegerField(_("number"))
    text = models.TextField(_("decision"), max_length=DECISION_MAX, validators=[MaxLengthValidator(DECISION_MAX)])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["meeting", "number"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "number"], name="decision_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} decision {self.number}"


class ActionItem(models.Model):
    """Something someone must do by a date, created by a meeting, a decision or an audit finding."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="action_items")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="action_items")
    finding = models.ForeignKey(
        "audits.Finding", on_delete=models.PROTECT, null=True, blank=True, related_name="action_items"
    )
    title = models.CharField(_("title"), max_length=250)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="action_items"
    )
    owner_contact = models.ForeignKey(
        VendorContact, on_delete=models.PROTECT, null=True, blank=True, related_name="action_items"
    )
    due_date = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Kept whole while the item is cancelled; its history keeps it after a reopening.
    cancellation_reason = models.TextField(_("why it was cancelled"), max_length=2000, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        constraints = [
            models.CheckConstraint(
                name="action_has_one_owner",
                condition=Q(owner__isnull=False, owner_contact__isnull=True)
                | Q(owner__isnull=True, owner_contact__isnull=False),
                violation_error_message=_("An action item has one owner: a user or a vendor contact."),
            ),
            models.CheckConstraint(
                name="action_has_origin",
                condition=Q(meeting__isnull=False) | Q(finding__isnull=False),
                violation_error_message=_("An action item comes from a meeting or an audit finding."),
            ),
            models.CheckConstraint(
                name="action_closed_when_finished",
                condition=Q(status__in=ActionStatus.open_values(), closed_at__isnull=True)
                | (~Q(status__in=ActionStatus.open_values()) & Q(closed_at__isnull=False)),
                violation_error_message=_("Done or cancelled items record when they closed; open ones do not."),
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="action_overdue_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def owner_name(self) -> str:
        return person_name(self.owner, self.owner_contact)
