"""The renewal and notice clauses of a contract that runs change with a reason, kept in its history (in the
service rule, the back office and the API alike); a draft's are still being typed."""

import pytest

from contracts.choices import ContractStatus, PeriodUnit, RenewalType
from contracts.models import Contract
from contracts.services import contract_edit_errors
from tests.contracts.test_admin import _change_form_data
from tests.factories import ContractFactory, UserFactory
from tests.sla_tracker.test_kpi_api import client_for

pytestmark = pytest.mark.django_db

CLAUSE_CHANGES = [
    {"renewal_type": RenewalType.EXPLICIT},
    {"renewal_term_months": 24},
    {"max_renewals": 3},
    {"notice_period": 3},
    {"notice_period_unit": PeriodUnit.DAYS},
    {"calendar_country": "FR"},
    {"calendar_subdivision": "BY"},
]


@pytest.mark.parametrize("change", CLAUSE_CHANGES, ids=lambda change: next(iter(change)))
@pytest.mark.parametrize("status", [ContractStatus.ACTIVE, ContractStatus.NOTICE_GIVEN, ContractStatus.EXPIRED])
def test_a_clause_of_a_contract_that_runs_or_ran_changes_only_with_a_reason(status, change):
    contract = ContractFactory(status=status)
    (field,) = change

    errors = contract_edit_errors(contract, change)

    assert list(errors) == [field]
    assert "say why it changes" in errors[field][0]
    assert contract_edit_errors(contract, change, reason="Amendment 2: notice and renewal terms") == {}


def test_the_refusal_names_the_clause():
    contract = ContractFactory()
    assert contract_edit_errors(contract, {"notice_period": 3})["notice_period"] == [
        "Notice period is a clause of the contract: once it runs, say why it changes (the reason for the change, "
        "e.g. the amendment that makes it)."
    ]


def test_a_drafts_clauses_and_an_unchanged_clause_need_no_reason():
    assert contract_edit_errors(ContractFactory(status=ContractStatus.DRAFT), {"notice_period": 3}) == {}
    running = ContractFactory()
    assert contract_edit_errors(running, {"notice_period": running.notice_period, "title": "Renamed"}) == {}


def test_the_api_refuses_a_clause_change_without_a_reason_and_keeps_the_reason_in_the_history():
    owner = UserFactory()
    contract = ContractFactory(owner=owner)
    client = client_for(owner)
    url = f"/api/v1/contracts/{contract.pk}/"

    refused = client.patch(url, {"notice_period": 3}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["notice_period"]
    assert Contract.objects.get(pk=contract.pk).notice_period == 6

    done = client.patch(url, {"notice_period": 3, "change_reason": "Amendment 2"}, format="json")
    assert done.status_code == 200, done.content
    assert "change_reason" not in done.json()
    contract.refresh_from_db()
    assert contract.notice_period == 3
    assert contract.history.latest().history_change_reason == "Amendment 2"


def test_the_back_office_refuses_a_clause_change_without_a_reason_under_the_field(client):
    administrator = UserFactory(administrator=True)
    client.force_login(administrator)
    contract = ContractFactory()
    url, data = _change_form_data(client, contract)

    refused = client.post(url, {**data, "renewal_term_months": "24"})
    done = client.post(url, {**data, "renewal_term_months": "24", "change_reason": "Amendment 2"})

    assert refused.status_code == 200
    assert "renewal_term_months" in refused.context["adminform"].form.errors
    assert done.status_code == 302
    contract.refresh_from_db()
    assert contract.renewal_term_months == 24
    assert contract.history.latest().history_change_reason == "Amendment 2"


def test_the_api_edits_the_business_day_calendar_refusing_an_unknown_one_under_its_field():
    owner = UserFactory()
    contract = ContractFactory(owner=owner)
    client = client_for(owner)
    url = f"/api/v1/contracts/{contract.pk}/"
    assert (client.get(url).json()["calendar_country"], client.get(url).json()["calendar_subdivision"]) == ("", "")

    unknown_country = client.patch(url, {"calendar_country": "XX", "change_reason": "Amendment 3"}, format="json")
    unknown_subdivision = client.patch(
        url, {"calendar_country": "DE", "calendar_subdivision": "ZZ", "change_reason": "Amendment 3"}, format="json"
    )

    assert unknown_country.status_code == 400
    assert unknown_country.json()["errors"] == {
        "calendar_country": [
            "No holiday calendar is known for the country “XX”: give its ISO 3166-1 code in two capital letters, "
            "e.g. FR or DE."
        ]
    }
    assert unknown_subdivision.status_code == 400
    assert list(unknown_subdivision.json()["errors"]) == ["calendar_subdivision"]
    assert "DE has no subdivision “ZZ”" in unknown_subdivision.json()["errors"]["calendar_subdivision"][0]
    assert Contract.objects.get(pk=contract.pk).business_calendar.code == ""
    assert contract.history.count() == 1

    done = client.patch(
        url, {"calendar_country": "DE", "calendar_subdivision": "BY", "change_reason": "Amendment 3"}, format="json"
    )

    assert done.status_code == 200, done.content
    assert (done.json()["calendar_country"], done.json()["calendar_subdivision"]) == ("DE", "BY")
    latest = contract.history.latest()
    assert (latest.calendar_country, latest.calendar_subdivision, latest.history_change_reason) == (
        "DE",
        "BY",
        "Amendment 3",
    )
    assert latest.history_user == owner


def test_the_back_office_refuses_an_unknown_calendar_under_its_field(client):
    client.force_login(UserFactory(administrator=True))
    contract = ContractFactory(status=ContractStatus.DRAFT)
    url, data = _change_form_data(client, contract)

    refused = client.post(url, {**data, "calendar_country": "FR", "calendar_subdivision": "ZZ"})
    done = client.post(url, {**data, "calendar_country": "FR", "calendar_subdivision": "971"})

    assert refused.status_code == 200
    assert list(refused.context["adminform"].form.errors) == ["calendar_subdivision"]
    assert done.status_code == 302
    contract.refresh_from_db()
    assert contract.business_calendar.code == "FR-971"
