"""The contract register's database constraints and model validation."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from contracts.choices import Currency, RenewalType
from contracts.models import Amendment, Contract, ContractScope, MonthlyCharge, VendorContact, VendorSite
from tests.factories import (
    AmendmentFactory,
    ContractFactory,
    ContractScopeFactory,
    MonthlyChargeFactory,
    VendorContactFactory,
    VendorSiteFactory,
)

pytestmark = pytest.mark.django_db


def test_a_vendor_cannot_have_two_sites_of_the_same_name(rejected_by):
    site = VendorSiteFactory(name="Rabat")
    VendorSiteFactory(name="Rabat")  # another vendor's site may share the name

    with rejected_by(VendorSite, "vendorsite_unique_name_per_vendor"):
        VendorSiteFactory(vendor=site.vendor, name="Rabat")


def test_a_vendor_cannot_have_two_contacts_with_the_same_email(rejected_by):
    contact = VendorContactFactory(email="ops@vendor.example")
    VendorContactFactory(email="ops@vendor.example")

    with rejected_by(VendorContact, "vendorcontact_unique_email_per_vendor"):
        VendorContactFactory(vendor=contact.vendor, email="ops@vendor.example")


def test_contract_end_date_must_be_after_start_date(rejected_by):
    start = datetime.date(2025, 1, 1)
    ContractFactory(start_date=start, end_date=start + datetime.timedelta(days=1))

    with rejected_by(Contract, "contract_end_after_start"):
        ContractFactory(start_date=start, end_date=start)


def test_contract_notice_period_must_be_positive(rejected_by):
    ContractFactory(notice_period=1)

    with rejected_by(Contract, "contract_notice_positive"):
        ContractFactory(notice_period=0)


def test_a_renewable_contract_cannot_have_a_zero_month_renewal_term(rejected_by):
    ContractFactory(renewal_type=RenewalType.NONE, renewal_term_months=None)
    ContractFactory(renewal_type=RenewalType.EXPLICIT, renewal_term_months=12)

    with rejected_by(Contract, "contract_renewal_term_when_renewable"):
        ContractFactory(renewal_type=RenewalType.TACIT, renewal_term_months=0)


def test_a_renewable_contract_needs_a_renewal_term(rejected_by):
    with rejected_by(Contract, "contract_renewal_term_when_renewable"):
        ContractFactory(renewal_type=RenewalType.TACIT, renewal_term_months=None)


def test_a_contract_outsources_each_channel_in_one_scope_row(rejected_by):
    scope = ContractScopeFactory(channel="voice")
    ContractScopeFactory(contract=scope.contract, channel="chat")

    with rejected_by(ContractScope, "scope_unique_channel_per_contract"):
        ContractScopeFactory(contract=scope.contract, channel="voice")


@pytest.mark.parametrize("share", [Decimal("-0.01"), Decimal("100.01")])
def test_the_outsourced_share_of_volume_lies_between_0_and_100_percent(rejected_by, share):
    ContractScopeFactory(volume_share_pct=Decimal("0"))
    ContractScopeFactory(volume_share_pct=Decimal("100"))

    with rejected_by(ContractScope, "scope_volume_share_0_100"):
        ContractScopeFactory(volume_share_pct=share)


@pytest.mark.parametrize(
    ("start", "end"), [(datetime.time(8), None), (None, datetime.time(20))], ids=["start only", "end only"]
)
def test_scope_coverage_hours_are_given_both_or_neither(rejected_by, start, end):
    ContractScopeFactory(coverage_start=None, coverage_end=None)

    with rejected_by(ContractScope, "scope_coverage_hours_both_or_none"):
        ContractScopeFactory(coverage_start=start, coverage_end=end)


def test_a_contract_has_one_charge_per_month(rejected_by):
    charge = MonthlyChargeFactory(month=datetime.date(2025, 3, 1))
    MonthlyChargeFactory(contract=charge.contract, month=datetime.date(2025, 4, 1))

    with rejected_by(MonthlyCharge, "charge_unique_contract_month"):
        MonthlyChargeFactory(contract=charge.contract, month=datetime.date(2025, 3, 1))


def test_monthly_charges_cannot_be_negative(rejected_by):
    MonthlyChargeFactory(amount=Decimal("0"))

    with rejected_by(MonthlyCharge, "charge_amount_non_negative"):
        MonthlyChargeFactory(amount=Decimal("-0.01"))


def test_amendment_numbers_are_unique_per_contract(rejected_by):
    amendment = AmendmentFactory(number=1)
    AmendmentFactory(contract=amendment.contract, number=2)

    with rejected_by(Amendment, "amendment_unique_number_per_contract"):
        AmendmentFactory(contract=amendment.contract, number=1)


def test_amendment_numbers_start_at_one(rejected_by):
    AmendmentFactory(number=1)

    with rejected_by(Amendment, "amendment_number_positive"):
        AmendmentFactory(number=0)


def test_a_monthly_charge_is_entered_on_the_first_day_of_its_month():
    contract = ContractFactory()
    MonthlyChargeFactory.build(contract=contract, month=datetime.date(2025, 3, 1)).full_clean()

    with pytest.raises(ValidationError) as excinfo:
        MonthlyChargeFactory.build(contract=contract, month=datetime.date(2025, 3, 15)).full_clean()

    assert set(excinfo.value.message_dict) == {"month"}


def test_a_monthly_charge_is_in_the_contracts_currency():
    contract = ContractFactory(currency=Currency.GBP)
    MonthlyChargeFactory.build(contract=contract, currency=Currency.GBP).full_clean()

    with pytest.raises(ValidationError) as excinfo:
        MonthlyChargeFactory.build(contract=contract, currency=Currency.EUR).full_clean()

    assert set(excinfo.value.message_dict) == {"currency"}
    assert "GBP" in excinfo.value.message_dict["currency"][0]


def test_saving_a_monthly_charge_stores_the_first_day_of_its_month():
    charge = MonthlyChargeFactory(month=datetime.date(2025, 3, 17))

    charge.refresh_from_db()
    assert charge.month == datetime.date(2025, 3, 1)


def test_a_contract_is_in_term_from_its_start_to_its_end_date_inclusive():
    contract = ContractFactory(start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2027, 12, 31))

    assert not contract.is_in_term(datetime.date(2024, 12, 31))
    assert contract.is_in_term(datetime.date(2025, 1, 1))
    assert contract.is_in_term(datetime.date(2027, 12, 31))
    assert not contract.is_in_term(datetime.date(2028, 1, 1))


def test_the_contract_factory_gives_a_three_year_term_ending_the_day_before_the_anniversary():
    contract = ContractFactory(start_date=datetime.date(2025, 4, 1), initial_term_months=36)

    assert contract.end_date == datetime.date(2028, 3, 31)


def test_a_scope_names_only_a_site_of_the_contracts_vendor():
    contract = ContractFactory()
    ContractScopeFactory.build(contract=contract, site=VendorSiteFactory(vendor=contract.vendor)).full_clean()

    with pytest.raises(ValidationError) as excinfo:
        ContractScopeFactory.build(contract=contract, site=VendorSiteFactory()).full_clean()

    assert excinfo.value.message_dict == {"site": ["This site is not one of the contract's vendor's sites."]}


def test_a_site_named_in_a_scope_is_not_deleted():
    from django.db.models import ProtectedError

    contract = ContractFactory()
    scope = ContractScopeFactory(contract=contract, site=VendorSiteFactory(vendor=contract.vendor))

    with pytest.raises(ProtectedError):
        scope.site.delete()
    scope.refresh_from_db()
    assert scope.site_id is not None


@pytest.mark.parametrize("month", [datetime.date(2024, 12, 1), datetime.date(2028, 1, 1), datetime.date(1, 1, 1)])
def test_charges_are_for_months_of_the_contracts_term(month):
    contract = ContractFactory()  # 2025-01-01 to 2027-12-31
    MonthlyChargeFactory.build(contract=contract, month=datetime.date(2027, 12, 1)).full_clean()

    with pytest.raises(ValidationError) as excinfo:
        MonthlyChargeFactory.build(contract=contract, month=month).full_clean()

    assert excinfo.value.message_dict == {
        "month": ["Charges are for a month the contract serves (Jan. 1, 2025 to Dec. 31, 2027)."]
    }


@pytest.mark.parametrize("status", ["approved", "invoiced"])
def test_the_charges_of_an_approved_month_no_longer_change(status):
    from tests.factories import PenaltyStatementFactory

    contract = ContractFactory()
    charge = MonthlyChargeFactory(contract=contract, month=datetime.date(2026, 3, 1))
    PenaltyStatementFactory(contract=contract, month=datetime.date(2026, 3, 1), approved=True, status=status)

    charge.amount = Decimal("1.00")
    with pytest.raises(ValidationError, match="The penalty statement of March 2026 is"):
        charge.full_clean()
    charge.refresh_from_db()
    charge.month = datetime.date(2026, 4, 1)  # moving it away from the locked month is a change of it too
    with pytest.raises(ValidationError, match="keep their contract and month"):
        charge.full_clean()
    MonthlyChargeFactory.build(contract=contract, month=datetime.date(2026, 4, 1)).full_clean()


def test_an_amendment_takes_effect_within_the_contracts_term():
    contract = ContractFactory()
    AmendmentFactory.build(contract=contract, effective_from=datetime.date(2027, 12, 31)).full_clean()

    for day in (datetime.date(2020, 1, 1), datetime.date(2040, 1, 1)):
        with pytest.raises(ValidationError) as excinfo:
            AmendmentFactory.build(contract=contract, effective_from=day).full_clean()
        assert excinfo.value.message_dict == {
            "effective_from": ["An amendment takes effect within the contract's term (Jan. 1, 2025 to Dec. 31, 2027)."]
        }


@pytest.mark.parametrize("field", ["start_date", "end_date", "signed_on"])
def test_contract_dates_stay_within_the_calendar_the_arithmetic_needs(field):
    contract = ContractFactory.build(owner=None, vendor=None)
    setattr(contract, field, datetime.date(9999, 12, 31))

    with pytest.raises(ValidationError) as excinfo:
        contract.full_clean(exclude=["owner", "vendor"])

    assert field in excinfo.value.message_dict


def test_a_contract_is_owned_and_audited_by_the_customers_staff_only():
    from tests.factories import VendorUserFactory

    contract = ContractFactory()
    contract.owner = VendorUserFactory()

    with pytest.raises(ValidationError) as excinfo:
        contract.full_clean()

    assert set(excinfo.value.message_dict) == {"owner"}
    assert (
        not Contract._meta.get_field("auditors")
        .remote_field.model.objects.complex_filter(Contract._meta.get_field("auditors").get_limit_choices_to())
        .filter(pk=contract.owner.pk)
        .exists()
    )


def test_sites_contacts_and_assigned_auditors_keep_their_history():
    from tests.factories import UserFactory

    contract = ContractFactory()
    site = VendorSiteFactory(vendor=contract.vendor, city="Rabat")
    site.city = "Casablanca"
    site.save()
    contact = VendorContactFactory(vendor=contract.vendor, email="a@vendor.example")
    contact.email = "b@vendor.example"
    contact.save()
    auditor = UserFactory()
    contract.auditors.add(auditor)

    assert [row.city for row in site.history.order_by("history_id")] == ["Rabat", "Casablanca"]
    assert [row.email for row in contact.history.order_by("history_id")] == ["a@vendor.example", "b@vendor.example"]
    latest = contract.history.latest()
    assert [link.user_id for link in latest.auditors.all()] == [auditor.pk]


def test_an_amendment_signed_in_the_future_is_refused_under_its_signing_date(monkeypatch):
    from django.utils import timezone

    from tests.factories import UserFactory
    from tests.sla_tracker.test_kpi_api import client_for

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: datetime.date(2026, 3, 10))
    contract = ContractFactory()
    tomorrow = AmendmentFactory.build(contract=contract, signed_on=datetime.date(2026, 3, 11))

    with pytest.raises(ValidationError) as refused:
        tomorrow.full_clean()
    assert refused.value.message_dict == {
        "signed_on": ["An amendment is recorded once signed: its signing date cannot be after today (March 10, 2026)."]
    }
    AmendmentFactory.build(contract=contract, signed_on=datetime.date(2026, 3, 10)).full_clean()

    client = client_for(UserFactory(administrator=True))
    body = {"contract": contract.pk, "number": 7, "title": "Later", "effective_from": "2026-04-01"}
    response = client.post("/api/v1/amendments/", {**body, "signed_on": "2026-03-11"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["signed_on"]
    assert client.post("/api/v1/amendments/", {**body, "signed_on": "2026-03-10"}, format="json").status_code == 201
