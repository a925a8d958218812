"""Registers the audit endpoints on the project's one router."""

from audits.api import views
from config.api_router import router

router.register("audit-rights", views.AuditRightViewSet, basename="auditright")
router.register("audits", views.AuditViewSet, basename="audit")
router.register("findings", views.FindingViewSet, basename="finding")
