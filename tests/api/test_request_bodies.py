"""Bodies the API cannot read are 400s in the API's error shape, never server errors."""

import json

import pytest

from accounts.choices import Role
from sla_tracker.models import Measurement, MeasurementChange
from tests.api.endpoints import READ_ONLY
from tests.governance.helpers import held_with_quorum
from tests.sla_tracker.kpi_support import csv_file, snapshot

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
    assert response.json() == {
        "type": "invalid_rows",
        "errors": [{"index": 0, "field": "contract", "message": "Unknown contract."}],
    }


NUL = ["Null characters are not allowed."]


@pytest.mark.parametrize("field", ["contract", "counter", "date"])
def test_a_null_character_in_a_bulk_item_is_refused_naming_the_item_and_field(worlds, users, client_for, field):
    """PostgreSQL text cannot hold NUL: the raw items are refused as a serializer's CharField refuses it."""
    measurements = Measurement.objects.count()
    item = {"contract": worlds[0]["contracts.Contract"].reference, "counter": "offered", "date": "2026-10-05"}
    item[field] += "\u0000A"

    response = client_for(users[Role.VENDOR_MANAGER]).post(
        "/api/v1/measurements/bulk/", [{**item, "value": 1}], format="json"
    )

    assert response.status_code == 400, response.content
    assert response.json() == {"type": "invalid_rows", "errors": [{"index": 0, "field": field, "message": NUL[0]}]}
    assert Measurement.objects.count() == measurements


def test_a_null_character_in_a_corrections_reason_is_refused_naming_the_reason(worlds, admin):
    item = {"contract": worlds[0]["contracts.Contract"].reference, "counter": "offered", "month": "2026-10"}

    response = admin.post(
        "/api/v1/measurements/corrections/", {"reason": "r\u0000x", "values": [{**item, "value": 1}]}, format="json"
    )

    assert response.status_code == 400, response.content
    assert response.json() == {
        "type": "invalid_rows",
        "errors": [{"index": None, "field": "reason", "message": NUL[0]}],
    }
    assert not MeasurementChange.objects.filter(correction_reason__startswith="r").exists()


@pytest.mark.parametrize(
    ("key", "mapping"),
    [
        ("name", {"date_column": "Date", "name": "n\u0000", "columns": {"offered": "offered"}}),
        ("date_column", {"date_column": "Da\u0000te", "columns": {"offered": "offered"}}),
        ("columns", {"date_column": "Date", "columns": {"offered": "off\u0000ered"}}),
    ],
)
def test_a_null_character_in_an_uploads_mapping_is_refused_naming_the_mapping_key(worlds, admin, key, mapping):
    contract = worlds[0]["contracts.Contract"]
    before = snapshot()

    response = admin.post(
        f"/api/v1/contracts/{contract.pk}/kpi-uploads/",
        {"file": csv_file("Date;offered\n05/10/2026;1\n"), "mapping": json.dumps(mapping)},
        format="multipart",
    )

    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {"row": None, "column": None, "value": None, "message": f"The mapping's “{key}”: {NUL[0]}"}
    ]
    assert snapshot() == before


@pytest.mark.parametrize("collection", ["penalty-statements", "vendors"])
def test_a_null_character_in_a_search_is_refused_naming_it(admin, collection):
    response = admin.get(f"/api/v1/{collection}/", {"q": "BPO\u0000"})

    assert response.status_code == 400, response.content
    assert response.json() == {"type": "validation_error", "errors": {"q": NUL}}


@pytest.mark.parametrize(
    ("field", "largest"),
    [
        ("initial_term_months", 600),
        ("renewal_term_months", 600),
        ("max_renewals", 100),
        ("notice_period", 1000),
        ("decision_buffer_days", 3650),
    ],
)
def test_a_contracts_terms_are_bounded_so_that_its_dates_stay_in_the_calendar(worlds, admin, field, largest):
    contract = worlds[0]["contracts.Contract"]
    before = getattr(contract, field)

    response = admin.patch(f"/api/v1/contracts/{contract.pk}/", {field: 10**15}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"][field] == [f"Ensure this value is less than or equal to {largest}."]
    contract.refresh_from_db()
    assert getattr(contract, field) == before


def test_a_committees_quorum_is_bounded(worlds, admin):
    committee = worlds[0]["governance.Committee"]

    response = admin.patch(f"/api/v1/committees/{committee.pk}/", {"quorum": 10**15}, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["quorum"]


def test_a_misspelt_field_is_refused_by_name_not_dropped(worlds, admin):
    contract = worlds[0]["contracts.Contract"]
    before = contract.notice_period

    patched = admin.patch(f"/api/v1/contracts/{contract.pk}/", {"notice_perod": 2}, format="json")
    planned = admin.post(
        "/api/v1/meetings/",
        {"committee": worlds[0]["governance.Committee"].pk, "scheduled_for": "2099-01-05T10:00Z", "place": "Lille"},
        format="json",
    )

    assert patched.status_code == 400
    assert patched.json()["errors"] == {"notice_perod": ["Unknown field."]}
    contract.refresh_from_db()
    assert contract.notice_period == before
    assert planned.status_code == 400
    assert planned.json()["errors"] == {"place": ["Unknown field."]}


def test_a_field_of_the_resource_that_the_server_sets_is_refused_on_a_create(worlds, admin):
    meeting = held_with_quorum(worlds[0]["governance.Meeting"])

    response = admin.post("/api/v1/decisions/", {"meeting": meeting.pk, "number": 1, "text": "Go."}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"number": READ_ONLY}
    assert not meeting.decisions.filter(text="Go.").exists()


def test_a_read_only_field_sent_back_as_read_is_accepted_and_a_changed_one_names_it(worlds, admin):
    contract = worlds[0]["contracts.Contract"]
    shown = admin.get(f"/api/v1/contracts/{contract.pk}/").json()
    read_only = sorted(name for name in ("id", "created_at", "updated_at", "status") if name in shown)

    sent_back = admin.put(f"/api/v1/contracts/{contract.pk}/", shown, format="json")
    changed = admin.patch(f"/api/v1/contracts/{contract.pk}/", {read_only[0]: 999999}, format="json")

    assert sent_back.status_code == 200, sent_back.content
    assert changed.status_code == 400
    assert changed.json()["errors"] == {read_only[0]: READ_ONLY}


@pytest.mark.parametrize("collection", ["action-items", "findings"])
def test_an_overdue_filter_is_true_or_false_and_anything_else_is_refused(admin, collection):
    every = admin.get(f"/api/v1/{collection}/").json()["count"]
    overdue = admin.get(f"/api/v1/{collection}/", {"overdue": "true"}).json()["count"]
    not_overdue = admin.get(f"/api/v1/{collection}/", {"overdue": "false"}).json()["count"]
    refused = admin.get(f"/api/v1/{collection}/", {"overdue": "maybe"})

    assert overdue + not_overdue == every
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["overdue"]


@pytest.mark.parametrize(
    ("collection", "name"),
    [
        ("penalty-statements", "cap_reached"),
        ("statement-lines", "waived"),
        ("statement-lines", "provisional"),
        ("findings", "addressed_to_vendor"),
        ("committees", "is_active"),
        ("vendors", "is_active"),
    ],
)
def test_a_boolean_field_filter_is_true_or_false_and_anything_else_is_refused(admin, collection, name):
    every = admin.get(f"/api/v1/{collection}/").json()["count"]
    true = admin.get(f"/api/v1/{collection}/", {name: "true"}).json()["count"]
    false = admin.get(f"/api/v1/{collection}/", {name: "false"}).json()["count"]
    refused = admin.get(f"/api/v1/{collection}/", {name: "zz!"})

    assert true + false == every > 0
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == [name]


def test_a_values_update_refuses_a_misspelt_field_and_a_change_of_what_the_server_sets(worlds, admin):
    measurement = worlds[0]["sla_tracker.Measurement"]
    url = f"/api/v1/measurements/{measurement.pk}/"

    misspelt = admin.patch(url, {"valeu": "12"}, format="json")
    sourced = admin.patch(url, {"value": "12", "source": "file"}, format="json")

    assert misspelt.status_code == 400
    assert misspelt.json()["errors"] == {"valeu": ["Unknown field."]}
    assert sourced.status_code == 400
    assert sourced.json()["errors"] == {"source": READ_ONLY}
    assert type(measurement).objects.get(pk=measurement.pk).value == measurement.value


@pytest.mark.parametrize(("owner", "kind"), [(1.5, "float"), ("1.5", "str"), (True, "bool"), (" 1", "str")])
def test_an_id_is_an_integer_or_a_string_of_digits_never_rounded(worlds, users, admin, owner, kind):
    item = worlds[0]["governance.ActionItem"]
    before = item.owner_id

    response = admin.patch(f"/api/v1/action-items/{item.pk}/", {"owner": owner}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"owner": [f"Incorrect type. Expected pk value, received {kind}."]}
    item.refresh_from_db()
    assert item.owner_id == before


def test_an_id_as_digits_in_a_string_is_read_as_the_id(worlds, users, admin):
    item = worlds[0]["governance.ActionItem"]
    owner = users[Role.PROCUREMENT]

    response = admin.patch(f"/api/v1/action-items/{item.pk}/", {"owner": str(owner.pk)}, format="json")

    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert item.owner == owner
