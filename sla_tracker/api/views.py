"""REST endpoints of the service-level app."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from accounts.roles import may_simulate
from config.api import ValidationErrorSerializer
from sla_tracker.engine.scenario import ScenarioError, run_scenario
from sla_tracker.scenario_messages import readable_errors


class MaySimulate(BasePermission):
    def has_permission(self, request, view) -> bool:
        return may_simulate(request.user)


class SimulationViewSet(viewsets.ViewSet):
    """What-if simulator: evaluate a penalty scenario (terms and data as JSON) without storing anything. For the
    customer's internal users who read penalty statements, as the simulator page (accounts.roles.may_simulate)."""

    permission_classes = [IsAuthenticated, MaySimulate]

    @extend_schema(
        summary="Simulate a penalty scenario",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 400: ValidationErrorSerializer},
        examples=[
            OpenApiExample(
                "Invalid scenario: messages per JSON path of the bad field",
                value={"type": "validation_error", "errors": {"service_levels[0].credit.allocation_pct": ["required"]}},
                response_only=True,
                status_codes=["400"],
            )
        ],
    )
    def create(self, request):
        try:
            result = run_scenario(request.data)
        except ScenarioError as exc:
            raise exceptions.ValidationError(readable_errors(exc)) from exc
        return Response(result)
