"""The procurement penalty report: the month's statements, filters, totals per currency, scoping."""

import datetime

import pytest
from django.urls import reverse

from contracts.choices import Currency
from sla_tracker.choices import StatementStatus
from tests.factories import ContractFactory, UserFactory, VendorUserFactory
from tests.web.conftest import MONTH, make_statement

pytestmark = pytest.mark.django_db

REPORT = reverse("sla_tracker:report")


def test_the_report_lists_the_months_statements_with_their_amounts(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(REPORT, {"month": "2025-03"})

    assert response.status_code == 200
    assert list(response.context["statements"]) == [statement]
    page = response.content.decode()
    assert statement.contract.reference in page
    assert "€1,500.00" in page
    assert "In review" in page


def test_the_report_defaults_to_the_latest_month_with_statements(client, procurement, statement):
    make_statement(contract=statement.contract, month=datetime.date(2025, 1, 1))
    client.force_login(procurement)

    response = client.get(REPORT)

    assert response.context["month"] == MONTH
    assert 'value="2025-03"' in response.content.decode()


def test_totals_are_per_currency_and_never_summed_across_currencies(client, procurement, statement, other_statement):
    make_statement(currency=Currency.EUR)
    client.force_login(procurement)

    totals = {total.currency: total for total in client.get(REPORT, {"month": "2025-03"}).context["totals"]}

    assert set(totals) == {"EUR", "GBP"}
    assert totals["EUR"].statements == 2
    assert str(totals["EUR"].amounts["credits"]) == "3000.00"
    assert str(totals["GBP"].amounts["credits"]) == "1500.00"


def test_the_report_filters_by_vendor_contract_and_status(client, procurement, statement, other_statement):
    draft = make_statement(status=StatementStatus.DRAFT)
    client.force_login(procurement)

    by_vendor = client.get(REPORT, {"month": "2025-03", "vendor": other_statement.contract.vendor_id})
    by_contract = client.get(REPORT, {"month": "2025-03", "contract": statement.contract_id})
    by_status = client.get(REPORT, {"month": "2025-03", "status": "draft"})

    assert list(by_vendor.context["statements"]) == [other_statement]
    assert list(by_contract.context["statements"]) == [statement]
    assert list(by_status.context["statements"]) == [draft]


def test_a_bad_month_shows_an_error_instead_of_failing(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(REPORT, {"month": "March"})

    assert response.status_code == 200
    assert "Give the month as YYYY-MM." in response.content.decode()


def test_an_htmx_request_gets_only_the_results_fragment(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(REPORT, {"month": "2025-03"}, headers={"HX-Request": "true"})

    page = response.content.decode()
    assert "<html" not in page
    assert 'id="report-table"' in page


def test_a_vendor_user_sees_only_their_vendors_submitted_statements(client, statement, other_statement):
    make_statement(contract=statement.contract, month=datetime.date(2025, 4, 1), status=StatementStatus.DRAFT)
    client.force_login(VendorUserFactory(vendor=statement.contract.vendor))

    response = client.get(REPORT, {"month": "2025-03"})
    april = client.get(REPORT, {"month": "2025-04"})

    assert list(response.context["statements"]) == [statement]
    assert other_statement.contract.reference not in response.content.decode()
    assert list(april.context["statements"]) == []
    # Nor is "draft" offered in the status filter.
    offered = [value for value, _label in response.context["form"].fields["status"].choices]
    assert StatementStatus.DRAFT not in offered and StatementStatus.IN_REVIEW in offered


def test_a_vendor_manager_sees_only_the_contracts_they_own(client, statement, other_statement):
    client.force_login(statement.contract.owner)

    response = client.get(REPORT, {"month": "2025-03"})

    assert list(response.context["statements"]) == [statement]


def test_the_report_runs_the_same_number_of_queries_for_1_and_5_contracts(client, count_queries):
    client.force_login(UserFactory(procurement=True))
    make_statement()
    one = count_queries(client, REPORT + "?month=2025-03")
    for currency in (Currency.EUR, Currency.GBP, Currency.USD, Currency.CHF):
        make_statement(contract=ContractFactory(currency=currency))

    five = count_queries(client, REPORT + "?month=2025-03")

    assert one == five


def test_the_report_pages_its_rows_but_totals_and_exports_every_statement(client, procurement, monkeypatch):
    from sla_tracker import views

    monkeypatch.setattr(views, "REPORT_PAGE_SIZE", 2)
    statements = sorted((make_statement() for _ in range(3)), key=lambda statement: statement.contract.reference)
    client.force_login(procurement)

    first = client.get(REPORT, {"month": "2025-03"})
    second = client.get(REPORT, {"month": "2025-03", "page": 2})
    export = client.get(reverse("sla_tracker:report-export", args=["csv"]), {"month": "2025-03"})

    assert list(first.context["page"]) == statements[:2]
    assert list(second.context["page"]) == statements[2:]
    page = first.content.decode()
    assert "1–2 of 3" in page
    assert "?month=2025-03&amp;page=2" in page
    assert reverse("sla_tracker:statement", args=[statements[2].pk]) not in page
    assert reverse("sla_tracker:statement", args=[statements[2].pk]) in second.content.decode()
    assert first.context["totals"][0].statements == 3
    assert "3 statements for March 2025" in page
    assert all(statement.contract.reference in export.content.decode() for statement in statements)


# A period of several months -------------------------------------------------------------------------------


def test_a_period_lists_each_months_statements_with_their_month_and_totals_per_currency(
    client, procurement, statement, other_statement
):
    january = make_statement(contract=statement.contract, month=datetime.date(2025, 1, 1))
    make_statement(contract=statement.contract, month=datetime.date(2024, 12, 1))  # before the period
    make_statement(contract=statement.contract, month=datetime.date(2025, 4, 1))  # after it
    client.force_login(procurement)

    response = client.get(REPORT, {"month": "2025-01", "to": "2025-03"})

    assert response.context["to"] == datetime.date(2025, 3, 1)
    euro = [row for row in response.context["statements"] if row.currency == "EUR"]
    assert euro == [january, statement]  # by contract, then month
    assert set(response.context["statements"]) == {january, statement, other_statement}
    totals = {total.currency: total for total in response.context["totals"]}
    assert totals["EUR"].statements == 2
    assert str(totals["EUR"].amounts["credits"]) == "3000.00"
    assert str(totals["GBP"].amounts["credits"]) == "1500.00"
    page = response.content.decode()
    assert "3 statements from January 2025 to March 2025" in page
    assert "Total EUR (2 statements)" in page
    assert '<td class="text-nowrap">January 2025</td>' in page


def test_a_period_ending_before_it_starts_is_refused_with_a_message(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(REPORT, {"month": "2025-03", "to": "2025-01"})

    assert response.status_code == 200
    assert response.context["statements"] == []
    assert "The period cannot end before its first month." in response.content.decode()


def test_a_period_given_by_its_end_alone_asks_for_its_first_month(client, procurement, statement):
    """Not the latest month put in its place, which made the period end before it started."""
    client.force_login(procurement)

    response = client.get(REPORT, {"to": "2025-01"})

    assert response.context["statements"] == []
    page = response.content.decode()
    assert "Give the first month of the period." in page
    assert "The period cannot end before its first month." not in page


def test_a_bad_last_month_names_the_field(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(REPORT, {"month": "2025-03", "to": "soon"})

    assert response.context["statements"] == []
    assert "To (optional): Give the month as YYYY-MM." in response.content.decode()


def test_a_period_of_one_month_is_that_months_report(client, procurement, statement):
    client.force_login(procurement)

    response = client.get(REPORT, {"month": "2025-03", "to": "2025-03"})

    assert response.context["to"] is None
    assert list(response.context["statements"]) == [statement]
    assert "1 statement for March 2025" in response.content.decode()


def test_a_vendor_users_period_holds_only_their_vendors_submitted_statements(client, statement, other_statement):
    own_january = make_statement(contract=statement.contract, month=datetime.date(2025, 1, 1))
    make_statement(contract=statement.contract, month=datetime.date(2025, 2, 1), status=StatementStatus.DRAFT)
    make_statement(contract=other_statement.contract, month=datetime.date(2025, 1, 1))
    client.force_login(VendorUserFactory(vendor=statement.contract.vendor))

    response = client.get(REPORT, {"month": "2025-01", "to": "2025-03"})
    export = client.get(reverse("sla_tracker:report-export", args=["csv"]), {"month": "2025-01", "to": "2025-03"})

    assert list(response.context["statements"]) == [own_january, statement]
    assert other_statement.contract.reference not in response.content.decode()
    assert other_statement.contract.reference not in export.content.decode()


def test_the_exports_of_a_period_hold_its_months_and_name_it(client, procurement, statement):
    make_statement(contract=statement.contract, month=datetime.date(2025, 1, 1))
    client.force_login(procurement)

    page = client.get(REPORT, {"month": "2025-01", "to": "2025-03"}).content.decode()
    csv = client.get(reverse("sla_tracker:report-export", args=["csv"]), {"month": "2025-01", "to": "2025-03"})
    xlsx = client.get(reverse("sla_tracker:report-export", args=["xlsx"]), {"month": "2025-01", "to": "2025-03"})

    assert "?month=2025-01&amp;to=2025-03" in page  # the export links keep the period
    assert csv["Content-Disposition"] == 'attachment; filename="penalty-report-2025-01-to-2025-03.csv"'
    assert xlsx["Content-Disposition"] == 'attachment; filename="penalty-report-2025-01-to-2025-03.xlsx"'
    rows = csv.content.decode("utf-8-sig").splitlines()
    months = [row.split(",")[3] for row in rows[1:] if row.startswith(statement.contract.reference)]
    assert months == ["2025-01", "2025-03"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_with_wrong_filters_is_refused_naming_them_not_an_empty_file(client, procurement, statement, fmt):
    client.force_login(procurement)

    response = client.get(reverse("sla_tracker:report-export", args=[fmt]), {"month": "2025-03", "to": "2025-01"})

    assert response.status_code == 400
    assert "Content-Disposition" not in response
    assert response.content.decode() == "To (optional): The period cannot end before its first month."


def test_a_vendor_filtering_on_another_vendors_contract_is_told_to_correct_the_filter(
    client, statement, other_statement
):
    client.force_login(VendorUserFactory(vendor=statement.contract.vendor))

    page = client.get(REPORT, {"contract": other_statement.contract.pk}).content.decode()

    assert "Correct the filters to see statements" in page
    assert "No statements yet" not in page
    assert other_statement.contract.reference not in page
