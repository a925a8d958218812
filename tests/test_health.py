"""/healthz: the database and, when one is configured, the Celery broker."""

import socket

import pytest
from django.urls import reverse

from config.celery_app import app as celery_app

pytestmark = pytest.mark.django_db

HEALTHZ = reverse("healthz")
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # port 1: nothing listens, the connection is refused at once
LOCAL_BROKER = "redis://127.0.0.1:6379/0"


@pytest.fixture
def broker_url(settings, monkeypatch):
    """Point both the setting the check reads and the Celery app it connects with at a broker URL."""

    def use(url: str) -> None:
        settings.CELERY_BROKER_URL = url
        monkeypatch.setitem(celery_app.conf, "broker_url", url or None)

    return use


def _redis_is_listening() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


def test_healthz_answers_ok_when_the_database_answers_and_no_broker_is_configured(client, broker_url):
    broker_url("")

    response = client.get(HEALTHZ)

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "not configured (tasks run in-process)"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_naming_the_broker_when_the_broker_is_unreachable(client, broker_url):
    broker_url(UNREACHABLE_BROKER)

    response = client.get(HEALTHZ)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error: ")


@pytest.mark.skipif(not _redis_is_listening(), reason="no Redis listening on 127.0.0.1:6379")
def test_healthz_answers_ok_when_the_configured_broker_answers(client, broker_url):
    broker_url(LOCAL_BROKER)

    response = client.get(HEALTHZ)

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_healthz_answers_503_naming_the_database_when_the_database_fails(client, broker_url, monkeypatch):
    broker_url("")

    def failing_check():
        raise ConnectionError("database is down")

    monkeypatch.setattr("config.health._check_database", failing_check)

    response = client.get(HEALTHZ)

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: ConnectionError: database is down"


def test_healthz_only_answers_get(client):
    assert client.post(HEALTHZ).status_code == 405
