"""The close of a batch of contracts in one transaction: the same statements as closing them one
by one, a refused contract that stops nothing else, and a number of queries fixed per batch."""

import gc
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import MonthlyCharge
from sla_tracker import services, tasks
from sla_tracker.choices import ComputationCause, StatementAction
from sla_tracker.engine import Month
from sla_tracker.models import PenaltyStatement, StatementAdjustment, StatementEvent
from sla_tracker.services import (
    ClosedMonth,
    approve_statement,
    close_contracts_month,
    submit_statement,
    waive_line,
)
from tests.factories import ContractFactory, MonthlyChargeFactory, UserFactory
from tests.sla_tracker.test_close import (
    AS_OF,
    SCENARIOS,
    close,
    figures,
    line_of,
    scenario_json,
    seed_scenario,
    seed_synthetic,
    statement_of,
)
from tests.sla_tracker.test_waiver_scope import abandon_more_calls


def close_batch(contracts, month: str) -> ClosedMonth:
    return close_contracts_month(contract_ids=[contract.pk for contract in contracts], month=month, as_of=AS_OF)


@pytest.mark.django_db
def test_a_batch_of_every_domain_example_gives_the_figures_and_fingerprints_of_closing_them_one_by_one():
    by_last_month = defaultdict(list)
    for path in sorted(SCENARIOS.glob("*.json")):
        data = scenario_json(path.stem)
        by_last_month[data["months"]["to"]].append(data)
    assert sum(len(items) for items in by_last_month.values()) >= 24

    for month, items in by_last_month.items():
        one_by_one = [seed_scenario(data) for data in items]
        batched = [seed_scenario(data) for data in items]
        for contract in one_by_one:
            close(contract, month)

        closed = close_batch(batched, month)

        assert closed.refused == {}
        assert sorted(closed.statements) == sorted(contract.pk for contract in batched)
        for single, batch in zip(one_by_one, batched, strict=True):
            assert figures(batch) == figures(single), single.reference
            assert closed.statements[batch.pk].month == Month.parse(month).first_day


@pytest.mark.django_db
def test_a_contract_that_cannot_be_closed_is_refused_and_the_rest_of_the_batch_closes():
    good = seed_scenario(scenario_json("ex09_multiplier"))  # February to July: six statements
    unclosable = seed_scenario(scenario_json("ex09_multiplier"))
    MonthlyCharge.objects.filter(contract=unclosable, month=date(2026, 5, 1)).delete()
    reference = seed_scenario(scenario_json("ex09_multiplier"))
    close(reference, "2026-07")

    closed = close_batch([good, unclosable], "2026-07")

    assert set(closed.statements) == {good.pk}
    assert closed.refused == {
        unclosable.pk: f"{unclosable.reference} has no monthly charges for May 2026: record them before the close."
    }
    assert not PenaltyStatement.objects.filter(contract=unclosable).exists()  # not even February to April
    assert figures(good) == figures(reference)


@pytest.mark.django_db
def test_an_unknown_contract_id_is_refused_by_name():
    good = seed_scenario(scenario_json("ex01_plain_breach"))

    closed = close_contracts_month(contract_ids=[good.pk, 999_999], month="2026-01", as_of=AS_OF)

    assert closed.refused == {999_999: "Contract 999999 does not exist."}
    assert set(closed.statements) == {good.pk}


@pytest.mark.django_db
def test_the_queries_of_a_batch_do_not_grow_with_its_contracts():
    small = [seed_synthetic(2, 10) for _ in range(2)]
    large = [seed_synthetic(4, 28) for _ in range(6)]
    counts = []
    for batch in (small, large):
        with CaptureQueriesContext(connection) as first:
            closed = close_batch(batch, "2026-01")
        with CaptureQueriesContext(connection) as again:
            close_batch(batch, "2026-01")
        assert closed.refused == {}
        counts.append((len(first), len(again)))

    assert counts[0] == counts[1]
    assert StatementEvent.objects.count() == 8  # one "computed" per contract; the second close wrote nothing


def waived_then_raised(approved: bool):
    """Contract A of DOMAIN.md §6 with January's CSL-2 (no credit) waived, then the data corrected so that a
    recomputation credits it: January left open (the close withdraws the waiver) or approved with February closed
    (the close carries what the waiver did not give up into February)."""
    procurement = UserFactory(procurement=True)
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    MonthlyChargeFactory(contract=contract, month=date(2026, 2, 1), amount="200000.00")
    close(contract, "2026-01")
    waive_line(line_id=line_of(contract, "2026-01", "CSL-2").pk, actor=procurement, reason="Nothing to claim.")
    if approved:
        january = statement_of(contract, "2026-01")
        submit_statement(statement_id=january.pk, actor=procurement)
        approve_statement(statement_id=january.pk, actor=procurement)
        close(contract, "2026-02")
    abandon_more_calls(contract)
    return contract


@pytest.mark.django_db
@pytest.mark.parametrize("approved", [False, True], ids=["open month", "approved month"])
def test_the_queries_of_a_batch_do_not_grow_with_its_waived_lines_whose_credit_rose(approved):
    counts = []
    for size in (1, 3):
        batch = [waived_then_raised(approved) for _ in range(size)]
        with CaptureQueriesContext(connection) as queries:
            closed = close_batch(batch, "2026-01")
        assert closed.refused == {}
        counts.append(len(queries))
        for contract in batch:  # the waiver's rule applied to each contract of the batch
            if approved:
                carried = StatementAdjustment.objects.get(statement__contract=contract)
                assert carried.amount == Decimal("-9600.00")
            else:
                assert line_of(contract, "2026-01", "CSL-2").waived is False
                withdrawn = StatementEvent.objects.filter(
                    statement__contract=contract, action=StatementAction.LINE_WAIVER_WITHDRAWN
                )
                assert withdrawn.count() == 1

    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_a_batch_records_who_closed_in_the_statements_history_and_events(admin_user):
    contracts = [seed_scenario(scenario_json("ex01_plain_breach")) for _ in range(2)]

    close_contracts_month(contract_ids=[c.pk for c in contracts], month="2026-01", as_of=AS_OF, actor=admin_user)

    for contract in contracts:
        statement = PenaltyStatement.objects.get(contract=contract)
        assert [record.history_user for record in statement.history.all()] == [admin_user]
        assert [event.actor for event in statement.events.all()] == [admin_user]


def test_compute_month_queues_one_task_per_batch_of_close_batch_size_contracts(monkeypatch, settings):
    queued = []

    class Group:
        def __init__(self, signatures):
            queued.extend(signatures)

        def apply_async(self):
            return None

    settings.CLOSE_BATCH_SIZE = 2
    monkeypatch.setattr(tasks, "contract_ids_to_close", lambda month: [3, 5, 8, 13, 21])
    monkeypatch.setattr(tasks, "group", Group)

    assert tasks.compute_month("2026-07") == 5
    assert [(signature.task, signature.args) for signature in queued] == [
        ("sla_tracker.evaluate_contracts_month", ([3, 5], "2026-07", ComputationCause.MONTHLY_CLOSE)),
        ("sla_tracker.evaluate_contracts_month", ([8, 13], "2026-07", ComputationCause.MONTHLY_CLOSE)),
        ("sla_tracker.evaluate_contracts_month", ([21], "2026-07", ComputationCause.MONTHLY_CLOSE)),
    ]


@pytest.mark.django_db
def test_the_batch_task_reports_what_it_closed_and_refused():
    good = seed_scenario(scenario_json("ex01_plain_breach"))
    without_charges = ContractFactory()

    result = tasks.evaluate_contracts_month.delay([good.pk, without_charges.pk], "2026-01").get()

    assert result == {"closed": 1, "refused": 1}
    assert PenaltyStatement.objects.filter(contract=good).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("enabled_before", [True, False])
def test_a_batch_closes_with_the_cyclic_garbage_collector_paused_and_leaves_it_as_it_found_it(
    monkeypatch, enabled_before
):
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    seen = []
    evaluate = services.evaluate_month

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(services, "evaluate_month", spy)
    if not enabled_before:
        gc.disable()
    try:
        closed = close_batch([contract], "2026-01")
        after = gc.isenabled()
    finally:
        gc.enable()

    assert closed.refused == {} and seen and not any(seen)
    assert after is enabled_before
