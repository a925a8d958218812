"""Who takes each step of a finding's follow-up: the one rule of the web pages, the API and the services.

The customer audits and the vendor is audited. So:

- customer-side users whose role may change findings (auditors, administrators) take every step: change
  the remediation due date, record the remediation plan, mark the finding remediated, verify it, accept
  its risk;
- a vendor user (the BPO's own staff) answers the findings addressed to their vendor: records the
  remediation plan and marks the finding remediated with its evidence, in the statuses where
  audits.services allows those steps. Any active vendor user of the audited contract's vendor may, not
  only the finding's `vendor_contact`: a contact is a person record (contracts.VendorContact) tied to no
  account, and the vendor decides which of its staff answers. The services keep who did it in the
  finding's history.
- vendor users take no other step, whatever permission they were given: they never verify, accept a
  risk or change a due date (nor record findings or move audits, which need the audits model
  permissions they never hold). A finding not addressed to their vendor, or of another vendor, is not
  theirs; scoping (accounts.scoping) already hides it, so they get a 404 before this rule is asked.

An audit right is a term of its contract, not the auditors' to change: administrators and whoever edits
contract terms (the contracts app's change permission, accounts.roles) create and change it
(`edits_audit_rights`), in the API, the back office and the services alike.

Steps are named as the API's finding actions (audits.api.views.FindingViewSet), which the web pages'
actions name too (audits.views.FINDING_ACTIONS).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from audits.models import Finding

DUE_DATE = "due_date"
PLAN_REMEDIATION = "plan_remediation"
REMEDIATE = "remediate"
VERIFY = "verify"
ACCEPT_RISK = "accept_risk"
FINDING_STEPS = frozenset({DUE_DATE, PLAN_REMEDIATION, REMEDIATE, VERIFY, ACCEPT_RISK})
# What the vendor's side does with the findings addressed to it: answer them.
VENDOR_STEPS = frozenset({PLAN_REMEDIATION, REMEDIATE})
EDIT_CONTRACT_TERMS = "contracts.change_contract"


def edits_audit_rights(user) -> bool:
    """Whether `user` may create or change an audit right: an administrator or whoever edits contract
    terms, on the customer's side (auditors audit under the clause; they do not write it)."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.is_active
        and not user.is_vendor_user
        and user.has_perm(EDIT_CONTRACT_TERMS)
    )


def follows_up_findings(user) -> bool:
    """Whether `user` is on the customer's side and their role may change findings."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.is_active
        and not user.is_vendor_user
        and user.has_perm("audits.change_finding")
    )


def answers_for_the_vendor(user, finding: Finding) -> bool:
    """Whether `user` is an active vendor user of the vendor of the finding's contract and the finding
    is addressed to that vendor."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.is_active
        and user.is_vendor_user
        and finding.addressed_to_vendor
        and user.vendor_id == finding.audit.audit_right.contract.vendor_id
    )


def may_take_step(user, finding: Finding, step: str) -> bool:
    """Whether `user` may take `step` (one of FINDING_STEPS) on `finding`, whatever its status (the
    services decide whether the step may run now)."""
    if step not in FINDING_STEPS:
        raise ValueError(f"Unknown finding step: {step}")
    if step in VENDOR_STEPS and answers_for_the_vendor(user, finding):
        return True
    return follows_up_findings(user)


def check_step(user, finding: Finding, step: str) -> None:
    """Refuse with PermissionDenied (a 403 in the API and the pages) a step `user` may not take."""
    if not may_take_step(user, finding, step):
        raise PermissionDenied
