"""The audit endpoints apply the services' rules: an audit right is a contract term (not the auditors'
to change), a finding's due date comes from the clause, a settled finding is frozen, a planned audit is
cancelled with its reason; refusals are 400s naming the field, or 403s."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from audits.choices import AuditStatus, FindingStatus
from contracts.choices import ContractStatus
from tests.api.endpoints import READ_ONLY
from tests.factories import (
    AuditFactory,
    AuditRightFactory,
    ContractFactory,
    FindingFactory,
    UserFactory,
    VendorFactory,
    VendorUserFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2025, 5, 2)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


@pytest.fixture
def auditor():
    return UserFactory(auditor=True)


@pytest.fixture
def contract(auditor):
    return ContractFactory(auditors=[auditor])


@pytest.fixture
def right(contract):
    """One audit a year on 30 days' notice."""
    return AuditRightFactory(contract=contract)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def errors(response) -> dict:
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    return response.json()["errors"]


def audit_plan(right, **values) -> dict:
    return {
        "audit_right": right.pk,
        "reference": "AUD-API-9",
        "audit_type": "sla_data",
        "auditor_kind": "customer",
        "auditor_name": "Internal audit",
        "fieldwork_start": "2025-06-09",
        "fieldwork_end": "2025-06-13",
        **values,
    }


# Audit rights ------------------------------------------------------------------------------------------


def test_an_auditor_cannot_loosen_the_clause_to_plan_an_audit_it_forbids(right, auditor):
    AuditFactory(audit_right=right, fieldwork_start=D(2025, 3, 3), fieldwork_end=D(2025, 3, 7), notice_date=None)
    api = client_for(auditor)

    patched = api.patch(f"/api/v1/audit-rights/{right.pk}/", {"audits_per_year": 5, "notice": 0}, format="json")
    added = api.post(
        "/api/v1/audit-rights/",
        {"contract": right.contract.pk, "clause_reference": "§ 99", "audits_per_year": 9, "notice": 0},
        format="json",
    )
    planned = api.post("/api/v1/audits/", audit_plan(right), format="json")

    assert (patched.status_code, added.status_code) == (403, 403)
    right.refresh_from_db()
    assert (right.audits_per_year, right.notice, right.history.count()) == (1, 30, 1)
    assert "1 audit already planned or held in the contract year" in " ".join(errors(planned)["fieldwork_start"])


def test_who_edits_contract_terms_changes_the_clause_with_a_reason_shown_in_its_history(right, contract):
    AuditFactory(audit_right=right)
    api = client_for(contract.owner)  # the contract's vendor manager
    url = f"/api/v1/audit-rights/{right.pk}/"

    no_reason = api.patch(url, {"audits_per_year": 2}, format="json")
    changed = api.patch(url, {"audits_per_year": 2, "change_reason": "Amendment 3 of 1 May"}, format="json")

    assert "change_reason" in errors(no_reason)
    assert changed.status_code == 200, changed.content
    assert changed.json()["audits_per_year"] == 2 and "change_reason" not in changed.json()
    record = right.history.latest()
    assert (record.history_user, record.history_change_reason, record.audits_per_year) == (
        contract.owner,
        "Amendment 3 of 1 May",
        2,
    )


def test_an_audit_right_names_the_calendar_its_business_day_notice_counts_in(right, contract):
    api = client_for(UserFactory(administrator=True))
    url = f"/api/v1/audit-rights/{right.pk}/"
    assert api.get(url).json()["notice_calendar"] == ""

    contract.calendar_country, contract.calendar_subdivision = "DE", "BY"
    contract.save()

    assert api.get(url).json()["notice_calendar"] == "DE-BY"
    # The calendar is the contract's: sent to the audit right as read, it is accepted; another one is refused.
    assert api.patch(url, {"notice_calendar": "DE-BY"}, format="json").status_code == 200
    assert list(errors(api.patch(url, {"notice_calendar": "FR"}, format="json"))) == ["notice_calendar"]


def test_an_administrator_adds_a_clause_with_its_history(contract):
    admin = UserFactory(administrator=True)

    response = client_for(admin).post(
        "/api/v1/audit-rights/",
        {
            "contract": contract.pk,
            "clause_reference": "§ 30",
            "audits_per_year": 1,
            "notice": 10,
            "scopes": ["security"],
            "allowed_auditors": ["customer"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    record = contract.audit_rights.get(clause_reference="§ 30").history.get()
    assert (record.history_user, record.history_change_reason) == (admin, "Created")


def test_a_clause_takes_known_audit_types_and_auditors_and_deadlines_ordered_by_severity(right, contract):
    admin = client_for(UserFactory(administrator=True))
    clause = {"contract": contract.pk, "clause_reference": "§ 31", "audits_per_year": 1, "notice": 10}

    unknown = admin.post(
        "/api/v1/audit-rights/", {**clause, "scopes": ["bogus"], "allowed_auditors": ["martians"]}, format="json"
    )
    inverted = admin.patch(
        f"/api/v1/audit-rights/{right.pk}/",
        {"remediation_days_critical": 120, "change_reason": "renegotiated"},
        format="json",
    )

    assert unknown.status_code == 400
    assert set(unknown.json()["errors"]) == {"scopes", "allowed_auditors"}
    assert not contract.audit_rights.filter(clause_reference="§ 31").exists()
    assert inverted.status_code == 400
    assert inverted.json()["errors"] == {
        "remediation_days_critical": ["A critical finding is remedied no later than a high one (30 days)."]
    }
    right.refresh_from_db()
    assert right.remediation_days_critical == 10


def test_the_models_clean_refuses_unknown_scopes_as_the_back_office_shows_it(right):
    right.scopes = ["financial", "bogus"]

    with pytest.raises(ValidationError) as refused:
        right.full_clean()

    assert refused.value.message_dict["scopes"] == [
        "Unknown: bogus. The values are: financial, sla_data, security, data_protection, regulatory, operational."
    ]


# Findings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["2020-01-01", "2031-01-01"])
def test_a_due_date_sent_with_a_new_finding_is_refused_as_the_clause_sets_it(right, auditor, sent):
    audit = AuditFactory(audit_right=right, status=AuditStatus.REPORTED, report_date=D(2025, 4, 30))
    finding = {"audit": audit.pk, "title": "T", "severity": "high", "description": "D"}

    refused = client_for(auditor).post("/api/v1/findings/", {**finding, "due_date": sent}, format="json")
    response = client_for(auditor).post("/api/v1/findings/", finding, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"due_date": READ_ONLY}
    assert response.status_code == 201, response.content
    # High: the clause's 30 days from today (2 May), the report of 30 April being earlier.
    assert (response.json()["recorded_on"], response.json()["due_date"]) == ("2025-05-02", "2025-06-01")
    assert response.json()["due_date_set_by_hand"] is False


@pytest.mark.parametrize("status", FindingStatus.settled_values())
def test_a_settled_finding_is_not_patched(right, auditor, status):
    finding = FindingFactory(
        audit=AuditFactory(audit_right=right, status=AuditStatus.REPORTED),
        status=status,
        verified_by=auditor,
        verified_at=timezone.now(),
    )

    response = client_for(auditor).patch(
        f"/api/v1/findings/{finding.pk}/", {"title": "Nothing", "severity": "low", "description": "x"}, format="json"
    )

    assert sorted(errors(response)) == ["description", "severity", "title"]
    finding.refresh_from_db()
    assert (finding.title, finding.severity, finding.history.count()) == (
        FindingFactory._meta.declarations["title"],
        "medium",
        1,
    )


def test_an_open_finding_is_patched_with_its_history(right, auditor):
    finding = FindingFactory(audit=AuditFactory(audit_right=right, status=AuditStatus.REPORTED))

    response = client_for(auditor).patch(f"/api/v1/findings/{finding.pk}/", {"title": "Late reports"}, format="json")

    assert response.status_code == 200, response.content
    record = finding.history.latest()
    assert (record.title, record.history_user, record.history_change_reason) == (
        "Late reports",
        auditor,
        "Changed: title",
    )


def test_a_verification_keeps_its_note(right, auditor):
    finding = FindingFactory(audit=AuditFactory(audit_right=right), status=FindingStatus.REMEDIATED)

    response = client_for(auditor).post(f"/api/v1/findings/{finding.pk}/verify/", {"note": "July export"})

    assert (response.status_code, response.json()["verification_note"]) == (200, "July export")


# Cancelling an audit ---------------------------------------------------------------------------------


def test_a_planned_audit_is_cancelled_with_a_reason_and_frees_the_contract_years_allowance(right, auditor):
    planned = AuditFactory(audit_right=right, notice_date=None)
    api = client_for(auditor)
    url = f"/api/v1/audits/{planned.pk}/cancel/"

    without_reason = api.post(url, {}, format="json")
    cancelled = api.post(url, {"reason": "Vendor site closed for works"}, format="json")
    again = api.post(url, {"reason": "Twice"}, format="json")
    replanned = api.post("/api/v1/audits/", audit_plan(right), format="json")

    assert "reason" in errors(without_reason)
    assert cancelled.status_code == 200, cancelled.content
    body = cancelled.json()
    assert (body["status"], body["cancellation_reason"], body["cancelled_by"]) == (
        "cancelled",
        "Vendor site closed for works",
        auditor.pk,
    )
    assert "only a planned or notified audit can be cancelled" in errors(again)["non_field_errors"][0]
    assert replanned.status_code == 201, replanned.content


def test_a_role_that_only_views_audits_cannot_cancel_one(right, contract):
    planned = AuditFactory(audit_right=right, notice_date=None)

    response = client_for(contract.owner).post(f"/api/v1/audits/{planned.pk}/cancel/", {"reason": "No"})

    assert response.status_code == 403
    planned.refresh_from_db()
    assert planned.status == AuditStatus.PLANNED


# Refusals name their fields --------------------------------------------------------------------------------


def test_a_plan_outside_the_clause_is_a_400_naming_each_field_with_the_clause_quoted(right, auditor):
    response = client_for(auditor).post(
        "/api/v1/audits/",
        audit_plan(right, audit_type="operational", fieldwork_start="2025-05-12", fieldwork_end="2025-05-09"),
        format="json",
    )

    body = errors(response)
    assert body["audit_type"] == ["The clause does not allow audits of this type (Operational)."]
    assert body["fieldwork_start"] == ["Notice of 10 calendar days is shorter than the 30 calendar days required."]
    assert body["fieldwork_end"] == ["Fieldwork cannot end before it starts."]
    assert body["audit_right"] == [f"{right.clause_reference}: “{right.clause_text}”"]


# Rescheduling the fieldwork ------------------------------------------------------------------------------


def test_a_planned_audits_fieldwork_is_rescheduled_through_the_api_with_its_reason(right, auditor):
    planned = AuditFactory(audit_right=right, notice_date=None)  # fieldwork 2 – 6 June 2025
    api = client_for(auditor)
    url = f"/api/v1/audits/{planned.pk}/reschedule/"

    too_soon = api.post(
        url, {"fieldwork_start": "2025-05-20", "fieldwork_end": "2025-05-22", "reason": "Earlier"}, format="json"
    )
    moved = api.post(
        url, {"fieldwork_start": "2025-06-16", "fieldwork_end": "2025-06-18", "reason": "Site move"}, format="json"
    )

    assert errors(too_soon)["fieldwork_start"] == [
        "Notice of 18 calendar days is shorter than the 30 calendar days required."
    ]
    assert moved.status_code == 200, moved.content
    body = moved.json()
    assert (body["fieldwork_start"], body["fieldwork_end"], body["reschedule_reason"]) == (
        "2025-06-16",
        "2025-06-18",
        "Site move",
    )
    assert planned.history.latest().history_change_reason == "Rescheduled from 2025-06-02 – 2025-06-06: Site move"


def test_a_reschedule_without_a_reason_or_by_a_role_that_only_views_audits_is_refused(right, contract, auditor):
    planned = AuditFactory(audit_right=right, notice_date=None)
    url = f"/api/v1/audits/{planned.pk}/reschedule/"
    dates = {"fieldwork_start": "2025-06-16", "fieldwork_end": "2025-06-18"}

    assert "reason" in errors(client_for(auditor).post(url, dates, format="json"))
    assert client_for(contract.owner).post(url, {**dates, "reason": "No"}, format="json").status_code == 403
    planned.refresh_from_db()
    assert planned.fieldwork_start == D(2025, 6, 2)


# Audits for cause, and the allowance ------------------------------------------------------------------------


def test_an_administrator_plans_an_audit_for_cause_that_leaves_the_allowance_to_a_routine_one(right, auditor):
    admin = client_for(UserFactory(administrator=True))
    cause = {"for_cause": True, "override_reason": "Regulator's written demand of 28 April"}

    by_auditor = client_for(auditor).post("/api/v1/audits/", audit_plan(right, **cause), format="json")
    for_cause = admin.post("/api/v1/audits/", audit_plan(right, reference="AUD-CAUSE", **cause), format="json")
    routine = client_for(auditor).post(
        "/api/v1/audits/", audit_plan(right, fieldwork_start="2025-09-01", fieldwork_end="2025-09-05"), format="json"
    )

    assert errors(by_auditor) == {
        "for_cause": ["Only an administrator may hold an audit for cause, on top of the year's allowance."]
    }
    assert for_cause.status_code == 201, for_cause.content
    assert (for_cause.json()["for_cause"], for_cause.json()["override_reason"]) == (True, cause["override_reason"])
    assert routine.status_code == 201, routine.content
    assert routine.json()["for_cause"] is False


def test_whether_an_audit_is_held_for_cause_is_not_patched(right, auditor):
    audit = AuditFactory(audit_right=right, notice_date=None)

    response = client_for(UserFactory(administrator=True)).patch(
        f"/api/v1/audits/{audit.pk}/", {"for_cause": True}, format="json"
    )

    assert errors(response) == {"for_cause": READ_ONLY}
    audit.refresh_from_db()
    assert audit.for_cause is False


# The fieldwork's dates and the cost's currency follow the services' rules ------------------------------------


def test_the_fieldworks_end_moves_only_by_rescheduling(right, auditor):
    audit = AuditFactory(audit_right=right, notice_date=None)  # fieldwork 2 – 6 June 2025
    api = client_for(auditor)

    patched = api.patch(f"/api/v1/audits/{audit.pk}/", {"fieldwork_end": "2025-12-31"}, format="json")
    same = api.patch(f"/api/v1/audits/{audit.pk}/", {"fieldwork_end": "2025-06-06"}, format="json")
    moved = api.post(
        f"/api/v1/audits/{audit.pk}/reschedule/",
        {"fieldwork_start": "2025-06-02", "fieldwork_end": "2025-06-09", "reason": "Two more sites"},
        format="json",
    )

    assert errors(patched) == {"fieldwork_end": READ_ONLY}
    assert same.status_code == 200, same.content  # sent back as the resource shows it
    assert moved.status_code == 200, moved.content
    audit.refresh_from_db()
    assert (audit.fieldwork_end, audit.reschedule_reason) == (D(2025, 6, 9), "Two more sites")


def test_a_recorded_costs_currency_is_not_patched(right, auditor):
    audit = AuditFactory(audit_right=right, status=AuditStatus.REPORTED, report_date=D(2025, 6, 20))
    api = client_for(auditor)
    url = f"/api/v1/audits/{audit.pk}/"

    recorded = api.patch(url, {"cost": "12000.00", "cost_currency": "EUR"}, format="json")
    restated = api.patch(url, {"cost_currency": "USD"}, format="json")
    without_currency = api.patch(url, {"cost": "13000.00", "cost_currency": ""}, format="json")

    assert recorded.status_code == 200, recorded.content
    assert errors(restated) == {"cost_currency": ["A cost of €12,000.00 is recorded: its currency does not change."]}
    assert "cost_currency" in errors(without_currency)
    audit.refresh_from_db()
    assert (audit.cost, audit.cost_currency) == (Decimal("12000.00"), "EUR")
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason) == (auditor, "Changed: cost, cost_currency")


# A report after the fieldwork has started ---------------------------------------------------------------------


def test_a_report_before_the_fieldwork_has_started_is_a_400_saying_so(right, auditor):
    audit = AuditFactory(audit_right=right, status=AuditStatus.NOTIFIED)

    response = client_for(auditor).post(
        f"/api/v1/audits/{audit.pk}/report/",
        {"report_date": "2025-05-02", "report_summary": "Nothing found"},
        format="json",
    )

    assert errors(response) == {
        "non_field_errors": [
            "The fieldwork has not started (the audit is notified): the report is recorded once it has, "
            "from 06/02/2025 on."
        ]
    }
    audit.refresh_from_db()
    assert (audit.status, audit.report_date) == (AuditStatus.NOTIFIED, None)


# An audit within the contract's life ---------------------------------------------------------------------------


def test_a_plan_outside_the_contracts_life_is_a_400_naming_the_dates(auditor):
    starting_later = AuditRightFactory(contract=ContractFactory(start_date=D(2025, 7, 1), auditors=[auditor]))
    ended = AuditRightFactory(
        contract=ContractFactory(
            start_date=D(2019, 1, 1), status=ContractStatus.EXPIRED, end_date=D(2021, 12, 31), auditors=[auditor]
        ),
        records_retention_years=3,
    )
    api = client_for(auditor)

    too_early = api.post("/api/v1/audits/", audit_plan(starting_later), format="json")
    too_late = api.post(
        "/api/v1/audits/",
        audit_plan(ended, reference="AUD-LATE", fieldwork_start="2025-06-09", fieldwork_end="2025-06-13"),
        format="json",
    )

    assert errors(too_early) == {
        "fieldwork_start": ["The fieldwork cannot start before the contract, which starts on 07/01/2025."]
    }
    assert errors(too_late) == {
        "fieldwork_end": [
            "The audit right ends on 12/31/2024, 3 years after the contract's end on 12/31/2021 (its records "
            "retention): the fieldwork ends by then."
        ]
    }
    assert not starting_later.audits.exists() and not ended.audits.exists()


# An override covers what it was given for; holding an audit for cause after planning it ---------------------


def test_moving_or_notifying_an_overridden_audit_again_outside_the_clause_is_a_400_under_the_override(right, auditor):
    audit = AuditFactory(
        audit_right=right,
        notice_date=None,
        fieldwork_start=D(2025, 5, 12),
        fieldwork_end=D(2025, 5, 14),
        planned_on=D(2025, 4, 30),
        override_reason="Vendor accepted 12 days' notice",
        overridden_by=UserFactory(administrator=True),
    )
    api = client_for(auditor)

    moved = api.post(
        f"/api/v1/audits/{audit.pk}/reschedule/",
        {"fieldwork_start": "2025-05-13", "fieldwork_end": "2025-05-15", "reason": "Auditor's train"},
        format="json",
    )
    notified = api.post(f"/api/v1/audits/{audit.pk}/notify/", {"notice_date": "2025-05-02"}, format="json")

    assert errors(moved)["override_reason"] == [
        "The earlier override was given for the former dates; an administrator must give a reason again to allow "
        "these dates."
    ]
    assert errors(notified)["override_reason"] == [
        "The earlier override was given for the notice as it stood then; an administrator must give a reason "
        "again to allow this notice."
    ]
    assert errors(notified)["notice_date"] == [
        "Notice of 10 calendar days is shorter than the 30 calendar days required."
    ]
    audit.refresh_from_db()
    assert (audit.status, audit.fieldwork_start, audit.notice_date) == (AuditStatus.PLANNED, D(2025, 5, 12), None)


def test_an_administrator_holds_an_audit_for_cause_through_the_api(right, auditor):
    audit = AuditFactory(audit_right=right, notice_date=None)
    admin = UserFactory(administrator=True)
    api = client_for(admin)
    url = f"/api/v1/audits/{audit.pk}/for-cause/"

    without_reason = api.post(url, {"for_cause": True}, format="json")
    held = api.post(url, {"for_cause": True, "reason": "Regulator's written demand of 28 April"}, format="json")
    routine = client_for(auditor).post(
        "/api/v1/audits/", audit_plan(right, fieldwork_start="2025-09-01", fieldwork_end="2025-09-05"), format="json"
    )

    assert "reason" in errors(without_reason)
    assert held.status_code == 200, held.content
    body = held.json()
    assert (body["for_cause"], body["override_reason"], body["overridden_by"]) == (
        True,
        "Regulator's written demand of 28 April",
        admin.pk,
    )
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason) == (
        admin,
        "Held for cause: Regulator's written demand of 28 April",
    )
    assert routine.status_code == 201, routine.content  # the allowance is free again


def test_counting_an_audit_as_routine_again_through_the_api_in_a_full_year_needs_an_override(right):
    admin = UserFactory(administrator=True)
    audit = AuditFactory(
        audit_right=right, notice_date=None, for_cause=True, override_reason="Fraud", overridden_by=admin
    )
    AuditFactory(audit_right=right, notice_date=None, fieldwork_start=D(2025, 9, 1), fieldwork_end=D(2025, 9, 5))
    api = client_for(admin)
    url = f"/api/v1/audits/{audit.pk}/for-cause/"

    refused = api.post(url, {"for_cause": False, "reason": "Fraud not confirmed"}, format="json")
    audit.refresh_from_db()
    assert audit.for_cause is True
    counted = api.post(
        url,
        {"for_cause": False, "reason": "Fraud not confirmed", "override_reason": "Second review agreed"},
        format="json",
    )

    assert set(errors(refused)) == {"fieldwork_start", "audit_right"}
    assert counted.status_code == 200, counted.content
    assert (counted.json()["for_cause"], counted.json()["override_reason"]) == (False, "Second review agreed")


def test_only_an_administrator_holds_an_audit_for_cause_through_the_api(right, contract, auditor):
    audit = AuditFactory(audit_right=right, notice_date=None)
    other = AuditFactory(audit_right=AuditRightFactory(contract=ContractFactory(vendor=VendorFactory())))
    payload = {"for_cause": True, "reason": "Suspected fraud"}
    url = f"/api/v1/audits/{audit.pk}/for-cause/"

    assert client_for(auditor).post(url, payload, format="json").status_code == 403
    assert client_for(contract.owner).post(url, payload, format="json").status_code == 403
    # Audit records are the customer's: its vendor's users see none, theirs or another vendor's.
    vendor_user = client_for(VendorUserFactory(vendor=contract.vendor))
    assert vendor_user.post(url, payload, format="json").status_code == 404
    assert vendor_user.post(f"/api/v1/audits/{other.pk}/for-cause/", payload, format="json").status_code == 404
    assert client_for(auditor).post(f"/api/v1/audits/{other.pk}/for-cause/", payload, format="json").status_code == 404
    audit.refresh_from_db()
    assert (audit.for_cause, audit.override_reason) == (False, "")
