"""Who may log KPI data for which contract: one scoping method for the API, the command and the pages."""

from django.db.models import QuerySet

from accounts.choices import Role
from contracts.models import Contract


def contracts_for_kpi_entry(user) -> QuerySet[Contract]:
    """Administrators: every contract; a contract's owner: theirs; a vendor's users: their vendor's contracts
    that allow vendor self-reporting; anyone else: none."""
    if not user or not user.is_authenticated or not user.is_active:
        return Contract.objects.none()
    if user.is_superuser or user.role == Role.ADMINISTRATOR:
        return Contract.objects.all()
    if user.role == Role.VENDOR_USER:
        return Contract.objects.filter(vendor_id=user.vendor_id, vendor_self_reporting=True)
    return Contract.objects.filter(owner=user)
