"""The close of an expired or terminated contract's last months (issue 3 §4): credits of the months it was
served are computed like any other month's, and nothing is closed after its term or last day of service."""

from datetime import date
from decimal import Decimal

import pytest

from contracts.choices import ContractStatus
from contracts.models import Contract
from contracts.selectors import contracts_served_during, contracts_to_close
from sla_tracker import tasks
from sla_tracker.choices import MeasurementSource
from sla_tracker.kpi_import.service import KpiDataRejected, save_measurements
from sla_tracker.kpi_import.validation import KpiValue
from tests.factories import ContractFactory

from .kpi_support import voice_contract
from .test_close import scenario_json, seed_scenario, statement_of

pytestmark = pytest.mark.django_db
D = Decimal


def end(contract, **fields):
    """Record how the contract ended as stored data (the edit rules are tested in tests/contracts)."""
    Contract.objects.filter(pk=contract.pk).update(**fields)


def test_the_month_a_contract_is_terminated_in_is_closed_and_the_next_is_not():
    contract = seed_scenario(scenario_json("ex07_pool_with_cap_binding"))  # July 2026 credits €24,000.00
    end(contract, status=ContractStatus.TERMINATED, terminated_on=date(2026, 7, 20))

    assert tasks.compute_month("2026-07") == 1

    assert statement_of(contract, "2026-07").credits == D("24000.00")
    assert tasks.contract_ids_to_close("2026-08") == []


def test_an_expired_contracts_last_month_is_closed_and_the_daily_safety_net_finds_it(monkeypatch, settings):
    contract = seed_scenario(scenario_json("ex07_pool_with_cap_binding"))
    end(contract, status=ContractStatus.EXPIRED, end_date=date(2026, 7, 31))
    settings.MONTHLY_CLOSE_DAY = 5
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: date(2026, 8, 5))

    assert tasks.close_missed_contracts() == 1  # e.g. marked expired on 1 August, before the close

    assert statement_of(contract, "2026-07").credits == D("24000.00")
    assert tasks.contract_ids_to_close("2026-08") == []


def test_which_contracts_a_month_closes():
    july = date(2026, 7, 1)
    running = ContractFactory()  # 2025-01-01 to 2027-12-31
    under_notice = ContractFactory(status=ContractStatus.NOTICE_GIVEN)
    past_its_term_end = ContractFactory(start_date=date(2024, 1, 1), end_date=date(2026, 6, 30))
    expired_in_july = ContractFactory(status=ContractStatus.EXPIRED, end_date=date(2026, 7, 31))
    expired_before = ContractFactory(status=ContractStatus.EXPIRED, end_date=date(2026, 6, 30))
    terminated_in_july = ContractFactory(status=ContractStatus.TERMINATED, terminated_on=date(2026, 7, 1))
    terminated_before = ContractFactory(status=ContractStatus.TERMINATED, terminated_on=date(2026, 6, 30))
    ContractFactory(status=ContractStatus.TERMINATED)  # terminated before the last day was recorded
    ContractFactory(status=ContractStatus.DRAFT)
    ContractFactory(start_date=date(2026, 8, 1))  # not started yet

    closed = set(contracts_to_close(july))
    served = set(contracts_served_during(july))

    assert closed == {running, under_notice, past_its_term_end, expired_in_july, terminated_in_july}
    # The safety net and the reminders look at the contracts served that month only.
    assert served == {running, under_notice, expired_in_july, terminated_in_july}
    assert not {expired_before, terminated_before} & closed


def test_kpi_data_after_the_last_day_of_service_is_refused():
    contract = voice_contract()
    end(contract, status=ContractStatus.TERMINATED, terminated_on=date(2025, 3, 10))
    contract.refresh_from_db()
    values = [
        KpiValue("offered", "2025-03-10", 100, row=1, column="offered"),
        KpiValue("offered", "2025-03-11", 100, row=2, column="offered"),
    ]

    with pytest.raises(KpiDataRejected) as refused:
        save_measurements(
            contract=contract, values=values, source=MeasurementSource.API, actor=contract.owner, per_item=True
        )

    assert [(issue.row, str(issue.message)) for issue in refused.value.issues] == [
        (2, "March 11, 2025 is outside the contract's term (Jan. 1, 2025 to March 10, 2025).")
    ]
