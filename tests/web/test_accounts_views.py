"""Signing in and out, the home page of each role, and the language switcher."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory, VendorUserFactory

pytestmark = pytest.mark.django_db


def test_an_anonymous_visitor_is_sent_to_the_sign_in_page(client):
    response = client.get(reverse("accounts:home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_user_signs_in_with_their_password_and_lands_on_the_home_page(client):
    user = UserFactory(procurement=True)

    response = client.post(reverse("accounts:login"), {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("accounts:home")
    assert client.session[SESSION_KEY] == str(user.pk)


def test_a_wrong_password_shows_the_form_again_with_an_error(client):
    user = UserFactory()

    response = client.post(reverse("accounts:login"), {"username": user.username, "password": "wrong"})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert b"alert-danger" in response.content


def test_signing_out_is_a_post_and_ends_the_session(client):
    client.force_login(UserFactory())

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_the_header_always_shows_the_current_user_and_role(client):
    user = UserFactory(procurement=True, first_name="Marc", last_name="Dubois")
    client.force_login(user)

    page = client.get(reverse("accounts:home")).content.decode()

    assert "Marc Dubois" in page
    assert 'data-testid="current-role">Procurement' in page


def test_procurement_home_links_to_the_penalty_report_and_the_contracts(client):
    client.force_login(UserFactory(procurement=True))

    page = client.get(reverse("accounts:home")).content.decode()

    assert reverse("sla_tracker:report") in page
    assert reverse("contracts:list") in page
    assert "Penalty report" in page


def test_a_vendor_user_home_offers_their_statements_and_not_the_contract_register(client):
    client.force_login(VendorUserFactory())

    page = client.get(reverse("accounts:home")).content.decode()

    assert "My statements" in page
    assert reverse("contracts:list") not in page


def test_the_back_office_link_shows_only_for_staff(client):
    client.force_login(UserFactory(administrator=True))
    assert reverse("admin:index") in client.get(reverse("accounts:home")).content.decode()

    client.force_login(UserFactory(procurement=True))
    assert reverse("admin:index") not in client.get(reverse("accounts:home")).content.decode()


def test_the_language_switcher_sets_french(client):
    client.force_login(UserFactory(procurement=True))

    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("accounts:home")})
    page = client.get(reverse("accounts:home")).content.decode()

    assert response.status_code == 302
    assert '<html lang="fr">' in page
    assert 'value="fr" selected' in page


def test_the_admin_stays_at_admin(client):
    client.force_login(UserFactory(administrator=True))

    assert client.get(reverse("admin:index")).status_code == 200


def test_the_home_page_lists_the_users_unread_notices_and_not_others(client):
    from tests.factories import NotificationFactory

    user = UserFactory()
    NotificationFactory(user=user, subject="Statement DEMO-A 2026-09 ready for review")
    NotificationFactory(subject="Someone else's notice")
    client.force_login(user)

    page = client.get(reverse("accounts:home"))

    assert b"Statement DEMO-A 2026-09 ready for review" in page.content
    assert b"Someone else" not in page.content
