"""factory_boy factories for every model, with the defaults of a typical BPO contract.

The story the defaults tell: a French company outsources its voice and chat customer service to a
Moroccan provider for three years from January 2025, with tacit twelve-month renewals, six months'
notice, 12 % of the monthly charges at risk and a "80 % of calls answered within 20 s" service level.

Conventions:
- Dates are fixed (never the clock), so tests that use them read the same every day.
- Rows unique per parent (months, numbers, codes) take a sequence, so `create_batch` never collides.
- Related rows follow the contract of their parent (a statement line's service level belongs to the
  statement's contract), so the factories never build a row the domain would call inconsistent.
- `ServiceLevelVersionFactory` creates the KPI counters its formula names, so `full_clean()` passes.
"""

import datetime
import hashlib
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.choices import Role
from accounts.models import User
from audits.choices import Auditor, AuditStatus, AuditType, CostBearer, FindingStatus, NoticeUnit, Severity
from audits.models import Audit, AuditRight, Finding
from contracts.choices import Channel, ContractStatus, CoverageDays, Currency, PeriodUnit, RenewalType
from contracts.dates import term_end
from contracts.models import Amendment, Contract, ContractScope, MonthlyCharge, Vendor, VendorContact, VendorSite
from contracts.months import add_months, first_of_month
from governance.choices import (
    ActionStatus,
    AttendanceStatus,
    Cadence,
    MeetingStatus,
    MemberRole,
    MinutesStatus,
    Side,
    Tier,
)
from governance.models import ActionItem, AgendaItem, Attendance, Committee, CommitteeMember, Decision, Meeting
from sla_tracker.choices import (
    ApprovalStatus,
    ChangeAction,
    CloseRefusalCode,
    ComputationCause,
    CounterUnit,
    CreditType,
    Direction,
    ExclusionReason,
    LineStatus,
    MeasurementSource,
    ServiceLevelKind,
    ShortfallRounding,
    StatementAction,
    StatementStatus,
    TerminationTriggerType,
    UploadStatus,
)
from sla_tracker.models import (
    AdjustmentDispute,
    CloseRefusal,
    ColumnMapping,
    CreditMultiplier,
    CreditTier,
    Exclusion,
    Incident,
    KpiCounter,
    KpiUpload,
    LineDispute,
    Measurement,
    MeasurementChange,
    PenaltyRegime,
    PenaltyStatement,
    ServiceLevel,
    ServiceLevelVersion,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
    TerminationTrigger,
)

DEFAULT_PASSWORD = "correct-horse-battery-staple"
CONTRACT_START = datetime.date(2025, 1, 1)
DECIDED_AT = datetime.datetime(2025, 2, 5, 10, 0, tzinfo=datetime.UTC)
KPI_PACK_CSV = "Date;Appels reçus;Appels traités;Traités < 20 s\n2025-01-02;1200;1130;940\n".encode()


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=datetime.UTC)


# Accounts ------------------------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    """An internal user (vendor manager by default). Traits: administrator, procurement, auditor."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        administrator = factory.Trait(role=Role.ADMINISTRATOR, is_staff=True, is_superuser=True)
        procurement = factory.Trait(role=Role.PROCUREMENT)
        auditor = factory.Trait(role=Role.AUDITOR)
        committee_member = factory.Trait(role=Role.COMMITTEE_MEMBER)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Camille{n}")
    last_name = "Martin"
    email = factory.LazyAttribute(lambda o: f"{o.username}@client.example")
    password = factory.django.Password(DEFAULT_PASSWORD)
    role = Role.VENDOR_MANAGER
    vendor = None
    is_active = True


class VendorUserFactory(UserFactory):
    """An employee of a vendor: role vendor user, tied to that vendor (the database requires both)."""

    username = factory.Sequence(lambda n: f"vendoruser{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@vendor.example")
    role = Role.VENDOR_USER
    vendor = factory.SubFactory("tests.factories.VendorFactory")


# Contracts -----------------------------------------------------------------------------------------


class VendorFactory(DjangoModelFactory):
    class Meta:
        model = Vendor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Atlas Contact Services {n}")
    legal_name = factory.LazyAttribute(lambda o: f"{o.name} SARL")
    registration_number = factory.Sequence(lambda n: f"RC-{100000 + n}")
    country = "MA"
    website = "https://vendor.example"
    is_active = True


class VendorSiteFactory(DjangoModelFactory):
    class Meta:
        model = VendorSite

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"Casablanca Nearshore {n}")
    city = "Casablanca"
    country = "MA"
    time_zone = "Africa/Casablanca"
    languages = "fr,ar,en"
    seats = 250


class VendorContactFactory(DjangoModelFactory):
    class Meta:
        model = VendorContact

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"Youssef Benali {n}")
    job_title = "Account director"
    email = factory.Sequence(lambda n: f"contact{n}@vendor.example")
    phone = "+212 522 000 000"


class ContractFactory(DjangoModelFactory):
    """An active three-year contract from January 2025, renewed tacitly for 12 months, 6 months' notice."""

    class Meta:
        model = Contract
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"BPO-{n:04d}")
    title = "Customer service outsourcing (voice and chat)"
    vendor = factory.SubFactory(VendorFactory)
    owner = factory.SubFactory(UserFactory)
    status = ContractStatus.ACTIVE
    currency = Currency.EUR
    signed_on = datetime.date(2024, 11, 15)
    start_date = CONTRACT_START
    initial_term_months = 36
    end_date = factory.LazyAttribute(lambda o: term_end(o.start_date, o.initial_term_months))
    renewal_type = RenewalType.TACIT
    renewal_term_months = 12
    max_renewals = 2
    notice_period = 6
    notice_period_unit = PeriodUnit.MONTHS
    decision_buffer_days = 30

    @factory.post_generation
    def auditors(self, create, extracted, **kwargs):
        if create and extracted:
            self.auditors.add(*extracted)


class ContractScopeFactory(DjangoModelFactory):
    """Voice in French, weekdays 08:00–20:00, all of the volume."""

    class Meta:
        model = ContractScope

    contract = factory.SubFactory(ContractFactory)
    channel = Channel.VOICE
    languages = "fr"
    coverage_days = CoverageDays.WEEKDAYS
    coverage_start = datetime.time(8, 0)
    coverage_end = datetime.time(20, 0)
    volume_share_pct = Decimal("100.00")
    site = None


class MonthlyChargeFactory(DjangoModelFactory):
    """The month's invoice in the contract's currency; successive charges take successive months of the term."""

    class Meta:
        model = MonthlyCharge

    contract = factory.SubFactory(ContractFactory)
    # Within the contract's initial term, as model validation requires.
    month = factory.LazyAttributeSequence(
        lambda o, n: add_months(o.contract.start_date.replace(day=1), n % o.contract.initial_term_months)
    )
    amount = Decimal("250000.00")
    currency = factory.LazyAttribute(lambda o: o.contract.currency)


class AmendmentFactory(DjangoModelFactory):
    class Meta:
        model = Amendment

    contract = factory.SubFactory(ContractFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = "Revised service levels"
    summary = "Adds a chat service level and re-allocates the pool."
    signed_on = factory.LazyAttribute(lambda o: add_months(o.contract.start_date, 5) + datetime.timedelta(days=14))
    effective_from = factory.LazyAttribute(lambda o: add_months(o.contract.start_date, 6))
    document_reference = factory.LazyAttribute(lambda o: f"{o.contract.reference}-AMD-{o.number}.pdf")


# Service-level terms -------------------------------------------------------------------------------


class KpiCounterFactory(DjangoModelFactory):
    """A voice counter; asking for an existing code returns that counter."""

    class Meta:
        model = KpiCounter
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"counter_{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("_", " ").capitalize())
    channel = Channel.VOICE
    unit = CounterUnit.COUNT


class PenaltyRegimeFactory(DjangoModelFactory):
    """12 % of the month's charges at risk, a 250 % pool, an annual cap of 8 %."""

    class Meta:
        model = PenaltyRegime

    contract = factory.SubFactory(ContractFactory)
    valid_from = factory.LazyAttribute(lambda o: first_of_month(o.contract.start_date))
    at_risk_pct = Decimal("12")
    pool_pct = Decimal("250")
    annual_cap_pct = Decimal("8")
    contract_year_start_month = factory.LazyAttribute(lambda o: o.contract.start_date.month)


class TerminationTriggerFactory(DjangoModelFactory):
    """Same service level in default three months running. Trait `in_window`: 4 defaults in 6 months."""

    class Meta:
        model = TerminationTrigger

    class Params:
        in_window = factory.Trait(trigger_type=TerminationTriggerType.DEFAULTS_IN_WINDOW, months=4, window=6)

    contract = factory.SubFactory(ContractFactory)
    trigger_type = TerminationTriggerType.CONSECUTIVE_DEFAULTS
    months = 3
    window = None
    clause_reference = "§ 18.2"


class ServiceLevelFactory(DjangoModelFactory):
    class Meta:
        model = ServiceLevel

    contract = factory.SubFactory(ContractFactory)
    code = factory.Sequence(lambda n: f"CSL-{n + 1}")
    name = "Calls answered within 20 seconds"
    description = "Calls answered within 20 s over calls answered and abandoned, short abandons excluded."
    display_order = factory.Sequence(lambda n: n)


SERVICE_LEVEL_NUMERATOR = ["answered_within_20s"]
SERVICE_LEVEL_DENOMINATOR = ["answered", "abandoned", "-abandoned_short"]


class ServiceLevelVersionFactory(DjangoModelFactory):
    """80 % of calls within 20 s (minimum 70 %), critical, 20 % of the at-risk amount on a default.

    Creating it creates the KPI counters its formula names. Traits give the other credit models:
    `key` (no credit), `fixed`, `tiers`, `linear`, and `lower_is_better` (average speed of answer).
    """

    class Meta:
        model = ServiceLevelVersion
        skip_postgeneration_save = True

    class Params:
        key = factory.Trait(kind=ServiceLevelKind.KEY, credit_type=CreditType.NONE, allocation_pct=None)
        fixed = factory.Trait(credit_type=CreditType.FIXED, allocation_pct=None, fixed_amount=Decimal("5000.00"))
        tiers = factory.Trait(credit_type=CreditType.TIERS, allocation_pct=None)
        linear = factory.Trait(
            credit_type=CreditType.LINEAR,
            allocation_pct=None,
            pct_per_point=Decimal("0.5"),
            shortfall_rounding=ShortfallRounding.PROPORTIONAL,
        )
        lower_is_better = factory.Trait(
            numerator=["total_wait_seconds"],
            denominator=["answered"],
            scale=Decimal("1"),
            direction=Direction.LOWER_IS_BETTER,
            expected=Decimal("30"),
            minimum=Decimal("45"),
        )

    service_level = factory.SubFactory(ServiceLevelFactory)
    valid_from = factory.LazyAttribute(lambda o: first_of_month(o.service_level.contract.start_date))
    kind = ServiceLevelKind.CRITICAL
    numerator = factory.LazyFunction(lambda: list(SERVICE_LEVEL_NUMERATOR))
    denominator = factory.LazyFunction(lambda: list(SERVICE_LEVEL_DENOMINATOR))
    scale = Decimal("100")
    direction = Direction.HIGHER_IS_BETTER
    expected = Decimal("80")
    minimum = Decimal("70")
    credit_type = CreditType.ALLOCATION
    allocation_pct = Decimal("20")
    clause_reference = "Schedule 3, § 2.1"

    @factory.post_generation
    def counters(self, create, extracted, **kwargs):
        if not create:
            return
        for code in {code.lstrip("-") for code in [*self.numerator, *self.denominator]}:
            unit = CounterUnit.SECONDS if code.endswith("seconds") else CounterUnit.COUNT
            KpiCounterFactory(code=code, unit=unit)


class CreditTierFactory(DjangoModelFactory):
    """The band [70, 80) crediting 2 % of the charges, on a tiered version."""

    class Meta:
        model = CreditTier

    version = factory.SubFactory(ServiceLevelVersionFactory, tiers=True)
    lower = Decimal("70")
    upper = Decimal("80")
    pct = Decimal("2")


class CreditMultiplierFactory(DjangoModelFactory):
    """From the second consecutive credit-bearing month, × 1.5."""

    class Meta:
        model = CreditMultiplier

    version = factory.SubFactory(ServiceLevelVersionFactory)
    run = 2
    factor = Decimal("1.500")


# KPI data ------------------------------------------------------------------------------------------


class ColumnMappingFactory(DjangoModelFactory):
    class Meta:
        model = ColumnMapping

    contract = factory.SubFactory(ContractFactory)
    name = factory.Sequence(lambda n: f"Monthly KPI pack v{n + 1}")
    date_column = "Date"
    columns = factory.LazyFunction(
        lambda: {
            "Appels reçus": "offered",
            "Appels traités": "answered",
            "Traités < 20 s": "answered_within_20s",
            "Abandons": "abandoned",
        }
    )
    created_by = factory.SubFactory(UserFactory)


class KpiUploadFactory(DjangoModelFactory):
    """A received CSV of the month's daily counts (31 rows, none imported yet)."""

    class Meta:
        model = KpiUpload

    contract = factory.SubFactory(ContractFactory)
    uploaded_by = factory.SubFactory(UserFactory)
    file = factory.django.FileField(filename="kpi-2025-01.csv", data=KPI_PACK_CSV)
    original_name = "kpi-2025-01.csv"
    sha256 = hashlib.sha256(KPI_PACK_CSV).hexdigest()
    size_bytes = len(KPI_PACK_CSV)
    status = UploadStatus.RECEIVED
    rows_total = 31
    rows_done = 0


class MeasurementFactory(DjangoModelFactory):
    """One day's count for a counter, entered by hand; successive measurements take successive days of
    the contract's first year (past days: the KPI data service refuses a day in the future)."""

    class Meta:
        model = Measurement

    contract = factory.SubFactory(ContractFactory)
    counter = factory.SubFactory(KpiCounterFactory)
    day = factory.LazyAttributeSequence(lambda o, n: o.contract.start_date + datetime.timedelta(days=n % 365))
    month = factory.LazyAttribute(lambda o: first_of_month(o.day) if o.day else None)
    value = Decimal("1130")
    source = MeasurementSource.MANUAL


class MeasurementChangeFactory(DjangoModelFactory):
    """The creation of a daily value by hand."""

    class Meta:
        model = MeasurementChange

    contract = factory.SubFactory(ContractFactory)
    counter = factory.SubFactory(KpiCounterFactory)
    day = factory.LazyAttribute(lambda o: o.contract.start_date + datetime.timedelta(days=1))
    month = factory.LazyAttribute(lambda o: first_of_month(o.day))
    action = ChangeAction.CREATE
    old_value = None
    new_value = Decimal("1130")
    source = MeasurementSource.MANUAL
    changed_by = factory.SubFactory(UserFactory)


class ExclusionFactory(DjangoModelFactory):
    """A proposed three-day force-majeure exclusion. Trait `approved`: decided by procurement."""

    class Meta:
        model = Exclusion
        skip_postgeneration_save = True

    class Params:
        approved = factory.Trait(
            status=ApprovalStatus.APPROVED,
            decided_by=factory.SubFactory(UserFactory, procurement=True),
            decided_at=DECIDED_AT,
        )

    contract = factory.SubFactory(ContractFactory)
    start_date = factory.LazyAttribute(lambda o: o.contract.start_date + datetime.timedelta(days=13))
    end_date = factory.LazyAttribute(lambda o: o.start_date + datetime.timedelta(days=2))
    reason = ExclusionReason.FORCE_MAJEURE
    description = "Regional power outage closed the Casablanca site."
    evidence = "Utility outage notice no. 2025-014."
    status = ApprovalStatus.PROPOSED
    requested_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def service_levels(self, create, extracted, **kwargs):
        if create and extracted:
            self.service_levels.add(*extracted)


class IncidentFactory(DjangoModelFactory):
    class Meta:
        model = Incident
        skip_postgeneration_save = True

    contract = factory.SubFactory(ContractFactory)
    title = "Telephony platform outage"
    occurred_on = factory.LazyAttribute(lambda o: o.contract.start_date + datetime.timedelta(days=9))
    root_cause = "Carrier SIP trunk failure."
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def service_levels(self, create, extracted, **kwargs):
        if create and extracted:
            self.service_levels.add(*extracted)


# Statements ----------------------------------------------------------------------------------------


class PenaltyStatementFactory(DjangoModelFactory):
    """A draft statement of 250 000 charges and 30 000 at risk, no credits yet; successive statements
    take successive months. Trait `approved`: approved by procurement."""

    class Meta:
        model = PenaltyStatement

    class Params:
        approved = factory.Trait(
            status=StatementStatus.APPROVED,
            approved_by=factory.SubFactory(UserFactory, procurement=True),
            approved_at=DECIDED_AT,
        )

    contract = factory.SubFactory(ContractFactory)
    month = factory.LazyAttributeSequence(lambda o, n: add_months(o.contract.start_date, n))
    currency = factory.LazyAttribute(lambda o: o.contract.currency)
    status = StatementStatus.DRAFT
    charges = Decimal("250000.00")
    at_risk_amount = Decimal("30000.00")
    uncapped_credits = Decimal("0.00")
    credits = Decimal("0.00")


class StatementLineFactory(DjangoModelFactory):
    """A met line for a service level of the statement's contract, with the version it was computed with."""

    class Meta:
        model = StatementLine

    statement = factory.SubFactory(PenaltyStatementFactory)
    service_level = factory.SubFactory(ServiceLevelFactory, contract=factory.SelfAttribute("..statement.contract"))
    terms = factory.SubFactory(ServiceLevelVersionFactory, service_level=factory.SelfAttribute("..service_level"))
    measured = Decimal("82.500000")
    numerator = Decimal("9900")
    denominator = Decimal("12000")
    status = LineStatus.MET


class LineDisputeFactory(DjangoModelFactory):
    """An open dispute raised by a user of the statement's vendor."""

    class Meta:
        model = LineDispute

    line = factory.SubFactory(StatementLineFactory)
    raised_by = factory.SubFactory(VendorUserFactory, vendor=factory.SelfAttribute("..line.statement.contract.vendor"))
    reason = "The outage of 14 January was force majeure and should be excluded."


class StatementAdjustmentFactory(DjangoModelFactory):
    """A correction of an approved earlier month carried into a later draft of the same contract."""

    class Meta:
        model = StatementAdjustment

    # The origin is created first so it takes the earlier month.
    origin = factory.SubFactory(PenaltyStatementFactory, approved=True)
    statement = factory.SubFactory(PenaltyStatementFactory, contract=factory.SelfAttribute("..origin.contract"))
    service_level = factory.SubFactory(ServiceLevelFactory, contract=factory.SelfAttribute("..statement.contract"))
    amount = Decimal("1500.00")
    reason = "Late FCR data showed the service level was met."


class AdjustmentDisputeFactory(DjangoModelFactory):
    """An open dispute of an adjustment, raised by a user of the statement's vendor."""

    class Meta:
        model = AdjustmentDispute

    adjustment = factory.SubFactory(StatementAdjustmentFactory)
    raised_by = factory.SubFactory(
        VendorUserFactory, vendor=factory.SelfAttribute("..adjustment.statement.contract.vendor")
    )
    reason = "The corrected figures count the days the carrier was down."


class StatementEventFactory(DjangoModelFactory):
    """The monthly close's computation (no actor)."""

    class Meta:
        model = StatementEvent

    statement = factory.SubFactory(PenaltyStatementFactory)
    action = StatementAction.COMPUTED
    actor = None
    cause = ComputationCause.MONTHLY_CLOSE
    note = ""
    data = factory.LazyFunction(dict)


class CloseRefusalFactory(DjangoModelFactory):
    """A close refused for want of the month's charges (as services.close_contracts_month records it)."""

    class Meta:
        model = CloseRefusal

    contract = factory.SubFactory(ContractFactory)
    month = datetime.date(2025, 3, 1)
    code = CloseRefusalCode.NO_CHARGES
    params = factory.LazyAttribute(lambda o: {"contract": o.contract.reference, "month": f"{o.month:%Y-%m}"})
    message = factory.LazyAttribute(
        lambda o: f"{o.contract.reference} has no monthly charges for {o.month:%Y-%m}: record them before the close."
    )
    first_refused_at = factory.LazyFunction(lambda: _at(datetime.date(2025, 4, 5)))
    refused_at = factory.LazyAttribute(lambda o: o.first_refused_at)


# Governance ----------------------------------------------------------------------------------------


class CommitteeFactory(DjangoModelFactory):
    """A monthly service review of one contract. Trait `vendor_wide`: governs all of a vendor's contracts."""

    class Meta:
        model = Committee

    class Params:
        vendor_wide = factory.Trait(contract=None, vendor=factory.SubFactory(VendorFactory), tier=Tier.STRATEGIC)

    name = factory.Sequence(lambda n: f"Monthly service review {n}")
    contract = factory.SubFactory(ContractFactory)
    vendor = None
    tier = Tier.TACTICAL
    cadence = Cadence.MONTHLY
    quorum = 2
    terms_of_reference = "Review service levels, credits, actions and risks."


class CommitteeMemberFactory(DjangoModelFactory):
    """A client-side member who signs in. Trait `vendor_contact`: a contact of the contract's vendor."""

    class Meta:
        model = CommitteeMember

    class Params:
        vendor_contact = factory.Trait(
            user=None,
            contact=factory.SubFactory(
                VendorContactFactory, vendor=factory.SelfAttribute("..committee.contract.vendor")
            ),
            side=Side.VENDOR,
        )

    committee = factory.SubFactory(CommitteeFactory)
    user = factory.SubFactory(UserFactory, committee_member=True)
    contact = None
    side = Side.CLIENT
    role = MemberRole.MEMBER


# A year whose dates are in the future and within a meeting's planning horizon (governance.services).
NEXT_YEAR = timezone.now().year + 1


class MeetingFactory(DjangoModelFactory):
    """A planned meeting; a committee's successive meetings fall on successive months from January 2025 (by its
    meetings so far, not by how many meetings the test session created: a test's dates do not depend on the tests
    before it). Trait `approved_minutes`."""

    class Meta:
        model = Meeting

    class Params:
        approved_minutes = factory.Trait(
            status=MeetingStatus.HELD,
            minutes="## Attendees\n\n## Service levels\nAll met.",
            minutes_status=MinutesStatus.APPROVED,
            minutes_circulation=1,
            minutes_approved_by=factory.SubFactory(UserFactory),
            minutes_approved_at=DECIDED_AT,
        )

    committee = factory.SubFactory(CommitteeFactory)
    scheduled_for = factory.LazyAttribute(
        lambda meeting: _at(add_months(datetime.date(2025, 1, 15), meeting.committee.meetings.count()))
    )
    location = "Video call"
    status = MeetingStatus.PLANNED
    minutes_status = MinutesStatus.DRAFT


class AgendaItemFactory(DjangoModelFactory):
    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(MeetingFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = "Service levels of the month"


class AttendanceFactory(DjangoModelFactory):
    class Meta:
        model = Attendance

    meeting = factory.SubFactory(MeetingFactory)
    member = factory.SubFactory(CommitteeMemberFactory, committee=factory.SelfAttribute("..meeting.committee"))
    status = AttendanceStatus.PRESENT


class DecisionFactory(DjangoModelFactory):
    class Meta:
        model = Decision

    meeting = factory.SubFactory(MeetingFactory)
    number = factory.Sequence(lambda n: n + 1)
    text = "The vendor presents a recovery plan for CSL-1 at the next meeting."
    created_by = factory.SubFactory(UserFactory)


class ActionItemFactory(DjangoModelFactory):
    """An open action from a meeting, owned by a user."""

    class Meta:
        model = ActionItem

    meeting = factory.SubFactory(MeetingFactory)
    decision = None
    finding = None
    title = "Send the CSL-1 recovery plan"
    owner = factory.SubFactory(UserFactory)
    owner_contact = None
    due_date = datetime.date(2025, 2, 14)
    status = ActionStatus.OPEN
    closed_at = None
    created_by = factory.SubFactory(UserFactory)


# Audits --------------------------------------------------------------------------------------------


class AuditRightFactory(DjangoModelFactory):
    """One audit a year on 30 days' notice, at the customer's cost unless fees are off by 5 % or more."""

    class Meta:
        model = AuditRight

    contract = factory.SubFactory(ContractFactory)
    clause_reference = factory.Sequence(lambda n: f"§ 21.{n + 1}")
    clause_text = "The Customer may audit the Supplier's records once per Contract Year on 30 days' notice."
    audits_per_year = 1
    notice = 30
    notice_unit = NoticeUnit.CALENDAR_DAYS
    scopes = factory.LazyFunction(lambda: [AuditType.FINANCIAL.value, AuditType.SLA_DATA.value])
    allowed_auditors = factory.LazyFunction(lambda: [Auditor.CUSTOMER.value, Auditor.THIRD_PARTY.value])
    cost_bearer = CostBearer.CUSTOMER
    cost_shift_threshold_pct = Decimal("5.000")


class AuditFactory(DjangoModelFactory):
    """An SLA-data audit by the customer's staff, notified 30 days before a week of fieldwork."""

    class Meta:
        model = Audit

    audit_right = factory.SubFactory(AuditRightFactory)
    reference = factory.Sequence(lambda n: f"AUD-2025-{n + 1:03d}")
    audit_type = AuditType.SLA_DATA
    auditor_kind = Auditor.CUSTOMER
    auditor_name = "Internal audit"
    status = AuditStatus.PLANNED
    notice_date = datetime.date(2025, 5, 2)
    fieldwork_start = datetime.date(2025, 6, 2)
    fieldwork_end = datetime.date(2025, 6, 6)


class FindingFactory(DjangoModelFactory):
    class Meta:
        model = Finding

    audit = factory.SubFactory(AuditFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = "Short abandons counted from 10 s instead of 5 s"
    severity = Severity.MEDIUM
    description = "The reporting tool excluded abandons under 10 s, against 5 s in the contract."
    clause_breached = "Schedule 3, § 2.1"
    due_date = datetime.date(2025, 8, 5)
    status = FindingStatus.OPEN


# Renewal decisions, minutes approvals, notifications -----------------------------------------------


class RenewalDecisionFactory(DjangoModelFactory):
    """Notice given for the initial term of the contract."""

    class Meta:
        model = "contracts.RenewalDecision"

    contract = factory.SubFactory(ContractFactory)
    decision = "give_notice"
    for_term_ending = factory.LazyAttribute(lambda o: o.contract.end_date)
    new_end_date = None
    decided_by = factory.SubFactory(UserFactory)
    decided_at = DECIDED_AT


class MinutesApprovalFactory(DjangoModelFactory):
    class Meta:
        model = "governance.MinutesApproval"

    meeting = factory.SubFactory(MeetingFactory)
    member = factory.SubFactory(CommitteeMemberFactory, committee=factory.SelfAttribute("..meeting.committee"))
    recorded_by = factory.SubFactory(UserFactory)
    approved_at = DECIDED_AT


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = "notifications.Notification"

    user = factory.SubFactory(UserFactory)
    key = factory.Sequence(lambda n: f"action_overdue:{n}:2025-02-14")
    kind = "action_overdue"
    subject = "Action overdue since Feb. 14, 2025: Send the CSL-1 recovery plan"
    body = "Your action item “Send the CSL-1 recovery plan” was due on Feb. 14, 2025 and is still open."
    link = "http://127.0.0.1:8000/admin/governance/actionitem/1/change/"


class CalendarFeedFactory(DjangoModelFactory):
    class Meta:
        model = "notifications.CalendarFeed"

    user = factory.SubFactory(UserFactory)
