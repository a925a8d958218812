"""The OpenAPI schema generates without a warning and lists every resource and domain action."""

import pytest
import yaml
from django.core.management import call_command

from tests.api.endpoints import ENDPOINTS

ACTIONS = (
    "/api/v1/penalty-statements/{id}/submit/",
    "/api/v1/penalty-statements/{id}/approve/",
    "/api/v1/penalty-statements/{id}/reopen/",
    "/api/v1/penalty-statements/{id}/invoice/",
    "/api/v1/statement-lines/{id}/dispute/",
    "/api/v1/statement-lines/{id}/waive/",
    "/api/v1/statement-lines/{id}/withdraw-waiver/",
    "/api/v1/line-disputes/{id}/resolve/",
    "/api/v1/statement-adjustments/{id}/dispute/",
    "/api/v1/statement-adjustments/{id}/waive/",
    "/api/v1/statement-adjustments/{id}/withdraw-waiver/",
    "/api/v1/adjustment-disputes/{id}/resolve/",
    "/api/v1/contracts/{id}/renew/",
    "/api/v1/contracts/{id}/give-notice/",
    "/api/v1/exclusions/{id}/approve/",
    "/api/v1/exclusions/{id}/reject/",
    "/api/v1/exclusions/{id}/withdraw/",
    "/api/v1/meetings/{id}/minutes/",
    "/api/v1/meetings/{id}/circulate/",
    "/api/v1/meetings/{id}/approve-minutes/",
    "/api/v1/action-items/{id}/start/",
    "/api/v1/action-items/{id}/close/",
    "/api/v1/action-items/{id}/cancel/",
    "/api/v1/action-items/{id}/reopen/",
    "/api/v1/audits/{id}/notify/",
    "/api/v1/audits/{id}/start-fieldwork/",
    "/api/v1/audits/{id}/report/",
    "/api/v1/audits/{id}/close/",
    "/api/v1/audits/{id}/for-cause/",
    "/api/v1/findings/{id}/due-date/",
    "/api/v1/findings/{id}/plan-remediation/",
    "/api/v1/findings/{id}/remediate/",
    "/api/v1/findings/{id}/verify/",
    "/api/v1/findings/{id}/accept-risk/",
    "/api/v1/contracts/{contract_pk}/kpi-uploads/{id}/import/",
    "/api/v1/contracts/{contract_pk}/kpi-uploads/{id}/retry/",
    "/api/v1/me/",
    "/api/v1/me/token/",
    "/api/v1/auth/token/",
)


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_every_resource_has_a_list_and_a_detail(schema):
    for endpoint in ENDPOINTS:
        assert f"/api/v1/{endpoint.prefix}/" in schema["paths"]
        assert f"/api/v1/{endpoint.prefix}/{{id}}/" in schema["paths"]


def test_every_domain_action_is_listed(schema):
    assert set(ACTIONS) <= set(schema["paths"])


def test_the_kpi_uploads_of_a_contract_are_a_paginated_list_filtered_by_status(schema):
    listed = schema["paths"]["/api/v1/contracts/{contract_pk}/kpi-uploads/"]["get"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in listed["parameters"]}
    assert {"contract_pk", "status", "page", "page_size"} <= set(parameters)
    assert {"validated", "importing", "failed"} <= set(parameters["status"]["enum"])
    page = listed["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/PaginatedKpiUploadList"}


def test_error_responses_are_documented_in_the_error_shape(schema):
    dispute = schema["paths"]["/api/v1/statement-lines/{id}/dispute/"]["post"]["responses"]
    assert dispute["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ValidationError"}
    assert dispute["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert set(schema["components"]["schemas"]["ValidationError"]["properties"]) == {"type", "errors"}


def test_the_null_and_blank_values_the_api_sends_are_in_the_schema(schema):
    schemas = schema["components"]["schemas"]
    # A bulk error of the whole body has no item; a meeting's minutes have no approval method until approved.
    assert schemas["ItemError"]["properties"]["index"]["nullable"] is True
    method = schemas["Meeting"]["properties"]["minutes_approval_method"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in method["oneOf"]
