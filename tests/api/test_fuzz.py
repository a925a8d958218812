"""A bounded schemathesis run in-process: generated requests to the API never get a 5xx.

As an administrator with a token (sees and may do everything), over every GET and the creates of
a few key resources, a handful of examples each.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from tests import factories as f

FUZZED_CREATES = {
    "/api/v1/vendors/",
    "/api/v1/service-levels/",
    "/api/v1/exclusions/",
    "/api/v1/decisions/",
    "/api/v1/findings/",
    "/api/v1/statement-lines/{id}/dispute/",
    "/api/v1/penalty-statements/{id}/reopen/",
}


@pytest.fixture
def api_schema(db):
    from config.wsgi import application

    # The test database connection must survive the in-process requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application).include(
            func=lambda ctx: (
                ctx.operation.method.upper() == "GET"
                or (ctx.operation.method.upper() == "POST" and ctx.operation.path in FUZZED_CREATES)
            )
        )
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db):
    f.StatementLineFactory()
    return Token.objects.create(user=f.UserFactory(administrator=True)).key


def _fuzzed(ctx) -> bool:
    method, path = ctx.operation.method.upper(), ctx.operation.path
    return method == "GET" or (method == "POST" and path in FUZZED_CREATES)


schema = schemathesis.pytest.from_fixture("api_schema").include(func=_fuzzed)


@schema.parametrize()
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_generated_requests_never_get_a_server_error(case, admin_token):
    response = case.call(headers={"Authorization": f"Token {admin_token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
