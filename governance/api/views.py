"""REST endpoints of governance; behaviour lives in config.api, creates and state changes in governance.services.

Who writes is decided as everywhere in the API (the role's model permission, config.api.RolePermission)
and by governance.permissions, the rule of the web pages too: the record is the customer's, so a vendor
user changes nothing, whatever permission they hold; a member of either side votes on circulated minutes.
"""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS

from accounts.scoping import restrict
from config.api import RolePermission, ScopedModelViewSet, has_model_permission
from governance import filtersets, services
from governance.api import serializers
from governance.models import ActionItem, Committee, CommitteeMember, Decision, Meeting
from governance.permissions import keeps_the_record, seat_of
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


def any_member(user) -> bool:
    """An `action_rule` for the actions of any member, of either side: the view checks the seat."""
    return user.is_active


class GovernanceViewSet(ScopedModelViewSet):
    permission_classes = [CustomerKeepsTheRecord]
    member_actions: frozenset[str] = frozenset()


class CommitteeViewSet(GovernanceViewSet):
    queryset = Committee.objects.all()
    serializer_class = serializers.CommitteeSerializer
    filterset_class = filtersets.CommitteeFilterSet

    def get_queryset(self):
        return with_compliance_annotations(super().get_queryset())


class MeetingViewSet(GovernanceViewSet):
    queryset = Meeting.objects.all()
    serializer_class = serializers.MeetingSerializer
    filterset_class = filtersets.MeetingFilterSet
    member_actions = frozenset({"vote_minutes"})

    @extend_schema(request=serializers.MinutesInput, summary="Edit the minutes (circulated minutes return to draft)")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Meeting, "change"))
    def minutes(self, request, pk=None):
        meeting = self.get_object()
        data = self.action_input(serializers.MinutesInput)
        return self.respond_with(services.update_minutes(meeting=meeting, minutes=data["minutes"], actor=request.user))

    @extend_schema(request=None, summary="Circulate draft minutes for approval")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Meeting, "change"))
    def circulate(self, request, pk=None):
        return self.respond_with(services.circulate_minutes(meeting=self.get_object(), actor=request.user))

    @extend_schema(request=None, summary="Approve circulated minutes (the committee's chair)")
    @action(
        detail=True,
        methods=["post"],
        url_path="approve-minutes",
        action_rule=has_model_permission(Meeting, "change"),
    )
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
        members = restrict(CommitteeMember.objects.filter(committee_id=meeting.committee_id), request.user)
        seat = seat_of(request.user, members)
        if seat is None:
            raise PermissionDenied
        services.record_minutes_vote(meeting=meeting, member=seat, actor=request.user)
        return self.respond_with(meeting)


class DecisionViewSet(GovernanceViewSet):
    """Decisions are numbered in their meeting; approved minutes get none and keep theirs unchanged."""

    queryset = Decision.objects.all()
    serializer_class = serializers.DecisionSerializer
    filterset_class = filtersets.DecisionFilterSet
    create_input_class = serializers.DecisionInput

    def create_with_service(self, data: dict) -> Decision:
        return services.record_decision(**data, actor=self.request.user)

    def perform_update(self, serializer) -> None:
        decision = serializer.instance
        text = serializer.validated_data.get("text", decision.text)
        serializer.instance = services.update_decision(decision=decision, text=text, actor=self.request.user)


class ActionItemViewSet(GovernanceViewSet):
    queryset = ActionItem.objects.all()
    serializer_class = serializers.ActionItemSerializer
    filterset_class = filtersets.ActionItemFilterSet
    create_input_class = serializers.ActionItemInput

    def create_with_service(self, data: dict) -> ActionItem:
        return services.create_action_item(**data, created_by=self.request.user)

    @extend_schema(request=None, summary="Start an open action item")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(ActionItem, "change"))
    def start(self, request, pk=None):
        return self.respond_with(services.start_action_item(item=self.get_object(), actor=request.user))

    @extend_schema(request=None, summary="Close an action item (done)")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(ActionItem, "change"))
    def close(self, request, pk=None):
        return self.respond_with(services.close_action_item(item=self.get_object(), actor=request.user))

    @extend_schema(request=serializers.CancellationInput, summary="Cancel an action item, with an optional reason")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(ActionItem, "change"))
    def cancel(self, request, pk=None):
        item = self.get_object()
        data = self.action_input(serializers.CancellationInput)
        return self.respond_with(services.cancel_action_item(item=item, reason=data["reason"], actor=request.user))

    @extend_schema(request=None, summary="Reopen a done or cancelled action item")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(ActionItem, "change"))
    def reopen(self, request, pk=None):
        return self.respond_with(services.reopen_action_item(item=self.get_object(), actor=request.user))
