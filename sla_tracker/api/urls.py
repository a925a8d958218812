"""Registers the service-level app's endpoints on the project's one router."""

from config.api_router import router
from sla_tracker.api import resources
from sla_tracker.api.kpi import KpiUploadViewSet, MeasurementBulkViewSet, MeasurementCorrectionViewSet
from sla_tracker.api.views import SimulationViewSet

router.register("simulations", SimulationViewSet, basename="simulation")
router.register("kpi-counters", resources.KpiCounterViewSet, basename="kpicounter")
router.register("service-levels", resources.ServiceLevelViewSet, basename="servicelevel")
router.register("service-level-versions", resources.ServiceLevelVersionViewSet, basename="servicelevelversion")
# Before "measurements": its detail route would otherwise take "measurements/bulk/" and "…/corrections/".
router.register("measurements/bulk", MeasurementBulkViewSet, basename="measurement-bulk")
router.register("measurements/corrections", MeasurementCorrectionViewSet, basename="measurement-correction")
router.register(r"contracts/(?P<contract_pk>[0-9]+)/kpi-uploads", KpiUploadViewSet, basename="kpi-upload")
router.register("measurements", resources.MeasurementViewSet, basename="measurement-value")
router.register("exclusions", resources.ExclusionViewSet, basename="exclusion")
router.register("incidents", resources.IncidentViewSet, basename="incident")
router.register("penalty-statements", resources.PenaltyStatementViewSet, basename="penaltystatement")
router.register("statement-lines", resources.StatementLineViewSet, basename="statementline")
router.register("statement-adjustments", resources.StatementAdjustmentViewSet, basename="statementadjustment")
router.register("line-disputes", resources.LineDisputeViewSet, basename="linedispute")
router.register("adjustment-disputes", resources.AdjustmentDisputeViewSet, basename="adjustmentdispute")
router.register("close-refusals", resources.CloseRefusalViewSet, basename="closerefusal")
