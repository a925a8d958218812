"""REST endpoints of the contract register; behaviour lives in config.api. Renewing a contract and
giving notice are actions that record the decision (contracts.services)."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ScopedModelViewSet, has_model_permission
from contracts import filtersets, services
from contracts.api import serializers
from contracts.models import Amendment, Contract, ContractScope, MonthlyCharge, Vendor


class VendorViewSet(ScopedModelViewSet):
    queryset = Vendor.objects.all()
    serializer_class = serializers.VendorSerializer
    filterset_class = filtersets.VendorFilterSet


class ContractViewSet(ScopedModelViewSet):
    queryset = Contract.objects.select_related("vendor").prefetch_related("auditors")
    serializer_class = serializers.ContractSerializer
    filterset_class = filtersets.ContractFilterSet

    def _decide(self, decide) -> Response:
        contract = self.get_object()
        note = self.action_input(serializers.RenewalDecisionInput)["note"]
        decide(contract=contract, decided_by=self.request.user, note=note)
        return self.respond_with(contract)

    @extend_schema(request=serializers.RenewalDecisionInput, summary="Renew the running term (recorded decision)")
    @action(detail=True, methods=["post"], action_rule=has_model_permission(Contract, "change"))
    def renew(self, request, pk=None):
        return self._decide(services.record_renewal)

    @extend_schema(
        request=serializers.RenewalDecisionInput, summary="Give notice: the running term is the last (recorded)"
    )
    @action(detail=True, methods=["post"], url_path="give-notice", action_rule=has_model_permission(Contract, "change"))
    def give_notice(self, request, pk=None):
        return self._decide(services.give_notice)


class ContractScopeViewSet(ScopedModelViewSet):
    queryset = ContractScope.objects.all()
    serializer_class = serializers.ContractScopeSerializer
    filterset_class = filtersets.ContractScopeFilterSet


class MonthlyChargeViewSet(ScopedModelViewSet):
    queryset = MonthlyCharge.objects.all()
    serializer_class = serializers.MonthlyChargeSerializer
    filterset_class = filtersets.MonthlyChargeFilterSet


class AmendmentViewSet(ScopedModelViewSet):
    queryset = Amendment.objects.all()
    serializer_class = serializers.AmendmentSerializer
    filterset_class = filtersets.AmendmentFilterSet

    def server_fields(self) -> dict:
        return {"created_by": self.request.user}
