"""What each role may do with each app's models (Django model permissions, no groups to sync).

Nobody but an administrator deletes: the tracker keeps history. Which *objects* a user may see
(their contracts, their vendor) is decided by the scoping querysets, not here.
"""

from accounts.choices import Role

VIEW = frozenset({"view"})
EDIT = frozenset({"view", "add", "change"})

ROLE_PERMISSIONS: dict[str, dict[str, frozenset[str]]] = {
    Role.VENDOR_MANAGER: {"contracts": EDIT, "sla_tracker": EDIT, "governance": EDIT, "audits": VIEW},
    Role.PROCUREMENT: {"contracts": VIEW, "sla_tracker": EDIT, "governance": VIEW, "audits": VIEW},
    Role.COMMITTEE_MEMBER: {"contracts": VIEW, "sla_tracker": VIEW, "governance": EDIT, "audits": VIEW},
    Role.AUDITOR: {"contracts": VIEW, "sla_tracker": VIEW, "governance": VIEW, "audits": EDIT},
    Role.VENDOR_USER: {},
}


# Procurement reviews penalty statements (administrators too): approves, reopens and invoices them,
# waives lines, resolves disputes and decides exclusions. Vendor managers run the close and submit.
STATEMENT_REVIEWERS = frozenset({Role.ADMINISTRATOR, Role.PROCUREMENT})


def reviews_statements(user) -> bool:
    return user.is_active and (user.is_superuser or user.role in STATEMENT_REVIEWERS)


def may_simulate(user) -> bool:
    """The what-if simulator is the customer's tool for its own terms: the internal users who read penalty
    statements use it, on the contract's page and through the API alike; vendors' users do not."""
    return user.is_active and not user.is_vendor_user and user.has_perm("sla_tracker.view_penaltystatement")


def role_allows(role: str, perm: str) -> bool:
    """Whether `role` grants a permission named "app_label.action_model" (e.g. "contracts.view_contract")."""
    app_label, _, codename = perm.partition(".")
    action = codename.split("_", 1)[0]
    return action in ROLE_PERMISSIONS.get(role, {}).get(app_label, frozenset())


def role_has_app(role: str, app_label: str) -> bool:
    return bool(ROLE_PERMISSIONS.get(role, {}).get(app_label))
