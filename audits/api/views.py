"""REST endpoints of audits; behaviour lives in config.api, creates and state changes in audits.services."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from audits import filtersets, services
from audits.api import serializers
from audits.models import Audit, AuditRight, Finding
from config.api import ScopedModelViewSet, has_model_permission


class AuditRightViewSet(ScopedModelViewSet):
    queryset = AuditRight.objects.all()
    serializer_class = serializers.AuditRightSerializer
    filterset_class = filtersets.AuditRightFilterSet


class AuditViewSet(ScopedModelViewSet):
    """Audits are planned within their audit right, then notified, in fieldwork, reported and closed."""

    queryset = Audit.objects.all()
    serializer_class = serializers.AuditSerializer
    filterset_class = filtersets.AuditFilterSet
    create_input_class = serializers.AuditPlanInput

    def create_with_service(self, data: dict) -> Audit:
        return services.plan_audit(**data, actor=self.request.user)

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


class FindingViewSet(ScopedModelViewSet):
    """Findings are recorded by an audit (due date from the clause) and followed until settled."""

    queryset = Finding.objects.all()
    serializer_class = serializers.FindingSerializer
    filterset_class = filtersets.FindingFilterSet
    create_input_class = serializers.FindingInput

    def create_with_service(self, data: dict) -> Finding:
        return services.record_finding(**data, actor=self.request.user)

    @extend_schema(request=serializers.DueDateInput, summary="Change a finding's remediation due date, with a reason")
    @action(
        detail=True,
        methods=["post"],
        url_path="due-date",
        action_rule=has_model_permission(Finding, "change"),
    )
    def due_date(self, request, pk=None):
        finding = self.get_object()
        data = self.action_input(serializers.DueDateInput)
        return self.respond_with(services.change_finding_due_date(finding=finding, **data, actor=request.user))

    @extend_schema(request=serializers.RemediationPlanInput, summary="Record a finding's remediation plan")
    @action(
        detail=True,
        methods=["post"],
        url_path="plan-remediation",
        action_rule=has_model_permission(Finding, "change"),
    )
    def plan_remediation(self, request, pk=None):
        finding = self.get_object()
        data = self.action_input(serializers.RemediationPlanInput)
        return self.respond_with(services.plan_remediation(finding=finding, plan=data["plan"], actor=request.user))

    @extend_schema(request=serializers.RemediationInput, summary="Record a finding's remediation, with evidence")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Finding, "change"))
    def remediate(self, request, pk=None):
        finding = self.get_object()
        data = self.action_input(serializers.RemediationInput)
        return self.respond_with(
            services.mark_remediated(finding=finding, evidence=data["evidence"], actor=request.user)
        )

    @extend_schema(request=None, summary="Verify a remediated finding")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Finding, "change"))
    def verify(self, request, pk=None):
        return self.respond_with(services.verify_finding(finding=self.get_object(), actor=request.user))

    @extend_schema(request=serializers.RiskAcceptanceInput, summary="Accept a finding's risk, with a reason")
    @action(
        detail=True,
        methods=["post"],
        url_path="accept-risk",
        action_rule=has_model_permission(Finding, "change"),
    )
    def accept_risk(self, request, pk=None):
        finding = self.get_object()
        data = self.action_input(serializers.RiskAcceptanceInput)
        return self.respond_with(services.accept_risk(finding=finding, reason=data["reason"], actor=request.user))
