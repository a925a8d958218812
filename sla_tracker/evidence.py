"""What a dispute's evidence file may be: at most DISPUTE_EVIDENCE_MAX_BYTES, of an allowed type.

The type is checked twice: by the file's extension, and by its first bytes (a PDF starts with
"%PDF-", an .xlsx is a ZIP holding a workbook, …), so a renamed page or program is refused. The
Content-Type the browser sends is the client's word and is not trusted. Text types (CSV, plain text,
e-mail) have no signature: they must be text (no NUL byte) and must not be an HTML document.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils.cache import patch_cache_control
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

_SNIFF_BYTES = 2048
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<svg|<iframe)", re.IGNORECASE)
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")


def _is_pdf(head: bytes, file) -> bool:
    # Readers accept the header anywhere in the first kilobyte.
    return b"%PDF-" in head[:1024]


def _is_png(head: bytes, file) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _is_jpeg(head: bytes, file) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _is_xlsx(head: bytes, file) -> bool:
    if not head.startswith(b"PK\x03\x04"):
        return False
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        file.seek(0)
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def _is_text(head: bytes, file) -> bool:
    return b"\x00" not in head and not _HTML_START.match(head.lstrip(b"\xef\xbb\xbf"))


def _is_eml(head: bytes, file) -> bool:
    return _is_text(head, file) and bool(_HEADER_LINE.match(head))


def _is_msg(head: bytes, file) -> bool:
    return head.startswith(_OLE_MAGIC)


@dataclass(frozen=True)
class EvidenceType:
    label: Any
    matches: Callable[[bytes, object], bool]
    content_type: str  # what the file is served as (evidence_download)


EVIDENCE_TYPES: dict[str, EvidenceType] = {
    ".pdf": EvidenceType("PDF", _is_pdf, "application/pdf"),
    ".png": EvidenceType("PNG", _is_png, "image/png"),
    ".jpg": EvidenceType("JPEG", _is_jpeg, "image/jpeg"),
    ".jpeg": EvidenceType("JPEG", _is_jpeg, "image/jpeg"),
    ".xlsx": EvidenceType(
        _("Excel (.xlsx)"), _is_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    ".csv": EvidenceType("CSV", _is_text, "text/csv"),
    ".txt": EvidenceType(_("text"), _is_text, "text/plain"),
    ".eml": EvidenceType(_("e-mail (.eml)"), _is_eml, "message/rfc822"),
    ".msg": EvidenceType(_("Outlook e-mail (.msg)"), _is_msg, "application/vnd.ms-outlook"),
}
ALLOWED_EXTENSIONS = ", ".join(EVIDENCE_TYPES)


def validate_evidence(file) -> None:
    """Refuse (ValidationError naming the file) an empty, too large or not allowed evidence file."""
    name = PurePath(file.name or "").name
    limit = settings.DISPUTE_EVIDENCE_MAX_BYTES
    if file.size > limit:
        raise ValidationError(
            format_lazy(
                # Not the file's own size: rounded, 10 MB and 10 bytes reads as the limit.
                _("“{name}” is larger than {limit}, the most an evidence file may be."),
                name=name,
                limit=filesizeformat(limit),
            ),
            code="evidence_too_large",
        )
    if not file.size:
        raise ValidationError(format_lazy(_("“{name}” is empty."), name=name), code="evidence_empty")
    kind = EVIDENCE_TYPES.get(PurePath(name).suffix.lower())
    if kind is None:
        raise ValidationError(
            format_lazy(
                _("“{name}” is not an accepted type of evidence. Accepted: {allowed}."),
                name=name,
                allowed=ALLOWED_EXTENSIONS,
            ),
            code="evidence_type",
        )
    file.seek(0)
    head = file.read(_SNIFF_BYTES)
    file.seek(0)
    if not kind.matches(head, file):
        raise ValidationError(
            format_lazy(
                _("“{name}” is not a real {kind} file: its content does not match its extension. Accepted: {allowed}."),
                name=name,
                kind=kind.label,
                allowed=ALLOWED_EXTENSIONS,
            ),
            code="evidence_content",
        )


def evidence_download(field_file) -> FileResponse:
    """A stored evidence file as a private download, served as the type it was checked against when
    it was attached (never sniffed by the browser). Http404 when the storage no longer holds it.

    Media files are never served publicly: the web page and the API serve evidence through this,
    each after finding the dispute in the user's scope.
    """
    try:
        file = field_file.storage.open(field_file.name, "rb")
    except OSError as exc:  # the row names a file the storage no longer holds
        raise Http404 from exc
    filename = PurePath(field_file.name).name
    kind = EVIDENCE_TYPES.get(PurePath(filename).suffix.lower())
    response = FileResponse(
        file,
        as_attachment=True,
        filename=filename,
        content_type=kind.content_type if kind else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response
