"""``?ordering=`` orders a list by the fields it shows; any other term is a 400 naming it (DRF ignores it)."""

import pytest
from rest_framework.test import APIClient

from accounts.choices import Role
from tests.api.endpoints import ENDPOINTS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(users, client_for):
    return client_for(users[Role.ADMINISTRATOR])


def orderable(client, collection: str) -> list[str]:
    """The fields a list can be ordered by, as its refusal of an unknown term names them."""
    message = client.get(f"/api/v1/{collection}/", {"ordering": "zz"}).json()["errors"]["ordering"][0]
    return message.split("use one of: ")[1].removesuffix(".").split(", ")


def test_a_list_is_ordered_by_one_or_more_of_its_fields(admin):
    ascending = [row["name"] for row in admin.get("/api/v1/vendors/", {"ordering": "name"}).json()["results"]]
    # Terms are separated by commas; an empty one (a trailing comma) is no term.
    descending = admin.get("/api/v1/vendors/", {"ordering": "-name, id,"})

    assert ascending == sorted(ascending) and len(ascending) == 2
    assert descending.status_code == 200
    assert [row["name"] for row in descending.json()["results"]] == ascending[::-1]


def test_an_unknown_term_is_refused_naming_it_and_the_fields_to_use(admin):
    refused = admin.get("/api/v1/vendors/", {"ordering": "name,-nmae,contracts__reference"})

    assert refused.status_code == 400
    messages = refused.json()["errors"]["ordering"]
    assert [message.split(" is not")[0] for message in messages] == ["“-nmae”", "“contracts__reference”"]
    assert "name" in orderable(admin, "vendors")


def test_a_column_the_list_does_not_show_is_not_an_order():
    """A dispute's evidence is downloaded from its own address, not shown in the list: its file name is no order."""
    client = APIClient()
    client.force_authenticate(UserFactory(administrator=True))

    assert "evidence" not in orderable(client, "line-disputes")
    assert client.get("/api/v1/line-disputes/", {"ordering": "evidence"}).status_code == 400


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_every_list_orders_by_every_field_it_offers(admin, endpoint):
    fields = orderable(admin, endpoint.prefix)

    every_way = admin.get(f"/api/v1/{endpoint.prefix}/", {"ordering": ",".join(fields)})
    reversed_ = admin.get(f"/api/v1/{endpoint.prefix}/", {"ordering": ",".join(f"-{name}" for name in fields)})

    assert "id" in fields
    assert every_way.status_code == reversed_.status_code == 200
    assert every_way.json()["count"] == reversed_.json()["count"] > 0
