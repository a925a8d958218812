"""The audit pages in a real browser: an auditor plans an audit from the contract's page, notifies it,
starts the fieldwork and records a finding; once remediated, another auditor verifies it, and procurement
reads the audit without any button. A vendor user answers a finding addressed to their vendor from the
finding's page (plan, then evidence) and the auditor reads the answers. Same Chromium and fixtures as
tests/web/test_browser.py."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from audits.choices import AuditStatus, FindingStatus
from audits.models import Audit
from tests.factories import (
    ActionItemFactory,
    AuditFactory,
    AuditRightFactory,
    ContractFactory,
    FindingFactory,
    UserFactory,
    VendorContactFactory,
    VendorUserFactory,
)
from tests.web.test_browser import browser, page, shot, sign_in  # noqa: F401 - fixtures shared with that module

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = datetime.date(2025, 5, 2)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """The live server runs in this process: the services count notice days from this day."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


def _new_page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    other = context.new_page()
    other.set_default_timeout(15_000)
    return context, other


def test_an_auditor_plans_an_audit_records_a_finding_and_another_verifies_it(
    page,  # noqa: F811
    browser,  # noqa: F811
    live_server,
    monkeypatch,
):
    auditor = UserFactory(auditor=True, first_name="Alice", last_name="Audit")
    reviewer = UserFactory(auditor=True, first_name="Victor", last_name="Verify")
    contract = ContractFactory(reference="AUD-WEB-1", auditors=[auditor, reviewer])
    right = AuditRightFactory(contract=contract, clause_reference="§ 21.1")

    sign_in(page, live_server, auditor)
    page.click("nav >> text=Audits")
    page.wait_for_selector("#audit-table")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    page.click("[data-testid=plan-audit]")
    page.wait_for_selector("[data-testid=plan-audit-form]")
    page.fill("#id_reference", "AUD-WEB-2026")
    page.select_option("#id_audit_type", "sla_data")
    page.select_option("#id_auditor_kind", "customer")
    page.fill("#id_auditor_name", "Internal audit")
    page.select_option("#id_lead_auditor", str(auditor.pk))
    # Too short a notice first: the refusal quotes the clause and nothing is planned.
    page.fill("#id_fieldwork_start", "2025-05-12")
    page.fill("#id_fieldwork_end", "2025-05-16")
    page.click("[data-testid=confirm]")
    # The notice's problem is under the fieldwork's start, marked invalid; the clause is quoted on top.
    start = page.locator("[data-field=fieldwork_start]")
    assert "Notice of 10 calendar days is shorter than the 30 calendar days required." in start.inner_text()
    assert start.locator(".invalid-feedback").is_visible()
    assert "is-invalid" in page.get_attribute("#id_fieldwork_start", "class")
    assert "§ 21.1: “" in page.inner_text("[data-testid=action-error]")
    assert page.query_selector("#id_override_reason") is None  # an auditor does not override the clause
    assert not Audit.objects.exists()
    shot(page, "audit-plan-refused")

    page.fill("#id_fieldwork_start", "2025-06-02")
    page.fill("#id_fieldwork_end", "2025-06-06")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=audit-status]")
    assert "Audit AUD-WEB-2026 was planned." in page.inner_text(".messages")
    audit = Audit.objects.get(reference="AUD-WEB-2026")
    assert (audit.audit_right, audit.status) == (right, AuditStatus.PLANNED)

    # The vendor asks for a week later: the fieldwork is rescheduled with the reason, shown on the timeline.
    page.click("[data-testid=audit-action-reschedule]")
    assert page.input_value("#id_fieldwork_start") == "2025-06-02"
    page.fill("#id_fieldwork_start", "2025-06-09")
    page.fill("#id_fieldwork_end", "2025-06-13")
    page.click("[data-testid=confirm]")
    assert "This field is required." in page.inner_text("[data-field=reason] [data-testid=field-error]")
    shot(page, "audit-reschedule-refused")
    page.fill("#id_reason", "The vendor's team is at a client site that week")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=fieldwork-move]")
    assert "The vendor's team is at a client site that week" in page.inner_text("[data-testid=fieldwork-move]")
    with translation.override("en-gb"):  # the browser's locale is en-GB: the pages are in British English
        moved = [date_format(datetime.date(2025, 6, day), "SHORT_DATE_FORMAT") for day in (9, 13)]
    assert moved == ["09/06/2025", "13/06/2025"]
    assert " – ".join(moved) in page.inner_text("#timeline [data-step=fieldwork]")
    shot(page, "audit-rescheduled")

    page.click("[data-testid=audit-action-notify]")
    page.fill("#id_notice_date", "2025-05-02")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=audit-action-start-fieldwork]")
    # Before its first day the fieldwork is not offered to fail: its button is disabled, the day beside it.
    assert page.is_disabled("[data-testid=audit-action-start-fieldwork]")
    assert "as the notice says: it cannot start earlier" in page.inner_text("[data-testid=refusal-start-fieldwork]")
    shot(page, "audit-fieldwork-not-yet")
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: datetime.date(2025, 6, 9))  # fieldwork day
    page.reload()
    page.click("[data-testid=audit-action-start-fieldwork]")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=record-finding]")
    assert "Fieldwork" in page.inner_text("[data-testid=audit-status]")

    page.click("[data-testid=record-finding]")
    page.fill("#id_title", "Short abandons counted from 10 s")
    page.select_option("#id_severity", "high")
    page.fill("#id_description", "The ACD excluded abandons under 10 s, against 5 s in the contract.")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("#findings [data-finding='1']")
    assert "Finding 1 was recorded" in page.inner_text(".messages")
    shot(page, "audit-finding-recorded")

    page.click("#findings [data-testid=finding-remediate]")
    page.fill("#id_evidence", "ACD configuration export of 12 May")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("#findings >> text=ACD configuration export of 12 May")
    finding = audit.findings.get()
    assert finding.status == FindingStatus.REMEDIATED

    # Procurement reads the audit but has no button; another auditor verifies the remediation.
    procurement = UserFactory(procurement=True)
    context, other = _new_page(browser)
    try:
        sign_in(other, live_server, procurement)
        other.goto(f"{live_server.url}/audits/{audit.pk}/")
        other.wait_for_selector("#findings")
        assert other.query_selector("[data-testid=finding-verify]") is None
        assert other.query_selector("[data-testid=record-finding]") is None
    finally:
        context.close()

    context, other = _new_page(browser)
    try:
        sign_in(other, live_server, reviewer)
        other.click("nav >> text=Audits")
        other.click("#audit-table >> text=AUD-WEB-2026")
        other.click("#findings [data-testid=finding-verify]")
        other.click("[data-testid=confirm]")
        other.wait_for_selector("[data-testid=verified]")
        assert "Verified by Victor Verify" in other.inner_text("#findings")
        shot(other, "audit-finding-verified")
    finally:
        context.close()

    finding.refresh_from_db()
    assert (finding.status, finding.verified_by) == (FindingStatus.VERIFIED, reviewer)


def test_a_vendor_user_answers_a_finding_with_its_plan_then_its_evidence(page, browser, live_server):  # noqa: F811
    auditor = UserFactory(auditor=True, first_name="Alice", last_name="Audit")
    contract = ContractFactory(reference="AUD-WEB-2", auditors=[auditor])
    audit = AuditFactory(audit_right=AuditRightFactory(contract=contract), status=AuditStatus.REPORTED)
    finding = FindingFactory(audit=audit, number=1, title="Short abandons counted from 10 s")
    vendor_user = VendorUserFactory(vendor=contract.vendor)

    sign_in(page, live_server, vendor_user)
    page.goto(f"{live_server.url}/audits/findings/{finding.pk}/")
    page.wait_for_selector("[data-testid=form-plan-remediation]")
    assert page.query_selector("[data-testid=finding-verify]") is None
    # An empty plan is refused with its message, and nothing is recorded.
    page.click("[data-testid=finding-plan-remediation]")
    assert "Describe the remediation plan." in page.inner_text("[data-testid=field-error]")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    shot(page, "vendor-finding-plan-refused")

    page.fill("#id_plan", "Set short abandons to 5 s on every queue")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=form-remediate]")
    assert "The remediation plan was recorded." in page.inner_text(".messages")
    assert "Set short abandons to 5 s on every queue" in page.inner_text("[data-testid=remediation-plan]")

    page.fill("#id_evidence", "ACD configuration export of 12 May")
    page.click("[data-testid=finding-remediate]")
    page.wait_for_selector("[data-testid=nothing-to-answer]")
    assert "The finding was marked remediated." in page.inner_text(".messages")
    assert "Remediated" in page.inner_text("[data-testid=finding-status]")
    shot(page, "vendor-finding-remediated")
    finding.refresh_from_db()
    assert (finding.status, finding.evidence) == (FindingStatus.REMEDIATED, "ACD configuration export of 12 May")
    assert finding.history.latest().history_user == vendor_user

    # The auditor reads the vendor's answers on the audit's page and may verify them.
    context, other = _new_page(browser)
    try:
        sign_in(other, live_server, auditor)
        other.goto(f"{live_server.url}/audits/{audit.pk}/")
        other.wait_for_selector("#findings [data-testid=finding-verify]")
        assert "ACD configuration export of 12 May" in other.inner_text("#findings")
    finally:
        context.close()


def _reported_audit_with_open_findings(auditor):
    """An audit as the demo's security audit: reported, four findings with long texts, all open to steps."""
    contract = ContractFactory(reference="AUD-WEB-3", auditors=[auditor])
    audit = AuditFactory(
        audit_right=AuditRightFactory(contract=contract),
        status=AuditStatus.REPORTED,
        report_date=datetime.date(2025, 4, 14),
        report_summary="One critical finding fixed during fieldwork; three open findings.",
    )
    titles = (
        "Shared supervisor accounts on the chat platform",
        "Clean-desk policy not enforced on the Cebu floor",
        "Leavers' access removed after 5 days instead of 24 hours",
        "Customer's own access review not documented",
    )
    for number, title in enumerate(titles, start=1):
        finding = FindingFactory(
            audit=audit,
            number=number,
            title=title,
            description=f"{title}. Sampled months were recomputed from the raw records of both sites.",
            clause_breached="Schedule 6 (Security), §3",
            owner=auditor,
            vendor_contact=VendorContactFactory(vendor=contract.vendor, name="Maria Santos-Villanueva"),
            discrepancy_pct=Decimal("1.800"),
            due_date=datetime.date(2025, 4, 24),  # overdue
            status=FindingStatus.REMEDIATION_PLANNED if number == 2 else FindingStatus.OPEN,
            remediation_plan="Lock screens after 5 minutes; clean-desk walks twice a day." if number == 2 else "",
        )
        if number == 2:
            ActionItemFactory(
                meeting=None,
                finding=finding,
                owner=auditor,
                title="Weekly clean-desk checks on every floor, with photos",
            )
    return audit


def test_the_audit_page_keeps_its_steps_on_screen_on_a_laptop_and_a_phone(page, live_server):  # noqa: F811
    auditor = UserFactory(auditor=True, first_name="Alice", last_name="Audit")
    audit = _reported_audit_with_open_findings(auditor)
    sign_in(page, live_server, auditor)

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/audits/{audit.pk}/")
    page.wait_for_selector("#findings")
    shot(page, "audit-page-1366")
    buttons = page.locator("#findings .btn, [data-testid=audit-actions] .btn")
    assert buttons.count() >= 4 * 3
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, (buttons.nth(index).inner_text(), box)
    title_cell = page.locator("#findings tbody tr[data-finding='1'] td").nth(1).bounding_box()
    assert title_cell["width"] >= 300, title_cell  # the finding is read, not squeezed

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/audits/{audit.pk}/")
    page.wait_for_selector("#findings")
    shot(page, "audit-page-390")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, overflow
    steps = page.locator("#findings .btn")
    for index in range(steps.count()):  # the steps wrap within the screen, beside the table's own scroll
        box = steps.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (steps.nth(index).inner_text(), box)


def test_a_vendors_findings_fit_a_phone_screen(page, live_server):  # noqa: F811
    contract = ContractFactory()
    audit = AuditFactory(audit_right=AuditRightFactory(contract=contract))
    FindingFactory(audit=audit, title="Abandoned calls counted from the tenth second instead of the fifth")
    vendor_user = VendorUserFactory(vendor=contract.vendor)
    sign_in(page, live_server, vendor_user)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/penalties/my/findings/")
    page.wait_for_selector("#vendor-findings")
    shot(page, "vendor-findings-390")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, overflow  # the table scrolls within the page, not the page
