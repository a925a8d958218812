"""Celery task of large KPI imports: takes IDs, claims the upload, calls the import service."""

import contextlib
import uuid

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.utils import translation

from sla_tracker.choices import UploadStatus
from sla_tracker.kpi_import.readers import UnreadableFile
from sla_tracker.kpi_import.service import KpiDataRejected, check_may_import, import_upload
from sla_tracker.models import KpiUpload

# Uploads with more data rows than this are imported by the task, with progress on the upload.
ASYNC_ROW_THRESHOLD = 5000


@shared_task(
    name="sla_tracker.import_kpi_upload",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def import_kpi_upload(self, upload_id: int, user_id: int, language: str | None = None) -> str:
    """Import one validated upload; a redelivered or repeated task finds it imported and does nothing.

    A layout the import saves as a new mapping is named in ``language``, the interface language of the
    user who asked for the import (the worker has no request to take it from); the errors a refused
    import stores are in no language (sla_tracker.kpi_import.reasons).
    """
    upload = KpiUpload.objects.select_related("contract").get(pk=upload_id)
    if upload.status == UploadStatus.IMPORTED:
        return upload.status
    actor = get_user_model().objects.get(pk=user_id)
    # A rejection leaves its report on the upload, and an upload another task holds is that task's to
    # finish: retrying cannot change either.
    with (
        translation.override(language or settings.LANGUAGE_CODE),
        contextlib.suppress(KpiDataRejected, UnreadableFile, ValidationError),
    ):
        import_upload(upload=upload, actor=actor, report_progress=True, task_id=self.request.id or "")
    return upload.status


def queue_import(upload: KpiUpload, user) -> None:
    """Import ``upload`` in the background once the current transaction commits, in the current
    language; the upload records the task's id at once, so its page and URL report the progress.
    PermissionDenied, before anything is queued, for a correction ``user`` may not make."""
    check_may_import(upload, user)
    upload.task_id = task_id = str(uuid.uuid4())
    KpiUpload.objects.filter(pk=upload.pk).update(task_id=task_id)
    args = (upload.pk, user.pk, translation.get_language())
    transaction.on_commit(lambda: import_kpi_upload.apply_async(args, task_id=task_id))
