"""A correction of an approved month reaches the approved months that read it in their history.

The approved statements stay as approved; each later one whose run, earn-back, window or annual cap changes
with the corrected month is recomputed in the same transaction, and its difference carried too, so that the
correction counts once. The figures are those of DOMAIN.md §6, Examples 9 (multipliers) and 10 (earn-back).
"""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.choices import Channel
from contracts.models import Contract
from sla_tracker.choices import MeasurementSource, StatementStatus
from sla_tracker.kpi_import.service import save_measurements
from sla_tracker.kpi_import.validation import KpiValue
from sla_tracker.models import Measurement, PenaltyStatement
from sla_tracker.services import reopen_statement, waive_line
from tests.factories import ContractScopeFactory, MonthlyChargeFactory, UserFactory

from .test_adjustments_carry import adjustments, approve, last_data, nets
from .test_close import close, line_of, scenario_json, seed_scenario, snapshot, statement_of

pytestmark = pytest.mark.django_db
D = Decimal
REASON = "The vendor's corrected report."


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


def approved_months(name: str, months: list[str], open_month: str, procurement):
    """The scenario's contract with every month of ``months`` closed and approved, and ``open_month``
    (charges, no data) closed as a draft to carry differences into."""
    contract = seed_scenario(scenario_json(name))
    ContractScopeFactory(contract=contract, channel=Channel.VOICE)
    MonthlyChargeFactory(contract=contract, month=date.fromisoformat(f"{open_month}-01"), amount=D("200000.00"))
    for month in months:
        approve(close(contract, month), procurement)
    close(contract, open_month)
    return contract


def correct(contract, counter: str, month: str, value: int):
    return save_measurements(
        contract=contract,
        values=[KpiValue(counter, month, value, row=0, column="value")],
        source=MeasurementSource.API,
        actor=contract.owner,
        correction_reason=REASON,
    )


def total(contract) -> Decimal:
    """What the vendor is paid back over all statements: the nets, adjustments included."""
    return sum(nets(contract).values(), D("0.00"))


EARN_BACK_MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


def test_an_earn_back_of_a_credit_that_a_correction_removed_is_taken_back(procurement):
    """Example 10: January's €14,400.00 credit is earned back in April. January corrected to met (40,000 of
    43,000): its credit is given back, and April's earn-back, which no longer has a credit to earn back, is
    taken back. Before, the vendor got €28,800 back on a €14,400 credit."""
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    assert line_of(contract, "2026-04", "CSL-1").earn_back == D("14400.00")
    assert total(contract) == D("0.00")
    before = snapshot(contract)[:4]

    correct(contract, "answered_within_20s", "2026-01", 40_000)

    assert snapshot(contract)[:4] == before  # the four approved statements and their lines as approved
    assert adjustments(contract) == [
        ("2026-01", "2026-05", "CSL-1", D("14400.00")),
        ("2026-04", "2026-05", "CSL-1", D("-14400.00")),
    ]
    assert statement_of(contract, "2026-05").adjustments == D("0.00")
    assert total(contract) == D("0.00")  # January never credited, nothing earned back: counted once
    january = statement_of(contract, "2026-01").effective_history
    assert [(line["code"], line["status"], line["credit"]) for line in january["service_levels"]][:1] == [
        ("CSL-1", "met", "0.00")
    ]
    # February to April read January as corrected; what later months read of them (statuses, runs, credits)
    # does not change: April's earn-back is not history, only its difference is carried.
    assert [statement_of(contract, month).effective_history for month in EARN_BACK_MONTHS[1:]] == [None] * 3


def test_a_second_correction_back_to_the_approved_data_undoes_both_differences(procurement):
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    correct(contract, "answered_within_20s", "2026-01", 40_000)

    correct(contract, "answered_within_20s", "2026-01", 32_895)

    assert statement_of(contract, "2026-05").adjustments == D("0.00")
    assert sum((row[3] for row in adjustments(contract)), D("0.00")) == D("0.00")
    assert {row[:3] for row in adjustments(contract)} == {
        ("2026-01", "2026-05", "CSL-1"),
        ("2026-04", "2026-05", "CSL-1"),
    }
    assert PenaltyStatement.objects.filter(contract=contract, effective_history__isnull=False).count() == 0
    assert line_of(contract, "2026-05", "CSL-1").status == "not_measured"


def test_a_corrected_month_reopened_and_recomputed_is_read_from_its_own_lines(procurement):
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    correct(contract, "answered_within_20s", "2026-01", 40_000)
    january = statement_of(contract, "2026-01")

    reopen_statement(statement_id=january.pk, actor=procurement, reason="The corrected data, on January itself.")
    close(contract, "2026-01")

    january.refresh_from_db()
    assert (january.status, january.credits, january.effective_history) == (
        StatementStatus.IN_REVIEW,
        D("0.00"),
        None,
    )
    # January's own adjustment withdrawn from May; April's earn-back stays taken back: still counted once.
    assert adjustments(contract) == [("2026-04", "2026-05", "CSL-1", D("-14400.00"))]
    assert total(contract) == D("0.00")


def test_a_correction_that_breaks_a_run_gives_back_the_later_months_multipliers(procurement):
    """Example 9: CSL-2 defaults in March (€9,600), April (× 1.5: €14,400) and May (× 2.0, with CSL-5: capped at
    €24,000). March corrected to met (2,064 counted abandons of 42,656 = 4.84 %): March gives back €9,600, April
    runs from 1 (€9,600: €4,800 back), May from 2 (CSL-2 €14,400 and CSL-5 €7,200 = €21,600 under the cap,
    €2,400 back: CSL-2 had €17,454.55 and CSL-5 €6,545.45 of the capped €24,000)."""
    months = ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"]
    contract = approved_months("ex09_multiplier", months, "2026-08", procurement)
    before = total(contract)

    correct(contract, "abandoned", "2026-03", 2_464)

    assert adjustments(contract) == [
        ("2026-03", "2026-08", "CSL-2", D("9600.00")),
        ("2026-04", "2026-08", "CSL-2", D("4800.00")),
        ("2026-05", "2026-08", "CSL-2", D("3054.55")),
        ("2026-05", "2026-08", "CSL-5", D("-654.55")),
    ]
    assert total(contract) - before == D("16800.00")
    # July's run already restarted in June: its figures do not change.
    assert statement_of(contract, "2026-07").effective_history is None


def test_an_open_month_before_approved_ones_changes_them_through_their_history(procurement):
    """January reopened and its data changed while open (no correction needed for an open month): April,
    approved, earned back January's credit, which the new data remove."""
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    january = statement_of(contract, "2026-01")
    reopen_statement(statement_id=january.pk, actor=procurement, reason="The vendor's report was incomplete.")

    save_measurements(
        contract=contract,
        values=[KpiValue("answered_within_20s", "2026-01", 40_000, row=0, column="value")],
        source=MeasurementSource.API,
        actor=contract.owner,
    )

    assert line_of(contract, "2026-01", "CSL-1").credit == D("0.00")  # open: recomputed in place
    assert adjustments(contract) == [("2026-04", "2026-05", "CSL-1", D("-14400.00"))]
    assert total(contract) == D("0.00")


def test_waiving_a_credit_that_a_later_approved_month_earned_back_takes_the_earn_back_back(procurement):
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    january = statement_of(contract, "2026-01")
    reopen_statement(statement_id=january.pk, actor=procurement, reason="A waiver was agreed.")
    close(contract, "2026-01")

    waive_line(
        line_id=line_of(contract, "2026-01", "CSL-1").pk, actor=procurement, reason="Agreed at the steering committee."
    )

    assert adjustments(contract) == [("2026-04", "2026-05", "CSL-1", D("-14400.00"))]
    assert total(contract) == D("0.00")  # the credit waived, so nothing to earn back


def test_a_change_after_the_last_approved_month_recomputes_nothing_in_the_transaction(
    procurement, django_capture_on_commit_callbacks
):
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    before = snapshot(contract)

    with django_capture_on_commit_callbacks() as callbacks:
        save_measurements(
            contract=contract,
            values=[KpiValue("answered_within_20s", "2026-05", 1_000, row=0, column="value")],
            source=MeasurementSource.API,
            actor=contract.owner,
        )

    assert snapshot(contract) == before  # May, open, waits for the recompute once this commits
    assert len(callbacks) == 1
    assert Measurement.objects.filter(contract=contract, month=date(2026, 5, 1)).count() == 1


def test_a_correction_undone_says_what_it_reverses(procurement, client):
    """Put back, January's data are as approved: the adjustment that takes back what the correction carried
    names that amount, instead of reading as an approved net equal to the recomputed one."""
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    approved_value = Measurement.objects.get(
        contract=contract, counter__code="answered_within_20s", month=date(2026, 1, 1)
    ).value
    correct(contract, "answered_within_20s", "2026-01", 40_000)
    correct(contract, "answered_within_20s", "2026-01", int(approved_value))
    client.force_login(procurement)

    page = client.get(reverse("sla_tracker:statement", args=[statement_of(contract, "2026-05").pk])).content.decode()
    french = client.get(
        reverse("sla_tracker:statement", args=[statement_of(contract, "2026-05").pk]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()

    assert "Approved net −€14,400.00, −€14,400.00 once recomputed, €14,400.00 carried for it before." in page
    assert (
        "Net approuvé −14\u00a0400,00\u00a0€, −14\u00a0400,00\u00a0€ une fois recalculé, 14\u00a0400,00\u00a0€"
        in french
    )


def test_data_of_a_month_without_a_statement_recomputes_nothing_even_before_approved_months(procurement):
    """December 2025, before the contract's first statement, has no charges and was never closed: logging its
    data changes no statement (a month's history is the statements before it), so it is not refused for
    the close that December could not have."""
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    Contract.objects.filter(pk=contract.pk).update(start_date=date(2025, 12, 1))
    before = snapshot(contract)

    save_measurements(
        contract=Contract.objects.get(pk=contract.pk),
        values=[KpiValue("answered", "2025-12-15", 1_000, row=0, column="value")],
        source=MeasurementSource.API,
        actor=contract.owner,
    )

    assert snapshot(contract) == before
    assert Measurement.objects.filter(contract=contract, month=date(2025, 12, 1)).count() == 1


def test_the_adjustments_say_why_in_the_readers_language(procurement, client):
    contract = approved_months("ex10_earn_back", EARN_BACK_MONTHS, "2026-05", procurement)
    correct(contract, "answered_within_20s", "2026-01", 40_000)
    may = statement_of(contract, "2026-05")
    client.force_login(procurement)

    english = client.get(reverse("sla_tracker:statement", args=[may.pk])).content.decode()
    french = client.get(reverse("sla_tracker:statement", args=[may.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Approved net −€14,400.00, €0.00 once recomputed." in english  # January: its credit given back
    assert "Approved net €14,400.00, €0.00 once recomputed." in english  # April: its earn-back taken back
    assert "Net approuvé 14\u00a0400,00\u00a0€, 0,00\u00a0€ une fois recalculé." in french
    assert "Difference of January 2026 carried in" in english
    # April's difference names the month whose correction caused it, on April and on May.
    assert last_data(statement_of(contract, "2026-04")) == {
        "carried_into": {"2026-05": {"CSL-1": "-14400.00"}},
        "pending": {},
        "after_change_of": "2026-01",
    }
    assert "Following a change of January 2026" in english
    assert "À la suite d’une modification portant sur janvier 2026" in french
    assert "after_change_of" not in last_data(statement_of(contract, "2026-01"))  # the corrected month itself
