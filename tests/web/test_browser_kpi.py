"""The KPI pages in a real browser: a vendor manager uploads the French sample pack, maps it if asked,
sees the preview, imports it, sees the imported month, and recomputes the month with its progress; sees
a refused pack's errors on the form and sends the corrected file;
corrects a month whose statement is approved; procurement records the settlement of a difference that
no statement will carry; and a contract's owner is shown a month the close could not compute, until it closes.

Same set-up as tests/web/test_browser.py (the machine's Chromium, skipped with the reason where
there is none, never in CI); screenshots go to test-artifacts/browser/.
"""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings

from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.months import add_months, first_of_month, month_label
from sla_tracker.choices import MeasurementSource, UploadStatus
from sla_tracker.kpi_import.service import save_measurements
from sla_tracker.kpi_import.validation import KpiValue
from sla_tracker.models import KpiUpload, Measurement, PenaltyStatement
from sla_tracker.services import close_contract_month
from tests.factories import KpiUploadFactory, MonthlyChargeFactory, PenaltyRegimeFactory, UserFactory
from tests.sla_tracker.kpi_support import demo_counters
from tests.sla_tracker.test_close_refusals import MAY, close_batch, without_may_charges
from tests.sla_tracker.test_kpi_corrections import approved_january
from tests.web.test_browser import browser, page, shot, sign_in  # noqa: F401 - fixtures and helpers
from tests.web.test_kpi_pages import kpi_contract

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE = settings.BASE_DIR / "sample_data" / "kpi_pack_fr.csv"


def test_a_vendor_manager_uploads_the_sample_pack_previews_imports_and_recomputes(page, live_server):  # noqa: F811
    manager = UserFactory(first_name="Sophie", last_name="Laurent")
    contract = kpi_contract(owner=manager, reference="DEMO-A")
    PenaltyRegimeFactory(contract=contract)
    previous = add_months(first_of_month(datetime.date.today()), -1)
    MonthlyChargeFactory(contract=contract, month=previous)

    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/penalties/kpi/")
    page.wait_for_selector("#kpi-contracts")
    assert "DEMO-A" in page.inner_text("#kpi-contracts")
    shot(page, "kpi-workspace")

    page.click("[data-testid=upload-DEMO-A]")
    page.set_input_files("input[name=file]", str(SAMPLE))
    shot(page, "kpi-upload-form")
    page.click("[data-testid=send-file]")
    page.wait_for_selector("[data-testid=upload-status]")
    if page.locator("[data-testid=save-mapping]").count():
        shot(page, "kpi-upload-mapping")
        page.click("[data-testid=save-mapping]")
        page.wait_for_selector("[data-testid=upload-status]")
    page.wait_for_selector("#upload-preview")
    assert "offered" in page.inner_text("#upload-preview")
    assert Measurement.objects.count() == 0
    shot(page, "kpi-upload-preview")

    page.click("[data-testid=import]")
    page.wait_for_selector("[data-testid=import-result]")
    assert KpiUpload.objects.get().status == UploadStatus.IMPORTED
    shot(page, "kpi-upload-imported")

    page.click("[data-testid=imported-month]")
    page.wait_for_selector("#kpi-grid")
    assert page.input_value("input[name=v-answered-1]") == "1553"
    assert page.input_value("input[name=v-answered_within_20s-31]") != ""
    shot(page, "kpi-imported-month")

    page.click("[data-testid=history-link]")
    page.wait_for_selector("#kpi-history")
    assert "kpi_pack_fr.csv" in page.inner_text("#kpi-history")

    page.goto(f"{live_server.url}/penalties/kpi/")
    page.click(f"[data-testid=recompute-DEMO-A-{month_label(previous)}]")
    page.wait_for_selector("#recompute-status[data-state=SUCCESS]")
    assert page.locator("[data-testid=recomputed-statement]").count() == 1
    shot(page, "kpi-recomputed")
    page.click("[data-testid=recomputed-statement]")
    page.wait_for_selector("#statement-lines")


def test_a_refused_packs_errors_by_row_then_the_corrected_file(page, live_server, tmp_path):  # noqa: F811
    manager = UserFactory()
    contract = kpi_contract(owner=manager, reference="DEMO-A")
    month = add_months(first_of_month(datetime.date.today()), -1)
    first, second = (f"{month + datetime.timedelta(days=day):%d/%m/%Y}" for day in (1, 2))
    bad = tmp_path / "kpi_bad.csv"
    bad.write_text(f"Date;Appels reçus;Appels traités\n{first};-1;10\n{second};x;10,5\n", encoding="utf-8")
    corrected = tmp_path / "kpi_corrected.csv"
    corrected.write_text(f"Date;Appels reçus;Appels traités\n{first};12;10\n{second};11;10\n", encoding="utf-8")

    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/penalties/kpi/contracts/{contract.pk}/upload/")
    page.set_input_files("input[name=file]", str(bad))
    page.click("[data-testid=send-file]")
    page.wait_for_selector("#upload-errors")
    assert page.locator("#upload-errors tbody").count() == 2  # rows 2 and 3, each with its errors
    assert page.locator("#upload-errors tbody[data-row='3'] tr").count() == 2
    assert "kpi_bad.csv" in page.inner_text("[data-testid=refused-file]")
    assert not KpiUpload.objects.exists()
    shot(page, "kpi-upload-refused")

    page.set_input_files("input[name=file]", str(corrected))
    page.click("[data-testid=send-file]")
    page.wait_for_selector("#upload-preview")
    assert KpiUpload.objects.get().status == UploadStatus.VALIDATED


def test_a_cell_in_error_shows_its_whole_value_beside_the_error_icon(page, live_server):  # noqa: F811
    manager = UserFactory()
    contract = kpi_contract(owner=manager)
    month = add_months(first_of_month(datetime.date.today()), -1)
    for counter in demo_counters().values():  # a column per counter: as narrow as the grid gets
        Measurement.objects.create(
            contract=contract, counter=counter, month=month, day=month, value=1, source=MeasurementSource.MANUAL
        )

    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/penalties/kpi/contracts/{contract.pk}/months/{month_label(month)}/")
    page.fill("input[name=v-offered-2]", "10")
    page.fill("input[name=v-answered-2]", "1900")
    page.click("[data-testid=save-grid]")
    page.wait_for_selector("[data-testid=grid-errors]")

    cell = page.locator("input[name=v-answered-2]")
    assert "is-invalid" in cell.get_attribute("class")
    assert cell.evaluate("input => input.scrollWidth <= input.clientWidth"), "the value is cut"
    shot(page, "kpi-grid-cell-error")


def test_a_vendor_manager_corrects_an_approved_month_and_sees_the_adjustment(page, live_server):  # noqa: F811
    contract, january = approved_january(UserFactory(procurement=True))
    close_contract_month(contract_id=contract.pk, month="2026-02")

    sign_in(page, live_server, contract.owner)
    page.goto(f"{live_server.url}/penalties/kpi/contracts/{contract.pk}/months/2026-01/")
    page.wait_for_selector("[data-testid=locked-month]")
    assert page.locator("input[name=v-answered_within_20s-0]").is_disabled()
    shot(page, "kpi-approved-month")

    page.click("[data-testid=start-correction]")
    page.wait_for_selector("[data-testid=correction-mode]")
    page.fill("input[name=v-answered_within_20s-0]", "40000")
    page.click("[data-testid=save-grid]")  # the reason is required: the browser keeps the form
    assert page.locator("textarea[name=correction_reason]").evaluate("field => !field.validity.valid")
    assert Measurement.objects.get(contract=contract, counter__code="answered_within_20s").value == 31_500
    page.fill("textarea[name=correction_reason]", "The vendor's corrected January report.")
    shot(page, "kpi-correction")
    page.click("[data-testid=save-grid]")
    page.wait_for_selector("[data-testid=locked-month]")
    assert "carried into the next open statement" in page.inner_text(".alert-success")
    assert page.input_value("input[name=v-answered_within_20s-0]") == "40000"

    page.click("[data-testid=locked-month] a")  # January's statement: as approved, with the correction
    page.wait_for_selector("#statement-history")
    history = page.inner_text("#statement-history")
    assert "Data corrected after approval" in history
    assert "The vendor's corrected January report." in history
    shot(page, "statement-corrected-after-approval")
    january.refresh_from_db()
    assert january.net == Decimal("-14400.00")
    assert PenaltyStatement.objects.get(contract=contract, month=datetime.date(2026, 2, 1)).adjustments == Decimal(
        "14400.00"
    )


def test_procurement_records_the_settlement_of_a_difference_no_statement_will_carry(page, live_server):  # noqa: F811
    procurement = UserFactory(procurement=True)
    contract, january = approved_january(procurement)
    Contract.objects.filter(pk=contract.pk).update(
        status=ContractStatus.TERMINATED, terminated_on=datetime.date(2026, 1, 31)
    )
    save_measurements(
        contract=contract,
        values=[KpiValue("answered_within_20s", "2026-01", 40_000, row=0, column="value")],
        source=MeasurementSource.API,
        actor=contract.owner,
        correction_reason="The vendor's corrected January report.",
    )

    sign_in(page, live_server, procurement)
    row = page.locator(f"[data-testid=differences-waiting] tr[data-statement='{january.pk}']")
    assert "Contract ended" in row.inner_text()
    row.locator("[data-testid=record-settlement]").click()
    page.wait_for_selector("[data-testid=confirm]")
    assert "CSL-1 €14,400.00" in page.inner_text("[data-testid=difference-waiting]")
    page.fill("input[name=reference]", "CN-2026-0042")
    shot(page, "statement-settlement")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("#statement-history")

    assert "The settlement was recorded" in page.inner_text(".alert-success")
    assert "Settled outside the statements by CN-2026-0042" in page.inner_text("#statement-history")
    assert page.locator("[data-action=settle]").count() == 0
    page.goto(f"{live_server.url}/")
    assert page.locator("[data-testid=differences-waiting]").count() == 0


def test_the_owner_sees_a_month_the_close_refused_until_the_missing_charges_let_it_close(page, live_server):  # noqa: F811
    contract, amount = without_may_charges()
    close_batch([contract], "2026-07")

    sign_in(page, live_server, contract.owner)
    row = page.locator("[data-testid=close-refusals] tr[data-refusal]")
    assert row.count() == 1
    assert "July 2026" in row.inner_text()
    assert "has no monthly charges for May 2026" in row.inner_text()
    shot(page, "home-close-refused")
    row.locator("a").click()
    page.wait_for_selector("[data-testid=close-refusal]")
    assert "The close of July 2026 was refused." in page.inner_text("[data-testid=close-refusal]")

    MonthlyChargeFactory(contract=contract, month=MAY, amount=amount)
    assert close_batch([contract], "2026-07").refused == {}
    page.reload()
    assert page.locator("[data-testid=close-refusal]").count() == 0
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("[data-testid=current-role]")
    assert page.locator("[data-testid=close-refusals]").count() == 0


def test_the_kpi_history_recent_uploads_and_completeness_need_no_sideways_scroll_on_a_phone(page, live_server):  # noqa: F811
    contract, january = approved_january(UserFactory(procurement=True))
    KpiUploadFactory(contract=contract, uploaded_by=contract.owner, original_name="kpi_pack_janvier_2026_corrige.csv")
    sign_in(page, live_server, contract.owner)
    page.goto(f"{live_server.url}/")
    with page.expect_navigation():  # French: the longest headers
        page.select_option("#language-select", "fr")

    page.set_viewport_size({"width": 390, "height": 844})
    for path, table in (
        ("/penalties/kpi/", "#recent-uploads"),
        (f"/penalties/kpi/contracts/{contract.pk}/months/2026-01/history/", "#kpi-history"),
        (f"/penalties/statements/{january.pk}/", "#statement-completeness"),
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector(f"{table} tbody tr")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (path, overflow)
    shot(page, "statement-completeness-390-fr")
