"""The daily notifications job through a real Celery worker (Redis broker, PostgreSQL): sent twice,
each notice is recorded and e-mailed once. Reuses the worker harness of the monthly-close test;
skipped with a reason without PostgreSQL or Redis, like it."""

import datetime

import pytest
from celery import Celery

from notifications.models import Notification
from tests.factories import ActionItemFactory, ContractFactory, UserFactory
from tests.sla_tracker.test_celery_worker import broker_url, redis_broker, wait_for, workers  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TASK = "notifications.send_daily_notifications"


def enqueue(queue: str, today: str) -> None:
    client = Celery("notifications-test-client", broker=broker_url(), set_as_current=False)
    client.conf.broker_connection_retry_on_startup = True
    try:
        client.send_task(TASK, args=[today], queue=queue)
    finally:
        client.close()


def test_the_daily_job_run_twice_by_a_real_worker_emails_each_notice_once(workers):  # noqa: F811
    owner = UserFactory(email="owner@client.example")
    ActionItemFactory(
        owner=owner,
        due_date=datetime.date(2025, 2, 14),
        meeting__committee__contract=ContractFactory(status="draft"),
    )
    workers.start()

    enqueue(workers.queue, "2025-02-20")
    enqueue(workers.queue, "2025-02-20")

    wait_for(lambda: workers.output().count(" succeeded in ") >= 2, "two runs of the daily job", workers)
    notification = Notification.objects.get()
    assert notification.user == owner and notification.emailed_at is not None
    assert workers.output().count("Subject: [BPO tracker] Action overdue since Feb. 14,") == 1  # the header folds there
