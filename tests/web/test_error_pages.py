"""Error pages in the reader's language, inside the application's layout where the request allows it."""

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from tests.factories import UserFactory, VendorUserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "title"), [("en", "Page not found"), ("fr", "Page introuvable")])
def test_a_missing_page_is_a_404_page_of_the_application(client, language, title):
    client.force_login(UserFactory(procurement=True))

    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 404
    page = response.content.decode()
    assert f'<h1 class="h3">{title}</h1>' in page
    assert 'aria-label="' in page and "navbar" in page  # the application's navigation


def test_a_refused_page_is_a_403_page_of_the_application(client):
    client.force_login(VendorUserFactory())

    response = client.get("/contracts/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 403
    assert '<h1 class="h3">Action non autorisée</h1>' in response.content.decode()


def test_a_server_error_page_needs_nothing_from_the_request():
    with translation.override("fr"):
        response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "<h1>Erreur du serveur</h1>" in response.content.decode()
