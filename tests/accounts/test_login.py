"""Signing in through the back office's login page."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("admin:login")


def test_a_staff_user_signs_in_with_their_password_and_reaches_the_back_office(client):
    user = UserFactory(is_staff=True)

    response = client.post(
        LOGIN_URL, {"username": user.username, "password": DEFAULT_PASSWORD, "next": reverse("admin:index")}
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_wrong_password_does_not_sign_in(client):
    user = UserFactory(is_staff=True)

    response = client.post(LOGIN_URL, {"username": user.username, "password": "not-the-password"})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_a_user_who_is_not_staff_cannot_sign_in_to_the_back_office(client):
    user = UserFactory(is_staff=False)

    response = client.post(LOGIN_URL, {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_a_deactivated_user_cannot_sign_in(client):
    user = UserFactory(is_staff=True, is_active=False)

    client.post(LOGIN_URL, {"username": user.username, "password": DEFAULT_PASSWORD})

    assert SESSION_KEY not in client.session


def test_repeated_failed_sign_ins_lock_the_account_from_that_address_even_with_the_right_password(client, settings):
    user = UserFactory(is_staff=True)
    sign_in = reverse("accounts:login")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(sign_in, {"username": user.username, "password": "guess"})

    response = client.post(sign_in, {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert SESSION_KEY not in client.session


def test_a_successful_sign_in_resets_the_failure_count(client, settings):
    user = UserFactory(is_staff=True)
    sign_in = reverse("accounts:login")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(sign_in, {"username": user.username, "password": "guess"})
    client.post(sign_in, {"username": user.username, "password": DEFAULT_PASSWORD})
    client.logout()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(sign_in, {"username": user.username, "password": "guess"})

    response = client.post(sign_in, {"username": user.username, "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)
