"""What the monthly close reads: only the months being closed, and a history only as far back as
the terms can look — with the same figures (and fingerprints) as a close of every month at once."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla_tracker.engine import Month
from sla_tracker.models import PenaltyStatement
from sla_tracker.penalty_inputs import load_close_inputs, lock_contract
from tests.sla_tracker.test_close import close, figures, scenario_json, seed_scenario

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def _tables(queries, table: str) -> list[str]:
    return [query["sql"] for query in queries if f'FROM "{table}"' in query["sql"]]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["ex09_multiplier", "ex13_termination_triggers", "ex15_annual_cap"])
def test_closing_month_by_month_gives_the_figures_of_a_close_of_every_month_at_once(name):
    data = scenario_json(name)
    first, last = Month.parse(data["months"]["from"]), Month.parse(data["months"]["to"])
    stepwise = seed_scenario(data)
    at_once = seed_scenario(data)
    month = first
    while month <= last:
        close(stepwise, str(month))
        month += 1
    close(at_once, str(last))

    assert figures(stepwise) == figures(at_once)


@pytest.mark.django_db
def test_a_monthly_close_reads_the_counters_of_the_closed_month_only_and_a_lean_history():
    contract = seed_scenario(scenario_json("ex09_multiplier"))
    close(contract, "2026-06")

    with CaptureQueriesContext(connection) as queries:
        close(contract, "2026-07")

    sums = [sql for sql in _tables(queries, "sla_tracker_measurement") if 'FROM "contracts_contract"' not in sql]
    assert len(sums) == 1  # the first month with data is read with the contract's lock
    assert "'2026-07-01'" in sums[0] and "'2026-06-01'" not in sums[0]
    assert "MIN(" not in " ".join(query["sql"] for query in queries).upper()
    # Read once (the new lines' history is copied from the table by the database: a write).
    lines = [sql for sql in _tables(queries, "sla_tracker_statementline") if not WRITES.match(sql)]
    assert len(lines) == 1
    assert '"sla_tracker_statementline"."explanation"' not in lines[0]
    assert not _tables(queries, "sla_tracker_statementadjustment")


@pytest.mark.django_db
def test_the_history_is_read_only_as_far_back_as_the_terms_look():
    contract = seed_scenario(scenario_json("ex09_multiplier"))
    close(contract, "2026-07")

    locked, first = lock_contract(contract.pk)
    inputs = load_close_inputs(locked, Month(2026, 7), first)

    assert inputs.to_close == (Month(2026, 7),)
    assert list(inputs.terms) == [Month(2026, 7)]
    assert all(row.month == Month(2026, 7) for row in inputs.data.rows)
    for month, statement in inputs.statements.items():
        cache = getattr(statement, "_prefetched_objects_cache", {})
        assert ("lines" in cache) == (month >= Month(2026, 7) - inputs.lookback.lines), month


@pytest.mark.django_db
def test_months_only_the_annual_cap_looks_at_are_read_by_their_totals():
    contract = seed_scenario(scenario_json("ex15_annual_cap"))
    close(contract, "2026-11")

    locked, first = lock_contract(contract.pk)
    with CaptureQueriesContext(connection) as queries:
        inputs = load_close_inputs(locked, Month(2026, 12), first)

    assert inputs.lookback == (12, 1)
    assert inputs.summarised == {Month(2026, month) for month in range(1, 11)}
    for month, statement in inputs.statements.items():
        cache = getattr(statement, "_prefetched_objects_cache", {})
        assert ("lines" in cache) == (month == Month(2026, 11)), month
    (lines,) = _tables(queries, "sla_tracker_statementline")
    read = re.search(r"\"statement_id\" (?:IN \(([\d, ]+)\)|= ANY\('\{([\d,]+)\}')", lines)
    assert read and (read[1] or read[2]) == str(inputs.statements[Month(2026, 11)].pk)  # one statement's lines


@pytest.mark.django_db
def test_closing_an_unchanged_month_again_writes_nothing_and_reads_no_more():
    contract = seed_scenario(scenario_json("ex13_termination_triggers"))
    close(contract, "2026-09")
    stored = PenaltyStatement.objects.get(contract=contract, month="2026-09-01")

    with CaptureQueriesContext(connection) as queries:
        again = close(contract, "2026-09")

    assert again.input_fingerprint == stored.input_fingerprint
    assert [query["sql"] for query in queries if WRITES.match(query["sql"])] == []


@pytest.mark.django_db
def test_the_query_count_of_a_monthly_close_does_not_grow_with_the_months_of_history():
    short, long = seed_scenario(scenario_json("ex09_multiplier")), seed_scenario(scenario_json("ex09_multiplier"))
    close(short, "2026-02")
    close(long, "2026-06")

    with CaptureQueriesContext(connection) as one_month:
        close(short, "2026-03")
    with CaptureQueriesContext(connection) as five_months:
        close(long, "2026-07")

    assert len(one_month) == len(five_months)
