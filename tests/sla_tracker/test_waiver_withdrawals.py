"""Procurement withdraws a waiver given by mistake before the statement is approved: the line's credit (or the
adjustment) counts again, exactly as before the waiver, in the totals and, for a line, in later months' history.
The waiver stays on record. Each refusal leaves the database as it was.

Contract A of DOMAIN.md §6 (Example 1): January's CSL-1 default credits €14,400.00; Example 10 (earn-back) for
the later months' history.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from sla_tracker.choices import ComputationCause, StatementAction, StatementStatus
from sla_tracker.models import LineDispute, StatementEvent
from sla_tracker.services import (
    approve_statement,
    dispute_adjustment,
    dispute_line,
    mark_statement_invoiced,
    reopen_statement,
    resolve_adjustment_dispute,
    resolve_dispute,
    submit_statement,
    waive_adjustment,
    waive_line,
    withdraw_adjustment_waiver,
    withdraw_line_waiver,
)
from tests.factories import UserFactory, VendorUserFactory

from .test_adjustment_disputes import adjustment, february  # noqa: F401 - fixtures
from .test_adjustments_carry import adjustments, nets
from .test_close import close, line_of, scenario_json, seed_scenario, snapshot, statement_of
from .test_corrected_history import EARN_BACK_MONTHS, approved_months, total

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


@pytest.fixture
def statement():
    """Contract A's January, a draft: CSL-1 credits €14,400.00."""
    return close(seed_scenario(scenario_json("ex01_plain_breach")), "2026-01")


def csl1(statement):
    return line_of(statement.contract, "2026-01", "CSL-1")


def events(statement) -> list[tuple]:
    return list(
        StatementEvent.objects.filter(statement=statement)
        .order_by("pk")
        .values_list("action", "actor", "line", "adjustment", "note", "cause")
    )


def _refused(statement, call, match):
    """``call`` is refused with ``match`` and leaves every statement, line, adjustment and event as it was."""
    contract = statement.contract
    before = (snapshot(contract), adjustments(contract), _waivers(contract), events(statement))
    with pytest.raises(ValidationError, match=match):
        call()
    assert (snapshot(contract), adjustments(contract), _waivers(contract), events(statement)) == before


def _waivers(contract) -> list[tuple]:
    """Every waiver's fields of the contract's lines and adjustments."""
    rows = []
    for statement in contract.statements.order_by("month"):
        for item in [*statement.lines.order_by("pk"), *statement.adjustment_lines.order_by("pk")]:
            rows.append((type(item).__name__, item.pk, item.waived, item.waiver_reason, item.waived_by_id))
    return rows


# A line ---------------------------------------------------------------------------------------------------------


def test_withdrawing_a_lines_waiver_counts_its_credit_again_and_keeps_the_waiver_on_record(statement, procurement):
    before = (statement.credits, statement.net)
    assert before == (D("14400.00"), D("-14400.00"))
    waiver_author, withdrawer = procurement, UserFactory(procurement=True)
    waive_line(line_id=csl1(statement).pk, actor=waiver_author, reason="Goodwill: the first month.")

    line = withdraw_line_waiver(line_id=csl1(statement).pk, actor=withdrawer, reason="  Waived by mistake. ")

    statement.refresh_from_db()
    assert (statement.credits, statement.net) == before
    line.refresh_from_db()
    assert (line.waived, line.waiver_reason, line.waived_by, line.waived_at) == (False, "", None, None)
    assert (line.credit, line.charged_credit) == (D("14400.00"), D("14400.00"))
    assert events(statement)[-2:] == [
        (StatementAction.LINE_WAIVED, waiver_author.pk, line.pk, None, "Goodwill: the first month.", ""),
        (StatementAction.LINE_WAIVER_WITHDRAWN, withdrawer.pk, line.pk, None, "Waived by mistake.", ""),
    ]
    versions = list(line.history.order_by("-history_date", "-history_id")[:2])
    assert [(version.history_user, version.waived, version.waiver_reason) for version in versions] == [
        (withdrawer, False, ""),
        (waiver_author, True, "Goodwill: the first month."),
    ]


def test_a_withdrawn_waiver_can_be_given_again_and_survives_a_recomputation(statement, procurement):
    waive_line(line_id=csl1(statement).pk, actor=procurement, reason="Goodwill.")
    withdraw_line_waiver(line_id=csl1(statement).pk, actor=procurement, reason="Not agreed yet.")

    again = close(statement.contract, "2026-01")
    assert (csl1(statement).waived, again.credits) == (False, D("14400.00"))
    waive_line(line_id=csl1(statement).pk, actor=procurement, reason="Agreed in committee.")

    statement.refresh_from_db()
    assert (csl1(statement).waived, statement.credits, statement.net) == (True, D("0.00"), D("0.00"))


def test_withdrawing_a_waiver_gives_a_later_approved_month_its_earn_back_again(procurement):
    """Example 10: January's credit is earned back in April (approved). Waiving January took April's earn-back
    back in May; withdrawing the waiver carries it into May again, as a recomputation after the withdrawal."""
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    before = nets(contract)
    approved = snapshot(contract)[1:4]  # February to April, approved
    reopen_statement(statement_id=statement_of(contract, "2026-01").pk, actor=procurement, reason="A waiver.")
    close(contract, "2026-01")
    waive_line(line_id=line_of(contract, "2026-01", "CSL-1").pk, actor=procurement, reason="Agreed in committee.")
    assert nets(contract)["2026-05"] == D("-14400.00")  # April's earn-back taken back

    withdraw_line_waiver(line_id=line_of(contract, "2026-01", "CSL-1").pk, actor=procurement, reason="Not agreed.")

    assert (
        nets(contract)
        == before
        == {
            "2026-01": D("-14400.00"),
            "2026-02": D("0.00"),
            "2026-03": D("0.00"),
            "2026-04": D("14400.00"),
            "2026-05": D("0.00"),
        }
    )
    assert adjustments(contract) == [
        ("2026-04", "2026-05", "CSL-1", D("-14400.00")),
        ("2026-04", "2026-05", "CSL-1", D("14400.00")),
    ]
    assert total(contract) == D("0.00")
    assert snapshot(contract)[1:4] == approved  # the approved months stay as approved
    april = StatementEvent.objects.filter(
        statement=statement_of(contract, "2026-04"), action=StatementAction.RECOMPUTED
    )
    may = StatementEvent.objects.filter(statement=statement_of(contract, "2026-05"), action=StatementAction.ADJUSTED)
    assert (april.last().cause, april.last().actor, may.last().cause) == (
        ComputationCause.WAIVER_WITHDRAWN,
        procurement,
        ComputationCause.WAIVER_WITHDRAWN,
    )


def test_withdrawing_a_waiver_recomputes_the_later_open_statements_once_it_commits(
    procurement, django_capture_on_commit_callbacks
):
    contract = seed_scenario(scenario_json("ex10_earn_back"))
    close(contract, "2026-04")
    credited = line_of(contract, "2026-01", "CSL-1")
    with django_capture_on_commit_callbacks(execute=True):
        waive_line(line_id=credited.pk, actor=procurement, reason="Goodwill.")
    assert line_of(contract, "2026-04", "CSL-1").earn_back == D("0.00")

    with django_capture_on_commit_callbacks(execute=True):
        withdraw_line_waiver(line_id=credited.pk, actor=procurement, reason="Waived by mistake.")

    assert line_of(contract, "2026-04", "CSL-1").earn_back == D("14400.00")
    last = StatementEvent.objects.filter(statement=statement_of(contract, "2026-04")).latest("pk")
    assert (last.action, last.cause) == (StatementAction.RECOMPUTED, ComputationCause.WAIVER_WITHDRAWN)


def test_a_line_that_is_not_waived_has_no_waiver_to_withdraw(statement, procurement):
    _refused(
        statement,
        lambda: withdraw_line_waiver(line_id=csl1(statement).pk, actor=procurement, reason="Mistake."),
        "The CSL-1 line is not waived.",
    )


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 2_001])
def test_a_withdrawal_needs_a_reason_of_at_most_2000_characters(statement, procurement, reason):
    waive_line(line_id=csl1(statement).pk, actor=procurement, reason="Goodwill.")

    _refused(
        statement,
        lambda: withdraw_line_waiver(line_id=csl1(statement).pk, actor=procurement, reason=reason),
        "Give the reason for withdrawing the waiver." if reason != "x" * 2_001 else "at most 2000 characters",
    )


@pytest.mark.parametrize("status", [StatementStatus.APPROVED, StatementStatus.INVOICED])
def test_an_approved_or_invoiced_statements_waiver_is_not_withdrawn(statement, procurement, status):
    waive_line(line_id=csl1(statement).pk, actor=procurement, reason="Goodwill.")
    submit_statement(statement_id=statement.pk, actor=procurement)
    approve_statement(statement_id=statement.pk, actor=procurement)
    if status == StatementStatus.INVOICED:
        mark_statement_invoiced(statement_id=statement.pk, actor=procurement, invoice_reference="CN-1")

    _refused(
        statement,
        lambda: withdraw_line_waiver(line_id=csl1(statement).pk, actor=procurement, reason="Mistake."),
        rf"The \S+ statement of January 2026 is {status.label.lower()}: reopen it before withdrawing a waiver\.",
    )


def test_a_reopened_statements_waiver_is_withdrawn(statement, procurement):
    waive_line(line_id=csl1(statement).pk, actor=procurement, reason="Goodwill.")
    submit_statement(statement_id=statement.pk, actor=procurement)
    approve_statement(statement_id=statement.pk, actor=procurement)
    reopen_statement(statement_id=statement.pk, actor=procurement, reason="The waiver was a mistake.")

    withdraw_line_waiver(line_id=csl1(statement).pk, actor=procurement, reason="Not agreed.")

    statement.refresh_from_db()
    assert (statement.status, statement.credits, csl1(statement).waived) == (
        StatementStatus.IN_REVIEW,
        D("14400.00"),
        False,
    )


def test_a_disputed_statements_waiver_is_not_withdrawn(statement, procurement):
    waive_line(line_id=csl1(statement).pk, actor=procurement, reason="Goodwill.")
    submit_statement(statement_id=statement.pk, actor=procurement)
    vendor_user = VendorUserFactory(vendor=statement.contract.vendor)
    dispute_line(line_id=line_of(statement.contract, "2026-01", "CSL-2").pk, actor=vendor_user, reason="3 s.")

    _refused(
        statement,
        lambda: withdraw_line_waiver(line_id=csl1(statement).pk, actor=procurement, reason="Mistake."),
        r"The \S+ statement of January 2026 is disputed: resolve its disputes before withdrawing a waiver\.",
    )


def test_a_waiver_given_in_accepting_the_vendors_dispute_is_not_withdrawn(statement, procurement):
    submit_statement(statement_id=statement.pk, actor=procurement)
    vendor_user = VendorUserFactory(vendor=statement.contract.vendor)
    dispute = dispute_line(line_id=csl1(statement).pk, actor=vendor_user, reason="The carrier was down.")
    resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Agreed.", accepted=True, waive=True)

    _refused(
        statement,
        lambda: withdraw_line_waiver(line_id=csl1(statement).pk, actor=procurement, reason="Mistake."),
        "The CSL-1 line was waived in accepting the vendor's dispute of it: the vendor was told so, and the waiver "
        "cannot be withdrawn.",
    )
    assert LineDispute.objects.get().status == "accepted"


def test_a_waiver_given_after_a_dispute_accepted_without_one_is_withdrawn(statement, procurement):
    submit_statement(statement_id=statement.pk, actor=procurement)
    vendor_user = VendorUserFactory(vendor=statement.contract.vendor)
    dispute = dispute_line(line_id=csl1(statement).pk, actor=vendor_user, reason="The carrier was down.")
    resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Data to be corrected.", accepted=True)
    waive_line(line_id=csl1(statement).pk, actor=procurement, reason="Goodwill.")

    withdraw_line_waiver(line_id=csl1(statement).pk, actor=procurement, reason="Waived by mistake.")

    statement.refresh_from_db()
    assert (csl1(statement).waived, statement.credits) == (False, D("14400.00"))


# An adjustment carried in -----------------------------------------------------------------------------------------


def test_withdrawing_an_adjustments_waiver_counts_it_again(february, adjustment, procurement):  # noqa: F811
    january = snapshot(february.contract)[:1]  # approved: an adjustment's waiver recomputes no month
    waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="Force majeure.")
    february.refresh_from_db()
    assert (february.adjustments, february.net) == (D("0.00"), D("0.00"))

    withdrawn = withdraw_adjustment_waiver(adjustment_id=adjustment.pk, actor=procurement, reason=" Not agreed. ")

    february.refresh_from_db()
    withdrawn.refresh_from_db()
    assert (february.adjustments, february.net) == (D("-14400.00"), D("-14400.00"))
    assert (withdrawn.waived, withdrawn.waiver_reason, withdrawn.waived_by, withdrawn.charged_amount) == (
        False,
        "",
        None,
        D("-14400.00"),
    )
    assert events(february)[-2:] == [
        (StatementAction.ADJUSTMENT_WAIVED, procurement.pk, None, adjustment.pk, "Force majeure.", ""),
        (StatementAction.ADJUSTMENT_WAIVER_WITHDRAWN, procurement.pk, None, adjustment.pk, "Not agreed.", ""),
    ]
    assert withdrawn.history.latest().history_user == procurement
    assert snapshot(february.contract)[:1] == january


def test_an_adjustment_that_is_not_waived_or_of_an_approved_statement_has_no_waiver_to_withdraw(
    february,  # noqa: F811
    adjustment,  # noqa: F811
    procurement,
):
    _refused(
        february,
        lambda: withdraw_adjustment_waiver(adjustment_id=adjustment.pk, actor=procurement, reason="Mistake."),
        "The CSL-1 adjustment for January 2026 is not waived.",
    )
    waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="Force majeure.")
    approve_statement(statement_id=february.pk, actor=procurement)
    _refused(
        february,
        lambda: withdraw_adjustment_waiver(adjustment_id=adjustment.pk, actor=procurement, reason="Mistake."),
        "is approved: reopen it before withdrawing a waiver",
    )


def test_an_adjustments_waiver_given_in_accepting_its_dispute_is_not_withdrawn(
    february,  # noqa: F811
    adjustment,  # noqa: F811
    procurement,
):
    vendor_user = VendorUserFactory(vendor=february.contract.vendor)
    dispute = dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason="Force majeure.")
    resolve_adjustment_dispute(
        dispute_id=dispute.pk, actor=procurement, resolution="Agreed.", accepted=True, waive=True
    )

    _refused(
        february,
        lambda: withdraw_adjustment_waiver(adjustment_id=adjustment.pk, actor=procurement, reason="Mistake."),
        "The CSL-1 adjustment for January 2026 was waived in accepting the vendor's dispute of it",
    )
