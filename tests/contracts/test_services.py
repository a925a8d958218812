"""Renewal decisions recorded by the services, and the next notice deadline of the register list."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from contracts import services
from contracts.choices import ContractStatus, RenewalDecisionKind, RenewalType
from contracts.models import Contract
from contracts.selectors import notice_deadlines_within, with_next_notice_deadline
from tests.factories import ContractFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def test_renewing_moves_the_end_of_term_and_records_the_decision():
    contract = ContractFactory()
    manager = UserFactory()

    decision = services.record_renewal(contract=contract, decided_by=manager, note="Good year", today=D(2027, 3, 1))

    contract.refresh_from_db()
    assert contract.end_date == D(2028, 12, 31)
    assert (decision.decision, decision.for_term_ending, decision.new_end_date) == (
        RenewalDecisionKind.RENEW,
        D(2027, 12, 31),
        D(2028, 12, 31),
    )
    assert decision.decided_by == manager
    latest = contract.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (manager, "Renewed to 2028-12-31")


def test_a_contract_cannot_renew_beyond_its_maximum_renewals():
    contract = ContractFactory(max_renewals=1)
    services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2027, 3, 1))

    with pytest.raises(ValidationError, match="used its 1 renewals"):
        services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2028, 3, 1))


def test_a_contract_without_renewal_clause_is_not_renewed():
    contract = ContractFactory(renewal_type=RenewalType.NONE, renewal_term_months=None, max_renewals=None)
    with pytest.raises(ValidationError, match="no renewal clause"):
        services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2027, 3, 1))


def test_giving_notice_before_the_deadline_ends_the_contract_at_the_end_of_its_term():
    contract = ContractFactory()

    decision = services.give_notice(contract=contract, decided_by=contract.owner, today=D(2027, 6, 30))

    contract.refresh_from_db()
    assert contract.status == ContractStatus.NOTICE_GIVEN
    assert contract.end_date == D(2027, 12, 31)
    assert (decision.decision, decision.for_term_ending, decision.new_end_date) == (
        RenewalDecisionKind.GIVE_NOTICE,
        D(2027, 12, 31),
        None,
    )


def test_notice_after_the_deadline_of_a_tacit_term_is_refused_with_the_deadline():
    contract = ContractFactory()
    with pytest.raises(ValidationError, match="2027-06-30"):
        services.give_notice(contract=contract, decided_by=contract.owner, today=D(2027, 7, 1))
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert not contract.renewal_decisions.exists()


def test_notice_on_a_tacit_contract_past_its_recorded_end_applies_to_the_renewed_term():
    contract = ContractFactory()
    services.give_notice(contract=contract, decided_by=contract.owner, today=D(2028, 3, 1))
    contract.refresh_from_db()
    assert (contract.status, contract.end_date) == (ContractStatus.NOTICE_GIVEN, D(2028, 12, 31))


def test_a_contract_given_notice_takes_no_further_decision():
    contract = ContractFactory(status=ContractStatus.NOTICE_GIVEN)
    with pytest.raises(ValidationError, match="Only an active contract"):
        services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2027, 3, 1))


def test_the_register_list_gets_each_contracts_next_notice_deadline_without_extra_queries(django_assert_num_queries):
    ContractFactory.create_batch(3)
    ContractFactory(status=ContractStatus.NOTICE_GIVEN)

    with django_assert_num_queries(1):
        contracts = with_next_notice_deadline(Contract.objects.order_by("reference"), today=D(2027, 7, 1))

    assert [c.next_renewal.notice_deadline if c.next_renewal else None for c in contracts] == [
        D(2028, 6, 30),
        D(2028, 6, 30),
        D(2028, 6, 30),
        None,
    ]


def test_contracts_with_a_notice_deadline_within_90_days():
    soon = ContractFactory()  # deadline 2027-06-30
    ContractFactory(start_date=D(2026, 1, 1), end_date=D(2028, 12, 31))  # deadline 2028-06-30
    assert notice_deadlines_within(days=90, today=D(2027, 4, 15)) == [soon]


def test_the_running_term_is_renewed_once_a_second_renewal_is_refused_until_the_renewed_term_runs():
    contract = ContractFactory()
    services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2027, 3, 1))

    with pytest.raises(ValidationError, match="The term ending 2027-12-31 is already renewed to 2028-12-31"):
        services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2027, 3, 2))

    contract.refresh_from_db()
    assert contract.end_date == D(2028, 12, 31)
    assert contract.renewal_decisions.count() == 1
    # Once the renewed term runs, its own renewal is decided as usual.
    services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2028, 3, 1))
    contract.refresh_from_db()
    assert contract.end_date == D(2029, 12, 31)
