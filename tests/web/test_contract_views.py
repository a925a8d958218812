"""The contract register and a contract's page."""

import pytest
from django.urls import reverse

from tests.factories import (
    AmendmentFactory,
    AuditFactory,
    AuditRightFactory,
    CommitteeFactory,
    ContractFactory,
    ContractScopeFactory,
    MonthlyChargeFactory,
    ServiceLevelVersionFactory,
    UserFactory,
    VendorFactory,
    VendorUserFactory,
)

pytestmark = pytest.mark.django_db

REGISTER = reverse("contracts:list")


def full_contract(**fields):
    contract = ContractFactory(**fields)
    ContractScopeFactory(contract=contract)
    MonthlyChargeFactory(contract=contract)
    amendment = AmendmentFactory(contract=contract, title="Chat target raised")
    version = ServiceLevelVersionFactory(service_level__contract=contract)
    ServiceLevelVersionFactory(
        service_level=version.service_level, valid_from=amendment.effective_from, amendment=amendment
    )
    CommitteeFactory(contract=contract, name=f"{contract.reference} service review")
    AuditFactory(audit_right=AuditRightFactory(contract=contract))
    return contract


def test_the_register_searches_and_filters(client, procurement):
    alpha = ContractFactory(title="Voice overflow", vendor=VendorFactory(name="Alpha BPO"))
    beta = ContractFactory(title="Chat care", currency="GBP")
    client.force_login(procurement)

    by_text = client.get(REGISTER, {"q": "overflow"}).context["contracts"]
    by_vendor = client.get(REGISTER, {"vendor": alpha.vendor_id}).context["contracts"]
    by_currency = client.get(REGISTER, {"currency": "GBP"}).context["contracts"]

    assert list(by_text) == [alpha]
    assert list(by_vendor) == [alpha]
    assert list(by_currency) == [beta]


def test_a_vendor_manager_sees_only_their_contracts(client):
    mine = ContractFactory()
    other = ContractFactory()
    client.force_login(mine.owner)

    assert list(client.get(REGISTER).context["contracts"]) == [mine]
    assert client.get(reverse("contracts:detail", args=[other.pk])).status_code == 404


def test_vendor_users_have_no_contract_register(client):
    client.force_login(VendorUserFactory())

    assert client.get(REGISTER).status_code == 403


def test_the_contract_page_shows_scope_charges_terms_amendments_committees_and_audits(client, procurement):
    contract = full_contract()
    client.force_login(procurement)

    response = client.get(reverse("contracts:detail", args=[contract.pk]))

    page = response.content.decode()
    assert "Voice" in page
    assert "€250,000.00" in page
    assert "Chat target raised" in page
    assert f"{contract.reference} service review" in page
    assert "1 finding" in page or "0 findings" in page
    level = response.context["levels"][0]
    assert len(level.history) == 2
    assert level.current_terms == level.history[-1]


def test_the_register_and_contract_page_run_a_fixed_number_of_queries(client, count_queries):
    client.force_login(UserFactory(procurement=True))
    first = full_contract()
    register_one = count_queries(client, REGISTER)
    page_one = count_queries(client, reverse("contracts:detail", args=[first.pk]))
    for _ in range(4):
        full_contract()
    big = full_contract()
    for _ in range(4):
        ServiceLevelVersionFactory(service_level__contract=big)

    assert count_queries(client, REGISTER) == register_one
    assert count_queries(client, reverse("contracts:detail", args=[big.pk])) == page_one


def test_the_register_shows_each_running_contracts_next_notice_deadline(client, procurement):
    from django.utils import formats

    from contracts.choices import ContractStatus
    from contracts.selectors import with_next_notice_deadline

    running = ContractFactory(reference="RUN-1", status=ContractStatus.ACTIVE)
    ContractFactory(reference="DRAFT-1", status=ContractStatus.DRAFT)
    (expected,) = with_next_notice_deadline([running])
    client.force_login(procurement)

    page = client.get(REGISTER)

    deadline = formats.date_format(expected.next_renewal.notice_deadline, "SHORT_DATE_FORMAT")
    assert deadline.encode() in page.content
