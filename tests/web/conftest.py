"""Shared data of the web tests: statements of two vendors in two currencies, and their users."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.choices import Currency
from sla_tracker.choices import LineStatus, StatementAction, StatementStatus
from sla_tracker.models import StatementLine
from tests.factories import (
    ContractFactory,
    PenaltyStatementFactory,
    StatementEventFactory,
    StatementLineFactory,
    UserFactory,
    VendorFactory,
    VendorUserFactory,
)

MONTH = datetime.date(2025, 3, 1)


def make_statement(*, contract=None, status=StatementStatus.IN_REVIEW, lines=2, month=MONTH, **contract_fields):
    """A statement whose first line is a default with a credit, the others met; totals match the lines."""
    contract = contract or ContractFactory(**contract_fields)
    credit = Decimal("1500.00")
    statement = PenaltyStatementFactory(
        contract=contract,
        month=month,
        status=status,
        uncapped_credits=credit,
        credits=credit,
        bonuses=Decimal("200.00"),
        earn_backs=Decimal("0.00"),
        net=Decimal("200.00") - credit,
    )
    for index in range(lines):
        StatementLineFactory(
            statement=statement,
            status=LineStatus.DEFAULT if index == 0 else LineStatus.MET,
            measured=Decimal("72.500000") if index == 0 else Decimal("85.000000"),
            credit=credit if index == 0 else Decimal("0.00"),
            bonus=Decimal("200.00") if index == 1 else Decimal("0.00"),
            explanation=f"line {index}: 72.50 % < 80 % target → default" if index == 0 else "85.00 % ≥ 80 % → met",
        )
        StatementEventFactory(statement=statement, action=StatementAction.COMPUTED, note=f"event {index}")
    return statement


def computed_at(statement, when: datetime.datetime) -> None:
    """``statement``'s lines as if computed at ``when``: their history (a past meeting's scorecard reads each line as
    it stood on the meeting day from it)."""
    StatementLine.history.filter(statement_id=statement.pk).update(history_date=when)


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


@pytest.fixture
def statement():
    """An in-review EUR statement of one vendor."""
    return make_statement(currency=Currency.EUR)


@pytest.fixture
def other_statement():
    """An in-review GBP statement of another vendor."""
    return make_statement(vendor=VendorFactory(name="Other BPO"), currency=Currency.GBP)


@pytest.fixture
def vendor_user(statement):
    return VendorUserFactory(vendor=statement.contract.vendor)


@pytest.fixture
def count_queries():
    def count(client, url, **extra):
        with CaptureQueriesContext(connection) as context:
            response = client.get(url, **extra)
        assert response.status_code == 200, response.status_code
        return len(context.captured_queries)

    return count
