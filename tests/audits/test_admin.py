"""The back office plans audits and records findings through audits.services: a refusal is a form
error and nothing is written; the fields the services own are read-only on the change pages."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audits.choices import Auditor, AuditStatus, AuditType, FindingStatus
from audits.models import Audit, Finding
from tests.factories import AuditFactory, AuditRightFactory, FindingFactory, UserFactory, VendorContactFactory

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2025, 5, 2)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


@pytest.fixture
def administrator():
    return UserFactory(administrator=True)


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def right():
    """One audit a year on 30 days' notice."""
    return AuditRightFactory()


def _audit(right, *, start: D, **values) -> dict:
    return {
        "audit_right": right.pk,
        "reference": "AUD-BO-1",
        "audit_type": AuditType.SLA_DATA,
        "auditor_kind": Auditor.CUSTOMER,
        "auditor_name": "Internal audit",
        "lead_auditor": "",
        "scope_description": "",
        "fieldwork_start": start.isoformat(),
        "fieldwork_end": (start + datetime.timedelta(days=4)).isoformat(),
        "override_reason": "",
        **values,
    }


def _form_errors(response) -> list[str]:
    assert response.status_code == 200, "the form was not shown again"
    form = response.context["adminform"].form
    return [message for messages in form.errors.values() for message in messages]


ADD_AUDIT = reverse("admin:audits_audit_add")
ADD_FINDING = reverse("admin:audits_finding_add")


def test_an_audit_added_within_the_right_is_planned_by_the_service(admin_client, right, administrator):
    response = admin_client.post(ADD_AUDIT, _audit(right, start=D(2025, 6, 2)))

    assert response.status_code == 302
    audit = Audit.objects.get(reference="AUD-BO-1")
    assert (audit.status, audit.override_reason) == (AuditStatus.PLANNED, "")
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason) == (administrator, "Planned")


def test_an_audit_added_outside_the_right_is_a_form_error_quoting_the_clause(admin_client, right):
    AuditFactory(audit_right=right)  # this contract year's audit

    response = admin_client.post(ADD_AUDIT, _audit(right, start=D(2025, 5, 12)))

    errors = _form_errors(response)
    assert "Notice of 10 calendar days is shorter than the 30 calendar days required." in errors
    allowance = "1 audit already planned or held in the contract year 01/01/2025 – 12/31/2025; the clause allows 1."
    assert allowance in errors
    assert f"{right.clause_reference}: “{right.clause_text}”" in errors
    assert not Audit.objects.filter(reference="AUD-BO-1").exists()


def test_an_administrator_adds_an_audit_outside_the_right_with_a_recorded_reason(admin_client, right, administrator):
    reason = "Regulator's written demand of 28 April"

    response = admin_client.post(ADD_AUDIT, _audit(right, start=D(2025, 5, 12), override_reason=reason))

    assert response.status_code == 302
    audit = Audit.objects.get(reference="AUD-BO-1")
    assert (audit.override_reason, audit.overridden_by) == (reason, administrator)


def test_a_taken_reference_is_shown_under_its_field(admin_client, right):
    AuditFactory(audit_right=right, reference="AUD-BO-1", fieldwork_start=D(2026, 6, 1), fieldwork_end=D(2026, 6, 5))

    response = admin_client.post(ADD_AUDIT, _audit(right, start=D(2025, 6, 2)))

    assert response.context["adminform"].form.errors["reference"] == ["An audit with this reference already exists."]


def test_the_audit_page_leaves_the_status_and_what_the_right_checked_to_the_services(admin_client):
    audit = AuditFactory()

    form = admin_client.get(reverse("admin:audits_audit_change", args=[audit.pk])).context["adminform"].form

    assert set(form.fields) == {
        "reference",
        "auditor_name",
        "lead_auditor",
        "scope_description",
        "cost",
        "cost_currency",
    }


def _finding(audit, **values) -> dict:
    return {
        "audit": audit.pk,
        "title": "Invoiced FTEs above the rostered ones",
        "severity": "critical",
        "description": "March invoice: 112 FTE billed, 104 rostered.",
        "clause_breached": "",
        "discrepancy_pct": "",
        "recovery_amount": "",
        "owner": "",
        "vendor_contact": "",
        "addressed_to_vendor": "on",
        "due_date": "",
        **values,
    }


def test_a_finding_added_is_numbered_and_due_after_the_clauses_remediation_days(admin_client, administrator):
    audit = AuditFactory(status=AuditStatus.FIELDWORK)
    FindingFactory(audit=audit, number=1)

    response = admin_client.post(ADD_FINDING, _finding(audit, discrepancy_pct="5"))

    assert response.status_code == 302
    finding = audit.findings.get(number=2)
    # Critical: the clause's 10 remediation days, from today (the audit has no report yet).
    assert (finding.due_date, finding.status) == (D(2025, 5, 12), FindingStatus.OPEN)
    assert finding.history.latest().history_user == administrator
    audit.refresh_from_db()
    assert audit.cost_recoverable  # 5 % reaches the clause's threshold


def test_a_finding_of_an_audit_not_in_fieldwork_is_a_form_error(admin_client):
    audit = AuditFactory()

    response = admin_client.post(ADD_FINDING, _finding(audit))

    assert _form_errors(response) == ["Findings are recorded during fieldwork or in the report."]
    assert not Finding.objects.exists()


def test_the_finding_page_leaves_its_due_date_plan_and_status_to_the_services(admin_client):
    finding = FindingFactory()

    form = admin_client.get(reverse("admin:audits_finding_change", args=[finding.pk])).context["adminform"].form

    assert not {"audit", "number", "due_date", "discrepancy_pct", "status", "remediation_plan"} & set(form.fields)


def test_the_finding_page_offers_the_audited_vendors_contacts_only(admin_client):
    finding = FindingFactory()
    own = VendorContactFactory(vendor=finding.audit.audit_right.contract.vendor)
    other = VendorContactFactory()

    form = admin_client.get(reverse("admin:audits_finding_change", args=[finding.pk])).context["adminform"].form

    offered = set(form.fields["vendor_contact"].queryset)
    assert own in offered
    assert other not in offered


def test_findings_are_shown_on_the_audits_page_but_added_on_their_own(admin_client):
    finding = FindingFactory()

    response = admin_client.get(reverse("admin:audits_audit_change", args=[finding.audit.pk]))

    (inline,) = response.context["inline_admin_formsets"]
    assert (inline.has_add_permission, inline.has_change_permission, inline.has_delete_permission) == (
        False,
        False,
        False,
    )


def test_a_past_version_of_an_audit_is_shown_but_not_restored(admin_client):
    audit = AuditFactory()
    first = audit.history.earliest()
    audit.status = AuditStatus.NOTIFIED
    audit.save()
    url = reverse("admin:audits_audit_simple_history", args=[audit.pk, first.history_id])

    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"reference": audit.reference}).status_code == 403
    audit.refresh_from_db()
    assert audit.status == AuditStatus.NOTIFIED


# Audit rights: contract terms ---------------------------------------------------------------------------


def _right_form(right, **values) -> dict:
    data = {
        "contract": right.contract.pk,
        "clause_reference": right.clause_reference,
        "clause_text": right.clause_text,
        "audits_per_year": right.audits_per_year,
        "notice": right.notice,
        "notice_unit": right.notice_unit,
        "scopes": '["financial", "sla_data"]',
        "allowed_auditors": '["customer", "third_party"]',
        "cost_bearer": right.cost_bearer,
        "cost_shift_threshold_pct": "5.000",
        "remediation_days_critical": 10,
        "remediation_days_high": 30,
        "remediation_days_medium": 60,
        "remediation_days_low": 90,
        "records_retention_years": 5,
        "change_reason": "",
    }
    return {**data, **values}


def test_an_auditor_sees_an_audit_right_but_does_not_change_it(client, right):
    auditor = UserFactory(auditor=True, is_staff=True)
    right.contract.auditors.add(auditor)
    client.force_login(auditor)
    url = reverse("admin:audits_auditright_change", args=[right.pk])

    assert client.get(url).status_code == 200
    assert client.post(url, _right_form(right, audits_per_year=5, notice=0)).status_code == 403
    assert client.get(reverse("admin:audits_auditright_add")).status_code == 403
    right.refresh_from_db()
    assert (right.audits_per_year, right.notice) == (1, 30)


def test_a_clause_audits_were_planned_under_changes_with_a_reason_on_the_form(admin_client, administrator, right):
    AuditFactory(audit_right=right)
    url = reverse("admin:audits_auditright_change", args=[right.pk])

    assert _form_errors(admin_client.post(url, _right_form(right, audits_per_year=2))) == [
        "Audits were planned under this clause: say why its terms change."
    ]
    response = admin_client.post(url, _right_form(right, audits_per_year=2, change_reason="Amendment 3"))

    assert response.status_code == 302
    record = right.history.latest()
    assert (record.audits_per_year, record.history_user, record.history_change_reason) == (
        2,
        administrator,
        "Amendment 3",
    )


def test_the_contract_page_shows_its_audit_rights_but_changes_them_on_their_own_page(admin_client, right):
    response = admin_client.get(reverse("admin:contracts_contract_change", args=[right.contract.pk]))

    (inline,) = [f for f in response.context["inline_admin_formsets"] if f.opts.model._meta.model_name == "auditright"]
    assert (inline.has_add_permission, inline.has_change_permission) == (False, False)


def test_a_settled_finding_is_shown_read_only_on_its_page(admin_client):
    finding = FindingFactory(status=FindingStatus.RISK_ACCEPTED, risk_acceptance_reason="Immaterial")
    url = reverse("admin:audits_finding_change", args=[finding.pk])

    page = admin_client.get(url)
    posted = admin_client.post(url, {"title": "Nothing", "addressed_to_vendor": "on"})

    assert page.status_code == 200
    assert 'name="title"' not in page.content.decode()  # nothing offered to edit
    assert posted.status_code == 403
    finding.refresh_from_db()
    assert finding.title != "Nothing"


@pytest.mark.parametrize("status", [AuditStatus.CLOSED, AuditStatus.CANCELLED])
def test_a_closed_or_cancelled_audit_is_final_in_the_back_office_and_the_api(admin_client, administrator, status):
    from rest_framework.test import APIClient

    cancelled = (
        {"cancellation_reason": "Merger", "cancelled_by": administrator, "cancelled_at": timezone.now()}
        if status == AuditStatus.CANCELLED
        else {}
    )
    audit = AuditFactory(status=status, **cancelled)
    url = reverse("admin:audits_audit_change", args=[audit.pk])

    page = admin_client.get(url)
    posted = admin_client.post(url, {"scope_description": "Rewritten", "cost": "999.00"})
    api = APIClient()
    api.force_authenticate(administrator)
    patched = api.patch(
        f"/api/v1/audits/{audit.pk}/", {"cost": "999.00", "cost_currency": "EUR", "scope_description": "Rewritten"}
    )

    assert 'name="scope_description"' not in page.content.decode()  # shown read-only
    assert posted.status_code == 403
    assert patched.status_code == 400
    assert set(patched.json()["errors"]) == {"cost", "cost_currency", "scope_description"}
    stored = Audit.objects.get(pk=audit.pk)
    assert (stored.cost, stored.scope_description) == (audit.cost, audit.scope_description)


def test_the_audit_page_corrects_the_cost_through_the_service_and_keeps_a_recorded_costs_currency(
    admin_client, administrator
):
    audit = AuditFactory(status=AuditStatus.REPORTED, report_date=D(2025, 6, 20), cost=None, cost_currency="")
    url = reverse("admin:audits_audit_change", args=[audit.pk])
    form = {
        "reference": audit.reference,
        "auditor_name": audit.auditor_name,
        "lead_auditor": "",
        "scope_description": "",
        "cost": "12000.00",
        "cost_currency": "EUR",
        "findings-TOTAL_FORMS": "0",
        "findings-INITIAL_FORMS": "0",
    }

    recorded = admin_client.post(url, form)
    restated = admin_client.post(url, {**form, "cost_currency": "GBP"})

    assert recorded.status_code == 302
    assert restated.context["adminform"].form.errors["cost_currency"] == [
        "A cost of €12,000.00 is recorded: its currency does not change."
    ]
    audit.refresh_from_db()
    assert (audit.cost, audit.cost_currency) == (Decimal("12000.00"), "EUR")
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason) == (administrator, "Changed: cost, cost_currency")
