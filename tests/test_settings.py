"""Settings: production refuses the public development key; environment values are typed strictly."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str
from config.settings.base import DEVELOPMENT_SECRET_KEY

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _import_production_settings(**environ: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", **environ})
    return subprocess.run(
        [sys.executable, "-c", "import config.settings.production"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "secret_key",
    [None, DEVELOPMENT_SECRET_KEY, "k" * 49],
    ids=["no key", "the development key", "a short key"],
)
def test_production_settings_refuse_to_start_without_a_long_secret_key(secret_key):
    result = _import_production_settings(**({} if secret_key is None else {"SECRET_KEY": secret_key}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_settings_start_with_a_long_random_secret_key():
    result = _import_production_settings(SECRET_KEY="Zq8" * 21 + "x")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), (" Yes ", True), ("on", True), ("0", False), ("off", False), ("", False)]
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("FEATURE_FLAG", raw)

    assert env_bool("FEATURE_FLAG", default=not value) is value


def test_env_bool_rejects_a_value_that_is_not_a_boolean(monkeypatch):
    monkeypatch.setenv("FEATURE_FLAG", "maybe")

    with pytest.raises(ImproperlyConfigured, match="FEATURE_FLAG must be a boolean"):
        env_bool("FEATURE_FLAG")


def test_env_bool_falls_back_to_its_default_when_unset(monkeypatch):
    monkeypatch.delenv("FEATURE_FLAG", raising=False)

    assert env_bool("FEATURE_FLAG", default=True) is True


def test_env_int_reads_an_integer_and_falls_back_when_empty(monkeypatch):
    monkeypatch.setenv("WORKERS", "4")
    assert env_int("WORKERS", 1) == 4

    monkeypatch.setenv("WORKERS", " ")
    assert env_int("WORKERS", 1) == 1


def test_env_int_rejects_a_value_that_is_not_an_integer(monkeypatch):
    monkeypatch.setenv("WORKERS", "x")

    with pytest.raises(ImproperlyConfigured, match="WORKERS must be an integer, got 'x'"):
        env_int("WORKERS", 1)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("ALLOWED", " a.example, ,b.example ")
    monkeypatch.delenv("UNSET_SETTING_FOR_TEST", raising=False)

    assert env_list("ALLOWED", []) == ["a.example", "b.example"]
    assert env_str("UNSET_SETTING_FOR_TEST", "fallback") == "fallback"


def test_the_deployment_checklist_is_clean_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "tracker.example.com",
    }
    env.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("postgres://app@db.example:5432/tracker", {"options": "-c jit=off -c work_mem=16MB"}),
        ("sqlite:////tmp/tracker.sqlite3", {"transaction_mode": "IMMEDIATE", "timeout": 20}),
    ],
    ids=["postgresql", "sqlite"],
)
def test_postgresql_connections_run_without_jit_compilation_and_with_16_mb_of_work_memory(url, options):
    code = "from config.settings import base; print(base.DATABASES['default'].get('OPTIONS', {}))"
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout.strip() == str(options)


@pytest.mark.parametrize(("environ", "max_age"), [({}, 60), ({"DATABASE_CONN_MAX_AGE": "0"}, 0)], ids=["default", "0"])
def test_database_connections_are_kept_for_reuse_and_checked_first(environ, max_age):
    code = (
        "from config.settings.base import DATABASES; "
        "print(DATABASES['default']['CONN_MAX_AGE'], DATABASES['default']['CONN_HEALTH_CHECKS'])"
    )
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_CONN_MAX_AGE"}
    env.update({"DATABASE_URL": "postgres://app@db.example:5432/tracker", **environ})
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout.split() == [str(max_age), "True"]
