"""config.db: the ``__any`` lookup, ``insert_rows``, ``insert_instances``, ``insert_history_rows`` and
``copy_history_rows``, on the database the suite runs on."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.db import copy_history_rows, insert_history_rows, insert_instances, insert_rows
from contracts.models import Contract
from sla_tracker.choices import LineStatus
from sla_tracker.models import PenaltyStatement, ServiceLevel, StatementLine
from tests.factories import (
    ContractFactory,
    PenaltyStatementFactory,
    ServiceLevelFactory,
    ServiceLevelVersionFactory,
    StatementLineFactory,
    UserFactory,
)


@pytest.mark.django_db
def test_any_selects_the_rows_of_the_listed_values_like_in():
    first, second, third = ContractFactory.create_batch(3)
    levels = [ServiceLevelFactory(contract=contract) for contract in (first, second, third)]

    assert set(Contract.objects.filter(pk__any=[first.pk, third.pk])) == {first, third}
    assert set(ServiceLevel.objects.filter(contract_id__any=[second.pk, third.pk])) == set(levels[1:])
    assert set(ServiceLevel.objects.filter(contract__any=[first.pk])) == {levels[0]}
    assert not Contract.objects.filter(pk__any=[]).exists()


@pytest.mark.django_db
def test_any_sends_one_parameter_on_postgresql_whatever_the_number_of_values():
    if connection.vendor != "postgresql":
        pytest.skip("the array parameter is PostgreSQL's; elsewhere __any is IN")
    ids = list(range(1, 1001))
    with CaptureQueriesContext(connection) as queries:
        list(Contract.objects.filter(pk__any=ids))

    (query,) = queries.captured_queries
    assert "= ANY(" in query["sql"] and " IN (" not in query["sql"]


@pytest.mark.django_db
def test_any_selects_by_values_other_than_ids_too():
    first, second = ContractFactory(reference="CT-A"), ContractFactory(reference="CT-B")
    ContractFactory(reference="CT-C")

    assert set(Contract.objects.filter(reference__any=["CT-A", "CT-B"])) == {first, second}
    assert set(Contract.objects.filter(pk__any=[first.pk, 2**40])) == {first}


@pytest.mark.django_db
def test_insert_rows_writes_the_given_values_and_the_defaults_of_the_others():
    statement = PenaltyStatementFactory()
    version = ServiceLevelVersionFactory(service_level__contract=statement.contract)
    inputs = {"counter_sums": {"answered": "41000"}, "excluded_days": ["2026-01-14"], "incident": None}

    insert_rows(
        StatementLine,
        [
            {
                "statement_id": statement.pk,
                "service_level_id": version.service_level_id,
                "terms_id": version.pk,
                "measured": Decimal("73.255814"),
                "status": LineStatus.DEFAULT,
                "run": 2,
                "credit": Decimal("14400.00"),
                "explanation": "73.26 % < 80 % target → default",
                "inputs": inputs,
            }
        ],
    )

    line = StatementLine.objects.get(statement=statement)
    assert (line.measured, line.status, line.run, line.credit) == (
        Decimal("73.255814"),
        LineStatus.DEFAULT,
        2,
        Decimal("14400.00"),
    )
    assert line.explanation == "73.26 % < 80 % target → default"
    assert line.inputs == inputs
    assert (line.numerator, line.raw_credit, line.waived, line.waiver_reason, line.waived_by) == (
        None,
        Decimal("0.00"),
        False,
        "",
        None,
    )


HISTORY_STAMP = ("history_id", "history_date")


@pytest.mark.django_db
@pytest.mark.parametrize("history_type", ["+", "~"])
def test_insert_history_rows_writes_the_rows_simple_history_writes(history_type):
    """The same rows as django-simple-history's own bulk history, but for their id and date."""
    statements = PenaltyStatementFactory.create_batch(2)
    PenaltyStatement.history.all().delete()
    user = UserFactory()
    # As bulk_create_with_history and bulk_update_with_history call it.
    PenaltyStatement.history.bulk_history_create(
        statements, update=history_type == "~", default_user=user, default_change_reason=None
    )
    expected = list(PenaltyStatement.history.order_by("history_id").values())
    PenaltyStatement.history.all().delete()

    insert_history_rows(statements, history_type=history_type, user=user)

    written = list(PenaltyStatement.history.order_by("history_id").values())
    assert [row["history_type"] for row in written] == [history_type, history_type]
    assert [row["history_user_id"] for row in written] == [user.pk, user.pk]
    for row in (*expected, *written):
        for name in HISTORY_STAMP:
            row.pop(name)
    assert written == expected
    assert [statement.history.count() for statement in statements] == [1, 1]


@pytest.mark.django_db
def test_insert_instances_gives_the_instances_keys_and_writes_them_as_bulk_create_does():
    contract = ContractFactory()
    existing = PenaltyStatementFactory(contract=contract, month="2026-01-01")
    statements = [
        PenaltyStatement(
            contract=contract,
            month=f"2026-0{month}-01",
            currency="EUR",
            charges=Decimal("1000.00"),
            credits=Decimal("12.50"),
            uncapped_credits=Decimal("12.50"),
            termination_rights=[{"type": "consecutive_defaults", "since": "2026-02"}],
        )
        for month in (2, 3)
    ]

    insert_instances(statements)

    assert all(statement.pk and not statement._state.adding for statement in statements)
    assert len({existing.pk, *(statement.pk for statement in statements)}) == 3
    stored = {row.pk: row for row in PenaltyStatement.objects.filter(contract=contract)}
    for statement in statements:
        row = stored[statement.pk]
        assert (row.month.isoformat(), row.status, row.credits, row.termination_rights) == (
            statement.month,
            "draft",
            Decimal("12.50"),
            [{"type": "consecutive_defaults", "since": "2026-02"}],
        )
    # The sequence moved past the keys drawn: the next insertion gets a new one.
    assert PenaltyStatementFactory(contract=contract, month="2026-04-01").pk not in stored


@pytest.mark.django_db
def test_insert_rows_with_keys_gives_each_row_its_key():
    statement = PenaltyStatementFactory()
    versions = [ServiceLevelVersionFactory(service_level__contract=statement.contract) for _ in range(2)]
    rows = [
        {
            "statement_id": statement.pk,
            "service_level_id": version.service_level_id,
            "terms_id": version.pk,
            "status": LineStatus.MET,
        }
        for version in versions
    ]

    insert_rows(StatementLine, rows, keys=True)

    lines = {line.service_level_id: line.pk for line in StatementLine.objects.filter(statement=statement)}
    assert [row["id"] for row in rows] == [lines[version.service_level_id] for version in versions]
    # The sequence moved past the keys drawn.
    assert StatementLine.objects.create(
        statement=PenaltyStatementFactory(contract=statement.contract, month="2026-02-01"),
        service_level=versions[0].service_level,
        terms=versions[0],
        status=LineStatus.MET,
    ).pk not in {row["id"] for row in rows}


@pytest.mark.django_db
@pytest.mark.parametrize("history_type", ["+", "~", "-"])
def test_copy_history_rows_writes_the_rows_insert_history_rows_writes(history_type):
    """Copied by the database from the rows as they stand; the same rows but for their id and date."""
    statement = PenaltyStatementFactory()
    lines = [
        StatementLineFactory(
            statement=statement,
            explanation=f"line {index}",
            inputs={"counter_sums": {"answered": "41000"}, "excluded_days": ["2026-01-14"]},
            explanation_notes=[{"code": "met"}],
        )
        for index in range(2)
    ]
    StatementLine.history.all().delete()
    user = UserFactory()
    insert_history_rows(lines, history_type=history_type, user=user)
    expected = list(StatementLine.history.order_by("id").values())
    StatementLine.history.all().delete()

    with CaptureQueriesContext(connection) as queries:
        copy_history_rows(StatementLine, [line.pk for line in lines], history_type=history_type, user=user)

    written = list(StatementLine.history.order_by("id").values())
    assert len(queries) == 1
    assert [(row["history_type"], row["history_user_id"]) for row in written] == [(history_type, user.pk)] * 2
    for row in (*expected, *written):
        for name in HISTORY_STAMP:
            row.pop(name)
    assert written == expected
