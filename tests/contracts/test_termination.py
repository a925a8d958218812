"""A contract terminated while it ran records its last day of service (issue 3: its months up to that day
are still closed, and KPI data after it is refused)."""

import datetime

import pytest

from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.services import contract_edit_errors
from tests.factories import ContractFactory, MeasurementFactory, PenaltyStatementFactory, UserFactory
from tests.sla_tracker.test_kpi_api import client_for

pytestmark = pytest.mark.django_db
D = datetime.date
TERMINATE = {"status": ContractStatus.TERMINATED}


def test_a_running_contract_is_terminated_with_its_last_day_of_service_within_the_term():
    contract = ContractFactory()  # 2025-01-01 to 2027-12-31

    assert contract_edit_errors(contract, TERMINATE) == {
        "terminated_on": ["Give the last day of service: the contract's months up to that day are still closed."]
    }
    assert contract_edit_errors(contract, {**TERMINATE, "terminated_on": D(2028, 1, 1)}) == {
        "terminated_on": ["The last day of service falls within the term, from Jan. 1, 2025 to Dec. 31, 2027."]
    }
    assert contract_edit_errors(contract, {**TERMINATE, "terminated_on": D(2026, 6, 15)}) == {}
    notice_given = ContractFactory(status=ContractStatus.NOTICE_GIVEN)
    assert contract_edit_errors(notice_given, {**TERMINATE, "terminated_on": D(2027, 12, 31)}) == {}


def test_a_draft_that_never_ran_is_terminated_without_a_last_day_of_service():
    draft = ContractFactory(status=ContractStatus.DRAFT)

    assert contract_edit_errors(draft, TERMINATE) == {}
    assert contract_edit_errors(draft, {**TERMINATE, "terminated_on": D(2025, 3, 1)}) == {
        "terminated_on": ["A draft never ran: it is terminated without a last day of service."]
    }


def test_only_a_terminated_contract_has_a_last_day_of_service_and_it_is_then_fixed():
    running = ContractFactory()
    assert contract_edit_errors(running, {"terminated_on": D(2026, 6, 15)}) == {
        "terminated_on": ["Only a terminated contract has a last day of service."]
    }
    registered = {"status": ContractStatus.ACTIVE, "terminated_on": D(2025, 6, 1)}
    assert contract_edit_errors(None, registered)["terminated_on"] == [
        "Only a terminated contract has a last day of service."
    ]
    terminated = ContractFactory(status=ContractStatus.TERMINATED, terminated_on=D(2026, 6, 15))
    assert contract_edit_errors(terminated, {"terminated_on": D(2026, 6, 30)}) == {
        "terminated_on": ["The last day of service is fixed once the contract is terminated."]
    }
    assert contract_edit_errors(terminated, {"terminated_on": D(2026, 6, 15)}) == {}


def test_the_api_terminates_a_contract_with_its_last_day_of_service_and_shows_it():
    owner = UserFactory()
    contract = ContractFactory(owner=owner)
    client = client_for(owner)
    url = f"/api/v1/contracts/{contract.pk}/"

    refused = client.patch(url, {"status": "terminated"}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["terminated_on"]
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.ACTIVE

    done = client.patch(url, {"status": "terminated", "terminated_on": "2026-06-15"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["terminated_on"] == "2026-06-15"
    contract.refresh_from_db()
    assert (contract.status, contract.last_day_of_service) == (ContractStatus.TERMINATED, D(2026, 6, 15))


def test_the_last_day_of_service_is_not_before_recorded_statements_or_kpi_data():
    contract = ContractFactory()
    PenaltyStatementFactory(contract=contract, month=D(2026, 5, 1))
    MeasurementFactory(contract=contract, day=D(2026, 6, 20))

    assert contract_edit_errors(contract, {**TERMINATE, "terminated_on": D(2026, 4, 30)}) == {
        "terminated_on": [
            "A penalty statement exists for May 2026, after this day: the last day of service is in or after the "
            "last month with a statement."
        ]
    }
    assert contract_edit_errors(contract, {**TERMINATE, "terminated_on": D(2026, 6, 15)}) == {
        "terminated_on": [
            "KPI data is recorded for June 20, 2026, after this day: delete the data after the last day of service "
            "first, or give a later day."
        ]
    }
    assert contract_edit_errors(contract, {**TERMINATE, "terminated_on": D(2026, 6, 20)}) == {}
