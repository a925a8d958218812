"""REST endpoints of the contract register; behaviour lives in config.api."""

from config.api import ScopedModelViewSet
from contracts import filtersets
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
