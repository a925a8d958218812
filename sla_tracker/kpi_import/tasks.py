"""Celery task of large KPI imports: takes IDs, claims the upload, calls the import service.

A refused import removes its upload and file (import_upload), so its errors are kept elsewhere for the
upload's page and the API to show (`refused_import`), in no language, for REFUSAL_SECONDS: in the result
backend under the upload's refusal id when a worker ran the task, in the cache when it ran in-process
(development, tests), as the pages' recompute does.
"""

import datetime
import logging
import uuid

from celery import shared_task
from celery.result import AsyncResult
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone, translation

from sla_tracker.choices import UploadStatus
from sla_tracker.kpi_import.service import (
    KpiDataRejected,
    check_may_import,
    discard_uploads_abandoned_before,
    fail_imports_started_before,
    import_upload,
    retry_task_import,
)
from sla_tracker.models import KpiUpload

logger = logging.getLogger(__name__)

# Uploads with more data rows than this are imported by the task, with progress on the upload.
ASYNC_ROW_THRESHOLD = 5000
# As long as the result backend keeps a task's result.
REFUSAL_SECONDS = settings.CELERY_RESULT_EXPIRES
# The state under which the result backend keeps a refusal.
REFUSED = "REFUSED"
# Beyond the task time limit, before an import still "importing" counts as stalled: a worker's clock may lag,
# and a killed task's connection may take a moment to end its transaction.
STALLED_IMPORT_MARGIN = datetime.timedelta(minutes=15)


def refusal_id(upload_id: int) -> str:
    """Where the refusal of an upload's import is kept: found from the upload's id alone, once it is removed."""
    return f"kpi-import-refused-{upload_id}"


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
    """Import one validated upload; a redelivered or repeated task finds it imported (or refused) and does
    nothing. Returns the outcome: "imported", "rejected" (the upload removed, its errors kept: see the
    module), or the status of an upload another task holds.

    A transient database error fails the import (nothing written, the upload failed) and the task retries
    itself: the retry, which keeps the task's id, finds the upload failed under that id and checks its file
    again against the contract's data as a user's retry would (retry_task_import), then imports it.

    A layout the import saves as a new mapping is named in ``language``, the interface language of the
    user who asked for the import (the worker has no request to take it from).
    """
    upload = KpiUpload.objects.select_related("contract").filter(pk=upload_id).first()
    if upload is None:  # only a refusal removes an upload: an earlier delivery of this task refused it
        return UploadStatus.REJECTED
    if upload.status == UploadStatus.IMPORTED:
        return upload.status
    actor = get_user_model().objects.get(pk=user_id)
    task_id = self.request.id or ""
    with translation.override(language or settings.LANGUAGE_CODE):
        try:
            if task_id and upload.status == UploadStatus.FAILED and upload.task_id == task_id:
                upload = retry_task_import(upload=upload, actor=actor, task_id=task_id)
            import_upload(upload=upload, actor=actor, report_progress=True, task_id=task_id)
        except KpiDataRejected as refused:
            _keep_refusal(self, upload, refused)
            return UploadStatus.REJECTED
        except ValidationError:
            pass  # an upload another task holds is that task's to finish: retrying cannot change it
    return upload.status


def _keep_refusal(task, upload: KpiUpload, refused: KpiDataRejected) -> None:
    refusal = {
        "contract": upload.contract_id,
        "name": upload.original_name,
        "errors": refused.stored_errors(),
        "error_count": refused.error_count,
    }
    if task.request.is_eager:
        cache.set(refusal_id(upload.pk), refusal, REFUSAL_SECONDS)
    else:
        task.update_state(task_id=refusal_id(upload.pk), state=REFUSED, meta=refusal)


def refused_import(upload_id: int) -> dict | None:
    """The refusal of an upload's import run by the task, while it is kept: {"contract": its id, "name": the
    file's name, "errors": the errors as stored (`reasons.readable_errors`), "error_count": all errors}.
    Whoever reads it checks that the user may see that contract."""
    refusal = cache.get(refusal_id(upload_id))
    if refusal is None and settings.CELERY_RESULT_BACKEND and not settings.CELERY_TASK_ALWAYS_EAGER:
        result = AsyncResult(refusal_id(upload_id))
        if result.state == REFUSED and isinstance(result.info, dict):
            refusal = result.info
    return refusal


def queue_import(upload: KpiUpload, user) -> None:
    """Import ``upload`` in the background once the current transaction commits, in the current
    language; the upload records the task's id at once, so its page and URL report the progress.
    PermissionDenied, before anything is queued, for a correction ``user`` may not make."""
    check_may_import(upload, user)
    upload.task_id = task_id = str(uuid.uuid4())
    KpiUpload.objects.filter(pk=upload.pk).update(task_id=task_id)
    args = (upload.pk, user.pk, translation.get_language())
    transaction.on_commit(lambda: import_kpi_upload.apply_async(args, task_id=task_id))


@shared_task(
    name="sla_tracker.discard_abandoned_uploads",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def discard_abandoned_uploads() -> int:
    """The daily beat job: remove the uploads left waiting for a column mapping or validated and never
    imported for more than settings.KPI_UPLOAD_ABANDONED_DAYS, with their files; returns how many."""
    received_before = timezone.now() - datetime.timedelta(days=settings.KPI_UPLOAD_ABANDONED_DAYS)
    discarded = discard_uploads_abandoned_before(received_before=received_before)
    logger.info("Discarded %d abandoned KPI upload(s) received before %s", discarded, received_before.isoformat())
    return discarded


@shared_task(
    name="sla_tracker.fail_stalled_imports",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def fail_stalled_imports() -> int:
    """The daily beat job: mark failed the uploads still importing longer after their import started than a task
    may run (settings.CELERY_TASK_TIME_LIMIT, and STALLED_IMPORT_MARGIN), for their users to retry them;
    returns how many."""
    started_before = (
        timezone.now() - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) - STALLED_IMPORT_MARGIN
    )
    failed = fail_imports_started_before(started_before=started_before)
    logger.info("Marked %d stalled KPI import(s) started before %s failed", failed, started_before.isoformat())
    return failed
