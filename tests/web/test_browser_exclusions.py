"""The exclusion pages in a real browser: a vendor manager proposes an exclusion from the KPI workspace (the
service levels follow the contract chosen, a refusal is shown next to its field), procurement finds it on its
home page and approves it after a confirmation, is refused the approval of its own proposal, and is warned
on a statement's approval of the month's undecided proposal; the vendor manager withdraws a proposal. Same
Chromium and fixtures as tests/web/test_browser.py."""

import pytest

from sla_tracker.choices import ApprovalStatus
from sla_tracker.models import Exclusion
from tests.factories import ContractFactory, ExclusionFactory, ServiceLevelFactory, UserFactory, VendorFactory
from tests.web.conftest import make_statement
from tests.web.test_browser import browser, page, shot, sign_in  # noqa: F401 - fixtures shared with that module

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_proposal_goes_from_the_vendor_manager_to_procurements_approval(page, live_server):  # noqa: F811
    manager = UserFactory(first_name="Vera", last_name="Manager")
    procurement = UserFactory(procurement=True, first_name="Marc", last_name="Dubois")
    contract = ContractFactory(reference="EXC-WEB-1", owner=manager, vendor=VendorFactory(name="Lumen BPO"))
    other = ContractFactory(reference="EXC-WEB-2", owner=manager, vendor=contract.vendor)
    ServiceLevelFactory(contract=contract, code="CSL-1", name="Calls answered in 20 s")
    ServiceLevelFactory(contract=contract, code="CSL-2", name="Abandoned calls")
    ServiceLevelFactory(contract=other, code="CSL-9", name="E-mails answered in 24 h")

    sign_in(page, live_server, manager)
    page.click("nav >> text=KPI data")
    page.click("[data-testid=exclusions-EXC-WEB-1]")
    page.wait_for_selector("#exclusion-table")
    assert "No exclusion has been proposed for EXC-WEB-1 yet." in page.inner_text("[data-testid=no-exclusions]")
    page.click("a[data-testid=propose-exclusion] >> nth=0")
    page.wait_for_selector("[data-testid=propose-form]")
    assert page.input_value("#id_contract") == str(contract.pk)
    assert "CSL-1 – Calls answered in 20 s" in page.inner_text("#service-levels")

    # Another contract: its service levels replace the first one's (htmx), without reloading the page.
    page.select_option("#id_contract", str(other.pk))
    page.wait_for_function("document.querySelector('#service-levels').innerText.includes('CSL-9')")
    assert "CSL-1" not in page.inner_text("#service-levels")
    page.select_option("#id_contract", str(contract.pk))
    page.wait_for_function("document.querySelector('#service-levels').innerText.includes('CSL-1')")

    page.fill("#id_start_date", "2025-03-15")
    page.fill("#id_end_date", "2025-03-14")
    page.select_option("#id_reason", "force_majeure")
    page.fill("#id_description", "Regional power outage closed the Casablanca site.")
    page.fill("#id_evidence", "Utility notice 2025-014.")
    page.check("text=CSL-1 – Calls answered in 20 s")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=field-error]")
    assert "The exclusion cannot end before it starts." in page.inner_text("[data-testid=field-error]")
    assert page.input_value("#id_description") == "Regional power outage closed the Casablanca site."
    assert page.is_checked("text=CSL-1 – Calls answered in 20 s")
    assert not Exclusion.objects.exists()
    shot(page, "exclusion-propose-refused")

    page.fill("#id_start_date", "2025-03-14")
    page.fill("#id_end_date", "2025-03-15")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=exclusion-status]")
    assert "Your exclusion proposal for EXC-WEB-1 was recorded" in page.inner_text(".messages")
    assert "Proposed, awaiting a decision" in page.inner_text("[data-testid=exclusion-status]")
    assert "Withdraw" in page.inner_text("[data-testid=exclusion-actions]")
    exclusion = Exclusion.objects.get()
    shot(page, "exclusion-proposed")

    page.click("text=Sign out")
    sign_in(page, live_server, procurement)
    assert "EXC-WEB-1" in page.inner_text("[data-testid=exclusions-awaiting]")
    shot(page, "exclusion-procurement-home")
    page.click(f"[data-testid=exclusions-awaiting] [data-exclusion='{exclusion.pk}'] a")
    page.wait_for_selector("[data-testid=exclusion-actions]")
    assert "Vera Manager" in page.inner_text("#exclusion-history")
    page.click("a[data-action=approve]")
    page.wait_for_selector("[data-testid=confirm]")
    shot(page, "exclusion-approve-confirmation")
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".alert-success")
    assert "Approved" in page.inner_text("[data-testid=exclusion-status]")
    assert "Marc Dubois" in page.inner_text("#exclusion-history")
    exclusion.refresh_from_db()
    assert (exclusion.status, exclusion.decided_by) == (ApprovalStatus.APPROVED, procurement)
    shot(page, "exclusion-approved")


def test_procurement_is_refused_its_own_proposal_and_warned_on_a_statements_approval(
    page,  # noqa: F811
    live_server,
):
    procurement = UserFactory(procurement=True)
    statement = make_statement()
    contract = statement.contract
    own = ExclusionFactory(contract=contract, requested_by=procurement, start_date=statement.month)
    ExclusionFactory(contract=contract, start_date=statement.month, end_date=statement.month)

    sign_in(page, live_server, procurement)
    page.goto(f"{live_server.url}/penalties/exclusions/{own.pk}/")
    assert "someone else approves it" in page.inner_text("[data-testid=own-proposal]")
    page.click("a[data-action=approve]")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=action-error]")
    assert "An exclusion is approved by someone other than who proposed it." in page.inner_text(
        "[data-testid=action-error]"
    )
    own.refresh_from_db()
    assert own.status == ApprovalStatus.PROPOSED
    shot(page, "exclusion-own-approval-refused")

    page.goto(f"{live_server.url}/penalties/statements/{statement.pk}/")
    assert page.locator("[data-testid=proposed-exclusions] li").count() == 2
    page.locator("[data-testid=statement-exclusions]").scroll_into_view_if_needed()
    shot(page, "statement-exclusions")
    page.click("a[data-action=approve]")
    page.wait_for_selector("[data-testid=action-warnings]")
    warnings = page.inner_text("[data-testid=action-warnings]")
    assert "2 exclusion proposals for days of March 2025 are still undecided" in warnings
    assert "The KPI data of March 2025 is 0 % complete" in warnings
    shot(page, "statement-approve-warnings")
    page.click("[data-warning=undecided-exclusions] a")
    page.wait_for_selector("#exclusion-table")
    assert page.locator("#exclusion-table tbody tr[data-exclusion]").count() == 2
    shot(page, "exclusion-list")


def test_the_vendor_manager_withdraws_their_proposal(page, live_server):  # noqa: F811
    manager = UserFactory()
    exclusion = ExclusionFactory(contract=ContractFactory(owner=manager), requested_by=manager)

    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/penalties/exclusions/{exclusion.pk}/")
    page.click("a[data-action=withdraw]")
    page.wait_for_selector("[data-testid=confirm]")
    page.click("[data-testid=confirm]")
    page.wait_for_selector(".alert-success")
    assert "Your proposal was withdrawn." in page.inner_text(".messages")
    assert "Withdrawn" in page.inner_text("[data-testid=exclusion-status]")
    assert page.locator("[data-testid=exclusion-actions]").count() == 0
    exclusion.refresh_from_db()
    assert (exclusion.status, exclusion.decided_by) == (ApprovalStatus.WITHDRAWN, manager)
    shot(page, "exclusion-withdrawn")
