"""Statement transitions: draft → in review → approved → invoiced, disputes, waivers, reopening.

Each transition writes a StatementEvent; each illegal one raises ValidationError and writes nothing.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from sla_tracker.choices import DisputeStatus, StatementAction, StatementStatus
from sla_tracker.models import LineDispute, Measurement, StatementEvent
from sla_tracker.services import (
    approve_statement,
    dispute_line,
    mark_statement_invoiced,
    reopen_statement,
    resolve_dispute,
    submit_statement,
    waive_line,
)
from tests.factories import UserFactory, VendorUserFactory

from .test_close import close, line_of, scenario_json, seed_scenario

D = Decimal


@pytest.fixture
def statement():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    return close(contract, "2026-01")


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


@pytest.fixture
def vendor_user(statement):
    return VendorUserFactory(vendor=statement.contract.vendor)


def csl1(statement):
    return line_of(statement.contract, f"{statement.month:%Y-%m}", "CSL-1")


def actions(statement) -> list[str]:
    return list(StatementEvent.objects.filter(statement=statement).values_list("action", flat=True))


def in_review(statement, actor):
    return submit_statement(statement_id=statement.pk, actor=actor)


def approved(statement, actor):
    in_review(statement, actor)
    return approve_statement(statement_id=statement.pk, actor=actor)


@pytest.mark.django_db
def test_a_statement_goes_from_draft_to_invoiced_recording_who_and_when(statement, procurement):
    submitted = submit_statement(statement_id=statement.pk, actor=procurement)
    assert (submitted.status, submitted.submitted_by, submitted.submitted_at is not None) == (
        StatementStatus.IN_REVIEW,
        procurement,
        True,
    )

    done = approve_statement(statement_id=statement.pk, actor=procurement)
    assert (done.status, done.approved_by, done.approved_at is not None) == (
        StatementStatus.APPROVED,
        procurement,
        True,
    )

    invoiced = mark_statement_invoiced(statement_id=statement.pk, actor=procurement, invoice_reference=" CN-2026-001 ")
    assert (invoiced.status, invoiced.invoice_reference, invoiced.invoiced_at is not None) == (
        StatementStatus.INVOICED,
        "CN-2026-001",
        True,
    )
    assert actions(statement) == [
        StatementAction.COMPUTED,
        StatementAction.SUBMITTED,
        StatementAction.APPROVED,
        StatementAction.INVOICED,
    ]
    assert (
        StatementEvent.objects.filter(statement=statement, action=StatementAction.APPROVED).get().actor == procurement
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("transition", "message"),
    [
        (
            lambda s, u: approve_statement(statement_id=s.pk, actor=u),
            "only a statement that is in review can be approved",
        ),
        (
            lambda s, u: mark_statement_invoiced(statement_id=s.pk, actor=u, invoice_reference="X"),
            "only a statement that is approved can be marked invoiced",
        ),
        (
            lambda s, u: reopen_statement(statement_id=s.pk, actor=u, reason="typo"),
            "only a statement that is approved can be reopened",
        ),
    ],
)
def test_a_draft_can_only_be_submitted(statement, procurement, transition, message):
    with pytest.raises(ValidationError, match=message):
        transition(statement, procurement)

    statement.refresh_from_db()
    assert statement.status == StatementStatus.DRAFT
    assert actions(statement) == [StatementAction.COMPUTED]


@pytest.mark.django_db
def test_a_statement_in_review_cannot_be_submitted_again(statement, procurement):
    in_review(statement, procurement)

    with pytest.raises(ValidationError, match="is in review: only a statement that is draft can be submitted"):
        submit_statement(statement_id=statement.pk, actor=procurement)


@pytest.mark.django_db
def test_a_vendor_dispute_makes_the_statement_disputed_until_every_dispute_is_resolved(
    statement, procurement, vendor_user
):
    in_review(statement, procurement)
    line = csl1(statement)
    other = line_of(statement.contract, "2026-01", "CSL-2")

    first = dispute_line(line_id=line.pk, actor=vendor_user, reason="The outage of 14 January was force majeure.")
    second = dispute_line(line_id=other.pk, actor=vendor_user, reason="Abandons were counted from 3 s.")
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    with pytest.raises(ValidationError, match="has open disputes"):
        approve_statement(statement_id=statement.pk, actor=procurement)

    resolve_dispute(dispute_id=first.pk, actor=procurement, resolution="Exclusion approved.", accepted=True)
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DISPUTED
    resolve_dispute(dispute_id=second.pk, actor=procurement, resolution="Counted per the contract.", accepted=False)

    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    first.refresh_from_db()
    assert (first.status, first.resolved_by) == (DisputeStatus.ACCEPTED, procurement)
    assert actions(statement)[-4:] == [
        StatementAction.LINE_DISPUTED,
        StatementAction.LINE_DISPUTED,
        StatementAction.DISPUTE_RESOLVED,
        StatementAction.DISPUTE_RESOLVED,
    ]
    assert StatementEvent.objects.filter(action=StatementAction.LINE_DISPUTED).first().line == line


@pytest.mark.django_db
def test_a_dispute_needs_a_reason_and_one_open_dispute_per_line(statement, procurement, vendor_user):
    in_review(statement, procurement)
    line = csl1(statement)

    with pytest.raises(ValidationError, match="reason"):
        dispute_line(line_id=line.pk, actor=vendor_user, reason="  ")
    dispute = dispute_line(line_id=line.pk, actor=vendor_user, reason="Force majeure.")
    with pytest.raises(ValidationError, match="already has an open dispute"):
        dispute_line(line_id=line.pk, actor=vendor_user, reason="Again.")
    resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Rejected.", accepted=False)
    with pytest.raises(ValidationError, match="already rejected"):
        resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Twice.", accepted=True)
    assert LineDispute.objects.count() == 1


@pytest.mark.django_db
def test_a_dispute_with_refused_evidence_writes_nothing(statement, procurement, vendor_user):
    in_review(statement, procurement)
    before = actions(statement)
    disguised = SimpleUploadedFile("acd-report.pdf", b"<html><script>alert(1)</script></html>")

    with pytest.raises(ValidationError, match=r"“acd-report\.pdf” is not a real PDF file"):
        dispute_line(line_id=csl1(statement).pk, actor=vendor_user, reason="Force majeure.", evidence=disguised)

    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    assert not LineDispute.objects.exists()
    assert actions(statement) == before


@pytest.mark.django_db
def test_a_draft_cannot_be_disputed_before_it_is_submitted(statement, vendor_user):
    with pytest.raises(ValidationError, match="is draft: only a statement that is in review or disputed"):
        dispute_line(line_id=csl1(statement).pk, actor=vendor_user, reason="Too early.")


@pytest.mark.django_db
def test_waiving_a_line_zeroes_its_credit_in_the_totals(statement, procurement):
    line = csl1(statement)

    waived = waive_line(line_id=line.pk, actor=procurement, reason="Goodwill: first month of the migration.")

    statement.refresh_from_db()
    assert (waived.waived, waived.waived_by, waived.credit) == (True, procurement, D("14400.00"))
    assert statement.credits == D("0.00")
    assert statement.net == D("0.00")
    assert actions(statement)[-1] == StatementAction.LINE_WAIVED
    with pytest.raises(ValidationError, match="already waived"):
        waive_line(line_id=line.pk, actor=procurement, reason="Twice.")


@pytest.mark.django_db
def test_a_waiver_survives_a_recomputation(statement, procurement):
    waive_line(line_id=csl1(statement).pk, actor=procurement, reason="Goodwill.")

    again = close(statement.contract, "2026-01")

    assert csl1(statement).waived
    assert again.credits == D("0.00")


@pytest.mark.django_db
def test_a_waiver_needs_a_reason(statement, procurement):
    with pytest.raises(ValidationError, match="reason"):
        waive_line(line_id=csl1(statement).pk, actor=procurement, reason="")


@pytest.mark.django_db
def test_an_approved_statement_refuses_waivers_and_disputes(statement, procurement, vendor_user):
    approved(statement, procurement)
    line = csl1(statement)

    with pytest.raises(ValidationError, match="approved: reopen it before waiving"):
        waive_line(line_id=line.pk, actor=procurement, reason="Goodwill.")
    with pytest.raises(ValidationError, match="approved: it cannot be disputed"):
        dispute_line(line_id=line.pk, actor=vendor_user, reason="Late.")
    line.refresh_from_db()
    assert not line.waived


@pytest.mark.django_db
def test_reopening_an_approved_statement_needs_a_reason_and_returns_it_to_review(statement, procurement):
    approved(statement, procurement)

    with pytest.raises(ValidationError, match="reason"):
        reopen_statement(statement_id=statement.pk, actor=procurement, reason=" ")
    reopened = reopen_statement(statement_id=statement.pk, actor=procurement, reason="Exclusion approved late.")

    assert (reopened.status, reopened.approved_by, reopened.approved_at) == (StatementStatus.IN_REVIEW, None, None)
    event = StatementEvent.objects.filter(statement=statement).last()
    assert (event.action, event.note) == (StatementAction.REOPENED, "Exclusion approved late.")


@pytest.mark.django_db
def test_an_invoiced_statement_cannot_be_reopened(statement, procurement):
    approved(statement, procurement)
    mark_statement_invoiced(statement_id=statement.pk, actor=procurement, invoice_reference="CN-1")

    with pytest.raises(ValidationError, match="invoiced and cannot be reopened"):
        reopen_statement(statement_id=statement.pk, actor=procurement, reason="Late data.")


@pytest.mark.django_db
def test_marking_invoiced_needs_the_invoice_reference(statement, procurement):
    approved(statement, procurement)

    with pytest.raises(ValidationError, match="invoice reference"):
        mark_statement_invoiced(statement_id=statement.pk, actor=procurement, invoice_reference="")


@pytest.mark.django_db
def test_an_approved_statement_is_not_changed_by_a_recomputation(statement, procurement):
    approved(statement, procurement)
    line = csl1(statement)

    Measurement.objects.filter(contract=statement.contract, counter__code="answered_within_20s").update(value=40_000)
    close(statement.contract, "2026-01")

    line.refresh_from_db()
    statement.refresh_from_db()
    assert (statement.status, statement.credits, line.credit) == (
        StatementStatus.APPROVED,
        D("14400.00"),
        D("14400.00"),
    )


@pytest.mark.django_db
def test_refusals_are_written_in_the_readers_language_and_a_resolved_disputes_record_stays_in_english(
    statement, procurement, vendor_user
):
    in_review(statement, procurement)
    line = csl1(statement)
    dispute = dispute_line(line_id=line.pk, actor=vendor_user, reason="Force majeure.")

    with translation.override("fr"):
        resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Compté selon le contrat.", accepted=False)
        with pytest.raises(ValidationError) as twice:
            resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Encore.", accepted=True)
        approve_statement(statement_id=statement.pk, actor=procurement)
        mark_statement_invoiced(statement_id=statement.pk, actor=procurement, invoice_reference="CN-1")
        with pytest.raises(ValidationError) as reopened:
            reopen_statement(statement_id=statement.pk, actor=procurement, reason="Données tardives.")
        with pytest.raises(ValidationError) as waived:
            waive_line(line_id=line.pk, actor=procurement, reason="Geste commercial.")
        event = StatementEvent.objects.get(action=StatementAction.DISPUTE_RESOLVED)
        french_note = event.readable_note

    label = f"Le relevé {statement.contract.reference} pour janvier 2026"
    assert twice.value.messages == ["Cette contestation est déjà rejetée."]
    assert reopened.value.messages == [
        f"{label} est facturé et ne peut pas être rouvert\u00a0: une correction de ses données, ou une exclusion de "
        "ses jours approuvée depuis, est reportée dans le prochain relevé ouvert comme régularisation."
    ]
    assert waived.value.messages == [f"{label} est facturé\u00a0: rouvrez-le avant d’annuler la pénalité d’une ligne."]
    assert event.note == "Rejected: Compté selon le contrat."
    assert french_note == "Rejetée\u00a0: Compté selon le contrat."


@pytest.mark.django_db
def test_a_waiver_recomputes_the_later_open_statements_whose_history_it_changes(
    procurement, django_capture_on_commit_callbacks
):
    contract = seed_scenario(scenario_json("ex10_earn_back"))
    close(contract, "2026-04")
    credited = line_of(contract, "2026-01", "CSL-1")
    earned = line_of(contract, "2026-04", "CSL-1")
    assert credited.credit > 0 and earned.earn_back > 0

    with django_capture_on_commit_callbacks(execute=True):
        waive_line(line_id=credited.pk, actor=procurement, reason="Goodwill: the vendor's first month.")

    earned.refresh_from_db()
    assert earned.earn_back == D("0.00")  # nothing is earned back of a credit that was waived
    assert earned.statement.events.filter(action=StatementAction.RECOMPUTED).exists()


# Approving what was seen ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_approval_of_figures_that_changed_since_they_were_shown_is_refused(statement, procurement):
    in_review(statement, procurement)
    shown = {"input_fingerprint": statement.input_fingerprint, "net": D("-14400.00")}
    # Meanwhile January's data change and the statement is recomputed: CSL-1 met, nothing credited.
    Measurement.objects.filter(contract=statement.contract, counter__code="answered_within_20s").update(value=40_000)
    close(statement.contract, "2026-01")

    with pytest.raises(ValidationError) as refused:
        approve_statement(statement_id=statement.pk, actor=procurement, **shown)

    assert refused.value.messages == [
        f"The {statement.contract.reference} statement of January 2026 changed since you opened it: its net was "
        "−€14,400.00 and is now €0.00. Review the statement again before approving it."
    ]
    statement.refresh_from_db()
    assert (statement.status, statement.net) == (StatementStatus.IN_REVIEW, D("0.00"))
    assert StatementAction.APPROVED not in actions(statement)
    approved = approve_statement(
        statement_id=statement.pk, actor=procurement, input_fingerprint=statement.input_fingerprint, net=D("0.00")
    )
    assert approved.status == StatementStatus.APPROVED


@pytest.mark.django_db
def test_an_approval_of_a_statement_recomputed_since_it_was_shown_is_refused_even_with_the_same_net(
    statement, procurement
):
    in_review(statement, procurement)
    stale = statement.input_fingerprint
    # Another day's counts, the month's ratio unchanged: recomputed, the same credit.
    Measurement.objects.filter(contract=statement.contract, counter__code="answered").update(value=41_001)
    close(statement.contract, "2026-01")
    statement.refresh_from_db()
    assert statement.input_fingerprint != stale and statement.net == D("-14400.00")

    with pytest.raises(ValidationError, match="was recomputed since you opened it"):
        approve_statement(statement_id=statement.pk, actor=procurement, input_fingerprint=stale, net=D("-14400.00"))

    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW


@pytest.mark.django_db
def test_a_waiver_since_the_statement_was_shown_refuses_its_approval(statement, procurement):
    in_review(statement, procurement)
    fingerprint = statement.input_fingerprint
    waive_line(line_id=csl1(statement).pk, actor=procurement, reason="Goodwill.")

    with pytest.raises(ValidationError, match=r"its net was −€14,400\.00 and is now €0\.00"):
        approve_statement(
            statement_id=statement.pk, actor=procurement, input_fingerprint=fingerprint, net=D("-14400.00")
        )


# Waivers of a disputed statement ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_line_of_a_disputed_statement_is_waived_only_through_its_dispute(statement, procurement, vendor_user):
    in_review(statement, procurement)
    line = csl1(statement)
    other = line_of(statement.contract, "2026-01", "CSL-2")
    dispute = dispute_line(line_id=other.pk, actor=vendor_user, reason="Abandons were counted from 3 s.")

    with pytest.raises(ValidationError) as refused:
        waive_line(line_id=line.pk, actor=procurement, reason="Goodwill.")

    assert refused.value.messages == [
        f"The {statement.contract.reference} statement of January 2026 is disputed: resolve its disputes first; "
        "accepting a dispute can waive its line's credit."
    ]
    line.refresh_from_db()
    assert not line.waived
    resolve_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Counted from 3 s.", accepted=True, waive=True)
    other.refresh_from_db()
    assert other.waived  # the dispute's own way still waives
    waive_line(line_id=line.pk, actor=procurement, reason="Goodwill.")  # back in review: waived directly
    line.refresh_from_db()
    assert line.waived
