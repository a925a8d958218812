"""Concurrent approvals on SQLite, the demo's database: the writers wait for each other, and each one
after the first gets the service's refusal (400), never "database is locked" (500).

The test database of a SQLite run is in memory, shared by the test's threads through one cache, where
SQLite locks otherwise than on a file; so the approvals run in a separate process, on a file database
configured by the project's settings (config/settings/base.py), with four threads posting at once.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json
import threading

import django

django.setup()

from django.conf import settings
from django.core.management import call_command


class NoMigrations(dict):
    def __contains__(self, app):
        return True

    def __getitem__(self, app):
        return None


settings.MIGRATION_MODULES = NoMigrations()  # the tables straight from the models: quicker
call_command("migrate", run_syncdb=True, verbosity=0)

from django.db import connection
from rest_framework.test import APIClient

from sla_tracker.choices import StatementStatus
from tests.factories import PenaltyStatementFactory, UserFactory

statement = PenaltyStatementFactory(status=StatementStatus.IN_REVIEW)
procurement = UserFactory(procurement=True)
connection.close()
barrier = threading.Barrier(4)
answers = []


def approve():
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(procurement)
    barrier.wait()
    try:
        response = client.post(f"/api/v1/penalty-statements/{statement.pk}/approve/")
        answers.append((response.status_code, response.content.decode()))
    finally:
        connection.close()


threads = [threading.Thread(target=approve) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
statement.refresh_from_db()
print(json.dumps({
    "options": settings.DATABASES["default"].get("OPTIONS", {}),
    "answers": sorted(answers),
    "status": statement.status,
    "approvals": statement.events.filter(action="approved").count(),
}))
"""


def test_four_concurrent_approvals_on_sqlite_give_one_approval_and_three_clean_refusals(tmp_path):
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "testserver",
        "CELERY_BROKER_URL": "",
    }

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["options"]["transaction_mode"] == "IMMEDIATE"
    codes = [code for code, _body in result["answers"]]
    assert codes == [200, 400, 400, 400], result["answers"]
    for _code, body in result["answers"][1:]:
        assert "is approved: only a statement that is in review can be approved" in body
    assert (result["status"], result["approvals"]) == ("approved", 1)
