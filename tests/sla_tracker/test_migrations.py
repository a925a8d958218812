"""sla_tracker 0014 gives a withdrawn exclusion its own status: it was stored as rejected by its own proposer."""

import importlib

import pytest
from django.apps import apps

from sla_tracker.choices import ApprovalStatus
from sla_tracker.models import Exclusion
from sla_tracker.services import decide_exclusion, withdraw_exclusion
from tests.factories import ExclusionFactory, UserFactory

pytestmark = pytest.mark.django_db
WITHDRAWN_STATUS = importlib.import_module("sla_tracker.migrations.0014_exclusion_withdrawn_status")


def test_a_proposal_rejected_by_its_proposer_becomes_withdrawn_and_a_reviewers_rejection_stays_rejected():
    reviewer = UserFactory(procurement=True)
    withdrawn = ExclusionFactory()
    withdraw_exclusion(exclusion_id=withdrawn.pk, actor=withdrawn.requested_by)
    rejected = ExclusionFactory()
    decide_exclusion(exclusion_id=rejected.pk, actor=reviewer, approve=False, note="Not excusable.")
    Exclusion.objects.filter(pk=withdrawn.pk).update(status=ApprovalStatus.REJECTED)  # as stored before
    withdrawn.history.filter(status=ApprovalStatus.WITHDRAWN).update(status=ApprovalStatus.REJECTED)

    WITHDRAWN_STATUS.store_withdrawals(apps, None)

    withdrawn.refresh_from_db()
    rejected.refresh_from_db()
    assert (withdrawn.status, rejected.status) == (ApprovalStatus.WITHDRAWN, ApprovalStatus.REJECTED)
    assert withdrawn.history.latest().status == ApprovalStatus.WITHDRAWN
    assert list(withdrawn.history.values_list("status", flat=True).order_by("history_id")) == [
        ApprovalStatus.PROPOSED,
        ApprovalStatus.WITHDRAWN,
    ]
