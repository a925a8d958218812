"""The statement's review through the API: each action calls one service; errors keep the API's shape."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.choices import Role
from sla_tracker.choices import DisputeStatus, StatementAction, StatementStatus
from sla_tracker.models import AdjustmentDispute, LineDispute, PenaltyStatement, StatementAdjustment
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


def test_an_action_that_takes_no_body_refuses_a_malformed_one_and_changes_nothing(in_review, users, client_for):
    client = client_for(users[Role.PROCUREMENT])

    response = client.generic(
        "POST", f"/api/v1/penalty-statements/{in_review.pk}/approve/", '{"a":', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    in_review.refresh_from_db()
    assert in_review.status == StatementStatus.IN_REVIEW


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


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _dispute_with_evidence(client, line, content=PDF, name="carrier-outage.pdf"):
    evidence = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(
        f"/api/v1/statement-lines/{line.pk}/dispute/",
        {"reason": "The carrier's outage report is attached.", "evidence": evidence},
        format="multipart",
    )


def test_a_vendor_user_attaches_evidence_and_it_is_downloaded_through_the_api(
    in_review, undisputed_line, users, client_for
):
    vendor = client_for(users[Role.VENDOR_USER])
    response = _dispute_with_evidence(vendor, undisputed_line)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["evidence_name"] == "carrier-outage.pdf"
    assert body["evidence_url"] == f"http://testserver/api/v1/line-disputes/{body['id']}/evidence/"

    for reader in (users[Role.VENDOR_USER], users[Role.PROCUREMENT]):
        download = client_for(reader).get(body["evidence_url"])
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PDF
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"] == 'attachment; filename="carrier-outage.pdf"'
        assert download["X-Content-Type-Options"] == "nosniff"
    listed = vendor.get(f"/api/v1/line-disputes/{body['id']}/").json()
    assert listed["evidence_url"] == body["evidence_url"]


def test_another_vendors_user_gets_404_for_the_evidence(in_review, undisputed_line, worlds, users, client_for):
    body = _dispute_with_evidence(client_for(users[Role.VENDOR_USER]), undisputed_line).json()
    stranger = f.VendorUserFactory(vendor=worlds[1]["contracts.Vendor"])

    response = client_for(stranger).get(body["evidence_url"])

    assert response.status_code == 404
    assert response.json() == {"type": "not_found", "detail": "Not found."}


def test_a_dispute_without_evidence_shows_none_and_its_download_is_404(in_review, undisputed_line, users, client_for):
    body = (
        client_for(users[Role.VENDOR_USER])
        .post(f"/api/v1/statement-lines/{undisputed_line.pk}/dispute/", {"reason": "Wrong count."}, format="json")
        .json()
    )
    assert body["evidence_name"] is None and body["evidence_url"] is None

    response = client_for(users[Role.PROCUREMENT]).get(f"/api/v1/line-disputes/{body['id']}/evidence/")

    assert response.status_code == 404


def test_evidence_that_is_not_what_its_name_says_is_refused_and_nothing_is_written(
    in_review, undisputed_line, users, client_for
):
    response = _dispute_with_evidence(
        client_for(users[Role.VENDOR_USER]), undisputed_line, content=b"<html><script>alert(1)</script></html>"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert list(body["errors"]) == ["evidence"]
    assert "not a real PDF file" in body["errors"]["evidence"][0]
    assert not LineDispute.objects.filter(line=undisputed_line).exists()
    in_review.refresh_from_db()
    assert in_review.status == StatementStatus.IN_REVIEW


def test_evidence_of_a_type_not_accepted_is_refused_under_evidence_for_a_line_and_an_adjustment(
    in_review, undisputed_line, adjustment, users, client_for
):
    vendor = client_for(users[Role.VENDOR_USER])

    responses = [
        vendor.post(
            url,
            {"reason": "See the attached proof.", "evidence": SimpleUploadedFile("proof.exe", b"MZ\x90\x00")},
            format="multipart",
        )
        for url in (
            f"/api/v1/statement-lines/{undisputed_line.pk}/dispute/",
            f"/api/v1/statement-adjustments/{adjustment.pk}/dispute/",
        )
    ]

    for response in responses:
        assert response.status_code == 400, response.content
        assert response.json()["errors"] == {
            "evidence": [
                "“proof.exe” is not an accepted type of evidence. Accepted: "
                ".pdf, .png, .jpg, .jpeg, .xlsx, .csv, .txt, .eml, .msg."
            ]
        }
    assert not LineDispute.objects.filter(line=undisputed_line).exists()
    assert not adjustment.disputes.exists()
    assert {PenaltyStatement.objects.get(pk=pk).status for pk in (in_review.pk, adjustment.statement_id)} == {
        StatementStatus.IN_REVIEW
    }


@pytest.fixture
def disputed_credit(in_review, users, client_for):
    """A credit-bearing line of the statement in review, disputed by the vendor; the statement's totals set."""
    line = f.StatementLineFactory(statement=in_review, status="default", raw_credit="1500.00", credit="1500.00")
    in_review.refresh_from_db()
    credits = sum((item.credit for item in in_review.lines.all()), Decimal("0.00"))
    in_review.credits = in_review.uncapped_credits = credits
    in_review.net = in_review.bonuses + in_review.earn_backs + in_review.adjustments - credits
    in_review.save()
    LineDispute.objects.filter(line__statement=in_review).update(
        status=DisputeStatus.REJECTED, resolution="x", resolved_by=users[Role.PROCUREMENT], resolved_at=timezone.now()
    )
    raised = client_for(users[Role.VENDOR_USER]).post(
        f"/api/v1/statement-lines/{line.pk}/dispute/", {"reason": "Force majeure."}, format="json"
    )
    assert raised.status_code == 201, raised.content
    return LineDispute.objects.get(pk=raised.json()["id"])


def test_accepting_a_dispute_can_waive_the_lines_credit_in_the_same_step(disputed_credit, users, client_for):
    procurement = users[Role.PROCUREMENT]
    response = client_for(procurement).post(
        f"/api/v1/line-disputes/{disputed_credit.pk}/resolve/",
        {"resolution": "The outage was the carrier's.", "accepted": True, "waive": True},
        format="json",
    )

    assert response.status_code == 200, response.content
    line = disputed_credit.line
    line.refresh_from_db()
    assert (line.waived, line.waiver_reason, line.waived_by) == (True, "The outage was the carrier's.", procurement)
    statement = line.statement
    statement.refresh_from_db()
    assert statement.status == StatementStatus.IN_REVIEW
    assert statement.credits == sum(
        (other.credit for other in statement.lines.all() if not other.waived), Decimal("0.00")
    )
    assert statement.credits < Decimal("1500.00")
    actions = list(statement.events.filter(line=line).order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == [StatementAction.LINE_WAIVED, StatementAction.DISPUTE_RESOLVED]


def test_accepting_without_waive_leaves_the_credit(disputed_credit, users, client_for):
    response = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/line-disputes/{disputed_credit.pk}/resolve/",
        {"resolution": "Noted; the data will be corrected.", "accepted": True},
        format="json",
    )

    assert response.status_code == 200, response.content
    disputed_credit.line.refresh_from_db()
    assert disputed_credit.line.waived is False


def test_a_rejection_cannot_waive_and_nothing_changes(disputed_credit, users, client_for):
    response = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/line-disputes/{disputed_credit.pk}/resolve/",
        {"resolution": "The line stands.", "accepted": False, "waive": True},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": {"waive": ["Only an accepted dispute can waive the line's credit."]},
    }
    disputed_credit.refresh_from_db()
    assert disputed_credit.status == DisputeStatus.OPEN
    assert disputed_credit.line.waived is False


def test_accepting_with_waive_on_a_line_already_waived_resolves_nothing(disputed_credit, users, client_for):
    line = disputed_credit.line
    line.waived, line.waiver_reason = True, "Goodwill."
    line.waived_by, line.waived_at = users[Role.PROCUREMENT], timezone.now()
    line.save()

    response = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/line-disputes/{disputed_credit.pk}/resolve/",
        {"resolution": "Agreed.", "accepted": True, "waive": True},
        format="json",
    )

    assert response.status_code == 400
    assert "already waived" in str(response.json()["errors"])
    disputed_credit.refresh_from_db()
    assert disputed_credit.status == DisputeStatus.OPEN
    disputed_credit.line.statement.refresh_from_db()
    assert disputed_credit.line.statement.status == StatementStatus.DISPUTED


def test_an_approval_sent_with_the_figures_read_is_refused_once_they_changed(in_review, users, client_for):
    client = client_for(users[Role.PROCUREMENT])
    url = f"/api/v1/penalty-statements/{in_review.pk}/"
    read = client.get(url).json()
    seen = {"input_fingerprint": read["input_fingerprint"], "net": read["net"]}
    # Recomputed meanwhile: new data, another net.
    PenaltyStatement.objects.filter(pk=in_review.pk).update(
        input_fingerprint="f" * 64, net=Decimal(read["net"]) - Decimal("5730.00")
    )

    refused = client.post(f"{url}approve/", seen, format="json")

    assert refused.status_code == 400, refused.content
    message = refused.json()["errors"]["non_field_errors"][0]
    assert "changed since you opened it: its net was" in message
    assert client.get(url).json()["status"] == StatementStatus.IN_REVIEW
    again = client.get(url).json()
    approved = client.post(
        f"{url}approve/", {"input_fingerprint": again["input_fingerprint"], "net": again["net"]}, format="json"
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == StatementStatus.APPROVED


def test_the_approval_guard_is_documented_in_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    body = schema["paths"]["/api/v1/penalty-statements/{id}/approve/"]["post"]["requestBody"]
    reference = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][reference]["properties"]
    assert set(properties) == {"input_fingerprint", "net"}
    assert "refused (400)" in properties["net"]["description"]
    assert not schema["components"]["schemas"][reference].get("required")


def test_a_line_of_a_disputed_statement_cannot_be_waived_directly(in_review, undisputed_line, users, client_for):
    raised = client_for(users[Role.VENDOR_USER]).post(
        f"/api/v1/statement-lines/{undisputed_line.pk}/dispute/", {"reason": "Force majeure."}, format="json"
    )
    assert raised.status_code == 201

    response = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/statement-lines/{undisputed_line.pk}/waive/", {"reason": "Goodwill."}, format="json"
    )

    assert response.status_code == 400
    assert "is disputed: resolve its disputes first" in response.json()["errors"]["non_field_errors"][0]
    undisputed_line.refresh_from_db()
    assert undisputed_line.waived is False


# Withdrawing a waiver before approval -----------------------------------------------------------------------


def _statement_figures(client, statement) -> tuple:
    body = client.get(f"/api/v1/penalty-statements/{statement.pk}/").json()
    return (body["credits"], body["net"])


def _statement_totals(client, statement) -> dict[str, Decimal]:
    body = client.get(f"/api/v1/penalty-statements/{statement.pk}/").json()
    return {name: Decimal(body[name]) for name in ("credits", "bonuses", "earn_backs", "adjustments", "net")}


@pytest.fixture
def waived_credit(worlds, users, client_for):
    """A €1,500.00 credit of the first vendor's statement in review that carries an adjustment in (no approved
    month after it: a waiver recomputes nothing in its transaction), waived by procurement; with the statement's
    figures from before the waiver."""
    statement = worlds[0]["sla_tracker.StatementAdjustment"].statement
    line = f.StatementLineFactory(statement=statement, status="default", raw_credit="1500.00", credit="1500.00")
    adjustments = sum((item.amount for item in statement.adjustment_lines.all()), Decimal("0.00"))
    PenaltyStatement.objects.filter(pk=statement.pk).update(
        uncapped_credits=Decimal("1500.00"),
        credits=Decimal("1500.00"),
        bonuses=Decimal("0.00"),
        earn_backs=Decimal("0.00"),
        adjustments=adjustments,
        net=adjustments - Decimal("1500.00"),
    )
    client = client_for(users[Role.PROCUREMENT])
    before = _statement_figures(client, statement)
    waived = client.post(f"/api/v1/statement-lines/{line.pk}/waive/", {"reason": "Goodwill."}, format="json")
    assert waived.status_code == 200, waived.content
    assert _statement_figures(client, statement) == ("0.00", str(adjustments))
    line.figures_before_the_waiver = before
    return line


def _withdraw(client, kind, pk, body):
    return client.post(f"/api/v1/{kind}/{pk}/withdraw-waiver/", body, format="json")


def test_procurement_withdraws_a_lines_waiver_and_the_statement_counts_the_credit_again(
    waived_credit, users, client_for
):
    procurement = users[Role.PROCUREMENT]
    client = client_for(procurement)

    response = _withdraw(client, "statement-lines", waived_credit.pk, {"reason": "Waived by mistake."})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["waived"], body["waiver_reason"], body["waived_by"], body["charged"]) == (False, "", None, "1500.00")
    figures = _statement_figures(client, waived_credit.statement)
    assert figures == waived_credit.figures_before_the_waiver
    assert figures[0] == "1500.00"
    event = waived_credit.statement.events.latest("pk")
    assert (event.action, event.line, event.actor, event.note) == (
        StatementAction.LINE_WAIVER_WITHDRAWN,
        waived_credit,
        procurement,
        "Waived by mistake.",
    )


def _unchanged(line, events: int) -> None:
    line.refresh_from_db()
    assert (line.waived, line.waiver_reason) == (True, "Goodwill.")
    assert line.statement.events.count() == events


def test_a_withdrawal_without_a_reason_is_a_400_and_nothing_changes(waived_credit, users, client_for):
    events = waived_credit.statement.events.count()

    response = _withdraw(client_for(users[Role.PROCUREMENT]), "statement-lines", waived_credit.pk, {"reason": " "})

    assert response.status_code == 400
    assert response.json() == {"type": "validation_error", "errors": {"reason": ["This field may not be blank."]}}
    _unchanged(waived_credit, events)


def test_a_vendor_user_cannot_withdraw_a_waiver_and_another_vendors_user_does_not_find_it(
    waived_credit, worlds, users, client_for
):
    events = waived_credit.statement.events.count()
    stranger = client_for(f.VendorUserFactory(vendor=worlds[1]["contracts.Vendor"]))

    own = _withdraw(client_for(users[Role.VENDOR_USER]), "statement-lines", waived_credit.pk, {"reason": "Please."})
    other = _withdraw(stranger, "statement-lines", waived_credit.pk, {"reason": "Please."})

    assert own.status_code == 403
    assert other.status_code == 404
    assert other.json() == {"type": "not_found", "detail": "Not found."}
    _unchanged(waived_credit, events)


def test_withdrawing_the_waiver_of_a_line_that_is_not_waived_is_a_400_with_the_services_message(
    in_review, undisputed_line, users, client_for
):
    response = _withdraw(
        client_for(users[Role.PROCUREMENT]), "statement-lines", undisputed_line.pk, {"reason": "Mistake."}
    )

    assert response.status_code == 400
    code = undisputed_line.service_level.code
    assert response.json()["errors"] == {"non_field_errors": [f"The {code} line is not waived."]}


def test_a_waiver_given_in_accepting_a_dispute_is_not_withdrawn_through_the_api(disputed_credit, users, client_for):
    client = client_for(users[Role.PROCUREMENT])
    resolved = client.post(
        f"/api/v1/line-disputes/{disputed_credit.pk}/resolve/",
        {"resolution": "The outage was the carrier's.", "accepted": True, "waive": True},
        format="json",
    )
    assert resolved.status_code == 200, resolved.content
    line = disputed_credit.line
    figures = _statement_figures(client, line.statement)

    response = _withdraw(client, "statement-lines", line.pk, {"reason": "Mistake."})

    assert response.status_code == 400
    assert "was waived in accepting the vendor's dispute of it" in response.json()["errors"]["non_field_errors"][0]
    line.refresh_from_db()
    assert line.waived
    assert _statement_figures(client, line.statement) == figures
    assert not line.events.filter(action=StatementAction.LINE_WAIVER_WITHDRAWN).exists()


# Adjustments carried in: disputed and waived as lines are --------------------------------------------------


@pytest.fixture
def adjustment(worlds, users):
    """A new adjustment of the first vendor's statement in review that carries one in (its other adjustment's
    dispute resolved: none is open)."""
    carried = worlds[0]["sla_tracker.StatementAdjustment"]
    AdjustmentDispute.objects.filter(adjustment=carried).update(
        status=DisputeStatus.REJECTED, resolution="x", resolved_by=users[Role.PROCUREMENT], resolved_at=timezone.now()
    )
    return f.StatementAdjustmentFactory(statement=carried.statement, origin=carried.origin, amount="-2500.00")


def _dispute_adjustment(client, adjustment, **body):
    return client.post(
        f"/api/v1/statement-adjustments/{adjustment.pk}/dispute/",
        {"reason": "The corrected figures count the carrier's outage.", **body},
        format="json",
    )


def test_a_vendor_user_disputes_an_adjustment_of_their_own_statement(adjustment, users, client_for):
    response = _dispute_adjustment(client_for(users[Role.VENDOR_USER]), adjustment)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["adjustment"], body["raised_by"], body["status"]) == (
        adjustment.pk,
        users[Role.VENDOR_USER].pk,
        DisputeStatus.OPEN,
    )
    assert body["evidence_url"] is None
    adjustment.statement.refresh_from_db()
    assert adjustment.statement.status == StatementStatus.DISPUTED
    listed = client_for(users[Role.VENDOR_USER]).get(f"/api/v1/adjustment-disputes/?adjustment={adjustment.pk}")
    assert [item["id"] for item in listed.json()["results"]] == [body["id"]]


def test_another_vendors_user_gets_404_for_the_adjustment_and_cannot_dispute_it(adjustment, worlds, client_for):
    stranger = client_for(f.VendorUserFactory(vendor=worlds[1]["contracts.Vendor"]))

    read = stranger.get(f"/api/v1/statement-adjustments/{adjustment.pk}/")
    disputed = _dispute_adjustment(stranger, adjustment)
    listed = stranger.get("/api/v1/statement-adjustments/")

    assert read.status_code == disputed.status_code == 404
    assert disputed.json() == {"type": "not_found", "detail": "Not found."}
    assert adjustment.pk not in [item["id"] for item in listed.json()["results"]]
    assert not AdjustmentDispute.objects.filter(adjustment=adjustment).exists()
    adjustment.statement.refresh_from_db()
    assert adjustment.statement.status == StatementStatus.IN_REVIEW


def test_procurement_cannot_dispute_an_adjustment_on_the_vendors_behalf(adjustment, users, client_for):
    response = _dispute_adjustment(client_for(users[Role.PROCUREMENT]), adjustment)

    assert response.status_code == 403
    assert not AdjustmentDispute.objects.filter(adjustment=adjustment).exists()


def test_a_dispute_of_an_adjustment_without_a_reason_is_a_400_and_nothing_is_written(adjustment, users, client_for):
    response = _dispute_adjustment(client_for(users[Role.VENDOR_USER]), adjustment, reason="")

    assert response.status_code == 400
    assert response.json() == {"type": "validation_error", "errors": {"reason": ["This field may not be blank."]}}
    assert not AdjustmentDispute.objects.filter(adjustment=adjustment).exists()


def test_an_adjustment_disputed_twice_is_refused_with_the_services_message(adjustment, users, client_for):
    vendor = client_for(users[Role.VENDOR_USER])
    assert _dispute_adjustment(vendor, adjustment).status_code == 201

    again = _dispute_adjustment(vendor, adjustment)

    assert again.status_code == 400
    assert "adjustment for" in again.json()["errors"]["non_field_errors"][0]
    assert "already has an open dispute" in again.json()["errors"]["non_field_errors"][0]
    assert AdjustmentDispute.objects.filter(adjustment=adjustment).count() == 1


def test_accepting_an_adjustments_dispute_with_waive_charges_it_nothing(adjustment, users, client_for):
    raised = _dispute_adjustment(client_for(users[Role.VENDOR_USER]), adjustment).json()
    procurement = client_for(users[Role.PROCUREMENT])

    response = procurement.post(
        f"/api/v1/adjustment-disputes/{raised['id']}/resolve/",
        {"resolution": "The outage was the carrier's.", "accepted": True, "waive": True},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == DisputeStatus.ACCEPTED
    shown = procurement.get(f"/api/v1/statement-adjustments/{adjustment.pk}/").json()
    assert (shown["amount"], shown["charged"], shown["waived"], shown["waiver_reason"]) == (
        "-2500.00",
        "0.00",
        True,
        "The outage was the carrier's.",
    )
    statement = procurement.get(f"/api/v1/penalty-statements/{adjustment.statement_id}/").json()
    carried = procurement.get(f"/api/v1/statement-adjustments/?statement={adjustment.statement_id}").json()
    assert statement["status"] == StatementStatus.IN_REVIEW
    assert Decimal(statement["adjustments"]) == sum(Decimal(item["charged"]) for item in carried["results"])
    assert Decimal(statement["adjustments"]) == Decimal("1500.00")  # the other adjustment, not waived


def test_a_rejection_of_an_adjustments_dispute_cannot_waive_and_nothing_changes(adjustment, users, client_for):
    raised = _dispute_adjustment(client_for(users[Role.VENDOR_USER]), adjustment).json()

    response = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/adjustment-disputes/{raised['id']}/resolve/",
        {"resolution": "The adjustment stands.", "accepted": False, "waive": True},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": {"waive": ["Only an accepted dispute can waive the adjustment."]},
    }
    adjustment.refresh_from_db()
    assert adjustment.waived is False
    assert AdjustmentDispute.objects.get(pk=raised["id"]).status == DisputeStatus.OPEN


def test_an_adjustment_in_the_vendors_favour_is_not_waived_nor_waived_in_accepting_its_dispute(
    adjustment, users, client_for
):
    StatementAdjustment.objects.filter(pk=adjustment.pk).update(amount=Decimal("2500.00"))  # owed to the vendor
    procurement = client_for(users[Role.PROCUREMENT])

    waived = procurement.post(
        f"/api/v1/statement-adjustments/{adjustment.pk}/waive/", {"reason": "Goodwill."}, format="json"
    )
    raised = _dispute_adjustment(client_for(users[Role.VENDOR_USER]), adjustment).json()
    accepted = procurement.post(
        f"/api/v1/adjustment-disputes/{raised['id']}/resolve/",
        {"resolution": "Right.", "accepted": True, "waive": True},
        format="json",
    )

    assert waived.status_code == 400
    assert "is in the vendor’s favour (" in waived.json()["errors"]["non_field_errors"][0]
    assert "a waiver gives up a credit owed to the customer" in waived.json()["errors"]["non_field_errors"][0]
    assert accepted.status_code == 400
    assert "is in the vendor’s favour" in accepted.json()["errors"]["waive"][0]
    adjustment.refresh_from_db()
    assert adjustment.waived is False
    assert AdjustmentDispute.objects.get(pk=raised["id"]).status == DisputeStatus.OPEN


def test_only_procurement_resolves_an_adjustments_dispute(adjustment, users, client_for):
    raised = _dispute_adjustment(client_for(users[Role.VENDOR_USER]), adjustment).json()

    response = client_for(users[Role.VENDOR_USER]).post(
        f"/api/v1/adjustment-disputes/{raised['id']}/resolve/", {"resolution": "Agreed.", "accepted": True}
    )

    assert response.status_code == 403
    assert AdjustmentDispute.objects.get(pk=raised["id"]).status == DisputeStatus.OPEN


def test_procurement_waives_an_adjustment_and_a_vendor_user_cannot(adjustment, users, client_for):
    refused = client_for(users[Role.VENDOR_USER]).post(
        f"/api/v1/statement-adjustments/{adjustment.pk}/waive/", {"reason": "Please."}, format="json"
    )
    missing = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/statement-adjustments/{adjustment.pk}/waive/", {}, format="json"
    )
    response = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/statement-adjustments/{adjustment.pk}/waive/", {"reason": "Goodwill."}, format="json"
    )

    assert refused.status_code == 403
    assert missing.json() == {"type": "validation_error", "errors": {"reason": ["This field is required."]}}
    assert response.status_code == 200, response.content
    assert (response.json()["waived"], response.json()["charged"], response.json()["amount"]) == (
        True,
        "0.00",
        "-2500.00",
    )


def test_an_adjustments_dispute_evidence_is_downloaded_through_the_api_by_its_vendor_only(
    adjustment, worlds, users, client_for
):
    evidence = SimpleUploadedFile("adjustment-outage-report.pdf", PDF, content_type="application/pdf")
    body = (
        client_for(users[Role.VENDOR_USER])
        .post(
            f"/api/v1/statement-adjustments/{adjustment.pk}/dispute/",
            {"reason": "The carrier's outage report is attached.", "evidence": evidence},
            format="multipart",
        )
        .json()
    )
    assert body["evidence_url"] == f"http://testserver/api/v1/adjustment-disputes/{body['id']}/evidence/"

    download = client_for(users[Role.PROCUREMENT]).get(body["evidence_url"])
    stranger = client_for(f.VendorUserFactory(vendor=worlds[1]["contracts.Vendor"])).get(body["evidence_url"])

    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"] == 'attachment; filename="adjustment-outage-report.pdf"'
    assert stranger.status_code == 404


def test_a_line_says_what_it_charges_beside_the_credit_it_computed(in_review, users, client_for):
    charged = f.StatementLineFactory(statement=in_review, status="default", raw_credit="1500.00", credit="1500.00")
    waived = f.StatementLineFactory(
        statement=in_review,
        status="default",
        raw_credit="800.00",
        credit="800.00",
        waived=True,
        waiver_reason="Goodwill.",
        waived_by=users[Role.PROCUREMENT],
        waived_at=timezone.now(),
    )
    client = client_for(users[Role.VENDOR_USER])

    lines = {
        item["id"]: item for item in client.get(f"/api/v1/statement-lines/?statement={in_review.pk}").json()["results"]
    }

    assert (lines[charged.pk]["credit"], lines[charged.pk]["charged"]) == ("1500.00", "1500.00")
    assert (lines[waived.pk]["credit"], lines[waived.pk]["charged"], lines[waived.pk]["waived"]) == (
        "800.00",
        "0.00",
        True,
    )
    assert client.get(f"/api/v1/statement-lines/{waived.pk}/").json()["charged"] == "0.00"


def test_what_a_line_and_an_adjustment_charge_is_documented_in_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]

    for name, summed in (("StatementLine", "`credits`"), ("StatementAdjustment", "`adjustments`")):
        charged = schemas[name]["properties"]["charged"]
        assert (charged["type"], charged["format"], charged["readOnly"]) == ("string", "decimal", True)
        assert "0 once" in charged["description"] and summed in charged["description"]
    assert {"credit", "waived"} <= set(schemas["StatementLine"]["properties"])  # the existing fields stay


def test_procurement_withdraws_an_adjustments_waiver_and_vendor_users_cannot(adjustment, worlds, users, client_for):
    procurement = client_for(users[Role.PROCUREMENT])
    statement = adjustment.statement
    waived = procurement.post(
        f"/api/v1/statement-adjustments/{adjustment.pk}/waive/", {"reason": "Goodwill."}, format="json"
    )
    assert waived.status_code == 200, waived.content
    assert _statement_totals(procurement, statement)["adjustments"] == Decimal("1500.00")  # the other one only
    stranger = client_for(f.VendorUserFactory(vendor=worlds[1]["contracts.Vendor"]))

    own = _withdraw(client_for(users[Role.VENDOR_USER]), "statement-adjustments", adjustment.pk, {"reason": "Please."})
    other = _withdraw(stranger, "statement-adjustments", adjustment.pk, {"reason": "Please."})
    adjustment.refresh_from_db()
    assert (own.status_code, other.status_code, adjustment.waived) == (403, 404, True)
    response = _withdraw(procurement, "statement-adjustments", adjustment.pk, {"reason": "Not agreed."})

    assert response.status_code == 200, response.content
    assert (response.json()["waived"], response.json()["charged"]) == (False, "-2500.00")
    totals = _statement_totals(procurement, statement)
    assert totals["adjustments"] == Decimal("-1000.00")  # € 1,500.00 − € 2,500.00
    assert totals["net"] == totals["bonuses"] + totals["earn_backs"] - totals["credits"] + Decimal("-1000.00")
    event = statement.events.latest("pk")
    assert (event.action, event.adjustment, event.actor, event.note) == (
        StatementAction.ADJUSTMENT_WAIVER_WITHDRAWN,
        adjustment,
        users[Role.PROCUREMENT],
        "Not agreed.",
    )


def test_an_approved_statements_adjustment_waiver_is_not_withdrawn(adjustment, users, client_for):
    procurement = client_for(users[Role.PROCUREMENT])
    procurement.post(f"/api/v1/statement-adjustments/{adjustment.pk}/waive/", {"reason": "Goodwill."}, format="json")
    statement = adjustment.statement
    approved = procurement.post(f"/api/v1/penalty-statements/{statement.pk}/approve/")
    assert approved.status_code == 200, approved.content
    events = statement.events.count()

    response = _withdraw(procurement, "statement-adjustments", adjustment.pk, {"reason": "Not agreed."})

    assert response.status_code == 400
    assert "is approved: reopen it before withdrawing a waiver." in response.json()["errors"]["non_field_errors"][0]
    adjustment.refresh_from_db()
    assert adjustment.waived
    assert statement.events.count() == events
