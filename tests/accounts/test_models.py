"""The user model: a vendor user belongs to a vendor, an internal user to none."""

import pytest

from accounts.choices import Role
from accounts.models import User
from tests.factories import UserFactory, VendorFactory, VendorUserFactory

pytestmark = pytest.mark.django_db


def test_a_vendor_user_belongs_to_a_vendor(rejected_by):
    VendorUserFactory()

    with rejected_by(User, "user_vendor_iff_vendor_user"):
        UserFactory(role=Role.VENDOR_USER, vendor=None)


@pytest.mark.parametrize("role", [role for role in Role.values if role != Role.VENDOR_USER])
def test_an_internal_user_belongs_to_no_vendor(rejected_by, role):
    UserFactory(role=role, vendor=None)

    with rejected_by(User, "user_vendor_iff_vendor_user"):
        UserFactory(role=role, vendor=VendorFactory())


def test_a_user_reads_as_their_full_name_or_else_their_username():
    assert str(UserFactory.build(username="cmartin", first_name="Camille", last_name="Martin")) == "Camille Martin"
    assert str(UserFactory.build(username="cmartin", first_name="", last_name="")) == "cmartin"


def test_only_the_vendor_user_role_is_a_vendor_user():
    assert VendorUserFactory.build().is_vendor_user
    assert not UserFactory.build(role=Role.PROCUREMENT).is_vendor_user
