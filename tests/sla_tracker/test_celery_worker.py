"""The monthly close (and a refused KPI import) through a real Celery worker, Redis and PostgreSQL (issue 3 §4).

The worker is a subprocess (`celery -A config worker --pool=solo`) with the settings of
tests/celery_worker_settings.py: not eager, the pytest test database, a dedicated Redis database
(flushed before and after) and a queue unique to the test, to which the fan-out is routed. The
tests commit their data (transaction=True) so that the worker's connection sees it.

Skipped with a reason without PostgreSQL or without a reachable Redis at CELERY_BROKER_URL
(default redis://127.0.0.1:6379/15); CI has both, so they run there.
"""

import datetime
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.db import connection

from contracts.models import Contract
from sla_tracker.engine.scenario import run_scenario
from sla_tracker.models import PenaltyStatement, StatementEvent, StatementLine
from sla_tracker.services import close_contract_month
from tests.sla_tracker.test_close import figures, scenario_json, seed_scenario

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/15"
VISIBILITY_TIMEOUT = 5  # seconds before the message of a killed worker's task is delivered again
WAIT_SECONDS = 60

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL


@pytest.fixture
def redis_broker(postgres_only):
    """A Redis client on the broker's (dedicated) database, flushed before and after the test."""
    import redis

    url = broker_url()
    if not url.startswith(("redis://", "rediss://")):
        pytest.skip(f"needs a Redis broker; CELERY_BROKER_URL is {url!r}")
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"needs a reachable Redis at {url}: {exc}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def this_test_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's test database)."""
    settings = connection.settings_dict
    user = quote(settings["USER"] or "", safe="")
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
    credentials = f"{user}{password}@" if user else ""
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{credentials}{settings['HOST'] or ''}{port}/{quote(settings['NAME'], safe='')}"


class Workers:
    """Starts real Celery workers on one queue; stops every one still running at teardown."""

    def __init__(self, directory: Path, redis_client):
        self.directory = directory
        self.redis = redis_client
        self.queue = f"close-test-{uuid.uuid4().hex[:12]}"
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.celery_worker_settings",
            "DATABASE_URL": this_test_database_url(),
            "CELERY_BROKER_URL": broker_url(),
            "CELERY_TEST_QUEUE": self.queue,
            "CELERY_TEST_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            # Django's system checks (URLs, admin, …) are CI's `manage.py check`; the worker only closes months.
            "CELERY_SKIP_CHECKS": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }

    def start(self) -> subprocess.Popen:
        celery = Path(sys.executable).with_name("celery")
        command = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
        log = self.directory / f"worker{len(self.processes) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    *command,
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "--concurrency=1",
                    "-Q",
                    self.queue,
                    "-n",
                    f"{self.queue}-{len(self.processes) + 1}@%h",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "INFO",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def running_batch(self, process: subprocess.Popen) -> bool:
        """Whether the worker `process` has received a batch task it has not finished (its log says so)."""
        text = self.logs[self.processes.index(process)].read_text(encoding="utf-8", errors="replace")
        received = len(re.findall(r"evaluate_contracts_month\[[^\]]+\] received", text))
        finished = len(re.findall(r"evaluate_contracts_month\[[^\]]+\] (?:succeeded|failed|retry)", text))
        return received > finished

    def output(self) -> str:
        """The tail of every worker's log, for failure messages."""
        parts = []
        for log in self.logs:
            text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            parts.append(f"--- {log.name} ---\n{text[-4000:]}")
        return "\n".join(parts)


@pytest.fixture
def workers(redis_broker, tmp_path):
    manager = Workers(tmp_path, redis_broker)
    try:
        yield manager
    finally:
        manager.stop_all()


def enqueue_compute_month(month: str, queue: str) -> None:
    """Send sla_tracker.compute_month through the broker (the in-process app stays eager and untouched)."""
    client = Celery("close-test-client", broker=broker_url(), set_as_current=False)
    client.conf.broker_connection_retry_on_startup = True
    try:
        client.send_task("sla_tracker.compute_month", args=[month], queue=queue)
    finally:
        client.close()


def wait_for(condition, what: str, workers: Workers, timeout: float = WAIT_SECONDS, interval: float = 0.1):
    """Poll ``condition()`` until it returns a truthy value; fail with the workers' logs on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for process in workers.processes:
            if process.poll() not in (None, -signal.SIGKILL, 0):
                pytest.fail(f"a worker exited with {process.returncode} while waiting for {what}\n{workers.output()}")
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{workers.output()}")


def statement_count() -> int:
    return PenaltyStatement.objects.count()


def engine_figures(name: str) -> list[tuple]:
    """(month, credits, net, [(code, status, credit)]) of every month of a scenario, by the engine."""
    return [
        (
            month["month"],
            month["credits"],
            month["net"],
            [(line["code"], line["status"], line["credit"]) for line in month["service_levels"]],
        )
        for month in run_scenario(scenario_json(name))["months"]
    ]


def stored_figures(contract: Contract) -> list[tuple]:
    """The same figures as stored in the contract's statements."""
    rows = []
    for statement in PenaltyStatement.objects.filter(contract=contract).order_by("month"):
        lines = StatementLine.objects.filter(statement=statement).order_by("service_level__display_order")
        rows.append(
            (
                f"{statement.month:%Y-%m}",
                str(statement.credits),
                str(statement.net),
                [(line.service_level.code, line.status, str(line.credit)) for line in lines],
            )
        )
    return rows


def test_a_real_worker_computes_a_month_through_redis_and_postgresql(workers):
    names = ["ex07_pool_with_cap_binding", "ex09_multiplier"]
    contracts = {name: seed_scenario(scenario_json(name)) for name in names}
    expected = {name: engine_figures(name) for name in names}
    total = sum(len(months) for months in expected.values())  # ex07: 2026-07; ex09: 2026-02 … 2026-07

    workers.start()
    enqueue_compute_month("2026-07", workers.queue)
    wait_for(lambda: statement_count() >= total, f"{total} statements", workers)
    wait_for(lambda: not workers_busy(workers), "the queue to drain", workers)

    assert statement_count() == total
    for name, contract in contracts.items():
        assert stored_figures(contract) == expected[name], name
    assert statement_for(contracts["ex07_pool_with_cap_binding"], "2026-07").credits == 24000
    assert StatementEvent.objects.count() == total  # one "computed" event per statement, nothing else
    assert "sla_tracker.compute_month" in workers.output()


def test_a_close_interrupted_by_sigkill_completes_on_a_new_worker_without_duplicates(workers):
    count = 30
    contracts = [seed_scenario(scenario_json("ex01_plain_breach")) for _ in range(count)]

    first = workers.start()
    enqueue_compute_month("2026-01", workers.queue)
    # Killed while it runs a batch (its message delivered, so held unacknowledged in Redis) after at least
    # one batch committed. Not right after a commit: between acknowledging a task and recording the next
    # message as unacknowledged, kombu's Redis transport holds that message nowhere, and a worker killed
    # then loses it (an at-most-once window of the transport, not of the close).
    wait_for(
        lambda: statement_count() and workers.running_batch(first),
        "worker 1 to run a batch after its first commit",
        workers,
        interval=0.005,
    )
    os.kill(first.pid, signal.SIGKILL)
    done_at_kill = statement_count()
    first.wait(timeout=10)
    done_at_kill = max(done_at_kill, statement_count())
    assert 0 < done_at_kill < count, f"worker 1 was killed after {done_at_kill} of {count} contracts"
    assert done_at_kill % 3 == 0  # a batch (CLOSE_BATCH_SIZE 3 in the worker's settings) commits whole

    workers.start()
    wait_for(lambda: statement_count() >= count, f"{count} statements after the restart", workers)
    # Every message, the killed worker's unacknowledged one included, has been delivered and acknowledged.
    wait_for(lambda: not workers_busy(workers), "the queue and the unacknowledged messages to drain", workers)

    per_contract = Counter(PenaltyStatement.objects.values_list("contract_id", flat=True))
    assert per_contract == dict.fromkeys((contract.pk for contract in contracts), 1)
    assert Counter(StatementEvent.objects.values_list("statement__contract_id", flat=True)) == per_contract

    reference = seed_scenario(scenario_json("ex01_plain_breach"))
    close_contract_month(contract_id=reference.pk, month="2026-01")  # the task's own call, uninterrupted
    expected = figures(reference)
    for contract in contracts:
        assert figures(contract) == expected, contract.reference
        assert stored_figures(contract) == engine_figures("ex01_plain_breach"), contract.reference


def workers_busy(workers: Workers) -> bool:
    """Whether the broker still holds a message of the test's queue, delivered or not."""
    return bool(workers.redis.llen(workers.queue) or workers.redis.hlen("unacked"))


def statement_for(contract: Contract, month: str) -> PenaltyStatement:
    return PenaltyStatement.objects.get(contract=contract, month=f"{month}-01")


def test_a_kpi_import_a_real_worker_refuses_removes_the_upload_and_its_file_and_keeps_its_errors(
    workers, settings, tmp_path
):
    """The refusal of a background import reaches the pages and the API through the result backend."""
    from sla_tracker.choices import UploadStatus
    from sla_tracker.kpi_import.reasons import readable_errors
    from sla_tracker.kpi_import.service import preview_upload
    from sla_tracker.kpi_import.tasks import refused_import
    from sla_tracker.models import KpiUpload
    from tests.factories import PenaltyStatementFactory
    from tests.sla_tracker.kpi_support import TODAY, csv_file, stored_files, voice_contract

    if not settings.CELERY_RESULT_BACKEND:
        pytest.skip("needs the result backend: set CELERY_BROKER_URL to the Redis broker")
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.CELERY_TASK_ALWAYS_EAGER = False  # read the refusal from the result backend, as a web process does
    workers.env["MEDIA_ROOT"] = str(media)
    contract = voice_contract()
    text = "Date;Appels reçus\n02/01/2025;1200\n03/01/2025;1100\n"
    upload = preview_upload(contract=contract, file=csv_file(text), actor=contract.owner, today=TODAY)
    assert upload.status == UploadStatus.VALIDATED and stored_files() == {upload.file.name}
    PenaltyStatementFactory(contract=contract, month=datetime.date(2025, 1, 1), approved=True)

    workers.start()
    client = Celery("kpi-import-test-client", broker=broker_url(), set_as_current=False)
    client.conf.broker_connection_retry_on_startup = True
    try:
        client.send_task(
            "sla_tracker.import_kpi_upload", args=[upload.pk, contract.owner.pk, "en"], queue=workers.queue
        )
    finally:
        client.close()
    wait_for(lambda: not KpiUpload.objects.filter(pk=upload.pk).exists(), "the refused upload's removal", workers)
    refusal = wait_for(lambda: refused_import(upload.pk), "the refusal in the result backend", workers)

    assert stored_files() == set()
    assert (refusal["contract"], refusal["name"], refusal["error_count"]) == (contract.pk, "kpi.csv", 2)
    assert readable_errors(refusal["errors"])[0]["message"].startswith(
        "The penalty statement of January 2025 is “Approved”"
    )
