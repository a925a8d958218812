"""The exclusion pages: the list (filters, pages, each role's rows), a proposal, an exclusion's page with its
history, the decisions after a confirmation, the statement page's exclusions, the warnings of a statement's
submit and approve confirmations, and procurement's home-page panel."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.choices import Role
from sla_tracker.choices import ApprovalStatus, ExclusionReason, StatementAction, StatementStatus
from sla_tracker.completeness import completeness
from sla_tracker.models import Exclusion, PenaltyStatement
from sla_tracker.services import approve_statement, decide_exclusion, withdraw_exclusion
from tests.factories import (
    ContractFactory,
    ExclusionFactory,
    KpiCounterFactory,
    MeasurementFactory,
    PenaltyStatementFactory,
    ServiceLevelFactory,
    UserFactory,
    VendorFactory,
    VendorUserFactory,
)
from tests.sla_tracker.test_close import close, figures, scenario_json, seed_scenario
from tests.web.conftest import MONTH, make_statement

pytestmark = pytest.mark.django_db

LIST = reverse("sla_tracker:exclusions")
PROPOSE = reverse("sla_tracker:exclusion-propose")


def detail(exclusion) -> str:
    return reverse("sla_tracker:exclusion", args=[exclusion.pk])


def decision(exclusion, name: str) -> str:
    return reverse("sla_tracker:exclusion-decision", args=[exclusion.pk, name])


def shown(response) -> list[int]:
    """The exclusions on a list page, in their order."""
    return [exclusion.pk for exclusion in response.context["page"]]


@pytest.fixture
def manager():
    return UserFactory(first_name="Vera", last_name="Manager")


@pytest.fixture
def contract(manager):
    return ContractFactory(reference="EXC-A", owner=manager, vendor=VendorFactory(name="Lumen BPO"))


@pytest.fixture
def other_contract():
    """Another manager's contract with another vendor."""
    return ContractFactory(reference="EXC-B", vendor=VendorFactory(name="Pacific BPO"))


def in_march(contract, **fields):
    return ExclusionFactory(
        contract=contract, start_date=datetime.date(2025, 3, 14), end_date=datetime.date(2025, 3, 15), **fields
    )


def proposal_data(contract, **fields) -> dict:
    return {
        "contract": contract.pk,
        "start_date": "2025-03-14",
        "end_date": "2025-03-15",
        "reason": ExclusionReason.FORCE_MAJEURE,
        "description": "Regional power outage closed the Casablanca site.",
        "evidence": "Utility notice 2025-014.",
        **fields,
    }


# The list -------------------------------------------------------------------------------------------------


def test_a_vendor_manager_lists_the_exclusions_of_their_contracts_only(client, manager, contract, other_contract):
    mine = in_march(contract)
    theirs = in_march(other_contract)
    client.force_login(manager)

    response = client.get(LIST)

    assert response.status_code == 200
    assert shown(response) == [mine.pk]
    assert client.get(detail(theirs)).status_code == 404
    assert [choice.instance for choice, _label in list(response.context["form"].fields["contract"].choices)[1:]] == [
        contract
    ]


def test_procurement_lists_every_contracts_exclusions_proposals_first(client, procurement, contract, other_contract):
    approved = ExclusionFactory(
        contract=contract, start_date=datetime.date(2025, 4, 1), end_date=datetime.date(2025, 4, 1), approved=True
    )
    proposed = in_march(other_contract)
    client.force_login(procurement)

    response = client.get(LIST)

    assert shown(response) == [proposed.pk, approved.pk]
    page = response.content.decode()
    assert "Proposed, awaiting a decision" in page
    assert "EXC-A" in page and "EXC-B" in page
    assert 'data-testid="propose-exclusion"' in page


def test_a_vendor_user_sees_only_the_approved_exclusions_of_their_vendor(client, contract, other_contract):
    approved = in_march(contract, approved=True)
    proposed = in_march(contract)
    rejected = in_march(contract, status=ApprovalStatus.REJECTED, decided_by=UserFactory(), decided_at=timezone.now())
    elsewhere = in_march(other_contract, approved=True)
    client.force_login(VendorUserFactory(vendor=contract.vendor))

    response = client.get(LIST)

    assert shown(response) == [approved.pk]
    assert "status" not in response.context["form"].fields
    assert client.get(detail(approved)).status_code == 200
    for hidden in (proposed, rejected, elsewhere):
        assert client.get(detail(hidden)).status_code == 404
    assert 'data-testid="propose-exclusion"' not in response.content.decode()
    assert client.get(PROPOSE).status_code == 403
    assert client.post(decision(approved, "reject")).status_code == 403


def test_the_list_filters_by_status_telling_withdrawn_from_rejected(client, procurement, manager, contract):
    proposed = in_march(contract)
    approved = in_march(contract, approved=True)
    rejected = in_march(contract, requested_by=manager)
    decide_exclusion(exclusion_id=rejected.pk, actor=procurement, approve=False, note="Not excusable.")
    withdrawn = in_march(contract, requested_by=manager)
    withdraw_exclusion(exclusion_id=withdrawn.pk, actor=manager)
    client.force_login(procurement)

    def by_status(status):
        return shown(client.get(LIST, {"status": status}))

    assert by_status(ApprovalStatus.PROPOSED) == [proposed.pk]
    assert by_status(ApprovalStatus.APPROVED) == [approved.pk]
    assert by_status(ApprovalStatus.REJECTED) == [rejected.pk]
    assert by_status(ApprovalStatus.WITHDRAWN) == [withdrawn.pk]
    page = client.get(LIST, {"status": "withdrawn"}).content.decode()
    assert 'data-status="withdrawn">Withdrawn</span>' in page


def test_the_list_filters_by_contract_and_by_the_month_an_exclusion_has_days_in(
    client, procurement, contract, other_contract
):
    spanning = ExclusionFactory(
        contract=contract, start_date=datetime.date(2025, 2, 27), end_date=datetime.date(2025, 3, 2)
    )
    march = in_march(contract)
    other = in_march(other_contract)
    client.force_login(procurement)

    assert sorted(shown(client.get(LIST, {"month": "2025-03"}))) == sorted([spanning.pk, march.pk, other.pk])
    assert shown(client.get(LIST, {"month": "2025-02"})) == [spanning.pk]
    assert shown(client.get(LIST, {"month": "2025-04"})) == []
    assert sorted(shown(client.get(LIST, {"contract": other_contract.pk}))) == [other.pk]
    response = client.get(LIST, {"contract": contract.pk, "month": "2025-02"})
    assert shown(response) == [spanning.pk]
    assert response.context["propose_url"] == f"{PROPOSE}?contract={contract.pk}"
    assert "Exclusions of EXC-A" in response.content.decode()


def test_a_bad_filter_is_shown_next_to_its_field_and_the_others_still_apply(client, procurement, contract):
    march = in_march(contract, approved=True)
    in_march(contract)
    client.force_login(procurement)

    response = client.get(LIST, {"month": "March", "status": ApprovalStatus.APPROVED})

    assert response.status_code == 200
    assert shown(response) == [march.pk]
    assert response.context["form"].errors == {"month": ["Give the month as YYYY-MM."]}
    assert 'data-testid="field-error">Give the month as YYYY-MM.' in response.content.decode()


@pytest.mark.parametrize("month", ["0001-01", "9999-12"])
def test_a_month_at_the_edge_of_the_calendar_is_a_bad_filter_not_a_server_error(client, procurement, month):
    client.force_login(procurement)

    response = client.get(LIST, {"month": month})

    assert response.status_code == 200
    assert response.context["form"].errors == {"month": ["Give the month as YYYY-MM."]}


def test_the_list_filters_by_reason(client, procurement, contract):
    force_majeure = in_march(contract)
    customer = in_march(contract, reason=ExclusionReason.CUSTOMER_CAUSED)
    client.force_login(procurement)

    assert shown(client.get(LIST, {"reason": ExclusionReason.CUSTOMER_CAUSED})) == [customer.pk]
    assert shown(client.get(LIST, {"reason": ExclusionReason.FORCE_MAJEURE})) == [force_majeure.pk]
    assert shown(client.get(LIST, {"reason": ExclusionReason.THIRD_PARTY})) == []


def test_the_list_filters_by_service_level_code_with_the_exclusions_that_name_none(
    client, procurement, contract, other_contract
):
    answered = ServiceLevelFactory(contract=contract, code="SL-ANS")
    abandoned = ServiceLevelFactory(contract=contract, code="SL-ABN")
    ServiceLevelFactory(contract=other_contract, code="SL-ABN")
    naming_answered = in_march(contract, service_levels=[answered])
    naming_abandoned = in_march(contract, service_levels=[abandoned])
    every_level = in_march(contract)  # no level named: every service level of EXC-A
    elsewhere_every_level = in_march(other_contract)  # EXC-B has no SL-ANS
    client.force_login(procurement)

    response = client.get(LIST, {"service_level": "SL-ANS"})

    assert sorted(shown(response)) == sorted([naming_answered.pk, every_level.pk])
    assert sorted(shown(client.get(LIST, {"service_level": "SL-ABN"}))) == sorted(
        [naming_abandoned.pk, every_level.pk, elsewhere_every_level.pk]
    )
    codes = [value for value, _label in response.context["form"].fields["service_level"].choices]
    assert codes == ["", "SL-ABN", "SL-ANS"]  # each code once, though two contracts have SL-ABN


def test_the_list_filters_by_the_period_an_exclusion_has_days_in(client, procurement, contract):
    february_to_march = ExclusionFactory(
        contract=contract, start_date=datetime.date(2025, 2, 27), end_date=datetime.date(2025, 3, 2)
    )
    mid_march = in_march(contract)  # 14–15 March
    april = ExclusionFactory(
        contract=contract, start_date=datetime.date(2025, 4, 1), end_date=datetime.date(2025, 4, 1)
    )
    client.force_login(procurement)

    def between(first="", last=""):
        return sorted(shown(client.get(LIST, {"day_from": first, "day_to": last})))

    assert between("2025-03-02", "2025-03-14") == sorted([february_to_march.pk, mid_march.pk])
    assert between("2025-03-03", "2025-03-13") == []
    assert between("2025-03-15", "2025-04-01") == sorted([mid_march.pk, april.pk])
    assert between("2025-03-16") == [april.pk]
    assert between(last="2025-02-27") == [february_to_march.pk]


def test_invalid_filters_are_named_above_the_list_and_left_out(client, procurement, contract):
    approved = in_march(contract, approved=True)
    in_march(contract)
    client.force_login(procurement)

    response = client.get(
        LIST,
        {
            "status": ApprovalStatus.APPROVED,
            "reason": "act_of_god",
            "service_level": "NOPE",
            "day_from": "2025-03-31",
            "day_to": "2025-03-01",
        },
    )

    assert response.status_code == 200
    assert shown(response) == [approved.pk]  # the valid status filter still applies
    assert set(response.context["form"].errors) == {"reason", "service_level", "day_to"}
    page = response.content.decode()
    errors = page.split('data-testid="filter-errors">')[1].split("</div>")[0]
    assert "Reason: Select a valid choice. act_of_god is not one of the available choices." in errors
    assert "Service level: Select a valid choice. NOPE is not one of the available choices." in errors
    assert "To (inclusive): The period cannot end before its first day." in errors
    assert 'data-testid="field-error">The period cannot end before its first day.' in page
    assert 'data-testid="filter-errors"' not in client.get(LIST, {"status": "approved"}).content.decode()


def test_the_pages_of_a_filtered_list_keep_its_filters(client, procurement, contract):
    level = ServiceLevelFactory(contract=contract, code="SL-ANS")
    for _index in range(30):
        in_march(contract, approved=True, service_levels=[level])
    in_march(contract, reason=ExclusionReason.CUSTOMER_CAUSED, approved=True)
    client.force_login(procurement)
    filters = {
        "contract": contract.pk,
        "status": "approved",
        "reason": ExclusionReason.FORCE_MAJEURE,
        "service_level": "SL-ANS",
        "day_from": "2025-03-01",
        "day_to": "2025-03-31",
    }

    first = client.get(LIST, filters)
    second = client.get(LIST, {**filters, "page": 2})

    assert "1–25 of 30" in first.content.decode()
    links = first.content.decode().split('data-testid="exclusion-pages"')[1].split("</nav>")[0]
    assert "page=2" in links
    for name, value in filters.items():
        assert f"{name}={value}" in links
    assert len(shown(second)) == 5 and set(shown(second)).isdisjoint(shown(first))


def test_a_vendor_user_filters_only_their_vendors_contracts_and_levels(client, contract, other_contract):
    mine = ServiceLevelFactory(contract=contract, code="SL-ANS")
    theirs = ServiceLevelFactory(contract=other_contract, code="SL-SECRET")
    ServiceLevelFactory(contract=other_contract, code="SL-ANS")
    own = in_march(contract, approved=True, service_levels=[mine])
    hidden = [
        in_march(other_contract, approved=True, service_levels=[theirs]),
        in_march(other_contract, approved=True),
        in_march(other_contract, approved=True, reason=ExclusionReason.CUSTOMER_CAUSED),
    ]
    client.force_login(VendorUserFactory(vendor=contract.vendor))

    response = client.get(LIST)
    form = response.context["form"]
    assert [choice.instance for choice, _label in list(form.fields["contract"].choices)[1:]] == [contract]
    assert [value for value, _label in form.fields["service_level"].choices] == ["", "SL-ANS"]
    assert "EXC-B" not in response.content.decode() and "SL-SECRET" not in response.content.decode()

    for filters in (
        {"contract": other_contract.pk},
        {"service_level": "SL-SECRET"},
        {"service_level": "SL-ANS"},
        {"reason": ExclusionReason.CUSTOMER_CAUSED},
        {"day_from": "2025-03-01", "day_to": "2025-03-31"},
        {"status": ApprovalStatus.APPROVED, "month": "2025-03"},
    ):
        response = client.get(LIST, filters)
        assert response.status_code == 200
        assert not {exclusion.pk for exclusion in hidden} & set(shown(response)), filters
        assert "EXC-B" not in response.content.decode(), filters
    assert shown(client.get(LIST, {"service_level": "SL-ANS"})) == [own.pk]
    refused = client.get(LIST, {"contract": other_contract.pk})
    assert "contract" in refused.context["form"].errors and shown(refused) == [own.pk]


def test_the_api_filters_exclusions_by_service_level_and_period(procurement, contract):
    level = ServiceLevelFactory(contract=contract, code="SL-ANS")
    named = in_march(contract, service_levels=[level])
    in_march(contract, service_levels=[ServiceLevelFactory(contract=contract, code="SL-ABN")])
    april = ExclusionFactory(
        contract=contract, start_date=datetime.date(2025, 4, 1), end_date=datetime.date(2025, 4, 1)
    )
    api = APIClient()
    api.force_authenticate(procurement)

    def ids(**params):
        return sorted(row["id"] for row in api.get("/api/v1/exclusions/", params).json()["results"])

    assert ids(service_level="SL-ANS") == sorted([named.pk, april.pk])  # April names no level: every one
    assert ids(day_from="2025-03-16") == [april.pk]
    assert ids(service_level="SL-ANS", day_to="2025-03-31") == [named.pk]


def test_the_list_says_when_nothing_matches(client, procurement, contract):
    client.force_login(procurement)

    assert "No exclusion has been proposed yet." in client.get(LIST).content.decode()
    assert "No exclusion matches these filters." in client.get(LIST, {"status": "approved"}).content.decode()
    assert (
        "No exclusion has been proposed for EXC-A yet." in client.get(LIST, {"contract": contract.pk}).content.decode()
    )


def test_the_list_shows_25_exclusions_a_page(client, procurement, contract):
    for _index in range(30):
        in_march(contract)
    client.force_login(procurement)

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assert len(shown(first)) == 25
    assert len(shown(second)) == 5
    assert set(shown(first)).isdisjoint(shown(second))
    assert "1–25 of 30" in first.content.decode()


def test_the_list_takes_the_same_number_of_queries_for_1_and_5_rows(client, procurement, contract, count_queries):
    levels = [ServiceLevelFactory(contract=contract) for _index in range(3)]
    in_march(contract, service_levels=levels)
    client.force_login(procurement)
    one = count_queries(client, LIST)

    for _index in range(4):
        in_march(contract, approved=True, service_levels=levels)

    assert count_queries(client, LIST) == one


def test_readers_of_their_contracts_open_the_list_and_a_visitor_is_sent_to_sign_in(client):
    client.force_login(UserFactory(role=Role.AUDITOR))
    assert client.get(LIST).status_code == 200  # auditors and committee members read what their contracts hold
    client.logout()
    assert client.get(LIST).status_code == 302  # to the sign-in page


def test_the_kpi_workspace_links_to_the_contracts_exclusions_not_to_the_back_office(client, manager, contract):
    client.force_login(manager)

    page = client.get(reverse("sla_tracker:kpi-workspace")).content.decode()

    assert f'href="{LIST}?contract={contract.pk}"' in page
    assert "admin/sla_tracker/exclusion" not in page


# Proposing -----------------------------------------------------------------------------------------------


def test_a_vendor_manager_proposes_an_exclusion_for_some_service_levels(client, manager, contract):
    first = ServiceLevelFactory(contract=contract, code="CSL-1")
    ServiceLevelFactory(contract=contract, code="CSL-2")
    client.force_login(manager)

    response = client.post(PROPOSE, proposal_data(contract, service_levels=[first.pk]))

    exclusion = Exclusion.objects.get()
    assert response.status_code == 302
    assert response.url == detail(exclusion)
    assert (exclusion.contract, exclusion.requested_by, exclusion.status) == (
        contract,
        manager,
        ApprovalStatus.PROPOSED,
    )
    assert (exclusion.start_date, exclusion.end_date) == (datetime.date(2025, 3, 14), datetime.date(2025, 3, 15))
    assert exclusion.evidence == "Utility notice 2025-014."
    assert list(exclusion.service_levels.all()) == [first]
    page = client.get(response.url).content.decode()
    assert "Your exclusion proposal for EXC-A was recorded: procurement approves or rejects it." in page


def test_procurement_proposes_from_a_statement_by_design_and_is_told_someone_else_decides(
    client, procurement, contract
):
    """README: vendor managers propose exclusions, and procurement may too (the API's create, the statement
    page's link); who proposed one never approves it."""
    statement = make_statement(contract=contract)
    client.force_login(procurement)

    page = client.get(reverse("sla_tracker:statement", args=[statement.pk])).content.decode()
    response = client.post(PROPOSE, proposal_data(contract))

    assert 'data-testid="propose-exclusion"' in page
    exclusion = Exclusion.objects.get()
    assert exclusion.requested_by == procurement
    shown = client.get(response.url).content.decode()
    assert "Your exclusion proposal for EXC-A was recorded: someone else approves or rejects it." in shown
    assert "procurement approves or rejects it" not in shown


def test_the_proposal_form_lists_only_the_chosen_contracts_service_levels(client, manager, contract):
    own = ServiceLevelFactory(contract=contract, code="CSL-1", name="Calls answered in 20 s")
    foreign = ServiceLevelFactory(contract=ContractFactory(owner=manager), code="CSL-7")
    client.force_login(manager)

    blank = client.get(PROPOSE).content.decode()
    chosen = client.get(PROPOSE, {"contract": contract.pk})
    fragment = client.get(PROPOSE, {"contract": contract.pk}, headers={"HX-Request": "true"})

    assert "Choose the contract: its service levels are listed here." in blank
    assert chosen.context["form"]["contract"].value() == contract.pk
    page = chosen.content.decode()
    assert "CSL-1 – Calls answered in 20 s" in page
    assert f'name="service_levels" value="{foreign.pk}"' not in page
    assert fragment.templates[0].name == "sla_tracker/exclusions/_service_levels.html"
    assert f'name="service_levels" value="{own.pk}"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "CSL-9 – Old queue (retired from October 2025)"), ("fr", "CSL-9 – Old queue (retiré dès octobre 2025)")],
)
def test_the_proposal_form_names_the_month_a_service_level_is_retired_from(client, manager, contract, language, label):
    ServiceLevelFactory(contract=contract, code="CSL-9", name="Old queue", retired_from=datetime.date(2025, 10, 1))
    client.force_login(manager)

    page = client.get(PROPOSE, {"contract": contract.pk}, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert label in page


def test_from_a_statement_the_proposal_has_its_contract_and_cancel_goes_back(client, manager, contract):
    statement = make_statement(contract=contract)
    client.force_login(manager)

    response = client.get(PROPOSE, {"statement": statement.pk})

    assert response.context["form"]["contract"].value() == contract.pk
    page = response.content.decode()
    assert "From the statement EXC-A – March 2025." in page
    assert f'href="{reverse("sla_tracker:statement", args=[statement.pk])}">Cancel' in page


def test_a_refused_proposal_shows_each_error_by_its_field_and_keeps_the_values(client, manager, contract):
    client.force_login(manager)

    response = client.post(
        PROPOSE,
        proposal_data(contract, start_date="2025-03-15", end_date="2025-03-14", description="", evidence="Ticket 42"),
    )

    assert response.status_code == 200
    assert not Exclusion.objects.exists()
    form = response.context["form"]
    assert form.errors == {"description": ["This field is required."]}
    page = response.content.decode()
    assert 'value="2025-03-15"' in page
    assert "Ticket 42</textarea>" in page
    assert f'<option value="{contract.pk}" selected>' in page

    # The form's own checks passed: the service's refusal is shown next to its field.
    response = client.post(PROPOSE, proposal_data(contract, start_date="2025-03-15", end_date="2025-03-14"))
    assert response.context["form"].errors == {"end_date": ["The exclusion cannot end before it starts."]}
    assert 'data-testid="field-error">The exclusion cannot end before it starts.' in response.content.decode()
    assert not Exclusion.objects.exists()


def test_a_service_level_of_another_contract_is_refused_by_name(client, manager, contract):
    foreign = ServiceLevelFactory(contract=ContractFactory(reference="EXC-C", owner=manager), code="CSL-9")
    client.force_login(manager)

    response = client.post(PROPOSE, proposal_data(contract, service_levels=[foreign.pk]))

    assert response.status_code == 200
    assert "EXC-C CSL-9" in response.context["form"].errors["service_levels"][0]
    assert not Exclusion.objects.exists()


def test_a_vendor_manager_cannot_propose_for_another_managers_contract(client, manager, other_contract):
    client.force_login(manager)

    response = client.post(PROPOSE, proposal_data(other_contract))

    assert response.status_code == 200
    assert "contract" in response.context["form"].errors
    assert not Exclusion.objects.exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.COMMITTEE_MEMBER])
def test_roles_that_read_cannot_propose(client, role, contract):
    client.force_login(UserFactory(role=role))

    assert client.get(PROPOSE).status_code == 403
    assert client.post(PROPOSE, proposal_data(contract)).status_code == 403
    assert not Exclusion.objects.exists()


# An exclusion's page -------------------------------------------------------------------------------------


def test_the_page_shows_the_proposal_and_its_history(client, procurement, manager, contract):
    level = ServiceLevelFactory(contract=contract, code="CSL-1", name="Calls answered in 20 s")
    client.force_login(manager)
    client.post(PROPOSE, proposal_data(contract, service_levels=[level.pk]))
    exclusion = Exclusion.objects.get()
    api = APIClient()
    api.force_authenticate(manager)
    edited = api.patch(f"/api/v1/exclusions/{exclusion.pk}/", {"description": "Flood, not a storm."}, format="json")
    assert edited.status_code == 200, edited.content
    decide_exclusion(exclusion_id=exclusion.pk, actor=procurement, approve=True)
    client.force_login(procurement)

    response = client.get(detail(exclusion))

    history = response.context["history"]
    assert [(entry["key"], entry["who"]) for entry in history] == [
        ("proposed", manager),
        ("changed", manager),
        ("approved", procurement),
    ]
    assert history[1]["fields"] == ["description"]
    page = response.content.decode()
    assert "Flood, not a storm." in page
    assert "CSL-1</span> – Calls answered in 20 s" in page
    assert 'data-status="approved">Approved</span>' in page
    assert "The decision is final: a correction is a new proposal." in page
    assert 'data-testid="exclusion-actions"' not in page


def test_the_history_lists_each_change_of_the_service_levels_once_with_the_levels_before_and_after(
    client, procurement, manager, contract
):
    first = ServiceLevelFactory(contract=contract, code="CSL-1")
    second = ServiceLevelFactory(contract=contract, code="CSL-2")
    third = ServiceLevelFactory(contract=contract, code="CSL-3")
    client.force_login(manager)
    client.post(PROPOSE, proposal_data(contract, service_levels=[first.pk, second.pk]))
    exclusion = Exclusion.objects.get()
    api = APIClient()
    api.force_authenticate(manager)
    url = f"/api/v1/exclusions/{exclusion.pk}/"
    assert api.patch(url, {"service_levels": [second.pk, third.pk]}, format="json").status_code == 200
    assert api.patch(url, {"service_levels": [], "description": "Flood."}, format="json").status_code == 200
    client.force_login(procurement)

    response = client.get(detail(exclusion))

    changes = [entry for entry in response.context["history"] if entry["key"] == "changed"]
    assert [(entry["fields"], entry["service_levels"]) for entry in changes] == [
        (["service levels"], {"before": "CSL-1, CSL-2", "after": "CSL-2, CSL-3"}),
        (["description", "service levels"], {"before": "CSL-2, CSL-3", "after": "every service level of the contract"}),
    ]
    assert "Applies to CSL-2, CSL-3 (before: CSL-1, CSL-2)" in response.content.decode()


def test_a_proposal_changed_without_touching_its_service_levels_lists_no_change_of_them(client, manager, contract):
    level = ServiceLevelFactory(contract=contract)
    client.force_login(manager)
    client.post(PROPOSE, proposal_data(contract, service_levels=[level.pk]))
    exclusion = Exclusion.objects.get()
    api = APIClient()
    api.force_authenticate(manager)
    assert api.patch(f"/api/v1/exclusions/{exclusion.pk}/", {"description": "Flood."}, format="json").status_code == 200

    history = client.get(detail(exclusion)).context["history"]

    assert [entry.get("fields") for entry in history if entry["key"] == "changed"] == [["description"]]


def test_procurement_is_offered_approve_and_reject_and_the_proposer_withdraw(client, procurement, manager, contract):
    exclusion = in_march(contract, requested_by=manager)

    client.force_login(procurement)
    assert [name for name, _spec in client.get(detail(exclusion)).context["decisions"]] == ["approve", "reject"]
    client.force_login(manager)
    response = client.get(detail(exclusion))
    assert [name for name, _spec in response.context["decisions"]] == ["withdraw"]
    assert "You proposed this exclusion: procurement approves or rejects it." in response.content.decode()
    client.force_login(UserFactory(role=Role.VENDOR_MANAGER))  # sees nothing of another manager's contract
    assert client.get(detail(exclusion)).status_code == 404


def test_the_page_lists_the_statements_of_the_exclusions_days(client, procurement, contract):
    statement = make_statement(contract=contract)
    make_statement(contract=contract, month=datetime.date(2025, 5, 1))
    exclusion = in_march(contract)
    client.force_login(procurement)

    response = client.get(detail(exclusion))

    assert response.context["statements"] == [statement]


def test_the_page_takes_a_fixed_number_of_queries(client, procurement, contract, count_queries):
    exclusion = in_march(contract, service_levels=[ServiceLevelFactory(contract=contract)])
    client.force_login(procurement)
    few = count_queries(client, detail(exclusion))

    exclusion.service_levels.add(*[ServiceLevelFactory(contract=contract) for _index in range(3)])
    for index in range(3):
        exclusion.description = f"Edit {index}"
        exclusion.save()
    make_statement(contract=contract)

    assert count_queries(client, detail(exclusion)) == few


# Decisions -----------------------------------------------------------------------------------------------


def test_a_decision_asks_for_confirmation_before_changing_anything(client, procurement, contract):
    exclusion = in_march(contract)
    client.force_login(procurement)

    response = client.get(decision(exclusion, "approve"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Confirm: Approve" in page
    assert "Regional power outage closed the Casablanca site." in page
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.PROPOSED


def test_procurement_approves_a_proposal_and_the_open_statement_is_recomputed(
    client, procurement, django_capture_on_commit_callbacks
):
    """DOMAIN example 11 (days 14 and 15 excused), proposed and approved through the pages."""
    contract = seed_scenario(scenario_json("ex11_excluded_days"))
    Exclusion.objects.filter(contract=contract).delete()
    close(contract, "2026-04")
    before = figures(contract)
    reference = seed_scenario(scenario_json("ex11_excluded_days"))
    close(reference, "2026-04")
    client.force_login(contract.owner)
    client.post(
        PROPOSE,
        proposal_data(contract, start_date="2026-04-14", end_date="2026-04-15", description="Regional power outage."),
    )
    exclusion = Exclusion.objects.get(contract=contract)
    assert figures(contract) == before  # a proposal changes nothing
    client.force_login(procurement)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(decision(exclusion, "approve"))

    assert response.status_code == 302
    assert response.url == detail(exclusion)
    exclusion.refresh_from_db()
    assert (exclusion.status, exclusion.decided_by) == (ApprovalStatus.APPROVED, procurement)
    assert figures(contract) == figures(reference) != before
    statement = PenaltyStatement.objects.get(contract=contract)
    assert statement.events.filter(action=StatementAction.RECOMPUTED).count() == 1
    page = client.get(response.url).content.decode()
    assert "The exclusion was approved: the contract&#x27;s open statements are being recomputed." in page


def test_who_proposed_an_exclusion_is_shown_the_refusal_of_its_approval(client, procurement, contract):
    exclusion = in_march(contract, requested_by=procurement)
    client.force_login(procurement)

    assert "someone else approves it. Until then you may withdraw it." in client.get(detail(exclusion)).content.decode()
    response = client.post(decision(exclusion, "approve"))

    assert response.status_code == 200
    assert "An exclusion is approved by someone other than who proposed it." in response.content.decode()
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.PROPOSED


def test_procurement_rejects_a_proposal_with_its_reason(client, procurement, contract):
    exclusion = in_march(contract)
    client.force_login(procurement)

    without_reason = client.post(decision(exclusion, "reject"), {"note": "  "})
    assert without_reason.status_code == 200
    assert without_reason.context["form"].errors == {"note": ["This field is required."]}
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.PROPOSED

    response = client.post(decision(exclusion, "reject"), {"note": "The outage was on the vendor's own network."})

    assert response.status_code == 302
    exclusion.refresh_from_db()
    assert (exclusion.status, exclusion.decided_by, exclusion.decision_note) == (
        ApprovalStatus.REJECTED,
        procurement,
        "The outage was on the vendor's own network.",
    )
    page = client.get(response.url).content.decode()
    assert "The exclusion was rejected." in page
    assert "The outage was on the vendor&#x27;s own network." in page


def test_a_decided_exclusion_shows_the_refusal_of_a_second_decision(client, procurement, contract):
    exclusion = in_march(contract, approved=True)
    client.force_login(procurement)

    response = client.post(decision(exclusion, "reject"), {"note": "Too late."})

    assert response.status_code == 200
    assert "This exclusion is already decided (approved): propose a new one to change it." in (
        response.content.decode()
    )
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.APPROVED


def test_the_proposer_withdraws_their_proposal_and_it_shows_as_withdrawn(client, manager, contract):
    exclusion = in_march(contract, requested_by=manager)
    client.force_login(manager)

    response = client.post(decision(exclusion, "withdraw"))

    assert response.status_code == 302
    exclusion.refresh_from_db()
    assert (exclusion.status, exclusion.decided_by) == (ApprovalStatus.WITHDRAWN, manager)
    page = client.get(response.url)
    assert "Your proposal was withdrawn." in page.content.decode()
    assert 'data-status="withdrawn">Withdrawn</span>' in page.content.decode()
    assert page.context["history"][-1]["key"] == "withdrawn"


def test_someone_else_is_shown_the_refusal_of_a_withdrawal(client, manager, contract):
    exclusion = in_march(contract)  # proposed by another user
    client.force_login(manager)

    response = client.post(decision(exclusion, "withdraw"))

    assert response.status_code == 200
    assert "Only who proposed an exclusion may withdraw it." in response.content.decode()
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.PROPOSED


@pytest.mark.parametrize("name", ["approve", "reject"])
def test_a_vendor_manager_does_not_decide(client, manager, contract, name):
    exclusion = in_march(contract)
    client.force_login(manager)

    assert client.get(decision(exclusion, name)).status_code == 403
    assert client.post(decision(exclusion, name)).status_code == 403
    exclusion.refresh_from_db()
    assert exclusion.status == ApprovalStatus.PROPOSED


def test_an_unknown_decision_or_another_contracts_exclusion_is_not_found(client, manager, contract, other_contract):
    client.force_login(manager)

    assert client.get(decision(in_march(contract), "cancel")).status_code == 404
    assert client.post(decision(in_march(other_contract), "withdraw")).status_code == 404


# The statement page --------------------------------------------------------------------------------------


def test_the_statement_page_lists_the_months_proposed_and_approved_exclusions_with_links(
    client, procurement, contract, other_contract
):
    statement = make_statement(contract=contract)
    approved = in_march(contract, approved=True, description="Carrier outage")
    proposed = in_march(contract, description="Flooded site")
    april = ExclusionFactory(
        contract=contract, start_date=datetime.date(2025, 4, 2), end_date=datetime.date(2025, 4, 2), description="Apr"
    )
    elsewhere = in_march(other_contract, description="Elsewhere")
    client.force_login(procurement)

    response = client.get(reverse("sla_tracker:statement", args=[statement.pk]))

    assert [exclusion.pk for exclusion in response.context["exclusions"]] == [approved.pk]
    assert [exclusion.pk for exclusion in response.context["exclusion_proposals"]] == [proposed.pk]
    page = response.content.decode()
    assert f'href="{detail(approved)}"' in page
    assert f'href="{detail(proposed)}"' in page
    assert f'href="{detail(april)}"' not in page and f'href="{detail(elsewhere)}"' not in page
    assert f'href="{LIST}?contract={contract.pk}&amp;month=2025-03"' in page
    assert f'href="{PROPOSE}?statement={statement.pk}"' in page


def test_a_vendor_user_sees_the_months_approved_exclusions_but_no_proposal(client, contract):
    statement = make_statement(contract=contract)
    approved = in_march(contract, approved=True, description="Carrier outage")
    proposed = in_march(contract, description="Flooded site")
    client.force_login(VendorUserFactory(vendor=contract.vendor))

    page = client.get(reverse("sla_tracker:statement", args=[statement.pk])).content.decode()

    assert f'href="{detail(approved)}"' in page
    assert f'href="{detail(proposed)}"' not in page
    assert "Flooded site" not in page
    assert 'data-testid="propose-exclusion"' not in page


# The statement's confirmations ---------------------------------------------------------------------------


def complete_the_month(statement) -> None:
    """A whole-month value for every counter the month expects: its data is complete."""
    key = (statement.contract_id, statement.month)
    reader = UserFactory(procurement=True)
    month = completeness(reader, [statement.contract], [statement.month], timezone.localdate())[key]
    codes = [counter.code for counter in month.counters]
    assert codes
    for code in codes:
        MeasurementFactory(contract=statement.contract, counter=KpiCounterFactory(code=code), day=None, month=MONTH)


def warnings_of(response) -> dict[str, dict]:
    return {warning["key"]: warning for warning in response.context["warnings"]}


def test_approving_warns_of_undecided_proposals_and_incomplete_data_but_does_not_block(client, procurement, contract):
    statement = make_statement(contract=contract)
    in_march(contract)
    in_march(contract)
    url = reverse("sla_tracker:statement-action", args=[statement.pk, "approve"])
    client.force_login(procurement)

    response = client.get(url)

    warnings = warnings_of(response)
    assert set(warnings) == {"undecided-exclusions", "incomplete-data"}
    assert warnings["undecided-exclusions"]["text"].startswith(
        "2 exclusion proposals for days of March 2025 are still undecided: approved after this statement"
    )
    assert warnings["undecided-exclusions"]["url"] == f"{LIST}?contract={contract.pk}&month=2025-03&status=proposed"
    assert warnings["incomplete-data"]["text"].startswith(
        "The KPI data of March 2025 is 0 % complete; days are missing"
    )
    assert warnings["incomplete-data"]["url"] == reverse("sla_tracker:kpi-grid", args=[contract.pk, "2025-03"])
    assert 'data-testid="action-warnings"' in response.content.decode()

    assert client.post(url).status_code == 302
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED


def test_approving_warns_that_earlier_months_are_still_open_but_does_not_block(client, procurement, contract):
    statement = make_statement(contract=contract)
    complete_the_month(statement)
    january = make_statement(contract=contract, month=datetime.date(2025, 1, 1), status=StatementStatus.DISPUTED)
    make_statement(contract=contract, month=datetime.date(2025, 2, 1), status=StatementStatus.DRAFT)
    PenaltyStatementFactory(contract=contract, month=datetime.date(2024, 12, 1), approved=True)
    url = reverse("sla_tracker:statement-action", args=[statement.pk, "approve"])
    client.force_login(procurement)

    warnings = warnings_of(client.get(url))

    assert list(warnings) == ["earlier-months-open"]
    assert warnings["earlier-months-open"]["text"] == (
        "Earlier months are still open (January 2025, February 2025): a change to them reaches this month, once "
        "approved, only through an adjustment in a later statement."
    )
    assert warnings["earlier-months-open"]["url"] == reverse("sla_tracker:statement", args=[january.pk])
    assert client.post(url).status_code == 302
    statement.refresh_from_db()
    assert statement.status == StatementStatus.APPROVED


def test_submitting_does_not_warn_of_earlier_open_months(client, manager, contract):
    statement = make_statement(contract=contract, status=StatementStatus.DRAFT)
    complete_the_month(statement)
    make_statement(contract=contract, month=datetime.date(2025, 1, 1), status=StatementStatus.IN_REVIEW)
    client.force_login(manager)

    response = client.get(reverse("sla_tracker:statement-action", args=[statement.pk, "submit"]))

    assert warnings_of(response) == {}


def test_submitting_warns_of_an_undecided_proposal(client, manager, contract):
    statement = make_statement(contract=contract, status=StatementStatus.DRAFT)
    complete_the_month(statement)
    in_march(contract)
    client.force_login(manager)

    response = client.get(reverse("sla_tracker:statement-action", args=[statement.pk, "submit"]))

    assert list(warnings_of(response)) == ["undecided-exclusions"]
    assert warnings_of(response)["undecided-exclusions"]["text"] == (
        "1 exclusion proposal for days of March 2025 is still undecided: if it is approved, the statement is "
        "recomputed."
    )


def test_a_month_with_complete_data_and_no_proposal_gives_no_warning(client, procurement, contract):
    statement = make_statement(contract=contract)
    complete_the_month(statement)
    in_march(contract, approved=True)
    ExclusionFactory(contract=contract, start_date=datetime.date(2025, 4, 1), end_date=datetime.date(2025, 4, 1))
    client.force_login(procurement)

    response = client.get(reverse("sla_tracker:statement-action", args=[statement.pk, "approve"]))

    assert response.context["warnings"] == []
    assert 'data-testid="action-warnings"' not in response.content.decode()


def test_other_statement_actions_give_no_warning(client, procurement, contract):
    statement = make_statement(contract=contract)
    approve_statement(statement_id=statement.pk, actor=procurement)
    in_march(contract)
    client.force_login(procurement)

    response = client.get(reverse("sla_tracker:statement-action", args=[statement.pk, "reopen"]))

    assert response.context["warnings"] == []


# The home page -------------------------------------------------------------------------------------------


def test_procurements_home_lists_the_proposals_waiting_for_its_decision(client, procurement, contract):
    waiting = in_march(contract)
    in_march(contract, approved=True)
    own = in_march(contract, requested_by=procurement)  # someone else decides it
    client.force_login(procurement)

    response = client.get(reverse("accounts:home"))

    assert [exclusion.pk for exclusion in response.context["exclusions_awaiting"]] == [waiting.pk]
    page = response.content.decode()
    assert "Exclusions waiting for your decision" in page
    assert f'href="{detail(waiting)}"' in page
    assert f'href="{detail(own)}"' not in page
    assert f'href="{LIST}?status=proposed"' in page


def test_the_home_panel_shows_the_oldest_ten_and_says_how_many_wait(client, procurement, contract):
    for _index in range(12):
        in_march(contract)
    client.force_login(procurement)

    response = client.get(reverse("accounts:home"))

    assert len(response.context["exclusions_awaiting"]) == 10
    assert "The oldest 10 of 12." in response.content.decode()


def test_who_does_not_decide_has_no_home_panel(client, manager, contract):
    in_march(contract)
    client.force_login(manager)

    response = client.get(reverse("accounts:home"))

    assert response.context["exclusions_awaiting"] == []
    assert "Exclusions waiting for your decision" not in response.content.decode()


def test_in_the_back_office_a_proposal_is_changed_by_its_proposer_only(client, manager, contract):
    """As in the API: a reviewer who could rewrite a proposal could approve what no one else proposed."""
    proposal = in_march(contract, requested_by=manager)
    url = reverse("admin:sla_tracker_exclusion_change", args=[proposal.pk])
    procurement = UserFactory(procurement=True, is_staff=True)
    edited = {
        "contract": contract.pk,
        "start_date": "2025-03-01",
        "end_date": "2025-03-31",
        "reason": proposal.reason,
        "description": "All month.",
    }

    client.force_login(procurement)
    refused = client.post(url, edited)

    assert refused.status_code == 403
    proposal.refresh_from_db()
    assert (proposal.start_date, proposal.end_date) == (datetime.date(2025, 3, 14), datetime.date(2025, 3, 15))
