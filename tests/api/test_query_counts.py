"""No N+1: every list endpoint takes as many queries for five vendors' rows as for one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.choices import Role
from tests.accounts.test_scoping import build_world
from tests.api.endpoints import ENDPOINTS, list_url

pytestmark = pytest.mark.django_db

ROLES_MEASURED = (Role.ADMINISTRATOR, Role.VENDOR_MANAGER)


def _counts(client) -> dict[str, tuple[int, int]]:
    counts = {}
    for endpoint in ENDPOINTS:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(list_url(endpoint))
        assert response.status_code == 200
        counts[endpoint.prefix] = (len(queries), response.json()["count"])
    return counts


@pytest.mark.parametrize("role", ROLES_MEASURED)
def test_list_query_counts_do_not_grow_with_the_rows(worlds, users, client_for, role):
    user = users[role]
    client = client_for(user)
    before = _counts(client)
    for index in range(4):
        world = build_world(f"Vendor {index + 3}")
        if role == Role.VENDOR_MANAGER:
            world["contracts.Contract"].__class__.objects.filter(pk=world["contracts.Contract"].pk).update(owner=user)
    after = _counts(client)
    grown = {prefix: (before[prefix], after[prefix]) for prefix in before if before[prefix][0] != after[prefix][0]}
    assert grown == {}
    assert all(after[prefix][1] > before[prefix][1] for prefix in after if prefix != "kpi-counters")
