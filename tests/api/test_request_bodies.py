"""Bodies the API cannot read are 400s in the API's error shape, never server errors."""

import pytest

from accounts.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(users, client_for):
    return client_for(users[Role.ADMINISTRATOR])


def test_a_body_nested_too_deeply_is_a_400(admin):
    body = "[" * 100_000 + "]" * 100_000

    response = admin.generic("POST", "/api/v1/vendors/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": {"non_field_errors": ["JSON parse error - the body is nested too deeply."]},
    }


def test_malformed_json_is_a_400_in_the_validation_shape(admin):
    response = admin.generic("POST", "/api/v1/vendors/", '{"name":', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert response.json()["errors"]["non_field_errors"][0].startswith("JSON parse error")


@pytest.mark.parametrize("contract", ["²", "١", "9" * 40])
def test_a_contract_that_is_not_an_ascii_id_is_unknown_in_a_bulk_post(users, client_for, contract):
    manager = client_for(users[Role.VENDOR_MANAGER])
    item = {"contract": contract, "counter": "offered", "date": "2025-01-02", "value": 1}

    response = manager.post("/api/v1/measurements/bulk/", [item], format="json")

    assert response.status_code == 400, response.content
    assert response.json() == {"errors": [{"index": 0, "field": "contract", "message": "Unknown contract."}]}
