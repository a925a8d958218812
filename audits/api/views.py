"""REST endpoints of audits; behaviour lives in config.api, state changes in audits.services."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from audits import filtersets, services
from audits.api import serializers
from audits.models import Audit, AuditRight, Finding
from config.api import ScopedModelViewSet, has_model_permission


class AuditRightViewSet(ScopedModelViewSet):
    queryset = AuditRight.objects.all()
    serializer_class = serializers.AuditRightSerializer
    filterset_class = filtersets.AuditRightFilterSet


class AuditViewSet(ScopedModelViewSet):
    queryset = Audit.objects.all()
    serializer_class = serializers.AuditSerializer
    filterset_class = filtersets.AuditFilterSet


class FindingViewSet(ScopedModelViewSet):
    queryset = Finding.objects.all()
    serializer_class = serializers.FindingSerializer
    filterset_class = filtersets.FindingFilterSet

    @extend_schema(request=serializers.RemediationInput, summary="Record a finding's remediation, with evidence")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Finding, "change"))
    def remediate(self, request, pk=None):
        finding = self.get_object()
        data = serializers.RemediationInput(data=request.data)
        data.is_valid(raise_exception=True)
        finding = services.mark_remediated(
            finding=finding, evidence=data.validated_data["evidence"], actor=request.user
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=finding.pk)).data)
