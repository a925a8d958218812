"""API tokens: created and revoked by their user; a username and password buy one, within a throttle."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories as f
from tests.api.endpoints import READ_ONLY

pytestmark = pytest.mark.django_db


def test_a_user_creates_a_token_uses_it_and_revokes_it():
    user = f.UserFactory(username="camille")
    session = APIClient()
    session.force_login(user)
    created = session.post("/api/v1/me/token/")
    assert created.status_code == 201
    token = created.json()["token"]
    # In the app's time zone (Europe/Paris: +01:00 or +02:00), as every other timestamp, not in UTC.
    when = datetime.datetime.fromisoformat(created.json()["created"])
    assert when == Token.objects.get(key=token).created
    assert when.utcoffset() == timezone.localtime(when).utcoffset() != datetime.timedelta(0)

    machine = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    me = machine.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "camille"

    assert machine.delete("/api/v1/me/token/").status_code == 204
    refused = machine.get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json() == {"type": "authentication_failed", "detail": "Invalid token."}


def test_a_new_token_replaces_the_old_one():
    user = f.UserFactory()
    session = APIClient()
    session.force_login(user)
    first = session.post("/api/v1/me/token/").json()["token"]
    second = session.post("/api/v1/me/token/").json()["token"]
    assert first != second
    assert APIClient(HTTP_AUTHORIZATION=f"Token {first}").get("/api/v1/me/").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION=f"Token {second}").get("/api/v1/me/").status_code == 200


def test_a_username_and_password_buy_a_token():
    f.UserFactory(username="machine")
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "machine", "password": f.DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/contracts/").status_code == 200


def test_a_wrong_password_is_a_401_and_repeated_tries_are_throttled():
    f.UserFactory(username="target")
    client = APIClient()
    statuses = [
        client.post("/api/v1/auth/token/", {"username": "target", "password": "guess"}, format="json").status_code
        for _ in range(11)
    ]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert client.post("/api/v1/auth/token/", {}, format="json").json()["type"] == "throttled"


def test_the_profile_changes_what_the_user_owns_and_refuses_by_name_what_an_administrator_sets():
    user = f.UserFactory(first_name="Sam")
    other_vendor = f.VendorFactory()
    client = APIClient()
    client.force_authenticate(user)
    shown = client.get("/api/v1/me/").json()

    refused = [
        client.patch("/api/v1/me/", {"first_name": "Alex", name: value}, format="json")
        for name, value in (("role", "administrator"), ("vendor", other_vendor.pk), ("username", "x"))
    ]
    sent_back = client.patch("/api/v1/me/", {**shown, "first_name": "Alex"}, format="json")

    assert [response.status_code for response in refused] == [400, 400, 400]
    assert [response.json()["errors"] for response in refused] == [
        {"role": READ_ONLY},
        {"vendor": READ_ONLY},
        {"username": READ_ONLY},
    ]
    assert sent_back.status_code == 200, sent_back.content
    user.refresh_from_db()
    assert (user.first_name, user.role, user.vendor_id, user.username) == (
        "Alex",
        "vendor_manager",
        None,
        shown["username"],
    )


def test_a_misspelt_field_of_the_token_exchange_is_named_and_no_token_is_made():
    user = f.UserFactory(username="machine")

    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "machine", "password": f.DEFAULT_PASSWORD, "pasword": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"pasword": ["Unknown field."]}
    assert not Token.objects.filter(user=user).exists()


def test_a_field_the_profile_does_not_have_is_named_not_dropped():
    user = f.UserFactory(language="en")
    client = APIClient()
    client.force_authenticate(user)

    response = client.patch("/api/v1/me/", {"langauge": "fr", "is_superuser": True}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"is_superuser": ["Unknown field."], "langauge": ["Unknown field."]}
    user.refresh_from_db()
    assert (user.language, user.is_superuser) == ("en", False)


def test_a_wrong_password_is_told_in_the_readers_language():
    f.UserFactory(username="target")

    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "target", "password": "guess"}, format="json", HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Nom d’utilisateur ou mot de passe incorrect")
