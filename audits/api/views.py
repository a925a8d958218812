"""REST endpoints of audits; behaviour lives in config.api, creates and state changes in audits.services.

Who takes a finding's steps is audits.permissions, the rule of the web pages and the services too: the
customer's side takes them all; a vendor user of the finding's vendor answers the findings addressed to
it (plan-remediation, remediate) and gets a 403 for every other step. Out of scope is a 404, as everywhere.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS

from audits import filtersets, permissions, services
from audits.api import serializers
from audits.models import Audit, AuditRight, Finding
from config.api import RolePermission, ScopedModelViewSet, has_model_permission


class TakesFindingSteps(RolePermission):
    """The API's role permissions, except for a finding's steps (the actions named in
    audits.permissions.FINDING_STEPS, which declare no `action_rule`): those ask
    audits.permissions.may_take_step about the finding once it was found in the user's scope."""

    def has_object_permission(self, request, view, obj) -> bool:
        step = getattr(view, "action", None)
        if step in permissions.FINDING_STEPS:
            return permissions.may_take_step(request.user, obj, step)
        return super().has_object_permission(request, view, obj)


class EditsAuditRights(RolePermission):
    """Reads as everywhere; an audit right's writes are a contract term's (audits.permissions.edits_audit_rights)."""

    @staticmethod
    def _allowed(request, view) -> bool:
        return request.method in SAFE_METHODS or permissions.edits_audit_rights(request.user)


class AuditRightViewSet(ScopedModelViewSet):
    """The audit clause of a contract: created and changed by administrators and whoever edits contract
    terms (audits.services), a change with its reason once audits were planned under it."""

    queryset = AuditRight.objects.select_related("contract")  # notice_calendar is the contract's
    serializer_class = serializers.AuditRightSerializer
    filterset_class = filtersets.AuditRightFilterSet
    permission_classes = [EditsAuditRights]

    def perform_create(self, serializer) -> None:
        terms = {name: value for name, value in serializer.validated_data.items() if name != "change_reason"}
        serializer.instance = services.create_audit_right(**terms, actor=self.request.user)

    def perform_update(self, serializer) -> None:
        changes = dict(serializer.validated_data)
        reason = changes.pop("change_reason", "")
        serializer.instance = services.change_audit_right(
            right=serializer.instance, changes=changes, reason=reason, actor=self.request.user
        )


class AuditViewSet(ScopedModelViewSet):
    """Audits are planned within their audit right, then notified, in fieldwork, reported and closed; until
    the fieldwork starts they are rescheduled or cancelled; until the report an administrator holds them for
    cause or counts them as routine again (for-cause/). What they record besides (reference, auditors,
    scope, cost) is corrected by audits.services.update_audit."""

    queryset = Audit.objects.all()
    serializer_class = serializers.AuditSerializer
    filterset_class = filtersets.AuditFilterSet
    create_input_class = serializers.AuditPlanInput

    def create_with_service(self, data: dict) -> Audit:
        return services.plan_audit(**data, actor=self.request.user)

    def perform_update(self, serializer) -> None:
        serializer.instance = services.update_audit(
            audit=serializer.instance, changes=dict(serializer.validated_data), actor=self.request.user
        )

    @extend_schema(request=serializers.NoticeInput, summary="Record the notice sent to the vendor (checked again)")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Audit, "change"))
    def notify(self, request, pk=None):
        audit = self.get_object()
        data = self.action_input(serializers.NoticeInput)
        return self.respond_with(services.notify_audit(audit=audit, **data, actor=request.user))

    @extend_schema(request=None, summary="Start the fieldwork of a notified audit")
    @action(
        detail=True,
        methods=["post"],
        url_path="start-fieldwork",
        action_rule=has_model_permission(Audit, "change"),
    )
    def start_fieldwork(self, request, pk=None):
        return self.respond_with(services.start_fieldwork(audit=self.get_object(), actor=request.user))

    @extend_schema(request=serializers.ReportInput, summary="Record the audit's report")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Audit, "change"))
    def report(self, request, pk=None):
        audit = self.get_object()
        data = self.action_input(serializers.ReportInput)
        return self.respond_with(services.report_audit(audit=audit, **data, actor=request.user))

    @extend_schema(request=None, summary="Close a reported audit whose findings are all settled")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Audit, "change"))
    def close(self, request, pk=None):
        return self.respond_with(services.close_audit(audit=self.get_object(), actor=request.user))

    @extend_schema(
        request=serializers.RescheduleInput,
        summary="Move a planned or notified audit's fieldwork to new dates, with a reason (checked against the clause)",
    )
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Audit, "change"))
    def reschedule(self, request, pk=None):
        audit = self.get_object()
        data = self.action_input(serializers.RescheduleInput)
        return self.respond_with(services.reschedule_audit(audit=audit, **data, actor=request.user))

    @extend_schema(
        request=serializers.ForCauseInput,
        summary="Hold an audit for cause, or count it as routine again, with a reason (administrators; until "
        "its report)",
    )
    @action(detail=True, methods=["post"], url_path="for-cause", action_rule=services.may_override)
    def for_cause(self, request, pk=None):
        audit = self.get_object()
        data = self.action_input(serializers.ForCauseInput)
        return self.respond_with(services.set_audit_for_cause(audit=audit, **data, actor=request.user))

    @extend_schema(
        request=serializers.AuditCancellationInput,
        summary="Cancel a planned or notified audit, with a reason (it no longer counts in the contract year)",
    )
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Audit, "change"))
    def cancel(self, request, pk=None):
        audit = self.get_object()
        data = self.action_input(serializers.AuditCancellationInput)
        return self.respond_with(services.cancel_audit(audit=audit, reason=data["reason"], actor=request.user))


class FindingViewSet(ScopedModelViewSet):
    """Findings are recorded by an audit (due date from the clause) and followed until settled."""

    queryset = Finding.objects.all()
    serializer_class = serializers.FindingSerializer
    filterset_class = filtersets.FindingFilterSet
    create_input_class = serializers.FindingInput
    permission_classes = [TakesFindingSteps]

    def create_with_service(self, data: dict) -> Finding:
        return services.record_finding(**data, actor=self.request.user)

    def perform_update(self, serializer) -> None:
        serializer.instance = services.update_finding(
            finding=serializer.instance, changes=dict(serializer.validated_data), actor=self.request.user
        )

    @extend_schema(request=serializers.DueDateInput, summary="Change a finding's remediation due date, with a reason")
    @action(detail=True, methods=["post"], url_path="due-date")
    def due_date(self, request, pk=None):
        finding = self.get_object()
        data = self.action_input(serializers.DueDateInput)
        return self.respond_with(services.change_finding_due_date(finding=finding, **data, actor=request.user))

    @extend_schema(
        request=serializers.RemediationPlanInput,
        summary="Record a finding's remediation plan (the customer's side or a vendor user of its vendor)",
    )
    @action(detail=True, methods=["post"], url_path="plan-remediation")
    def plan_remediation(self, request, pk=None):
        finding = self.get_object()
        data = self.action_input(serializers.RemediationPlanInput)
        return self.respond_with(services.plan_remediation(finding=finding, plan=data["plan"], actor=request.user))

    @extend_schema(
        request=serializers.RemediationInput,
        summary="Record a finding's remediation, with evidence (the customer's side or a vendor user of its vendor)",
    )
    @action(detail=True, methods=["post"])
    def remediate(self, request, pk=None):
        finding = self.get_object()
        data = self.action_input(serializers.RemediationInput)
        return self.respond_with(
            services.mark_remediated(finding=finding, evidence=data["evidence"], actor=request.user)
        )

    @extend_schema(request=serializers.VerificationInput, summary="Verify a remediated finding, with an optional note")
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        finding = self.get_object()
        data = self.action_input(serializers.VerificationInput)
        return self.respond_with(services.verify_finding(finding=finding, note=data["note"], actor=request.user))

    @extend_schema(request=serializers.RiskAcceptanceInput, summary="Accept a finding's risk, with a reason")
    @action(detail=True, methods=["post"], url_path="accept-risk")
    def accept_risk(self, request, pk=None):
        finding = self.get_object()
        data = self.action_input(serializers.RiskAcceptanceInput)
        return self.respond_with(services.accept_risk(finding=finding, reason=data["reason"], actor=request.user))
