"""The pages in a real browser: Playwright drives the machine's Chromium against the live test server.

No browser is downloaded: PLAYWRIGHT_CHROMIUM_EXECUTABLE (default /usr/bin/chromium, the Debian
`chromium` package) is launched. Without it the tests skip with the reason, except in CI (env CI
set), where they fail. Screenshots of each page go to test-artifacts/browser/.
"""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from sla_tracker.choices import DisputeStatus, StatementStatus
from sla_tracker.models import AdjustmentDispute, LineDispute, PenaltyStatement
from sla_tracker.services import dispute_line
from tests.factories import (
    DEFAULT_PASSWORD,
    PenaltyStatementFactory,
    StatementAdjustmentFactory,
    UserFactory,
    VendorFactory,
    VendorUserFactory,
)
from tests.web.conftest import make_statement

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
# Without the background-networking switches Chromium calls outside hosts, which the network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "browser"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium, or set PLAYWRIGHT_CHROMIUM_EXECUTABLE"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot skip in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("[data-testid=current-role]")


def download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def test_procurement_reports_a_period_and_exports_it(page, live_server):
    march = make_statement()
    january = make_statement(contract=march.contract, month=datetime.date(2025, 1, 1))
    sign_in(page, live_server, UserFactory(procurement=True))

    page.goto(f"{live_server.url}/penalties/")
    page.wait_for_selector("#report-table")
    page.fill("#id_month", "2025-01")
    page.fill("#id_to", "2025-03")
    page.wait_for_function("document.querySelectorAll('#report-table tbody tr').length === 2")
    table = page.inner_text("#report-table")
    assert "January 2025" in table and "March 2025" in table
    assert "Total EUR (2 statements)" in table
    assert "2 statements from January 2025 to March 2025" in page.inner_text("#report-results")
    assert "to=2025-03" in page.url  # the period is in the address, to share or bookmark
    shot(page, "procurement-report-period")

    workbook = load_workbook(io.BytesIO(download(page, "[data-testid=report-xlsx]")))
    months = [
        row[3] for row in workbook.active.iter_rows(min_row=2, values_only=True) if row[0] == march.contract.reference
    ]
    assert [month.date() for month in months] == [january.month, march.month]


def test_procurement_reviews_approves_and_exports_a_statement(page, live_server):
    statement = make_statement()
    other = make_statement(vendor=VendorFactory(name="Other BPO"), currency="GBP")
    procurement = UserFactory(procurement=True, first_name="Marc", last_name="Dubois")

    sign_in(page, live_server, procurement)
    assert "Procurement" in page.inner_text("[data-testid=current-role]")
    shot(page, "procurement-home")

    page.click("nav >> text=Penalty report")
    page.wait_for_selector("#report-table")
    assert page.input_value("#id_month") == "2025-03"
    assert "Total EUR" in page.inner_text("#report-table tfoot")
    assert "Total GBP" in page.inner_text("#report-table tfoot")
    shot(page, "procurement-report")

    # Filtering goes through htmx: the results are replaced without reloading the page.
    page.select_option("#id_vendor", str(other.contract.vendor_id))
    page.wait_for_function("document.querySelectorAll('#report-table tbody tr').length === 1")
    assert other.contract.reference in page.inner_text("#report-table")
    page.select_option("#id_vendor", "")
    page.wait_for_function("document.querySelectorAll('#report-table tbody tr').length === 2")

    page.click(f"#report-table >> text={statement.contract.reference}")
    page.wait_for_selector("#statement-lines")
    assert "Default" in page.inner_text("#statement-lines")
    assert "72.50 % < 80 % target" in page.inner_text("#statement-lines")
    shot(page, "procurement-statement")

    page.click("a[data-action=approve]")
    page.wait_for_selector("[data-testid=confirm]")
    shot(page, "procurement-approve-confirmation")
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".alert-success")
    assert "Approved" in page.inner_text("[data-testid=statement-status]")
    assert "Approved" in page.inner_text("#statement-history")
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED
    shot(page, "procurement-statement-approved")

    workbook = load_workbook(io.BytesIO(download(page, "[data-testid=statement-xlsx]")))
    values = list(workbook.active.iter_rows(values_only=True))
    assert values[0][1] == statement.contract.reference
    assert any(row[0] == "Credits" and row[6] == 1500 for row in values)

    pdf = download(page, "[data-testid=statement-pdf]")
    assert pdf.startswith(b"%PDF")
    pypdf = pytest.importorskip("pypdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert statement.contract.reference in text
    assert "Approved" in text


def test_a_vendor_user_disputes_a_line_and_cannot_open_another_vendors_statement(page, live_server):
    statement = make_statement()
    other = make_statement(vendor=VendorFactory(name="Other BPO"))
    vendor_user = VendorUserFactory(vendor=statement.contract.vendor)
    line = statement.lines.select_related("service_level").get(credit__gt=0)

    sign_in(page, live_server, vendor_user)
    assert "Vendor user" in page.inner_text("[data-testid=current-role]")
    shot(page, "vendor-home")

    page.click("nav >> text=My statements")
    page.click(f"#report-table >> text={statement.contract.reference}")
    page.wait_for_selector("#statement-lines")
    assert page.locator("a[data-action=approve]").count() == 0
    shot(page, "vendor-statement")

    page.click(f"[data-testid=dispute-{line.service_level.code}]")
    page.fill("textarea[name=reason]", "The carrier outage of 14 March was force majeure.")
    page.set_input_files(
        "input[name=evidence]",
        files=[{"name": "carrier-notice.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 notice"}],
    )
    shot(page, "vendor-dispute-form")
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".alert-success")
    assert "Disputed" in page.inner_text("[data-testid=statement-status]")
    assert "force majeure" in page.inner_text("[data-testid=dispute]")
    dispute = LineDispute.objects.get(line=line)
    assert dispute.raised_by == vendor_user
    assert dispute.evidence.name
    shot(page, "vendor-statement-disputed")

    response = page.goto(f"{live_server.url}/penalties/statements/{other.pk}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/penalties/statements/{other.pk}/export.pdf")
    assert response.status == 404
    shot(page, "vendor-other-statement-404")


def test_a_vendor_user_disputes_an_adjustment_and_procurement_accepts_it_waiving_the_adjustment(page, live_server):
    statement = make_statement()
    february = PenaltyStatementFactory(contract=statement.contract, month=datetime.date(2025, 2, 1), approved=True)
    adjustment = StatementAdjustmentFactory(
        statement=statement, origin=february, service_level=statement.lines.first().service_level, amount="-2500.00"
    )
    PenaltyStatement.objects.filter(pk=statement.pk).update(adjustments="-2500.00", net="-3800.00")
    vendor_user = VendorUserFactory(vendor=statement.contract.vendor)

    sign_in(page, live_server, vendor_user)
    page.goto(f"{live_server.url}/penalties/statements/{statement.pk}/")
    page.click(f"[data-testid=dispute-adjustment-{adjustment.pk}]")
    assert "Dispute an adjustment" in page.inner_text("h1")
    page.fill("textarea[name=reason]", "February's counts were corrected with the wrong carrier file.")
    shot(page, "vendor-adjustment-dispute-form")
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".alert-success")
    assert "Disputed" in page.inner_text("[data-testid=statement-status]")
    assert "wrong carrier file" in page.inner_text(f"#adjustment-{adjustment.pk} [data-testid=dispute]")

    page.context.clear_cookies()
    sign_in(page, live_server, UserFactory(procurement=True))
    page.goto(f"{live_server.url}/penalties/statements/{statement.pk}/")
    page.wait_for_selector("[data-testid=open-disputes]")
    page.click(f"#adjustment-{adjustment.pk} a[data-action=accept-dispute]")
    page.fill("textarea[name=resolution]", "Agreed: the carrier file was the wrong one.")
    page.check("input[name=waive]")
    shot(page, "procurement-accept-adjustment-dispute")
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".alert-success")
    assert "In review" in page.inner_text("[data-testid=statement-status]")
    assert page.inner_text("[data-testid=total-adjustments]") == "€0.00"
    assert "−€2,500.00 waived" in page.inner_text(f"#adjustment-{adjustment.pk} [data-testid=adjustment-waived]")
    shot(page, "procurement-adjustment-waived")
    adjustment.refresh_from_db()
    assert adjustment.waived
    assert AdjustmentDispute.objects.get(adjustment=adjustment).status == DisputeStatus.ACCEPTED


def test_procurement_downloads_the_evidence_resolves_the_dispute_and_reopens_the_statement(page, live_server):
    statement = make_statement()
    vendor_user = VendorUserFactory(vendor=statement.contract.vendor)
    line = statement.lines.select_related("service_level").get(credit__gt=0)
    evidence = b"%PDF-1.4 carrier notice"
    dispute = dispute_line(
        line_id=line.pk,
        actor=vendor_user,
        reason="The carrier outage of 14 March was force majeure.",
        evidence=SimpleUploadedFile("carrier-notice.pdf", evidence),
    )

    sign_in(page, live_server, UserFactory(procurement=True))
    page.goto(f"{live_server.url}/penalties/statements/{statement.pk}/")
    page.wait_for_selector("[data-testid=open-disputes]")
    assert download(page, "#statement-lines [data-testid=dispute-evidence]") == evidence
    shot(page, "procurement-statement-disputed")

    page.click("a[data-action=reject-dispute]")
    page.fill("textarea[name=resolution]", "The outage was on the vendor's side of the link.")
    shot(page, "procurement-reject-dispute")
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".alert-success")
    assert "In review" in page.inner_text("[data-testid=statement-status]")
    assert "vendor's side of the link" in page.inner_text("[data-testid=dispute]")
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.REJECTED

    page.click("a[data-action=approve]")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("a[data-action=reopen]")
    page.click("a[data-action=reopen]")
    page.fill("textarea[name=reason]", "The exclusion of 14 March was approved late.")
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".alert-success")
    assert "In review" in page.inner_text("[data-testid=statement-status]")
    assert "approved late" in page.inner_text("#statement-history")
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    shot(page, "procurement-statement-reopened")


def test_the_keyboard_skips_to_the_content_and_a_phone_needs_no_sideways_scroll(page, live_server):
    statement = make_statement()
    procurement = UserFactory(procurement=True)
    sign_in(page, live_server, procurement)

    page.keyboard.press("Tab")
    skip = page.locator("[data-testid=skip-link]")
    assert skip.evaluate("element => element === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"

    page.set_viewport_size({"width": 390, "height": 844})
    for path in (
        "/",
        "/contracts/",
        f"/contracts/{statement.contract.pk}/",
        f"/penalties/?month={statement.month:%Y-%m}",
        f"/penalties/statements/{statement.pk}/",
    ):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40))"
        )
        assert overflow <= 0, (path, overflow, wide)
