"""Audits within the contract's audit right, their transitions, and their findings' remediation."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits import services
from audits.choices import Auditor, AuditStatus, AuditType, FindingStatus, NoticeUnit, Severity
from audits.selectors import (
    allowance_uses,
    audit_right_ends_on,
    audits_with_notice_to_send,
    clause_changes_since,
    findings_due,
    latest_notice_date,
)
from contracts.choices import ContractStatus
from tests.factories import AuditFactory, AuditRightFactory, ContractFactory, FindingFactory, UserFactory

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


def test_fieldwork_before_the_notice_is_refused_as_such_not_as_a_negative_notice(auditor):
    with pytest.raises(ValidationError) as refusal:
        plan(AuditRightFactory(), auditor, start=D(2025, 4, 1), today=D(2025, 5, 2))

    message = refusal.value.message_dict["fieldwork_start"][0]
    assert message == (
        "The fieldwork would start on 04/01/2025, before the notice of 05/02/2025: "
        "the clause requires 30 calendar days of notice."
    )
    assert "-" not in message.split(":")[0]


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


def test_notice_in_business_days_counts_in_the_contracts_calendar(auditor):
    """Fieldwork on Friday 15 May 2026 under French law: 1 May, 8 May and Ascension (14 May) are no business
    days, so ten business days' notice goes out by Tuesday 28 April; the page's deadline and the reminder
    give that day, and the check refuses the next."""
    right = AuditRightFactory(
        notice=10, notice_unit=NoticeUnit.BUSINESS_DAYS, contract=ContractFactory(calendar_country="FR")
    )
    start = D(2026, 5, 15)
    with pytest.raises(ValidationError) as refusal:
        plan(right, auditor, start=start, today=D(2026, 4, 29))
    assert refusal.value.message_dict["fieldwork_start"] == [
        "Notice of 9 business days is shorter than the 10 business days (FR holiday calendar) required."
    ]

    audit = plan(right, auditor, start=start, today=D(2026, 4, 28))

    assert latest_notice_date(audit) == D(2026, 4, 28)
    (due,) = audits_with_notice_to_send(today=D(2026, 4, 27))
    assert due.notice_due_by == D(2026, 4, 28)
    with pytest.raises(ValidationError, match="Notice of 9 business days"):
        services.notify_audit(audit=audit, notice_date=D(2026, 4, 29), actor=auditor, today=D(2026, 4, 29))
    services.notify_audit(audit=audit, notice_date=D(2026, 4, 28), actor=auditor, today=D(2026, 4, 29))


def test_a_notice_given_on_a_weekend_counts_from_the_next_business_day_as_the_deadline_says(auditor):
    """The reminder and the check once disagreed: fieldwork on Friday 13 June 2025 with ten business days'
    notice, the deadline shown was Friday 30 May, yet a notice dated Saturday 31 May passed the check."""
    right = AuditRightFactory(notice=10, notice_unit=NoticeUnit.BUSINESS_DAYS)
    audit = plan(right, auditor, start=D(2025, 6, 13), today=D(2025, 5, 30))
    assert latest_notice_date(audit) == D(2025, 5, 30)

    for weekend_day in (D(2025, 5, 31), D(2025, 6, 1)):
        with pytest.raises(ValidationError) as refusal:
            services.notify_audit(audit=audit, notice_date=weekend_day, actor=auditor, today=D(2025, 6, 2))
        assert refusal.value.message_dict["notice_date"] == [
            "Notice of 9 business days is shorter than the 10 business days (Monday to Friday, no holiday calendar) "
            "required."
        ]
    services.notify_audit(audit=audit, notice_date=D(2025, 5, 30), actor=auditor, today=D(2025, 6, 2))


def test_fieldwork_before_a_business_day_notice_is_refused_as_such(auditor):
    right = AuditRightFactory(notice=10, notice_unit=NoticeUnit.BUSINESS_DAYS)
    with pytest.raises(ValidationError) as refusal:
        plan(right, auditor, start=D(2025, 4, 1), today=D(2025, 5, 2))
    assert refusal.value.message_dict["fieldwork_start"] == [
        "The fieldwork would start on 04/01/2025, before the notice of 05/02/2025: the clause requires 10 business "
        "days (Monday to Friday, no holiday calendar) of notice."
    ]


def test_more_audits_in_a_contract_year_than_allowed_are_refused(auditor):
    right = AuditRightFactory(audits_per_year=1)  # contract years from 1 January 2025
    plan(right, auditor)
    allowance = "1 audit already planned or held in the contract year 01/01/2025 – 12/31/2025"
    with pytest.raises(ValidationError, match=allowance):
        plan(right, auditor, reference="AUD-2", start=D(2025, 11, 3), today=D(2025, 9, 1))
    # The next contract year starts on the anniversary of the start date.
    plan(right, auditor, reference="AUD-3", start=D(2026, 1, 5), today=D(2025, 9, 1))


def test_an_audit_type_outside_the_clauses_scope_is_refused_under_its_field_naming_the_type(auditor):
    with pytest.raises(ValidationError) as refusal:
        plan(AuditRightFactory(), auditor, audit_type=AuditType.OPERATIONAL)
    assert refusal.value.message_dict["audit_type"] == ["The clause does not allow audits of this type (Operational)."]


def test_an_auditor_the_clause_does_not_allow_is_refused_under_its_field(auditor):
    with pytest.raises(ValidationError) as refusal:
        plan(AuditRightFactory(), auditor, auditor_kind=Auditor.REGULATOR)
    assert refusal.value.message_dict["auditor_kind"] == ["The clause does not allow this auditor (Regulator)."]


def test_the_scope_refusal_reads_in_french_for_every_type(auditor):
    from django.utils import translation

    with translation.override("fr"), pytest.raises(ValidationError) as refusal:
        plan(AuditRightFactory(), auditor, audit_type=AuditType.OPERATIONAL)
    message = refusal.value.message_dict["audit_type"][0]
    assert "a operational" not in message and "(Opérationnel)" in message


def test_a_plan_is_refused_with_every_problem_at_once_each_under_its_field(auditor):
    right = AuditRightFactory(clause_reference="§ 21.1")
    AuditFactory(audit_right=right, reference="AUD-TAKEN")

    with pytest.raises(ValidationError) as refusal:
        plan(
            right,
            auditor,
            reference="AUD-TAKEN",
            audit_type=AuditType.SECURITY,
            start=D(2025, 5, 12),  # 10 days' notice, in a year that already has its audit
            fieldwork_end=D(2025, 5, 9),  # before the start
        )

    errors = refusal.value.message_dict
    assert errors["fieldwork_end"] == ["Fieldwork cannot end before it starts."]
    assert errors["reference"] == ["An audit with this reference already exists."]
    assert errors["audit_type"] == ["The clause does not allow audits of this type (Security)."]
    assert errors["fieldwork_start"] == [
        "Notice of 10 calendar days is shorter than the 30 calendar days required.",
        "1 audit already planned or held in the contract year 01/01/2025 – 12/31/2025; the clause allows 1.",
    ]
    assert errors["audit_right"] == [f"§ 21.1: “{right.clause_text}”"]
    assert refusal.value.messages[-1] == f"§ 21.1: “{right.clause_text}”"  # the clause quoted last
    assert not right.audits.exclude(reference="AUD-TAKEN").exists()


def test_an_administrator_may_override_with_a_recorded_reason(admin, auditor):
    right = AuditRightFactory()
    plan(right, auditor)
    with pytest.raises(ValidationError) as refusal:
        plan(right, auditor, reference="AUD-2", override_reason="Regulator's demand")
    assert refusal.value.message_dict["override_reason"] == [
        "Only an administrator may allow an audit outside the contract's audit right."
    ]
    assert "1 audit already planned or held in the contract year" in refusal.value.message_dict["fieldwork_start"][0]

    audit = plan(right, admin, reference="AUD-2", override_reason="Regulator's written demand of 2 May")

    assert (audit.override_reason, audit.overridden_by) == ("Regulator's written demand of 2 May", admin)
    # The override stays with the audit: notifying it later is not refused again.
    audit = services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor)
    assert audit.status == AuditStatus.NOTIFIED


# The year's allowance: audits for cause come on top of it, every other audit counts --------------------


def test_an_audit_for_cause_comes_on_top_of_the_years_allowance(admin, auditor):
    right = AuditRightFactory()  # one audit per contract year
    cause = "Security incident of 28 April: customer data exposed"

    for_cause = plan(right, admin, audit_type=AuditType.SECURITY, for_cause=True, override_reason=cause)
    routine = plan(right, auditor, reference="AUD-2", start=D(2025, 9, 1))

    assert (for_cause.for_cause, for_cause.override_reason, for_cause.overridden_by) == (True, cause, admin)
    assert routine.for_cause is False
    # The routine audit uses up the year; the one for cause did not.
    with pytest.raises(ValidationError, match="1 audit already planned or held in the contract year 01/01/2025"):
        plan(right, auditor, reference="AUD-3", start=D(2025, 11, 3))


def test_a_routine_audit_allowed_by_an_override_counts_against_the_years_allowance(admin, auditor):
    right = AuditRightFactory()
    # Ten days' notice instead of the clause's thirty, accepted by the vendor: a routine audit all the same.
    short_notice = plan(right, admin, start=D(2025, 5, 12), override_reason="Vendor accepted 10 days' notice")

    with pytest.raises(ValidationError) as refusal:
        plan(right, auditor, reference="AUD-2", start=D(2025, 9, 1))

    assert short_notice.for_cause is False
    assert refusal.value.message_dict["fieldwork_start"] == [
        "1 audit already planned or held in the contract year 01/01/2025 – 12/31/2025; the clause allows 1."
    ]


def test_a_second_routine_audit_allowed_by_an_administrator_takes_the_place_of_a_cancelled_one(admin, auditor):
    right = AuditRightFactory()
    first = plan(right, auditor)
    plan(right, admin, reference="AUD-2", start=D(2025, 9, 1), override_reason="Second review agreed at the SteerCo")
    services.cancel_audit(audit=first, reason="Replaced by the September review", actor=auditor)

    with pytest.raises(ValidationError, match="1 audit already planned or held in the contract year 01/01/2025"):
        plan(right, auditor, reference="AUD-3", start=D(2025, 11, 3))


def test_only_an_administrator_holds_an_audit_for_cause_and_gives_its_cause(admin, auditor):
    right = AuditRightFactory()

    with pytest.raises(ValidationError) as by_auditor:
        plan(right, auditor, for_cause=True, override_reason="Suspected fraud")
    with pytest.raises(ValidationError) as without_cause:
        plan(right, admin, for_cause=True, override_reason="  ")

    assert by_auditor.value.message_dict == {
        "for_cause": ["Only an administrator may hold an audit for cause, on top of the year's allowance."]
    }
    assert without_cause.value.message_dict == {
        "override_reason": [
            "Give the cause of the audit (e.g. a security incident, a regulator's written demand, suspected fraud): "
            "it is kept on the audit."
        ]
    }
    assert not right.audits.exists()


def test_an_audit_for_cause_the_clause_would_allow_keeps_its_cause_and_who_decided(admin):
    audit = plan(AuditRightFactory(), admin, for_cause=True, override_reason="Regulator's written demand of 2 May")

    assert (audit.for_cause, audit.override_reason, audit.overridden_by) == (
        True,
        "Regulator's written demand of 2 May",
        admin,
    )
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason, record.for_cause) == (admin, "Planned (override)", True)


def test_notifying_or_moving_an_audit_within_its_year_does_not_count_the_audits_allowed_on_top_of_it(admin, auditor):
    right = AuditRightFactory()
    first = plan(right, auditor)
    plan(right, admin, reference="AUD-2", start=D(2025, 9, 1), override_reason="Second review agreed at the SteerCo")

    moved = services.reschedule_audit(
        audit=first,
        fieldwork_start=D(2025, 6, 16),
        fieldwork_end=D(2025, 6, 20),
        reason="Vendor's site move",
        actor=auditor,
        today=D(2025, 5, 10),
    )
    notified = services.notify_audit(audit=moved, notice_date=D(2025, 5, 10), actor=auditor, today=D(2025, 5, 10))

    assert (notified.status, notified.fieldwork_start, notified.override_reason) == (
        AuditStatus.NOTIFIED,
        D(2025, 6, 16),
        "",
    )


def test_the_allowance_use_counts_the_routine_audits_of_the_year_and_those_for_cause_apart(
    admin, auditor, django_assert_num_queries
):
    from audits.selectors import AllowanceUse

    right = AuditRightFactory(audits_per_year=2)
    other = AuditRightFactory(contract=right.contract)
    plan(right, auditor, reference="ROUTINE")
    plan(right, admin, reference="OVERRIDDEN", start=D(2025, 5, 12), override_reason="Vendor accepted short notice")
    plan(right, admin, reference="CAUSE", start=D(2025, 7, 7), for_cause=True, override_reason="Material breach")
    cancelled = plan(right, admin, reference="CANCELLED", start=D(2025, 8, 4), for_cause=True, override_reason="Fraud")
    services.cancel_audit(audit=cancelled, reason="Fraud not confirmed", actor=admin)
    plan(right, auditor, reference="NEXT-YEAR", start=D(2026, 2, 2))

    with django_assert_num_queries(1):
        uses = allowance_uses([right, other], D(2025, 10, 1))

    year = (D(2025, 1, 1), D(2025, 12, 31))
    assert uses == {right.pk: AllowanceUse(*year, 2, 2, 1), other.pk: AllowanceUse(*year, 1, 0, 0)}


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


@pytest.mark.parametrize("status", [AuditStatus.PLANNED, AuditStatus.NOTIFIED])
def test_a_report_before_the_fieldwork_has_started_is_refused_saying_so(auditor, status):
    audit = AuditFactory(status=status, notice_date=None if status == AuditStatus.PLANNED else D(2025, 5, 2))
    before = snapshot(audit)

    with pytest.raises(ValidationError) as refusal:
        services.report_audit(
            audit=audit, report_date=D(2025, 6, 3), report_summary="Nothing found", actor=auditor, today=D(2025, 6, 3)
        )

    assert refusal.value.messages == [
        f"The fieldwork has not started (the audit is {status}): the report is recorded once it has, "
        "from 06/02/2025 on."
    ]
    assert services.report_refusal(audit) == refusal.value.messages[0]
    assert snapshot(audit) == before


def test_a_report_may_come_before_the_planned_end_of_a_fieldwork_that_ended_early(auditor):
    audit = AuditFactory(status=AuditStatus.FIELDWORK)  # fieldwork planned 2 – 6 June 2025

    reported = services.report_audit(
        audit=audit, report_date=D(2025, 6, 3), report_summary="Ended early", actor=auditor, today=D(2025, 6, 3)
    )

    assert services.report_refusal(audit) is None
    assert (reported.status, reported.report_date, reported.fieldwork_end) == (
        AuditStatus.REPORTED,
        D(2025, 6, 3),
        D(2025, 6, 6),
    )


def test_an_audit_cannot_skip_a_step(auditor):
    audit = AuditFactory()
    with pytest.raises(ValidationError, match="this step needs the status Notified"):
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
    finding = services.record_finding(
        audit=audit, title="x", severity=severity, description="y", actor=auditor, today=D(2025, 6, 20)
    )
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


def test_a_due_date_reason_that_the_history_cannot_hold_is_refused_not_cut_short(auditor):
    finding = FindingFactory()
    due_before = finding.due_date
    today = D(2025, 8, 1)

    with pytest.raises(ValidationError) as refusal:
        services.change_finding_due_date(
            finding=finding, due_date=D(2025, 9, 1), actor=auditor, reason="x" * 76, today=today
        )

    assert refusal.value.message_dict == {
        "reason": ["At most 75 characters: the reason is kept in the finding's history."]
    }
    finding.refresh_from_db()
    assert (finding.due_date, finding.due_date_set_by_hand) == (due_before, False)
    finding = services.change_finding_due_date(
        finding=finding, due_date=D(2025, 9, 1), actor=auditor, reason=" " + "y" * 75 + " ", today=today
    )
    assert finding.history.latest().history_change_reason == "Due date 2025-09-01: " + "y" * 75


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


# Audit rights are contract terms ---------------------------------------------------------------------


def test_an_auditor_may_not_change_or_add_an_audit_right(auditor):
    right = AuditRightFactory(audits_per_year=1, notice=30)

    with pytest.raises(PermissionDenied):
        services.change_audit_right(right=right, changes={"audits_per_year": 5, "notice": 0}, actor=auditor)
    with pytest.raises(PermissionDenied):
        services.create_audit_right(
            contract=right.contract, clause_reference="§ 99", audits_per_year=9, notice=0, actor=auditor
        )

    right.refresh_from_db()
    assert (right.audits_per_year, right.notice, right.history.count()) == (1, 30, 1)


def test_who_edits_contract_terms_changes_an_audit_right_with_its_history():
    right = AuditRightFactory(audits_per_year=1)
    owner = right.contract.owner  # a vendor manager: edits contract terms

    right = services.change_audit_right(right=right, changes={"audits_per_year": 2}, actor=owner)

    assert right.audits_per_year == 2
    record = right.history.latest()
    assert (record.history_user, record.history_change_reason) == (owner, "Changed: audits_per_year")


def test_a_clause_audits_were_planned_under_changes_only_with_a_reason(auditor, admin):
    right = AuditRightFactory(audits_per_year=1)
    audit = plan(right, auditor)

    with pytest.raises(ValidationError) as refusal:
        services.change_audit_right(right=right, changes={"audits_per_year": 5}, actor=admin, reason=" ")
    assert list(refusal.value.error_dict) == ["change_reason"]
    right.refresh_from_db()
    assert right.audits_per_year == 1

    services.change_audit_right(right=right, changes={"audits_per_year": 2}, actor=admin, reason="Amendment 3")

    (change,) = clause_changes_since(right, audit.created_at)
    assert (change.changed_by, change.reason, change.fields) == (
        admin,
        "Amendment 3",
        ("audits allowed per contract year",),
    )


def test_an_audit_right_stays_with_its_contract_and_an_empty_change_writes_nothing(admin):
    from tests.factories import ContractFactory

    right = AuditRightFactory()

    with pytest.raises(ValidationError) as refusal:
        services.change_audit_right(right=right, changes={"contract": ContractFactory()}, actor=admin)
    assert list(refusal.value.error_dict) == ["contract"]
    services.change_audit_right(right=right, changes={"notice": right.notice}, actor=admin)
    assert right.history.count() == 1


# Cancelling an audit ---------------------------------------------------------------------------------


def test_a_cancelled_audit_no_longer_uses_up_the_years_allowance(auditor):
    right = AuditRightFactory(audits_per_year=1)
    abandoned = plan(right, auditor)

    cancelled = services.cancel_audit(audit=abandoned, reason="Vendor site closed for works", actor=auditor)

    assert (cancelled.status, cancelled.cancellation_reason, cancelled.cancelled_by) == (
        AuditStatus.CANCELLED,
        "Vendor site closed for works",
        auditor,
    )
    assert cancelled.cancelled_at is not None
    record = cancelled.history.latest()
    assert (record.history_user, record.history_change_reason) == (auditor, "Cancelled: Vendor site closed for works")
    assert plan(right, auditor, reference="AUD-2", start=D(2025, 9, 1), today=D(2025, 7, 1)).pk


def test_a_notified_audit_is_cancelled_but_not_one_in_fieldwork_nor_without_a_reason(auditor):
    notified = AuditFactory(status=AuditStatus.NOTIFIED)
    fieldwork = AuditFactory(status=AuditStatus.FIELDWORK)

    with pytest.raises(ValidationError) as refusal:
        services.cancel_audit(audit=notified, reason="  ", actor=auditor)
    assert list(refusal.value.error_dict) == ["reason"]
    with pytest.raises(ValidationError, match="Fieldwork: only a planned or notified audit can be cancelled"):
        services.cancel_audit(audit=fieldwork, reason="Too late", actor=auditor)
    fieldwork.refresh_from_db()
    assert fieldwork.status == AuditStatus.FIELDWORK

    assert services.cancel_audit(audit=notified, reason="Regulator audit instead", actor=auditor).status == (
        AuditStatus.CANCELLED
    )


# Due dates count from the report ---------------------------------------------------------------------


def _in_fieldwork(auditor):
    audit = plan(AuditRightFactory(), auditor)
    audit = services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor, today=D(2025, 5, 2))
    return services.start_fieldwork(audit=audit, actor=auditor, today=FIELDWORK_START)


def test_the_report_counts_the_clauses_due_dates_from_its_date(auditor):
    audit = _in_fieldwork(auditor)
    record = {"audit": audit, "severity": Severity.HIGH, "description": "y", "actor": auditor}
    early = services.record_finding(**record, title="early", today=D(2025, 6, 2))
    late = services.record_finding(**record, title="late", today=D(2025, 6, 5))
    moved = services.record_finding(**record, title="moved", today=D(2025, 6, 2))
    services.change_finding_due_date(
        finding=moved, due_date=D(2025, 12, 31), reason="Vendor's new release", actor=auditor, today=D(2025, 6, 3)
    )
    settled = services.record_finding(**record, title="settled", today=D(2025, 6, 2))
    services.accept_risk(finding=settled, reason="Immaterial", actor=auditor)
    assert (early.due_date, late.due_date) == (D(2025, 7, 2), D(2025, 7, 5))

    services.report_audit(
        audit=audit, report_date=D(2025, 6, 20), report_summary="x", actor=auditor, today=D(2025, 6, 20)
    )

    for finding in (early, late, moved, settled):
        finding.refresh_from_db()
    # High: the clause's 30 days from the report, for both; the date set by hand and the settled one stay.
    assert (early.due_date, late.due_date) == (D(2025, 7, 20), D(2025, 7, 20))
    assert (moved.due_date, settled.due_date) == (D(2025, 12, 31), D(2025, 7, 2))
    trail = early.history.latest()
    assert (trail.history_user, trail.history_change_reason) == (
        auditor,
        "Due date 2025-07-20: counted from the report of 2025-06-20",
    )
    # A finding recorded after the report counts from its recording day: it is not born overdue.
    after = services.record_finding(**record_args(audit, auditor), today=D(2025, 6, 25))
    assert (after.recorded_on, after.due_date) == (D(2025, 6, 25), D(2025, 7, 25))


def record_args(audit, auditor) -> dict:
    return {"audit": audit, "title": "after", "severity": Severity.HIGH, "description": "y", "actor": auditor}


def test_a_due_date_is_not_an_input_when_a_finding_is_recorded(auditor):
    audit = AuditFactory(status=AuditStatus.REPORTED, report_date=D(2025, 6, 20))
    with pytest.raises(TypeError):
        services.record_finding(**record_args(audit, auditor), due_date=D(2020, 1, 1))
    assert not audit.findings.exists()


# Settled findings are frozen ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", FindingStatus.settled_values())
def test_a_settled_finding_can_no_longer_be_changed(auditor, status):
    finding = FindingFactory(
        status=status, verified_by=auditor, verified_at=datetime.datetime(2025, 8, 1, tzinfo=datetime.UTC)
    )
    before = snapshot(finding)

    with pytest.raises(ValidationError) as refusal:
        services.update_finding(
            finding=finding, changes={"title": "Nothing happened", "severity": Severity.LOW}, actor=auditor
        )

    assert sorted(refusal.value.error_dict) == ["severity", "title"]
    assert "a settled finding can no longer be changed" in refusal.value.messages[0]
    assert snapshot(finding) == before


def test_an_open_finding_is_corrected_with_its_history_and_a_new_severity_moves_its_clause_due_date(auditor):
    audit = AuditFactory(status=AuditStatus.REPORTED, report_date=D(2025, 6, 20))
    finding = services.record_finding(**record_args(audit, auditor), today=D(2025, 6, 20))  # high: 30 days → 20 July

    finding = services.update_finding(
        finding=finding, changes={"title": "Late reports", "severity": Severity.LOW}, actor=auditor
    )

    assert (finding.title, finding.due_date) == ("Late reports", D(2025, 9, 18))  # low: 90 days from the report
    record = finding.history.latest()
    assert (record.history_user, record.history_change_reason) == (auditor, "Changed: title, severity")


# Why a risk was accepted, what a verification checked ------------------------------------------------


def test_the_risk_acceptance_reason_and_the_verification_note_are_kept_on_the_finding(auditor):
    accepted = services.accept_risk(finding=FindingFactory(), reason="Tool retired in June " * 10, actor=auditor)
    remediated = FindingFactory(status=FindingStatus.REMEDIATED)
    verified = services.verify_finding(finding=remediated, note="Checked the July ACD export", actor=auditor)

    assert accepted.risk_acceptance_reason == ("Tool retired in June " * 10).strip()  # in full, not cut at 100
    assert verified.verification_note == "Checked the July ACD export"


# A finding recorded after the report is not born overdue ----------------------------------------------


def test_a_finding_recorded_weeks_after_the_report_counts_its_days_from_the_day_it_is_recorded(auditor):
    audit = AuditFactory(status=AuditStatus.REPORTED, report_date=D(2026, 10, 13))

    finding = services.record_finding(**record_args(audit, auditor), today=D(2026, 11, 27))

    # High: 30 days from 27 November, not from the report of 13 October (11 December would be already past).
    assert (finding.recorded_on, finding.due_date) == (D(2026, 11, 27), D(2026, 12, 27))


def test_a_report_dated_before_a_findings_recording_counts_that_finding_from_its_recording(auditor, admin):
    audit = _in_fieldwork(auditor)
    early = services.record_finding(**record_args(audit, auditor), today=D(2025, 6, 3))
    late = services.record_finding(**record_args(audit, auditor), today=D(2025, 6, 12))
    services.change_audit_right(
        right=audit.audit_right, changes={"remediation_days_high": 20}, reason="Amendment 2", actor=admin
    )

    # The report is written on 20 June but dated 6 June, before the second finding was recorded.
    services.report_audit(
        audit=audit, report_date=D(2025, 6, 6), report_summary="x", actor=auditor, today=D(2025, 6, 20)
    )

    early.refresh_from_db()
    late.refresh_from_db()
    # High: the amended 20 days, from the report for the first, from its recording for the second.
    assert (early.due_date, late.due_date) == (D(2025, 6, 26), D(2025, 7, 2))
    assert early.history.latest().history_change_reason == "Due date 2025-06-26: counted from the report of 2025-06-06"
    assert late.history.latest().history_change_reason == (
        "Due date 2025-07-02: counted from its recording on 2025-06-12, after the report"
    )


def test_a_new_severity_counts_from_the_same_day_as_the_recording(auditor):
    audit = AuditFactory(status=AuditStatus.REPORTED, report_date=D(2026, 10, 13))
    finding = services.record_finding(**record_args(audit, auditor), today=D(2026, 11, 27))

    finding = services.update_finding(finding=finding, changes={"severity": Severity.CRITICAL}, actor=auditor)

    assert finding.due_date == D(2026, 12, 7)  # critical: 10 days from 27 November


def test_a_findings_own_problems_are_refused_together_under_their_fields(auditor):
    from tests.factories import VendorContactFactory, VendorUserFactory

    audit = AuditFactory(status=AuditStatus.FIELDWORK)

    with pytest.raises(ValidationError) as refusal:
        services.record_finding(
            **record_args(audit, auditor),
            recovery_amount=Decimal("-50"),
            discrepancy_pct=Decimal("-1"),
            vendor_contact=VendorContactFactory(),
            owner=VendorUserFactory(vendor=audit.audit_right.contract.vendor),
            today=D(2025, 6, 5),
        )

    errors = refusal.value.message_dict
    assert errors["recovery_amount"] == ["The amount to recover cannot be negative."]
    assert set(errors) == {"recovery_amount", "discrepancy_pct", "vendor_contact", "owner"}
    assert not audit.findings.exists()


# Steps offered only when they can succeed ------------------------------------------------------------


def test_the_fieldwork_start_and_the_close_say_why_they_cannot_run_yet(auditor):
    notified = AuditFactory(status=AuditStatus.NOTIFIED, fieldwork_start=D(2027, 1, 11), fieldwork_end=D(2027, 1, 13))
    assert "it cannot start earlier" in services.start_fieldwork_refusal(notified, today=D(2026, 11, 27))
    assert services.start_fieldwork_refusal(notified, today=D(2027, 1, 11)) is None

    reported = AuditFactory(status=AuditStatus.REPORTED, report_date=D(2025, 6, 20))
    assert services.close_refusal(reported) is None
    FindingFactory(audit=reported, number=4)
    assert services.close_refusal(reported) == "Finding 4 is neither verified nor risk-accepted; the audit stays open."


# Rescheduling the fieldwork -------------------------------------------------------------------------------


def test_a_planned_audits_fieldwork_is_rescheduled_with_its_reason_in_the_history(auditor):
    audit = plan(AuditRightFactory(), auditor)  # fieldwork 2 – 6 June 2025, planned on 2 May

    audit = services.reschedule_audit(
        audit=audit,
        fieldwork_start=D(2025, 6, 16),
        fieldwork_end=D(2025, 6, 18),
        reason="The vendor's site moves on 2 June " * 5,
        actor=auditor,
        today=D(2025, 5, 10),
    )

    assert (audit.fieldwork_start, audit.fieldwork_end, audit.status) == (
        D(2025, 6, 16),
        D(2025, 6, 18),
        AuditStatus.PLANNED,
    )
    assert audit.reschedule_reason == ("The vendor's site moves on 2 June " * 5).strip()  # in full
    record = audit.history.latest()
    assert record.history_user == auditor
    assert record.history_change_reason.startswith("Rescheduled from 2025-06-02 – 2025-06-06: The vendor's site")
    from audits.selectors import fieldwork_moves

    (move,) = fieldwork_moves(audit)
    assert (move.former_start, move.former_end, move.moved_by, move.reason) == (
        D(2025, 6, 2),
        D(2025, 6, 6),
        auditor,
        audit.reschedule_reason,
    )


def test_a_planned_audits_new_dates_need_the_notice_from_today(auditor):
    audit = plan(AuditRightFactory(), auditor)
    before = snapshot(audit)

    with pytest.raises(ValidationError) as refusal:
        services.reschedule_audit(
            audit=audit,
            fieldwork_start=D(2025, 5, 26),
            fieldwork_end=D(2025, 5, 28),
            reason="Earlier",
            actor=auditor,
            today=D(2025, 5, 10),
        )

    errors = refusal.value.message_dict
    assert errors["fieldwork_start"] == ["Notice of 16 calendar days is shorter than the 30 calendar days required."]
    assert errors["audit_right"][0].startswith(audit.audit_right.clause_reference)
    assert snapshot(audit) == before


def test_a_notified_audits_new_dates_count_the_notice_from_the_one_sent(auditor):
    audit = plan(AuditRightFactory(), auditor)
    audit = services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor, today=D(2025, 5, 2))

    # 30 days from the notice of 2 May: 1 June is enough, 31 May is not.
    with pytest.raises(ValidationError, match="Notice of 29 calendar days"):
        services.reschedule_audit(
            audit=audit,
            fieldwork_start=D(2025, 5, 31),
            fieldwork_end=D(2025, 6, 4),
            reason="Earlier",
            actor=auditor,
            today=D(2025, 5, 20),
        )
    audit = services.reschedule_audit(
        audit=audit,
        fieldwork_start=D(2025, 6, 23),
        fieldwork_end=D(2025, 6, 25),
        reason="Vendor's request",
        actor=auditor,
        today=D(2025, 5, 20),
    )
    assert (audit.status, audit.notice_date, audit.fieldwork_start) == (
        AuditStatus.NOTIFIED,
        D(2025, 5, 2),
        D(2025, 6, 23),
    )


def test_rescheduling_into_a_full_contract_year_is_refused_unless_an_administrator_overrides(auditor, admin):
    right = AuditRightFactory()  # one audit per contract year (from 1 January)
    plan(right, auditor, reference="AUD-2026", start=D(2026, 3, 2), today=D(2025, 9, 1))
    audit = plan(right, auditor, start=D(2025, 11, 3), today=D(2025, 9, 1))
    move = {"fieldwork_start": D(2026, 1, 12), "fieldwork_end": D(2026, 1, 14), "today": D(2025, 9, 2)}

    with pytest.raises(ValidationError) as refusal:
        services.reschedule_audit(audit=audit, reason="Busy season", actor=auditor, override_reason="Please", **move)
    assert (
        "1 audit already planned or held in the contract year 01/01/2026 – 12/31/2026"
        in refusal.value.message_dict["fieldwork_start"][0]
    )
    assert refusal.value.message_dict["override_reason"] == [
        "Only an administrator may allow an audit outside the contract's audit right."
    ]

    audit = services.reschedule_audit(
        audit=audit, reason="Busy season", actor=admin, override_reason="Regulator's demand", **move
    )
    assert (audit.fieldwork_start, audit.override_reason, audit.overridden_by) == (
        D(2026, 1, 12),
        "Regulator's demand",
        admin,
    )
    assert "(override)" in audit.history.latest().history_change_reason


def test_a_reschedule_names_every_problem_of_its_input_at_once(auditor):
    audit = plan(AuditRightFactory(), auditor)

    with pytest.raises(ValidationError) as refusal:
        services.reschedule_audit(
            audit=audit,
            fieldwork_start=D(2025, 7, 7),
            fieldwork_end=D(2025, 7, 1),
            reason="  ",
            actor=auditor,
            today=D(2025, 5, 10),
        )

    assert refusal.value.message_dict == {
        "reason": ["Say why the fieldwork is rescheduled."],
        "fieldwork_end": ["Fieldwork cannot end before it starts."],
    }


@pytest.mark.parametrize(
    ("start", "message"),
    [(D(2025, 5, 9), "cannot move into the past"), (FIELDWORK_START, "already the fieldwork's dates")],
)
def test_the_fieldwork_moves_to_other_dates_from_today_on(auditor, start, message):
    audit = plan(AuditRightFactory(), auditor)

    with pytest.raises(ValidationError, match=message) as refusal:
        services.reschedule_audit(
            audit=audit,
            fieldwork_start=start,
            fieldwork_end=FIELDWORK_START + datetime.timedelta(days=4),
            reason="Why not",
            actor=auditor,
            today=D(2025, 5, 10),
        )
    assert list(refusal.value.message_dict) == ["fieldwork_start"]


@pytest.mark.parametrize("status", [AuditStatus.FIELDWORK, AuditStatus.REPORTED, AuditStatus.CANCELLED])
def test_only_an_audit_before_its_fieldwork_is_rescheduled(auditor, status):
    audit = AuditFactory(
        status=status,
        cancellation_reason="x" if status == AuditStatus.CANCELLED else "",
        cancelled_by=auditor if status == AuditStatus.CANCELLED else None,
        cancelled_at=datetime.datetime(2025, 5, 1, tzinfo=datetime.UTC) if status == AuditStatus.CANCELLED else None,
    )

    with pytest.raises(ValidationError, match="only the fieldwork of a planned or notified audit can be rescheduled"):
        services.reschedule_audit(
            audit=audit,
            fieldwork_start=D(2025, 7, 7),
            fieldwork_end=D(2025, 7, 9),
            reason="Later",
            actor=auditor,
            today=D(2025, 5, 10),
        )


# An audit lies within the contract's life ----------------------------------------------------------------


def test_fieldwork_before_the_contract_starts_is_refused_even_to_an_administrator(admin):
    right = AuditRightFactory(contract=ContractFactory(start_date=D(2026, 1, 1)))

    with pytest.raises(ValidationError) as refusal:
        plan(
            right,
            admin,
            start=D(2025, 12, 1),
            fieldwork_end=D(2026, 1, 9),
            override_reason="Regulator's written demand",
        )

    assert refusal.value.message_dict == {
        "fieldwork_start": ["The fieldwork cannot start before the contract, which starts on 01/01/2026."]
    }
    assert not right.audits.exists()


def _ended_contract(**values):
    """A contract from 2019 whose three-year term ended on 31 December 2021."""
    return ContractFactory(start_date=D(2019, 1, 1), status=ContractStatus.EXPIRED, **values)


def test_the_audit_right_survives_the_contracts_end_for_its_records_retention(auditor):
    right = AuditRightFactory(contract=_ended_contract(), records_retention_years=3)

    within = plan(right, auditor, start=D(2024, 12, 16), today=D(2024, 11, 1))
    with pytest.raises(ValidationError) as refusal:
        plan(right, auditor, reference="AUD-2", start=D(2024, 12, 30), today=D(2024, 11, 1))

    assert audit_right_ends_on(right) == D(2024, 12, 31)
    assert within.fieldwork_end == D(2024, 12, 20)
    assert refusal.value.message_dict["fieldwork_end"] == [
        "The audit right ends on 12/31/2024, 3 years after the contract's end on 12/31/2021 (its records "
        "retention): the fieldwork ends by then."
    ]


def test_an_audit_right_without_retention_ends_with_the_contracts_last_day_of_service(auditor):
    contract = ContractFactory(status=ContractStatus.TERMINATED, terminated_on=D(2025, 6, 30))
    right = AuditRightFactory(contract=contract, records_retention_years=0)

    with pytest.raises(ValidationError) as refusal:
        plan(right, auditor, start=D(2025, 6, 27))  # until 1 July

    assert refusal.value.message_dict["fieldwork_end"] == [
        "The audit right ends with the contract, on 06/30/2025: the fieldwork ends by then."
    ]


def test_a_notice_or_a_move_beyond_the_audit_right_is_refused(auditor):
    contract = ContractFactory()
    right = AuditRightFactory(contract=contract, records_retention_years=0)
    audit = plan(right, auditor)  # fieldwork 2 – 6 June 2025
    # The contract was terminated after the audit was planned: its last day of service is before the fieldwork.
    contract.status, contract.terminated_on = ContractStatus.TERMINATED, D(2025, 5, 31)
    contract.save()
    before = snapshot(audit)

    with pytest.raises(ValidationError) as notice:
        services.notify_audit(audit=audit, notice_date=D(2025, 5, 2), actor=auditor, today=D(2025, 5, 2))
    with pytest.raises(ValidationError) as move:
        services.reschedule_audit(
            audit=audit,
            fieldwork_start=D(2025, 6, 9),
            fieldwork_end=D(2025, 6, 11),
            reason="Later",
            actor=auditor,
            today=D(2025, 5, 2),
        )

    ended = "The audit right ends with the contract, on 05/31/2025: the fieldwork ends by then."
    assert notice.value.message_dict == {"fieldwork_end": [ended]}
    assert move.value.message_dict == {"fieldwork_end": [ended]}
    assert snapshot(audit) == before


# Correcting an audit's record --------------------------------------------------------------------------


def test_an_audits_record_is_corrected_with_its_history(auditor):
    audit = AuditFactory()

    services.update_audit(
        audit=audit,
        changes={"scope_description": "Abandon counts, Q1", "cost": Decimal("12000.00"), "cost_currency": "EUR"},
        actor=auditor,
    )

    record = audit.history.latest()
    assert (record.cost, record.cost_currency, record.history_user) == (Decimal("12000.00"), "EUR", auditor)
    assert record.history_change_reason == "Changed: scope_description, cost, cost_currency"


def test_a_recorded_costs_currency_does_not_change(auditor):
    audit = AuditFactory(cost=Decimal("12000.00"), cost_currency="EUR")
    before = snapshot(audit)

    for changes in ({"cost_currency": "GBP"}, {"cost": Decimal("10300.00"), "cost_currency": "GBP"}):
        with pytest.raises(ValidationError) as refusal:
            services.update_audit(audit=audit, changes=changes, actor=auditor)
        assert refusal.value.message_dict == {
            "cost_currency": ["A cost of €12,000.00 is recorded: its currency does not change."]
        }
    assert snapshot(audit) == before
    # The amount itself is corrected in its currency.
    assert services.update_audit(audit=audit, changes={"cost": Decimal("12500.00")}, actor=auditor).cost == Decimal(
        "12500.00"
    )


def test_a_cost_is_recorded_with_its_currency_and_not_negative(auditor):
    audit = AuditFactory()
    before = snapshot(audit)

    with pytest.raises(ValidationError) as no_currency:
        services.update_audit(audit=audit, changes={"cost": Decimal("12000.00")}, actor=auditor)
    with pytest.raises(ValidationError) as negative:
        services.update_audit(audit=audit, changes={"cost": Decimal("-1.00"), "cost_currency": "EUR"}, actor=auditor)

    assert no_currency.value.message_dict == {"cost_currency": ["A cost is recorded with its currency."]}
    assert negative.value.message_dict == {"cost": ["A cost cannot be negative."]}
    assert snapshot(audit) == before


# An override covers what it was given for -----------------------------------------------------------------

FORMER_DATES = (
    "The earlier override was given for the former dates; an administrator must give a reason again to allow "
    "these dates."
)
FORMER_NOTICE = (
    "The earlier override was given for the notice as it stood then; an administrator must give a reason again "
    "to allow this notice."
)


def overridden_second_audit(right, admin, auditor):
    """The year's routine audit, then a second one in November 2025 that an administrator allowed on top."""
    plan(right, auditor, reference="AUD-FIRST", start=D(2025, 10, 6), today=D(2025, 9, 1))
    return plan(
        right,
        admin,
        reference="AUD-SECOND",
        start=D(2025, 11, 3),
        today=D(2025, 9, 1),
        override_reason="Second review agreed at the SteerCo",
    )


def test_an_overridden_audit_moved_into_a_full_year_is_refused_without_a_new_reason(admin, auditor):
    right = AuditRightFactory()  # one audit per contract year (from 1 January)
    audit = overridden_second_audit(right, admin, auditor)
    plan(right, auditor, reference="AUD-2026", start=D(2026, 3, 2), today=D(2025, 9, 1))
    before = snapshot(audit)
    move = {"fieldwork_start": D(2026, 1, 12), "fieldwork_end": D(2026, 1, 14), "today": D(2025, 9, 2)}

    for actor in (auditor, admin):
        with pytest.raises(ValidationError) as refusal:
            services.reschedule_audit(audit=audit, reason="Busy season", actor=actor, **move)
        errors = refusal.value.message_dict
        assert errors["fieldwork_start"] == [
            "1 audit already planned or held in the contract year 01/01/2026 – 12/31/2026; the clause allows 1."
        ]
        assert errors["override_reason"] == [FORMER_DATES]
        assert errors["audit_right"] == [f"{right.clause_reference}: “{right.clause_text}”"]
        assert snapshot(audit) == before


def test_an_overridden_audit_moved_into_a_full_year_is_allowed_by_an_administrators_new_reason(admin, auditor):
    right = AuditRightFactory()
    audit = overridden_second_audit(right, admin, auditor)
    plan(right, auditor, reference="AUD-2026", start=D(2026, 3, 2), today=D(2025, 9, 1))
    other_admin = UserFactory(administrator=True)

    audit = services.reschedule_audit(
        audit=audit,
        fieldwork_start=D(2026, 1, 12),
        fieldwork_end=D(2026, 1, 14),
        reason="Busy season",
        actor=other_admin,
        override_reason="Regulator's written demand of 1 September",
        today=D(2025, 9, 2),
    )

    assert (audit.fieldwork_start, audit.override_reason, audit.overridden_by) == (
        D(2026, 1, 12),
        "Regulator's written demand of 1 September",
        other_admin,
    )
    latest, earlier = audit.history.order_by("-history_date", "-history_id")[:2]
    assert (latest.history_user, latest.history_change_reason) == (
        other_admin,
        "Rescheduled from 2025-11-03 – 2025-11-07 (override): Busy season",
    )
    assert (earlier.override_reason, earlier.overridden_by_id) == ("Second review agreed at the SteerCo", admin.pk)


def test_a_non_administrator_cannot_give_the_new_override(admin, auditor):
    right = AuditRightFactory()
    audit = overridden_second_audit(right, admin, auditor)
    plan(right, auditor, reference="AUD-2026", start=D(2026, 3, 2), today=D(2025, 9, 1))
    before = snapshot(audit)

    with pytest.raises(ValidationError) as refusal:
        services.reschedule_audit(
            audit=audit,
            fieldwork_start=D(2026, 1, 12),
            fieldwork_end=D(2026, 1, 14),
            reason="Busy season",
            actor=auditor,
            override_reason="The vendor agreed",
            today=D(2025, 9, 2),
        )

    assert refusal.value.message_dict["override_reason"] == [
        "Only an administrator may allow an audit outside the contract's audit right."
    ]
    assert snapshot(audit) == before


def test_an_overridden_audit_moved_to_dates_the_clause_allows_keeps_its_override(admin, auditor):
    right = AuditRightFactory()
    audit = overridden_second_audit(right, admin, auditor)

    # Within its contract year it keeps its place; 41 days of notice from today.
    audit = services.reschedule_audit(
        audit=audit,
        fieldwork_start=D(2025, 11, 17),
        fieldwork_end=D(2025, 11, 19),
        reason="Auditor on leave",
        actor=auditor,
        today=D(2025, 10, 7),
    )

    assert (audit.fieldwork_start, audit.override_reason, audit.overridden_by) == (
        D(2025, 11, 17),
        "Second review agreed at the SteerCo",
        admin,
    )
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason) == (
        auditor,
        "Rescheduled from 2025-11-03 – 2025-11-07: Auditor on leave",
    )


def test_a_short_notice_override_does_not_cover_a_move_that_shortens_the_notice_again(admin, auditor):
    audit = plan(AuditRightFactory(), admin, start=D(2025, 5, 12), override_reason="Vendor accepted 10 days' notice")
    before = snapshot(audit)

    with pytest.raises(ValidationError) as refusal:
        services.reschedule_audit(
            audit=audit,
            fieldwork_start=D(2025, 5, 14),
            fieldwork_end=D(2025, 5, 16),
            reason="Auditor's train",
            actor=auditor,
            today=D(2025, 5, 5),
        )

    errors = refusal.value.message_dict
    assert errors["fieldwork_start"] == ["Notice of 9 calendar days is shorter than the 30 calendar days required."]
    assert errors["override_reason"] == [FORMER_DATES]
    assert snapshot(audit) == before


def test_a_short_notice_override_covers_the_notice_sent_the_day_it_was_given_for(admin, auditor):
    audit = plan(AuditRightFactory(), admin, start=D(2025, 5, 12), override_reason="Vendor accepted 10 days' notice")

    audit = services.notify_audit(audit=audit, notice_date=PLANNED_ON, actor=auditor, today=D(2025, 5, 3))

    assert (audit.status, audit.notice_date, audit.override_reason, audit.overridden_by) == (
        AuditStatus.NOTIFIED,
        PLANNED_ON,
        "Vendor accepted 10 days' notice",
        admin,
    )
    assert audit.history.latest().history_change_reason == "Notified"


def test_a_notice_shorter_than_the_one_the_override_was_given_for_needs_a_new_reason(admin, auditor):
    audit = plan(AuditRightFactory(), admin, start=D(2025, 5, 12), override_reason="Vendor accepted 10 days' notice")
    before = snapshot(audit)
    notice = {"notice_date": D(2025, 5, 5), "today": D(2025, 5, 5)}

    with pytest.raises(ValidationError) as refusal:
        services.notify_audit(audit=audit, actor=auditor, **notice)
    errors = refusal.value.message_dict
    assert errors["notice_date"] == ["Notice of 7 calendar days is shorter than the 30 calendar days required."]
    assert errors["override_reason"] == [FORMER_NOTICE]
    assert snapshot(audit) == before

    audit = services.notify_audit(audit=audit, actor=admin, override_reason="Vendor accepted 7 days", **notice)

    assert (audit.status, audit.override_reason, audit.overridden_by) == (
        AuditStatus.NOTIFIED,
        "Vendor accepted 7 days",
        admin,
    )
    assert audit.history.latest().history_change_reason == "Notified (override)"


def test_an_override_of_a_moved_audit_does_not_cover_a_short_notice_sent_later(admin, auditor):
    right = AuditRightFactory()
    audit = overridden_second_audit(right, admin, auditor)
    audit = services.reschedule_audit(
        audit=audit,
        fieldwork_start=D(2025, 11, 17),
        fieldwork_end=D(2025, 11, 19),
        reason="Auditor on leave",
        actor=auditor,
        today=D(2025, 10, 7),
    )
    before = snapshot(audit)

    with pytest.raises(ValidationError) as refusal:
        services.notify_audit(audit=audit, notice_date=D(2025, 11, 3), actor=auditor, today=D(2025, 11, 3))

    assert refusal.value.message_dict["notice_date"] == [
        "Notice of 14 calendar days is shorter than the 30 calendar days required."
    ]
    assert refusal.value.message_dict["override_reason"] == [FORMER_NOTICE]
    assert snapshot(audit) == before


def test_an_audit_for_cause_moved_or_notified_stays_for_cause_with_its_cause(admin, auditor):
    right = AuditRightFactory()
    cause = "Security incident of 28 April: customer data exposed"
    audit = plan(right, admin, audit_type=AuditType.SECURITY, for_cause=True, override_reason=cause)
    plan(right, auditor, reference="AUD-2026", start=D(2026, 3, 2))

    # Into a year whose allowance is used, on 10 days' notice: the cause still allows it.
    audit = services.reschedule_audit(
        audit=audit,
        fieldwork_start=D(2026, 1, 12),
        fieldwork_end=D(2026, 1, 14),
        reason="Incident spread to the Lisbon site",
        actor=admin,
        override_reason="A reason that is not the cause",
        today=D(2026, 1, 2),
    )
    audit = services.notify_audit(audit=audit, notice_date=D(2026, 1, 2), actor=auditor, today=D(2026, 1, 2))

    assert (audit.status, audit.for_cause, audit.override_reason, audit.overridden_by) == (
        AuditStatus.NOTIFIED,
        True,
        cause,
        admin,
    )
    use = allowance_uses([right], D(2026, 1, 12))[right.pk]
    assert (use.counted, use.for_cause) == (1, 1)


# Holding an audit for cause after planning it ----------------------------------------------------------------


def test_an_administrator_holds_a_planned_audit_for_cause_which_frees_the_years_allowance(admin, auditor):
    right = AuditRightFactory()
    audit = plan(right, auditor)
    with pytest.raises(ValidationError, match="1 audit already planned or held"):
        plan(right, auditor, reference="AUD-2", start=D(2025, 9, 1))

    audit = services.set_audit_for_cause(
        audit=audit, actor=admin, for_cause=True, reason="Security incident of 28 April", today=D(2025, 5, 3)
    )

    assert (audit.for_cause, audit.override_reason, audit.overridden_by) == (
        True,
        "Security incident of 28 April",
        admin,
    )
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason, record.for_cause) == (
        admin,
        "Held for cause: Security incident of 28 April",
        True,
    )
    assert plan(right, auditor, reference="AUD-2", start=D(2025, 9, 1)).status == AuditStatus.PLANNED
    use = allowance_uses([right], D(2025, 6, 2))[right.pk]
    assert (use.counted, use.for_cause) == (1, 1)


@pytest.mark.parametrize("status", [AuditStatus.NOTIFIED, AuditStatus.FIELDWORK])
def test_an_audit_is_held_for_cause_until_its_report(admin, status):
    audit = AuditFactory(status=status)

    audit = services.set_audit_for_cause(audit=audit, actor=admin, for_cause=True, reason="Suspected fraud")

    assert (audit.status, audit.for_cause) == (status, True)


def test_counting_an_audit_for_cause_as_routine_in_a_full_year_needs_an_override(admin, auditor):
    right = AuditRightFactory()
    audit = plan(right, admin, for_cause=True, override_reason="Suspected fraud in the March invoice")
    plan(right, auditor, reference="AUD-ROUTINE", start=D(2025, 9, 1))
    before = snapshot(audit)

    with pytest.raises(ValidationError) as refusal:
        services.set_audit_for_cause(
            audit=audit, actor=admin, for_cause=False, reason="Fraud not confirmed", today=D(2025, 5, 2)
        )
    errors = refusal.value.message_dict
    assert errors["fieldwork_start"] == [
        "1 audit already planned or held in the contract year 01/01/2025 – 12/31/2025; the clause allows 1."
    ]
    assert errors["audit_right"] == [f"{right.clause_reference}: “{right.clause_text}”"]
    assert "override_reason" not in errors
    assert snapshot(audit) == before

    other_admin = UserFactory(administrator=True)
    audit = services.set_audit_for_cause(
        audit=audit,
        actor=other_admin,
        for_cause=False,
        reason="Fraud not confirmed",
        override_reason="Second review agreed at the SteerCo",
        today=D(2025, 5, 2),
    )

    assert (audit.for_cause, audit.override_reason, audit.overridden_by) == (
        False,
        "Second review agreed at the SteerCo",
        other_admin,
    )
    record = audit.history.latest()
    assert (record.history_user, record.history_change_reason) == (
        other_admin,
        "Counted as routine (override): Fraud not confirmed",
    )


def test_counting_an_audit_for_cause_as_routine_in_a_year_with_room_keeps_its_cause_in_the_history(admin):
    audit = plan(AuditRightFactory(), admin, for_cause=True, override_reason="Suspected fraud in the March invoice")

    audit = services.set_audit_for_cause(
        audit=audit, actor=admin, for_cause=False, reason="Fraud not confirmed", today=D(2025, 5, 2)
    )

    assert (audit.for_cause, audit.override_reason, audit.overridden_by) == (False, "", None)
    planned_record = audit.history.earliest()
    assert (planned_record.for_cause, planned_record.override_reason) == (True, "Suspected fraud in the March invoice")
    assert audit.history.latest().history_change_reason == "Counted as routine: Fraud not confirmed"


def test_a_reason_for_counting_an_audit_as_routine_that_the_history_cannot_hold_is_refused(admin):
    audit = plan(AuditRightFactory(), admin, for_cause=True, override_reason="Suspected fraud in the March invoice")
    before = snapshot(audit)

    with pytest.raises(ValidationError) as refusal:
        services.set_audit_for_cause(audit=audit, actor=admin, for_cause=False, reason="x" * 61, today=D(2025, 5, 2))

    assert refusal.value.message_dict == {
        "reason": ["At most 60 characters: the reason is kept in the audit's history."]
    }
    assert snapshot(audit) == before
    audit = services.set_audit_for_cause(
        audit=audit, actor=admin, for_cause=False, reason="y" * 60, today=D(2025, 5, 2)
    )
    assert audit.history.latest().history_change_reason == "Counted as routine: " + "y" * 60


def test_only_an_administrator_holds_an_audit_for_cause_after_planning(auditor):
    audit = plan(AuditRightFactory(), auditor)
    before = snapshot(audit)

    with pytest.raises(PermissionDenied):
        services.set_audit_for_cause(audit=audit, actor=auditor, for_cause=True, reason="Suspected fraud")

    assert snapshot(audit) == before


def test_holding_for_cause_needs_a_reason_and_a_change(admin, auditor):
    audit = plan(AuditRightFactory(), auditor)
    before = snapshot(audit)

    with pytest.raises(ValidationError) as without_cause:
        services.set_audit_for_cause(audit=audit, actor=admin, for_cause=True, reason="  ")
    with pytest.raises(ValidationError) as unchanged:
        services.set_audit_for_cause(audit=audit, actor=admin, for_cause=False, reason="Routine")

    assert without_cause.value.message_dict == {
        "reason": [
            "Give the cause of the audit (e.g. a security incident, a regulator's written demand, suspected fraud): "
            "it is kept on the audit."
        ]
    }
    assert unchanged.value.message_dict == {"for_cause": ["The audit is already a routine audit."]}
    assert snapshot(audit) == before


@pytest.mark.parametrize("status", [AuditStatus.REPORTED, AuditStatus.CLOSED, AuditStatus.CANCELLED])
def test_an_audit_reported_closed_or_cancelled_is_not_reclassified(admin, status):
    extra = (
        {
            "cancellation_reason": "Replaced",
            "cancelled_by": admin,
            "cancelled_at": datetime.datetime(2025, 5, 3, tzinfo=datetime.UTC),
        }
        if status == AuditStatus.CANCELLED
        else {"report_date": D(2025, 6, 10)}
    )
    audit = AuditFactory(status=status, **extra)
    before = snapshot(audit)

    with pytest.raises(ValidationError) as refusal:
        services.set_audit_for_cause(audit=audit, actor=admin, for_cause=True, reason="Suspected fraud")

    label = AuditStatus(status).label
    assert refusal.value.messages == [
        f"The audit is {label}: whether it is held for cause changes only while it is planned, notified or in "
        "fieldwork."
    ]
    assert snapshot(audit) == before
