"""A list takes its filters, ``q``, ``ordering``, ``page``, ``page_size`` and ``format``; any other query parameter
is a 400 naming it (django-filter ignores it: a misspelt filter would return every row), and so is a page size
that is not a positive whole number (DRF gives the default page)."""

import pytest

from accounts.choices import Role
from tests.api.endpoints import ENDPOINTS

pytestmark = pytest.mark.django_db

PAGE_SIZE = ["A page size is a positive whole number (a page holds at most 200 rows)."]


@pytest.fixture
def admin(users, client_for):
    return client_for(users[Role.ADMINISTRATOR])


def taken(client, collection: str) -> list[str]:
    """The query parameters a list takes, as its refusal of an unknown one names them."""
    message = client.get(f"/api/v1/{collection}/", {"zz": "1"}).json()["errors"]["zz"][0]
    return message.split("which takes: ")[1].removesuffix(".").split(", ")


@pytest.mark.parametrize(
    ("collection", "parameters"),
    [
        ("penalty-statements", {"month": "2026-07"}),
        ("penalty-statements", {"montth_after": ""}),
        ("measurements", {"day": "2026-07-01"}),
        ("statement-lines", {"month": "2026-07", "status": "met", "stauts": "met"}),
    ],
)
def test_a_query_parameter_the_list_does_not_take_is_refused_naming_it(admin, collection, parameters):
    response = admin.get(f"/api/v1/{collection}/", parameters)

    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    unknown = sorted(name for name in parameters if name not in taken(admin, collection))
    assert sorted(response.json()["errors"]) == unknown
    assert all("month_after" in messages[0] for messages in response.json()["errors"].values())


def test_the_refusal_names_what_the_list_takes(admin):
    assert set(taken(admin, "penalty-statements")) == {
        "cap_reached",
        "contract",
        "currency",
        "format",
        "month_after",
        "month_before",
        "ordering",
        "page",
        "page_size",
        "q",
        "status",
        "vendor",
    }


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_every_list_takes_every_parameter_it_names(admin, endpoint):
    every = admin.get(f"/api/v1/{endpoint.prefix}/").json()["count"]
    # Empty values filter nothing; an empty page number would be an unknown page, an empty size is refused below.
    parameters = {name: "" for name in taken(admin, endpoint.prefix) if name not in ("page", "page_size")}

    response = admin.get(f"/api/v1/{endpoint.prefix}/", {**parameters, "page": "1", "page_size": "10"})

    assert response.status_code == 200, response.content
    assert response.json()["count"] == every > 0


def test_a_filter_taken_still_filters(admin, worlds):
    statement = worlds[0]["sla_tracker.PenaltyStatement"]
    month = f"{statement.month:%Y-%m}"

    response = admin.get("/api/v1/penalty-statements/", {"month_after": month, "month_before": month, "format": "json"})

    assert response.status_code == 200, response.content
    assert statement.pk in [row["id"] for row in response.json()["results"]]
    assert all(row["month"].startswith(month) for row in response.json()["results"])


@pytest.mark.parametrize("size", ["0", "-1", "", "ten", "1.5", "١"])
def test_a_page_size_that_is_not_a_positive_whole_number_is_refused(admin, size):
    response = admin.get("/api/v1/vendors/", {"page_size": size})

    assert response.status_code == 400, response.content
    assert response.json() == {"type": "validation_error", "errors": {"page_size": PAGE_SIZE}}


def test_a_page_size_asks_for_that_many_rows(admin):
    response = admin.get("/api/v1/vendors/", {"page_size": "1"})

    assert response.status_code == 200
    assert (response.json()["count"], len(response.json()["results"])) == (2, 1)


def test_a_detail_route_is_not_checked_as_a_list_is(admin, worlds):
    """Only lists are checked: no action reads a query parameter, and a row's detail answers as before."""
    statement = worlds[0]["sla_tracker.PenaltyStatement"]

    detail = admin.get(f"/api/v1/penalty-statements/{statement.pk}/", {"format": "json", "zz": "1"})

    assert detail.status_code == 200, detail.content
    assert detail.json()["id"] == statement.pk


def test_an_unknown_parameter_of_a_signed_out_request_is_a_401_first(client):
    response = client.get("/api/v1/vendors/", {"zz": "1"})

    assert response.status_code == 401
    assert response.json()["type"] == "not_authenticated"
