"""Registers the contract register's endpoints on the project's one router."""

from config.api_router import router
from contracts.api import views

router.register("vendors", views.VendorViewSet, basename="vendor")
router.register("contracts", views.ContractViewSet, basename="contract")
router.register("contract-scopes", views.ContractScopeViewSet, basename="contractscope")
router.register("monthly-charges", views.MonthlyChargeViewSet, basename="monthlycharge")
router.register("amendments", views.AmendmentViewSet, basename="amendment")
