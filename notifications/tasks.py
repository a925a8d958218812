"""The daily notifications job (Celery beat entry "send-daily-notifications")."""

import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from notifications import services

TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="notifications.send_daily_notifications",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=True,
    max_retries=5,
)
def send_daily_notifications(today: str | None = None) -> dict[str, int]:
    """Record the notifications due today ("YYYY-MM-DD", default the local date) and e-mail the
    unsent ones. Idempotent: a second run records and sends nothing new."""
    day = datetime.date.fromisoformat(today) if today else None
    recorded = services.record_due_notifications(today=day)
    sent = services.send_pending_emails()
    return {"recorded": recorded, "sent": sent}
