"""Audits within the contract's audit right, their transitions, and their findings' remediation."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits import services
from audits.choices import Auditor, AuditStatus, AuditType, FindingStatus, NoticeUnit, Severity
from audits.selectors import audits_with_notice_to_send, findings_due, latest_notice_date
from tests.factories import AuditFactory, AuditRightFactory, FindingFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date
FIELDWORK_START = D(2025, 6, 2)
PLANNED_ON = D(2025, 5, 2)


@pytest.fixture
def auditor():
    return UserFactory(auditor=True)


@pytest.fixture
def admin():
    return UserFactory(administrator=True)


def plan(right, actor, *, start=FIELDWORK_START, today=PLANNED_ON, reference="AUD-1", **kwargs):
    values = {
        "audit_right": right,
        "reference": reference,
        "audit_type": AuditType.SLA_DATA,
        "auditor_kind": Auditor.CUSTOMER,
        "auditor_name": "Internal audit",
        "fieldwork_start": start,
        "fieldwork_end": start + datetime.timedelta(days=4),
        "actor": actor,
        "today": today,
    }
    values.update(kwargs)
    return services.plan_audit(**values)


# Validation against the right ----------------------------------------------------------------------


def test_an_audit_within_the_right_is_planned(auditor):
    audit = plan(AuditRightFactory(), auditor)
    assert audit.status == AuditStatus.PLANNED and audit.override_reason == ""
    assert audit.history.latest().history_user == auditor


def test_too_short_a_calendar_notice_is_refused_quoting_the_clause(auditor):
    right = AuditRightFactory(clause_reference="§ 21.1")
    with pytest.raises(ValidationError) as refusal:
        plan(right, auditor, today=D(2025, 5, 4))  # 29 days before fieldwork
    messages = refusal.value.messages
    assert "Notice of 29 calendar days is shorter than the 30 calendar days required." in messages
    assert messages[-1] == f"§ 21.1: “{right.clause_text}”"


def test_notice_in_business_days_counts_monday_to_friday(auditor):
    right = AuditRightFactory(notice=10, notice_unit=NoticeUnit.BUSINESS_DAYS)
    # Fieldwork Monday 16 June 2025; notice on Monday 2 June gives 10 business days, Tuesday 3 June only 9.
    plan(right, auditor, start=D(2025, 6, 16), today=D(2025, 6, 2))
    with pytest.raises(ValidationError, match="Notice of 1 business day is shorter than the 10 business days"):
        plan(right, auditor, start=D(2025, 6, 16), today=D(2025, 6, 13))  # Friday before
    with pytest.raises(ValidationError, match="9 business days is shorter than the 10 business days"):
        plan(
            AuditRightFactory(notice=10, notice_unit=NoticeUnit.BUSINESS_DAYS),
            auditor,
            start=D(2025, 6, 16),
            today=D(2025, 6, 3),
        )


def test_more_audits_in_a_contract_year_than_allowed_are_refused(auditor):
    right = AuditRightFactory(audits_per_year=1)  # contract years from 1 January 2025
    plan(right, auditor)
    with pytest.raises(ValidationError, match="1 audit\\(s\\) already in the contract year 2025-01-01 – 2025-12-31"):
        plan(right, auditor, reference="AUD-2", start=D(2025, 11, 3), today=D(2025, 9, 1))
    # The next contract year starts on the anniversary of the start date.
    plan(right, auditor, reference="AUD-3", start=D(2026, 1, 5), today=D(2025, 9, 1))


def test_an_audit_type_outside_the_clauses_scope_is_refused(auditor):
    with pytest.raises(ValidationError, match="does not allow a security audit"):
        plan(AuditRightFactory(), auditor, audit_type=AuditType.SECURITY)


def test_an_auditor_the_clause_does_not_allow_is_refused(auditor):
    with pytest.raises(ValidationError, match="does not allow this auditor"):
        plan(AuditRightFactory(), auditor, auditor_kind=Auditor.REGULATOR)


def test_an_administrator_may_override_with_a_recorded_reason(admin, auditor):
    right = AuditRightFactory()
    plan(right, auditor)
    with pytest.raises(ValidationError, match="Only an administrator"):
        plan(right, auditor, reference="AUD-2", override_reason="Regulator's demand")

    audit = plan(right, admin, reference="AUD-2", override_reason="Regulator's written demand of 2 May")

    assert (audit.override_reason, audit.overridden_by) == ("Regulator's written demand of 2 May", admin)
    # The override stays with the audit: notifying it later is not refused again.
    audit = services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor)
    assert audit.status == AuditStatus.NOTIFIED


def test_an_overridden_audit_does_not_use_up_the_years_allowance(admin, auditor):
    right = AuditRightFactory()
    plan(right, admin, audit_type=AuditType.SECURITY, override_reason="Security incident")
    plan(right, auditor, reference="AUD-2")


def test_notifying_checks_the_real_notice_date(auditor):
    audit = plan(AuditRightFactory(), auditor)
    with pytest.raises(ValidationError, match="Notice of 20 calendar days"):
        services.notify_audit(audit=audit, notice_date=D(2025, 5, 13), actor=auditor)
    audit = services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor)
    assert (audit.status, audit.notice_date) == (AuditStatus.NOTIFIED, D(2025, 5, 2))


# Transitions ---------------------------------------------------------------------------------------


def test_an_audit_moves_planned_notified_fieldwork_reported_closed(auditor):
    audit = plan(AuditRightFactory(), auditor)
    audit = services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor, today=D(2025, 5, 2))
    audit = services.start_fieldwork(audit=audit, actor=auditor, today=FIELDWORK_START)
    audit = services.report_audit(
        audit=audit, report_date=D(2025, 6, 20), report_summary="Two findings", actor=auditor, today=D(2025, 6, 20)
    )
    assert (audit.status, audit.report_date) == (AuditStatus.REPORTED, D(2025, 6, 20))
    audit = services.close_audit(audit=audit, actor=auditor)
    assert audit.status == AuditStatus.CLOSED


def test_a_notice_is_dated_between_the_contracts_start_and_today(auditor):
    audit = plan(AuditRightFactory(), auditor)
    start = audit.audit_right.contract.start_date

    for day, message in ((D(2025, 5, 3), "cannot be in the future"), (start - datetime.timedelta(days=1), "predate")):
        with pytest.raises(ValidationError, match=message) as refusal:
            services.notify_audit(audit=audit, notice_date=day, actor=auditor, today=D(2025, 5, 2))
        assert list(refusal.value.error_dict) == ["notice_date"]
    audit.refresh_from_db()
    assert (audit.status, audit.notice_date) == (AuditStatus.PLANNED, None)


def test_the_fieldwork_starts_on_the_day_the_notice_gave_not_earlier(auditor):
    audit = plan(AuditRightFactory(), auditor)
    audit = services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor, today=D(2025, 5, 2))

    with pytest.raises(ValidationError, match=r"The fieldwork starts on .* as the notice says: it cannot start"):
        services.start_fieldwork(audit=audit, actor=auditor, today=FIELDWORK_START - datetime.timedelta(days=1))
    audit.refresh_from_db()
    assert audit.status == AuditStatus.NOTIFIED
    assert services.start_fieldwork(audit=audit, actor=auditor, today=FIELDWORK_START).status == AuditStatus.FIELDWORK


def test_a_report_is_dated_between_the_fieldworks_start_and_today(auditor):
    audit = plan(AuditRightFactory(), auditor)
    audit = services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor, today=D(2025, 5, 2))
    audit = services.start_fieldwork(audit=audit, actor=auditor, today=FIELDWORK_START)

    for day, message in (
        (D(2025, 6, 1), "The report cannot predate the fieldwork, which started on "),
        (D(2025, 6, 21), "future"),
    ):
        with pytest.raises(ValidationError, match=message) as refusal:
            services.report_audit(
                audit=audit, report_date=day, report_summary="Two findings", actor=auditor, today=D(2025, 6, 20)
            )
        assert list(refusal.value.error_dict) == ["report_date"]
    audit.refresh_from_db()
    assert (audit.status, audit.report_date) == (AuditStatus.FIELDWORK, None)
    reported = services.report_audit(
        audit=audit, report_date=FIELDWORK_START, report_summary="Two findings", actor=auditor, today=D(2025, 6, 20)
    )
    assert reported.report_date == FIELDWORK_START


def test_an_audit_cannot_skip_a_step(auditor):
    audit = AuditFactory()
    with pytest.raises(ValidationError, match="this step needs it Notified"):
        services.start_fieldwork(audit=audit, actor=auditor)
    with pytest.raises(ValidationError, match="Reported"):
        services.close_audit(audit=audit, actor=auditor)


def test_an_audit_closes_only_when_every_finding_is_verified_or_risk_accepted(auditor):
    audit = AuditFactory(status=AuditStatus.REPORTED, report_date=D(2025, 6, 20))
    first = FindingFactory(audit=audit, number=1)
    second = FindingFactory(audit=audit, number=2)

    with pytest.raises(ValidationError, match="Findings 1, 2 are neither verified nor risk-accepted"):
        services.close_audit(audit=audit, actor=auditor)

    services.plan_remediation(finding=first, plan="Fix the abandon threshold", actor=auditor)
    services.mark_remediated(finding=first, evidence="Report of July with 5 s", actor=auditor)
    services.verify_finding(finding=first, actor=auditor)
    services.accept_risk(finding=second, actor=auditor, reason="Immaterial")

    assert services.close_audit(audit=audit, actor=auditor).status == AuditStatus.CLOSED


# Findings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("severity", "due"), [(Severity.CRITICAL, D(2025, 6, 30)), (Severity.LOW, D(2025, 9, 18))])
def test_a_findings_due_date_comes_from_the_clause_for_its_severity(auditor, severity, due):
    audit = AuditFactory(status=AuditStatus.REPORTED, report_date=D(2025, 6, 20))
    finding = services.record_finding(audit=audit, title="x", severity=severity, description="y", actor=auditor)
    assert (finding.number, finding.due_date, finding.status) == (1, due, FindingStatus.OPEN)


def test_a_findings_due_date_can_be_changed_with_a_reason_to_today_or_later(auditor):
    finding = FindingFactory()
    today = D(2025, 8, 1)
    with pytest.raises(ValidationError, match="Say why"):
        services.change_finding_due_date(finding=finding, due_date=D(2025, 9, 1), actor=auditor, reason="", today=today)
    with pytest.raises(ValidationError, match="A new due date is today or later"):
        services.change_finding_due_date(
            finding=finding, due_date=D(2025, 7, 31), actor=auditor, reason="Backdated", today=today
        )
    finding = services.change_finding_due_date(
        finding=finding, due_date=D(2025, 9, 1), actor=auditor, reason="Vendor holidays", today=today
    )
    assert finding.due_date == D(2025, 9, 1)


def test_a_financial_discrepancy_at_the_threshold_makes_the_audit_cost_recoverable(auditor):
    audit = AuditFactory(status=AuditStatus.FIELDWORK, audit_type=AuditType.FINANCIAL)  # threshold 5 %
    services.record_finding(
        audit=audit,
        title="Overbilled",
        severity=Severity.HIGH,
        description="x",
        discrepancy_pct=Decimal("4.999"),
        actor=auditor,
        today=D(2025, 6, 5),
    )
    audit.refresh_from_db()
    assert not audit.cost_recoverable

    services.record_finding(
        audit=audit,
        title="Overbilled",
        severity=Severity.HIGH,
        description="x",
        discrepancy_pct=Decimal("5.000"),
        actor=auditor,
        today=D(2025, 6, 5),
    )
    audit.refresh_from_db()
    assert audit.cost_recoverable


def test_a_finding_follows_its_states(auditor):
    finding = FindingFactory()
    with pytest.raises(ValidationError, match="cannot become Verified"):
        services.verify_finding(finding=finding, actor=auditor)
    finding = services.mark_remediated(finding=finding, evidence="Fixed", actor=auditor)
    assert finding.remediated_at is not None
    finding = services.verify_finding(finding=finding, actor=auditor)
    assert (finding.status, finding.verified_by) == (FindingStatus.VERIFIED, auditor)
    with pytest.raises(ValidationError, match="cannot become"):
        services.accept_risk(finding=finding, actor=auditor, reason="late")


def test_findings_are_recorded_only_during_fieldwork_or_in_the_report(auditor):
    with pytest.raises(ValidationError, match="during fieldwork"):
        services.record_finding(audit=AuditFactory(), title="x", severity=Severity.LOW, description="y", actor=auditor)


def test_a_finding_names_a_contact_of_the_audited_vendor_and_a_customer_side_owner(auditor):
    from audits.models import Finding
    from tests.factories import VendorContactFactory, VendorUserFactory

    audit = AuditFactory(status=AuditStatus.FIELDWORK)
    vendor = audit.audit_right.contract.vendor
    record = {"audit": audit, "title": "x", "severity": Severity.LOW, "description": "y", "actor": auditor}

    with pytest.raises(ValidationError, match="another vendor"):
        services.record_finding(**record, vendor_contact=VendorContactFactory())
    with pytest.raises(ValidationError, match="customer's side"):
        services.record_finding(**record, owner=VendorUserFactory(vendor=vendor))
    assert not Finding.objects.exists()
    own = VendorContactFactory(vendor=vendor)
    assert services.record_finding(**record, vendor_contact=own, owner=auditor).vendor_contact == own


def test_a_vendor_user_cannot_lead_an_audit(auditor):
    from tests.factories import VendorUserFactory

    right = AuditRightFactory()
    with pytest.raises(ValidationError, match="lead auditor is on the customer's side"):
        plan(right, auditor, lead_auditor=VendorUserFactory(vendor=right.contract.vendor))
    assert plan(right, auditor, lead_auditor=auditor).lead_auditor == auditor


# The vendor's answers -------------------------------------------------------------------------------


def snapshot(row) -> dict:
    row.refresh_from_db()
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


def test_a_vendor_user_of_the_findings_vendor_records_the_plan_and_the_remediation():
    from tests.factories import VendorUserFactory

    finding = FindingFactory()
    vendor_user = VendorUserFactory(vendor=finding.audit.audit_right.contract.vendor)

    services.plan_remediation(finding=finding, plan="Set short abandons to 5 s", actor=vendor_user)
    finding = services.mark_remediated(finding=finding, evidence="ACD export of 12 May", actor=vendor_user)

    assert (finding.status, finding.remediation_plan, finding.evidence) == (
        FindingStatus.REMEDIATED,
        "Set short abandons to 5 s",
        "ACD export of 12 May",
    )
    trail = [(r.history_user, r.history_change_reason) for r in finding.history.order_by("history_date")][-2:]
    assert trail == [(vendor_user, "Remediation planned"), (vendor_user, "Remediated")]


def test_a_vendor_user_verifies_accepts_no_risk_and_moves_no_due_date():
    from tests.factories import VendorUserFactory

    finding = FindingFactory(status=FindingStatus.REMEDIATED, evidence="ACD export")
    vendor_user = VendorUserFactory(vendor=finding.audit.audit_right.contract.vendor)
    before = snapshot(finding)

    with pytest.raises(PermissionDenied):
        services.verify_finding(finding=finding, actor=vendor_user)
    with pytest.raises(PermissionDenied):
        services.accept_risk(finding=finding, actor=vendor_user, reason="We disagree")
    with pytest.raises(PermissionDenied):
        services.change_finding_due_date(finding=finding, due_date=D(2025, 12, 31), actor=vendor_user, reason="Later")

    assert snapshot(finding) == before


@pytest.mark.parametrize(
    ("addressed_to_vendor", "of_the_findings_vendor"),
    [(True, False), (False, True)],
    ids=["another vendor's finding", "a finding not addressed to the vendor"],
)
def test_a_vendor_user_answers_no_finding_that_is_not_their_vendors(addressed_to_vendor, of_the_findings_vendor):
    from tests.factories import VendorFactory, VendorUserFactory

    finding = FindingFactory(addressed_to_vendor=addressed_to_vendor)
    findings_vendor = finding.audit.audit_right.contract.vendor
    vendor_user = VendorUserFactory(vendor=findings_vendor if of_the_findings_vendor else VendorFactory())
    before = snapshot(finding)

    with pytest.raises(PermissionDenied):
        services.plan_remediation(finding=finding, plan="Fix it", actor=vendor_user)
    with pytest.raises(PermissionDenied):
        services.mark_remediated(finding=finding, evidence="Fixed", actor=vendor_user)

    assert snapshot(finding) == before


def test_a_vendor_users_blank_plan_or_evidence_is_refused_and_nothing_is_written():
    from tests.factories import VendorUserFactory

    finding = FindingFactory()
    vendor_user = VendorUserFactory(vendor=finding.audit.audit_right.contract.vendor)
    before = snapshot(finding)

    with pytest.raises(ValidationError, match=r"Describe the remediation plan\."):
        services.plan_remediation(finding=finding, plan="  ", actor=vendor_user)
    with pytest.raises(ValidationError, match=r"Give the evidence of remediation\."):
        services.mark_remediated(finding=finding, evidence="", actor=vendor_user)

    assert snapshot(finding) == before


def test_a_customer_role_that_only_views_audits_takes_no_step():
    finding = FindingFactory()

    with pytest.raises(PermissionDenied):
        services.plan_remediation(finding=finding, plan="Fix it", actor=UserFactory(procurement=True))


# Selectors -----------------------------------------------------------------------------------------


def test_a_planned_audits_notice_is_due_a_week_before_the_last_day_to_send_it():
    audit = AuditFactory(notice_date=None)  # fieldwork 2 June, 30 days' notice → by 3 May
    assert latest_notice_date(audit) == D(2025, 5, 3)
    assert audits_with_notice_to_send(today=D(2025, 4, 25)) == []
    assert audits_with_notice_to_send(today=D(2025, 4, 26)) == [audit]
    assert audits_with_notice_to_send(today=D(2025, 4, 26))[0].notice_due_by == D(2025, 5, 3)


def test_findings_due_within_a_week_or_overdue():
    due = FindingFactory(due_date=D(2025, 8, 5))
    FindingFactory(due_date=D(2025, 8, 13))
    FindingFactory(due_date=D(2025, 8, 1), status=FindingStatus.REMEDIATED)
    assert list(findings_due(today=D(2025, 8, 1))) == [due]
