"""A contract's year: the month × service level grid of statuses, and the monthly credits chart."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, VendorUserFactory
from tests.web.conftest import make_statement

pytestmark = pytest.mark.django_db


def year_url(contract, year=2025):
    return reverse("sla_tracker:contract-year", args=[contract.pk, year])


def test_the_grid_shows_each_months_status_as_text_and_colour(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(year_url(statement.contract))

    page = response.content.decode()
    assert 'class="badge text-bg-danger status-default" data-status="default">Default</span>' in page
    assert 'data-status="met">Met</span>' in page
    march = [row["cells"][2]["line"] for row in response.context["rows"]]
    assert all(line is not None for line in march)
    assert all(row["cells"][0]["line"] is None for row in response.context["rows"])


def test_the_chart_data_holds_the_monthly_credits(client, procurement, statement):
    client.force_login(procurement)

    page = client.get(year_url(statement.contract)).content.decode()

    data = json.loads(page.split('<script id="credits-data" type="application/json">')[1].split("</script>")[0])
    assert data["credits"][2] == 1500.0
    assert data["credits"][0] is None
    assert data["currency"] == "EUR"
    assert "chart.umd.min.js" in page


def test_the_year_shows_each_months_earn_backs_bonuses_and_net_beside_its_credits(client, procurement, statement):
    from decimal import Decimal

    statement.earn_backs, statement.net = Decimal("300.00"), Decimal("-1000.00")  # 200 bonus + 300 − 1,500
    statement.save()
    client.force_login(procurement)

    page = client.get(year_url(statement.contract)).content.decode()

    assert '<td class="small text-end" data-testid="earn-backs">€300.00</td>' in page
    assert '<td class="small text-end fw-semibold" data-testid="net">−€1,000.00</td>' in page


@pytest.mark.parametrize("year", [0, 10000])
def test_a_year_no_calendar_holds_is_404_not_a_server_error(client, procurement, statement, year):
    client.force_login(procurement)

    assert client.get(year_url(statement.contract, year)).status_code == 404


def test_another_vendors_contract_year_is_404(client, statement, other_statement):
    client.force_login(VendorUserFactory(vendor=statement.contract.vendor))

    assert client.get(year_url(other_statement.contract)).status_code == 404


def test_the_year_view_runs_the_same_number_of_queries_for_1_and_5_statements(client, count_queries, statement):
    client.force_login(UserFactory(procurement=True))
    one = count_queries(client, year_url(statement.contract))
    for month in range(4, 8):
        make_statement(contract=statement.contract, month=datetime.date(2025, month, 1))

    assert count_queries(client, year_url(statement.contract)) == one


def test_in_french_the_months_are_abbreviated_as_french_writes_them(client, procurement, statement):
    client.force_login(procurement)

    page = client.get(year_url(statement.contract), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    headers = page.split("<thead")[1].split("</thead>")[0]
    for month in ("jan.", "juin", "juil.", "août", "sept."):
        assert f">{month}</th>" in headers
    assert ">Jui</th>" not in headers


def test_the_year_totals_its_months_and_counts_each_levels_credited_months(client, procurement, statement):
    from decimal import Decimal

    from tests.factories import PenaltyStatementFactory

    statement.earn_backs, statement.net = Decimal("300.00"), Decimal("-1000.00")
    statement.save()
    PenaltyStatementFactory(
        contract=statement.contract,
        month=datetime.date(2025, 4, 1),
        status="in_review",
        uncapped_credits=Decimal("250.50"),
        credits=Decimal("250.50"),
        net=Decimal("-250.50"),
    )
    client.force_login(procurement)

    response = client.get(year_url(statement.contract))

    page = response.content.decode()
    assert response.context["totals"]["credits"] == statement.credits + Decimal("250.50")
    assert f'data-testid="year-credits">€{statement.credits + Decimal("250.50"):,.2f}</td>' in page
    assert 'data-testid="year-net">−€1,250.50</td>' in page
    credited = [row["credited"] for row in response.context["rows"]]
    assert credited == [
        sum(1 for cell in row["cells"] if cell["line"] and cell["line"].charged_credit)
        for row in response.context["rows"]
    ]
    assert max(credited) >= 1
    assert 'aria-label="Breadcrumb"' in page and reverse("contracts:detail", args=[statement.contract.pk]) in page


def test_a_waived_credit_is_not_counted_as_credited(client, procurement, statement):
    line = statement.lines.get(credit__gt=0)
    client.force_login(procurement)
    before = {row["level"].pk: row["credited"] for row in client.get(year_url(statement.contract)).context["rows"]}

    line.waived, line.waiver_reason, line.waived_by, line.waived_at = True, "Goodwill", procurement, timezone.now()
    line.save()
    after = {row["level"].pk: row["credited"] for row in client.get(year_url(statement.contract)).context["rows"]}

    assert before[line.service_level_id] == 1
    assert after[line.service_level_id] == 0
