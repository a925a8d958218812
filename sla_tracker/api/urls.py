"""Registers the service-level app's endpoints on the project's one router."""

from config.api_router import router
from sla_tracker.api.views import SimulationViewSet

router.register("simulations", SimulationViewSet, basename="simulation")
