"""What every page's header shows: the signed-in user's role and the navigation their role allows."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role


def navigation_items(user) -> list[dict]:
    """The sections `user` may open, in menu order (empty when signed out)."""
    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    if user.role == Role.VENDOR_USER:
        items.append(
            {
                "key": "statements",
                "label": _("My statements"),
                "url": reverse("sla_tracker:report"),
                "description": _("Your monthly penalty statements; dispute a line or an adjustment you contest."),
            }
        )
    elif user.has_perm("sla_tracker.view_penaltystatement"):
        items.append(
            {
                "key": "statements",
                "label": _("Penalty report"),
                "url": reverse("sla_tracker:report"),
                "description": _("Statements of a month: credits, bonuses, earn-backs, net, cap reached; exports."),
            }
        )
    if user.has_perm("contracts.view_contract"):
        items.append(
            {
                "key": "contracts",
                "label": _("Contracts"),
                "url": reverse("contracts:list"),
                "description": _("The contract register: scope, charges, service levels, committees and audits."),
            }
        )
    if user.is_superuser or user.role in (Role.ADMINISTRATOR, Role.VENDOR_MANAGER, Role.VENDOR_USER):
        items.append(
            {
                "key": "kpi",
                "label": _("KPI data"),
                "url": reverse("sla_tracker:kpi-workspace"),
                "description": _("Upload KPI packs, enter data by hand, see what is missing, recompute a month."),
            }
        )
    elif user.has_perm("sla_tracker.view_measurement"):
        items.append(
            {
                "key": "kpi",
                "label": _("KPI data"),
                "url": reverse("sla_tracker:kpi-workspace"),
                "description": _("The daily values behind each statement, and what is missing."),
            }
        )
    if not user.is_vendor_user and user.has_perm("sla_tracker.view_exclusion"):
        items.append(
            {
                "key": "exclusions",
                "label": _("Exclusions"),
                "url": reverse("sla_tracker:exclusions"),
                "description": _("Excused days proposed and decided: what waits for a decision."),
            }
        )
    items.append(
        {
            "key": "action-items",
            "label": _("My action items"),
            "url": reverse("sla_tracker:my-action-items"),
            "description": _("The open action items you own, overdue first."),
        }
    )
    if user.role == Role.VENDOR_USER:
        items.append(
            {
                "key": "findings",
                "label": _("Findings addressed to my vendor"),
                "url": reverse("sla_tracker:vendor-findings"),
                "description": _("Audit findings to remediate."),
            }
        )
    if user.role == Role.VENDOR_USER or user.has_perm("governance.view_committee"):
        items.append(
            {
                "key": "committees",
                "label": _("Steering committees"),
                "url": reverse("governance:list"),
                "description": _("Meetings and their dashboards: scorecard, penalties, actions, findings, minutes."),
            }
        )
    if user.role != Role.VENDOR_USER and user.has_perm("audits.view_audit"):
        items.append(
            {
                "key": "audits",
                "label": _("Audits"),
                "url": reverse("audits:list"),
                "description": _("Audits under the contracts' audit rights, their findings and remediation."),
            }
        )
    if user.is_staff:
        items.append(
            {
                "key": "admin",
                "label": _("Back office"),
                "url": reverse("admin:index"),
                "description": _("Reference data and every record, in the administration site."),
            }
        )
    return items


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    return {"nav_items": navigation_items(user)}
