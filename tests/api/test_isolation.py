"""Every endpoint × every role × own / other vendor's object: who reads, who writes, and 404 outside scope.

A vendor user (and every internal role but administrators and procurement) must not learn that
another vendor's object exists: outside their scope every method answers 404, never 403.

Writes follow the role's model permissions, except on a committee's record (meetings, decisions, action
items): there an administrator or a customer-side member of the row's committee writes, whatever the role
(governance.permissions). Of the users in tests.api.conftest, the committee member sits on the first
world's committee on the customer's side and the vendor user on its vendor's side; nobody else sits on it.
"""

import pytest

from accounts.choices import Role
from accounts.roles import ROLE_PERMISSIONS
from governance.models import CommitteeMember, Meeting
from sla_tracker.models import KpiCounter
from tests import factories as f
from tests.api.conftest import ROLES
from tests.api.endpoints import ENDPOINTS, detail_url, list_url
from tests.factories import NEXT_YEAR
from tests.governance.helpers import held_with_quorum

pytestmark = pytest.mark.django_db

SEES_BOTH_VENDORS = {Role.ADMINISTRATOR, Role.PROCUREMENT}
WRITABLE = [endpoint for endpoint in ENDPOINTS if endpoint.app]


def row(world: dict, endpoint):
    if endpoint.label == "sla_tracker.KpiCounter":
        return KpiCounter.objects.get(code=world["sla_tracker.ServiceLevelVersion"].numerator[0])
    return world[endpoint.label]


def visible(role: str, endpoint, whose: str) -> bool:
    if role == Role.VENDOR_USER and endpoint.label == "sla_tracker.Exclusion":
        return False  # the worlds' exclusion is a proposal: the customer's deliberation until approved
    if role == Role.VENDOR_USER and endpoint.label == "sla_tracker.Measurement":
        return False  # the worlds' contracts are not self-reporting: the customer logs their data (below)
    if role == Role.VENDOR_USER and endpoint.label in ("sla_tracker.CloseRefusal", "audits.Audit"):
        return False  # a refused close, an audit record: the customer's own operations, never shown to the vendor
    return endpoint.shared or whose == "own" or role in SEES_BOTH_VENDORS


def may_change(role: str, app: str) -> bool:
    return role == Role.ADMINISTRATOR or "change" in ROLE_PERMISSIONS.get(role, {}).get(app, ())


def keeps_the_record_of(user, meeting: Meeting) -> bool:
    """An administrator, or a member of the meeting's committee who is not a vendor's user."""
    if user.role == Role.ADMINISTRATOR:
        return True
    return not user.is_vendor_user and CommitteeMember.objects.filter(committee=meeting.committee, user=user).exists()


def logs_kpis_for(user, contract) -> bool:
    """Who logs KPI data: administrators and vendor managers, and a vendor's users where the contract lets
    the vendor report its own data; whatever the role's model permissions (procurement reviews, not logs)."""
    if user.role in (Role.ADMINISTRATOR, Role.VENDOR_MANAGER):
        return True
    return user.role == Role.VENDOR_USER and contract.vendor_self_reporting


def may_write(user, endpoint, obj) -> bool:
    if endpoint.record:
        return keeps_the_record_of(user, obj if isinstance(obj, Meeting) else obj.meeting)
    if endpoint.label == "governance.Committee":  # its terms are changed by those who keep its record
        if user.role == Role.ADMINISTRATOR:
            return True
        return not user.is_vendor_user and CommitteeMember.objects.filter(committee=obj, user=user).exists()
    if endpoint.label == "sla_tracker.Measurement":
        return logs_kpis_for(user, obj.contract)
    if endpoint.label == "sla_tracker.Exclusion":  # a proposal is changed by its proposer only
        return may_change(user.role, endpoint.app) and obj.requested_by == user
    return may_change(user.role, endpoint.app)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_list_shows_the_rows_in_the_users_scope_only(worlds, users, client_for, endpoint, role):
    mine, theirs = worlds
    response = client_for(users[role]).get(list_url(endpoint), {"page_size": 200})
    assert response.status_code == 200, response.content
    ids = {item["id"] for item in response.json()["results"]}
    assert (row(mine, endpoint).pk in ids) == visible(role, endpoint, "own")
    assert (row(theirs, endpoint).pk in ids) == visible(role, endpoint, "other")


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_a_detail_is_200_in_scope_and_404_outside(worlds, users, client_for, endpoint, role, whose):
    obj = row(worlds[0] if whose == "own" else worlds[1], endpoint)
    response = client_for(users[role]).get(detail_url(endpoint, obj))
    expected = 200 if visible(role, endpoint, whose) else 404
    assert response.status_code == expected, response.content
    if expected == 404:
        assert response.json() == {"type": "not_found", "detail": "Not found."}


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", WRITABLE, ids=str)
def test_a_change_is_404_outside_scope_403_when_refused_and_200_when_allowed(
    worlds, users, client_for, endpoint, role, whose
):
    obj = row(worlds[0] if whose == "own" else worlds[1], endpoint)
    response = client_for(users[role]).patch(detail_url(endpoint, obj), {}, format="json")
    expected = 200 if may_write(users[role], endpoint, obj) else 403
    if not visible(role, endpoint, whose):
        expected = 404
    assert response.status_code == expected, response.content
    if expected == 403:
        assert response.json()["type"] == "permission_denied"


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if not e.app], ids=str)
def test_statements_lines_and_disputes_are_not_written_directly(worlds, users, client_for, endpoint):
    obj = row(worlds[0], endpoint)
    client = client_for(users[Role.ADMINISTRATOR])
    assert client.patch(detail_url(endpoint, obj), {"status": "approved"}, format="json").status_code == 405
    assert client.post(list_url(endpoint), {}, format="json").status_code == 405


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if not e.deletable], ids=str)
def test_nothing_is_deleted_through_the_api(worlds, users, client_for, endpoint):
    response = client_for(users[Role.ADMINISTRATOR]).delete(detail_url(endpoint, row(worlds[0], endpoint)))
    assert response.status_code == 405
    assert response.json()["type"] == "method_not_allowed"


@pytest.mark.parametrize("whose", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.deletable], ids=str)
def test_a_delete_is_404_outside_scope_403_without_the_permission_and_204_with_it(
    worlds, users, client_for, endpoint, role, whose
):
    obj = row(worlds[0] if whose == "own" else worlds[1], endpoint)
    response = client_for(users[role]).delete(detail_url(endpoint, obj))
    expected = 204 if may_write(users[role], endpoint, obj) else 403
    if not visible(role, endpoint, whose):
        expected = 404
    assert response.status_code == expected, response.content
    assert type(obj).objects.filter(pk=obj.pk).exists() == (expected != 204)


def test_an_anonymous_request_is_401_with_the_error_shape(worlds):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/contracts/")
    assert response.status_code == 401
    assert response.json() == {
        "type": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }


# Creates: (role, endpoint, payload from the first world) → status. "other" payloads point at the
# second world: a parent outside the scope is refused like an unknown id (400), never created. On a
# committee's record a parent in scope is refused (403) to whoever does not keep that committee's record,
# whatever their role's permissions.
def _service_level(world):
    return {"contract": world["contracts.Contract"].pk, "code": "CSL-NEW", "name": "First contact resolution"}


def _exclusion(world):
    return {
        "contract": world["contracts.Contract"].pk,
        "start_date": "2025-03-03",
        "end_date": "2025-03-04",
        "reason": "third_party",
        "description": "National carrier outage.",
    }


def _incident(world):
    return {
        "contract": world["contracts.Contract"].pk,
        "title": "Chat platform outage",
        "occurred_on": "2025-03-05",
        "service_levels": [world["sla_tracker.ServiceLevel"].pk],
    }


def _meeting(world):
    return {
        "committee": world["governance.Committee"].pk,
        "scheduled_for": f"{NEXT_YEAR}-03-02T10:00:00Z",
        "location": "Lille",
    }


def _decision(world):
    held_with_quorum(world["governance.Meeting"])  # a meeting decides once held with its quorum
    return {"meeting": world["governance.Meeting"].pk, "text": "Adopt the recovery plan."}


def _action_item(world):
    held_with_quorum(world["governance.Meeting"])  # a meeting's action items are recorded once it is held
    return {
        "meeting": world["governance.Meeting"].pk,
        "title": "Share the staffing plan",
        "owner_contact": world["contracts.VendorContact"].pk,
        "due_date": "2999-12-31",
    }


def _finding_action_item(world):
    """An action item of an audit finding alone: no committee's record; those who follow findings up decide."""
    return {**_action_item(world), "meeting": None, "finding": world["audits.Finding"].pk}


def _finding(world):
    return {
        "audit": world["audits.Audit"].pk,
        "title": "Abandon threshold misconfigured",
        "severity": "high",
        "description": "Short abandons counted from 10 s.",
    }


def _vendor(world):
    return {"name": "Nova Contact", "country": "PT"}


def _measurement(world):
    counter = KpiCounter.objects.get(code="answered")
    return {"contract": world["contracts.Contract"].pk, "counter": counter.pk, "day": "2025-03-10", "value": "1200"}


CREATES = [
    (Role.ADMINISTRATOR, "vendors", _vendor, "own", 201),
    (Role.VENDOR_MANAGER, "vendors", _vendor, "own", 201),
    (Role.PROCUREMENT, "vendors", _vendor, "own", 403),
    (Role.VENDOR_USER, "vendors", _vendor, "own", 403),
    (Role.VENDOR_MANAGER, "service-levels", _service_level, "own", 201),
    (Role.VENDOR_MANAGER, "service-levels", _service_level, "other", 400),
    (Role.ADMINISTRATOR, "service-levels", _service_level, "other", 201),
    (Role.AUDITOR, "service-levels", _service_level, "own", 403),
    (Role.VENDOR_USER, "service-levels", _service_level, "own", 403),
    (Role.VENDOR_MANAGER, "measurements", _measurement, "own", 201),
    (Role.VENDOR_MANAGER, "measurements", _measurement, "other", 400),
    (Role.VENDOR_USER, "measurements", _measurement, "own", 403),
    (Role.VENDOR_MANAGER, "exclusions", _exclusion, "own", 201),
    (Role.VENDOR_MANAGER, "exclusions", _exclusion, "other", 400),
    (Role.COMMITTEE_MEMBER, "exclusions", _exclusion, "own", 403),
    (Role.VENDOR_MANAGER, "incidents", _incident, "own", 201),
    (Role.VENDOR_USER, "incidents", _incident, "own", 403),
    (Role.COMMITTEE_MEMBER, "meetings", _meeting, "own", 201),
    (Role.COMMITTEE_MEMBER, "meetings", _meeting, "other", 400),
    (Role.VENDOR_MANAGER, "meetings", _meeting, "own", 403),
    (Role.VENDOR_MANAGER, "meetings", _meeting, "other", 400),
    (Role.PROCUREMENT, "meetings", _meeting, "other", 403),
    (Role.ADMINISTRATOR, "meetings", _meeting, "other", 201),
    (Role.VENDOR_USER, "meetings", _meeting, "own", 403),
    (Role.COMMITTEE_MEMBER, "decisions", _decision, "own", 201),
    (Role.COMMITTEE_MEMBER, "decisions", _decision, "other", 400),
    (Role.VENDOR_MANAGER, "decisions", _decision, "own", 403),
    (Role.VENDOR_MANAGER, "decisions", _decision, "other", 400),
    (Role.PROCUREMENT, "decisions", _decision, "other", 403),
    (Role.ADMINISTRATOR, "decisions", _decision, "other", 201),
    (Role.AUDITOR, "decisions", _decision, "own", 403),
    (Role.COMMITTEE_MEMBER, "action-items", _action_item, "own", 201),
    (Role.COMMITTEE_MEMBER, "action-items", _action_item, "other", 400),
    (Role.VENDOR_MANAGER, "action-items", _action_item, "own", 403),
    (Role.PROCUREMENT, "action-items", _action_item, "own", 403),
    (Role.VENDOR_USER, "action-items", _action_item, "own", 403),
    (Role.AUDITOR, "action-items", _finding_action_item, "own", 201),
    (Role.AUDITOR, "action-items", _finding_action_item, "other", 400),
    (Role.VENDOR_MANAGER, "action-items", _finding_action_item, "own", 403),
    (Role.PROCUREMENT, "action-items", _finding_action_item, "own", 403),
    (Role.VENDOR_USER, "action-items", _finding_action_item, "own", 403),
    (Role.AUDITOR, "findings", _finding, "own", 201),
    (Role.AUDITOR, "findings", _finding, "other", 400),
    (Role.VENDOR_MANAGER, "findings", _finding, "own", 403),
    (Role.VENDOR_USER, "findings", _finding, "own", 403),
]


@pytest.mark.parametrize(("role", "prefix", "payload", "whose", "expected"), CREATES)
def test_creates_follow_the_role_and_the_scope(worlds, users, client_for, role, prefix, payload, whose, expected):
    world = worlds[0] if whose == "own" else worlds[1]
    response = client_for(users[role]).post(f"/api/v1/{prefix}/", payload(world), format="json")
    assert response.status_code == expected, response.content
    if expected == 400:
        assert response.json()["type"] == "validation_error"


def test_the_server_sets_who_created_a_row(worlds, users, client_for):
    manager = users[Role.VENDOR_MANAGER]
    response = client_for(manager).post("/api/v1/incidents/", _incident(worlds[0]), format="json")
    assert response.status_code == 201
    assert response.json()["created_by"] == manager.pk
    assert response.json()["month"] == "2025-03-01"


def test_a_database_constraint_is_a_400_not_a_500(worlds, users, client_for):
    payload = {**_exclusion(worlds[0]), "end_date": "2025-03-01"}
    response = client_for(users[Role.VENDOR_MANAGER]).post("/api/v1/exclusions/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


# KPI data: a vendor's users read it where they log it, the contracts that let the vendor report its own
# data (accounts.scoping, as the KPI pages and the back office); another contract of their own vendor is
# the customer's data, which answers 404 like another vendor's.


@pytest.fixture
def kpi_worlds(worlds, users):
    """The first world's vendor with a second, self-reporting contract, and a value in each contract."""
    mine, theirs = worlds
    customer_logged = mine["sla_tracker.Measurement"]
    reporting = f.ContractFactory(vendor=mine["contracts.Vendor"], vendor_self_reporting=True)
    vendor_logged = f.MeasurementFactory(contract=reporting, counter=customer_logged.counter)
    return {"customer_logged": customer_logged, "vendor_logged": vendor_logged, "theirs": theirs}


def _listed(client, **filters) -> set[int]:
    response = client.get("/api/v1/measurements/", {"page_size": 200, **filters})
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_a_vendor_user_lists_the_kpi_data_of_their_self_reporting_contracts_only(kpi_worlds, users, client_for):
    client = client_for(users[Role.VENDOR_USER])
    assert _listed(client) == {kpi_worlds["vendor_logged"].pk}


def test_a_vendor_user_reads_a_value_of_a_self_reporting_contract_and_gets_404_for_the_customers_data(
    kpi_worlds, users, client_for
):
    client = client_for(users[Role.VENDOR_USER])
    assert client.get(f"/api/v1/measurements/{kpi_worlds['vendor_logged'].pk}/").status_code == 200
    hidden = client.get(f"/api/v1/measurements/{kpi_worlds['customer_logged'].pk}/")
    assert hidden.status_code == 404
    assert hidden.json() == {"type": "not_found", "detail": "Not found."}
    assert (
        client.patch(f"/api/v1/measurements/{kpi_worlds['customer_logged'].pk}/", {}, format="json").status_code == 404
    )
    assert client.delete(f"/api/v1/measurements/{kpi_worlds['customer_logged'].pk}/").status_code == 404


def test_no_filter_opens_a_vendor_user_the_kpi_data_of_a_contract_their_vendor_does_not_report_for(
    kpi_worlds, users, client_for
):
    client = client_for(users[Role.VENDOR_USER])
    customer_logged, vendor_logged = kpi_worlds["customer_logged"], kpi_worlds["vendor_logged"]
    assert _listed(client, contract=customer_logged.contract_id) == set()
    assert _listed(client, contract=vendor_logged.contract_id) == {vendor_logged.pk}
    assert _listed(client, vendor=customer_logged.contract.vendor_id) == {vendor_logged.pk}
    assert _listed(client, counter=customer_logged.counter.code) == {vendor_logged.pk}
    assert _listed(client, day_after=customer_logged.day.isoformat(), day_before=customer_logged.day.isoformat()) == (
        {vendor_logged.pk} if vendor_logged.day == customer_logged.day else set()
    )
    assert _listed(client, q=customer_logged.counter.code) == {vendor_logged.pk}


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.PROCUREMENT, Role.VENDOR_MANAGER, Role.AUDITOR])
def test_internal_roles_read_the_kpi_data_of_every_contract_they_see_whoever_logs_it(
    kpi_worlds, users, client_for, role
):
    customer_logged, vendor_logged = kpi_worlds["customer_logged"], kpi_worlds["vendor_logged"]
    if role in (Role.VENDOR_MANAGER, Role.AUDITOR):  # scoped to the first world's contract
        vendor_logged.contract.owner = users[Role.VENDOR_MANAGER]
        vendor_logged.contract.save(update_fields=["owner"])
        vendor_logged.contract.auditors.add(users[Role.AUDITOR])
    listed = _listed(client_for(users[role]))
    assert {customer_logged.pk, vendor_logged.pk} <= listed
    assert (kpi_worlds["theirs"]["sla_tracker.Measurement"].pk in listed) == (role in SEES_BOTH_VENDORS)
