"""Each internal role reaches its part of the back office; nobody but an administrator deletes."""

import pytest

from accounts.choices import Role
from tests.factories import ContractFactory, UserFactory, VendorUserFactory


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (Role.VENDOR_MANAGER, ["contracts.change_contract", "sla_tracker.add_measurement"], ["audits.add_audit"]),
        (
            Role.PROCUREMENT,
            ["sla_tracker.change_penaltystatement", "contracts.view_contract"],
            ["contracts.change_contract"],
        ),
        (Role.COMMITTEE_MEMBER, ["governance.add_actionitem"], ["sla_tracker.change_penaltystatement"]),
        (Role.AUDITOR, ["audits.change_finding", "contracts.view_contract"], ["governance.add_decision"]),
        (Role.VENDOR_USER, [], ["contracts.view_contract"]),
    ],
)
@pytest.mark.django_db
def test_role_grants_its_model_permissions_and_no_others(role, allowed, refused):
    user = VendorUserFactory() if role == Role.VENDOR_USER else UserFactory(role=role)
    assert user.role == role
    for perm in allowed:
        assert user.has_perm(perm), perm
    for perm in refused:
        assert not user.has_perm(perm), perm


@pytest.mark.parametrize("role", [Role.VENDOR_MANAGER, Role.PROCUREMENT, Role.COMMITTEE_MEMBER, Role.AUDITOR])
@pytest.mark.django_db
def test_no_internal_role_may_delete(role):
    assert not UserFactory(role=role).has_perm("contracts.delete_contract")


@pytest.mark.django_db
def test_an_inactive_user_gets_nothing_from_the_role():
    assert not UserFactory(role=Role.VENDOR_MANAGER, is_active=False).has_perm("contracts.view_contract")


@pytest.mark.django_db
def test_procurement_staff_can_browse_contracts_in_the_admin(client):
    ContractFactory(reference="C-ADMIN-1")
    client.force_login(UserFactory(role=Role.PROCUREMENT, is_staff=True))
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/contracts/contract/" in index.content
    assert b"/admin/accounts/user/" not in index.content
    changelist = client.get("/admin/contracts/contract/")
    assert changelist.status_code == 200
    assert b"C-ADMIN-1" in changelist.content
