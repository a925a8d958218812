"""The penalty simulator page: a contract's scenario loaded, edited and evaluated; nothing stored."""

import html
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from contracts.months import parse_month
from sla_tracker.engine import Month, MonthRange
from sla_tracker.engine.scenario import run_scenario
from sla_tracker.models import PenaltyStatement
from sla_tracker.penalty_inputs import export_scenario
from tests.factories import UserFactory, VendorUserFactory
from tests.sla_tracker.test_close import close, scenario_json, seed_scenario
from tests.web.test_browser import browser, shot, sign_in  # noqa: F401 - fixtures and helpers

pytestmark = pytest.mark.django_db


def simulate_url(contract) -> str:
    return reverse("sla_tracker:simulate", args=[contract.pk])


@pytest.fixture
def breach():
    """DOMAIN.md §6 example 1 as a stored contract, its January closed: CSL-1 at 73.26 % → €14,400.00."""
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    assert close(contract, "2026-01").credits == 14_400
    return contract


def test_the_page_loads_the_contracts_scenario_for_the_months_asked(client, breach):
    client.force_login(UserFactory(procurement=True))

    page = client.get(simulate_url(breach), {"first": "2026-01", "last": "2026-01"})

    assert page.status_code == 200
    loaded = json.loads(page.context["form"].initial["scenario"])
    assert loaded == export_scenario(breach, MonthRange(Month(2026, 1), Month(2026, 1)))[0]
    assert loaded["service_levels"][0]["credit"] == {"type": "allocation", "allocation_pct": "60"}


@pytest.mark.parametrize(("first", "last"), [("9999-11", "9999-12"), ("1899-12", "1900-01")])
def test_months_a_scenario_does_not_take_are_refused_with_why(client, breach, first, last):
    client.force_login(UserFactory(procurement=True))

    page = client.get(simulate_url(breach), {"first": first, "last": last})

    assert page.status_code == 200
    assert page.context["months_form"].non_field_errors() == ["Give months from 1900 to 9000."]
    assert page.context["form"].initial["scenario"] == ""


def test_the_page_warns_that_a_range_after_stored_statements_starts_without_their_history(client):
    contract = seed_scenario(scenario_json("ex06_tiers"))
    close(contract, "2026-02")
    client.force_login(UserFactory(procurement=True))

    after = client.get(simulate_url(contract), {"first": "2026-02", "last": "2026-02"})
    from_start = client.get(simulate_url(contract), {"first": "2026-01", "last": "2026-02"})

    assert after.context["history_before"] == Month(2026, 1)
    assert 'data-testid="history-before"' in after.content.decode()
    assert "The contract has statements before 2026-02 (the last for 2026-01)" in after.content.decode()
    assert from_start.context["history_before"] is None
    assert 'data-testid="history-before"' not in from_start.content.decode()


def test_other_terms_are_evaluated_beside_the_stored_statements_credits_and_nothing_is_stored(client, breach):
    client.force_login(UserFactory(procurement=True))
    scenario = export_scenario(breach, MonthRange(Month(2026, 1), Month(2026, 1)))[0]
    scenario["service_levels"][0]["credit"]["allocation_pct"] = "30"
    statements = list(PenaltyStatement.objects.values_list("pk", "credits", "computed_at"))

    page = client.post(simulate_url(breach), {"scenario": json.dumps(scenario)})

    assert page.status_code == 200
    (row,) = page.context["result"]["rows"]
    assert (row["month"], row["item"]["credits"], row["stored"], row["difference"]) == (
        parse_month("2026-01"),
        "7200.00",
        14_400,
        -7_200,
    )
    assert "−€7,200.00" in page.content.decode()
    assert list(PenaltyStatement.objects.values_list("pk", "credits", "computed_at")) == statements


def test_the_scenario_and_its_result_are_downloaded_as_the_command_prints_them(client, breach):
    client.force_login(UserFactory(procurement=True))
    scenario = export_scenario(breach, MonthRange(Month(2026, 1), Month(2026, 1)))[0]
    scenario["service_levels"][0]["credit"]["allocation_pct"] = "30"
    posted = {"scenario": json.dumps(scenario)}

    result = client.post(simulate_url(breach), {**posted, "download": "result"})
    edited = client.post(simulate_url(breach), {**posted, "download": "scenario"})
    broken = client.post(simulate_url(breach), {"scenario": '{"currency": "EUR"}', "download": "result"})

    assert result["Content-Type"] == "application/json"
    assert result["Content-Disposition"] == f'attachment; filename="{breach.reference}-result-2026-01-2026-01.json"'
    assert json.loads(result.content) == run_scenario(scenario)
    assert json.loads(result.content)["months"][0]["credits"] == "7200.00"
    assert edited["Content-Disposition"] == f'attachment; filename="{breach.reference}-scenario-2026-01-2026-01.json"'
    assert json.loads(edited.content) == scenario
    assert broken.status_code == 400 and broken.context["problems"]


def test_a_scenario_nested_too_deeply_is_refused_as_not_valid_json(client, breach):
    client.force_login(UserFactory(procurement=True))

    page = client.post(simulate_url(breach), {"scenario": "[" * 100_000 + "]" * 100_000})

    assert page.status_code == 400
    assert page.context["form"].errors["scenario"] == ["Not valid JSON: it is nested too deeply."]


def test_a_scenario_that_cannot_be_evaluated_names_the_field(client, breach):
    client.force_login(UserFactory(procurement=True))
    scenario = export_scenario(breach, MonthRange(Month(2026, 1), Month(2026, 1)))[0]
    scenario["service_levels"][0]["colour"] = "red"

    page = client.post(simulate_url(breach), {"scenario": json.dumps(scenario)})

    assert page.status_code == 400
    assert [problem.path for problem in page.context["problems"]] == ["service_levels[0].colour"]
    assert "<code>service_levels[0].colour</code>" in page.content.decode()
    broken = client.post(simulate_url(breach), {"scenario": '{"currency": "EUR",'})
    assert (broken.status_code, broken.context["result"]) == (400, None)
    assert "Not valid JSON" in broken.content.decode()


def test_vendor_users_and_users_without_the_contract_cannot_simulate(client, breach):
    vendor_user = VendorUserFactory(vendor=breach.vendor)
    client.force_login(vendor_user)
    assert client.get(simulate_url(breach)).status_code == 403
    api = APIClient()
    api.force_authenticate(vendor_user)
    assert api.post("/api/v1/simulations/", scenario_json("ex01_plain_breach"), format="json").status_code == 403
    stranger = UserFactory()  # a vendor manager of other contracts
    client.force_login(stranger)
    assert client.get(simulate_url(breach)).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_procurement_tries_other_terms_from_the_contract_page_in_a_browser(browser, live_server):  # noqa: F811
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    close(contract, "2026-01")
    user = UserFactory(procurement=True)
    page = browser.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}{reverse('contracts:detail', args=[contract.pk])}")

    page.click("[data-testid=simulate]")
    page.fill("input[name=first]", "2026-01")
    page.fill("input[name=last]", "2026-01")
    page.click("[data-testid=simulator-months] button")
    scenario = json.loads(page.input_value("textarea[name=scenario]"))
    scenario["service_levels"][0]["credit"]["allocation_pct"] = "30"
    page.fill("textarea[name=scenario]", json.dumps(scenario, indent=2))
    page.click("[data-testid=run-simulation]")

    total = page.wait_for_selector("[data-testid=total-credits]")
    assert total.inner_text() == "€7,200.00"
    assert "€14,400.00" in page.inner_text("[data-testid=simulation-result]")
    shot(page, "simulator-result")
    page.close()


def test_the_result_totals_its_difference_shows_measured_values_and_writes_out_the_explanations(client, breach):
    client.force_login(UserFactory(procurement=True))
    scenario = export_scenario(breach, MonthRange(Month(2026, 1), Month(2026, 1)))[0]
    scenario["service_levels"][0]["credit"]["allocation_pct"] = "30"

    page = client.post(simulate_url(breach), {"scenario": json.dumps(scenario)})

    assert page.context["result"]["difference_total"] == -7_200
    content = page.content.decode()
    assert '<td class="num" data-testid="total-difference">−€7,200.00</td>' in content
    assert '<div class="small text-body-secondary" data-testid="measured">73.2558</div>' in content
    line = page.context["result"]["rows"][0]["lines"][0]
    assert f"<li><strong>CSL-1:</strong> {html.escape(line['explanation'])}</li>" in content


def test_a_scenario_in_another_currency_is_not_compared_with_the_stored_credits(client, breach):
    client.force_login(UserFactory(procurement=True))
    scenario = export_scenario(breach, MonthRange(Month(2026, 1), Month(2026, 1)))[0]
    scenario["currency"] = "USD"

    page = client.post(simulate_url(breach), {"scenario": json.dumps(scenario)})

    (row,) = page.context["result"]["rows"]
    assert (row["stored"], row["difference"], page.context["result"]["difference_total"]) == (None, None, None)
    assert "The scenario is in USD and the contract's statements in EUR" in page.content.decode()
