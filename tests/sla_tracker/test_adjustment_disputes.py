"""The vendor disputes an adjustment carried into their statement as they dispute a line; procurement resolves the
dispute the same way, and may waive the adjustment, which then counts 0 in the totals.

Contract A of DOMAIN.md §6 (Example 1), its January data first recorded as met (no credit) and approved, then
corrected back to the default they show (31,500 of 43,000 answered within 20 s): the €14,400.00 credit becomes an
adjustment of −€14,400.00, against the vendor, in February's statement (in review).
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from sla_tracker.choices import DisputeStatus, StatementAction, StatementStatus
from sla_tracker.models import AdjustmentDispute, Measurement, StatementAdjustment, StatementEvent
from sla_tracker.services import (
    approve_statement,
    dispute_adjustment,
    dispute_line,
    reopen_statement,
    resolve_adjustment_dispute,
    resolve_dispute,
    submit_statement,
    waive_adjustment,
)
from tests.factories import UserFactory, VendorFactory, VendorUserFactory

from .test_adjustments_carry import adjustments, approve, contract_a, correct_january, nets
from .test_close import close, line_of, snapshot, statement_of

D = Decimal
REASON = "The corrected figures count the two days the carrier was down."


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


@pytest.fixture
def february(procurement):
    """February in review, carrying January's −€14,400.00."""
    contract = contract_a("2026-02")
    correct_january(contract)  # as first recorded: met
    approve(close(contract, "2026-01"), procurement)
    february = close(contract, "2026-02")
    submit_statement(statement_id=february.pk, actor=procurement)
    Measurement.objects.filter(contract=contract, counter__code="answered_within_20s").update(value=31_500)
    close(contract, "2026-01")
    close(contract, "2026-02")  # as the recompute after the correction does: its history changed
    february.refresh_from_db()
    assert (february.adjustments, february.net) == (D("-14400.00"), D("-14400.00"))
    return february


@pytest.fixture
def adjustment(february):
    return february.adjustment_lines.get()


@pytest.fixture
def vendor_user(february):
    return VendorUserFactory(vendor=february.contract.vendor)


def actions(statement) -> list[str]:
    return list(StatementEvent.objects.filter(statement=statement).order_by("pk").values_list("action", flat=True))


@pytest.mark.django_db
def test_a_vendor_user_disputes_an_adjustment_and_the_statement_is_disputed_until_it_is_resolved(
    february, adjustment, vendor_user, procurement
):
    dispute = dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=f"  {REASON} ")

    february.refresh_from_db()
    assert (dispute.status, dispute.raised_by, dispute.reason) == (DisputeStatus.OPEN, vendor_user, REASON)
    assert february.status == StatementStatus.DISPUTED
    raised = StatementEvent.objects.filter(statement=february).latest("pk")
    assert (raised.action, raised.adjustment, raised.line, raised.actor, raised.note) == (
        StatementAction.ADJUSTMENT_DISPUTED,
        adjustment,
        None,
        vendor_user,
        REASON,
    )
    with pytest.raises(ValidationError, match="has open disputes: resolve them before approving"):
        approve_statement(statement_id=february.pk, actor=procurement)

    resolve_adjustment_dispute(
        dispute_id=dispute.pk, actor=procurement, resolution="The carrier's outage is not excused.", accepted=False
    )

    dispute.refresh_from_db()
    february.refresh_from_db()
    assert (dispute.status, dispute.resolved_by) == (DisputeStatus.REJECTED, procurement)
    assert february.status == StatementStatus.IN_REVIEW
    assert (february.adjustments, february.net) == (D("-14400.00"), D("-14400.00"))  # the adjustment stands
    resolved = StatementEvent.objects.filter(statement=february).latest("pk")
    assert (resolved.action, resolved.adjustment, resolved.data) == (
        StatementAction.DISPUTE_RESOLVED,
        adjustment,
        {"outcome": DisputeStatus.REJECTED, "resolution": "The carrier's outage is not excused."},
    )
    assert [version.history_user for version in dispute.history.order_by("history_id")] == [vendor_user, procurement]


@pytest.mark.django_db
def test_accepting_the_dispute_with_waive_charges_the_adjustment_nothing(
    february, adjustment, vendor_user, procurement
):
    dispute = dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=REASON)

    resolve_adjustment_dispute(
        dispute_id=dispute.pk, actor=procurement, resolution="Force majeure: agreed.", accepted=True, waive=True
    )

    adjustment.refresh_from_db()
    february.refresh_from_db()
    assert (adjustment.waived, adjustment.waiver_reason, adjustment.waived_by) == (
        True,
        "Force majeure: agreed.",
        procurement,
    )
    assert (adjustment.amount, adjustment.charged_amount, adjustment.waived_amount) == (
        D("-14400.00"),
        D("0.00"),
        D("-14400.00"),
    )
    assert (february.adjustments, february.net, february.status) == (D("0.00"), D("0.00"), StatementStatus.IN_REVIEW)
    assert actions(february)[-3:] == [
        StatementAction.ADJUSTMENT_DISPUTED,
        StatementAction.ADJUSTMENT_WAIVED,
        StatementAction.DISPUTE_RESOLVED,
    ]
    assert adjustment.history.latest().history_user == procurement


@pytest.mark.django_db
def test_accepting_without_waive_leaves_the_adjustment_charged(february, adjustment, vendor_user, procurement):
    dispute = dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=REASON)

    resolve_adjustment_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Noted.", accepted=True)

    adjustment.refresh_from_db()
    february.refresh_from_db()
    assert adjustment.waived is False
    assert (february.adjustments, february.status) == (D("-14400.00"), StatementStatus.IN_REVIEW)


@pytest.mark.django_db
def test_a_waived_adjustment_is_not_carried_again_and_its_waiver_survives_a_recomputation(
    february, adjustment, procurement
):
    waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="Goodwill after the migration.")
    before = snapshot(february.contract)

    close(february.contract, "2026-01")  # January as corrected: its difference counts as carried
    close(february.contract, "2026-02")  # February recomputed in place

    assert snapshot(february.contract) == before
    assert adjustments(february.contract) == [("2026-01", "2026-02", "CSL-1", D("-14400.00"))]
    february.refresh_from_db()
    assert (february.adjustments, february.net) == (D("0.00"), D("0.00"))
    assert StatementAdjustment.objects.get().waived


@pytest.mark.django_db
def test_the_statement_is_back_in_review_only_once_the_disputes_of_its_lines_and_adjustments_are_resolved(
    february, adjustment, vendor_user, procurement
):
    on_line = dispute_line(
        line_id=line_of(february.contract, "2026-02", "CSL-3").pk, actor=vendor_user, reason="E-mails not counted."
    )
    on_adjustment = dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=REASON)

    resolve_dispute(dispute_id=on_line.pk, actor=procurement, resolution="Counted per the contract.", accepted=False)
    february.refresh_from_db()
    assert february.status == StatementStatus.DISPUTED
    resolve_adjustment_dispute(dispute_id=on_adjustment.pk, actor=procurement, resolution="Stands.", accepted=False)

    february.refresh_from_db()
    assert february.status == StatementStatus.IN_REVIEW


# Refusals: each leaves the database as it was ----------------------------------------------------------------


def _refused(february, call, error=ValidationError, match=None):
    before = (snapshot(february.contract), actions(february), list(AdjustmentDispute.objects.values()))
    with pytest.raises(error, match=match):
        call()
    assert (snapshot(february.contract), actions(february), list(AdjustmentDispute.objects.values())) == before


@pytest.mark.django_db
def test_another_vendors_user_cannot_dispute_the_adjustment(february, adjustment):
    stranger = VendorUserFactory(vendor=VendorFactory(name="Other BPO"))

    _refused(
        february,
        lambda: dispute_adjustment(adjustment_id=adjustment.pk, actor=stranger, reason=REASON),
        PermissionDenied,
        f"Only the users of {february.contract.vendor.name} dispute its statements.",
    )


@pytest.mark.django_db
def test_procurement_does_not_dispute_on_the_vendors_behalf(february, adjustment, procurement):
    _refused(
        february,
        lambda: dispute_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason=REASON),
        PermissionDenied,
    )


@pytest.mark.django_db
def test_an_adjustment_of_an_approved_statement_is_neither_disputed_nor_waived(
    february, adjustment, vendor_user, procurement
):
    approve_statement(statement_id=february.pk, actor=procurement)

    _refused(
        february,
        lambda: dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=REASON),
        match=r"The \S+ statement of February 2026 is approved: it cannot be disputed\.",
    )
    _refused(
        february,
        lambda: waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="Goodwill."),
        match="is approved: reopen it before waiving an adjustment",
    )


@pytest.mark.django_db
def test_an_adjustment_already_disputed_is_not_disputed_again(february, adjustment, vendor_user):
    dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=REASON)

    _refused(
        february,
        lambda: dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason="Again."),
        match="The CSL-1 adjustment for January 2026 already has an open dispute.",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_dispute_of_an_adjustment_needs_a_reason(february, adjustment, vendor_user, reason):
    _refused(
        february,
        lambda: dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=reason),
        match="Give the reason for the dispute.",
    )


@pytest.mark.django_db
def test_refused_evidence_records_no_dispute_of_the_adjustment(february, adjustment, vendor_user):
    disguised = SimpleUploadedFile("acd-report.pdf", b"<html><script>alert(1)</script></html>")

    _refused(
        february,
        lambda: dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=REASON, evidence=disguised),
        match=r"“acd-report\.pdf” is not a real PDF file",
    )


@pytest.mark.django_db
def test_a_draft_adjustment_cannot_be_disputed_before_the_statement_is_submitted(procurement):
    contract = contract_a("2026-02")
    approve(close(contract, "2026-01"), procurement)
    close(contract, "2026-02")
    correct_january(contract)
    close(contract, "2026-01")
    draft = statement_of(contract, "2026-02")
    vendor_user = VendorUserFactory(vendor=contract.vendor)

    _refused(
        draft,
        lambda: dispute_adjustment(adjustment_id=draft.adjustment_lines.get().pk, actor=vendor_user, reason=REASON),
        match="is draft: only a statement that is in review or disputed can be disputed",
    )


@pytest.mark.django_db
def test_a_resolution_is_required_a_rejection_cannot_waive_and_a_dispute_is_resolved_once(
    february, adjustment, vendor_user, procurement
):
    dispute = dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=REASON)

    _refused(
        february,
        lambda: resolve_adjustment_dispute(dispute_id=dispute.pk, actor=procurement, resolution=" ", accepted=True),
        match="Give the resolution of the dispute.",
    )
    _refused(
        february,
        lambda: resolve_adjustment_dispute(
            dispute_id=dispute.pk, actor=procurement, resolution="No.", accepted=False, waive=True
        ),
        match="Only an accepted dispute can waive the adjustment.",
    )
    resolve_adjustment_dispute(dispute_id=dispute.pk, actor=procurement, resolution="No.", accepted=False)
    _refused(
        february,
        lambda: resolve_adjustment_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Yes.", accepted=True),
        match="This dispute is already rejected.",
    )


@pytest.mark.django_db
def test_accepting_with_waive_an_adjustment_already_waived_resolves_nothing(
    february, adjustment, vendor_user, procurement
):
    dispute = dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=REASON)
    StatementAdjustment.objects.filter(pk=adjustment.pk).update(
        waived=True, waiver_reason="Goodwill.", waived_by=procurement, waived_at=february.computed_at
    )

    _refused(
        february,
        lambda: resolve_adjustment_dispute(
            dispute_id=dispute.pk, actor=procurement, resolution="Agreed.", accepted=True, waive=True
        ),
        match="The CSL-1 adjustment for January 2026 is already waived.",
    )
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN


# Waiving an adjustment ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_procurement_waives_an_adjustment_with_a_reason(february, adjustment, procurement):
    waived = waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="  Goodwill. ")

    february.refresh_from_db()
    assert (waived.waived, waived.waiver_reason, waived.waived_by) == (True, "Goodwill.", procurement)
    assert (february.adjustments, february.net, february.credits) == (D("0.00"), D("0.00"), D("0.00"))
    event = StatementEvent.objects.filter(statement=february).latest("pk")
    assert (event.action, event.adjustment, event.note) == (StatementAction.ADJUSTMENT_WAIVED, adjustment, "Goodwill.")
    _refused(
        february,
        lambda: waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="Twice."),
        match="The CSL-1 adjustment for January 2026 is already waived.",
    )
    _refused(
        february,
        lambda: waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason=""),
        match="Give the reason for the waiver.",
    )


@pytest.fixture
def in_vendors_favour(procurement):
    """February in review, carrying January's +€14,400.00 in the vendor's favour: January's credit, approved,
    corrected away (the data showed a default, corrected to met)."""
    contract = contract_a("2026-02")
    approve(close(contract, "2026-01"), procurement)  # the default: €14,400.00 credited
    february = close(contract, "2026-02")
    submit_statement(statement_id=february.pk, actor=procurement)
    correct_january(contract)
    close(contract, "2026-01")
    close(contract, "2026-02")
    february.refresh_from_db()
    assert (february.adjustments, february.net) == (D("14400.00"), D("14400.00"))
    return february


@pytest.mark.django_db
def test_an_adjustment_in_the_vendors_favour_is_not_waived_there_is_no_credit_to_give_up(
    in_vendors_favour, procurement
):
    adjustment = in_vendors_favour.adjustment_lines.get()

    _refused(
        in_vendors_favour,
        lambda: waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="Goodwill."),
        match="The CSL-1 adjustment for January 2026 is in the vendor’s favour \\(€14,400.00\\): a waiver gives up a "
        "credit owed to the customer, and this adjustment owes it none.",
    )


@pytest.mark.django_db
def test_accepting_the_dispute_of_an_adjustment_in_the_vendors_favour_does_not_waive_it(in_vendors_favour, procurement):
    adjustment = in_vendors_favour.adjustment_lines.get()
    dispute = dispute_adjustment(
        adjustment_id=adjustment.pk, actor=VendorUserFactory(vendor=in_vendors_favour.contract.vendor), reason=REASON
    )

    with pytest.raises(ValidationError) as refused:
        resolve_adjustment_dispute(
            dispute_id=dispute.pk, actor=procurement, resolution="Right.", accepted=True, waive=True
        )

    assert list(refused.value.message_dict) == ["waive"]
    dispute.refresh_from_db()
    adjustment.refresh_from_db()
    assert (dispute.status, adjustment.waived) == (DisputeStatus.OPEN, False)
    resolve_adjustment_dispute(dispute_id=dispute.pk, actor=procurement, resolution="Right.", accepted=True)
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.ACCEPTED


@pytest.mark.django_db
def test_an_adjustment_of_a_disputed_statement_is_waived_only_through_its_dispute(
    february, adjustment, vendor_user, procurement
):
    dispute_line(line_id=line_of(february.contract, "2026-02", "CSL-3").pk, actor=vendor_user, reason="E-mails.")

    _refused(
        february,
        lambda: waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="Goodwill."),
        match="is disputed: resolve its disputes first; accepting the dispute of an adjustment can waive it.",
    )


# A reopened month keeps the decisions on its adjustments -----------------------------------------------------


@pytest.mark.django_db
def test_a_reopened_month_reverses_its_waived_adjustment_instead_of_withdrawing_it_so_the_waiver_still_counts(
    february, adjustment, procurement
):
    contract = february.contract
    waive_adjustment(adjustment_id=adjustment.pk, actor=procurement, reason="Force majeure.")
    january = statement_of(contract, "2026-01")

    reopen_statement(statement_id=january.pk, actor=procurement, reason="Recheck with the corrected data.")
    close(contract, "2026-01")

    # January now credits its €14,400.00 itself; February keeps the waived adjustment and reverses it.
    assert adjustments(contract) == [
        ("2026-01", "2026-02", "CSL-1", D("-14400.00")),
        ("2026-01", "2026-02", "CSL-1", D("14400.00")),
    ]
    assert nets(contract) == {"2026-01": D("-14400.00"), "2026-02": D("14400.00")}
    assert sum(nets(contract).values()) == D("0.00")  # as the waiver decided: the correction is not charged
    adjustment.refresh_from_db()
    assert adjustment.waived


@pytest.mark.django_db
def test_a_reopened_month_keeps_a_disputed_adjustment_and_its_dispute(february, adjustment, vendor_user, procurement):
    contract = february.contract
    dispute = dispute_adjustment(adjustment_id=adjustment.pk, actor=vendor_user, reason=REASON)

    reopen_statement(statement_id=statement_of(contract, "2026-01").pk, actor=procurement, reason="Recheck.")
    close(contract, "2026-01")

    assert nets(contract) == {"2026-01": D("-14400.00"), "2026-02": D("0.00")}  # counted once, through January
    dispute.refresh_from_db()
    assert dispute.adjustment == adjustment
    assert dispute.status == DisputeStatus.OPEN
    assert statement_of(contract, "2026-02").status == StatementStatus.DISPUTED
