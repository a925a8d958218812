"""Terms start within their contract's term and refer to the contract's own amendments: anything else is
refused, naming the field, through the API, the admin and the models alike."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from sla_tracker.models import PenaltyRegime, ServiceLevelVersion
from tests.factories import (
    AmendmentFactory,
    ContractFactory,
    PenaltyRegimeFactory,
    ServiceLevelFactory,
    ServiceLevelVersionFactory,
    UserFactory,
)
from tests.sla_tracker.test_terms_fixed import errors_of, form_errors, new_version

pytestmark = pytest.mark.django_db
D = datetime.date

OUTSIDE_THE_TERM = "Terms apply within the contract's term: from January 2025 to December 2027."
ANOTHER_CONTRACTS_AMENDMENT = "Amendment 1 belongs to DEMO-A: choose an amendment of DEMO-B."


@pytest.fixture
def manager():
    return UserFactory()


@pytest.fixture
def demo_a(manager):
    """DEMO-A, 2025-01-01 to 2027-12-31, with its amendment 1."""
    contract = ContractFactory(reference="DEMO-A", owner=manager)
    AmendmentFactory(contract=contract, number=1)
    return contract


@pytest.fixture
def demo_b(manager):
    return ContractFactory(reference="DEMO-B", owner=manager)


@pytest.fixture
def level_b(demo_b):
    """A DEMO-B service level with terms from the start (which create the counters the formula names)."""
    level = ServiceLevelFactory(contract=demo_b, code="CSL-1")
    ServiceLevelVersionFactory(service_level=level, valid_from=D(2025, 1, 1))
    return level


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def post_version(api, level, month: str, **fields):
    return api.post("/api/v1/service-level-versions/", new_version(level, month) | fields, format="json")


def test_a_version_refers_to_an_amendment_of_its_own_contract(api, demo_a, level_b):
    response = post_version(api, level_b, "2025-06", amendment=demo_a.amendments.get().pk)

    assert errors_of(response) == {"amendment": [ANOTHER_CONTRACTS_AMENDMENT]}
    assert ServiceLevelVersion.objects.filter(service_level=level_b).count() == 1


def test_a_version_with_its_own_contracts_amendment_is_accepted(api, demo_b, level_b):
    amendment = AmendmentFactory(contract=demo_b, number=1)

    response = post_version(api, level_b, "2025-07", amendment=amendment.pk)

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("month", ["2020-01", "2024-12", "2028-01", "2040-01"])
def test_a_version_starts_within_its_contracts_term(api, level_b, month):
    response = post_version(api, level_b, month)

    assert errors_of(response) == {"valid_from": [OUTSIDE_THE_TERM]}


@pytest.mark.parametrize("month", ["2025-02", "2027-12"])
def test_a_version_starts_in_any_month_of_the_term_including_the_last(api, level_b, month):
    assert post_version(api, level_b, month).status_code == 201


def test_a_contract_starting_mid_month_has_terms_from_that_month(manager):
    contract = ContractFactory(owner=manager, start_date=D(2025, 3, 17))

    PenaltyRegime(contract=contract, valid_from=D(2025, 3, 1), at_risk_pct=Decimal("12")).full_clean()


def test_a_version_moved_out_of_the_term_is_refused(api, level_b):
    version = level_b.versions.get()

    response = api.patch(f"/api/v1/service-level-versions/{version.pk}/", {"valid_from": "2040-01-01"}, format="json")

    assert errors_of(response) == {"valid_from": [OUTSIDE_THE_TERM]}


def test_a_regime_starts_within_its_contracts_term_and_refers_to_its_own_amendments(demo_a, demo_b):
    regime = PenaltyRegime(
        contract=demo_b, valid_from=D(2040, 1, 1), amendment=demo_a.amendments.get(), at_risk_pct=Decimal("12")
    )

    with pytest.raises(ValidationError) as refused:
        regime.full_clean()

    assert refused.value.message_dict == {
        "valid_from": [OUTSIDE_THE_TERM],
        "amendment": [ANOTHER_CONTRACTS_AMENDMENT],
    }


def test_a_regime_added_in_the_admin_is_refused_on_its_fields(client, demo_a, demo_b):
    client.force_login(UserFactory(administrator=True))

    response = client.post(
        reverse("admin:sla_tracker_penaltyregime_add"),
        {
            "contract": demo_b.pk,
            "valid_from": "2020-01-01",
            "amendment": demo_a.amendments.get().pk,
            "at_risk_pct": "12",
            "contract_year_start_month": "1",
        },
    )

    assert form_errors(response) == {"valid_from": [OUTSIDE_THE_TERM], "amendment": [ANOTHER_CONTRACTS_AMENDMENT]}
    assert not PenaltyRegime.objects.exists()


def test_a_regime_within_the_term_is_added_in_the_admin(client, demo_b):
    client.force_login(UserFactory(administrator=True))

    response = client.post(
        reverse("admin:sla_tracker_penaltyregime_add"),
        {"contract": demo_b.pk, "valid_from": "2025-01-01", "at_risk_pct": "12", "contract_year_start_month": "1"},
    )

    assert response.status_code == 302
    assert PenaltyRegime.objects.get().contract == demo_b


def test_the_existing_regimes_of_a_contract_stay_valid(demo_b):
    PenaltyRegimeFactory(contract=demo_b).full_clean()
