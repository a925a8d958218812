"""Uploaded files are kept only up to the largest size the app accepts.

Django writes an uploaded file to the temporary folder in full before any view sees it, so a
several-gigabyte upload would fill the disk before the KPI import or the dispute form refused it
as too large. The app accepts two kinds of file, each with its limit: KPI packs
(``KPI_UPLOAD_MAX_BYTES``) and dispute evidence (``DISPUTE_EVIDENCE_MAX_BYTES``).
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


def largest_accepted_file() -> int:
    return max(settings.KPI_UPLOAD_MAX_BYTES, settings.DISPUTE_EVIDENCE_MAX_BYTES)


class CappedUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: passes a file's chunks on to the memory or temporary-file
    handler until the file exceeds :func:`largest_accepted_file`; the rest is read and dropped.

    Such a file then arrives empty, with its full size, and the check of its kind refuses it with
    its own message ("The file is 240 MB; the limit is 20 MB") as it does any file too large.
    """

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.limit = largest_accepted_file()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        return raw_data if self.received <= self.limit else None  # None: the next handlers never see it

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received <= self.limit:
            return None  # the next handler completes the file
        return UploadedFile(
            io.BytesIO(),
            name=self.file_name,
            content_type=self.content_type,
            size=self.received,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
