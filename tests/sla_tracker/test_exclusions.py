"""The exclusion services: a proposal is checked (days in order within the contract's term, the contract's
own service levels, the model's fields) and recorded with who proposed it; who proposed it may withdraw it
while it is undecided, which rejects it in their name, and may never approve it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from sla_tracker.choices import ApprovalStatus, ExclusionReason
from sla_tracker.models import Exclusion
from sla_tracker.services import decide_exclusion, propose_exclusion, withdraw_exclusion
from tests.factories import ContractFactory, ExclusionFactory, ServiceLevelFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract():
    return ContractFactory(reference="EXC-1")


@pytest.fixture
def manager(contract):
    return contract.owner


@pytest.fixture
def procurement():
    return UserFactory(procurement=True)


def propose(contract, actor, **fields):
    values = {
        "contract": contract,
        "start_date": datetime.date(2025, 3, 14),
        "end_date": datetime.date(2025, 3, 15),
        "reason": ExclusionReason.FORCE_MAJEURE,
        "description": "Regional power outage closed the site.",
        "evidence": "Utility notice 2025-014.",
        "actor": actor,
        **fields,
    }
    return propose_exclusion(**values)


def refusal(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo:
        call()
    return excinfo.value.message_dict


# Proposing ----------------------------------------------------------------------------------------------


def test_a_proposal_is_recorded_with_its_service_levels_and_who_proposed_it(contract, manager):
    level = ServiceLevelFactory(contract=contract, code="CSL-1")
    ServiceLevelFactory(contract=contract, code="CSL-2")

    exclusion = propose(contract, manager, service_levels=[level], description="  Outage.  ")

    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.PROPOSED
    assert (exclusion.requested_by, exclusion.decided_by, exclusion.decided_at) == (manager, None, None)
    assert exclusion.description == "Outage."
    assert list(exclusion.service_levels.all()) == [level]
    recorded = exclusion.history.get()
    assert (recorded.history_type, recorded.history_user) == ("+", manager)


def test_a_proposal_is_recorded_in_one_version_with_its_service_levels(contract, manager):
    levels = [ServiceLevelFactory(contract=contract) for _index in range(2)]

    exclusion = propose(contract, manager, service_levels=levels)

    version = exclusion.history.get()
    assert version.history_type == "+"
    assert {row.servicelevel_id for row in version.service_levels.all()} == {level.pk for level in levels}


def test_a_proposal_naming_no_service_level_covers_them_all(contract, manager):
    ServiceLevelFactory(contract=contract)

    exclusion = propose(contract, manager)

    assert not exclusion.service_levels.exists()


def test_a_proposal_of_one_day_is_accepted(contract, manager):
    day = datetime.date(2025, 3, 14)

    exclusion = propose(contract, manager, start_date=day, end_date=day)

    assert (exclusion.start_date, exclusion.end_date) == (day, day)


def test_a_proposal_ending_before_it_starts_is_refused_on_its_end_date(contract, manager):
    errors = refusal(
        lambda: propose(contract, manager, start_date=datetime.date(2025, 3, 15), end_date=datetime.date(2025, 3, 14))
    )

    assert errors == {"end_date": ["The exclusion cannot end before it starts."]}
    assert not Exclusion.objects.exists()


def test_a_proposal_outside_the_contracts_term_is_refused_naming_the_term(contract, manager):
    with translation.override("en"):
        errors = refusal(
            lambda: propose(
                contract,
                manager,
                start_date=contract.start_date - datetime.timedelta(days=1),
                end_date=contract.end_date + datetime.timedelta(days=1),
            )
        )

    assert errors == {
        "start_date": ["The contract starts on Jan. 1, 2025: an exclusion cannot start earlier."],
        "end_date": ["The contract's current term ends on Dec. 31, 2027: an exclusion cannot end later."],
    }
    assert not Exclusion.objects.exists()


def test_a_service_level_of_another_contract_is_refused_by_name_and_nothing_is_written(contract, manager):
    own = ServiceLevelFactory(contract=contract, code="CSL-1")
    foreign = ServiceLevelFactory(contract=ContractFactory(reference="EXC-2", owner=manager), code="CSL-9")

    errors = refusal(lambda: propose(contract, manager, service_levels=[own, foreign]))

    assert list(errors) == ["service_levels"]
    assert "EXC-2 CSL-9" in errors["service_levels"][0]
    assert "belong to another contract than EXC-1" in errors["service_levels"][0]
    assert not Exclusion.objects.exists()


def test_every_refusal_of_a_proposal_is_given_at_once(contract, manager):
    foreign = ServiceLevelFactory(contract=ContractFactory(reference="EXC-3"))

    errors = refusal(
        lambda: propose(
            contract,
            manager,
            end_date=datetime.date(2025, 3, 1),
            reason="earthquake",
            description="   ",
            service_levels=[foreign],
        )
    )

    assert set(errors) == {"end_date", "reason", "description", "service_levels"}
    assert not Exclusion.objects.exists()


# Withdrawing --------------------------------------------------------------------------------------------


def test_who_proposed_an_exclusion_withdraws_it_in_their_name_as_withdrawn_not_rejected(
    contract, manager, django_capture_on_commit_callbacks
):
    exclusion = propose(contract, manager)

    with django_capture_on_commit_callbacks() as callbacks:
        withdrawn = withdraw_exclusion(exclusion_id=exclusion.pk, actor=manager)

    withdrawn.refresh_from_db()
    assert withdrawn.status == ApprovalStatus.WITHDRAWN
    assert withdrawn.decided_by == withdrawn.requested_by == manager
    assert withdrawn.decided_at is not None
    assert withdrawn.history.first().history_user == manager
    assert callbacks == []  # a proposal never changed a figure: nothing to recompute


def test_nobody_else_withdraws_a_proposal(contract, manager, procurement):
    exclusion = propose(contract, manager)

    with pytest.raises(ValidationError) as excinfo:
        withdraw_exclusion(exclusion_id=exclusion.pk, actor=procurement)

    assert excinfo.value.messages == ["Only who proposed an exclusion may withdraw it."]
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.PROPOSED


def test_a_decided_exclusion_is_not_withdrawn(contract, manager):
    exclusion = ExclusionFactory(contract=contract, requested_by=manager, approved=True)

    with pytest.raises(ValidationError) as excinfo:
        withdraw_exclusion(exclusion_id=exclusion.pk, actor=manager)

    assert excinfo.value.messages == ["This exclusion is already decided (approved): propose a new one to change it."]
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.APPROVED


def test_a_withdrawn_proposal_is_never_approved_afterwards(contract, manager, procurement):
    exclusion = propose(contract, manager)
    withdraw_exclusion(exclusion_id=exclusion.pk, actor=manager)

    with pytest.raises(ValidationError):
        decide_exclusion(exclusion_id=exclusion.pk, actor=procurement, approve=True)

    exclusion.refresh_from_db()
    assert (exclusion.status, exclusion.decided_by) == (ApprovalStatus.WITHDRAWN, manager)


def test_a_proposal_turned_down_by_its_own_proposer_is_withdrawn_and_by_a_reviewer_rejected(
    contract, manager, procurement
):
    own = propose(contract, procurement)
    others = propose(contract, manager)

    decide_exclusion(exclusion_id=own.pk, actor=procurement, approve=False, note="Proposed by mistake.")
    decide_exclusion(exclusion_id=others.pk, actor=procurement, approve=False, note="Not excusable.")

    own.refresh_from_db()
    others.refresh_from_db()
    assert (own.status, others.status) == (ApprovalStatus.WITHDRAWN, ApprovalStatus.REJECTED)
    assert Exclusion.objects.filter(status=ApprovalStatus.REJECTED).get() == others


def test_who_proposed_an_exclusion_is_refused_its_approval(contract, procurement):
    exclusion = propose(contract, procurement)

    with pytest.raises(ValidationError) as excinfo:
        decide_exclusion(exclusion_id=exclusion.pk, actor=procurement, approve=True)

    assert excinfo.value.messages == ["An exclusion is approved by someone other than who proposed it."]
