"""Which rows a user may see: one scoping function for the API, the web pages and the admin.

Every domain row belongs to a contract (directly or through its parent), so visibility is decided
once, on contracts, and every other model follows the path to its contract. Role permissions
(accounts.roles) decide what a user may do; this module decides to which rows it applies.

| role              | contracts visible                                                  |
|-------------------|--------------------------------------------------------------------|
| administrator     | all                                                                |
| procurement       | all                                                                |
| vendor manager    | the contracts they own                                             |
| committee member  | the contracts of the committees they sit on (vendor-wide: all of   |
|                   | that vendor's contracts)                                           |
| auditor           | the contracts they are assigned to                                 |
| vendor user       | their own vendor's contracts; within them, statements once         |
|                   | submitted, findings addressed to the vendor, committees they sit on, |
|                   | KPI data of the contracts the vendor reports for (self-reporting)  |
|                   | (and never a refused close: the customer's own operations)         |
"""

from django.apps import apps
from django.db.models import Model, Q, QuerySet

from accounts.choices import Role
from sla_tracker.choices import ApprovalStatus, StatementStatus

# Path from each model to its contract, as an ORM lookup ("" for the contract itself).
CONTRACT_PATHS: dict[str, str] = {
    "contracts.Contract": "",
    "contracts.ContractScope": "contract",
    "contracts.MonthlyCharge": "contract",
    "contracts.Amendment": "contract",
    "contracts.RenewalDecision": "contract",
    "sla_tracker.PenaltyRegime": "contract",
    "sla_tracker.TerminationTrigger": "contract",
    "sla_tracker.ServiceLevel": "contract",
    "sla_tracker.ServiceLevelVersion": "service_level__contract",
    "sla_tracker.CreditTier": "version__service_level__contract",
    "sla_tracker.CreditMultiplier": "version__service_level__contract",
    "sla_tracker.ColumnMapping": "contract",
    "sla_tracker.KpiUpload": "contract",
    "sla_tracker.Measurement": "contract",
    "sla_tracker.MeasurementChange": "contract",
    "sla_tracker.Exclusion": "contract",
    "sla_tracker.Incident": "contract",
    "sla_tracker.PenaltyStatement": "contract",
    "sla_tracker.StatementLine": "statement__contract",
    "sla_tracker.LineDispute": "line__statement__contract",
    "sla_tracker.StatementAdjustment": "statement__contract",
    "sla_tracker.AdjustmentDispute": "adjustment__statement__contract",
    "sla_tracker.StatementEvent": "statement__contract",
    "sla_tracker.CloseRefusal": "contract",
    "audits.AuditRight": "contract",
    "audits.Audit": "audit_right__contract",
    "audits.Finding": "audit__audit_right__contract",
}

# Committees may govern a whole vendor (no contract): path to the committee for these models.
COMMITTEE_PATHS: dict[str, str] = {
    "governance.Committee": "",
    "governance.CommitteeMember": "committee",
    "governance.Meeting": "committee",
    "governance.AgendaItem": "meeting__committee",
    "governance.Attendance": "meeting__committee",
    "governance.Decision": "meeting__committee",
    "governance.MinutesApproval": "meeting__committee",
}

# Vendors are visible with any of their contracts (to everyone who sees all contracts: all vendors); to
# vendor managers, who register contracts, also while they have none (a vendor just registered).
VENDOR_PATHS: dict[str, str] = {
    "contracts.Vendor": "",
    "contracts.VendorSite": "vendor",
    "contracts.VendorContact": "vendor",
}

# Models with a rule of their own in restrict().
OTHER_RULES = {"governance.ActionItem"}

# Reference data every signed-in user may read.
SHARED_MODELS = {"sla_tracker.KpiCounter"}

_SEES_EVERYTHING = {Role.ADMINISTRATOR, Role.PROCUREMENT}


def sees_everything(user) -> bool:
    return user.is_superuser or user.role in _SEES_EVERYTHING


def _prefix(path: str) -> str:
    return f"{path}__" if path else ""


def visible_contracts(user) -> QuerySet:
    """The contracts `user` may see."""
    contracts = apps.get_model("contracts", "Contract").objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return contracts.none()
    if sees_everything(user):
        return contracts
    if user.role == Role.VENDOR_USER:
        return contracts.filter(vendor_id=user.vendor_id)
    if user.role == Role.VENDOR_MANAGER:
        return contracts.filter(owner=user)
    if user.role == Role.AUDITOR:
        return contracts.filter(auditors=user)
    if user.role == Role.COMMITTEE_MEMBER:
        seats = apps.get_model("governance", "CommitteeMember").objects.filter(user=user)
        return contracts.filter(
            Q(pk__in=seats.filter(committee__contract__isnull=False).values("committee__contract"))
            | Q(vendor__in=seats.filter(committee__vendor__isnull=False).values("committee__vendor"))
        )
    return contracts.none()


def restrict(queryset: QuerySet, user) -> QuerySet:
    """`queryset` narrowed to the rows `user` may see (none for a model without a known path)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    queryset = _by_contract(queryset, user)
    if user.role == Role.VENDOR_USER:
        queryset = _vendor_user_limits(queryset, user)
    return queryset


def _by_contract(queryset: QuerySet, user) -> QuerySet:
    label = queryset.model._meta.label
    contracts = visible_contracts(user)
    if label in SHARED_MODELS:
        return queryset
    if label in CONTRACT_PATHS:
        path = CONTRACT_PATHS[label]
        return queryset.filter(**{f"{path}__in" if path else "pk__in": contracts})
    if label in VENDOR_PATHS:
        if sees_everything(user):
            return queryset
        vendors = contracts.values("vendor")
        if user.role == Role.VENDOR_MANAGER:
            vendors = (
                apps.get_model("contracts", "Vendor")
                .objects.filter(Q(pk__in=vendors) | Q(contracts__isnull=True))
                .values("pk")
            )
        path = VENDOR_PATHS[label]
        return queryset.filter(**{f"{path}__in" if path else "pk__in": vendors})
    if label in COMMITTEE_PATHS:
        committee = _prefix(COMMITTEE_PATHS[label])
        return queryset.filter(
            Q(**{f"{committee}contract__in": contracts}) | Q(**{f"{committee}vendor__in": contracts.values("vendor")})
        )
    if label == "governance.ActionItem":
        return queryset.filter(
            Q(meeting__in=restrict(apps.get_model("governance", "Meeting").objects.all(), user))
            | Q(finding__in=restrict(apps.get_model("audits", "Finding").objects.all(), user))
        )
    return queryset.none()


# What a vendor's own users see within their vendor's contracts: statements once submitted (a draft
# is internal), exclusions once approved (a proposal is the customer's deliberation), findings
# addressed to the vendor, and the committees they sit on; no refused close (the customer's own
# operations: procurement and the contract's owner act on it) and no audit record (the customer's
# planning, costs and overrides: the vendor learns of an audit by its notice and answers its findings).
# KPI data (values, their change log, uploads and column mappings) only where the contract lets the vendor
# report: vendor users hold no permission of their own, so they read the data they log and no other
# (sla_tracker.kpi_import.access); elsewhere the customer logs it and the vendor reads the submitted
# statements computed from it.
_SELF_REPORTED = Q(contract__vendor_self_reporting=True)
_VENDOR_USER_ROWS: dict[str, Q] = {
    "sla_tracker.Measurement": _SELF_REPORTED,
    "sla_tracker.MeasurementChange": _SELF_REPORTED,
    "sla_tracker.KpiUpload": _SELF_REPORTED,
    "sla_tracker.ColumnMapping": _SELF_REPORTED,
    "audits.Audit": Q(pk__in=[]),
    "sla_tracker.CloseRefusal": Q(pk__in=[]),
    "sla_tracker.Exclusion": Q(status=ApprovalStatus.APPROVED),
    "sla_tracker.PenaltyStatement": ~Q(status=StatementStatus.DRAFT),
    "sla_tracker.StatementLine": ~Q(statement__status=StatementStatus.DRAFT),
    "sla_tracker.LineDispute": ~Q(line__statement__status=StatementStatus.DRAFT),
    "sla_tracker.StatementAdjustment": ~Q(statement__status=StatementStatus.DRAFT),
    "sla_tracker.AdjustmentDispute": ~Q(adjustment__statement__status=StatementStatus.DRAFT),
    "sla_tracker.StatementEvent": ~Q(statement__status=StatementStatus.DRAFT),
    "audits.Finding": Q(addressed_to_vendor=True),
}


def _vendor_user_limits(queryset: QuerySet, user) -> QuerySet:
    label = queryset.model._meta.label
    if label in _VENDOR_USER_ROWS:
        return queryset.filter(_VENDOR_USER_ROWS[label])
    if label in COMMITTEE_PATHS:
        seats = apps.get_model("governance", "CommitteeMember").objects.filter(user=user).values("committee")
        path = COMMITTEE_PATHS[label]
        return queryset.filter(**{f"{path}__in" if path else "pk__in": seats})
    return queryset


def can_see(user, obj: Model) -> bool:
    """Whether `user` may see `obj` (one query)."""
    return restrict(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


def is_scoped(model) -> bool:
    """Whether rows of `model` are narrowed per user (reference data and users are not)."""
    label = model._meta.label
    return label in CONTRACT_PATHS or label in COMMITTEE_PATHS or label in VENDOR_PATHS or label in OTHER_RULES


class ScopedAdminMixin:
    """The back office shows each user the rows the API and the pages show them, and offers only
    those in its choice fields."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return restrict(queryset, request.user) if is_scoped(queryset.model) else queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return _scoped_choices(field, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        return _scoped_choices(field, request)


def _scoped_choices(field, request):
    queryset = getattr(field, "queryset", None)
    if queryset is not None and is_scoped(queryset.model):
        field.queryset = restrict(queryset, request.user)
    return field
