"""Who may log, and who may read, KPI data for which contract (the API, the command and the pages ask here).

Built on the one visibility rule (accounts.scoping): a user may only log data for a contract they
can see, and among those only administrators, the contract's vendor manager, and the vendor's own
users where the contract allows vendor self-reporting. Reading goes further: whoever holds the view
permission on measurements (accounts.roles: procurement, committee members, auditors…) reads the
data of every contract they can see, e.g. procurement checking the days behind a credit. Correcting a
month whose statement is approved is the customer's side only: administrators and the vendor manager.
"""

from django.db.models import QuerySet

from accounts.choices import Role
from accounts.scoping import visible_contracts
from contracts.models import Contract

VIEW_MEASUREMENTS = "sla_tracker.view_measurement"


def contracts_for_kpi_entry(user) -> QuerySet[Contract]:
    contracts = visible_contracts(user)
    if not getattr(user, "is_authenticated", False):
        return contracts  # already empty
    if user.is_superuser or user.role in (Role.ADMINISTRATOR, Role.VENDOR_MANAGER):
        return contracts
    if user.role == Role.VENDOR_USER:
        return contracts.filter(vendor_self_reporting=True)
    return contracts.none()


def contracts_for_kpi_correction(user) -> QuerySet[Contract]:
    """The contracts whose approved or invoiced months `user` may correct (the difference becomes an
    adjustment of the next open statement): those they log data for, unless they are the vendor's staff,
    who contest a figure through a dispute instead."""
    if getattr(user, "is_authenticated", False) and user.role != Role.VENDOR_USER:
        return contracts_for_kpi_entry(user)
    return Contract.objects.none()


def contracts_for_kpi_reading(user) -> QuerySet[Contract]:
    """The contracts whose KPI data `user` may read: the ones they log data for, and with the view
    permission on measurements, every contract they can see."""
    if getattr(user, "is_authenticated", False) and user.has_perm(VIEW_MEASUREMENTS):
        return visible_contracts(user)
    return contracts_for_kpi_entry(user)
