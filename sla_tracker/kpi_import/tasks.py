"""Celery task of large KPI imports: takes IDs, claims the upload, calls the import service."""

import contextlib

from celery import shared_task
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError

from sla_tracker.choices import UploadStatus
from sla_tracker.kpi_import.readers import UnreadableFile
from sla_tracker.kpi_import.service import KpiDataRejected, import_upload
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
def import_kpi_upload(self, upload_id: int, user_id: int) -> str:
    """Import one validated upload; a redelivered or repeated task finds it imported and does nothing."""
    upload = KpiUpload.objects.select_related("contract").get(pk=upload_id)
    if upload.status == UploadStatus.IMPORTED:
        return upload.status
    actor = get_user_model().objects.get(pk=user_id)
    # A rejection leaves its report on the upload, and an upload another task holds is that task's to
    # finish: retrying cannot change either.
    with contextlib.suppress(KpiDataRejected, UnreadableFile, ValidationError):
        import_upload(upload=upload, actor=actor, report_progress=True, task_id=self.request.id or "")
    return upload.status
