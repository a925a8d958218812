"""Corrections of approved months: carried once into the next open statement, withdrawn when the month is
reopened and recomputed, and never lost while no open statement exists.

Contract A of DOMAIN.md §6 (Example 1): January's CSL-1 is a default credited €14,400.00. Its data corrected
after approval (answered within 20 s 40,000 of 43,000: met) make a difference of €14,400.00 in the vendor's
favour. The correction must count once, whatever the order of approvals, reopenings and closes.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import MonthlyCharge
from sla_tracker.choices import ApprovalStatus, StatementAction, StatementStatus
from sla_tracker.models import Exclusion, Measurement, PenaltyStatement, StatementAdjustment, StatementEvent
from sla_tracker.services import (
    approve_statement,
    close_contracts_month,
    decide_exclusion,
    dispute_line,
    reopen_statement,
    submit_statement,
)
from sla_tracker.tasks import recompute_changed_drafts, recompute_contract_drafts
from tests.factories import ExclusionFactory, MonthlyChargeFactory, UserFactory, VendorUserFactory

from .test_close import AS_OF, close, line_of, scenario_json, seed_scenario, snapshot, statement_of

D = Decimal


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


def approve(statement, actor):
    submit_statement(statement_id=statement.pk, actor=actor)
    return approve_statement(statement_id=statement.pk, actor=actor)


def contract_a(*extra_months: str):
    """Contract A with January's data, and charges for ``extra_months`` (no data: nothing credited)."""
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    for month in extra_months:
        MonthlyChargeFactory(contract=contract, month=date.fromisoformat(f"{month}-01"), amount=D("200000.00"))
    return contract


def correct_january(contract):
    """January's data corrected: CSL-1 met after all (40,000 of 43,000 answered within 20 s)."""
    Measurement.objects.filter(contract=contract, counter__code="answered_within_20s").update(value=40_000)


def adjustments(contract) -> list[tuple[str, str, str, Decimal]]:
    return [
        (f"{row.origin.month:%Y-%m}", f"{row.statement.month:%Y-%m}", row.service_level.code, row.amount)
        for row in StatementAdjustment.objects.filter(statement__contract=contract).order_by("statement__month", "id")
    ]


def last_data(statement, action=StatementAction.RECOMPUTED) -> dict:
    return StatementEvent.objects.filter(statement=statement, action=action).order_by("created_at", "id").last().data


def nets(contract) -> dict[str, Decimal]:
    return {
        f"{month:%Y-%m}": net
        for month, net in PenaltyStatement.objects.filter(contract=contract)
        .order_by("month")
        .values_list("month", "net")
    }


# A reopened month -------------------------------------------------------------------------------------------


def _recompute_by_close(contract):
    close(contract, "2026-01")


def _recompute_nightly(contract):
    recompute_contract_drafts.delay(contract.pk).get()


@pytest.mark.django_db
@pytest.mark.parametrize("recompute", [_recompute_by_close, _recompute_nightly], ids=["close", "nightly"])
def test_a_reopened_month_recomputed_with_its_correction_withdraws_the_adjustment_it_caused(procurement, recompute):
    contract = contract_a("2026-02")
    january = approve(close(contract, "2026-01"), procurement)
    close(contract, "2026-02")
    correct_january(contract)
    close(contract, "2026-01")  # January stays as approved; February carries the difference
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]
    assert nets(contract) == {"2026-01": D("-14400.00"), "2026-02": D("14400.00")}

    reopen_statement(statement_id=january.pk, actor=procurement, reason="The corrected data, on January itself.")
    recompute(contract)

    # January now credits what the corrected data give; February's adjustment is withdrawn: counted once.
    assert nets(contract) == {"2026-01": D("0.00"), "2026-02": D("0.00")}
    assert line_of(contract, "2026-01", "CSL-1").credit == D("0.00")
    february = statement_of(contract, "2026-02")
    assert (february.adjustments, february.credits) == (D("0.00"), D("0.00"))
    assert adjustments(contract) == []
    assert last_data(february, StatementAction.ADJUSTED) == {"origin": "2026-01", "withdrawn": {"CSL-1": "14400.00"}}
    assert last_data(january) == {"withdrawn_from": {"2026-02": {"CSL-1": "14400.00"}}, "pending": {}}


@pytest.mark.django_db
def test_reopening_recomputes_the_open_statements_once_it_commits(procurement, django_capture_on_commit_callbacks):
    contract = contract_a("2026-02")
    january = approve(close(contract, "2026-01"), procurement)
    close(contract, "2026-02")
    correct_january(contract)
    close(contract, "2026-01")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reopen_statement(statement_id=january.pk, actor=procurement, reason="Recheck with the corrected data.")

    assert len(callbacks) == 1
    assert nets(contract) == {"2026-01": D("0.00"), "2026-02": D("0.00")}
    assert adjustments(contract) == []


@pytest.mark.django_db
def test_a_reopened_month_reverses_in_the_next_open_statement_an_adjustment_already_approved(procurement):
    contract = contract_a("2026-02", "2026-03")
    january = approve(close(contract, "2026-01"), procurement)
    february = close(contract, "2026-02")
    correct_january(contract)
    close(contract, "2026-01")
    approve(february, procurement)  # February is approved with January's +14,400.00
    close(contract, "2026-03")

    reopen_statement(statement_id=january.pk, actor=procurement, reason="Corrected data on January itself.")
    close(contract, "2026-01")

    assert adjustments(contract) == [
        ("2026-01", "2026-02", "CSL-1", D("14400.00")),
        ("2026-01", "2026-03", "CSL-1", D("-14400.00")),
    ]
    assert nets(contract) == {"2026-01": D("0.00"), "2026-02": D("14400.00"), "2026-03": D("-14400.00")}
    assert sum(nets(contract).values()) == D("0.00")  # as if January had been approved with the correction
    assert statement_of(contract, "2026-02").status == StatementStatus.APPROVED
    march = statement_of(contract, "2026-03")
    assert last_data(march, StatementAction.ADJUSTED) == {"origin": "2026-01", "amounts": {"CSL-1": "-14400.00"}}
    assert last_data(statement_of(contract, "2026-01")) == {
        "carried_into": {"2026-03": {"CSL-1": "-14400.00"}},
        "pending": {},
    }


@pytest.mark.django_db
def test_recomputing_a_reopened_month_again_writes_nothing(procurement):
    contract = contract_a("2026-02")
    january = approve(close(contract, "2026-01"), procurement)
    close(contract, "2026-02")
    correct_january(contract)
    close(contract, "2026-01")
    reopen_statement(statement_id=january.pk, actor=procurement, reason="Recheck.")
    recompute_contract_drafts.delay(contract.pk).get()  # January, then February (whose history it is)
    before, events = snapshot(contract), StatementEvent.objects.count()

    close(contract, "2026-01")
    recompute_contract_drafts.delay(contract.pk).get()

    assert snapshot(contract) == before
    assert StatementEvent.objects.count() == events


@pytest.mark.django_db
def test_a_reopened_month_approved_again_carries_only_a_later_correction(procurement):
    contract = contract_a("2026-02")
    january = approve(close(contract, "2026-01"), procurement)
    close(contract, "2026-02")
    correct_january(contract)
    close(contract, "2026-01")
    reopen_statement(statement_id=january.pk, actor=procurement, reason="Recheck.")
    close(contract, "2026-01")
    approve_statement(statement_id=january.pk, actor=procurement)  # approved again, at €0.00
    # The correction is itself corrected back: January's CSL-1 was a default after all.
    Measurement.objects.filter(contract=contract, counter__code="answered_within_20s").update(value=31_500)

    close(contract, "2026-01")

    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("-14400.00"))]
    assert nets(contract) == {"2026-01": D("0.00"), "2026-02": D("-14400.00")}


# A difference waiting for an open statement -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_waiting_difference_is_carried_by_the_close_of_the_next_month(procurement):
    contract = contract_a("2026-02")
    january = approve(close(contract, "2026-01"), procurement)
    correct_january(contract)
    close(contract, "2026-01")
    assert last_data(january) == {"pending": {"CSL-1": "14400.00"}}

    close(contract, "2026-02")  # the monthly close of February: nobody closes January again

    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]
    assert nets(contract) == {"2026-01": D("-14400.00"), "2026-02": D("14400.00")}
    assert last_data(january) == {"carried_into": {"2026-02": {"CSL-1": "14400.00"}}, "pending": {}}
    february = statement_of(contract, "2026-02")
    assert [event.action for event in february.events.all()] == [StatementAction.COMPUTED, StatementAction.ADJUSTED]


@pytest.mark.django_db
def test_the_nightly_recompute_carries_a_waiting_difference_into_a_statement_reopened_since(procurement):
    contract = contract_a("2026-02")
    approve(close(contract, "2026-01"), procurement)
    february = approve(close(contract, "2026-02"), procurement)
    correct_january(contract)
    close(contract, "2026-01")  # nothing open after January: the difference waits
    assert adjustments(contract) == []
    reopen_statement(statement_id=february.pk, actor=procurement, reason="A late credit note.")

    assert recompute_changed_drafts.delay().get() == 1

    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]
    assert statement_of(contract, "2026-02").net == D("14400.00")


@pytest.mark.django_db
def test_a_waiting_difference_is_carried_once_however_often_later_months_close(procurement):
    contract = contract_a("2026-02", "2026-03")
    approve(close(contract, "2026-01"), procurement)
    correct_january(contract)
    close(contract, "2026-01")

    close(contract, "2026-02")
    close(contract, "2026-03")
    recompute_changed_drafts.delay().get()
    close(contract, "2026-01")

    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]
    assert StatementEvent.objects.filter(action=StatementAction.ADJUSTED).count() == 1


@pytest.mark.django_db
def test_a_disputed_statement_is_open_for_adjustments(procurement):
    contract = contract_a("2026-02")
    approve(close(contract, "2026-01"), procurement)
    february = close(contract, "2026-02")
    submit_statement(statement_id=february.pk, actor=procurement)
    vendor = VendorUserFactory(vendor=contract.vendor)
    dispute_line(line_id=line_of(contract, "2026-02", "CSL-3").pk, actor=vendor, reason="E-mails were not counted.")
    correct_january(contract)

    close(contract, "2026-01")

    february.refresh_from_db()
    assert february.status == StatementStatus.DISPUTED
    assert (february.adjustments, february.net) == (D("14400.00"), D("14400.00"))
    assert recompute_contract_drafts.delay(contract.pk).get() == 1  # the nightly recompute includes it


@pytest.mark.django_db
def test_a_batch_with_waiting_differences_runs_the_same_queries_for_one_contract_or_three(procurement):
    counts = []
    for size in (1, 3):
        contracts = [contract_a("2026-02") for _ in range(size)]
        for contract in contracts:
            approve(close(contract, "2026-01"), procurement)
            correct_january(contract)
            close(contract, "2026-01")
        with CaptureQueriesContext(connection) as queries:
            closed = close_contracts_month(contract_ids=[c.pk for c in contracts], month="2026-02", as_of=AS_OF)
        assert closed.refused == {}
        counts.append(len(queries))
        for contract in contracts:
            assert adjustments(contract) == [("2026-01", "2026-02", "CSL-1", D("14400.00"))]

    assert counts[0] == counts[1]


# Inputs of an approved month changed: an exclusion approved after the month ---------------------------------


def contract_with_april_approved(procurement):
    """Example 11's contract without its exclusion: April's CSL-1 76.74 % → default, €14,400.00, approved."""
    contract = seed_scenario(scenario_json("ex11_excluded_days"))
    Exclusion.objects.filter(contract=contract).delete()
    MonthlyChargeFactory(contract=contract, month=date(2026, 5, 1), amount=D("200000.00"))
    april = close(contract, "2026-04")
    assert april.credits == D("14400.00")
    return contract, approve(april, procurement)


def power_outage(contract):
    return ExclusionFactory(
        contract=contract, start_date=date(2026, 4, 14), end_date=date(2026, 4, 15), requested_by=contract.owner
    )


@pytest.mark.django_db
def test_an_exclusion_approved_after_the_month_carries_its_difference_at_once(
    procurement, django_capture_on_commit_callbacks
):
    contract, april = contract_with_april_approved(procurement)
    close(contract, "2026-05")
    approved = snapshot(contract)[:1]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decide_exclusion(exclusion_id=power_outage(contract).pk, actor=procurement, approve=True)

    assert snapshot(contract)[:1] == approved  # April stays as approved
    assert adjustments(contract) == [("2026-04", "2026-05", "CSL-1", D("14400.00"))]
    assert statement_of(contract, "2026-05").net == D("14400.00")
    assert last_data(april) == {"carried_into": {"2026-05": {"CSL-1": "14400.00"}}, "pending": {}}
    assert len(callbacks) == 1  # and the open statements are recomputed once it commits


@pytest.mark.django_db
def test_an_exclusion_approved_before_the_next_close_waits_then_is_carried_by_it(procurement):
    contract, april = contract_with_april_approved(procurement)

    decide_exclusion(exclusion_id=power_outage(contract).pk, actor=procurement, approve=True)

    assert last_data(april) == {"pending": {"CSL-1": "14400.00"}}
    close(contract, "2026-05")
    assert adjustments(contract) == [("2026-04", "2026-05", "CSL-1", D("14400.00"))]


@pytest.mark.django_db
def test_an_exclusion_whose_approved_month_cannot_be_recomputed_is_refused_with_the_reason(procurement):
    contract, _april = contract_with_april_approved(procurement)
    MonthlyCharge.objects.filter(contract=contract, month=date(2026, 4, 1)).delete()
    exclusion = power_outage(contract)

    with pytest.raises(ValidationError) as refused:
        decide_exclusion(exclusion_id=exclusion.pk, actor=procurement, approve=True)

    assert refused.value.messages == [
        f"{contract.reference} has no monthly charges for April 2026: record them before the close."
    ]
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.PROPOSED
    assert adjustments(contract) == []
