"""A waiver gives up the credit its line had when it was given, not more.

Contract A of DOMAIN.md §6 (Example 1): January's CSL-1 is a default credited €14,400.00 and CSL-2 (abandonment,
allocation 40 % of the €24,000.00 at risk) is met, credited nothing. Corrected data (5,000 calls abandoned, 400 of
them short: 4,600 of 45,600 = 10.09 % > 5 %) make CSL-2 a default credited €9,600.00. No one decided to give that
up: a waiver of the line when it had no credit must not swallow it.
"""

import datetime
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.choices import NotificationKind
from notifications.models import Notification
from notifications.services import record_due_notifications, waivers_withdrawn
from sla_tracker.choices import StatementAction, StatementStatus
from sla_tracker.engine import prior_month_from_dict
from sla_tracker.models import Measurement, StatementEvent
from sla_tracker.services import approve_statement, submit_statement, waive_line, withdraw_line_waiver
from tests.factories import MonthlyChargeFactory, UserFactory, VendorUserFactory

from .test_adjustments_carry import adjustments
from .test_close import close, line_of, scenario_json, seed_scenario, statement_of

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


@pytest.fixture
def contract():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    close(contract, "2026-01")
    return contract


def abandon_more_calls(contract):
    Measurement.objects.filter(contract=contract, counter__code="abandoned").update(value=5_000)


def events(statement, action):
    return list(StatementEvent.objects.filter(statement=statement, action=action).order_by("id"))


def test_a_waiver_is_withdrawn_when_a_recomputation_raises_its_lines_credit(contract, procurement):
    csl2 = line_of(contract, "2026-01", "CSL-2")
    assert csl2.credit == D("0.00")
    waive_line(line_id=csl2.pk, actor=procurement, reason="Nothing to claim this month.")

    abandon_more_calls(contract)
    close(contract, "2026-01")

    csl2.refresh_from_db()
    assert (csl2.credit, csl2.waived, csl2.waiver_reason, csl2.waived_by, csl2.waived_at) == (
        D("9600.00"),
        False,
        "",
        None,
        None,
    )
    statement = statement_of(contract, "2026-01")
    assert (statement.credits, statement.net) == (D("24000.00"), D("-24000.00"))
    [withdrawn] = events(statement, StatementAction.LINE_WAIVER_WITHDRAWN)
    assert (withdrawn.line_id, withdrawn.actor, withdrawn.data) == (
        csl2.pk,
        None,
        {"waived_credit": "0.00", "credit": "9600.00"},
    )
    assert withdrawn.note == "The credit rose from 0.00 to 9600.00 on recomputation: the waiver gave up 0.00."
    # The waiver stays on record: its event and the line's history.
    assert events(statement, StatementAction.LINE_WAIVED)[0].note == "Nothing to claim this month."
    versions = list(csl2.history.order_by("history_id").values_list("waived", "credit"))
    assert versions[-2:] == [(True, D("0.00")), (False, D("9600.00"))]


def test_a_waiver_stays_when_a_recomputation_lowers_or_keeps_its_lines_credit(contract, procurement):
    csl1 = line_of(contract, "2026-01", "CSL-1")
    waive_line(line_id=csl1.pk, actor=procurement, reason="Goodwill.")

    abandon_more_calls(contract)  # CSL-1 stays a default credited €14,400.00; CSL-2 is credited
    close(contract, "2026-01")
    csl1.refresh_from_db()
    assert (csl1.credit, csl1.waived) == (D("14400.00"), True)

    Measurement.objects.filter(contract=contract, counter__code="answered_within_20s").update(value=45_000)
    close(contract, "2026-01")  # CSL-1 met: no credit left to give up

    csl1.refresh_from_db()
    assert (csl1.credit, csl1.waived, csl1.waiver_reason) == (D("0.00"), True, "Goodwill.")
    statement = statement_of(contract, "2026-01")
    assert events(statement, StatementAction.LINE_WAIVER_WITHDRAWN) == []
    assert statement.credits == D("9600.00")


def test_what_a_recomputation_adds_to_a_waived_line_of_an_approved_month_is_carried(contract, procurement):
    MonthlyChargeFactory(contract=contract, month=date(2026, 2, 1), amount=D("200000.00"))
    january = statement_of(contract, "2026-01")
    waive_line(line_id=line_of(contract, "2026-01", "CSL-2").pk, actor=procurement, reason="Nothing to claim.")
    submit_statement(statement_id=january.pk, actor=procurement)
    approve_statement(statement_id=january.pk, actor=procurement)
    close(contract, "2026-02")

    abandon_more_calls(contract)
    close(contract, "2026-01")  # January stays as approved; February carries the difference

    january.refresh_from_db()
    assert (january.status, january.credits) == (StatementStatus.APPROVED, D("14400.00"))
    assert line_of(contract, "2026-01", "CSL-2").waived  # an approved month is never changed
    assert adjustments(contract) == [("2026-01", "2026-02", "CSL-2", D("-9600.00"))]
    # Later months read January as corrected: the €9,600.00 the waiver did not give up counts (annual cap, earn-back).
    history = {line.code: line.credit for line in prior_month_from_dict(january.effective_history).service_levels}
    assert (history["CSL-1"], history["CSL-2"]) == (D("14400.00"), D("9600.00"))


def test_the_statement_page_says_why_a_waiver_was_withdrawn_in_the_readers_language(client, contract, procurement):
    waive_line(line_id=line_of(contract, "2026-01", "CSL-2").pk, actor=procurement, reason="Nothing to claim.")
    abandon_more_calls(contract)
    close(contract, "2026-01")
    client.force_login(procurement)
    url = reverse("sla_tracker:statement", args=[statement_of(contract, "2026-01").pk])

    english = client.get(url).content.decode()
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert (
        "the credit rose from €0.00 to €9,600.00 on recomputation, and the waiver gave up €0.00: waive the line "
        "again to give up more" in english
    )
    assert (
        "la pénalité est passée de 0,00\u00a0€ à 9\u00a0600,00\u00a0€ au recalcul, et l’annulation ne portait que sur "
        "0,00\u00a0€\u00a0: annulez de nouveau la pénalité de la ligne" in french
    )


def test_the_vendor_reads_that_the_waiver_was_withdrawn_without_procurements_instruction(client, contract, procurement):
    waive_line(line_id=line_of(contract, "2026-01", "CSL-2").pk, actor=procurement, reason="Nothing to claim.")
    submit_statement(
        statement_id=statement_of(contract, "2026-01").pk, actor=procurement
    )  # vendors see it once submitted
    abandon_more_calls(contract)
    close(contract, "2026-01")
    client.force_login(VendorUserFactory(vendor=contract.vendor))

    page = client.get(reverse("sla_tracker:statement", args=[statement_of(contract, "2026-01").pk])).content.decode()

    assert "the credit rose from €0.00 to €9,600.00 on recomputation, and the waiver gave up €0.00</span>" in page
    assert "waive the line again" not in page


def test_procurement_is_told_to_waive_again_only_while_the_statement_can_be_waived(client, contract, procurement):
    waive_line(line_id=line_of(contract, "2026-01", "CSL-2").pk, actor=procurement, reason="Nothing to claim.")
    abandon_more_calls(contract)
    close(contract, "2026-01")  # the waiver is withdrawn in the draft
    statement = statement_of(contract, "2026-01")
    submit_statement(statement_id=statement.pk, actor=procurement)
    approve_statement(statement_id=statement.pk, actor=UserFactory(procurement=True))
    client.force_login(procurement)

    page = client.get(reverse("sla_tracker:statement", args=[statement.pk])).content.decode()

    assert "on recomputation, and the waiver gave up €0.00</span>" in page  # an approved line cannot be waived
    assert "waive the line again" not in page


def test_procurement_and_the_owner_are_told_once_that_a_recomputation_withdrew_a_waiver(contract, procurement):
    buyer = UserFactory(procurement=True, language="fr")
    waive_line(line_id=line_of(contract, "2026-01", "CSL-2").pk, actor=procurement, reason="Nothing to claim.")
    withdraw_line_waiver(line_id=line_of(contract, "2026-01", "CSL-2").pk, actor=procurement, reason="By mistake.")
    waive_line(line_id=line_of(contract, "2026-01", "CSL-2").pk, actor=procurement, reason="Nothing to claim.")
    abandon_more_calls(contract)
    close(contract, "2026-01")
    today = timezone.localdate()

    record_due_notifications(today=today)
    record_due_notifications(today=today)  # the next run: not news again

    told = Notification.objects.filter(kind=NotificationKind.WAIVER_WITHDRAWN)  # not the withdrawal by hand
    assert sorted(told.values_list("user_id", flat=True)) == sorted([procurement.pk, buyer.pk, contract.owner.pk])
    english = told.get(user=procurement)
    assert english.subject == f"A waiver of statement {contract.reference} January 2026 was withdrawn"
    assert english.body == (
        "The credit of CSL-2 rose from €0.00 to €9,600.00 on recomputation, more than its waiver gave up: the line's "
        "credit counts again. Waive the line again to give up more."
    )
    assert english.link.endswith(reverse("sla_tracker:statement", args=[statement_of(contract, "2026-01").pk]))
    assert "de 0,00\u00a0€ à 9\u00a0600,00\u00a0€" in told.get(user=buyer).body
    assert len(list(waivers_withdrawn(today + datetime.timedelta(days=14)))) == 1
    assert list(waivers_withdrawn(today + datetime.timedelta(days=15))) == []  # no longer news
