"""One scoping function decides which rows each user sees; a vendor's user never sees another's."""

import pytest
from django.apps import apps

from accounts.choices import Role
from accounts.scoping import (
    COMMITTEE_PATHS,
    CONTRACT_PATHS,
    OTHER_RULES,
    SHARED_MODELS,
    VENDOR_PATHS,
    can_see,
    restrict,
    visible_contracts,
)
from audits.choices import AuditStatus
from contracts.models import Contract
from contracts.months import add_months
from sla_tracker.choices import StatementStatus
from sla_tracker.kpi_import.access import contracts_for_kpi_reading
from sla_tracker.models import Measurement
from tests import factories as f

pytestmark = pytest.mark.django_db

DOMAIN_APPS = ("contracts", "sla_tracker", "governance", "audits")


def build_world(name: str) -> dict:
    """One row of every domain model, all under one contract of vendor `name`."""
    vendor = f.VendorFactory(name=name)
    contract = f.ContractFactory(vendor=vendor)
    # Submitted for review: a vendor's users see statements from then on (drafts are internal).
    # The statements of the contract's first three months, each month's charges recorded, as a close needs them.
    first = contract.start_date
    for month in (first, add_months(first, 1), add_months(first, 2)):
        f.MonthlyChargeFactory(contract=contract, month=month)
    line = f.StatementLineFactory(
        statement__contract=contract, statement__month=first, statement__status=StatementStatus.IN_REVIEW
    )
    version = line.terms
    adjustment = f.StatementAdjustmentFactory(
        origin__contract=contract,
        origin__month=add_months(first, 1),
        statement__month=add_months(first, 2),
        statement__status=StatementStatus.IN_REVIEW,
    )
    committee = f.CommitteeFactory(contract=contract)
    meeting = f.MeetingFactory(committee=committee)
    finding = f.FindingFactory(audit__audit_right__contract=contract, audit__status=AuditStatus.FIELDWORK)
    rows = {
        "contracts.Vendor": vendor,
        "contracts.VendorSite": f.VendorSiteFactory(vendor=vendor),
        "contracts.VendorContact": f.VendorContactFactory(vendor=vendor),
        "contracts.Contract": contract,
        "contracts.ContractScope": f.ContractScopeFactory(contract=contract),
        "contracts.MonthlyCharge": contract.charges.get(month=first),
        "contracts.Amendment": f.AmendmentFactory(contract=contract),
        "sla_tracker.PenaltyRegime": f.PenaltyRegimeFactory(contract=contract),
        "sla_tracker.TerminationTrigger": f.TerminationTriggerFactory(contract=contract),
        "sla_tracker.ServiceLevel": line.service_level,
        "sla_tracker.ServiceLevelVersion": version,
        "sla_tracker.CreditTier": f.CreditTierFactory(version=version),
        "sla_tracker.CreditMultiplier": f.CreditMultiplierFactory(version=version),
        "sla_tracker.ColumnMapping": f.ColumnMappingFactory(contract=contract),
        "sla_tracker.KpiUpload": f.KpiUploadFactory(contract=contract),
        "sla_tracker.Measurement": f.MeasurementFactory(contract=contract, day=first),
        "sla_tracker.MeasurementChange": f.MeasurementChangeFactory(contract=contract),
        "sla_tracker.Exclusion": f.ExclusionFactory(contract=contract, requested_by=contract.owner),
        "sla_tracker.Incident": f.IncidentFactory(contract=contract),
        "sla_tracker.PenaltyStatement": line.statement,
        "sla_tracker.StatementLine": line,
        "sla_tracker.LineDispute": f.LineDisputeFactory(line=line),
        "sla_tracker.StatementAdjustment": adjustment,
        "sla_tracker.AdjustmentDispute": f.AdjustmentDisputeFactory(adjustment=adjustment),
        "sla_tracker.StatementEvent": f.StatementEventFactory(statement=line.statement),
        # The fourth month, whose charges are not recorded: its close was refused.
        "sla_tracker.CloseRefusal": f.CloseRefusalFactory(contract=contract, month=add_months(first, 3)),
        "governance.Committee": committee,
        "governance.CommitteeMember": f.CommitteeMemberFactory(committee=committee),
        "governance.Meeting": meeting,
        "governance.AgendaItem": f.AgendaItemFactory(meeting=meeting),
        "governance.Attendance": f.AttendanceFactory(meeting=meeting),
        "governance.Decision": f.DecisionFactory(meeting=meeting),
        "governance.ActionItem": f.ActionItemFactory(meeting=meeting),
        "audits.AuditRight": finding.audit.audit_right,
        "audits.Audit": finding.audit,
        "audits.Finding": finding,
    }
    return rows


@pytest.fixture
def two_vendors():
    return build_world("Vendor One"), build_world("Vendor Two")


def test_every_domain_model_has_a_scoping_rule():
    scoped = set(CONTRACT_PATHS) | set(COMMITTEE_PATHS) | set(VENDOR_PATHS) | SHARED_MODELS | OTHER_RULES
    domain = {
        model._meta.label
        for app in DOMAIN_APPS
        for model in apps.get_app_config(app).get_models()
        if not model._meta.label.split(".")[1].startswith("Historical")
    }
    assert domain - scoped == set()


def vendor_user_of(world: dict):
    """A user of the world's vendor who sits on its committee."""
    user = f.VendorUserFactory(vendor=world["contracts.Vendor"])
    f.CommitteeMemberFactory(committee=world["governance.Committee"], user=user, side="vendor")
    return user


def test_a_vendor_user_sees_every_row_of_their_vendor_and_none_of_the_other(two_vendors):
    mine, theirs = two_vendors
    user = vendor_user_of(mine)
    for label, obj in mine.items():
        if label == "sla_tracker.Exclusion":  # a proposal: seen once approved (below)
            continue
        if label in ("sla_tracker.CloseRefusal", "audits.Audit"):  # the customer's own operations: never seen (below)
            continue
        if label in KPI_DATA:  # the contract is not self-reporting: the customer's data (below)
            continue
        assert can_see(user, obj), f"{label} of the user's own vendor is hidden"
    for label, obj in theirs.items():
        assert not can_see(user, obj), f"{label} of another vendor is visible"


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.PROCUREMENT])
def test_administrators_and_procurement_see_everything(two_vendors, role):
    user = f.UserFactory(role=role)
    for world in two_vendors:
        for label, obj in world.items():
            assert can_see(user, obj), label


def test_a_vendor_manager_sees_only_the_contracts_they_own(two_vendors):
    mine, theirs = two_vendors
    manager = mine["contracts.Contract"].owner
    assert list(visible_contracts(manager)) == [mine["contracts.Contract"]]
    assert can_see(manager, mine["sla_tracker.StatementLine"])
    assert not can_see(manager, theirs["sla_tracker.StatementLine"])
    assert not can_see(manager, theirs["contracts.Vendor"])


def test_an_auditor_sees_the_contracts_assigned_to_them(two_vendors):
    mine, theirs = two_vendors
    auditor = f.UserFactory(role=Role.AUDITOR)
    mine["contracts.Contract"].auditors.add(auditor)
    assert can_see(auditor, mine["audits.Finding"])
    assert not can_see(auditor, theirs["audits.Finding"])


def test_a_committee_member_sees_the_contracts_of_their_committees(two_vendors):
    mine, theirs = two_vendors
    seat = mine["governance.CommitteeMember"]
    assert can_see(seat.user, mine["governance.Meeting"])
    assert can_see(seat.user, mine["sla_tracker.PenaltyStatement"])
    assert not can_see(seat.user, theirs["governance.Meeting"])
    assert not can_see(seat.user, theirs["sla_tracker.PenaltyStatement"])


def test_a_vendor_wide_committee_opens_all_of_that_vendors_contracts():
    vendor = f.VendorFactory(name="Wide Vendor")
    first, second = f.ContractFactory(vendor=vendor), f.ContractFactory(vendor=vendor)
    other = f.ContractFactory()
    seat = f.CommitteeMemberFactory(committee=f.CommitteeFactory(vendor_wide=True, vendor=vendor))
    assert set(visible_contracts(seat.user)) == {first, second}
    assert other not in visible_contracts(seat.user)


def test_anonymous_and_inactive_users_see_nothing(two_vendors):
    from django.contrib.auth.models import AnonymousUser

    inactive = f.UserFactory(role=Role.PROCUREMENT, is_active=False)
    contracts = apps.get_model("contracts", "Contract").objects.all()
    assert not restrict(contracts, AnonymousUser()).exists()
    assert not restrict(contracts, inactive).exists()


def test_scoping_a_list_takes_one_query(two_vendors, django_assert_num_queries):
    mine, _ = two_vendors
    user = f.VendorUserFactory(vendor=mine["contracts.Vendor"])
    lines = apps.get_model("sla_tracker", "StatementLine").objects.all()
    with django_assert_num_queries(1):
        assert len(list(restrict(lines, user))) == 1


def test_a_vendor_user_does_not_see_draft_statements_or_their_lines(two_vendors):
    mine, _ = two_vendors
    user = vendor_user_of(mine)
    statement = mine["sla_tracker.PenaltyStatement"]
    statement.status = StatementStatus.DRAFT
    statement.save()
    assert not can_see(user, statement)
    assert not can_see(user, mine["sla_tracker.StatementLine"])
    assert not can_see(user, mine["sla_tracker.LineDispute"])
    assert can_see(f.UserFactory(role=Role.PROCUREMENT), statement)


def test_a_vendor_user_sees_only_findings_addressed_to_their_vendor(two_vendors):
    mine, _ = two_vendors
    user = vendor_user_of(mine)
    finding = mine["audits.Finding"]
    finding.addressed_to_vendor = False
    finding.save()
    assert not can_see(user, finding)
    assert can_see(mine["contracts.Contract"].owner, finding)


def test_a_vendor_user_sees_only_the_committees_they_sit_on(two_vendors):
    mine, _ = two_vendors
    outsider = f.VendorUserFactory(vendor=mine["contracts.Vendor"])
    assert can_see(outsider, mine["contracts.Contract"])
    assert not can_see(outsider, mine["governance.Meeting"])
    assert not can_see(outsider, mine["governance.Decision"])
    assert can_see(vendor_user_of(mine), mine["governance.Meeting"])


def test_the_back_office_shows_a_vendor_manager_only_their_contracts_rows(two_vendors, client):
    mine, theirs = two_vendors
    manager = mine["contracts.Contract"].owner
    manager.is_staff = True
    manager.save()
    client.force_login(manager)

    page = client.get("/admin/sla_tracker/penaltystatement/")
    assert page.status_code == 200
    assert mine["contracts.Contract"].reference.encode() in page.content
    assert theirs["contracts.Contract"].reference.encode() not in page.content
    other = theirs["sla_tracker.PenaltyStatement"]
    assert client.get(f"/admin/sla_tracker/penaltystatement/{other.pk}/change/").status_code == 302
    # Choice fields offer only visible rows too.
    form = client.get("/admin/sla_tracker/exclusion/add/")
    assert theirs["contracts.Contract"].reference.encode() not in form.content


def test_a_vendor_user_sees_their_vendors_exclusions_once_approved(two_vendors):
    mine, _theirs = two_vendors
    user = vendor_user_of(mine)
    proposal = mine["sla_tracker.Exclusion"]
    approved = f.ExclusionFactory(contract=mine["contracts.Contract"], approved=True)
    rejected = f.ExclusionFactory(
        contract=mine["contracts.Contract"],
        status="rejected",
        decided_by=approved.decided_by,
        decided_at=approved.decided_at,
    )

    assert not can_see(user, proposal)
    assert not can_see(user, rejected)
    assert can_see(user, approved)


def test_a_vendor_user_sees_no_refused_close_and_the_other_roles_those_of_their_contracts(two_vendors):
    mine, theirs = two_vendors
    auditor = f.UserFactory(role=Role.AUDITOR)
    mine["contracts.Contract"].auditors.add(auditor)
    scoped = (mine["contracts.Contract"].owner, auditor, mine["governance.CommitteeMember"].user)

    assert not can_see(vendor_user_of(mine), mine["sla_tracker.CloseRefusal"])  # the customer's own operations
    for user in scoped:
        assert can_see(user, mine["sla_tracker.CloseRefusal"]), user.role
        assert not can_see(user, theirs["sla_tracker.CloseRefusal"]), user.role


def test_a_vendor_user_sees_no_audit_record_but_the_findings_addressed_to_their_vendor(two_vendors):
    mine, theirs = two_vendors
    user = vendor_user_of(mine)

    # The audit record holds the customer's planning, costs and overrides; its vendor learns of it by its notice.
    assert not can_see(user, mine["audits.Audit"])
    assert can_see(user, mine["audits.Finding"])  # addressed to the vendor
    assert (
        can_see(f.UserFactory(role=Role.AUDITOR), mine["audits.Audit"]) is False
    )  # not one of the auditor's contracts
    auditor = f.UserFactory(role=Role.AUDITOR)
    mine["contracts.Contract"].auditors.add(auditor)
    assert can_see(auditor, mine["audits.Audit"])
    assert not can_see(auditor, theirs["audits.Audit"])


def test_a_vendor_manager_sees_a_vendor_they_just_registered_until_it_has_contracts_of_others():
    from rest_framework.test import APIClient

    manager = f.UserFactory(role=Role.VENDOR_MANAGER)
    api = APIClient()
    api.force_authenticate(manager)

    created = api.post("/api/v1/vendors/", {"name": "Nova Contact", "country": "FR"}, format="json")
    vendor_id = created.json()["id"]
    seen = api.get(f"/api/v1/vendors/{vendor_id}/")
    f.ContractFactory(vendor_id=vendor_id)  # another manager's contract with it: now out of this manager's scope
    after = api.get(f"/api/v1/vendors/{vendor_id}/")

    assert created.status_code == 201, created.content
    assert seen.status_code == 200
    assert after.status_code == 404


KPI_DATA = (
    "sla_tracker.Measurement",
    "sla_tracker.MeasurementChange",
    "sla_tracker.KpiUpload",
    "sla_tracker.ColumnMapping",
)


def test_a_vendor_user_sees_kpi_data_only_of_the_contracts_their_vendor_reports_for(two_vendors):
    mine, _theirs = two_vendors
    user = vendor_user_of(mine)
    for label in KPI_DATA:
        assert not can_see(user, mine[label]), f"{label} of a contract the customer logs data for is visible"

    Contract.objects.filter(pk=mine["contracts.Contract"].pk).update(vendor_self_reporting=True)

    for label in KPI_DATA:
        assert can_see(user, mine[label]), f"{label} of a self-reporting contract is hidden"


def test_the_kpi_pages_and_the_scoping_agree_on_which_contracts_kpi_data_a_vendor_user_reads(two_vendors):
    mine, _theirs = two_vendors
    user = vendor_user_of(mine)
    reporting = f.ContractFactory(vendor=mine["contracts.Vendor"], vendor_self_reporting=True)
    f.MeasurementFactory(contract=reporting)
    by_scoping = set(restrict(Measurement.objects.all(), user).values_list("contract", flat=True))
    assert by_scoping == set(contracts_for_kpi_reading(user).values_list("pk", flat=True)) == {reporting.pk}
