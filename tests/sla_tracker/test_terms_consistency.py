"""Stored terms are refused where a scenario with the same terms would be (sla_tracker.engine.checks): tiers
that leave part of the missing side of the target without a band (a default there would be credited 0), and
a trigger counting the months at the at-risk cap of a contract whose credit terms set no at-risk amount."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from sla_tracker.choices import Direction, TerminationTriggerType
from sla_tracker.models import CreditTier, TerminationTrigger
from tests.factories import (
    CreditTierFactory,
    PenaltyRegimeFactory,
    ServiceLevelVersionFactory,
    TerminationTriggerFactory,
    UserFactory,
)
from tests.sla_tracker.test_terms_fixed import admin_form_data, change_url, inline_index, inline_prefix

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def version():
    """Open tiered terms, 70 % target: [0, 70) credits 10 %."""
    version = ServiceLevelVersionFactory(
        valid_from=D(2025, 1, 1), tiers=True, expected=Decimal("70"), minimum=Decimal("60")
    )
    CreditTierFactory(version=version, lower=Decimal("0"), upper=Decimal("70"), pct=Decimal("10"))
    return version


def test_raising_the_target_above_the_tiers_is_refused_in_the_admin_naming_the_tier(client, version):
    client.force_login(UserFactory(administrator=True))
    page = client.get(change_url(version))

    response = client.post(change_url(version), admin_form_data(page) | {"expected": "80"})

    assert response.status_code == 200
    assert "tier 1: leaves [70, 80) below expected without a band" in response.content.decode()
    version.refresh_from_db()
    assert version.expected == Decimal("70")


def test_raising_the_target_above_the_tiers_is_refused_through_the_api(version):
    api = APIClient()
    api.force_authenticate(UserFactory(administrator=True))
    url = f"/api/v1/service-level-versions/{version.pk}/"

    raised = api.patch(url, {"expected": "80"}, format="json")
    turned = api.patch(url, {"direction": Direction.LOWER_IS_BETTER, "minimum": "75"}, format="json")
    lowered = api.patch(url, {"expected": "65"}, format="json")

    assert raised.status_code == 400
    assert raised.json()["errors"] == {"expected": ["tier 1: leaves [70, 80) below expected without a band"]}
    assert turned.status_code == 400
    assert set(turned.json()["errors"]) == {"direction"}
    assert lowered.status_code == 200, lowered.content
    version.refresh_from_db()
    assert (version.expected, version.direction) == (Decimal("65"), Direction.HIGHER_IS_BETTER)


def cap_trigger(contract) -> TerminationTrigger:
    return TerminationTriggerFactory.build(
        contract=contract, trigger_type=TerminationTriggerType.CAP_REACHED_IN_WINDOW, months=2, window=6
    )


def test_a_cap_trigger_is_refused_while_credit_terms_set_no_at_risk_amount():
    uncapped = PenaltyRegimeFactory(at_risk_pct=None, pool_pct=None)
    capped = PenaltyRegimeFactory()

    with pytest.raises(ValidationError) as refused:
        cap_trigger(uncapped.contract).full_clean()
    cap_trigger(capped.contract).full_clean()

    assert list(refused.value.message_dict) == ["trigger_type"]
    assert "the credit terms from January 2025 set no at-risk %" in refused.value.message_dict["trigger_type"][0]


def test_the_at_risk_amount_of_a_contract_with_a_cap_trigger_is_not_removed():
    regime = PenaltyRegimeFactory()
    cap_trigger(regime.contract).save()
    regime.at_risk_pct = None
    regime.pool_pct = None

    with pytest.raises(ValidationError) as refused:
        regime.full_clean()

    assert list(refused.value.message_dict) == ["at_risk_pct"]


def test_allocation_credits_and_a_regime_without_an_at_risk_amount_are_refused_together():
    regime = PenaltyRegimeFactory()
    allocated = ServiceLevelVersionFactory(service_level__contract=regime.contract)
    regime.at_risk_pct = None
    regime.pool_pct = None

    with pytest.raises(ValidationError) as regime_refused:
        regime.full_clean()
    PenaltyRegimeFactory(contract=regime.contract, valid_from=D(2026, 1, 1), at_risk_pct=None, pool_pct=None)
    with pytest.raises(ValidationError) as version_refused:
        allocated.full_clean()
    allocated.credit_type, allocated.allocation_pct, allocated.fixed_amount = "fixed", None, Decimal("5000.00")
    allocated.full_clean()

    assert list(regime_refused.value.message_dict) == ["at_risk_pct"]
    assert list(version_refused.value.message_dict) == ["credit_type"]
    assert "the credit terms from January 2026 set no at-risk %" in version_refused.value.message_dict["credit_type"][0]


NO_TIERS = "A tiered credit needs its tiers: without a band, every default would be credited 0."


def test_a_tiered_version_without_tiers_is_refused_in_the_admin_and_the_api(client, version):
    administrator = UserFactory(administrator=True)
    client.force_login(administrator)
    page = client.get(change_url(version))
    delete = f"{inline_prefix(page, CreditTier)}-{inline_index(page, version.tiers.get())}-DELETE"
    api = APIClient()
    api.force_authenticate(administrator)
    allocated = ServiceLevelVersionFactory(valid_from=D(2025, 1, 1))
    created = {**api.get(f"/api/v1/service-level-versions/{allocated.pk}/").json(), "valid_from": "2025-02-01"}
    del created["id"]

    emptied = client.post(change_url(version), admin_form_data(page) | {delete: "on"})
    switched = api.patch(f"/api/v1/service-level-versions/{allocated.pk}/", {"credit_type": "tiers"}, format="json")
    created_tiered = api.post("/api/v1/service-level-versions/", {**created, "credit_type": "tiers"}, format="json")

    assert emptied.status_code == 200 and NO_TIERS in emptied.content.decode()
    assert version.tiers.exists()
    assert switched.json()["errors"] == {"credit_type": [NO_TIERS]}
    assert list(created_tiered.json()["errors"]) == ["credit_type"]
    allocated.refresh_from_db()
    assert allocated.credit_type == "allocation"
