"""Each computation of a statement records what made the tracker compute it, which the statement's history
names: the monthly close, the daily jobs, a change of KPI data, an exclusion, a waiver, a reopening, the
compute_penalties command (a recompute on request: tests/web/test_kpi_pages.py)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from contracts.choices import Channel
from contracts.models import MonthlyCharge
from sla_tracker.choices import ComputationCause, MeasurementSource, StatementAction
from sla_tracker.kpi_import.service import save_measurements
from sla_tracker.kpi_import.validation import KpiValue
from sla_tracker.models import CloseRefusal, StatementEvent
from sla_tracker.services import decide_exclusion, reopen_statement, waive_line
from sla_tracker.tasks import close_missed_contracts, compute_month, recompute_changed_drafts
from tests.factories import ContractScopeFactory, MonthlyChargeFactory, UserFactory

from .test_adjustments_carry import approve, contract_a, contract_with_april_approved, correct_january, power_outage
from .test_close import close, line_of, statement_of
from .test_corrected_history import EARN_BACK_MONTHS, approved_months

pytestmark = pytest.mark.django_db
COMPUTED, RECOMPUTED, ADJUSTED = StatementAction.COMPUTED, StatementAction.RECOMPUTED, StatementAction.ADJUSTED


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


def computations(contract, month: str) -> list[tuple[str, str]]:
    """The statement's events written by a computation: (action, cause), oldest first."""
    events = StatementEvent.objects.filter(statement=statement_of(contract, month)).exclude(cause="")
    return list(events.order_by("created_at", "id").values_list("action", "cause"))


def test_the_monthly_close_computes_the_month_as_the_monthly_close():
    contract = contract_a()

    compute_month("2026-01")

    assert computations(contract, "2026-01") == [(COMPUTED, ComputationCause.MONTHLY_CLOSE)]


def test_the_daily_catch_up_of_the_close_names_itself():
    contract = contract_a()
    MonthlyCharge.objects.filter(contract=contract).delete()
    close_refused = compute_month("2026-01")  # refused: no charges
    assert close_refused == 1 and CloseRefusal.objects.filter(contract=contract).exists()
    MonthlyChargeFactory(contract=contract, month=date(2026, 1, 1), amount=Decimal("200000.00"))

    close_missed_contracts()

    assert computations(contract, "2026-01") == [(COMPUTED, ComputationCause.CLOSE_CATCH_UP)]


def test_the_daily_recompute_names_itself():
    contract = contract_a()
    close(contract, "2026-01")
    correct_january(contract)  # as an import that wrote no change log would leave it

    recompute_changed_drafts()

    assert computations(contract, "2026-01") == [
        (COMPUTED, ComputationCause.MONTHLY_CLOSE),
        (RECOMPUTED, ComputationCause.DAILY_RECOMPUTE),
    ]


def test_a_change_of_kpi_data_recomputes_the_open_month_once_it_commits_as_such(django_capture_on_commit_callbacks):
    contract = contract_a()
    ContractScopeFactory(contract=contract, channel=Channel.VOICE)
    close(contract, "2026-01")

    with django_capture_on_commit_callbacks(execute=True):
        save_measurements(
            contract=contract,
            values=[KpiValue("answered_within_20s", "2026-01", 40_000, row=0, column="value")],
            source=MeasurementSource.API,
            actor=contract.owner,
        )

    assert computations(contract, "2026-01")[-1] == (RECOMPUTED, ComputationCause.KPI_DATA)


def test_a_waiver_recomputes_the_later_months_as_after_a_waiver_by_who_waived(procurement):
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    reopen_statement(statement_id=statement_of(contract, "2026-01").pk, actor=procurement, reason="A waiver.")
    close(contract, "2026-01")

    waive_line(line_id=line_of(contract, "2026-01", "CSL-1").pk, actor=procurement, reason="Agreed in committee.")

    april = StatementEvent.objects.filter(statement=statement_of(contract, "2026-04"), action=RECOMPUTED).last()
    may = StatementEvent.objects.filter(statement=statement_of(contract, "2026-05"), action=ADJUSTED).last()
    assert (april.cause, april.actor, may.cause) == (ComputationCause.WAIVER, procurement, ComputationCause.WAIVER)


def test_an_approved_exclusion_recomputes_the_month_as_after_an_exclusion(procurement):
    contract, _april = contract_with_april_approved(procurement)

    decide_exclusion(exclusion_id=power_outage(contract).pk, actor=procurement, approve=True)

    assert computations(contract, "2026-04")[-1] == (RECOMPUTED, ComputationCause.EXCLUSION)


def test_a_reopened_statement_is_recomputed_as_reopened(procurement, django_capture_on_commit_callbacks):
    contract = contract_a("2026-02")
    january = approve(close(contract, "2026-01"), procurement)
    correct_january(contract)

    with django_capture_on_commit_callbacks(execute=True):
        reopen_statement(statement_id=january.pk, actor=procurement, reason="Recheck with the corrected data.")

    assert computations(contract, "2026-01")[-1] == (RECOMPUTED, ComputationCause.REOPENED)


def test_the_compute_penalties_command_names_itself():
    contract = contract_a()
    close(contract, "2026-01")
    correct_january(contract)

    call_command("compute_penalties", month="2026-01", contract=contract.reference, sync=True, stdout=None)

    assert computations(contract, "2026-01")[-1] == (RECOMPUTED, ComputationCause.COMMAND)


def test_the_history_names_each_computations_cause_and_who_caused_it(client, procurement):
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    reopen_statement(statement_id=statement_of(contract, "2026-01").pk, actor=procurement, reason="A waiver.")
    close(contract, "2026-01")
    waive_line(line_id=line_of(contract, "2026-01", "CSL-1").pk, actor=procurement, reason="Agreed in committee.")
    client.force_login(procurement)

    page = client.get(reverse("sla_tracker:statement", args=[statement_of(contract, "2026-04").pk])).content.decode()

    history = page[page.index('id="statement-history"') :]
    assert history.count('data-testid="event-cause">Monthly close</span>') == 1  # the first computation only
    assert f'data-testid="event-cause">After a waiver</span> ({procurement})' in history
