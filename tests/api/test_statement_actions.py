"""The statement's review through the API: each action calls one service; errors keep the API's shape."""

import pytest

from accounts.choices import Role
from sla_tracker.choices import DisputeStatus, StatementStatus
from sla_tracker.models import LineDispute
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(worlds):
    """The first vendor's statement, back to draft so that its whole review can be walked."""
    statement = worlds[0]["sla_tracker.PenaltyStatement"]
    statement.status = StatementStatus.DRAFT
    statement.save()
    return statement


@pytest.fixture
def undisputed_line(statement):
    """A line of the first vendor's statement with no dispute yet (build_world's line has one)."""
    return f.StatementLineFactory(statement=statement)


@pytest.fixture
def in_review(statement, users, client_for):
    response = client_for(users[Role.VENDOR_MANAGER]).post(f"/api/v1/penalty-statements/{statement.pk}/submit/")
    assert response.status_code == 200, response.content
    return statement


def test_the_vendor_manager_submits_and_procurement_approves(statement, users, client_for):
    submitted = client_for(users[Role.VENDOR_MANAGER]).post(f"/api/v1/penalty-statements/{statement.pk}/submit/")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == StatementStatus.IN_REVIEW

    approved = client_for(users[Role.PROCUREMENT]).post(f"/api/v1/penalty-statements/{statement.pk}/approve/")
    assert approved.status_code == 200
    assert approved.json()["status"] == StatementStatus.APPROVED
    assert approved.json()["approved_by"] == users[Role.PROCUREMENT].pk


def test_a_vendor_manager_cannot_approve(in_review, users, client_for):
    response = client_for(users[Role.VENDOR_MANAGER]).post(f"/api/v1/penalty-statements/{in_review.pk}/approve/")
    assert response.status_code == 403
    assert response.json()["type"] == "permission_denied"


def test_approving_a_draft_is_refused_with_the_services_message(statement, users, client_for):
    response = client_for(users[Role.PROCUREMENT]).post(f"/api/v1/penalty-statements/{statement.pk}/approve/")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert "only a statement that is in review can be approved" in body["errors"]["non_field_errors"][0]


def test_reopen_and_invoice_need_their_text(in_review, users, client_for):
    procurement = client_for(users[Role.PROCUREMENT])
    procurement.post(f"/api/v1/penalty-statements/{in_review.pk}/approve/")
    missing = procurement.post(f"/api/v1/penalty-statements/{in_review.pk}/invoice/", {}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"invoice_reference"}
    invoiced = procurement.post(
        f"/api/v1/penalty-statements/{in_review.pk}/invoice/", {"invoice_reference": "CN-2025-001"}, format="json"
    )
    assert invoiced.json()["status"] == StatementStatus.INVOICED
    reopened = procurement.post(f"/api/v1/penalty-statements/{in_review.pk}/reopen/", {"reason": "x"}, format="json")
    assert reopened.status_code == 400


def test_a_vendor_user_disputes_a_line_of_their_own_statement(in_review, undisputed_line, users, client_for):
    line = undisputed_line
    response = client_for(users[Role.VENDOR_USER]).post(
        f"/api/v1/statement-lines/{line.pk}/dispute/", {"reason": "The outage was force majeure."}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["raised_by"] == users[Role.VENDOR_USER].pk
    in_review.refresh_from_db()
    assert in_review.status == StatementStatus.DISPUTED


def test_a_vendor_user_cannot_dispute_another_vendors_line(worlds, users, client_for):
    line = worlds[1]["sla_tracker.StatementLine"]
    response = client_for(users[Role.VENDOR_USER]).post(
        f"/api/v1/statement-lines/{line.pk}/dispute/", {"reason": "Trying my luck."}, format="json"
    )
    assert response.status_code == 404
    assert response.json() == {"type": "not_found", "detail": "Not found."}


def test_procurement_cannot_dispute_on_the_vendors_behalf(in_review, worlds, users, client_for):
    line = worlds[0]["sla_tracker.StatementLine"]
    response = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/statement-lines/{line.pk}/dispute/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403


def test_a_dispute_without_a_reason_is_a_400_with_the_error_shape(in_review, undisputed_line, users, client_for):
    line = undisputed_line
    response = client_for(users[Role.VENDOR_USER]).post(
        f"/api/v1/statement-lines/{line.pk}/dispute/", {"reason": ""}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"type": "validation_error", "errors": {"reason": ["This field may not be blank."]}}


def test_procurement_waives_a_line_with_a_reason(in_review, worlds, users, client_for):
    line = worlds[0]["sla_tracker.StatementLine"]
    response = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/statement-lines/{line.pk}/waive/", {"reason": "Goodwill after the migration."}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["waived"] is True
    assert response.json()["waiver_reason"] == "Goodwill after the migration."


def test_a_waiver_without_a_reason_is_refused(in_review, worlds, users, client_for):
    line = worlds[0]["sla_tracker.StatementLine"]
    response = client_for(users[Role.PROCUREMENT]).post(f"/api/v1/statement-lines/{line.pk}/waive/", {}, format="json")
    assert response.status_code == 400
    assert response.json() == {"type": "validation_error", "errors": {"reason": ["This field is required."]}}


def test_a_vendor_user_cannot_waive(in_review, worlds, users, client_for):
    line = worlds[0]["sla_tracker.StatementLine"]
    response = client_for(users[Role.VENDOR_USER]).post(
        f"/api/v1/statement-lines/{line.pk}/waive/", {"reason": "Please."}, format="json"
    )
    assert response.status_code == 403


def test_procurement_resolves_a_dispute_and_the_statement_is_back_in_review(
    in_review, undisputed_line, users, client_for
):
    raised = client_for(users[Role.VENDOR_USER]).post(
        f"/api/v1/statement-lines/{undisputed_line.pk}/dispute/", {"reason": "Force majeure."}, format="json"
    )
    assert raised.status_code == 201
    procurement = client_for(users[Role.PROCUREMENT])
    for dispute in LineDispute.objects.filter(line__statement=in_review).order_by("pk"):
        response = procurement.post(
            f"/api/v1/line-disputes/{dispute.pk}/resolve/",
            {"resolution": "Evidence accepted.", "accepted": True},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["status"] == DisputeStatus.ACCEPTED
    in_review.refresh_from_db()
    assert in_review.status == StatementStatus.IN_REVIEW
