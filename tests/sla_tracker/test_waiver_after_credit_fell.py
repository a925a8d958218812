"""A waiver gives up the credit its line had when it was given, also after that credit fell and rose back.

Contract A of DOMAIN.md §6 (Example 1): January's CSL-1 is a default credited €14,400.00. Waived at that credit,
then corrected data make CSL-1 met (no credit: the waiver stays), then the data are put back: the credit is back
to the €14,400.00 the waiver gave up, not more, so the waiver stands.
"""

from datetime import date
from decimal import Decimal

import pytest

from sla_tracker.choices import StatementAction, StatementStatus
from sla_tracker.engine import prior_month_from_dict
from sla_tracker.models import Measurement, StatementEvent
from sla_tracker.services import approve_statement, submit_statement, waive_line
from tests.factories import MonthlyChargeFactory, UserFactory

from .test_adjustments_carry import adjustments
from .test_close import close, line_of, scenario_json, seed_scenario, statement_of
from .test_waiver_scope import abandon_more_calls

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def contract():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    close(contract, "2026-01")
    return contract


def answered_within_target(contract, value):
    Measurement.objects.filter(contract=contract, counter__code="answered_within_20s").update(value=value)


def original_answered(contract):
    return Measurement.objects.get(contract=contract, counter__code="answered_within_20s").value


def test_a_waiver_stands_when_a_credit_that_fell_rises_back_to_what_it_gave_up(contract):
    procurement = UserFactory(procurement=True)
    csl1 = line_of(contract, "2026-01", "CSL-1")
    assert csl1.credit == D("14400.00")
    waive_line(line_id=csl1.pk, actor=procurement, reason="Goodwill.")
    original = original_answered(contract)

    answered_within_target(contract, 45_000)
    close(contract, "2026-01")  # CSL-1 met: no credit, the waiver stays
    csl1.refresh_from_db()
    assert (csl1.credit, csl1.waived) == (D("0.00"), True)

    answered_within_target(contract, original)
    close(contract, "2026-01")  # back to the €14,400.00 the waiver gave up

    csl1.refresh_from_db()
    assert (csl1.credit, csl1.waived, csl1.waiver_reason) == (D("14400.00"), True, "Goodwill.")
    statement = statement_of(contract, "2026-01")
    assert list(StatementEvent.objects.filter(statement=statement, action=StatementAction.LINE_WAIVER_WITHDRAWN)) == []
    assert statement.credits == D("0.00")


def test_an_approved_month_carries_nothing_when_the_credit_rises_back_to_what_the_waiver_gave_up(contract):
    procurement = UserFactory(procurement=True)
    MonthlyChargeFactory(contract=contract, month=date(2026, 2, 1), amount=D("200000.00"))
    january = statement_of(contract, "2026-01")
    waive_line(line_id=line_of(contract, "2026-01", "CSL-1").pk, actor=procurement, reason="Goodwill.")
    original = original_answered(contract)
    answered_within_target(contract, 45_000)
    close(contract, "2026-01")  # CSL-1 met while January is open: the waiver stays on a line with no credit
    submit_statement(statement_id=january.pk, actor=procurement)
    approve_statement(statement_id=january.pk, actor=procurement)
    close(contract, "2026-02")

    answered_within_target(contract, original)
    close(contract, "2026-01")  # January stays as approved: the €14,400.00 is what the waiver gave up

    january.refresh_from_db()
    assert january.status == StatementStatus.APPROVED
    assert adjustments(contract) == []
    if january.effective_history is not None:
        history = {line.code: line.credit for line in prior_month_from_dict(january.effective_history).service_levels}
        assert history["CSL-1"] == D("0.00")


def test_what_rises_above_the_credit_waived_is_still_carried_after_a_fall(contract):
    procurement = UserFactory(procurement=True)
    MonthlyChargeFactory(contract=contract, month=date(2026, 2, 1), amount=D("200000.00"))
    january = statement_of(contract, "2026-01")
    csl2 = line_of(contract, "2026-01", "CSL-2")
    waive_line(line_id=csl2.pk, actor=procurement, reason="Nothing to claim.")  # waived with no credit
    submit_statement(statement_id=january.pk, actor=procurement)
    approve_statement(statement_id=january.pk, actor=procurement)
    close(contract, "2026-02")

    abandon_more_calls(contract)
    close(contract, "2026-01")

    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-2", D("-9600.00"))]
