"""Dispute evidence: at most DISPUTE_EVIDENCE_MAX_BYTES, of an allowed type by extension and by content."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from sla_tracker.evidence import validate_evidence

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
MSG = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40
EML = b"From: ops@vendor.example\r\nTo: procurement@client.example\r\nSubject: outage\r\n\r\nThe carrier failed.\r\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 40


def xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("acd-report.pdf", PDF),
        ("screenshot.PNG", PNG),
        ("photo.jpeg", JPEG),
        ("photo.jpg", JPEG),
        ("interval-report.xlsx", None),
        ("calls.csv", b"date;calls\n2025-03-14;1200\n"),
        ("notes.txt", "Panne opérateur le 14 mars.\n".encode()),
        ("carrier.eml", EML),
        ("carrier.msg", MSG),
    ],
)
def test_each_allowed_type_with_matching_content_is_accepted(name, content):
    validate_evidence(upload(name, xlsx() if content is None else content))


def test_a_file_over_the_limit_is_refused_with_the_limit(settings):
    settings.DISPUTE_EVIDENCE_MAX_BYTES = 1024 * 1024

    with pytest.raises(ValidationError) as refused:
        validate_evidence(upload("big.pdf", PDF + b"\x00" * (1024 * 1024)))

    assert refused.value.code == "evidence_too_large"
    assert refused.value.messages == ["“big.pdf” is larger than 1.0\xa0MB, the most an evidence file may be."]


def test_a_file_at_the_limit_is_accepted(settings):
    settings.DISPUTE_EVIDENCE_MAX_BYTES = len(PDF)

    validate_evidence(upload("exact.pdf", PDF))


@pytest.mark.parametrize("name", ["setup.exe", "page.html", "page.htm", "image.svg", "archive.zip", "noextension"])
def test_an_extension_outside_the_allow_list_is_refused_with_the_allowed_types(name):
    with pytest.raises(ValidationError) as refused:
        validate_evidence(upload(name, PDF))

    assert refused.value.code == "evidence_type"
    assert refused.value.messages == [
        f"“{name}” is not an accepted type of evidence. Accepted: .pdf, .png, .jpg, .jpeg, .xlsx, .csv, .txt, "
        ".eml, .msg."
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", HTML),
        ("invoice.pdf", EXE),
        ("screenshot.png", JPEG),
        ("photo.jpg", PNG),
        ("report.xlsx", PDF),
        ("report.xlsx", b"PK\x03\x04 not really a zip"),
        ("notes.txt", HTML),
        ("calls.csv", b"  <html><body>hello</body></html>"),
        ("calls.csv", EXE),
        ("carrier.eml", HTML),
        ("carrier.msg", EXE),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(name, content):
    with pytest.raises(ValidationError) as refused:
        validate_evidence(upload(name, content, content_type="application/pdf"))

    assert refused.value.code == "evidence_content"
    assert refused.value.messages[0].startswith(f"“{name}” is not a real ")
    assert "Accepted: .pdf, .png" in refused.value.messages[0]


def test_a_zip_that_is_not_a_workbook_is_not_an_xlsx():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", EXE)

    with pytest.raises(ValidationError, match="not a real Excel"):
        validate_evidence(upload("report.xlsx", buffer.getvalue()))


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError, match=r"“empty\.pdf” is empty\."):
        validate_evidence(upload("empty.pdf", b""))


def test_the_file_is_left_at_its_start_for_storage():
    evidence = upload("interval-report.xlsx", xlsx())

    validate_evidence(evidence)

    assert evidence.tell() == 0
