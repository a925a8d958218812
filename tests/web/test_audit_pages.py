"""The audit pages: the list, an audit with its right, timeline and findings, and every action through
the page. Each action calls one audits.services function: the model changes as the service says, a role
the API refuses gets no button and a 403, a contract out of scope is a 404, and a service refusal is
shown on the page with nothing written."""

import datetime
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape

from accounts.choices import Role
from audits.choices import Auditor, AuditStatus, AuditType, FindingStatus, Severity
from audits.models import Audit, Finding
from audits.selectors import AllowanceUse
from tests.factories import (
    ActionItemFactory,
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
    """The services and the pages count notice and remediation days from today."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def auditor():
    return UserFactory(auditor=True, first_name="Alice", last_name="Audit")


@pytest.fixture
def contract(auditor):
    return ContractFactory(reference="AUD-CTR-A", auditors=[auditor])


@pytest.fixture
def other_contract():
    """A contract of another vendor, which the auditor is not assigned to."""
    return ContractFactory(reference="AUD-CTR-B", vendor=VendorFactory(name="Other BPO"))


# Fieldwork from today (noticed today): it may start, and be reported, today.
STARTING_TODAY = {"notice_date": TODAY, "fieldwork_start": TODAY, "fieldwork_end": TODAY + datetime.timedelta(days=4)}


def make_audit(contract, status=AuditStatus.PLANNED, **values):
    """An audit under its own right of `contract` (so the year's allowance is its own)."""
    right = AuditRightFactory(contract=contract)
    defaults = {"notice_date": None} if status == AuditStatus.PLANNED else {}
    return AuditFactory(audit_right=right, status=status, **{**defaults, **values})


def signed_in(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def page_errors(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return [str(error) for error in response.context["form"].non_field_errors()]


def snapshot(row):
    row.refresh_from_db()
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


def action_url(audit, action):
    return reverse("audits:action", args=[audit.pk, action])


def finding_url(finding, action):
    return reverse("audits:finding-action", args=[finding.pk, action])


# Navigation and the list -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.AUDITOR, Role.PROCUREMENT, Role.VENDOR_MANAGER, Role.COMMITTEE_MEMBER, Role.ADMINISTRATOR]
)
def test_the_audits_section_is_in_the_navigation_of_who_may_view_audits(client, role):
    signed_in(client, UserFactory(role=role))

    page = client.get(reverse("accounts:home")).content.decode()

    assert f'href="{reverse("audits:list")}"' in page
    assert client.get(reverse("audits:list")).status_code == 200


def test_a_vendor_user_gets_no_audits_section_and_no_audit_page(client, contract):
    audit = make_audit(contract)
    signed_in(client, VendorUserFactory(vendor=contract.vendor))

    page = client.get(reverse("accounts:home")).content.decode()

    assert reverse("audits:list") not in page
    assert "Findings addressed to my vendor" in page
    assert client.get(reverse("audits:list")).status_code == 403
    assert client.get(reverse("audits:detail", args=[audit.pk])).status_code == 403


def test_the_list_shows_only_scoped_audits_with_open_and_overdue_findings(client, auditor, contract, other_contract):
    audit = make_audit(contract, AuditStatus.REPORTED, reference="AUD-MINE", lead_auditor=auditor)
    FindingFactory(audit=audit, due_date=D(2025, 4, 1))  # overdue
    FindingFactory(audit=audit, due_date=D(2025, 6, 1))  # open, not yet due
    FindingFactory(
        audit=audit,
        due_date=D(2025, 3, 1),
        status=FindingStatus.VERIFIED,
        verified_by=auditor,
        verified_at=timezone.now(),
    )  # settled: neither open nor overdue
    make_audit(other_contract, reference="AUD-THEIRS")
    signed_in(client, auditor)

    response = client.get(reverse("audits:list"))

    assert [a.reference for a in response.context["audits"]] == ["AUD-MINE"]
    row = response.context["audits"][0]
    assert (row.open_findings, row.overdue_findings) == (2, 1)
    page = response.content.decode()
    assert "AUD-THEIRS" not in page
    assert "1 overdue" in page
    assert audit.audit_right.clause_reference in page
    assert "Alice Audit" in page


def test_the_list_filters_by_contract_and_status(client, contract, other_contract):
    planned = make_audit(contract, reference="AUD-P")
    make_audit(contract, AuditStatus.FIELDWORK, reference="AUD-F")
    make_audit(other_contract, reference="AUD-O")
    signed_in(client, UserFactory(procurement=True))

    def references(**query):
        return sorted(a.reference for a in client.get(reverse("audits:list"), query).context["audits"])

    assert references() == ["AUD-F", "AUD-O", "AUD-P"]
    assert references(contract=contract.pk) == ["AUD-F", "AUD-P"]
    assert references(contract=contract.pk, status="planned") == [planned.reference]
    assert references(status="fieldwork") == ["AUD-F"]


def test_the_list_runs_a_fixed_number_of_queries(client, auditor, contract, count_queries):
    signed_in(client, auditor)
    audit = make_audit(contract, AuditStatus.FIELDWORK)
    FindingFactory(audit=audit)
    few = count_queries(client, reverse("audits:list"))
    for _ in range(4):
        other = make_audit(contract, AuditStatus.REPORTED, lead_auditor=auditor)
        FindingFactory.create_batch(3, audit=other)

    assert count_queries(client, reverse("audits:list")) == few


# An audit's page ----------------------------------------------------------------------------------


def test_the_audit_page_shows_its_right_timeline_findings_and_linked_action_items(client, auditor, contract):
    audit = make_audit(
        contract,
        AuditStatus.REPORTED,
        report_date=D(2025, 6, 20),
        report_summary="Two deviations in the abandon counts.",
    )
    overdue = FindingFactory(
        audit=audit,
        number=1,
        due_date=D(2025, 4, 30),
        severity=Severity.HIGH,
        status=FindingStatus.REMEDIATION_PLANNED,
        remediation_plan="Fix the ACD setting",
        discrepancy_pct=Decimal("1.800"),
    )
    FindingFactory(audit=audit, number=2, due_date=D(2025, 8, 1), title="Late reports")
    ActionItemFactory(meeting=None, finding=overdue, title="Reconfigure the ACD", owner=auditor)
    signed_in(client, auditor)

    response = client.get(reverse("audits:detail", args=[audit.pk]))

    page = response.content.decode()
    right = audit.audit_right
    assert right.clause_reference in page and escape(right.clause_text) in page
    assert "1 audit per contract year" in page and "30 calendar days" in page
    assert "Two deviations in the abandon counts." in page
    assert page.count('data-testid="finding-overdue"') == 1
    assert "Fix the ACD setting" in page and "Reconfigure the ACD" in page and "Late reports" in page
    assert "2 open, 1 overdue" in page
    assert "Discrepancy: 1.8&nbsp;%" in page
    french = client.get(reverse("audits:detail", args=[audit.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Écart financier\u00a0: 1,8&nbsp;%" in french and "1,800" not in french  # French spacing
    # Auditors may close the audit, record findings and change findings.
    assert 'data-testid="audit-action-close"' in page and 'data-testid="record-finding"' in page
    assert 'data-testid="finding-remediate"' in page and 'data-testid="finding-plan-remediation"' in page


def test_a_planned_audits_page_gives_the_notice_deadline_in_the_contracts_calendar(client, auditor, contract):
    """Fieldwork on Friday 15 May 2026 under a French contract, ten business days' notice: 1 May, 8 May and
    Ascension do not count, so the notice goes out by Tuesday 28 April; the page says which calendar."""
    contract.calendar_country = "FR"
    contract.save()
    right = AuditRightFactory(contract=contract, notice=10, notice_unit="business_days")
    audit = AuditFactory(
        audit_right=right,
        status=AuditStatus.PLANNED,
        notice_date=None,
        fieldwork_start=D(2026, 5, 15),
        fieldwork_end=D(2026, 5, 15),
    )
    signed_in(client, auditor)

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()
    contract_page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()

    assert (
        f"The notice must reach the vendor by {date_format(D(2026, 4, 28), 'SHORT_DATE_FORMAT')} to respect the "
        "clause's minimum notice of 10 business days (FR holiday calendar)."
    ) in page
    assert '<dd class="col-6" data-testid="minimum-notice">10 business days (FR holiday calendar)</dd>' in page
    assert '<span data-testid="minimum-notice">10 business days (FR holiday calendar)</span>' in contract_page


@pytest.mark.parametrize("role", [Role.PROCUREMENT, Role.VENDOR_MANAGER, Role.COMMITTEE_MEMBER])
def test_roles_that_only_view_audits_get_no_buttons(client, contract, role):
    audit = make_audit(contract, AuditStatus.REPORTED)
    FindingFactory(audit=audit, status=FindingStatus.REMEDIATED)
    user = UserFactory(role=role)
    contract.owner = user if role == Role.VENDOR_MANAGER else contract.owner
    contract.save()
    if role == Role.COMMITTEE_MEMBER:
        from tests.factories import CommitteeMemberFactory

        CommitteeMemberFactory(committee__contract=contract, committee__vendor=None, user=user)
    signed_in(client, user)

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()

    assert audit.reference in page
    assert 'data-testid="audit-action-' not in page
    assert 'data-testid="record-finding"' not in page
    assert 'data-testid="finding-' not in page.replace('data-testid="finding-overdue"', "")


def test_an_audit_outside_the_users_contracts_is_a_404(client, auditor, other_contract):
    audit = make_audit(other_contract)
    signed_in(client, auditor)

    assert client.get(reverse("audits:detail", args=[audit.pk])).status_code == 404


def test_the_audit_page_runs_a_fixed_number_of_queries(client, auditor, contract, count_queries):
    audit = make_audit(contract, AuditStatus.REPORTED, report_date=D(2025, 6, 20))
    first = FindingFactory(audit=audit, number=1)
    ActionItemFactory(meeting=None, finding=first, owner=auditor)
    signed_in(client, auditor)
    url = reverse("audits:detail", args=[audit.pk])
    few = count_queries(client, url)
    for number in range(2, 8):
        finding = FindingFactory(audit=audit, number=number, verified_by=auditor, owner=UserFactory())
        ActionItemFactory(meeting=None, finding=finding, owner=UserFactory())

    assert count_queries(client, url) == few


# Audit actions --------------------------------------------------------------------------------------


def test_an_auditor_records_the_notice(client, auditor, contract):
    audit = make_audit(contract)
    signed_in(client, auditor)
    page = client.get(action_url(audit, "notify"))
    assert page.status_code == 200
    # What the page says is checked is what notify_audit checks: the year's audits were counted when planned.
    assert "were counted when the fieldwork&#x27;s dates were set" in page.content.decode()

    response = client.post(action_url(audit, "notify"), {"notice_date": "2025-05-02"}, follow=True)

    assert "The notice was recorded: the audit is notified." in messages_of(response)
    audit.refresh_from_db()
    assert (audit.status, audit.notice_date) == (AuditStatus.NOTIFIED, D(2025, 5, 2))
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason) == (auditor, "Notified")


def test_a_notice_too_short_is_refused_under_its_field_quoting_the_clause(client, auditor, contract, monkeypatch):
    audit = make_audit(contract)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2025, 5, 20))  # a late notice goes out
    before = snapshot(audit)
    signed_in(client, auditor)

    response = client.post(action_url(audit, "notify"), {"notice_date": "2025-05-20"})

    assert response.context["form"].errors["notice_date"] == [
        "Notice of 13 calendar days is shorter than the 30 calendar days required."
    ]
    assert page_errors(response) == [f"{audit.audit_right.clause_reference}: “{audit.audit_right.clause_text}”"]
    page = response.content.decode()
    assert 'data-testid="action-error"' in page
    assert 'class="form-control is-invalid"' in page and 'aria-invalid="true"' in page
    assert snapshot(audit) == before


def test_an_administrator_overrides_a_short_notice_with_a_reason_but_an_auditor_may_not(
    client, auditor, contract, monkeypatch
):
    audit = make_audit(contract)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2025, 5, 20))  # a late notice goes out
    before = snapshot(audit)
    data = {"notice_date": "2025-05-20", "override_reason": "Regulator's written demand"}

    refused = signed_in(client, auditor).post(action_url(audit, "notify"), data)
    # An auditor's form has no override: what it posts is not taken, and the clause refuses the notice.
    assert "override_reason" not in refused.context["form"].fields
    assert "Override reason" not in refused.content.decode()
    assert refused.context["form"].errors["notice_date"]
    assert snapshot(audit) == before

    admin = UserFactory(administrator=True)
    signed_in(client, admin).post(action_url(audit, "notify"), data)
    audit.refresh_from_db()
    assert (audit.status, audit.override_reason, audit.overridden_by) == (
        AuditStatus.NOTIFIED,
        "Regulator's written demand",
        admin,
    )


def test_an_auditor_starts_the_fieldwork_reports_and_closes(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.NOTIFIED, **STARTING_TODAY)
    signed_in(client, auditor)

    client.post(action_url(audit, "start-fieldwork"))
    audit.refresh_from_db()
    assert audit.status == AuditStatus.FIELDWORK

    response = client.post(
        action_url(audit, "report"), {"report_date": "2025-05-02", "report_summary": "No deviation."}, follow=True
    )
    assert "The report was recorded." in messages_of(response)
    audit.refresh_from_db()
    assert (audit.status, audit.report_date, audit.report_summary) == (
        AuditStatus.REPORTED,
        D(2025, 5, 2),
        "No deviation.",
    )

    response = client.post(action_url(audit, "close"), follow=True)
    assert "The audit was closed." in messages_of(response)
    audit.refresh_from_db()
    assert audit.status == AuditStatus.CLOSED
    assert [r.history_change_reason for r in audit.history.order_by("history_date")][-3:] == [
        "Fieldwork started",
        "Reported",
        "Closed",
    ]
    assert response.context["closed_on"] is not None


def test_an_invalid_transition_is_shown_and_nothing_changes(client, auditor, contract):
    audit = make_audit(contract)
    before = snapshot(audit)
    signed_in(client, auditor)

    response = client.post(action_url(audit, "start-fieldwork"))

    assert page_errors(response) == ["The audit's status is Planned; this step needs the status Notified."]
    assert snapshot(audit) == before


def test_a_report_without_its_summary_is_refused_by_the_form(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.FIELDWORK)
    before = snapshot(audit)
    signed_in(client, auditor)

    response = client.post(action_url(audit, "report"), {"report_date": "2025-06-20"})

    assert response.status_code == 200
    assert response.context["form"].errors["report_summary"]
    assert snapshot(audit) == before


def test_closing_with_unsettled_findings_is_refused_on_the_page(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.REPORTED)
    FindingFactory(audit=audit, number=3)
    before = snapshot(audit)
    signed_in(client, auditor)

    response = client.post(action_url(audit, "close"))

    assert page_errors(response) == ["Finding 3 is neither verified nor risk-accepted; the audit stays open."]
    assert snapshot(audit) == before


# Findings -------------------------------------------------------------------------------------------


def test_an_auditor_records_a_finding_with_the_clauses_due_date(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.REPORTED, report_date=D(2025, 6, 20))
    FindingFactory(audit=audit, number=1)
    signed_in(client, auditor)
    url = reverse("audits:record-finding", args=[audit.pk])
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "title": "Fees billed twice",
            "severity": "high",
            "description": "Two invoices for March.",
            "discrepancy_pct": "6.5",
            "addressed_to_vendor": "on",
        },
        follow=True,
    )

    finding = Finding.objects.get(audit=audit, title="Fees billed twice")
    # High: 30 days from the report date; numbered after the audit's last finding.
    assert (finding.number, finding.due_date, finding.status) == (2, D(2025, 7, 20), FindingStatus.OPEN)
    day = date_format(D(2025, 7, 20), "SHORT_DATE_FORMAT")
    assert f"Finding 2 was recorded; remediation due on {day}." in messages_of(response)
    assert finding.history.latest().history_change_reason == "Recorded"
    audit.refresh_from_db()
    assert audit.cost_recoverable is True  # 6.5 % ≥ the clause's 5 %


def test_a_finding_on_a_planned_audit_is_refused_on_the_page(client, auditor, contract):
    audit = make_audit(contract)
    signed_in(client, auditor)

    response = client.post(
        reverse("audits:record-finding", args=[audit.pk]),
        {"title": "Too early", "severity": "low", "description": "…"},
    )

    assert page_errors(response) == ["Findings are recorded during fieldwork or in the report."]
    assert not Finding.objects.filter(audit=audit).exists()


def test_an_auditor_changes_a_due_date_with_a_reason(client, auditor, contract):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED))
    signed_in(client, auditor)

    client.post(finding_url(finding, "due-date"), {"due_date": "2025-09-30", "reason": "Vendor's new ACD release"})

    finding.refresh_from_db()
    assert finding.due_date == D(2025, 9, 30)
    assert finding.history.latest().history_change_reason == "Due date 2025-09-30: Vendor's new ACD release"


def test_a_settled_finding_keeps_its_due_date(client, auditor, contract):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED), status=FindingStatus.RISK_ACCEPTED)
    before = snapshot(finding)
    signed_in(client, auditor)

    response = client.post(finding_url(finding, "due-date"), {"due_date": "2025-09-30", "reason": "Later"})

    assert page_errors(response) == ["A settled finding keeps its due date."]
    assert snapshot(finding) == before


def test_a_finding_is_planned_remediated_and_verified_through_the_pages(client, auditor, contract):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED))
    signed_in(client, auditor)

    client.post(finding_url(finding, "plan-remediation"), {"plan": "Set short abandons to 5 s"})
    finding.refresh_from_db()
    assert (finding.status, finding.remediation_plan) == (
        FindingStatus.REMEDIATION_PLANNED,
        "Set short abandons to 5 s",
    )

    client.post(finding_url(finding, "remediate"), {"evidence": "ACD export of 12 May"})
    finding.refresh_from_db()
    assert (finding.status, finding.evidence) == (FindingStatus.REMEDIATED, "ACD export of 12 May")
    assert finding.remediated_at is not None

    response = client.post(finding_url(finding, "verify"), follow=True)
    assert "The finding was verified." in messages_of(response)
    finding.refresh_from_db()
    assert (finding.status, finding.verified_by) == (FindingStatus.VERIFIED, auditor)
    assert [r.history_change_reason for r in finding.history.order_by("history_date")][-3:] == [
        "Remediation planned",
        "Remediated",
        "Verified",
    ]
    assert 'data-testid="verified"' in response.content.decode()


def test_an_auditor_accepts_a_risk_with_a_reason(client, auditor, contract):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED))
    signed_in(client, auditor)

    client.post(finding_url(finding, "accept-risk"), {"reason": "Tool retired in June"})

    finding.refresh_from_db()
    assert finding.status == FindingStatus.RISK_ACCEPTED
    assert finding.history.latest().history_change_reason == "Risk accepted: Tool retired in June"


def test_verifying_a_finding_not_remediated_is_refused_on_the_page(client, auditor, contract):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED))
    before = snapshot(finding)
    signed_in(client, auditor)

    response = client.post(finding_url(finding, "verify"))

    assert page_errors(response) == ["A finding that is Open cannot become Verified."]
    assert snapshot(finding) == before


@pytest.mark.parametrize(("action", "field"), [("plan-remediation", "plan"), ("remediate", "evidence")])
def test_a_blank_plan_or_evidence_is_refused_and_nothing_changes(client, auditor, contract, action, field):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED))
    before = snapshot(finding)
    signed_in(client, auditor)

    response = client.post(finding_url(finding, action), {field: "   "})

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert snapshot(finding) == before


# Who may act --------------------------------------------------------------------------------------


def _all_actions(contract):
    """Every action with a valid input, on rows where the service would accept it."""
    planned = make_audit(contract)
    notified = make_audit(contract, AuditStatus.NOTIFIED, **STARTING_TODAY)
    fieldwork = make_audit(contract, AuditStatus.FIELDWORK, **STARTING_TODAY)
    reported = make_audit(contract, AuditStatus.REPORTED)
    open_finding = FindingFactory(audit=reported)
    remediated = FindingFactory(audit=reported, status=FindingStatus.REMEDIATED)
    rows = [planned, notified, fieldwork, reported, open_finding, remediated]
    actions = [
        (action_url(planned, "notify"), {"notice_date": "2025-05-02"}),
        (action_url(notified, "start-fieldwork"), {}),
        (action_url(fieldwork, "report"), {"report_date": "2025-05-02", "report_summary": "OK"}),
        (action_url(make_audit(contract, AuditStatus.REPORTED), "close"), {}),
        (action_url(make_audit(contract), "cancel"), {"reason": "Vendor site closed"}),
        (
            action_url(make_audit(contract), "reschedule"),
            {"fieldwork_start": "2025-06-16", "fieldwork_end": "2025-06-18", "reason": "Site move"},
        ),
        (
            reverse("audits:record-finding", args=[fieldwork.pk]),
            {"title": "T", "severity": "low", "description": "D"},
        ),
        (finding_url(open_finding, "due-date"), {"due_date": "2025-09-30", "reason": "R"}),
        (finding_url(open_finding, "plan-remediation"), {"plan": "P"}),
        (finding_url(open_finding, "remediate"), {"evidence": "E"}),
        (finding_url(remediated, "verify"), {"note": "Checked"}),
        (finding_url(open_finding, "accept-risk"), {"reason": "R"}),
        (
            reverse("audits:plan", args=[planned.audit_right.pk]),
            {
                "reference": "AUD-NEW",
                "audit_type": "sla_data",
                "auditor_kind": "customer",
                "auditor_name": "Internal audit",
                "fieldwork_start": "2026-01-05",
                "fieldwork_end": "2026-01-09",
            },
        ),
    ]
    return actions, rows


@pytest.mark.parametrize("role", [Role.PROCUREMENT, Role.VENDOR_MANAGER, Role.COMMITTEE_MEMBER])
def test_a_role_the_api_does_not_allow_gets_a_403_and_nothing_changes(client, contract, role):
    actions, rows = _all_actions(contract)
    before = [snapshot(row) for row in rows]
    counts = (Audit.objects.count(), Finding.objects.count())
    user = UserFactory(role=role)
    if role == Role.VENDOR_MANAGER:
        contract.owner = user
        contract.save()
    elif role == Role.COMMITTEE_MEMBER:
        from tests.factories import CommitteeMemberFactory

        CommitteeMemberFactory(committee__contract=contract, committee__vendor=None, user=user)
    signed_in(client, user)

    for url, data in actions:
        assert client.get(url).status_code == 403, url
        assert client.post(url, data).status_code == 403, url

    assert [snapshot(row) for row in rows] == before
    assert (Audit.objects.count(), Finding.objects.count()) == counts


def test_a_contract_out_of_scope_is_a_404_for_every_action(client, auditor, other_contract):
    actions, rows = _all_actions(other_contract)
    before = [snapshot(row) for row in rows]
    counts = (Audit.objects.count(), Finding.objects.count())
    signed_in(client, auditor)

    for url, data in actions:
        assert client.get(url).status_code == 404, url
        assert client.post(url, data).status_code == 404, url

    assert [snapshot(row) for row in rows] == before
    assert (Audit.objects.count(), Finding.objects.count()) == counts


def test_every_action_is_allowed_to_an_auditor_of_the_contract(client, auditor, contract):
    actions, _rows = _all_actions(contract)
    signed_in(client, auditor)

    for url, data in actions:
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.context and response.context["form"].errors)


# Planning an audit ----------------------------------------------------------------------------------


PLAN = {
    "reference": "AUD-2026-01",
    "audit_type": "sla_data",
    "auditor_kind": "customer",
    "auditor_name": "Internal audit",
    "scope_description": "Abandon counts",
    "fieldwork_start": "2026-01-05",
    "fieldwork_end": "2026-01-09",
}


def test_the_contract_page_links_to_planning_for_who_may_plan(client, auditor, contract):
    right = AuditRightFactory(contract=contract)
    plan = reverse("audits:plan", args=[right.pk])

    assert plan in signed_in(client, auditor).get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    procurement = UserFactory(procurement=True)
    assert (
        plan not in signed_in(client, procurement).get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    )


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMINISTRATOR])
def test_who_may_plan_plans_an_audit_from_the_audits_list_through_a_choice_of_audit_right(
    client, auditor, contract, other_contract, role
):
    right = AuditRightFactory(contract=contract, clause_reference="§14.2")
    out_of_scope = AuditRightFactory(contract=other_contract)
    user = auditor if role == Role.AUDITOR else UserFactory(role=role)
    signed_in(client, user)
    choose = reverse("audits:plan-choose")

    listed = client.get(reverse("audits:list")).content.decode()
    page = client.get(choose)

    assert f'href="{choose}" data-testid="plan-audit"' in listed
    assert page.status_code == 200
    plan = reverse("audits:plan", args=[right.pk])
    assert f'href="{plan}"' in page.content.decode() and "§14.2" in page.content.decode()
    shown = {listed_right.pk for listed_right in page.context["rights"]}
    assert right.pk in shown
    assert (out_of_scope.pk in shown) == (role == Role.ADMINISTRATOR)  # the auditor's contracts only
    assert client.get(plan).status_code == 200


@pytest.mark.parametrize("role", [Role.PROCUREMENT, Role.VENDOR_MANAGER, Role.COMMITTEE_MEMBER])
def test_who_only_reads_audits_gets_no_plan_button_and_no_choice_of_audit_right(client, contract, role):
    AuditRightFactory(contract=contract)
    signed_in(client, UserFactory(role=role))

    listed = client.get(reverse("audits:list"))

    assert listed.status_code == 200
    assert 'data-testid="plan-audit"' not in listed.content.decode()
    assert client.get(reverse("audits:plan-choose")).status_code == 403


def test_a_vendor_user_gets_no_choice_of_audit_right(client, contract):
    AuditRightFactory(contract=contract)
    signed_in(client, VendorUserFactory(vendor=contract.vendor))

    assert client.get(reverse("audits:plan-choose")).status_code == 403


def test_an_audit_right_whose_audits_may_no_longer_be_held_is_not_offered(client, auditor, contract):
    lapsed = ContractFactory(auditors=[auditor], start_date=D(2015, 1, 1), initial_term_months=12)
    AuditRightFactory(contract=lapsed, records_retention_years=1)  # audits held until the end of 2017
    signed_in(client, auditor)

    page = client.get(reverse("audits:plan-choose"))

    assert page.context["rights"] == []
    assert 'data-testid="no-audit-right"' in page.content.decode()


def test_an_auditor_plans_an_audit_within_the_right(client, auditor, contract):
    right = AuditRightFactory(contract=contract)
    signed_in(client, auditor)
    assert client.get(reverse("audits:plan", args=[right.pk])).status_code == 200

    response = client.post(reverse("audits:plan", args=[right.pk]), {**PLAN, "lead_auditor": auditor.pk}, follow=True)

    audit = Audit.objects.get(reference="AUD-2026-01")
    assert response.redirect_chain[-1][0] == reverse("audits:detail", args=[audit.pk])
    assert "Audit AUD-2026-01 was planned." in messages_of(response)
    assert (audit.audit_right, audit.status, audit.lead_auditor, audit.notice_date) == (
        right,
        AuditStatus.PLANNED,
        auditor,
        None,
    )
    assert audit.history.latest().history_change_reason == "Planned"


def test_planning_outside_the_right_shows_every_problem_under_its_field_at_once_quoting_the_clause(
    client, auditor, contract
):
    right = AuditRightFactory(contract=contract)
    AuditFactory(audit_right=right, reference="AUD-2026-01")  # this contract year's audit, and the reference
    signed_in(client, auditor)

    response = client.post(
        reverse("audits:plan", args=[right.pk]),
        {**PLAN, "fieldwork_start": "2025-05-12", "fieldwork_end": "2025-05-09"},
    )

    errors = response.context["form"].errors
    assert errors["fieldwork_end"] == ["Fieldwork cannot end before it starts."]
    assert errors["fieldwork_start"] == [
        "Notice of 10 calendar days is shorter than the 30 calendar days required.",
        "1 audit already planned or held in the contract year 01/01/2025 – 12/31/2025; the clause allows 1.",
    ]
    assert errors["reference"] == ["An audit with this reference already exists."]
    assert page_errors(response) == [f"{right.clause_reference}: “{right.clause_text}”"]
    page = response.content.decode()
    for field in ("reference", "fieldwork_start", "fieldwork_end"):
        assert f'id="id_{field}_error"' in page and f'aria-describedby="id_{field}_error"' in page
    assert page.count("is-invalid") == 3
    assert escape(right.clause_text) in page
    assert right.audits.count() == 1


def test_the_plan_form_offers_the_clauses_types_and_auditors_and_the_override_to_administrators_only(
    client, auditor, contract
):
    right = AuditRightFactory(contract=contract)  # SLA data and financial audits, by the customer or a third party
    url = reverse("audits:plan", args=[right.pk])

    form = signed_in(client, auditor).get(url).context["form"]
    assert [value for value, _label in form.fields["audit_type"].choices] == ["", "financial", "sla_data"]
    assert [value for value, _label in form.fields["auditor_kind"].choices] == ["", "customer", "third_party"]
    assert "override_reason" not in form.fields and "for_cause" not in form.fields
    refused = client.post(url, {**PLAN, "audit_type": "security"})
    assert refused.context["form"].errors["audit_type"]
    assert not Audit.objects.exists()

    form = signed_in(client, UserFactory(administrator=True)).get(url).context["form"]
    labels = dict(form.fields["audit_type"].choices)
    assert (labels["sla_data"], labels["security"]) == ("SLA data", "Security (outside the clause)")
    assert "override_reason" in form.fields and "for_cause" in form.fields


def test_a_clause_listing_no_type_or_auditor_offers_them_all(client, auditor, contract):
    right = AuditRightFactory(contract=contract, scopes=[], allowed_auditors=[])

    form = signed_in(client, auditor).get(reverse("audits:plan", args=[right.pk])).context["form"]

    assert [value for value, _label in form.fields["audit_type"].choices] == ["", *AuditType.values]
    assert [value for value, _label in form.fields["auditor_kind"].choices] == ["", *Auditor.values]


def test_only_an_administrator_plans_outside_the_right_with_a_reason(client, auditor, contract):
    right = AuditRightFactory(contract=contract)
    data = {**PLAN, "fieldwork_start": "2025-05-12", "fieldwork_end": "2025-05-16", "override_reason": "Regulator"}

    refused = signed_in(client, auditor).post(reverse("audits:plan", args=[right.pk]), data)
    assert refused.context["form"].errors["fieldwork_start"]  # the auditor's override is not a field: not taken
    assert not Audit.objects.filter(reference="AUD-2026-01").exists()

    admin = UserFactory(administrator=True)
    signed_in(client, admin).post(reverse("audits:plan", args=[right.pk]), data)
    audit = Audit.objects.get(reference="AUD-2026-01")
    assert (audit.override_reason, audit.overridden_by) == ("Regulator", admin)


def test_a_plan_with_fieldwork_ending_before_it_starts_is_refused_under_the_end(client, auditor, contract):
    right = AuditRightFactory(contract=contract)
    signed_in(client, auditor)

    response = client.post(reverse("audits:plan", args=[right.pk]), {**PLAN, "fieldwork_end": "2026-01-01"})

    assert response.context["form"].errors == {"fieldwork_end": ["Fieldwork cannot end before it starts."]}
    assert page_errors(response) == []
    assert "Correct the fields marked below." in response.content.decode()
    assert not Audit.objects.exists()


def test_the_recorded_cost_recovery_threshold_uses_the_clause(client, auditor, contract):
    """A finding below the clause's threshold leaves the audit's cost with its bearer."""
    audit = make_audit(contract, AuditStatus.FIELDWORK)
    signed_in(client, auditor)

    client.post(
        reverse("audits:record-finding", args=[audit.pk]),
        {"title": "Small gap", "severity": "low", "description": "d", "discrepancy_pct": str(Decimal("1.0"))},
    )

    audit.refresh_from_db()
    finding = Finding.objects.get(audit=audit)
    assert (audit.cost_recoverable, finding.due_date) == (False, D(2025, 7, 31))  # low: 90 days from today


# The vendor's answers -------------------------------------------------------------------------------


def finding_page(finding):
    return reverse("audits:finding", args=[finding.pk])


@pytest.fixture
def vendor_user(contract):
    return VendorUserFactory(vendor=contract.vendor, first_name="Vera", last_name="Vendor")


def test_a_vendor_user_records_the_plan_then_the_remediation_from_the_findings_page(client, contract, vendor_user):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED), title="Short abandons from 10 s")
    signed_in(client, vendor_user)

    page = client.get(finding_page(finding)).content.decode()
    assert "Short abandons from 10 s" in page and escape(finding.description) in page
    assert 'data-testid="form-plan-remediation"' in page and 'data-testid="form-remediate"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert finding_url(finding, "plan-remediation") in page
    for customer_step in ("due-date", "verify", "accept-risk"):
        assert f"form-{customer_step}" not in page and finding_url(finding, customer_step) not in page

    planned = client.post(finding_url(finding, "plan-remediation"), {"plan": "Set short abandons to 5 s"}, follow=True)

    assert planned.redirect_chain[-1][0] == finding_page(finding)
    assert "The remediation plan was recorded." in messages_of(planned)
    finding.refresh_from_db()
    assert (finding.status, finding.remediation_plan) == (
        FindingStatus.REMEDIATION_PLANNED,
        "Set short abandons to 5 s",
    )
    page = planned.content.decode()
    assert "Set short abandons to 5 s" in page
    assert 'data-testid="form-plan-remediation"' not in page and 'data-testid="form-remediate"' in page

    remediated = client.post(finding_url(finding, "remediate"), {"evidence": "ACD export of 12 May"}, follow=True)

    assert "The finding was marked remediated." in messages_of(remediated)
    finding.refresh_from_db()
    assert (finding.status, finding.evidence) == (FindingStatus.REMEDIATED, "ACD export of 12 May")
    assert 'data-testid="form-' not in remediated.content.decode()
    assert "The customer now verifies the remediation." in remediated.content.decode()
    trail = [(r.history_user, r.history_change_reason) for r in finding.history.order_by("history_date")][-2:]
    assert trail == [(vendor_user, "Remediation planned"), (vendor_user, "Remediated")]


def test_a_vendor_users_action_page_leads_back_to_the_findings_page(client, contract, vendor_user):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED))
    signed_in(client, vendor_user)

    page = client.get(finding_url(finding, "plan-remediation")).content.decode()

    assert f'href="{finding_page(finding)}"' in page
    assert f'href="{reverse("sla_tracker:vendor-findings")}"' in page
    assert f'href="{reverse("audits:list")}"' not in page
    assert f'href="{reverse("audits:detail", args=[finding.audit_id])}"' not in page


@pytest.mark.parametrize(
    ("action", "field", "message"),
    [
        ("plan-remediation", "plan", "Describe the remediation plan."),
        ("remediate", "evidence", "Give the evidence of remediation."),
    ],
)
def test_a_vendor_users_blank_plan_or_evidence_is_refused_with_the_message_and_nothing_changes(
    client, contract, vendor_user, action, field, message
):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED))
    before = snapshot(finding)
    history = finding.history.count()
    signed_in(client, vendor_user)

    response = client.post(finding_url(finding, action), {field: "   "})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert f'data-testid="field-error">{message}</div>' in response.content.decode()
    assert messages_of(response) == []
    assert snapshot(finding) == before
    assert finding.history.count() == history


def test_a_vendor_user_takes_none_of_the_customers_steps_and_no_audit_action(client, contract, vendor_user):
    actions, rows = _all_actions(contract)
    answers = {"/plan-remediation/", "/remediate/"}
    customer_actions = [(url, data) for url, data in actions if not any(url.endswith(a) for a in answers)]
    before = [snapshot(row) for row in rows]
    counts = (Audit.objects.count(), Finding.objects.count())
    signed_in(client, vendor_user)

    for url, data in customer_actions:
        assert client.get(url).status_code == 403, url
        assert client.post(url, data).status_code == 403, url

    assert [snapshot(row) for row in rows] == before
    assert (Audit.objects.count(), Finding.objects.count()) == counts


@pytest.mark.parametrize("whose", ["another vendor's", "not addressed to the vendor"])
def test_a_finding_that_is_not_the_vendors_is_a_404_to_its_vendor_user(client, contract, other_contract, whose):
    if whose == "another vendor's":
        finding = FindingFactory(audit=make_audit(other_contract, AuditStatus.REPORTED))
    else:
        finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED), addressed_to_vendor=False)
    before = snapshot(finding)
    signed_in(client, VendorUserFactory(vendor=contract.vendor))

    assert client.get(finding_page(finding)).status_code == 404
    for action, data in (("plan-remediation", {"plan": "P"}), ("remediate", {"evidence": "E"})):
        assert client.get(finding_url(finding, action)).status_code == 404
        assert client.post(finding_url(finding, action), data).status_code == 404

    assert snapshot(finding) == before


def test_the_findings_page_sends_the_customers_side_to_the_finding_on_its_audits_page(client, auditor, contract):
    finding = FindingFactory(audit=make_audit(contract, AuditStatus.REPORTED))
    signed_in(client, auditor)

    response = client.get(finding_page(finding))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('audits:detail', args=[finding.audit_id])}#finding-{finding.pk}"


def test_a_settled_finding_offers_the_vendor_nothing_to_answer(client, contract, vendor_user, auditor):
    finding = FindingFactory(
        audit=make_audit(contract, AuditStatus.REPORTED),
        status=FindingStatus.VERIFIED,
        verified_by=auditor,
        verified_at=timezone.now(),
    )
    signed_in(client, vendor_user)

    page = client.get(finding_page(finding)).content.decode()

    assert 'data-testid="form-' not in page
    assert "The finding is settled: nothing is left to answer." in page
    assert client.post(finding_url(finding, "remediate"), {"evidence": "E"}).status_code == 200  # the service refuses
    finding.refresh_from_db()
    assert finding.status == FindingStatus.VERIFIED


# Cancelling an audit, and what the audit page shows of its clause and settled findings --------------


def test_an_auditor_cancels_a_planned_audit_with_a_reason_from_its_page(client, auditor, contract):
    audit = make_audit(contract)
    signed_in(client, auditor)
    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()
    assert 'data-testid="audit-action-cancel"' in page

    blank = client.post(action_url(audit, "cancel"), {"reason": ""})
    assert blank.status_code == 200 and blank.context["form"].errors["reason"]
    response = client.post(action_url(audit, "cancel"), {"reason": "Vendor site closed for works"}, follow=True)

    assert "The audit was cancelled." in messages_of(response)
    audit.refresh_from_db()
    assert (audit.status, audit.cancellation_reason, audit.cancelled_by) == (
        AuditStatus.CANCELLED,
        "Vendor site closed for works",
        auditor,
    )
    page = response.content.decode()
    assert 'data-testid="cancelled"' in page and "Vendor site closed for works" in page
    assert 'data-testid="audit-action-' not in page


def test_an_audit_in_fieldwork_offers_no_cancellation_and_refuses_one(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.FIELDWORK, **STARTING_TODAY)
    signed_in(client, auditor)

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()
    response = client.post(action_url(audit, "cancel"), {"reason": "Too late"})

    assert 'data-testid="audit-action-cancel"' not in page
    assert page_errors(response) == ["The audit is Fieldwork: only a planned or notified audit can be cancelled."]
    audit.refresh_from_db()
    assert audit.status == AuditStatus.FIELDWORK


def test_the_audit_page_shows_why_a_risk_was_accepted_and_what_the_verification_checked(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.REPORTED)
    accepted = FindingFactory(audit=audit, number=1)
    verified = FindingFactory(audit=audit, number=2, status=FindingStatus.REMEDIATED)
    signed_in(client, auditor)

    client.post(finding_url(accepted, "accept-risk"), {"reason": "Tool retired in June"})
    response = client.post(finding_url(verified, "verify"), {"note": "Checked the July ACD export"}, follow=True)

    page = response.content.decode()
    assert 'data-testid="risk-accepted"' in page and "Tool retired in June" in page
    assert "Checked the July ACD export" in page


def test_the_audit_page_shows_the_clauses_changes_since_the_audit_was_planned(client, auditor, contract):
    from audits import services

    audit = make_audit(contract)
    administrator = UserFactory(administrator=True, first_name="Ada", last_name="Admin")
    services.change_audit_right(
        right=audit.audit_right, changes={"audits_per_year": 2}, reason="Amendment 3", actor=administrator
    )
    signed_in(client, auditor)

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()

    assert 'data-testid="clause-changes"' in page
    assert "audits allowed per contract year — Amendment 3" in page and "Ada Admin" in page


def test_the_finding_form_takes_no_due_date(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.REPORTED, report_date=D(2025, 4, 30))
    signed_in(client, auditor)
    url = reverse("audits:record-finding", args=[audit.pk])

    assert "due_date" not in client.get(url).context["form"].fields
    client.post(url, {"title": "T", "severity": "high", "description": "D", "due_date": "2020-01-01"})

    assert Finding.objects.get(audit=audit).due_date == D(2025, 6, 1)  # high: 30 days from today, after the report


# Steps offered only when they can succeed ------------------------------------------------------------


def test_a_fieldwork_that_starts_later_is_shown_disabled_with_the_day_it_starts(client, auditor, contract):
    audit = make_audit(
        contract, AuditStatus.NOTIFIED, notice_date=TODAY, fieldwork_start=D(2025, 6, 11), fieldwork_end=D(2025, 6, 13)
    )
    signed_in(client, auditor)
    day = date_format(D(2025, 6, 11), "SHORT_DATE_FORMAT")
    reason = f"The fieldwork starts on {day}, as the notice says: it cannot start earlier."

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()
    assert (
        '<button type="button" class="btn btn-outline-secondary" disabled aria-describedby="refusal-start-fieldwork" '
        'data-testid="audit-action-start-fieldwork">'
    ) in page
    assert f'data-testid="refusal-start-fieldwork">{reason}</span>' in page
    assert action_url(audit, "start-fieldwork") not in page
    # Its page says why too, and its button is disabled.
    step = client.get(action_url(audit, "start-fieldwork")).content.decode()
    assert f'data-testid="step-refusal">{reason}</div>' in step
    assert 'data-testid="confirm" disabled aria-describedby="step-refusal"' in step


def test_a_fieldwork_from_today_is_offered(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.NOTIFIED, **STARTING_TODAY)
    signed_in(client, auditor)

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()

    assert f'href="{action_url(audit, "start-fieldwork")}"' in page and "refusal-start-fieldwork" not in page
    assert 'data-testid="step-refusal"' not in client.get(action_url(audit, "start-fieldwork")).content.decode()


def test_closing_an_audit_with_open_findings_is_shown_disabled_with_them(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.REPORTED)
    FindingFactory(audit=audit, number=1)
    FindingFactory(audit=audit, number=2, status=FindingStatus.RISK_ACCEPTED)
    FindingFactory(audit=audit, number=3, status=FindingStatus.REMEDIATED)
    signed_in(client, auditor)

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()

    assert 'disabled aria-describedby="refusal-close" data-testid="audit-action-close"' in page
    assert "Findings 1, 3 are neither verified nor risk-accepted; the audit stays open." in page
    assert action_url(audit, "close") not in page


def test_the_page_of_a_step_the_status_does_not_allow_says_so(client, auditor, contract):
    audit = make_audit(contract)
    signed_in(client, auditor)

    step = client.get(action_url(audit, "close")).content.decode()

    assert 'data-testid="step-refusal">The audit is Planned: this step is not available.</div>' in step
    assert 'data-testid="confirm" disabled' in step


# Rescheduling the fieldwork -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", AuditStatus.reschedulable_values())
def test_an_auditor_reschedules_the_fieldwork_with_a_reason_shown_on_the_audit(client, auditor, contract, status):
    audit = make_audit(contract, status)  # fieldwork 2 – 6 June 2025, noticed on 2 May once notified
    signed_in(client, auditor)
    assert (
        f'href="{action_url(audit, "reschedule")}"'
        in client.get(reverse("audits:detail", args=[audit.pk])).content.decode()
    )
    form = client.get(action_url(audit, "reschedule")).context["form"]
    assert (form["fieldwork_start"].value(), form["fieldwork_end"].value()) == (D(2025, 6, 2), D(2025, 6, 6))
    assert "override_reason" not in form.fields

    response = client.post(
        action_url(audit, "reschedule"),
        {"fieldwork_start": "2025-06-16", "fieldwork_end": "2025-06-18", "reason": "The vendor's site moves"},
        follow=True,
    )

    assert "The fieldwork was rescheduled." in messages_of(response)
    audit.refresh_from_db()
    assert (audit.status, audit.fieldwork_start, audit.fieldwork_end) == (status, D(2025, 6, 16), D(2025, 6, 18))
    move = response.content.decode().split('data-testid="fieldwork-move">')[1].split("</div>")[0]
    old = f"{date_format(D(2025, 6, 2), 'SHORT_DATE_FORMAT')} – {date_format(D(2025, 6, 6), 'SHORT_DATE_FORMAT')}"
    assert f"by Alice Audit, from {old}: The vendor&#x27;s site moves" in move


def test_a_reschedule_is_refused_under_each_field_at_once(client, auditor, contract):
    audit = make_audit(contract)
    before = snapshot(audit)
    signed_in(client, auditor)

    response = client.post(
        action_url(audit, "reschedule"), {"fieldwork_start": "2025-05-20", "fieldwork_end": "2025-05-19", "reason": ""}
    )

    errors = response.context["form"].errors
    assert errors["reason"] == ["This field is required."]
    assert snapshot(audit) == before
    response = client.post(
        action_url(audit, "reschedule"), {"fieldwork_start": "2025-05-20", "fieldwork_end": "2025-05-19", "reason": "R"}
    )
    errors = response.context["form"].errors
    assert errors["fieldwork_start"] == ["Notice of 18 calendar days is shorter than the 30 calendar days required."]
    assert errors["fieldwork_end"] == ["Fieldwork cannot end before it starts."]
    assert page_errors(response) == [f"{audit.audit_right.clause_reference}: “{audit.audit_right.clause_text}”"]
    assert snapshot(audit) == before


def test_an_administrator_reschedules_outside_the_clause_with_an_override(client, contract):
    audit = make_audit(contract)
    admin = UserFactory(administrator=True)
    signed_in(client, admin)
    assert "override_reason" in client.get(action_url(audit, "reschedule")).context["form"].fields

    client.post(
        action_url(audit, "reschedule"),
        {
            "fieldwork_start": "2025-05-20",
            "fieldwork_end": "2025-05-22",
            "reason": "Incident",
            "override_reason": "Regulator's written demand",
        },
    )

    audit.refresh_from_db()
    assert (audit.fieldwork_start, audit.override_reason, audit.overridden_by) == (
        D(2025, 5, 20),
        "Regulator's written demand",
        admin,
    )


def test_an_audit_in_fieldwork_offers_no_reschedule(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.FIELDWORK, **STARTING_TODAY)
    signed_in(client, auditor)

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()

    assert 'data-testid="audit-action-reschedule"' not in page


# A finding recorded after the report, and its form's errors --------------------------------------------


def test_a_finding_recorded_after_the_report_is_due_after_the_clauses_days_from_today(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.REPORTED, report_date=D(2025, 3, 18))
    signed_in(client, auditor)

    response = client.post(
        reverse("audits:record-finding", args=[audit.pk]),
        {"title": "Late", "severity": "high", "description": "D"},
        follow=True,
    )

    finding = Finding.objects.get(audit=audit)
    assert (finding.recorded_on, finding.due_date) == (TODAY, D(2025, 6, 1))  # not 17 April, already past
    assert f"remediation due on {date_format(D(2025, 6, 1), 'SHORT_DATE_FORMAT')}." in messages_of(response)[0]
    assert 'data-testid="finding-overdue"' not in response.content.decode()


def test_a_findings_refused_amounts_are_marked_under_their_fields_together(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.FIELDWORK, **STARTING_TODAY)
    signed_in(client, auditor)

    response = client.post(
        reverse("audits:record-finding", args=[audit.pk]),
        {"title": "T", "severity": "low", "description": "D", "recovery_amount": "-50", "discrepancy_pct": "-1"},
    )

    errors = response.context["form"].errors
    assert errors["recovery_amount"] == ["The amount to recover cannot be negative."]
    assert errors["discrepancy_pct"]
    assert page_errors(response) == []
    page = response.content.decode()
    assert 'class="form-control is-invalid"' in page
    assert (
        '<div class="invalid-feedback" id="id_recovery_amount_error" data-testid="field-error">'
        "The amount to recover cannot be negative.</div>"
    ) in page
    assert not Finding.objects.exists()


# Required fields are marked ---------------------------------------------------------------------------------


def test_the_audit_forms_mark_their_required_fields(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.FIELDWORK, **STARTING_TODAY)
    signed_in(client, auditor)

    page = client.get(reverse("audits:record-finding", args=[audit.pk])).content.decode()

    def label(field):
        return page.split(f'for="id_{field}">')[1].split("</label>")[0]

    marker = (
        '<span class="text-danger ms-1" aria-hidden="true">*</span><span class="visually-hidden"> (required)</span>'
    )
    assert label("title") == f"Title{marker}" and label("severity") == f"Severity{marker}"
    assert label("clause_breached") == "Clause breached" and label("owner") == "Owner"
    assert 'class="mb-3 required" data-field="title"' in page
    assert 'data-testid="required-legend"' in page
    confirm = client.get(action_url(make_audit(contract, AuditStatus.REPORTED), "close")).content.decode()
    assert 'data-testid="required-legend"' not in confirm  # nothing to fill in


# The year's allowance, audits for cause ------------------------------------------------------------------------


def test_an_administrator_plans_an_audit_for_cause_shown_apart_from_the_years_allowance(client, contract):
    right = AuditRightFactory(contract=contract)
    AuditFactory(
        audit_right=right,
        reference="AUD-ROUTINE",
        notice_date=None,
        fieldwork_start=D(2026, 3, 2),
        fieldwork_end=D(2026, 3, 6),
    )
    admin = UserFactory(administrator=True, first_name="Ada", last_name="Admin")
    signed_in(client, admin)

    response = client.post(
        reverse("audits:plan", args=[right.pk]),
        {**PLAN, "for_cause": "on", "override_reason": "Suspected fraud in the March invoice"},
        follow=True,
    )

    audit = Audit.objects.get(reference="AUD-2026-01")
    assert (audit.for_cause, audit.overridden_by) == (True, admin)
    page = response.content.decode()
    assert "Held for cause, on top of the audits the clause allows, as allowed by Ada Admin:" in page
    assert "Contract year 01/01/2026 – 12/31/2026: 1 audit used of 1 allowed · 1 audit for cause, not counted" in page
    listed = client.get(reverse("audits:list")).content.decode()
    assert listed.count('data-testid="for-cause"') == 1


def test_the_audit_page_counts_a_routine_audit_allowed_by_an_override(client, auditor, contract):
    right = AuditRightFactory(contract=contract, audits_per_year=2)
    AuditFactory(audit_right=right, reference="AUD-1", notice_date=None)
    overridden = AuditFactory(
        audit_right=right,
        reference="AUD-2",
        notice_date=None,
        fieldwork_start=D(2025, 9, 1),
        fieldwork_end=D(2025, 9, 5),
        override_reason="Vendor accepted 10 days' notice",
        overridden_by=UserFactory(administrator=True),
    )
    signed_in(client, auditor)

    page = client.get(reverse("audits:detail", args=[overridden.pk])).content.decode()

    assert "Contract year 01/01/2025 – 12/31/2025: 2 audits used of 2 allowed</span>" in page
    assert 'data-testid="for-cause"' not in page
    # Three-year term to 31 December 2027, records kept five years after it.
    assert "12/31/2032" in page.split('data-testid="right-ends-on">')[1].split("</dd>")[0]


def test_the_plan_page_shows_this_contract_years_allowance_and_the_last_day_of_audits(client, auditor, contract):
    right = AuditRightFactory(contract=contract, records_retention_years=1)
    AuditFactory(audit_right=right, notice_date=None)
    signed_in(client, auditor)

    page = client.get(reverse("audits:plan", args=[right.pk])).content.decode()

    assert "Contract year 01/01/2025 – 12/31/2025: 1 audit used of 1 allowed</span>" in page
    assert "Audits held until 12/31/2028 (records kept 1 year after the contract's end)" in page


def test_a_plan_beyond_the_audit_right_is_refused_under_the_fieldworks_end(client, auditor, contract):
    right = AuditRightFactory(contract=contract, records_retention_years=0)  # the term ends on 31 December 2027
    signed_in(client, auditor)

    response = client.post(
        reverse("audits:plan", args=[right.pk]),
        {**PLAN, "fieldwork_start": "2027-12-27", "fieldwork_end": "2028-01-04"},
    )

    assert response.context["form"].errors == {
        "fieldwork_end": ["The audit right ends with the contract, on 12/31/2027: the fieldwork ends by then."]
    }
    assert not Audit.objects.exists()


# A report after the fieldwork has started ------------------------------------------------------------------


def test_a_report_before_the_fieldwork_has_started_is_refused_on_the_page(client, auditor, contract):
    audit = make_audit(contract, AuditStatus.NOTIFIED)  # fieldwork from 2 June 2025
    before = snapshot(audit)
    signed_in(client, auditor)

    step = client.get(action_url(audit, "report")).content.decode()
    response = client.post(action_url(audit, "report"), {"report_date": "2025-05-02", "report_summary": "Nothing"})

    assert 'data-testid="step-refusal">The audit is Notified: this step is not available.</div>' in step
    assert page_errors(response) == [
        "The fieldwork has not started (the audit is notified): the report is recorded once it has, from 06/02/2025 on."
    ]
    assert snapshot(audit) == before


# An override covers what it was given for; holding an audit for cause after planning it ----------------------

FORMER_DATES = (
    "The earlier override was given for the former dates; an administrator must give a reason again to allow "
    "these dates."
)


def overridden_audit_and_a_full_next_year(contract):
    """A second routine audit of 2025 an administrator allowed, and 2026's audit already planned."""
    right = AuditRightFactory(contract=contract)
    AuditFactory(audit_right=right, reference="AUD-2025", notice_date=None)
    AuditFactory(
        audit_right=right,
        reference="AUD-2026",
        notice_date=None,
        fieldwork_start=D(2026, 3, 2),
        fieldwork_end=D(2026, 3, 6),
    )
    return AuditFactory(
        audit_right=right,
        reference="AUD-SECOND",
        notice_date=None,
        fieldwork_start=D(2025, 9, 1),
        fieldwork_end=D(2025, 9, 5),
        override_reason="Second review agreed at the SteerCo",
        overridden_by=UserFactory(administrator=True),
    )


MOVE_TO_2026 = {"fieldwork_start": "2026-01-12", "fieldwork_end": "2026-01-14", "reason": "Busy season"}


def test_an_overridden_audit_moved_into_a_full_year_is_refused_under_the_override_reason(client, contract):
    audit = overridden_audit_and_a_full_next_year(contract)
    before = snapshot(audit)
    admin = UserFactory(administrator=True, first_name="Ada", last_name="Admin")
    signed_in(client, admin)

    refused = client.post(action_url(audit, "reschedule"), MOVE_TO_2026)

    errors = refused.context["form"].errors
    assert errors["override_reason"] == [FORMER_DATES]
    assert errors["fieldwork_start"] == [
        "1 audit already planned or held in the contract year 01/01/2026 – 12/31/2026; the clause allows 1."
    ]
    assert 'id="id_override_reason_error" data-testid="field-error">' in refused.content.decode()
    assert snapshot(audit) == before

    response = client.post(
        action_url(audit, "reschedule"), {**MOVE_TO_2026, "override_reason": "Regulator's written demand"}, follow=True
    )

    assert "The fieldwork was rescheduled." in messages_of(response)
    audit.refresh_from_db()
    assert (audit.fieldwork_start, audit.override_reason, audit.overridden_by) == (
        D(2026, 1, 12),
        "Regulator's written demand",
        admin,
    )
    assert "Allowed outside the audit right by Ada Admin: Regulator&#x27;s written demand" in response.content.decode()


def test_an_auditor_moving_an_overridden_audit_into_a_full_year_is_told_an_administrator_must_allow_it(
    client, auditor, contract
):
    audit = overridden_audit_and_a_full_next_year(contract)
    before = snapshot(audit)
    signed_in(client, auditor)

    refused = client.post(action_url(audit, "reschedule"), MOVE_TO_2026)

    assert FORMER_DATES in page_errors(refused)  # the auditor's form has no override reason
    assert snapshot(audit) == before


def test_an_administrator_holds_an_audit_for_cause_from_its_page_and_the_allowance_shows_it(client, contract):
    audit = make_audit(contract)
    admin = UserFactory(administrator=True, first_name="Ada", last_name="Admin")
    signed_in(client, admin)
    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()
    assert f'href="{action_url(audit, "for-cause")}"' in page
    assert "Contract year 01/01/2025 – 12/31/2025: 1 audit used of 1 allowed</span>" in page
    form = client.get(action_url(audit, "for-cause")).context["form"]
    assert form["for_cause"].value() is True  # offered the other way round from what the audit is

    response = client.post(
        action_url(audit, "for-cause"), {"for_cause": "on", "reason": "Security incident of 28 April"}, follow=True
    )

    assert "Whether the audit is held for cause was changed." in messages_of(response)
    page = response.content.decode()
    assert "Held for cause, on top of the audits the clause allows, as allowed by Ada Admin:" in page
    assert "Contract year 01/01/2025 – 12/31/2025: 0 audits used of 1 allowed · 1 audit for cause, not counted" in page
    audit.refresh_from_db()
    assert (audit.for_cause, audit.override_reason, audit.overridden_by) == (
        True,
        "Security incident of 28 April",
        admin,
    )
    assert audit.history.latest().history_user == admin


def test_counting_an_audit_for_cause_as_routine_in_a_full_year_is_refused_on_its_page(client, contract):
    audit = make_audit(
        contract, for_cause=True, override_reason="Suspected fraud", overridden_by=UserFactory(administrator=True)
    )
    AuditFactory(
        audit_right=audit.audit_right,
        reference="AUD-ROUTINE",
        notice_date=None,
        fieldwork_start=D(2025, 9, 1),
        fieldwork_end=D(2025, 9, 5),
    )
    before = snapshot(audit)
    signed_in(client, UserFactory(administrator=True))
    assert client.get(action_url(audit, "for-cause")).context["form"]["for_cause"].value() is False

    refused = client.post(action_url(audit, "for-cause"), {"reason": "Fraud not confirmed"})

    right = audit.audit_right
    assert page_errors(refused) == [
        "1 audit already planned or held in the contract year 01/01/2025 – 12/31/2025; the clause allows 1.",
        f"{right.clause_reference}: “{right.clause_text}”",
    ]
    assert snapshot(audit) == before


def test_who_is_not_an_administrator_gets_no_for_cause_action(client, auditor, contract, other_contract):
    audit = make_audit(contract)
    before = snapshot(audit)
    signed_in(client, auditor)

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()

    assert 'data-testid="audit-action-for-cause"' not in page
    assert client.get(action_url(audit, "for-cause")).status_code == 403
    assert client.post(action_url(audit, "for-cause"), {"for_cause": "on", "reason": "R"}).status_code == 403
    assert client.get(action_url(make_audit(other_contract), "for-cause")).status_code == 404
    signed_in(client, VendorUserFactory(vendor=contract.vendor))
    assert client.post(action_url(audit, "for-cause"), {"for_cause": "on", "reason": "R"}).status_code == 403
    assert snapshot(audit) == before


def test_a_reported_audit_offers_no_for_cause_action(client, contract):
    audit = make_audit(contract, AuditStatus.REPORTED, report_date=D(2025, 6, 10))
    signed_in(client, UserFactory(administrator=True))

    page = client.get(reverse("audits:detail", args=[audit.pk])).content.decode()

    assert 'data-testid="audit-action-for-cause"' not in page


@pytest.mark.parametrize(
    ("language", "counted", "expected"),
    [
        ("en", 2, "Contract year 01/01/2025 – 12/31/2025: 2 audits used of 1 allowed</span>"),
        ("en", 1, "Contract year 01/01/2025 – 12/31/2025: 1 audit used of 1 allowed</span>"),
        ("fr", 2, "Année contractuelle 01/01/2025 – 31/12/2025\u00a0: 2 audits utilisés (plafond\u00a0: 1)</span>"),
        ("fr", 1, "Année contractuelle 01/01/2025 – 31/12/2025\u00a0: 1 audit utilisé (plafond\u00a0: 1)</span>"),
    ],
)
def test_the_allowance_line_agrees_with_the_audits_used_also_beyond_the_allowance(language, counted, expected):
    use = AllowanceUse(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31), allowed=1, counted=counted, for_cause=0)
    with translation.override(language):
        assert expected in render_to_string("audits/_allowance.html", {"use": use})
