"""Who may log, and who may read, KPI data for which contract (the API, the command and the pages ask here).

Built on the one visibility rule (accounts.scoping): a user may only log data for a contract they
can see, and among those only administrators, the contract's vendor manager, and the vendor's own
users where the contract allows vendor self-reporting. Reading goes further: whoever holds the view
permission on measurements (accounts.roles: procurement, committee members, auditors…) reads the
data of every contract they can see, e.g. procurement checking the days behind a credit. Correcting a
month whose statement is approved is the customer's side only: administrators and the vendor manager.

A contract the user cannot see is unknown to every logging path (no existence leak); one they see but may
not log data for is refused with that reason (`may_not_log`).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

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


def may_not_log(contract: Contract) -> str:
    """Why a user who sees ``contract`` is refused when logging KPI data for it."""
    return _("You may not log KPI data for contract %(contract)s.") % {"contract": contract.reference}


def contract_for_kpi_entry(user, pk) -> Contract:
    """The contract ``pk`` for ``user`` to log KPI data for: Contract.DoesNotExist if they cannot see it,
    PermissionDenied saying they may not log data for it if they see it but do not log its data."""
    contract = visible_contracts(user).select_related("vendor").get(pk=pk)
    if not contracts_for_kpi_entry(user).filter(pk=contract.pk).exists():
        raise PermissionDenied(may_not_log(contract))
    return contract
