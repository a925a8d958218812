"""Hidden objects stay hidden on every web page: an object a user may not see (accounts.scoping) answers 404
to a GET and to a POST alike, for every page that takes an object's id, and nothing is written.

A 403 (or a 302, a 200…) for an object the user may not see, where an unknown id answers 404, tells the user
that the object exists: the page must look the object up among those the user sees before any permission
check. A page that refuses the user's role whatever the id (a 403 or 405 before any lookup: the same answer as
for an id that does not exist) tells nothing about the object and is accepted.

The pages are enumerated from the URL configuration, so a new page with an object id fails here until it is
mapped to the object its view looks up (OBJECT_OF_URL) or allow-listed with a reason (NOT_OBJECT_URLS).
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from audits import views as audit_views
from contracts import views as contract_views
from governance import views as governance_views
from sla_tracker import views as statement_views
from sla_tracker import views_exclusions
from sla_tracker.choices import LineStatus, StatementStatus
from tests.factories import (
    ActionItemFactory,
    AdjustmentDisputeFactory,
    AgendaItemFactory,
    AuditFactory,
    AuditRightFactory,
    CommitteeFactory,
    CommitteeMemberFactory,
    ContractFactory,
    DecisionFactory,
    ExclusionFactory,
    FindingFactory,
    KpiUploadFactory,
    LineDisputeFactory,
    MeetingFactory,
    PenaltyStatementFactory,
    StatementAdjustmentFactory,
    StatementLineFactory,
    UserFactory,
    VendorFactory,
    VendorUserFactory,
)

pytestmark = pytest.mark.django_db

# The web apps' namespaces (the admin, the REST API and static files are not web pages of the product).
WEB_NAMESPACES = ("sla_tracker", "contracts", "governance", "audits", "accounts", "notifications")

# The object each page's view looks up by its id (its `pk`): a key of the `world` fixture.
OBJECT_OF_URL = {
    "contracts:detail": "contract",
    "contracts:decision": "contract",
    "sla_tracker:statement": "statement",
    "sla_tracker:statement-export": "statement",
    "sla_tracker:statement-action": "statement",
    "sla_tracker:line-waive": "line",
    "sla_tracker:line-withdraw-waiver": "line",
    "sla_tracker:line-dispute": "line",
    "sla_tracker:dispute-accept": "dispute",
    "sla_tracker:dispute-reject": "dispute",
    "sla_tracker:dispute-evidence": "dispute",
    "sla_tracker:adjustment-waive": "adjustment",
    "sla_tracker:adjustment-withdraw-waiver": "adjustment",
    "sla_tracker:adjustment-dispute": "adjustment",
    "sla_tracker:adjustment-dispute-accept": "adjustment_dispute",
    "sla_tracker:adjustment-dispute-reject": "adjustment_dispute",
    "sla_tracker:adjustment-dispute-evidence": "adjustment_dispute",
    "sla_tracker:exclusion": "exclusion",
    "sla_tracker:exclusion-decision": "exclusion",
    "sla_tracker:contract-year": "contract",
    "sla_tracker:simulate": "contract",
    "sla_tracker:kpi-upload-new": "contract",
    "sla_tracker:kpi-recompute": "contract",
    "sla_tracker:kpi-recompute-status": "contract",
    "sla_tracker:kpi-grid": "contract",
    "sla_tracker:kpi-history": "contract",
    "sla_tracker:kpi-upload": "upload",
    "sla_tracker:kpi-upload-mapping": "upload",
    "sla_tracker:kpi-upload-import": "upload",
    "sla_tracker:kpi-upload-retry": "upload",
    "sla_tracker:kpi-upload-progress": "upload",
    "governance:committee": "committee",
    "governance:meeting": "meeting",
    "governance:meeting-pack": "meeting",
    "governance:meeting-action": "meeting",
    "governance:action-start": "action_item",
    "governance:action-close": "action_item",
    "governance:action-cancel": "action_item",
    "governance:action-reopen": "action_item",
    "audits:detail": "audit",
    "audits:record-finding": "audit",
    "audits:action": "audit",
    "audits:finding": "finding",
    "audits:finding-action": "finding",
    "audits:plan": "audit_right",
}

# Pages of the web namespaces with a parameter that is not an object's id.
NOT_OBJECT_URLS = {
    # The token is the feed's secret (the URL is the credential a calendar app keeps), not an object's id: an
    # unknown token is a 404 whoever asks, and the feed is its owner's only (tests/notifications).
    "notifications:calendar-feed",
    # The file format of the penalty report (csv, xlsx): the report lists only the statements the user sees.
    "sla_tracker:report-export",
}

# The other parameters of the object pages: every value the view accepts (taken from the views, so a new
# action is covered as soon as it exists), or one plausible value.
TASK_ID = uuid.UUID("5f0c7c2e-6d1b-4d0e-9a57-1f2b3c4d5e6f")
OTHER_PARAMS = {
    ("contracts:decision", "decision"): list(contract_views.DECISIONS),
    ("sla_tracker:statement-export", "fmt"): ["csv", "xlsx", "pdf"],
    ("sla_tracker:statement-action", "action"): list(statement_views.STATEMENT_ACTIONS),
    ("sla_tracker:exclusion-decision", "decision"): list(views_exclusions.DECISIONS),
    ("sla_tracker:contract-year", "year"): [2025],
    ("sla_tracker:kpi-recompute-status", "month"): ["2025-03"],
    ("sla_tracker:kpi-recompute-status", "task_id"): [TASK_ID],
    ("sla_tracker:kpi-grid", "month"): ["2025-03"],
    ("sla_tracker:kpi-history", "month"): ["2025-03"],
    ("governance:meeting-action", "action"): sorted(governance_views.MEETING_ACTIONS),
    ("audits:action", "action"): list(audit_views.AUDIT_ACTIONS),
    ("audits:finding-action", "action"): list(audit_views.FINDING_ACTIONS),
}

MISSING_PK = 987654321
VENDOR_NAME = "Hidden Vendor Alpha"
CONTRACT_REFERENCE = "HIDDEN-A-0001"


def _web_patterns():
    """(URL name, {parameter: converter}) of every page of the web namespaces."""
    found = []

    def walk(patterns, namespace, converters):
        for pattern in patterns:
            own = dict(getattr(pattern.pattern, "converters", {}))
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                walk(pattern.url_patterns, inner, {**converters, **own})
            elif isinstance(pattern, URLPattern) and namespace in WEB_NAMESPACES and pattern.name:
                found.append((f"{namespace}:{pattern.name}", {**converters, **own}))

    walk(get_resolver().url_patterns, None, {})
    return found


def _object_pages():
    """pytest params: (URL name, the other parameters' values) of every page with a parameter, one per value of
    its other parameters; a page that is neither mapped nor allow-listed is a param whose test fails."""
    params = []
    for name, converters in _web_patterns():
        if not converters or name in NOT_OBJECT_URLS:
            continue
        ids = {key for key, converter in converters.items() if isinstance(converter, IntConverter)} - {"year"}
        others = [key for key in converters if key not in ids]
        unknown = [key for key in others if (name, key) not in OTHER_PARAMS]
        if name not in OBJECT_OF_URL or ids != {"pk"} or unknown:
            params.append(pytest.param(name, None, id=f"{name}-UNMAPPED"))
            continue
        combos = [{}]
        for key in others:
            combos = [{**combo, key: value} for combo in combos for value in OTHER_PARAMS[(name, key)]]
        for combo in combos:
            suffix = ",".join(str(value) for key, value in combo.items() if key in ("action", "decision", "fmt"))
            params.append(pytest.param(name, combo, id=f"{name}[{suffix}]" if suffix else name))
    return params


OBJECT_PAGES = _object_pages()
METHODS = ["GET", "POST-empty", "POST-body"]
# Who may not see vendor A's objects: users of other contracts, and vendor A's own users, who see their vendor's
# contracts but not what is internal to the customer (a draft statement and what hangs from it, a proposed
# exclusion, the KPI data of a contract the vendor does not report for, an audit, a finding not addressed to the
# vendor, a committee they do not sit on: accounts.scoping).
HIDDEN_FROM = ["vendor_b_user", "other_vendor_manager", "unassigned_auditor", "other_committee_member", "vendor_a_user"]
# What vendor A's users do see: pages of these objects may refuse them (403) for what they may not do.
SEEN_BY = {"vendor_a_user": {"contract", "audit_right"}}
HIDDEN_PAGES = [
    pytest.param(*param.values, who, id=f"{param.id}-{who}")
    for param in OBJECT_PAGES
    for who in HIDDEN_FROM
    if param.values[1] is None or OBJECT_OF_URL[param.values[0]] not in SEEN_BY.get(who, ())
]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One object of each kind of vendor A's contract, the users who may not see them, and an administrator
    who sees everything; built once for the module (each test's changes are rolled back)."""
    with django_db_blocker.unblock(), transaction.atomic():
        vendor_a = VendorFactory(name=VENDOR_NAME)
        vendor_b = VendorFactory(name="Other Vendor Beta")
        contract = ContractFactory(vendor=vendor_a, reference=CONTRACT_REFERENCE, vendor_self_reporting=False)
        contract_b = ContractFactory(vendor=vendor_b, vendor_self_reporting=True)
        statement = PenaltyStatementFactory(
            contract=contract,
            month=datetime.date(2025, 3, 1),
            status=StatementStatus.DRAFT,
            uncapped_credits=Decimal("1500.00"),
            credits=Decimal("1500.00"),
            net=Decimal("-1500.00"),
        )
        line = StatementLineFactory(statement=statement, status=LineStatus.DEFAULT, credit=Decimal("1500.00"))
        dispute = LineDisputeFactory(line=line, evidence=SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof"))
        origin = PenaltyStatementFactory(contract=contract, month=datetime.date(2025, 2, 1), approved=True)
        adjustment = StatementAdjustmentFactory(origin=origin, statement=statement, service_level=line.service_level)
        adjustment_dispute = AdjustmentDisputeFactory(
            adjustment=adjustment, evidence=SimpleUploadedFile("proof.pdf", b"%PDF-1.4 proof")
        )
        committee = CommitteeFactory(contract=contract)
        meeting = MeetingFactory(committee=committee)
        audit_right = AuditRightFactory(contract=contract)
        audit = AuditFactory(audit_right=audit_right)
        objects = {
            "contract": contract,
            "statement": statement,
            "line": line,
            "dispute": dispute,
            "adjustment": adjustment,
            "adjustment_dispute": adjustment_dispute,
            "exclusion": ExclusionFactory(contract=contract),
            "upload": KpiUploadFactory(contract=contract),
            "committee": committee,
            "meeting": meeting,
            "agenda_item": AgendaItemFactory(meeting=meeting),
            "decision": DecisionFactory(meeting=meeting),
            "action_item": ActionItemFactory(meeting=meeting),
            "audit_right": audit_right,
            "audit": audit,
            "finding": FindingFactory(audit=audit, addressed_to_vendor=False),
        }
        # Each user sees vendor B's contract (or committee), never vendor A's.
        auditor = UserFactory(auditor=True)
        contract_b.auditors.add(auditor)
        users = {
            "vendor_b_user": VendorUserFactory(vendor=vendor_b),
            "other_vendor_manager": contract_b.owner,
            "unassigned_auditor": auditor,
            "vendor_a_user": VendorUserFactory(vendor=vendor_a),
            "other_committee_member": CommitteeMemberFactory(committee=CommitteeFactory(contract=contract_b)).user,
            "administrator": UserFactory(administrator=True),
        }
        yield {"objects": objects, "users": users}
        transaction.set_rollback(True)


# Every table of the domain, history tables included: a change saved to a row with history adds a history row.
TABLES = sorted(
    {
        model._meta.db_table
        for label in ("contracts", "sla_tracker", "governance", "audits", "notifications", "accounts")
        for model in apps.get_app_config(label).get_models()
    }
)


def _snapshot(obj) -> dict:
    """The row count of every table of the domain (in one query), and every field of the page's object."""
    select = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(table)})" for table in TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select}")
        counts = dict(zip(TABLES, cursor.fetchone(), strict=True))
    return {"counts": counts, "object": type(obj)._default_manager.filter(pk=obj.pk).values().first()}


def _body(world) -> dict:
    """A plausible submission of any of the pages' forms (each reads its own fields)."""
    objects = world["objects"]
    return {
        "reason": "Checked with the vendor.",
        "note": "Checked with the vendor.",
        "notes": "",
        "resolution": "Agreed.",
        "minutes": "## Attendees\n\n## Service levels",
        "text": "The vendor presents a recovery plan.",
        "title": "Recovery plan",
        "due_date": "2030-01-15",
        "invoice_reference": "INV-2025-03",
        "reference": "CN-2025-03",
        "month": "2025-03",
        "scheduled_for": "2030-01-15T10:00",
        "location": "Video call",
        "confirm": governance_views.APPROVAL_CONFIRMED,
        "item": str(objects["agenda_item"].pk),
        "direction": "up",
        "meeting": str(objects["meeting"].pk),
        "notice_date": "2025-05-02",
        "report_date": "2025-06-10",
        "report_summary": "Abandons miscounted.",
        "plan": "Count abandons from 5 s.",
        "evidence": "The tool's setting was changed.",
        "severity": "medium",
        "description": "Short abandons counted from 10 s.",
        "clause_breached": "Schedule 3",
        "audit_type": "sla_data",
        "auditor_kind": "customer",
        "auditor_name": "Internal audit",
        "fieldwork_start": "2030-02-04",
        "fieldwork_end": "2030-02-08",
    }


def _request(client, world, name, others, method, pk):
    url = reverse(name, kwargs={"pk": pk, **others})
    if method == "GET":
        return client.get(url)
    return client.post(url, _body(world) if method == "POST-body" else {})


def _require_mapped(name, others):
    if others is None:
        pytest.fail(
            f"{name}: a web page with a parameter that this module cannot map to an object. Add it to OBJECT_OF_URL "
            "(the object its view looks up by `pk`) and its other parameters to OTHER_PARAMS, or to NOT_OBJECT_URLS "
            "with the reason its parameter is not an object's id."
        )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("name", "others", "who"), HIDDEN_PAGES)
def test_an_object_the_user_may_not_see_is_not_found(world, name, others, who, method):
    _require_mapped(name, others)
    obj = world["objects"][OBJECT_OF_URL[name]]
    client = Client()
    client.force_login(world["users"][who])
    before = _snapshot(obj)

    response = _request(client, world, name, others, method, obj.pk)

    assert _snapshot(obj) == before, f"{method} {name} as {who} wrote to the database"
    if response.status_code != 404:
        # Only a refusal of the page whatever the id tells nothing: the same answer as for an unknown id.
        unknown = _request(client, world, name, others, method, MISSING_PK)
        assert response.status_code in (403, 405) and unknown.status_code == response.status_code, (
            f"{method} {name} as {who}: {response.status_code} for a hidden object, "
            f"{unknown.status_code} for an unknown id (the answer tells the object exists)"
        )
    if who != "vendor_a_user":  # vendor A's users see their vendor's name on every page, and its contracts
        content = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
        assert VENDOR_NAME not in content and CONTRACT_REFERENCE not in content


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("name", "others"), OBJECT_PAGES)
def test_an_anonymous_visitor_is_sent_to_sign_in(world, name, others, method):
    _require_mapped(name, others)
    obj = world["objects"][OBJECT_OF_URL[name]]
    before = _snapshot(obj)

    response = _request(Client(), world, name, others, method, obj.pk)

    assert _snapshot(obj) == before, f"{method} {name} anonymously wrote to the database"
    assert response.status_code in (302, 404), f"{method} {name} anonymously: {response.status_code}"
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("accounts:login")), response["Location"]


@pytest.mark.parametrize(("name", "others"), OBJECT_PAGES)
def test_the_object_is_found_by_who_may_see_it(world, name, others):
    """The control: the same request by an administrator finds the object (the mapping is right, so the 404s
    above come from the object being hidden, not from a wrong id)."""
    _require_mapped(name, others)
    obj = world["objects"][OBJECT_OF_URL[name]]
    client = Client()
    client.force_login(world["users"]["administrator"])

    response = _request(client, world, name, others, "GET", obj.pk)
    if response.status_code == 405:  # a page that only takes a submission
        response = _request(client, world, name, others, "POST-body", obj.pk)

    assert response.status_code != 404, f"{name} with {others}: the administrator gets a 404"


def test_every_page_with_an_object_id_is_covered():
    mapped = {param.values[0] for param in OBJECT_PAGES if param.values[1] is not None}
    assert mapped == set(OBJECT_OF_URL), f"mapped but not found in the URLs: {set(OBJECT_OF_URL) - mapped}"
    assert len(mapped) >= 40
