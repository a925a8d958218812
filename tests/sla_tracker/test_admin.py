"""The back office shows statements and KPI data as the services wrote them: nothing is added, changed,
deleted or restored there. Statements change on the statement page and through the API's actions, KPI
data through the KPI import service (upload pages, the month's grid, the API), which logs every change
and refuses a month whose statement is approved."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from sla_tracker.choices import DisputeStatus, StatementStatus, UploadStatus
from sla_tracker.models import LineDispute, Measurement, MeasurementChange, PenaltyStatement
from tests.factories import (
    KpiUploadFactory,
    LineDisputeFactory,
    MeasurementChangeFactory,
    MeasurementFactory,
    PenaltyStatementFactory,
    StatementAdjustmentFactory,
    StatementEventFactory,
    StatementLineFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(administrator=True))
    return client


def _url(row_or_model, view: str, *args) -> str:
    meta = row_or_model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def _change_url(row) -> str:
    return _url(row, "change", row.pk)


# Statements ------------------------------------------------------------------------------------------


@pytest.fixture
def approved():
    """An approved statement with one line crediting 3 000."""
    statement = PenaltyStatementFactory(approved=True, uncapped_credits=Decimal("3000.00"), credits=Decimal("3000.00"))
    StatementLineFactory(statement=statement, credit=Decimal("3000.00"), raw_credit=Decimal("3000.00"))
    return statement


def test_statements_are_not_added_in_the_back_office(admin_client):
    contract = PenaltyStatementFactory().contract

    assert admin_client.get(_url(PenaltyStatement, "add")).status_code == 403
    response = admin_client.post(
        _url(PenaltyStatement, "add"),
        {"contract": contract.pk, "month": "2025-06-01", "currency": "EUR", "status": StatementStatus.APPROVED},
    )

    assert response.status_code == 403
    assert PenaltyStatement.objects.count() == 1


def test_an_approved_statements_status_and_figures_are_not_changed_in_the_back_office(admin_client, approved):
    page = admin_client.get(_change_url(approved))
    response = admin_client.post(
        _change_url(approved),
        {
            "contract": approved.contract_id,
            "month": approved.month.isoformat(),
            "currency": approved.currency,
            "status": StatementStatus.DRAFT,
            "charges": "250000.00",
            "uncapped_credits": "0.00",
            "credits": "0.00",
            "net": "0.00",
            "input_fingerprint": "forged",
            "invoice_reference": "INV-1",
        },
    )

    assert page.context["has_change_permission"] is False
    assert response.status_code == 403
    approved.refresh_from_db()
    assert (approved.status, approved.credits, approved.input_fingerprint, approved.invoice_reference) == (
        StatementStatus.APPROVED,
        Decimal("3000.00"),
        "",
        "",
    )
    assert approved.history.count() == 1


def test_a_lines_figures_and_waiver_are_not_changed_in_the_back_office(admin_client, approved):
    line = approved.lines.get()

    response = admin_client.post(
        _change_url(line), {"credit": "0.00", "waived": "on", "waiver_reason": "Goodwill", "status": "met"}
    )

    assert response.status_code == 403
    line.refresh_from_db()
    assert (line.credit, line.waived, line.waiver_reason) == (Decimal("3000.00"), False, "")


def test_the_statements_page_shows_its_lines_and_events_without_letting_them_change(admin_client, approved):
    StatementEventFactory(statement=approved)

    response = admin_client.get(_change_url(approved))

    lines, events = response.context["inline_admin_formsets"]
    for inline in (lines, events):
        assert (inline.has_add_permission, inline.has_change_permission, inline.has_delete_permission) == (
            False,
            False,
            False,
        )


@pytest.mark.parametrize("status", [StatementStatus.DRAFT, StatementStatus.IN_REVIEW, StatementStatus.APPROVED])
def test_a_statement_is_never_deleted_in_the_back_office(admin_client, status):
    statement = PenaltyStatementFactory(approved=status == StatementStatus.APPROVED, status=status)
    changelist = _url(PenaltyStatement, "changelist")

    assert admin_client.post(_url(statement, "delete", statement.pk), {"post": "yes"}).status_code == 403
    assert admin_client.get(changelist).context["action_form"] is None
    admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [statement.pk], "post": "yes"})

    assert PenaltyStatement.objects.filter(pk=statement.pk).exists()


def test_an_approved_statement_is_not_restored_to_a_past_draft(admin_client):
    statement = PenaltyStatementFactory()
    draft = statement.history.earliest()
    statement.status, statement.approved_by, statement.approved_at = (
        StatementStatus.APPROVED,
        UserFactory(procurement=True),
        datetime.datetime(2025, 2, 5, 10, tzinfo=datetime.UTC),
    )
    statement.save()
    url = _url(statement, "simple_history", statement.pk, draft.history_id)

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"contract": statement.contract_id, "status": StatementStatus.DRAFT})

    assert response.status_code == 403
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED


def test_the_statements_back_office_pages_lead_to_the_statement_page_where_its_transitions_are_made(
    admin_client, approved
):
    line = approved.lines.get()
    statement_page = reverse("sla_tracker:statement", args=[approved.pk])

    for row in (approved, line, LineDisputeFactory(line=line), StatementEventFactory(statement=approved)):
        assert admin_client.get(_change_url(row)).context["absolute_url"] == statement_page


def test_adjustments_and_events_are_view_only(admin_client):
    adjustment = StatementAdjustmentFactory()
    event = StatementEventFactory()

    assert admin_client.post(_change_url(adjustment), {"amount": "0.00", "reason": "x"}).status_code == 403
    assert admin_client.post(_change_url(event), {"action": "approved", "note": "x"}).status_code == 403
    assert admin_client.post(_url(event, "delete", event.pk), {"post": "yes"}).status_code == 403
    adjustment.refresh_from_db()
    assert adjustment.amount == Decimal("1500.00")


# Disputes --------------------------------------------------------------------------------------------


def _page_called_pdf() -> SimpleUploadedFile:
    """A file sla_tracker.evidence refuses: an HTML page named .pdf."""
    return SimpleUploadedFile("evidence.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")


def test_no_dispute_and_no_evidence_is_added_in_the_back_office(admin_client):
    line = StatementLineFactory(statement=PenaltyStatementFactory(status=StatementStatus.IN_REVIEW))

    response = admin_client.post(
        _url(LineDispute, "add"),
        {"line": line.pk, "raised_by": UserFactory().pk, "reason": "Outage", "evidence": _page_called_pdf()},
    )

    assert response.status_code == 403
    assert not LineDispute.objects.exists()


def test_a_disputes_evidence_status_and_resolution_are_not_changed_in_the_back_office(admin_client):
    dispute = LineDisputeFactory()
    forged = {"reason": "Outage", "status": DisputeStatus.ACCEPTED, "resolution": "Agreed"}
    restore = _url(dispute, "simple_history", dispute.pk, dispute.history.get().history_id)

    assert admin_client.post(_change_url(dispute), {**forged, "evidence": _page_called_pdf()}).status_code == 403
    assert admin_client.post(restore, {**forged, "evidence": _page_called_pdf()}).status_code == 403
    dispute.refresh_from_db()
    assert (dispute.evidence.name, dispute.status, dispute.resolution) == ("", DisputeStatus.OPEN, "")


# KPI data --------------------------------------------------------------------------------------------


def test_a_measurement_is_not_edited_in_the_back_office_so_every_change_is_logged_by_the_service(admin_client):
    measurement = MeasurementFactory()

    page = admin_client.get(_change_url(measurement))
    response = admin_client.post(
        _change_url(measurement),
        {
            "contract": measurement.contract_id,
            "counter": measurement.counter_id,
            "month": measurement.month.isoformat(),
            "day": measurement.day.isoformat(),
            "value": "999",
            "source": measurement.source,
        },
    )

    assert page.context["has_change_permission"] is False
    assert page.context["absolute_url"] == reverse(
        "sla_tracker:kpi-grid", args=[measurement.contract_id, f"{measurement.month:%Y-%m}"]
    )
    assert response.status_code == 403
    measurement.refresh_from_db()
    assert measurement.value == Decimal("1130")
    assert not MeasurementChange.objects.exists()


def test_a_measurement_of_an_approved_month_is_not_edited_or_deleted_in_the_back_office(admin_client, approved):
    measurement = MeasurementFactory(contract=approved.contract, day=approved.month + datetime.timedelta(days=3))

    assert admin_client.post(_change_url(measurement), {"value": "0"}).status_code == 403
    assert admin_client.post(_url(measurement, "delete", measurement.pk), {"post": "yes"}).status_code == 403

    measurement.refresh_from_db()
    assert measurement.value == Decimal("1130")


def test_measurements_are_not_added_in_the_back_office(admin_client):
    contract = MeasurementFactory().contract

    response = admin_client.post(
        _url(Measurement, "add"),
        {"contract": contract.pk, "counter": Measurement.objects.get().counter_id, "day": "2025-01-20", "value": "5"},
    )

    assert response.status_code == 403
    assert Measurement.objects.count() == 1


def test_the_change_log_and_uploads_are_view_only(admin_client):
    change = MeasurementChangeFactory()
    upload = KpiUploadFactory(status=UploadStatus.REJECTED)

    assert admin_client.post(_change_url(change), {"new_value": "1"}).status_code == 403
    assert admin_client.post(_url(change, "delete", change.pk), {"post": "yes"}).status_code == 403
    assert admin_client.post(_change_url(upload), {"status": UploadStatus.VALIDATED}).status_code == 403
    upload.refresh_from_db()
    assert upload.status == UploadStatus.REJECTED
    assert MeasurementChange.objects.filter(pk=change.pk).exists()


# Exclusions ------------------------------------------------------------------------------------------


def test_procurement_approves_proposed_exclusions_with_the_list_action(client):
    from sla_tracker.choices import ApprovalStatus
    from tests.factories import ExclusionFactory

    procurement = UserFactory(procurement=True, is_staff=True)
    proposed, rejected = ExclusionFactory(), ExclusionFactory()
    rejected.status, rejected.decided_by, rejected.decided_at = ApprovalStatus.REJECTED, procurement, timezone.now()
    rejected.save()
    client.force_login(procurement)

    response = client.post(
        _url(proposed, "changelist"),
        {"action": "approve_exclusions", "_selected_action": [proposed.pk, rejected.pk]},
        follow=True,
    )

    assert response.status_code == 200
    proposed.refresh_from_db()
    rejected.refresh_from_db()
    assert (proposed.status, proposed.decided_by) == (ApprovalStatus.APPROVED, procurement)
    assert rejected.status == ApprovalStatus.REJECTED  # a decision is final
    assert "already decided (rejected)" in response.content.decode()


def test_a_vendor_manager_gets_no_decision_action_and_a_decided_exclusion_is_read_only(client):
    from sla_tracker.choices import ApprovalStatus
    from tests.factories import ExclusionFactory

    approved = ExclusionFactory(approved=True)
    proposed = ExclusionFactory(contract=approved.contract)
    manager = approved.contract.owner
    manager.is_staff = True  # a vendor manager given the back office
    manager.save()
    client.force_login(manager)

    listing = client.get(_url(approved, "changelist"))
    edit = client.post(_change_url(approved), {"description": "rewritten"})
    client.post(_url(proposed, "changelist"), {"action": "approve_exclusions", "_selected_action": [proposed.pk]})

    assert listing.status_code == 200
    assert "approve_exclusions" not in listing.content.decode()
    assert edit.status_code == 403
    approved.refresh_from_db()
    proposed.refresh_from_db()
    assert approved.description != "rewritten"
    assert approved.status == ApprovalStatus.APPROVED
    assert proposed.status == ApprovalStatus.PROPOSED  # the action is not theirs, even posted by hand


def test_an_exclusion_proposed_in_the_back_office_with_another_contracts_service_level_is_refused(client):
    from sla_tracker.models import Exclusion
    from tests.factories import ContractFactory, ServiceLevelFactory

    manager = UserFactory(is_staff=True)  # a vendor manager
    contract = ContractFactory(owner=manager)
    own = ServiceLevelFactory(contract=contract)
    other = ServiceLevelFactory(contract=ContractFactory(owner=manager))
    client.force_login(manager)
    form = {
        "contract": contract.pk,
        "start_date": "2025-03-04",
        "end_date": "2025-03-05",
        "reason": "force_majeure",
        "description": "Storm",
        "evidence": "",
        "service_levels": [own.pk, other.pk],
    }

    refused = client.post(_url(Exclusion, "add"), form)

    assert refused.status_code == 200
    assert "belong to another contract" in refused.content.decode()
    assert not Exclusion.objects.exists()
    assert client.post(_url(Exclusion, "add"), {**form, "service_levels": [own.pk]}).status_code == 302
    assert list(Exclusion.objects.get().service_levels.all()) == [own]


def test_a_change_of_an_exclusions_service_levels_in_the_back_office_is_one_version_recording_them(client):
    from sla_tracker.models import Exclusion
    from tests.factories import ContractFactory, ServiceLevelFactory

    manager = UserFactory(is_staff=True)  # a vendor manager
    contract = ContractFactory(owner=manager)
    first, second = ServiceLevelFactory(contract=contract), ServiceLevelFactory(contract=contract)
    client.force_login(manager)
    form = {
        "contract": contract.pk,
        "start_date": "2025-03-04",
        "end_date": "2025-03-05",
        "reason": "force_majeure",
        "description": "Storm",
        "evidence": "",
        "service_levels": [first.pk],
    }
    assert client.post(_url(Exclusion, "add"), form).status_code == 302
    exclusion = Exclusion.objects.get()

    assert client.post(_change_url(exclusion), {**form, "service_levels": [second.pk]}).status_code == 302

    versions = list(exclusion.history.order_by("history_date", "history_id"))
    assert [version.history_type for version in versions] == ["+", "~"]
    assert [[row.servicelevel_id for row in version.service_levels.all()] for version in versions] == [
        [first.pk],
        [second.pk],
    ]
