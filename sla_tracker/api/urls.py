"""Registers the service-level app's endpoints on the project's one router."""

from config.api_router import router
from sla_tracker.api.kpi import KpiUploadViewSet, MeasurementBulkViewSet
from sla_tracker.api.views import SimulationViewSet

router.register("simulations", SimulationViewSet, basename="simulation")
router.register("measurements/bulk", MeasurementBulkViewSet, basename="measurement-bulk")
router.register(r"contracts/(?P<contract_pk>[0-9]+)/kpi-uploads", KpiUploadViewSet, basename="kpi-upload")
