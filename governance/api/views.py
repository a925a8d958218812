"""REST endpoints of governance; behaviour lives in config.api, creates and state changes in governance.services.

Who writes a committee's record (meetings, decisions, action items: create, update and every action) is
decided by governance.permissions, the rule of the web pages: administrators and the customer-side members
of the row's committee, whatever their role's model permissions; a vendor user changes nothing; a member
of either side votes on circulated minutes. The rule is asked once the row is found in scope (a 404
otherwise); for a create, once the input named the row's meeting or committee among the user's (a 400
otherwise), so a 403 never tells that a row outside the scope exists. The chair's approval of the minutes
is then the service's to refuse (a 400), as on the meeting page.

A committee is created with the role's model permission, as everywhere in the API (config.api.RolePermission);
its terms (cadence, quorum) are then changed by administrators and its customer-side members, with a reason
kept in its history (governance.services.update_committee). Action items of an audit finding alone are no
committee's record: those who follow findings up (auditors, administrators) write them
(governance.permissions.may_change_finding_action). Vendor users write none of them.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from accounts.scoping import restrict
from config.api import RolePermission, ScopedModelViewSet
from governance import filtersets, services
from governance.api import serializers
from governance.models import ActionItem, AgendaItem, Committee, CommitteeMember, Decision, Meeting
from governance.permissions import (
    committee_id_of,
    keeps_the_record,
    may_change_finding_action,
    may_change_record_of,
    members_seen_by,
    seat_of,
)
from governance.selectors import with_compliance_annotations


class CustomerKeepsTheRecord(RolePermission):
    """The API's role permissions, and governance.permissions.keeps_the_record for every write but the
    actions a viewset opens to the members of either side (`member_actions`, which check the seat)."""

    @staticmethod
    def _allowed(request, view) -> bool:
        writes = request.method not in SAFE_METHODS
        if writes and getattr(view, "action", None) not in view.member_actions and not keeps_the_record(request.user):
            return False
        return RolePermission._allowed(request, view)


class CommitteeKeepsTheRecord(CustomerKeepsTheRecord):
    """Writes on a row of a committee's record: governance.permissions.may_change_record_of for the row's
    committee, not the role's permissions. A create is decided on the row about to be created, which the
    viewset checks once its input is valid (`check_object_permissions`); before that, only vendor users
    are refused. Reads, member actions and rows of no committee follow CustomerKeepsTheRecord."""

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) == "create":
            return keeps_the_record(request.user)
        return super().has_permission(request, view)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or view.action in view.member_actions:
            return super().has_object_permission(request, view, obj)
        committee_id = committee_id_of(obj)
        if committee_id is None:
            return keeps_the_record(request.user) and may_change_finding_action(request.user)
        return may_change_record_of(request.user, committee_id)


class CommitteeTermsKeptByItsMembers(CustomerKeepsTheRecord):
    """A committee is created with the role's permission; it is changed by administrators and its
    customer-side members (governance.permissions.may_change_record_of), whatever their role."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return super().has_object_permission(request, view, obj)
        return may_change_record_of(request.user, obj.pk)


def any_member(user) -> bool:
    """An `action_rule` for the actions of any member, of either side: the view checks the seat."""
    return user.is_active


class GovernanceViewSet(ScopedModelViewSet):
    permission_classes = [CustomerKeepsTheRecord]
    member_actions: frozenset[str] = frozenset()


class RecordViewSet(GovernanceViewSet):
    """Rows of a committee's record: see CommitteeKeepsTheRecord."""

    permission_classes = [CommitteeKeepsTheRecord]


class CommitteeViewSet(GovernanceViewSet):
    queryset = Committee.objects.all()
    serializer_class = serializers.CommitteeSerializer
    filterset_class = filtersets.CommitteeFilterSet
    permission_classes = [CommitteeTermsKeptByItsMembers]

    def perform_create(self, serializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("reason", None)
        serializer.instance = services.create_committee(actor=self.request.user, **data)

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        reason = data.pop("reason", "")
        serializer.instance = services.update_committee(
            committee=serializer.instance, actor=self.request.user, reason=reason, **data
        )

    def get_queryset(self):
        members = restrict(CommitteeMember.objects.all(), self.request.user).select_related("user", "contact")
        return with_compliance_annotations(super().get_queryset()).prefetch_related(Prefetch("members", members))


class MeetingViewSet(RecordViewSet):
    queryset = Meeting.objects.all()
    serializer_class = serializers.MeetingSerializer
    filterset_class = filtersets.MeetingFilterSet
    # Not by the minutes: the order would tell a vendor's users what a draft they may not read says.
    ordering_fields = [field.name for field in Meeting._meta.concrete_fields if field.name != "minutes"]
    member_actions = frozenset({"vote_minutes"})
    create_input_class = serializers.MeetingInput

    def get_queryset(self):
        agenda = restrict(AgendaItem.objects.order_by("position"), self.request.user)
        corrections = restrict(Meeting.objects.order_by("scheduled_for", "pk"), self.request.user)
        return (
            super()
            .get_queryset()
            .prefetch_related("attendances", Prefetch("agenda_items", agenda), Prefetch("corrections", corrections))
        )

    def create_with_service(self, data: dict) -> Meeting:
        self.check_committee_joined(data.get("committee"))
        return services.plan_meeting(**data, actor=self.request.user)

    def perform_update(self, serializer) -> None:
        """Rescheduling and moving follow governance.services.update_meeting (a held or cancelled meeting
        keeps its date and committee)."""
        data = serializer.validated_data
        self.check_committee_joined(data.get("committee"))
        serializer.instance = services.update_meeting(
            meeting=serializer.instance,
            actor=self.request.user,
            scheduled_for=data.get("scheduled_for"),
            committee=data.get("committee"),
            location=data.get("location"),
        )

    def check_committee_joined(self, committee) -> None:
        """A meeting created, or moved to another committee, is written to that committee's record too."""
        if committee is not None:
            self.check_object_permissions(self.request, Meeting(committee=committee))

    @extend_schema(
        request=serializers.AttendanceInput,
        summary="Record the attendance of every member: the meeting is held",
        description="A held meeting's attendance may be corrected while its minutes are a draft.",
    )
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        meeting = self.get_object()
        data = self.action_input(serializers.AttendanceInput)
        return self.respond_with(
            services.record_attendance(meeting=meeting, attendance=data["attendance"], actor=request.user)
        )

    @extend_schema(request=serializers.MeetingCancellationInput, summary="Cancel a planned meeting, with the reason")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        meeting = self.get_object()
        data = self.action_input(serializers.MeetingCancellationInput)
        return self.respond_with(services.cancel_meeting(meeting=meeting, reason=data["reason"], actor=request.user))

    @extend_schema(
        request=None,
        summary="Propose the agenda from the contract's situation (items already proposed are not added again)",
    )
    @action(detail=True, methods=["post"], url_path="propose-agenda")
    def propose_agenda(self, request, pk=None):
        meeting = self.get_object()
        services.propose_agenda(meeting=meeting, actor=request.user)
        return self.respond_with(meeting)

    @extend_schema(request=serializers.AgendaItemInput, summary="Add an agenda item at the end of the agenda")
    @action(detail=True, methods=["post"], url_path="add-agenda-item")
    def add_agenda_item(self, request, pk=None):
        meeting = self.get_object()
        data = self.action_input(serializers.AgendaItemInput)
        services.add_agenda_item(meeting=meeting, title=data["title"], notes=data["notes"], actor=request.user)
        return self.respond_with(meeting)

    @extend_schema(request=serializers.AgendaMoveInput, summary="Move an agenda item one place up or down")
    @action(detail=True, methods=["post"], url_path="move-agenda-item")
    def move_agenda_item(self, request, pk=None):
        meeting = self.get_object()
        data = self.action_input(serializers.AgendaMoveInput)
        item = self.agenda_item(meeting, data["item"])
        services.move_agenda_item(item=item, direction=data["direction"], actor=request.user)
        return self.respond_with(meeting)

    @extend_schema(request=serializers.AgendaItemRef, summary="Remove an agenda item (its history keeps it)")
    @action(detail=True, methods=["post"], url_path="remove-agenda-item")
    def remove_agenda_item(self, request, pk=None):
        meeting = self.get_object()
        data = self.action_input(serializers.AgendaItemRef)
        services.remove_agenda_item(item=self.agenda_item(meeting, data["item"]), actor=request.user)
        return self.respond_with(meeting)

    def agenda_item(self, meeting: Meeting, pk: int) -> AgendaItem:
        item = restrict(AgendaItem.objects.filter(meeting=meeting), self.request.user).filter(pk=pk).first()
        if item is None:
            raise ValidationError({"item": _("This is not an item of the meeting's agenda.")})
        return item

    @extend_schema(request=serializers.MinutesInput, summary="Edit the minutes (circulated minutes return to draft)")
    @action(detail=True, methods=["post"])
    def minutes(self, request, pk=None):
        meeting = self.get_object()
        data = self.action_input(serializers.MinutesInput)
        return self.respond_with(services.update_minutes(meeting=meeting, minutes=data["minutes"], actor=request.user))

    @extend_schema(
        request=serializers.MinutesInput,
        responses={201: serializers.MeetingSerializer},
        summary="Correct approved minutes: a new record carrying the corrected text (answered with it)",
        description="The text is written out and differs from the current one; one correction at a time. The "
        "correction is then edited, circulated and approved through its own record's actions.",
    )
    @action(detail=True, methods=["post"], url_path="correct-minutes")
    def correct_minutes(self, request, pk=None):
        meeting = self.get_object()
        data = self.action_input(serializers.MinutesInput)
        correction = services.record_minutes_correction(meeting=meeting, minutes=data["minutes"], actor=request.user)
        return self.respond_with(correction, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: None},
        summary="Discard a draft correction never circulated (its history keeps it)",
        description="The approved minutes and the meeting they belong to stay as they are.",
    )
    @action(detail=True, methods=["post"], url_path="discard-correction")
    def discard_correction(self, request, pk=None):
        services.discard_minutes_correction(correction=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, summary="Circulate draft minutes for approval")
    @action(detail=True, methods=["post"])
    def circulate(self, request, pk=None):
        return self.respond_with(services.circulate_minutes(meeting=self.get_object(), actor=request.user))

    @extend_schema(request=None, summary="Approve circulated minutes (the committee's chair)")
    @action(detail=True, methods=["post"], url_path="approve-minutes")
    def approve_minutes(self, request, pk=None):
        return self.respond_with(services.approve_minutes_as_chair(meeting=self.get_object(), actor=request.user))

    @extend_schema(
        request=None,
        summary="Approve circulated minutes by your vote (a member present at the meeting, of either side)",
        description="Once every member present has voted, the minutes are approved by vote.",
    )
    @action(detail=True, methods=["post"], url_path="vote-minutes", action_rule=any_member)
    def vote_minutes(self, request, pk=None):
        meeting = self.get_object()
        seat = seat_of(request.user, members_seen_by(request.user, meeting.committee_id))
        if seat is None:
            raise PermissionDenied
        services.record_minutes_vote(meeting=meeting, member=seat, actor=request.user)
        return self.respond_with(meeting)

    @extend_schema(
        request=serializers.ContactVoteInput,
        summary="Record the vote of a vendor contact present at the meeting who does not sign in",
        description="By those who keep the committee's record; the vote keeps who recorded it and when.",
    )
    @action(detail=True, methods=["post"], url_path="record-vote")
    def record_vote(self, request, pk=None):
        meeting = self.get_object()
        data = self.action_input(serializers.ContactVoteInput)
        member = members_seen_by(request.user, meeting.committee_id).filter(pk=data["member"]).first()
        if member is None:
            raise ValidationError({"member": _("Only members present at the meeting vote on its minutes.")})
        services.record_contact_vote(meeting=meeting, member=member, actor=request.user)
        return self.respond_with(meeting)


class DecisionViewSet(RecordViewSet):
    """Decisions are numbered in their meeting; approved minutes get none and keep theirs unchanged."""

    queryset = Decision.objects.all()
    serializer_class = serializers.DecisionSerializer
    filterset_class = filtersets.DecisionFilterSet
    create_input_class = serializers.DecisionInput

    def create_with_service(self, data: dict) -> Decision:
        self.check_object_permissions(self.request, Decision(meeting=data["meeting"]))
        return services.record_decision(**data, actor=self.request.user)

    def perform_update(self, serializer) -> None:
        decision = serializer.instance
        text = serializer.validated_data.get("text", decision.text)
        serializer.instance = services.update_decision(decision=decision, text=text, actor=self.request.user)


class ActionItemViewSet(RecordViewSet):
    """An action item of a meeting is the committee's record; one of an audit finding alone is written by
    those who follow findings up (CommitteeKeepsTheRecord)."""

    queryset = ActionItem.objects.all()
    serializer_class = serializers.ActionItemSerializer
    filterset_class = filtersets.ActionItemFilterSet
    create_input_class = serializers.ActionItemInput

    def create_with_service(self, data: dict) -> ActionItem:
        decision = data.get("decision")
        meeting = decision.meeting if decision is not None else data.get("meeting")
        self.check_object_permissions(self.request, ActionItem(meeting=meeting, finding=data.get("finding")))
        return services.create_action_item(**data, created_by=self.request.user)

    def perform_update(self, serializer) -> None:
        """A new due date is on the meeting's day or later; once the meeting's minutes are approved, the wording
        is final (governance.services.update_action_item)."""
        serializer.instance = services.update_action_item(
            item=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=None, summary="Start an open action item")
    @action(detail=True, methods=["post"], action_rule=may_change_finding_action)
    def start(self, request, pk=None):
        return self.respond_with(services.start_action_item(item=self.get_object(), actor=request.user))

    @extend_schema(request=None, summary="Close an action item (done)")
    @action(detail=True, methods=["post"], action_rule=may_change_finding_action)
    def close(self, request, pk=None):
        return self.respond_with(services.close_action_item(item=self.get_object(), actor=request.user))

    @extend_schema(request=serializers.CancellationInput, summary="Cancel an open action item, with the reason")
    @action(detail=True, methods=["post"], action_rule=may_change_finding_action)
    def cancel(self, request, pk=None):
        item = self.get_object()
        data = self.action_input(serializers.CancellationInput)
        return self.respond_with(services.cancel_action_item(item=item, reason=data["reason"], actor=request.user))

    @extend_schema(request=None, summary="Reopen a done or cancelled action item")
    @action(detail=True, methods=["post"], action_rule=may_change_finding_action)
    def reopen(self, request, pk=None):
        return self.respond_with(services.reopen_action_item(item=self.get_object(), actor=request.user))
