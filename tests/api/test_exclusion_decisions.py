"""Exclusions through the API: a vendor manager proposes, procurement approves or rejects (once, for
good), and an approval recomputes the contract's open statements."""

import datetime

import pytest

from accounts.choices import Role
from sla_tracker.choices import ApprovalStatus, ExclusionReason, StatementAction
from sla_tracker.models import Exclusion, PenaltyStatement
from tests import factories as f
from tests.api.endpoints import READ_ONLY
from tests.sla_tracker.test_close import close, figures, scenario_json, seed_scenario

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposed(worlds):
    """Proposed by the vendor manager who owns the contract (users[Role.VENDOR_MANAGER])."""
    contract = worlds[0]["contracts.Contract"]
    return f.ExclusionFactory(contract=contract, requested_by=contract.owner)


def _decide(client, exclusion, decision: str, note: str = "Not a force majeure event: the outage was the vendor's."):
    return client.post(f"/api/v1/exclusions/{exclusion.pk}/{decision}/", {"note": note}, format="json")


def test_a_rejection_gives_its_reason_and_the_exclusion_keeps_it(proposed, users, client_for):
    procurement = client_for(users[Role.PROCUREMENT])

    refused = _decide(procurement, proposed, "reject", note=" ")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"note": ["Give the reason for rejecting the exclusion: its proposer is told."]}
    proposed.refresh_from_db()
    assert proposed.status == ApprovalStatus.PROPOSED

    rejected = _decide(procurement, proposed, "reject", note="The outage was the vendor's own network.")
    assert rejected.status_code == 200
    assert rejected.json()["decision_note"] == "The outage was the vendor's own network."


def test_a_vendor_manager_proposes_and_procurement_approves(worlds, users, client_for):
    contract = worlds[0]["contracts.Contract"]
    manager = users[Role.VENDOR_MANAGER]
    proposed = client_for(manager).post(
        "/api/v1/exclusions/",
        {
            "contract": contract.pk,
            "start_date": contract.start_date.isoformat(),
            "end_date": contract.start_date.isoformat(),
            "reason": ExclusionReason.FORCE_MAJEURE,
            "description": "Storm: the site was closed.",
        },
        format="json",
    )
    born_approved = client_for(manager).post(
        "/api/v1/exclusions/",
        {"contract": contract.pk, "start_date": contract.start_date.isoformat(), "status": ApprovalStatus.APPROVED},
        format="json",
    )
    assert born_approved.json()["errors"]["status"] == READ_ONLY
    assert proposed.status_code == 201, proposed.content
    assert proposed.json()["status"] == ApprovalStatus.PROPOSED
    assert proposed.json()["requested_by"] == manager.pk

    exclusion = Exclusion.objects.get(pk=proposed.json()["id"])
    approved = _decide(client_for(users[Role.PROCUREMENT]), exclusion, "approve")

    assert approved.status_code == 200, approved.content
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.APPROVED
    assert exclusion.decided_by == users[Role.PROCUREMENT]
    assert exclusion.decided_at is not None
    assert exclusion.history.first().history_user == users[Role.PROCUREMENT]


def test_who_proposed_an_exclusion_does_not_approve_it_but_may_withdraw_it(worlds, users, client_for):
    procurement = users[Role.PROCUREMENT]
    own = f.ExclusionFactory(contract=worlds[0]["contracts.Contract"], requested_by=procurement)
    other = f.ExclusionFactory(contract=worlds[0]["contracts.Contract"], requested_by=procurement)

    approved = _decide(client_for(procurement), own, "approve")
    withdrawn = _decide(client_for(procurement), other, "reject")

    assert approved.status_code == 400
    assert approved.json()["errors"] == {
        "non_field_errors": ["An exclusion is approved by someone other than who proposed it."]
    }
    own.refresh_from_db()
    assert (own.status, own.decided_by) == (ApprovalStatus.PROPOSED, None)
    assert withdrawn.json()["status"] == ApprovalStatus.WITHDRAWN


def test_its_proposer_withdraws_a_proposal_which_reads_withdrawn_and_is_not_listed_as_rejected(
    proposed, users, client_for
):
    manager = client_for(users[Role.VENDOR_MANAGER])
    rejected = f.ExclusionFactory(contract=proposed.contract, requested_by=proposed.requested_by)
    assert _decide(client_for(users[Role.PROCUREMENT]), rejected, "reject").status_code == 200

    response = manager.post(f"/api/v1/exclusions/{proposed.pk}/withdraw/", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == ApprovalStatus.WITHDRAWN
    assert response.json()["decided_by"] == users[Role.VENDOR_MANAGER].pk

    def listed(status):
        return [row["id"] for row in manager.get("/api/v1/exclusions/", {"status": status}).json()["results"]]

    assert listed(ApprovalStatus.WITHDRAWN) == [proposed.pk]
    assert listed(ApprovalStatus.REJECTED) == [rejected.pk]


def test_no_one_but_its_proposer_withdraws_a_proposal(proposed, users, client_for):
    response = client_for(users[Role.PROCUREMENT]).post(
        f"/api/v1/exclusions/{proposed.pk}/withdraw/", {}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["Only who proposed an exclusion may withdraw it."]}
    proposed.refresh_from_db()
    assert proposed.status == ApprovalStatus.PROPOSED


def test_procurement_rejects_a_proposal(proposed, users, client_for):
    response = _decide(client_for(users[Role.PROCUREMENT]), proposed, "reject")

    assert response.status_code == 200
    assert response.json()["status"] == ApprovalStatus.REJECTED
    assert response.json()["decided_by"] == users[Role.PROCUREMENT].pk


@pytest.mark.parametrize("role", [Role.VENDOR_MANAGER, Role.COMMITTEE_MEMBER, Role.AUDITOR, Role.VENDOR_USER])
def test_only_procurement_and_administrators_decide(role, proposed, users, client_for):
    response = _decide(client_for(users[role]), proposed, "approve")

    assert response.status_code in (403, 404)
    proposed.refresh_from_db()
    assert proposed.status == ApprovalStatus.PROPOSED


def test_a_decision_is_final(proposed, users, client_for):
    procurement = client_for(users[Role.PROCUREMENT])
    assert _decide(procurement, proposed, "reject").status_code == 200

    again = _decide(procurement, proposed, "approve")
    edited = client_for(users[Role.VENDOR_MANAGER]).patch(
        f"/api/v1/exclusions/{proposed.pk}/", {"end_date": "2030-01-01"}, format="json"
    )

    assert again.status_code == 400
    assert again.json()["errors"]["non_field_errors"] == [
        "This exclusion is already decided (rejected): propose a new one to change it."
    ]
    assert edited.status_code == 400
    assert edited.json()["errors"]["non_field_errors"] == [
        "A decided exclusion is final: propose a new one to change it."
    ]
    proposed.refresh_from_db()
    assert proposed.status == ApprovalStatus.REJECTED
    assert proposed.end_date == proposed.start_date + datetime.timedelta(days=2)


def test_a_proposal_is_still_edited_before_its_decision(proposed, users, client_for):
    response = client_for(users[Role.VENDOR_MANAGER]).patch(
        f"/api/v1/exclusions/{proposed.pk}/", {"description": "Flood, not a storm."}, format="json"
    )

    assert response.status_code == 200
    proposed.refresh_from_db()
    assert proposed.description == "Flood, not a storm."


def test_only_its_proposer_changes_a_proposal(worlds, users, client_for):
    """QA: procurement rewrote a vendor manager's proposal (all month, every service level) and could then
    approve it, though no one else had proposed it."""
    contract = worlds[0]["contracts.Contract"]
    proposal = f.ExclusionFactory(contract=contract, requested_by=users[Role.VENDOR_MANAGER])
    before = (proposal.start_date, proposal.end_date, proposal.description)

    rewritten = client_for(users[Role.PROCUREMENT]).patch(
        f"/api/v1/exclusions/{proposal.pk}/",
        {"end_date": (proposal.start_date + datetime.timedelta(days=20)).isoformat(), "description": "All month."},
        format="json",
    )

    assert rewritten.status_code == 403
    assert rewritten.json() == {
        "type": "permission_denied",
        "detail": "Only its proposer changes a proposed exclusion; a reviewer approves or rejects it.",
    }
    proposal.refresh_from_db()
    assert (proposal.start_date, proposal.end_date, proposal.description) == before


def test_an_approval_recomputes_the_contracts_open_statements(users, client_for, django_capture_on_commit_callbacks):
    """DOMAIN example 11 (two days excluded), with its exclusion still proposed at the close."""
    contract = seed_scenario(scenario_json("ex11_excluded_days"))
    Exclusion.objects.filter(contract=contract).update(status=ApprovalStatus.PROPOSED, decided_by=None, decided_at=None)
    close(contract, "2026-04")
    before = figures(contract)
    reference = seed_scenario(scenario_json("ex11_excluded_days"))
    close(reference, "2026-04")

    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(client_for(users[Role.PROCUREMENT]), Exclusion.objects.get(contract=contract), "approve")

    assert response.status_code == 200
    assert figures(contract) == figures(reference)
    assert figures(contract) != before
    statement = PenaltyStatement.objects.get(contract=contract)
    assert statement.events.filter(action=StatementAction.RECOMPUTED).count() == 1


def test_an_exclusion_naming_another_contracts_service_level_is_refused_and_nothing_is_written(
    worlds, users, client_for
):
    # An exclusion naming no service level applies to all of them: a wrong one must not vanish silently.
    contract = worlds[0]["contracts.Contract"]
    manager = users[Role.VENDOR_MANAGER]
    other = f.ServiceLevelFactory(contract=f.ContractFactory(owner=manager, vendor=contract.vendor))
    own = f.ServiceLevelFactory(contract=contract)
    payload = {
        "contract": contract.pk,
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.start_date.isoformat(),
        "reason": ExclusionReason.FORCE_MAJEURE,
        "description": "Storm: the site was closed.",
        "service_levels": [own.pk, other.pk],
    }
    before = Exclusion.objects.count()

    refused = client_for(manager).post("/api/v1/exclusions/", payload, format="json")

    assert refused.status_code == 400, refused.content
    assert other.code in refused.json()["errors"]["service_levels"][0]
    assert Exclusion.objects.count() == before
    accepted = client_for(manager).post("/api/v1/exclusions/", {**payload, "service_levels": [own.pk]}, format="json")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["service_levels"] == [own.pk]


def test_an_exclusion_outside_the_contracts_term_is_refused_as_on_the_pages(worlds, users, client_for):
    import datetime

    contract = worlds[0]["contracts.Contract"]
    before = contract.start_date - datetime.timedelta(days=1)
    response = client_for(users[Role.VENDOR_MANAGER]).post(
        "/api/v1/exclusions/",
        {
            "contract": contract.pk,
            "start_date": before.isoformat(),
            "end_date": (contract.end_date + datetime.timedelta(days=1)).isoformat(),
            "reason": ExclusionReason.FORCE_MAJEURE,
            "description": "Storm.",
        },
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"start_date", "end_date"}
    assert not Exclusion.objects.filter(contract=contract, start_date=before).exists()
