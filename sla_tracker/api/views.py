"""REST endpoints of the service-level app."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from sla_tracker.engine.scenario import ScenarioError, run_scenario

_scenario_errors = inline_serializer(
    name="ScenarioErrors",
    fields={
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Messages per JSON path of the bad field, e.g. service_levels[0].credit.allocation_pct.",
        )
    },
)


class SimulationViewSet(viewsets.ViewSet):
    """What-if simulator: evaluate a penalty scenario (terms and data as JSON) without storing anything."""

    @extend_schema(
        summary="Simulate a penalty scenario",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 400: _scenario_errors},
        examples=[
            OpenApiExample(
                "Invalid scenario",
                value={"errors": {"service_levels[0].credit.allocation_pct": ["required"]}},
                response_only=True,
                status_codes=["400"],
            )
        ],
    )
    def create(self, request):
        try:
            result = run_scenario(request.data)
        except ScenarioError as exc:
            return Response({"errors": exc.as_dict()}, status=status.HTTP_400_BAD_REQUEST)
        return Response(result)
