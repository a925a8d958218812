"""Who takes a finding's steps (audits.permissions): the customer's side every step, a vendor user of the
finding's vendor only its answers (plan and remediation) to a finding addressed to that vendor."""

import pytest

from accounts.choices import Role
from audits import permissions
from tests.factories import FindingFactory, UserFactory, VendorContactFactory, VendorUserFactory

pytestmark = pytest.mark.django_db

ANSWERS = {permissions.PLAN_REMEDIATION, permissions.REMEDIATE}


@pytest.fixture
def finding():
    return FindingFactory()


def steps_taken(user, finding) -> set[str]:
    return {step for step in permissions.FINDING_STEPS if permissions.may_take_step(user, finding, step)}


def test_a_vendor_user_of_the_findings_vendor_records_the_plan_and_the_remediation_only(finding):
    vendor_user = VendorUserFactory(vendor=finding.audit.audit_right.contract.vendor)

    assert steps_taken(vendor_user, finding) == ANSWERS


def test_any_vendor_user_of_that_vendor_answers_not_only_the_named_contact(finding):
    vendor = finding.audit.audit_right.contract.vendor
    finding.vendor_contact = VendorContactFactory(vendor=vendor, email="named@vendor.example")
    finding.save()

    assert steps_taken(VendorUserFactory(vendor=vendor, email="colleague@vendor.example"), finding) == ANSWERS


def test_a_vendor_user_of_another_vendor_takes_no_step(finding):
    assert steps_taken(VendorUserFactory(), finding) == set()


def test_a_finding_not_addressed_to_the_vendor_is_not_the_vendors_to_answer(finding):
    finding.addressed_to_vendor = False
    finding.save()

    assert steps_taken(VendorUserFactory(vendor=finding.audit.audit_right.contract.vendor), finding) == set()


def test_an_inactive_vendor_user_takes_no_step(finding):
    vendor_user = VendorUserFactory(vendor=finding.audit.audit_right.contract.vendor, is_active=False)

    assert steps_taken(vendor_user, finding) == set()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMINISTRATOR])
def test_the_customers_side_that_may_change_findings_takes_every_step(finding, role):
    assert steps_taken(UserFactory(role=role), finding) == permissions.FINDING_STEPS


@pytest.mark.parametrize("role", [Role.PROCUREMENT, Role.VENDOR_MANAGER, Role.COMMITTEE_MEMBER])
def test_customer_roles_that_only_view_audits_take_no_step(finding, role):
    assert steps_taken(UserFactory(role=role), finding) == set()


def test_an_unknown_step_is_a_programming_error(finding):
    with pytest.raises(ValueError, match="Unknown finding step"):
        permissions.may_take_step(UserFactory(auditor=True), finding, "close")
