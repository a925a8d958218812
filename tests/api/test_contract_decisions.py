"""Renewing a contract and giving notice through the API: actions that record the decision
(contracts.services); the end of term and the notice cannot be edited around them."""

import pytest

from accounts.choices import Role
from contracts.choices import ContractStatus, RenewalDecisionKind, RenewalType
from contracts.models import Contract, RenewalDecision

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(worlds):
    return worlds[0]["contracts.Contract"]


@pytest.fixture
def manager(users, client_for):
    return client_for(users[Role.VENDOR_MANAGER])


def test_the_vendor_manager_renews_the_running_term_and_the_decision_is_recorded(contract, manager, users):
    end = contract.end_date

    response = manager.post(f"/api/v1/contracts/{contract.pk}/renew/", {"note": "Good year"}, format="json")

    assert response.status_code == 200, response.content
    contract.refresh_from_db()
    assert contract.end_date > end
    assert response.json()["end_date"] == contract.end_date.isoformat()
    decision = RenewalDecision.objects.get(contract=contract)
    assert (decision.decision, decision.new_end_date, decision.note) == (
        RenewalDecisionKind.RENEW,
        contract.end_date,
        "Good year",
    )
    assert decision.decided_by == users[Role.VENDOR_MANAGER]


def test_giving_notice_makes_the_running_term_the_last(contract, manager):
    response = manager.post(f"/api/v1/contracts/{contract.pk}/give-notice/", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == ContractStatus.NOTICE_GIVEN
    assert RenewalDecision.objects.get(contract=contract).decision == RenewalDecisionKind.GIVE_NOTICE
    again = manager.post(f"/api/v1/contracts/{contract.pk}/renew/", {}, format="json")
    assert again.status_code == 400
    assert RenewalDecision.objects.filter(contract=contract).count() == 1


def test_a_contract_without_a_renewal_clause_is_refused_and_nothing_is_written(contract, manager):
    contract.renewal_type, contract.renewal_term_months, contract.max_renewals = RenewalType.NONE, None, None
    contract.save()

    response = manager.post(f"/api/v1/contracts/{contract.pk}/renew/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"] == ["This contract has no renewal clause."]
    assert not RenewalDecision.objects.exists()


@pytest.mark.parametrize("role", [Role.PROCUREMENT, Role.AUDITOR, Role.COMMITTEE_MEMBER, Role.VENDOR_USER])
def test_only_those_who_manage_the_contract_decide(role, contract, users, client_for):
    response = client_for(users[role]).post(f"/api/v1/contracts/{contract.pk}/give-notice/", {}, format="json")

    assert response.status_code in (403, 404)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


def test_another_vendors_contract_is_404(worlds, manager):
    theirs = worlds[1]["contracts.Contract"]

    assert manager.post(f"/api/v1/contracts/{theirs.pk}/renew/", {}, format="json").status_code == 404


def test_the_end_of_term_and_the_notice_are_not_edited_around_the_decisions(contract, manager):
    moved = manager.patch(f"/api/v1/contracts/{contract.pk}/", {"end_date": "2031-12-31"}, format="json")
    noticed = manager.patch(f"/api/v1/contracts/{contract.pk}/", {"status": ContractStatus.NOTICE_GIVEN}, format="json")
    # The last month with a statement (the test world holds statements up to its term's end and beyond).
    last_day = contract.statements.order_by("-month").values_list("month", flat=True).first()
    contract.end_date = max(contract.end_date, last_day)
    Contract.objects.filter(pk=contract.pk).update(end_date=contract.end_date)
    ended = manager.patch(
        f"/api/v1/contracts/{contract.pk}/",
        {"status": ContractStatus.TERMINATED, "terminated_on": last_day.isoformat()},
        format="json",
    )
    revived = manager.patch(f"/api/v1/contracts/{contract.pk}/", {"status": ContractStatus.ACTIVE}, format="json")
    retitled = manager.patch(f"/api/v1/contracts/{contract.pk}/", {"title": "Customer care EMEA"}, format="json")

    assert moved.status_code == 400 and "end_date" in moved.json()["errors"]
    assert noticed.status_code == 400 and "status" in noticed.json()["errors"]
    assert ended.status_code == 200, ended.json()  # a running contract may be terminated
    assert revived.status_code == 400  # an ended contract's status is final
    assert retitled.status_code == 200
    contract.refresh_from_db()
    assert (contract.status, contract.title) == (ContractStatus.TERMINATED, "Customer care EMEA")


def test_a_running_contracts_vendor_and_currency_are_not_changed_and_nothing_is_written(
    contract, worlds, users, client_for
):
    administrator = client_for(users[Role.ADMINISTRATOR])
    other_vendor = worlds[1]["contracts.Vendor"]

    response = administrator.patch(
        f"/api/v1/contracts/{contract.pk}/", {"vendor": other_vendor.pk, "currency": "CHF"}, format="json"
    )

    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {"vendor", "currency"}
    vendor, currency = contract.vendor_id, contract.currency
    contract.refresh_from_db()
    assert (contract.vendor_id, contract.currency) == (vendor, currency)


def test_a_contract_registered_with_a_status_that_follows_decisions_is_refused(contract, users, client_for):
    administrator = client_for(users[Role.ADMINISTRATOR])
    body = {
        "reference": "NEW-1",
        "title": "New contract",
        "vendor": contract.vendor_id,
        "owner": contract.owner_id,
        "status": ContractStatus.NOTICE_GIVEN,
        "currency": "EUR",
        "start_date": "2026-01-01",
        "initial_term_months": 12,
        "end_date": "2026-12-31",
        "renewal_type": "tacit",
        "renewal_term_months": 12,
        "notice_period": 3,
    }

    refused = administrator.post("/api/v1/contracts/", body, format="json")
    off_term = administrator.post(
        "/api/v1/contracts/", {**body, "status": "active", "end_date": "9999-12-31"}, format="json"
    )
    accepted = administrator.post("/api/v1/contracts/", {**body, "status": "active"}, format="json")

    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"status"}
    assert off_term.status_code == 400 and set(off_term.json()["errors"]) == {"end_date"}
    assert accepted.status_code == 201, accepted.content


def test_a_rule_of_the_whole_row_is_reported_under_non_field_errors(contract, users, client_for):
    administrator = client_for(users[Role.ADMINISTRATOR])
    body = {
        "reference": "NEW-2",
        "title": "New contract",
        "vendor": contract.vendor_id,
        "owner": contract.owner_id,
        "start_date": "2026-01-01",
        "initial_term_months": 12,
        "end_date": "2025-12-31",
        "renewal_type": "none",
        "notice_period": 3,
    }

    response = administrator.post("/api/v1/contracts/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["The end of the term must be after the start date."]}
