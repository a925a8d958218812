"""Request size limits: no uploaded file is stored beyond the largest the app accepts, and an API body
over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 in the API's error shape, with nothing written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import RequestFactory
from rest_framework.test import APIClient

from sla_tracker.models import KpiUpload
from tests.sla_tracker.kpi_support import nothing_written, voice_contract

KB = 1024


class RecordingHandler(FileUploadHandler):
    """Placed after the capped handler: records the bytes passed on to the handlers that store files."""

    passed_on: list[int] = []

    def receive_data_chunk(self, raw_data, start):
        RecordingHandler.passed_on.append(len(raw_data))
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def limits(settings):
    settings.KPI_UPLOAD_MAX_BYTES = 200 * KB
    settings.DISPUTE_EVIDENCE_MAX_BYTES = 100 * KB
    return settings


@pytest.fixture
def recorded(limits):
    """The project's upload handlers with RecordingHandler behind the capped one."""
    assert limits.FILE_UPLOAD_HANDLERS[0] == "config.uploads.CappedUploadHandler"
    limits.FILE_UPLOAD_HANDLERS = [
        "config.uploads.CappedUploadHandler",
        "tests.test_uploads.RecordingHandler",
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    RecordingHandler.passed_on = []
    return limits


def uploaded(content: bytes):
    request = RequestFactory().post("/", {"file": SimpleUploadedFile("pack.csv", content, content_type="text/csv")})
    return request.FILES["file"]


def test_a_file_up_to_the_largest_accepted_size_arrives_whole(limits):
    content = bytes(range(256)) * 800  # 200 KB: the KPI pack limit, the larger of the two
    file = uploaded(content)
    assert file.size == len(content)
    assert file.read() == content


def test_a_larger_file_is_not_stored_but_arrives_with_its_full_size(limits):
    file = uploaded(b"x" * (5 * 1024 * KB))
    assert file.name == "pack.csv"
    assert file.size == 5 * 1024 * KB
    assert file.read() == b""


def test_no_more_than_the_largest_accepted_size_reaches_the_handlers_that_store_files(recorded):
    uploaded(b"x" * (5 * 1024 * KB))
    assert 0 < sum(RecordingHandler.passed_on) <= 200 * KB


@pytest.mark.django_db
def test_an_oversized_kpi_pack_is_refused_with_its_size_and_the_limit(recorded):
    recorded.KPI_UPLOAD_MAX_BYTES = 1024 * KB
    contract = voice_contract()
    client = APIClient()
    client.force_authenticate(contract.owner)
    pack = SimpleUploadedFile("pack.csv", b"Date;Appels re\xc3\xa7us\n" + b"02/01/2025;1200\n" * 200_000)

    response = client.post(f"/api/v1/contracts/{contract.pk}/kpi-uploads/", {"file": pack}, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "The file is 3.1 MB; the limit is 1 MB. Split it by month and upload the parts."
    )
    assert sum(RecordingHandler.passed_on) <= 1024 * KB
    assert not KpiUpload.objects.exists()
    assert nothing_written()


@pytest.mark.django_db
def test_an_api_body_over_the_limit_is_a_413_and_writes_nothing(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * KB
    contract = voice_contract()
    client = APIClient()
    client.force_authenticate(contract.owner)
    item = {"contract": contract.pk, "counter": "offered", "date": "2025-01-02", "value": 1200}
    items = [{**item, "date": f"2025-01-{day:02d}"} for day in range(1, 29)] * 10  # ~20 KB

    response = client.post("/api/v1/measurements/bulk/", items, format="json")

    assert response.status_code == 413
    assert response.json() == {
        "type": "request_too_large",
        "detail": "The request body is larger than 10.0\xa0KB: send the data in several requests.",
    }
    assert nothing_written()
    assert client.post("/api/v1/measurements/bulk/", items[:28], format="json").status_code == 200


@pytest.mark.django_db
def test_the_413_is_in_the_users_language(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1 * KB
    contract = voice_contract()
    client = APIClient()
    client.force_authenticate(contract.owner)
    body = [{"contract": contract.pk, "counter": "offered", "date": "2025-01-02", "value": 1200}] * 30
    response = client.post("/api/v1/measurements/bulk/", body, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 413
    assert response.json()["detail"].startswith("Le corps de la requête dépasse")
