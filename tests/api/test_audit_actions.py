"""Audits and findings through the API: creates and changes go through audits.services, whose refusals
are 400s in the API's error shape, and nothing is written when they refuse."""

import datetime

import pytest
from django.utils import timezone

from accounts.choices import Role
from audits.choices import Auditor, AuditStatus, AuditType, FindingStatus
from audits.models import Audit, Finding
from tests import factories as f
from tests.api.endpoints import READ_ONLY

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2025, 5, 2)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """The services count notice and remediation days from today."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def right(worlds):
    """One audit a year on 30 days' notice; this contract year's audit (in fieldwork) is the world's."""
    return worlds[0]["audits.AuditRight"]


@pytest.fixture
def auditor(users, client_for):
    return client_for(users[Role.AUDITOR])


@pytest.fixture
def administrator(users, client_for):
    return client_for(users[Role.ADMINISTRATOR])


def _audit(right, *, start: D, **values) -> dict:
    return {
        "audit_right": right.pk,
        "reference": "AUD-API-1",
        "audit_type": AuditType.SLA_DATA,
        "auditor_kind": Auditor.CUSTOMER,
        "auditor_name": "Internal audit",
        "fieldwork_start": start.isoformat(),
        "fieldwork_end": (start + datetime.timedelta(days=4)).isoformat(),
        **values,
    }


def _errors(response) -> list[str]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    return [message for messages in body["errors"].values() for message in messages]


# Planning ------------------------------------------------------------------------------------------


def test_an_audit_within_the_right_is_planned_by_the_service(right, auditor, users):
    response = auditor.post("/api/v1/audits/", _audit(right, start=D(2026, 1, 5)), format="json")

    assert response.status_code == 201, response.content
    audit = Audit.objects.get(pk=response.json()["id"])
    assert (audit.status, audit.override_reason, audit.notice_date) == (AuditStatus.PLANNED, "", None)
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason) == (users[Role.AUDITOR], "Planned")


def test_too_short_a_notice_is_a_400_quoting_the_clause_and_nothing_is_written(right, auditor):
    before = Audit.objects.count()

    response = auditor.post("/api/v1/audits/", _audit(right, start=D(2025, 5, 12)), format="json")

    errors = _errors(response)
    assert "Notice of 10 calendar days is shorter than the 30 calendar days required." in errors
    assert errors[-1] == f"{right.clause_reference}: “{right.clause_text}”"
    assert Audit.objects.count() == before


def test_more_audits_in_a_contract_year_than_allowed_is_a_400(right, auditor):
    response = auditor.post("/api/v1/audits/", _audit(right, start=D(2025, 11, 3)), format="json")

    allowance = "1 audit already planned or held in the contract year 01/01/2025 – 12/31/2025; the clause allows 1."
    assert allowance in _errors(response)
    assert not Audit.objects.filter(reference="AUD-API-1").exists()


def test_an_administrator_allows_an_audit_outside_the_right_with_a_recorded_reason(right, administrator, users):
    reason = "Regulator's written demand of 28 April"
    payload = _audit(right, start=D(2025, 5, 12), override_reason=reason)

    response = administrator.post("/api/v1/audits/", payload, format="json")

    assert response.status_code == 201, response.content
    audit = Audit.objects.get(pk=response.json()["id"])
    assert (audit.override_reason, audit.overridden_by) == (reason, users[Role.ADMINISTRATOR])
    assert (response.json()["override_reason"], response.json()["overridden_by"]) == (reason, audit.overridden_by.pk)


def test_only_an_administrator_may_override(right, auditor):
    payload = _audit(right, start=D(2025, 5, 12), override_reason="We are in a hurry")

    response = auditor.post("/api/v1/audits/", payload, format="json")

    assert "Only an administrator may allow an audit outside the contract's audit right." in _errors(response)
    assert not Audit.objects.filter(reference="AUD-API-1").exists()


def test_an_audit_right_outside_the_users_scope_is_unknown(worlds, auditor):
    response = auditor.post("/api/v1/audits/", _audit(worlds[1]["audits.AuditRight"], start=D(2026, 1, 5)))

    assert response.status_code == 400
    assert "audit_right" in response.json()["errors"]


def test_a_patch_of_the_status_or_of_what_the_right_checked_is_refused_and_changes_nothing(worlds, auditor):
    audit = worlds[0]["audits.Audit"]
    auditor_name = audit.auditor_name
    payload = {
        "status": AuditStatus.CLOSED,
        "fieldwork_start": "2025-05-05",
        "audit_type": AuditType.SECURITY,
        "notice_date": "2025-05-01",
        "override_reason": "Because",
        "auditor_name": "Internal audit (2 people)",
    }

    response = auditor.patch(f"/api/v1/audits/{audit.pk}/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == dict.fromkeys(
        ["status", "fieldwork_start", "audit_type", "notice_date", "override_reason"], READ_ONLY
    )
    audit.refresh_from_db()
    assert (audit.status, audit.fieldwork_start, audit.audit_type) == (
        AuditStatus.FIELDWORK,
        D(2025, 6, 2),
        AuditType.SLA_DATA,
    )
    assert (audit.notice_date, audit.override_reason, audit.auditor_name) == (
        D(2025, 5, 2),
        "",
        auditor_name,
    )


# Transitions ---------------------------------------------------------------------------------------


def test_an_audit_is_notified_worked_reported_and_closed_through_its_actions(right, auditor, monkeypatch):
    audit_id = auditor.post("/api/v1/audits/", _audit(right, start=D(2026, 1, 5)), format="json").json()["id"]
    url = f"/api/v1/audits/{audit_id}"

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2025, 12, 29))  # the notice goes out
    too_late = auditor.post(f"{url}/notify/", {"notice_date": "2025-12-29"}, format="json")
    assert "Notice of 7 calendar days is shorter than the 30 calendar days required." in _errors(too_late)
    assert auditor.post(f"{url}/notify/", {"notice_date": "2025-12-01"}, format="json").json()["status"] == "notified"
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2026, 1, 5))  # the fieldwork starts
    assert auditor.post(f"{url}/start-fieldwork/").json()["status"] == "fieldwork"
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2026, 2, 2))  # the report is written
    reported = auditor.post(f"{url}/report/", {"report_date": "2026-02-02", "report_summary": "Two findings."})
    assert (reported.json()["status"], reported.json()["report_date"]) == ("reported", "2026-02-02")
    assert auditor.post(f"{url}/close/").json()["status"] == "closed"
    assert _errors(auditor.post(f"{url}/start-fieldwork/")) == [
        "The audit's status is Closed; this step needs the status Notified."
    ]


def test_an_audit_with_unsettled_findings_stays_open(worlds, auditor, monkeypatch):
    audit = worlds[0]["audits.Audit"]
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2025, 6, 20))  # after the fieldwork
    reported = auditor.post(
        f"/api/v1/audits/{audit.pk}/report/", {"report_date": "2025-06-20", "report_summary": "One."}
    )
    assert reported.status_code == 200, reported.content

    response = auditor.post(f"/api/v1/audits/{audit.pk}/close/")

    assert "neither verified nor risk-accepted" in _errors(response)[0]
    audit.refresh_from_db()
    assert audit.status == AuditStatus.REPORTED


def test_a_vendor_manager_may_not_move_an_audit(worlds, users, client_for):
    audit = worlds[0]["audits.Audit"]

    response = client_for(users[Role.VENDOR_MANAGER]).post(f"/api/v1/audits/{audit.pk}/close/")

    assert response.status_code == 403


# Findings ------------------------------------------------------------------------------------------


def _finding(audit, **values) -> dict:
    return {
        "audit": audit.pk,
        "title": "Invoiced FTEs above the rostered ones",
        "severity": "high",
        "description": "March invoice: 112 FTE billed, 104 rostered.",
        **values,
    }


def test_a_posted_finding_is_numbered_and_due_after_the_clauses_remediation_days(worlds, auditor, users):
    audit = worlds[0]["audits.Audit"]
    last = audit.findings.get().number

    refused = auditor.post("/api/v1/findings/", _finding(audit, number=1, status="verified"), format="json")
    response = auditor.post("/api/v1/findings/", _finding(audit), format="json")

    assert refused.json()["errors"] == {"number": READ_ONLY, "status": READ_ONLY}
    assert response.status_code == 201, response.content
    finding = Finding.objects.get(pk=response.json()["id"])
    # High severity: the clause's 30 remediation days, from today (the audit has no report yet).
    assert (finding.number, finding.due_date, finding.status) == (last + 1, D(2025, 6, 1), FindingStatus.OPEN)
    assert response.json()["due_date"] == "2025-06-01"
    assert finding.history.latest().history_user == users[Role.AUDITOR]


def test_a_discrepancy_at_the_clauses_threshold_makes_the_audit_cost_recoverable(worlds, auditor):
    audit = worlds[0]["audits.Audit"]

    response = auditor.post("/api/v1/findings/", _finding(audit, discrepancy_pct="7.5"), format="json")

    assert response.status_code == 201, response.content
    audit.refresh_from_db()
    assert audit.cost_recoverable


def test_a_finding_of_an_audit_not_yet_in_fieldwork_is_a_400(right, auditor):
    planned = f.AuditFactory(audit_right=right, fieldwork_start=D(2026, 6, 1), fieldwork_end=D(2026, 6, 5))

    response = auditor.post("/api/v1/findings/", _finding(planned), format="json")

    assert _errors(response) == ["Findings are recorded during fieldwork or in the report."]
    assert not planned.findings.exists()


def test_a_findings_due_date_changes_only_through_its_action_with_a_reason(worlds, auditor):
    finding = worlds[0]["audits.Finding"]
    url = f"/api/v1/findings/{finding.pk}"

    patched = auditor.patch(f"{url}/", {"due_date": "2026-01-31", "status": "verified"}, format="json")
    unchanged = auditor.patch(f"{url}/", {"due_date": "2025-08-05", "status": "open"}, format="json")
    no_reason = auditor.post(f"{url}/due-date/", {"due_date": "2026-01-31", "reason": " "}, format="json")
    moved = auditor.post(f"{url}/due-date/", {"due_date": "2026-01-31", "reason": "Vendor's new tool ships in January"})

    assert patched.json()["errors"] == {"due_date": READ_ONLY, "status": READ_ONLY}
    assert unchanged.json()["due_date"] == "2025-08-05" and unchanged.json()["status"] == "open"
    assert "reason" in no_reason.json()["errors"]
    assert moved.json()["due_date"] == "2026-01-31"
    finding.refresh_from_db()
    assert finding.history.latest().history_change_reason == "Due date 2026-01-31: Vendor's new tool ships in January"


def test_a_finding_is_planned_remediated_and_verified_or_its_risk_accepted(worlds, users, auditor):
    finding = worlds[0]["audits.Finding"]
    other = f.FindingFactory(audit=finding.audit)
    url = f"/api/v1/findings/{finding.pk}"

    assert auditor.post(f"{url}/verify/").status_code == 400
    assert auditor.post(f"{url}/plan-remediation/", {"plan": "Fix the threshold"}).json()["status"] == (
        "remediation_planned"
    )
    assert auditor.post(f"{url}/remediate/", {"evidence": "Config export of 3 June"}).json()["status"] == "remediated"
    verified = auditor.post(f"{url}/verify/").json()
    accepted = auditor.post(f"/api/v1/findings/{other.pk}/accept-risk/", {"reason": "Retired next month"}).json()

    assert (verified["status"], verified["verified_by"]) == ("verified", users[Role.AUDITOR].pk)
    assert accepted["status"] == "risk_accepted"


# The vendor's answers ------------------------------------------------------------------------------


def _snapshot(row) -> dict:
    row.refresh_from_db()
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


@pytest.fixture
def vendor_user(users, client_for):
    """A user of the first world's vendor, to whom its finding is addressed."""
    return client_for(users[Role.VENDOR_USER])


def test_a_vendor_user_of_the_findings_vendor_records_its_plan_and_its_remediation(worlds, users, vendor_user):
    finding = worlds[0]["audits.Finding"]
    url = f"/api/v1/findings/{finding.pk}"

    planned = vendor_user.post(f"{url}/plan-remediation/", {"plan": "Set short abandons to 5 s"}, format="json")
    remediated = vendor_user.post(f"{url}/remediate/", {"evidence": "ACD export of 12 May"}, format="json")

    assert planned.status_code == 200, planned.content
    assert (planned.json()["status"], planned.json()["remediation_plan"]) == (
        "remediation_planned",
        "Set short abandons to 5 s",
    )
    assert remediated.status_code == 200, remediated.content
    assert (remediated.json()["status"], remediated.json()["evidence"]) == ("remediated", "ACD export of 12 May")
    finding.refresh_from_db()
    assert (finding.status, finding.remediated_at is not None) == (FindingStatus.REMEDIATED, True)
    trail = [(r.history_user, r.history_change_reason) for r in finding.history.order_by("history_date")][-2:]
    vendor = users[Role.VENDOR_USER]
    assert trail == [(vendor, "Remediation planned"), (vendor, "Remediated")]


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("verify", {}),
        ("accept-risk", {"reason": "We disagree with the finding"}),
        ("due-date", {"due_date": "2025-12-31", "reason": "Our tool ships in December"}),
    ],
)
def test_a_vendor_user_may_not_verify_accept_the_risk_or_move_the_due_date(worlds, vendor_user, action, payload):
    finding = worlds[0]["audits.Finding"]
    finding.status, finding.evidence = FindingStatus.REMEDIATED, "ACD export"
    finding.save()
    before = _snapshot(finding)

    response = vendor_user.post(f"/api/v1/findings/{finding.pk}/{action}/", payload, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["type"] == "permission_denied"
    assert _snapshot(finding) == before


def test_a_vendor_user_still_records_no_finding_and_moves_no_audit(worlds, vendor_user):
    audit = worlds[0]["audits.Audit"]
    finding = worlds[0]["audits.Finding"]

    assert vendor_user.post("/api/v1/findings/", _finding(audit), format="json").status_code == 403
    assert vendor_user.patch(f"/api/v1/findings/{finding.pk}/", {"title": "Ours"}, format="json").status_code == 403
    # The audit record is the customer's: not even found by a vendor user (the web's audit pages are closed to them).
    assert vendor_user.post(f"/api/v1/audits/{audit.pk}/report/", {"report_date": "2025-06-20"}).status_code == 404
    assert vendor_user.get(f"/api/v1/audits/{audit.pk}/").status_code == 404
    assert vendor_user.get("/api/v1/audits/").json()["results"] == []


@pytest.mark.parametrize("action", ["plan-remediation", "remediate"])
def test_another_vendors_finding_or_one_not_addressed_to_the_vendor_is_a_404_to_a_vendor_user(
    worlds, vendor_user, action
):
    theirs = worlds[1]["audits.Finding"]
    internal = f.FindingFactory(audit=worlds[0]["audits.Audit"], addressed_to_vendor=False)
    before = [_snapshot(theirs), _snapshot(internal)]
    payload = {"plan": "Fix it", "evidence": "Fixed"}

    for finding in (theirs, internal):
        response = vendor_user.post(f"/api/v1/findings/{finding.pk}/{action}/", payload, format="json")
        assert response.status_code == 404, response.content
        assert response.json() == {"type": "not_found", "detail": "Not found."}

    assert [_snapshot(theirs), _snapshot(internal)] == before


@pytest.mark.parametrize(
    ("action", "field", "message"),
    [
        ("plan-remediation", "plan", "Describe the remediation plan."),
        ("remediate", "evidence", "Give the evidence of remediation."),
    ],
)
def test_a_vendor_users_blank_plan_or_evidence_is_a_400_and_nothing_is_written(
    worlds, vendor_user, action, field, message
):
    finding = worlds[0]["audits.Finding"]
    before = _snapshot(finding)

    blank = vendor_user.post(f"/api/v1/findings/{finding.pk}/{action}/", {field: "  "}, format="json")
    missing = vendor_user.post(f"/api/v1/findings/{finding.pk}/{action}/", {}, format="json")

    assert _errors(blank) == [message]
    assert blank.json()["errors"] == missing.json()["errors"] == {field: [message]}
    assert _snapshot(finding) == before
