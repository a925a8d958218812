"""Who may log KPI data for which contract (the API, the command and the pages ask here).

Built on the one visibility rule (accounts.scoping): a user may only log data for a contract they
can see, and among those only administrators, the contract's vendor manager, and the vendor's own
users where the contract allows vendor self-reporting.
"""

from django.db.models import QuerySet

from accounts.choices import Role
from accounts.scoping import visible_contracts
from contracts.models import Contract


def contracts_for_kpi_entry(user) -> QuerySet[Contract]:
    contracts = visible_contracts(user)
    if not getattr(user, "is_authenticated", False):
        return contracts  # already empty
    if user.is_superuser or user.role in (Role.ADMINISTRATOR, Role.VENDOR_MANAGER):
        return contracts
    if user.role == Role.VENDOR_USER:
        return contracts.filter(vendor_self_reporting=True)
    return contracts.none()
