"""A dispute's evidence file: downloaded through its own view by those who may see the statement.

Media files are not served (they must not be public), so the statement page and the back office link
to this view; another vendor's evidence is a 404, as its statement is.
"""

import io
from pathlib import PurePath
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sla_tracker.services import dispute_adjustment, dispute_line
from tests.factories import LineDisputeFactory, StatementAdjustmentFactory, UserFactory, VendorUserFactory
from tests.web.conftest import make_statement

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def evidence_url(dispute):
    return reverse("sla_tracker:dispute-evidence", args=[dispute.pk])


def detail(statement):
    return reverse("sla_tracker:statement", args=[statement.pk])


def downloaded(response) -> bytes:
    return b"".join(response.streaming_content)


def xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Date", "Calls"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def dispute(statement, vendor_user):
    """A dispute of the statement's vendor with a PDF attached, through the dispute page's service."""
    line = statement.lines.get(credit__gt=0)
    evidence = SimpleUploadedFile("ok.pdf", PDF, content_type="application/pdf")
    return dispute_line(line_id=line.pk, actor=vendor_user, reason="Carrier outage", evidence=evidence)


def test_the_vendor_who_attached_it_downloads_the_exact_bytes_as_an_attachment(client, vendor_user, dispute):
    client.force_login(vendor_user)

    response = client.get(evidence_url(dispute))

    assert response.status_code == 200
    assert downloaded(response) == PDF
    stored = PurePath(dispute.evidence.name).name
    assert stored.startswith("ok") and stored.endswith(".pdf")
    assert response["Content-Disposition"] == f'attachment; filename="{stored}"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Length"] == str(len(PDF))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_procurement_and_an_administrator_download_it(client, procurement, dispute):
    for user in (procurement, UserFactory(administrator=True)):
        client.force_login(user)

        response = client.get(evidence_url(dispute))

        assert response.status_code == 200
        assert downloaded(response) == PDF
        assert response["Content-Disposition"].startswith("attachment;")


def test_another_vendors_user_and_a_manager_of_other_contracts_get_404(client, dispute, other_statement):
    for user in (VendorUserFactory(vendor=other_statement.contract.vendor), other_statement.contract.owner):
        client.force_login(user)

        assert client.get(evidence_url(dispute)).status_code == 404


def test_another_user_of_the_same_vendor_and_the_contracts_manager_may_download_it(client, statement, dispute):
    for user in (VendorUserFactory(vendor=statement.contract.vendor), statement.contract.owner):
        client.force_login(user)

        assert downloaded(client.get(evidence_url(dispute))) == PDF


def test_an_anonymous_user_is_sent_to_sign_in(client, dispute):
    response = client.get(evidence_url(dispute))

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={quote(evidence_url(dispute))}"


def test_a_dispute_without_evidence_or_whose_file_is_gone_is_404(client, procurement, statement, dispute):
    without = LineDisputeFactory(line=statement.lines.exclude(pk=dispute.line_id).get())
    client.force_login(procurement)
    default_storage.delete(dispute.evidence.name)

    assert client.get(evidence_url(without)).status_code == 404
    assert client.get(evidence_url(dispute)).status_code == 404
    assert client.get(reverse("sla_tracker:dispute-evidence", args=[dispute.pk + 1000])).status_code == 404


def test_the_evidence_is_only_read(client, procurement, dispute):
    client.force_login(procurement)

    assert client.post(evidence_url(dispute)).status_code == 405


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("acd-report.csv", b"date;answered\n2025-03-14;0\n", "text/csv"),
        ("notes.txt", b"The carrier confirmed the outage.\n", "text/plain"),
        ("screen.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 16, "image/png"),
        ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\0" * 16, "image/jpeg"),
        ("carrier.eml", b"From: noc@carrier.example\nSubject: outage\n\nDown from 9 to 11.\n", "message/rfc822"),
        ("pack.xlsx", None, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
    ids=["csv", "txt", "png", "jpeg", "eml", "xlsx"],
)
def test_each_accepted_type_is_served_with_its_own_content_type(
    client, vendor_user, statement, name, content, content_type
):
    content = xlsx_bytes() if content is None else content
    line = statement.lines.get(credit__gt=0)
    dispute = dispute_line(
        line_id=line.pk, actor=vendor_user, reason="See attached", evidence=SimpleUploadedFile(name, content)
    )
    client.force_login(vendor_user)

    response = client.get(evidence_url(dispute))

    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="{PurePath(dispute.evidence.name).name}"'
    assert downloaded(response) == content


def test_the_statement_page_links_to_the_download(client, vendor_user, statement, dispute):
    client.force_login(vendor_user)

    page = client.get(detail(statement)).content.decode()

    assert f'href="{evidence_url(dispute)}"' in page
    assert "/media/" not in page
    # The file is named as uploaded, not by the folder it is stored in.
    assert f'data-testid="dispute-evidence">{PurePath(dispute.evidence.name).name}</a>' in page
    assert "disputes/" not in page.split('data-testid="dispute-evidence">')[1].split("</a>")[0]


def test_the_resolution_page_links_to_the_download(client, procurement, dispute):
    client.force_login(procurement)

    page = client.get(reverse("sla_tracker:dispute-accept", args=[dispute.pk])).content.decode()

    assert f'href="{evidence_url(dispute)}"' in page
    assert f'data-testid="dispute-evidence">{PurePath(dispute.evidence.name).name}</a>' in page


def test_the_back_office_links_the_evidence_to_the_download_not_to_media(client, dispute):
    client.force_login(UserFactory(administrator=True))
    change = reverse("admin:sla_tracker_linedispute_change", args=[dispute.pk])
    version = dispute.history.latest()

    page = client.get(change).content.decode()
    past = client.get(
        reverse("admin:sla_tracker_linedispute_simple_history", args=[dispute.pk, version.history_id])
    ).content.decode()

    for html in (page, past):
        assert f'href="{evidence_url(dispute)}"' in html
        assert "/media/" not in html
        assert dispute.evidence.name in html


def test_the_back_office_shows_a_dash_when_there_is_no_evidence(client, statement):
    dispute = LineDisputeFactory(line=statement.lines.get(credit__gt=0))
    client.force_login(UserFactory(administrator=True))

    page = client.get(reverse("admin:sla_tracker_linedispute_change", args=[dispute.pk])).content.decode()

    assert reverse("sla_tracker:dispute-evidence", args=[dispute.pk]) not in page
    assert "/media/" not in page


def test_a_vendor_user_never_reaches_a_drafts_evidence(client, statement, vendor_user, dispute):
    draft = make_statement(contract=statement.contract, month=statement.month.replace(month=4), status="draft")
    hidden = LineDisputeFactory(
        line=draft.lines.get(credit__gt=0), raised_by=vendor_user, evidence=SimpleUploadedFile("draft.pdf", PDF)
    )
    client.force_login(vendor_user)

    assert client.get(evidence_url(hidden)).status_code == 404
    assert client.get(evidence_url(dispute)).status_code == 200


def test_an_adjustments_dispute_evidence_is_served_as_a_lines_to_its_statements_readers_only(
    client, procurement, vendor_user, statement, other_statement
):
    adjustment = StatementAdjustmentFactory(
        statement=statement, origin__contract=statement.contract, origin__month=statement.month.replace(month=2)
    )
    dispute = dispute_adjustment(
        adjustment_id=adjustment.pk,
        actor=vendor_user,
        reason="Recomputed on counts we contest",
        evidence=SimpleUploadedFile("counts.pdf", PDF, content_type="application/pdf"),
    )
    url = reverse("sla_tracker:adjustment-dispute-evidence", args=[dispute.pk])
    stored = PurePath(dispute.evidence.name).name

    client.force_login(procurement)
    page = client.get(detail(statement)).content.decode()
    resolution = client.get(reverse("sla_tracker:adjustment-dispute-accept", args=[dispute.pk])).content.decode()
    response = client.get(url)
    client.force_login(UserFactory(administrator=True))
    back_office = client.get(reverse("admin:sla_tracker_adjustmentdispute_change", args=[dispute.pk])).content.decode()
    client.force_login(VendorUserFactory(vendor=other_statement.contract.vendor))
    stranger = client.get(url)

    assert f'href="{url}" data-testid="dispute-evidence">{stored}</a>' in page
    assert f'href="{url}"' in resolution
    assert f'href="{url}"' in back_office and "/media/" not in back_office
    assert downloaded(response) == PDF
    assert response["Content-Disposition"] == f'attachment; filename="{stored}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert stranger.status_code == 404
