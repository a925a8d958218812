"""Two vendors' worlds (one row of every model each) and a user of every role scoped to the first."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.choices import Role
from tests import factories as f
from tests.accounts.test_scoping import build_world, vendor_user_of

ROLES = (
    Role.ADMINISTRATOR,
    Role.VENDOR_MANAGER,
    Role.PROCUREMENT,
    Role.COMMITTEE_MEMBER,
    Role.AUDITOR,
    Role.VENDOR_USER,
)


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def worlds():
    """(mine, theirs): the role users below see `mine`; only administrators and procurement see `theirs`."""
    return build_world("Vendor One"), build_world("Vendor Two")


@pytest.fixture
def users(worlds):
    """One user per role, each with the first world in scope the way that role gets it."""
    mine, _ = worlds
    auditor = f.UserFactory(role=Role.AUDITOR)
    mine["contracts.Contract"].auditors.add(auditor)
    return {
        Role.ADMINISTRATOR: f.UserFactory(administrator=True),
        Role.VENDOR_MANAGER: mine["contracts.Contract"].owner,
        Role.PROCUREMENT: f.UserFactory(role=Role.PROCUREMENT),
        Role.COMMITTEE_MEMBER: mine["governance.CommitteeMember"].user,
        Role.AUDITOR: auditor,
        Role.VENDOR_USER: vendor_user_of(mine),
    }


@pytest.fixture
def client_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
