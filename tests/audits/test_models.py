"""Audit rights, audits and findings: their database constraints."""

import datetime
from decimal import Decimal

import pytest

from audits.choices import FindingStatus, Severity
from audits.models import Audit, AuditRight, Finding
from contracts.choices import Currency
from tests.factories import DECIDED_AT, AuditFactory, AuditRightFactory, FindingFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_contract_clause_grants_one_audit_right(rejected_by):
    right = AuditRightFactory(clause_reference="§ 21")
    AuditRightFactory(contract=right.contract, clause_reference="§ 22")

    with rejected_by(AuditRight, "auditright_unique_clause"):
        AuditRightFactory(contract=right.contract, clause_reference="§ 21")


def test_an_audit_right_allows_at_least_one_audit_a_year(rejected_by):
    AuditRightFactory(audits_per_year=1)

    with rejected_by(AuditRight, "auditright_audits_per_year_positive"):
        AuditRightFactory(audits_per_year=0)


@pytest.mark.parametrize("threshold", [Decimal("-0.001"), Decimal("100.001")])
def test_the_cost_shifting_discrepancy_is_a_percentage(rejected_by, threshold):
    AuditRightFactory(cost_shift_threshold_pct=None)
    AuditRightFactory(cost_shift_threshold_pct=Decimal("0"))
    AuditRightFactory(cost_shift_threshold_pct=Decimal("100"))

    with rejected_by(AuditRight, "auditright_threshold_0_100"):
        AuditRightFactory(cost_shift_threshold_pct=threshold)


def test_audit_fieldwork_cannot_end_before_it_starts(rejected_by):
    day = datetime.date(2025, 6, 2)
    AuditFactory(fieldwork_start=day, fieldwork_end=day)

    with rejected_by(Audit, "audit_fieldwork_end_not_before_start"):
        AuditFactory(fieldwork_start=day, fieldwork_end=day - datetime.timedelta(days=1))


def test_audit_notice_is_given_before_fieldwork_starts(rejected_by):
    day = datetime.date(2025, 6, 2)
    AuditFactory(notice_date=None, fieldwork_start=day)
    AuditFactory(notice_date=day, fieldwork_start=day)

    with rejected_by(Audit, "audit_notice_before_fieldwork"):
        AuditFactory(notice_date=day + datetime.timedelta(days=1), fieldwork_start=day)


@pytest.mark.parametrize(
    ("cost", "currency"), [(Decimal("-1"), Currency.EUR), (Decimal("12000"), "")], ids=["negative", "no currency"]
)
def test_an_audit_cost_is_non_negative_and_has_a_currency(rejected_by, cost, currency):
    AuditFactory(cost=None, cost_currency="")
    AuditFactory(cost=Decimal("0"), cost_currency=Currency.EUR)

    with rejected_by(Audit, "audit_cost_non_negative_with_currency"):
        AuditFactory(cost=cost, cost_currency=currency)


@pytest.mark.parametrize("reason_only", [True, False], ids=["reason without who", "who without reason"])
def test_an_audit_override_records_its_reason_and_who_allowed_it(rejected_by, reason_only):
    administrator = UserFactory(administrator=True)
    AuditFactory(override_reason="Regulator's request of 3 March.", overridden_by=administrator)

    with rejected_by(Audit, "audit_override_recorded"):
        if reason_only:
            AuditFactory(override_reason="Regulator's request of 3 March.", overridden_by=None)
        else:
            AuditFactory(override_reason="", overridden_by=administrator)


def test_finding_numbers_are_unique_per_audit(rejected_by):
    finding = FindingFactory(number=1)
    FindingFactory(audit=finding.audit, number=2)

    with rejected_by(Finding, "finding_unique_number"):
        FindingFactory(audit=finding.audit, number=1)


@pytest.mark.parametrize("missing", ["verified_by", "verified_at"])
def test_a_verified_finding_records_who_verified_it_and_when(rejected_by, missing):
    verified = {"status": FindingStatus.VERIFIED, "verified_by": UserFactory(auditor=True), "verified_at": DECIDED_AT}
    FindingFactory(**verified)
    FindingFactory(status=FindingStatus.RISK_ACCEPTED)

    with rejected_by(Finding, "finding_verification_recorded"):
        FindingFactory(**{**verified, missing: None})


def test_the_amount_to_recover_cannot_be_negative(rejected_by):
    FindingFactory(recovery_amount=None)
    FindingFactory(recovery_amount=Decimal("0"))

    with rejected_by(Finding, "finding_recovery_non_negative"):
        FindingFactory(recovery_amount=Decimal("-0.01"))


def test_an_audit_right_gives_the_remediation_days_of_each_severity():
    right = AuditRightFactory.build(remediation_days_critical=5, remediation_days_low=120)

    assert right.remediation_days(Severity.CRITICAL) == 5
    assert right.remediation_days(Severity.HIGH) == 30
    assert right.remediation_days(Severity.LOW) == 120


def test_an_audit_belongs_to_the_contract_of_its_audit_right():
    audit = AuditFactory()

    assert audit.contract == audit.audit_right.contract


def test_a_fieldwork_ending_before_it_starts_and_a_negative_amount_are_refused_under_their_fields():
    from django.core.exceptions import ValidationError

    day = datetime.date(2025, 6, 2)
    audit = AuditFactory.build(audit_right=AuditRightFactory(), fieldwork_start=day, fieldwork_end=day.replace(day=1))
    with pytest.raises(ValidationError) as refused:
        audit.full_clean()
    assert refused.value.message_dict == {"fieldwork_end": ["Fieldwork cannot end before it starts."]}

    finding = FindingFactory.build(audit=AuditFactory(), recovery_amount=Decimal("-50"))
    with pytest.raises(ValidationError) as refused:
        finding.full_clean()
    assert refused.value.message_dict == {"recovery_amount": ["The amount to recover cannot be negative."]}
