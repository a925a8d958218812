"""Addresses under /api/ that no endpoint answers, and server errors, answer in the API's JSON error shape;
the site's other addresses keep their pages."""

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from contracts.api.views import ContractViewSet
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(UserFactory(is_superuser=True))
    return client


@pytest.mark.parametrize("path", ["/api/v1/contracts/abc/", "/api/v1/nothing/", "/api/v1/contracts/abc/kpi-uploads/1/"])
def test_an_address_no_endpoint_answers_is_a_json_404(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "not_found",
        "detail": f"No endpoint at {path}: see /api/docs/ for the endpoints.",
    }


@pytest.mark.parametrize("debug", [False, True])
def test_a_post_without_the_final_slash_is_told_the_address_not_redirected(api, settings, debug):
    settings.DEBUG = debug  # the demo runs in DEBUG, where Django would list its URL patterns or raise

    response = api.post("/api/v1/measurements/bulk", [], format="json")

    assert response.status_code == 404
    assert response.json()["detail"] == (
        "No endpoint at /api/v1/measurements/bulk: the address ends with a slash (/api/v1/measurements/bulk/)."
    )


def test_the_404_is_in_the_readers_language(api):
    with translation.override("fr"):
        response = api.get("/api/v1/nothing/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.json()["detail"].startswith("Aucun point d’accès à /api/v1/nothing/")


def test_a_server_error_in_the_api_is_json(api, monkeypatch):
    def broken(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ContractViewSet, "list", broken)
    api.raise_request_exception = False

    response = api.get("/api/v1/contracts/")

    assert response.status_code == 500
    assert response.json()["type"] == "server_error"
    assert "boom" not in response.content.decode()


def test_the_sites_pages_keep_their_html_404_and_slash_redirect(client):
    client.force_login(UserFactory(is_superuser=True))

    missing = client.get("/contracts/no-such-page/")
    redirected = client.get("/contracts")

    assert missing.status_code == 404 and missing["Content-Type"].startswith("text/html")
    assert (redirected.status_code, redirected["Location"]) == (301, "/contracts/")
