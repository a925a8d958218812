"""Renewal decisions recorded by the services, and the next notice deadline of the register list."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from contracts import services
from contracts.choices import ContractStatus, RenewalDecisionKind, RenewalType
from contracts.models import Contract
from contracts.selectors import notice_deadlines_within, with_next_notice_deadline
from tests.factories import (
    ContractFactory,
    ContractScopeFactory,
    MonthlyChargeFactory,
    UserFactory,
    VendorFactory,
    VendorSiteFactory,
)

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

    with pytest.raises(ValidationError, match="used its 1 renewal;"):
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


def test_notice_after_the_deadline_of_a_tacit_term_ends_the_renewed_term():
    contract = ContractFactory()  # term ends 2027-12-31, notice deadline 2027-06-30
    assert services.notice_term_end(contract, D(2027, 7, 1)) == (D(2028, 12, 31), D(2027, 6, 30))

    decision = services.give_notice(contract=contract, decided_by=contract.owner, today=D(2027, 7, 1))

    contract.refresh_from_db()
    assert (contract.status, contract.end_date) == (ContractStatus.NOTICE_GIVEN, D(2028, 12, 31))
    assert decision.for_term_ending == D(2028, 12, 31)


def test_notice_on_the_deadline_ends_the_running_term():
    contract = ContractFactory()
    assert services.notice_term_end(contract, D(2027, 6, 30)) == (D(2027, 12, 31), None)


def test_a_business_day_notice_deadline_follows_the_contracts_calendar_in_the_reminder_and_the_decision():
    """A French contract whose term ends on Friday 15 May 2026, on ten business days' notice: 1 May, 8 May and
    Ascension are no business days, so the deadline is Tuesday 28 April (1 May on Monday to Friday alone). The
    register, the reminder and the notice decision all use that day."""
    french = ContractFactory(
        start_date=D(2025, 5, 16),
        initial_term_months=12,
        notice_period=10,
        notice_period_unit="business_days",
        calendar_country="FR",
    )
    weekdays_only = ContractFactory(
        start_date=D(2025, 5, 16), initial_term_months=12, notice_period=10, notice_period_unit="business_days"
    )
    today = D(2026, 4, 20)

    windows = [c.next_renewal for c in with_next_notice_deadline([french, weekdays_only], today=today)]
    assert [window.notice_deadline for window in windows] == [D(2026, 4, 28), D(2026, 5, 1)]
    assert notice_deadlines_within(days=8, today=today) == [french]
    assert services.notice_term_end(french, D(2026, 4, 28)) == (D(2026, 5, 15), None)
    assert services.notice_term_end(french, D(2026, 4, 29)) == (D(2027, 5, 15), D(2026, 4, 28))
    assert services.notice_term_end(weekdays_only, D(2026, 4, 29)) == (D(2026, 5, 15), None)

    services.give_notice(contract=french, decided_by=french.owner, today=D(2026, 4, 29))
    french.refresh_from_db()
    assert french.end_date == D(2027, 5, 15)


def test_notice_after_an_explicit_term_has_ended_is_refused_and_nothing_is_written():
    contract = ContractFactory(renewal_type=RenewalType.EXPLICIT)  # ends 2027-12-31
    with pytest.raises(ValidationError, match=r"The term ended on Dec\. 31, 2027"):
        services.give_notice(contract=contract, decided_by=contract.owner, today=D(2028, 1, 1))
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

    with pytest.raises(ValidationError, match=r"The term ending Dec\. 31, 2027 is already renewed to Dec\. 31, 2028"):
        services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2027, 3, 2))

    contract.refresh_from_db()
    assert contract.end_date == D(2028, 12, 31)
    assert contract.renewal_decisions.count() == 1
    # Once the renewed term runs, its own renewal is decided as usual.
    services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2028, 3, 1))
    contract.refresh_from_db()
    assert contract.end_date == D(2029, 12, 31)


def test_renewed_terms_are_chained_from_the_day_after_each_end_and_the_maximum_holds():
    # A contract starting on 31 August: the six-month terms end on 28 February, then (from 1 March) 31 August.
    contract = ContractFactory(
        start_date=D(2024, 8, 31),
        initial_term_months=6,
        end_date=D(2025, 2, 28),
        renewal_type=RenewalType.EXPLICIT,
        renewal_term_months=6,
        max_renewals=1,
    )
    services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2025, 1, 10))
    contract.refresh_from_db()
    assert contract.end_date == D(2025, 8, 31)

    with pytest.raises(ValidationError, match="used its 1 renewal;"):
        services.record_renewal(contract=contract, decided_by=contract.owner, today=D(2025, 7, 1))
    contract.refresh_from_db()
    assert contract.end_date == D(2025, 8, 31)


D_TODAY = D(2026, 11, 27)


def _registration(**values):
    base = {
        "start_date": D(2026, 1, 1),
        "initial_term_months": 24,
        "end_date": D(2027, 12, 31),
        "renewal_type": RenewalType.TACIT,
        "renewal_term_months": 12,
        "max_renewals": None,
    }
    return {**base, **values}


def test_a_contract_is_registered_as_a_draft_or_active_only():
    for status in (ContractStatus.DRAFT, ContractStatus.ACTIVE):
        assert services.contract_edit_errors(None, _registration(status=status), today=D_TODAY) == {}
    for status in (ContractStatus.NOTICE_GIVEN, ContractStatus.EXPIRED, ContractStatus.TERMINATED):
        assert "status" in services.contract_edit_errors(None, _registration(status=status), today=D_TODAY)


@pytest.mark.parametrize(
    ("end", "message"),
    [
        (
            D(2031, 6, 15),
            "June 15, 2031 ends no term of this contract: the nearest term ends are Dec. 31, 2030 and Dec. 31, 2031.",
        ),
        (D(2027, 6, 30), "The initial term of 24 months from Jan. 1, 2026 ends on Dec. 31, 2027."),
    ],
)
def test_the_end_of_term_must_end_the_initial_term_or_a_renewal(end, message):
    assert services.contract_edit_errors(None, _registration(end_date=end), today=D_TODAY) == {"end_date": [message]}
    assert services.contract_edit_errors(None, _registration(end_date=D(2029, 12, 31)), today=D_TODAY) == {}


def test_the_end_of_term_cannot_pass_the_last_renewal():
    errors = services.contract_edit_errors(None, _registration(end_date=D(2029, 12, 31), max_renewals=1), today=D_TODAY)
    assert errors == {"end_date": ["The last term this contract may run ends on Dec. 31, 2028."]}
    with translation.override("fr"):
        errors = services.contract_edit_errors(
            None, _registration(end_date=D(2029, 12, 31), max_renewals=1), today=D_TODAY
        )
    assert errors == {"end_date": ["La dernière période possible de ce contrat se termine le 31 décembre 2028."]}


def test_a_running_contract_keeps_its_vendor_and_currency():
    contract = ContractFactory()
    other = VendorFactory()
    errors = services.contract_edit_errors(contract, {"vendor": other, "currency": "USD"}, today=D_TODAY)
    assert set(errors) == {"vendor", "currency"}


def test_a_draft_changes_vendor_and_currency_until_it_names_a_site_or_has_charges():
    contract = ContractFactory(status=ContractStatus.DRAFT)
    other = VendorFactory()
    assert services.contract_edit_errors(contract, {"vendor": other, "currency": "USD"}, today=D_TODAY) == {}
    MonthlyChargeFactory(contract=contract)
    ContractScopeFactory(contract=contract, site=VendorSiteFactory(vendor=contract.vendor))
    errors = services.contract_edit_errors(contract, {"vendor": other, "currency": "USD"}, today=D_TODAY)
    assert set(errors) == {"vendor", "currency"}


def test_a_draft_corrects_its_end_of_term_a_running_contract_does_not():
    draft = ContractFactory(status=ContractStatus.DRAFT, renewal_type=RenewalType.NONE, renewal_term_months=None)
    assert services.contract_edit_errors(draft, {"initial_term_months": 12, "end_date": D(2025, 12, 31)}) == {}
    running = ContractFactory()
    assert "end_date" in services.contract_edit_errors(running, {"end_date": D(2028, 12, 31)})


def test_a_running_contract_keeps_its_start_and_initial_term_through_the_api():
    """QA: a running contract's start moved past six invoiced months, out of its own service."""
    from rest_framework.test import APIClient

    running = ContractFactory()  # from 2025-01-01, 36 months
    draft = ContractFactory(status=ContractStatus.DRAFT)
    api = APIClient()
    api.force_authenticate(running.owner)

    refused = api.patch(
        f"/api/v1/contracts/{running.pk}/",
        {"start_date": "2026-05-01", "initial_term_months": 12, "end_date": "2027-04-30"},
        format="json",
    )

    assert refused.status_code == 400
    fixed = (
        "The start and the initial term are fixed once the contract is active: its months, contract years, charges "
        "and statements count from them."
    )
    assert refused.json()["errors"]["start_date"] == [fixed]
    assert refused.json()["errors"]["initial_term_months"] == [fixed]
    running.refresh_from_db()
    assert (running.start_date, running.initial_term_months) == (D(2025, 1, 1), 36)
    assert services.contract_edit_errors(draft, {"start_date": D(2025, 2, 1), "end_date": D(2028, 1, 31)}) == {}


def test_a_contract_expires_only_once_its_term_has_ended():
    contract = ContractFactory()  # ends 2027-12-31
    errors = services.contract_edit_errors(contract, {"status": ContractStatus.EXPIRED}, today=D(2027, 12, 31))
    assert errors == {
        "status": ["A contract expires once its term has ended (on Dec. 31, 2027); to end it earlier, terminate it."]
    }
    assert services.contract_edit_errors(contract, {"status": ContractStatus.EXPIRED}, today=D(2028, 1, 1)) == {}
    terminated = {"status": ContractStatus.TERMINATED, "terminated_on": D(2027, 1, 31)}
    assert services.contract_edit_errors(contract, terminated, today=D(2027, 1, 1)) == {}
