"""Rows the contract's records stand on keep their parent once created (QA: moved through the API, an invoiced
month's charges, a service level with invoiced lines and an amendment cited by terms changed contract), terms
apply from their amendment's month, and charges stop with the contract's service."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from contracts.choices import ContractStatus
from contracts.models import Amendment, MonthlyCharge
from sla_tracker.models import ServiceLevel, ServiceLevelVersion
from tests.factories import (
    AmendmentFactory,
    ContractFactory,
    ExclusionFactory,
    IncidentFactory,
    MonthlyChargeFactory,
    ServiceLevelFactory,
    ServiceLevelVersionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def admin_api() -> APIClient:
    api = APIClient()
    api.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
    return api


def test_a_months_charges_keep_their_contract_and_month_through_the_api():
    charge = MonthlyChargeFactory(month=datetime.date(2026, 7, 1))
    contract_id = charge.contract_id
    other = ContractFactory(currency=charge.contract.currency)

    moved = admin_api().patch(
        f"/api/v1/monthly-charges/{charge.pk}/", {"contract": other.pk, "month": "2026-11-01"}, format="json"
    )
    corrected = admin_api().patch(f"/api/v1/monthly-charges/{charge.pk}/", {"amount": "123.45"}, format="json")

    assert moved.status_code == 400
    assert set(moved.json()["errors"]) == {"contract", "month"}
    assert "keep their contract and month" in moved.json()["errors"]["contract"][0]
    assert corrected.status_code == 200
    charge.refresh_from_db()
    assert (charge.contract_id, charge.month, charge.amount) == (
        contract_id,
        datetime.date(2026, 7, 1),
        Decimal("123.45"),
    )
    assert not MonthlyCharge.objects.filter(contract=other).exists()


def test_a_service_level_and_its_terms_stay_with_their_contract_and_service_level():
    version = ServiceLevelVersionFactory()
    level = version.service_level
    other_contract = ContractFactory()
    other_level = ServiceLevelFactory(contract=other_contract)
    api = admin_api()

    level_moved = api.patch(f"/api/v1/service-levels/{level.pk}/", {"contract": other_contract.pk}, format="json")
    version_moved = api.patch(
        f"/api/v1/service-level-versions/{version.pk}/", {"service_level": other_level.pk}, format="json"
    )
    renamed = api.patch(f"/api/v1/service-levels/{level.pk}/", {"name": "Voice answered in 20 s"}, format="json")

    assert level_moved.status_code == 400 and list(level_moved.json()["errors"]) == ["contract"]
    assert version_moved.status_code == 400 and list(version_moved.json()["errors"]) == ["service_level"]
    assert renamed.status_code == 200
    assert ServiceLevel.objects.get(pk=level.pk).contract_id == level.contract_id
    assert ServiceLevelVersion.objects.get(pk=version.pk).service_level_id == level.pk


def test_an_amendment_stays_with_its_contract_and_takes_effect_by_its_terms_first_month():
    amendment = AmendmentFactory()
    contract = amendment.contract
    level = ServiceLevelFactory(contract=contract)
    first_month = datetime.date(amendment.effective_from.year, amendment.effective_from.month, 1)
    ServiceLevelVersionFactory(service_level=level, valid_from=first_month, amendment=amendment)
    api = admin_api()

    moved = api.patch(f"/api/v1/amendments/{amendment.pk}/", {"contract": ContractFactory().pk}, format="json")
    later = datetime.date(first_month.year + 1, first_month.month, 1)
    postponed = api.patch(f"/api/v1/amendments/{amendment.pk}/", {"effective_from": later.isoformat()}, format="json")

    assert moved.status_code == 400 and list(moved.json()["errors"]) == ["contract"]
    assert postponed.status_code == 400 and list(postponed.json()["errors"]) == ["effective_from"]
    assert "apply from" in postponed.json()["errors"]["effective_from"][0]
    stored = Amendment.objects.get(pk=amendment.pk)
    assert (stored.contract_id, stored.effective_from) == (contract.pk, amendment.effective_from)


def test_terms_made_by_an_amendment_do_not_apply_before_it_takes_effect():
    amendment = AmendmentFactory()
    level = ServiceLevelFactory(contract=amendment.contract)
    month_before = datetime.date(amendment.effective_from.year, amendment.effective_from.month, 1)
    month_before = (month_before - datetime.timedelta(days=1)).replace(day=1)

    with pytest.raises(ValidationError) as refused:
        ServiceLevelVersionFactory.build(service_level=level, valid_from=month_before, amendment=amendment).full_clean()

    assert "takes effect on" in refused.value.message_dict["valid_from"][0]


def test_charges_stop_with_the_last_day_of_service_of_a_terminated_contract():
    contract = ContractFactory(start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2028, 12, 31))
    contract.status = ContractStatus.TERMINATED
    contract.terminated_on = datetime.date(2026, 12, 31)
    contract.save()

    MonthlyChargeFactory.build(contract=contract, month=datetime.date(2026, 12, 1)).full_clean()
    with pytest.raises(ValidationError) as refused:
        MonthlyChargeFactory.build(contract=contract, month=datetime.date(2027, 1, 1)).full_clean()

    assert refused.value.message_dict == {
        "month": ["Charges are for a month the contract serves (Jan. 1, 2026 to Dec. 31, 2026)."]
    }


@pytest.mark.parametrize("factory", [ExclusionFactory, IncidentFactory])
def test_exclusions_and_incidents_stay_with_their_contract(factory):
    row = factory()
    row.contract = ContractFactory()

    with pytest.raises(ValidationError) as refused:
        row.full_clean()

    assert "contract" in refused.value.message_dict


def test_a_committee_stays_with_its_contract_through_the_api():
    """QA: a committee with held meetings and the vendor's members was moved to another vendor's contract."""
    from governance.models import Committee
    from tests.factories import CommitteeFactory

    committee = CommitteeFactory()
    own_contract = committee.contract_id
    other = ContractFactory()

    moved = admin_api().patch(
        f"/api/v1/committees/{committee.pk}/", {"contract": other.pk, "reason": "x"}, format="json"
    )
    renamed = admin_api().patch(f"/api/v1/committees/{committee.pk}/", {"name": "Operations board"}, format="json")

    assert moved.status_code == 400
    assert moved.json()["errors"] == {
        "contract": ["A committee stays with its contract or vendor: set up a committee there instead."]
    }
    assert renamed.status_code == 200
    assert Committee.objects.get(pk=committee.pk).contract_id == own_contract


def test_a_negative_charge_and_amendment_number_0_are_refused_under_their_fields():
    """QA: both refusals came as non_field_errors (the database constraints' messages)."""
    charge = MonthlyChargeFactory(month=datetime.date(2026, 7, 1))
    contract = charge.contract

    negative = admin_api().patch(f"/api/v1/monthly-charges/{charge.pk}/", {"amount": "-1.00"}, format="json")
    numbered_0 = admin_api().post(
        "/api/v1/amendments/",
        {
            "contract": contract.pk,
            "number": 0,
            "title": "Scope",
            "signed_on": "2026-02-01",
            "effective_from": "2026-03-01",
        },
        format="json",
    )

    assert negative.status_code == 400
    assert list(negative.json()["errors"]) == ["amount"]  # in DRF's words: "greater than or equal to 0"
    assert numbered_0.status_code == 400
    assert list(numbered_0.json()["errors"]) == ["number"]
    with pytest.raises(ValidationError) as in_the_back_office:  # the model's own words
        MonthlyCharge(
            contract=contract, month=datetime.date(2026, 8, 1), amount=-1, currency=contract.currency
        ).full_clean()
    assert in_the_back_office.value.message_dict == {"amount": ["Charges cannot be negative."]}
    assert not Amendment.objects.filter(contract=contract).exists()
