"""Fill the database with a coherent demo: users of every role, vendors, four contracts with their
credit terms, twelve months of daily KPI counts, committees with minutes and actions, audits.

Idempotent (every row is found by its natural key before it is created, and nothing existing is
saved again, so a second run adds no row, not even a history row) and deterministic (fixed seeds;
only "today" moves the dates, and `--today` fixes it). Penalty statements are left to the engine.
"""

import datetime
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.choices import Role
from audits.choices import Auditor, AuditStatus, AuditType, FindingStatus, Severity
from audits.models import Audit, AuditRight, Finding
from contracts.choices import ContractStatus
from contracts.dates import term_end
from contracts.models import Amendment, Contract, ContractScope, MonthlyCharge, Vendor, VendorContact, VendorSite
from contracts.months import add_months, first_of_month, last_day_of_month, month_label
from demo import data
from governance.choices import (
    ActionStatus,
    AttendanceStatus,
    MeetingStatus,
    MemberRole,
    MinutesApprovalMethod,
    MinutesStatus,
    Side,
)
from governance.models import ActionItem, AgendaItem, Attendance, Committee, CommitteeMember, Decision, Meeting
from sla_tracker.choices import (
    ApprovalStatus,
    ChangeAction,
    ExclusionReason,
    MeasurementSource,
    StatementAction,
    StatementStatus,
)
from sla_tracker.models import (
    CreditMultiplier,
    CreditTier,
    Exclusion,
    Incident,
    KpiCounter,
    LineDispute,
    Measurement,
    MeasurementChange,
    PenaltyRegime,
    PenaltyStatement,
    ServiceLevel,
    ServiceLevelVersion,
    StatementEvent,
    StatementLine,
    TerminationTrigger,
)
from sla_tracker.services import (
    approve_statement,
    close_contract_month,
    dispute_line,
    mark_statement_invoiced,
    submit_statement,
)

PROJECT_APPS = ["accounts", "contracts", "sla_tracker", "governance", "audits"]
MEASUREMENT_BATCH_SIZE = 2000
VOLUME_NOISE = 0.08
RATE_NOISE = 0.01
SHORT_ABANDON_SHARE = 0.006
OUTAGE_VOICE = {"sl": 0.2, "abandon": 0.25, "factor": 1.8}
REMEDIATION_PLANS = {
    Severity.CRITICAL: "Named supervisor accounts with multi-factor authentication; shared accounts disabled.",
    Severity.HIGH: "Clear-desk lockers on every floor, weekly spot checks by team leaders, results to the review.",
}


class Command(BaseCommand):
    help = "Create (or complete) the demo data set: users, vendors, contracts, KPI data, governance, audits."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--today",
            help="Pretend today is this date (YYYY-MM-DD); the KPI data ends with the month before it.",
        )

    def handle(self, *args, **options) -> None:
        today = _parse_today(options["today"]) if options["today"] else timezone.localdate()
        started = time.monotonic()
        with transaction.atomic():
            seeder = DemoSeeder(today)
            seeder.run()
        elapsed = time.monotonic() - started
        self._print_summary(seeder, elapsed)

    def _print_summary(self, seeder: "DemoSeeder", elapsed: float) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data as of {seeder.today:%Y-%m-%d}: {sum(seeder.created.values())} rows created "
                f"in {elapsed:.1f} s (KPI data {seeder.months[0]:%Y-%m} to {seeder.months[-1]:%Y-%m})."
            )
        )
        self.stdout.write("")
        for model in _project_models():
            if model._meta.auto_created or model.__name__.startswith("Historical"):
                continue
            label = model._meta.label
            created = seeder.created.get(label, 0)
            self.stdout.write(f"  {label:<36} {model.objects.count():>7}   (+{created})")
        self.stdout.write("")
        self.stdout.write(f"  {'username':<18} {'role':<28} password")
        for username, role, *_rest, password in data.USERS:
            self.stdout.write(f"  {username:<18} {Role(role).label!s:<28} {password}")


def _parse_today(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--today: {text!r} is not a date in the form YYYY-MM-DD") from error


def _project_models() -> list:
    return [model for label in PROJECT_APPS for model in apps.get_app_config(label).get_models()]


def _rng(*parts: object) -> random.Random:
    """A generator seeded by the demo seed and a name, so each month's data is the same on every run."""
    return random.Random(":".join(str(part) for part in (data.SEED, *parts)))  # noqa: S311 - not for security


def _months_before(day: datetime.date, count: int) -> datetime.date:
    """The same day of the month `count` months earlier (later if negative), clamped to the month's end."""
    month = add_months(first_of_month(day), -count)
    return month.replace(day=min(day.day, last_day_of_month(month).day))


def _outage_days(month: datetime.date, anchor: int) -> tuple[datetime.date, datetime.date]:
    """Two consecutive weekdays from the anchor day of the month on."""
    day = month.replace(day=anchor)
    while day.weekday() > 3:
        day += datetime.timedelta(days=1)
    return day, day + datetime.timedelta(days=1)


class DemoSeeder:
    """Creates what is missing of the demo, as of `today`. `created` counts new rows per model."""

    def __init__(self, today: datetime.date) -> None:
        self.today = today
        this_month = first_of_month(today)
        self.months = [add_months(this_month, index - data.KPI_MONTHS) for index in range(data.KPI_MONTHS)]
        self.this_month = this_month
        self.created: Counter[str] = Counter()
        self.contracts: dict[str, Contract] = {}
        self.new_meetings: set[int] = set()
        self.tz = timezone.get_current_timezone()

    def run(self) -> None:
        self.seed_counters()
        self.seed_vendors()
        self.seed_users()
        for spec in data.CONTRACTS:
            self.seed_contract(spec)
        self.seed_measurements()
        self.seed_exclusion_and_incident()
        self.seed_governance()
        self.seed_audits()
        self.seed_statements()

    # Helpers

    def ensure(self, model, lookup: dict, defaults: dict | None = None, *, validate: bool = True):
        """The row matching `lookup`, or a new one validated by full_clean(). Existing rows are left as
        they are (saving them again would write history rows and break idempotency). `validate=False`
        is for small rows whose only checks are the database's."""
        found = model.objects.filter(**lookup).first()
        if found is not None:
            return found
        obj = model(**lookup, **(defaults or {}))
        if validate:
            obj.full_clean()
        obj.save()
        self.created[model._meta.label] += 1
        if model is Meeting:
            self.new_meetings.add(obj.pk)
        return obj

    def at(self, day: datetime.date, hour: int) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour), tzinfo=self.tz)

    def month_of(self, index: int) -> datetime.date:
        return add_months(self.months[0], index)

    def days_ago(self, days: int) -> datetime.date:
        return self.today - datetime.timedelta(days=days)

    # People and catalogue

    def seed_users(self) -> None:
        User = get_user_model()
        self.users = {user.username: user for user in User.objects.filter(username__in=[row[0] for row in data.USERS])}
        missing = [row for row in data.USERS if row[0] not in self.users]
        # PBKDF2 releases the GIL: hashing the passwords side by side saves seconds.
        with ThreadPoolExecutor() as pool:
            hashes = list(pool.map(make_password, [row[-1] for row in missing]))
        for (username, role, first_name, last_name, vendor_name, password), hashed in zip(missing, hashes, strict=True):
            user = User(
                username=username,
                password=hashed,
                role=role,
                first_name=first_name,
                last_name=last_name,
                email=f"{username}@example.com",
                vendor=self.vendors[vendor_name] if vendor_name else None,
                is_staff=vendor_name is None,
                is_superuser=role == Role.ADMINISTRATOR,
            )
            password_validation.validate_password(password, user)
            user.full_clean()
            user.save()
            self.created[User._meta.label] += 1
            self.users[username] = user

    def seed_counters(self) -> None:
        self.counters = {}
        for code, name, channel, unit, bound, description in data.COUNTERS:
            self.counters[code] = self.ensure(
                KpiCounter,
                {"code": code},
                {
                    "name": name,
                    "channel": channel,
                    "unit": unit,
                    "must_not_exceed": self.counters[bound] if bound else None,
                    "description": description,
                },
            )

    def seed_vendors(self) -> None:
        self.vendors, self.sites, self.contacts = {}, {}, {}
        for spec in data.VENDORS:
            vendor = self.ensure(
                Vendor,
                {"name": spec["name"]},
                {key: spec[key] for key in ("legal_name", "registration_number", "country", "website")},
            )
            self.vendors[vendor.name] = vendor
            for name, city, country, tz, languages, seats in spec["sites"]:
                self.sites[name] = self.ensure(
                    VendorSite,
                    {"vendor": vendor, "name": name},
                    {"city": city, "country": country, "time_zone": tz, "languages": languages, "seats": seats},
                )
            self.contacts[vendor.name] = [
                self.ensure(
                    VendorContact,
                    {"vendor": vendor, "email": email},
                    {"name": name, "job_title": title, "phone": phone},
                )
                for name, title, email, phone in spec["contacts"]
            ]

    # Contracts and their terms

    def seed_contract(self, spec: dict) -> None:
        start = add_months(self.this_month, -spec["start_months_ago"])
        contract = self.ensure(
            Contract,
            {"reference": spec["reference"]},
            {
                "title": spec["title"],
                "vendor": self.vendors[spec["vendor"]],
                "owner": self.users["vendor.manager"],
                "status": ContractStatus.ACTIVE,
                "currency": spec["currency"],
                "signed_on": start - datetime.timedelta(days=30),
                "start_date": start,
                "initial_term_months": spec["initial_term_months"],
                "end_date": term_end(start, spec["initial_term_months"]),
                "renewal_type": spec["renewal_type"],
                "renewal_term_months": spec["renewal_term_months"],
                "notice_period": spec["notice_period"],
                "notice_period_unit": spec["notice_period_unit"],
                # Business days of the contract's jurisdiction; C and D count Monday to Friday.
                "calendar_country": spec.get("calendar", ("", ""))[0],
                "calendar_subdivision": spec.get("calendar", ("", ""))[1],
                "vendor_self_reporting": spec["vendor_self_reporting"],
                "description": spec["description"],
            },
        )
        if not contract.auditors.filter(pk=self.users["auditor"].pk).exists():  # an add writes a history row
            contract.auditors.add(self.users["auditor"])
        self.contracts[contract.reference] = contract
        for channel, languages, days, hours, share, site, notes in spec["scopes"]:
            self.ensure(
                ContractScope,
                {"contract": contract, "channel": channel},
                {
                    "languages": languages,
                    "coverage_days": days,
                    "coverage_start": datetime.time(hours[0]) if hours else None,
                    "coverage_end": datetime.time(hours[1]) if hours else None,
                    "volume_share_pct": Decimal(share),
                    "site": self.sites[site],
                    "notes": notes,
                },
            )
        amendments = {
            item["number"]: self.ensure(
                Amendment,
                {"contract": contract, "number": item["number"]},
                {
                    "title": item["title"],
                    "summary": item["summary"],
                    "signed_on": self.month_of(item["signed_month"]) + datetime.timedelta(days=14),
                    "effective_from": self.month_of(item["effective_month"]),
                    "document_reference": f"{contract.reference}-AMD-{item['number']}.pdf",
                    "created_by": self.users["procurement"],
                },
            )
            for item in spec["amendments"]
        }
        regime = spec["regime"]
        self.ensure(
            PenaltyRegime,
            {"contract": contract, "valid_from": start},
            {
                "at_risk_pct": _decimal(regime["at_risk_pct"]),
                "pool_pct": _decimal(regime["pool_pct"]),
                "annual_cap_pct": _decimal(regime["annual_cap_pct"]),
                "contract_year_start_month": start.month,
            },
        )
        for trigger_type, months, window, clause in spec["triggers"]:
            self.ensure(
                TerminationTrigger,
                {"contract": contract, "trigger_type": trigger_type},
                {"months": months, "window": window, "clause_reference": clause},
            )
        for order, sl_spec in enumerate(spec["service_levels"], start=1):
            self._seed_service_level(contract, start, amendments, order, sl_spec)
        base, jitter = spec["charges"]
        for month in [*self.months, self.this_month]:
            amount = base + round(_rng("charges", contract.reference, f"{month:%Y-%m}").uniform(-jitter, jitter), -2)
            self.ensure(
                MonthlyCharge,
                {"contract": contract, "month": month},
                {"amount": Decimal(amount).quantize(Decimal("0.01")), "currency": contract.currency},
            )

    def _seed_service_level(self, contract, start, amendments, order, spec) -> None:
        service_level = self.ensure(
            ServiceLevel,
            {"contract": contract, "code": spec["code"]},
            {"name": spec["name"], "description": spec["description"], "display_order": order},
        )
        for version_spec in spec["versions"]:
            fields = dict(version_spec)
            valid_from = start if fields.pop("from") is None else self.month_of(version_spec["from"])
            amendment = fields.pop("amendment", None)
            tiers = fields.pop("tiers", [])
            multipliers = fields.pop("multipliers", [])
            for key in ("scale", "expected", "minimum", "allocation_pct", "pct_per_point", "cap_pct", "earn_back_pct"):
                if key in fields:
                    fields[key] = Decimal(fields[key])
            fields.setdefault("credit_type", data.ALLOC)
            version = self.ensure(
                ServiceLevelVersion,
                {"service_level": service_level, "valid_from": valid_from},
                {"amendment": amendments[amendment] if amendment else None, **fields},
            )
            for lower, upper, pct in tiers:
                self.ensure(
                    CreditTier,
                    {"version": version, "lower": Decimal(lower)},
                    {"upper": _decimal(upper), "pct": Decimal(pct)},
                )
            for run, factor in multipliers:
                self.ensure(CreditMultiplier, {"version": version, "run": run}, {"factor": Decimal(factor)})

    # KPI data

    def seed_measurements(self) -> None:
        rows = []
        for spec in data.CONTRACTS:
            contract = self.contracts[spec["reference"]]
            done = set(
                Measurement.objects.filter(contract=contract, day__isnull=False, month__in=self.months)
                .values_list("month", flat=True)
                .distinct()
            )
            for index, month in enumerate(self.months):
                if month in done:
                    continue
                for day, code, value in self._month_counts(spec, index, month):
                    rows.append(
                        Measurement(
                            contract=contract,
                            counter=self.counters[code],
                            month=month,
                            day=day,
                            value=Decimal(value),
                            source=MeasurementSource.SEED,
                        )
                    )
        # Seeded values are logged as created like any other write, so the data history shows where they came from.
        changes = [
            MeasurementChange(
                contract=row.contract,
                counter=row.counter,
                month=row.month,
                day=row.day,
                action=ChangeAction.CREATE,
                new_value=row.value,
                source=MeasurementSource.SEED,
            )
            for row in rows
        ]
        with transaction.atomic():
            Measurement.objects.bulk_create(rows, batch_size=MEASUREMENT_BATCH_SIZE)
            MeasurementChange.objects.bulk_create(changes, batch_size=MEASUREMENT_BATCH_SIZE)
        self.created[Measurement._meta.label] += len(rows)
        self.created[MeasurementChange._meta.label] += len(changes)

    def _month_counts(self, spec: dict, index: int, month: datetime.date):
        """(day, counter code, value) for every covered day of one month of a contract."""
        rng = _rng("kpi", spec["reference"], f"{month:%Y-%m}")
        outage = spec["outages"].get(index)
        outage_days = _outage_days(month, outage["anchor"]) if outage else ()
        for family, base in spec["families"].items():
            params = dict(base)
            for from_index, changes in sorted(spec["from_month"].items()):
                if index >= from_index:
                    params.update(changes.get(family, {}))
            params.update(spec["overrides"].get(index, {}).get(family, {}))
            day = month
            while day.month == month.month:
                weekend = day.weekday() >= 5
                if not (weekend and params["days"] == "weekdays"):
                    day_params = dict(params)
                    if day.day <= day_params.get("first_days", 0):
                        day_params["factor"] = day_params["first_days_factor"]
                    if family == "voice" and day in outage_days:
                        day_params.update(OUTAGE_VOICE)
                    for code, value in FAMILIES[family](day_params, day, rng).items():
                        yield day, code, value
                day += datetime.timedelta(days=1)

    # Excused days and incidents

    def seed_exclusion_and_incident(self) -> None:
        spec = data.CONTRACTS[0]
        contract = self.contracts[spec["reference"]]
        voice_levels = list(ServiceLevel.objects.filter(contract=contract, code__in=["CSL-1", "CSL-2"]))
        outages = {item["kind"]: (index, item) for index, item in spec["outages"].items()}

        index, item = outages["force_majeure"]
        first, last = _outage_days(self.months[index], item["anchor"])
        exclusion = self.ensure(
            Exclusion,
            {"contract": contract, "start_date": first, "end_date": last, "reason": ExclusionReason.FORCE_MAJEURE},
            {
                "description": "Regional power outage after storm damage to the grid around Lille: the site "
                "ran on generators with half of its telephony capacity for two days.",
                "evidence": "Grid operator's incident notice; site generator log; vendor's notice under clause 24 "
                "(force majeure) sent the next morning.",
                "status": ApprovalStatus.APPROVED,
                # Vendor managers propose exclusions (here on the vendor's notice); procurement decides.
                "requested_by": self.users["vendor.manager"],
                "decided_by": self.users["procurement"],
                "decided_at": self.at(last + datetime.timedelta(days=6), 15),
            },
        )
        exclusion.service_levels.set(voice_levels)
        # Seeded in one go: its record is dated the morning after the outage, as the vendor's notice, before the
        # decision, not the day the demo was seeded.
        exclusion.history.filter(history_date__gt=exclusion.decided_at).update(
            history_date=self.at(last + datetime.timedelta(days=1), 9)
        )

        index, item = outages["incident"]
        first, _last = _outage_days(self.months[index], item["anchor"])
        incident = self.ensure(
            Incident,
            {"contract": contract, "title": "Telephony platform outage", "occurred_on": first},
            {
                "month": first_of_month(first),
                "root_cause": "A failed certificate renewal on the vendor's SIP trunk dropped most inbound "
                "calls for two days: one root cause behind the CSL-1 and CSL-2 defaults of the month.",
                "created_by": self.users["vendor.manager"],
            },
        )
        incident.service_levels.set(voice_levels)

    # Governance

    def seed_governance(self) -> None:
        internal = [self.users[name] for name in ("vendor.manager", "procurement", "committee")]
        for spec in data.CONTRACTS:
            contract = self.contracts[spec["reference"]]
            contacts = self.contacts[spec["vendor"]]
            vendor_users = [self.users[row[0]] for row in data.USERS if row[4] == spec["vendor"]]
            for tier, suffix, cadence, interval, held, days_before in data.COMMITTEE_TIERS:
                committee = self.ensure(
                    Committee,
                    {"contract": contract, "tier": tier},
                    {
                        "name": f"{contract.reference} {suffix}",
                        "cadence": cadence,
                        "quorum": 3,
                        "terms_of_reference": _terms_of_reference(tier, contract),
                    },
                )
                chair = self.users["vendor.manager"] if tier == "tactical" else self.users["committee"]
                members = self._seed_members(committee, chair, internal, contacts, vendor_users, tier)
                lapsed = data.LAPSED_COMMITTEE[2] if data.LAPSED_COMMITTEE[:2] == (contract.reference, tier) else 0
                last_held = self.days_ago(days_before)
                for number in range(held):
                    day = _months_before(last_held, lapsed + number * interval)
                    self._seed_meeting(committee, tier, chair, members, contacts, day, number)
                if tier == "tactical":
                    self.ensure(
                        Meeting,
                        {"committee": committee, "scheduled_for": self.at(_months_before(last_held, -1), 10)},
                        {"location": "Video call", "status": MeetingStatus.PLANNED},
                    )

    def _seed_members(self, committee, chair, internal, contacts, vendor_users, tier) -> list:
        members = []
        for user in internal:
            if tier == "tactical" and user == self.users["committee"]:
                continue
            role = MemberRole.CHAIR if user == chair else MemberRole.MEMBER
            if tier == "tactical" and user == self.users["procurement"]:
                role = MemberRole.SECRETARY
            members.append(
                self.ensure(
                    CommitteeMember, {"committee": committee, "user": user}, {"side": Side.CLIENT, "role": role}
                )
            )
        seated_contacts = contacts[1:] if tier == "tactical" else contacts[:2]
        for contact in seated_contacts:
            members.append(
                self.ensure(CommitteeMember, {"committee": committee, "contact": contact}, {"side": Side.VENDOR})
            )
        if tier == "tactical":
            for user in vendor_users:
                members.append(
                    self.ensure(CommitteeMember, {"committee": committee, "user": user}, {"side": Side.VENDOR})
                )
        return members

    def _seed_meeting(self, committee, tier, chair, members, contacts, day, number) -> None:
        """The `number`-th last meeting held (0 is the latest), with its agenda, attendance and actions."""
        latest = number == 0
        rng = _rng("meeting", committee.name, day.isoformat())
        circulated = latest and tier == "tactical"
        approved_on = day + datetime.timedelta(days=5)
        agenda = data.TACTICAL_AGENDA if tier == "tactical" else data.STRATEGIC_AGENDA
        decision_text = (
            f"The KPI pack for {add_months(first_of_month(day), -1):%B %Y} is accepted as final."
            if tier == "tactical"
            else "The parties confirm the service-level schedule and the improvement plan for the next quarter."
        )
        meeting = self.ensure(
            Meeting,
            {"committee": committee, "scheduled_for": self.at(day, 10)},
            {
                "location": "Video call" if tier == "tactical" else "Customer head office, Paris",
                "status": MeetingStatus.HELD,
                "minutes": _minutes(committee, day, agenda, decision_text),
                "minutes_status": MinutesStatus.CIRCULATED if circulated else MinutesStatus.APPROVED,
                "minutes_circulation": 1,
                "minutes_approved_by": None if circulated else chair,
                "minutes_approved_at": None if circulated else self.at(approved_on, 17),
                "minutes_approval_method": "" if circulated else MinutesApprovalMethod.CHAIR,
            },
        )
        if meeting.pk in self.new_meetings:
            # A new meeting has no agenda or attendance yet: insert them at once.
            AgendaItem.objects.bulk_create(
                AgendaItem(meeting=meeting, position=position, title=title, proposed_automatically=automatic)
                for position, (title, automatic) in enumerate(agenda, start=1)
            )
            excused = rng.choice(members) if rng.random() < 0.4 else None
            Attendance.objects.bulk_create(
                Attendance(
                    meeting=meeting,
                    member=member,
                    status=AttendanceStatus.EXCUSED if member == excused else AttendanceStatus.PRESENT,
                )
                for member in members
            )
            self.created[AgendaItem._meta.label] += len(agenda)
            self.created[Attendance._meta.label] += len(members)
        decision = self.ensure(
            Decision, {"meeting": meeting, "number": 1}, {"text": decision_text, "created_by": chair}, validate=False
        )
        if tier == "tactical":
            title = f"Send the staffing plan for {add_months(first_of_month(day), 1):%B %Y}"
            owner, owner_contact, due = None, contacts[1], day + datetime.timedelta(days=14)
        else:
            title = "Prepare the quarterly benchmark of credits and trends"
            owner, owner_contact, due = self.users["procurement"], None, day + datetime.timedelta(days=30)
        self._seed_action(meeting, decision, title, owner, owner_contact, due, chair)
        if committee.contract.reference == "DEMO-A" and tier == "tactical":
            self._seed_contract_a_actions(meeting, day, contacts, chair, number)

    def _seed_contract_a_actions(self, meeting, day, contacts, chair, number) -> None:
        if number == 2:
            # Left open past its due date: the overdue item the dashboards should show.
            self._seed_action(
                meeting,
                None,
                "Root-cause analysis of the telephony outage and prevention plan",
                None,
                contacts[1],
                day + datetime.timedelta(days=14),
                chair,
                status=ActionStatus.OPEN,
            )
        if number == 0:
            self._seed_action(
                meeting,
                None,
                "Review the reliability of the CSAT survey tool",
                self.users["vendor.manager"],
                None,
                day + datetime.timedelta(days=30),
                chair,
                status=ActionStatus.IN_PROGRESS,
            )

    def _seed_action(self, meeting, decision, title, owner, owner_contact, due, created_by, status=None) -> None:
        if status is None:
            status = ActionStatus.DONE if due < self.today else ActionStatus.OPEN
        item = self.ensure(
            ActionItem,
            {"meeting": meeting, "title": title},
            {
                "decision": decision,
                "owner": owner,
                "owner_contact": owner_contact,
                "due_date": due,
                "status": status,
                "closed_at": self.at(due - datetime.timedelta(days=2), 16) if status == ActionStatus.DONE else None,
                "created_by": created_by,
            },
        )
        # Raised in its meeting (an hour after it opened), not when the demo was seeded: the past dashboards
        # show the items open on their day.
        self.created_on(item, meeting.scheduled_for + datetime.timedelta(hours=1))

    def created_on(self, item, when: datetime.datetime) -> None:
        """Date a seeded action item (and its first history row) from `when`; a no-op on a second run."""
        ActionItem.objects.filter(pk=item.pk).exclude(created_at=when).update(created_at=when)
        ActionItem.history.filter(id=item.pk, history_type="+").exclude(history_date=when).update(history_date=when)

    # Audits

    def seed_audits(self) -> None:
        rights = {}
        for spec in data.CONTRACTS:
            contract = self.contracts[spec["reference"]]
            clause, notice, unit = data.AUDIT_CLAUSES[contract.reference]
            notice_text = f"{notice} {'business days' if unit == 'business_days' else 'days'}'"
            defaults = dict(data.AUDIT_RIGHT)
            defaults["cost_shift_threshold_pct"] = Decimal(defaults["cost_shift_threshold_pct"])
            rights[contract.reference] = self.ensure(
                AuditRight,
                {"contract": contract, "clause_reference": clause},
                {
                    **defaults,
                    "notice": notice,
                    "notice_unit": unit,
                    "clause_text": data.AUDIT_CLAUSE_TEXT.format(notice=notice_text),
                },
            )
        self._seed_closed_audit(rights["DEMO-A"])
        self._seed_reported_audit(rights["DEMO-C"])
        self._seed_planned_audit(rights["DEMO-B"])

    def _seed_closed_audit(self, right) -> None:
        auditor, manager = self.users["auditor"], self.users["vendor.manager"]
        notice = _months_before(self.today, 11)
        fieldwork = notice + datetime.timedelta(days=35)
        report = fieldwork + datetime.timedelta(days=24)
        audit = self.ensure(
            Audit,
            {"reference": "AUD-DEMO-A-1"},
            {
                "audit_right": right,
                "audit_type": AuditType.SLA_DATA,
                "auditor_kind": Auditor.THIRD_PARTY,
                "auditor_name": "Mercier Audit & Conseil",
                "lead_auditor": auditor,
                "status": AuditStatus.CLOSED,
                "scope_description": "Service-level data: call records behind CSL-1 and CSL-2, e-mail cohorts "
                "behind CSL-3, quality evaluation forms; sample of six months.",
                "notice_date": notice,
                "fieldwork_start": fieldwork,
                "fieldwork_end": fieldwork + datetime.timedelta(days=3),
                "report_date": report,
                "report_summary": "The KPI packs reconcile with the telephony and ticketing records except for "
                "the short-abandon threshold. Overstatement of CSL-1 below the 5 % cost-shift threshold.",
                "cost": Decimal("18500.00"),
                "cost_currency": right.contract.currency,
            },
        )
        self.planned_before_notice(audit)
        contact = self.contacts["Lumen Relation Client"][1]
        findings = [
            (
                1,
                "Short abandons counted up to 10 s instead of 5 s",
                Severity.MEDIUM,
                "Schedule 3, §2.1",
                Decimal("1.800"),
            ),
            (2, "Daily KPI pack lacks interval-level data", Severity.LOW, "Schedule 3, §5.2", None),
        ]
        for number, title, severity, clause, discrepancy in findings:
            due = report + datetime.timedelta(days=right.remediation_days(severity))
            self.ensure(
                Finding,
                {"audit": audit, "number": number},
                {
                    "title": title,
                    "severity": severity,
                    "description": f"{title}. Sampled months were recomputed from the raw records.",
                    "clause_breached": clause,
                    "discrepancy_pct": discrepancy,
                    "owner": manager,
                    "vendor_contact": contact,
                    "due_date": due,
                    "recorded_on": report,
                    "status": FindingStatus.VERIFIED,
                    "remediation_plan": "Correct the reporting configuration and restate the affected months.",
                    "evidence": "Reporting configuration export and restated KPI packs.",
                    "remediated_at": self.at(due - datetime.timedelta(days=20), 12),
                    "verified_by": auditor,
                    "verified_at": self.at(due - datetime.timedelta(days=10), 12),
                },
            )

    def _seed_reported_audit(self, right) -> None:
        auditor, manager = self.users["auditor"], self.users["vendor.manager"]
        report = self.days_ago(45)
        audit = self.ensure(
            Audit,
            {"reference": "AUD-DEMO-C-1"},
            {
                "audit_right": right,
                "audit_type": AuditType.SECURITY,
                "auditor_kind": Auditor.CUSTOMER,
                "auditor_name": "Internal audit – information security",
                "lead_auditor": auditor,
                "status": AuditStatus.REPORTED,
                "scope_description": "Access management, clean desk and customer-data handling at both sites.",
                "notice_date": self.days_ago(100),
                "fieldwork_start": self.days_ago(65),
                "fieldwork_end": self.days_ago(61),
                "report_date": report,
                "report_summary": "One critical finding fixed during fieldwork; three open findings.",
                "cost": Decimal("7200.00"),
                "cost_currency": right.contract.currency,
            },
        )
        self.planned_before_notice(audit)
        contacts = self.contacts["Pacific Bridge CX"]
        findings = [
            (1, "Shared supervisor accounts on the chat platform", Severity.CRITICAL, FindingStatus.VERIFIED, True),
            (
                2,
                "Clean-desk policy not enforced on the Cebu floor",
                Severity.HIGH,
                FindingStatus.REMEDIATION_PLANNED,
                True,
            ),
            (3, "Leavers' access removed after 5 days instead of 24 hours", Severity.MEDIUM, FindingStatus.OPEN, True),
            (4, "Customer's own access review not documented", Severity.LOW, FindingStatus.OPEN, False),
        ]
        for number, title, severity, status, to_vendor in findings:
            due = report + datetime.timedelta(days=right.remediation_days(severity))
            verified = status == FindingStatus.VERIFIED
            finding = self.ensure(
                Finding,
                {"audit": audit, "number": number},
                {
                    "title": title,
                    "severity": severity,
                    "description": f"{title}.",
                    "clause_breached": "Schedule 6 (Security), §3",
                    "owner": manager,
                    "vendor_contact": contacts[1] if to_vendor else None,
                    "addressed_to_vendor": to_vendor,
                    "due_date": due,
                    "recorded_on": report,
                    "status": status,
                    "remediation_plan": REMEDIATION_PLANS.get(severity, ""),
                    "remediated_at": self.at(report + datetime.timedelta(days=6), 12) if verified else None,
                    "verified_by": auditor if verified else None,
                    "verified_at": self.at(report + datetime.timedelta(days=8), 12) if verified else None,
                },
            )
            if severity == Severity.HIGH:
                item = self.ensure(
                    ActionItem,
                    {"finding": finding, "title": "Weekly clean-desk checks on every floor, with photos"},
                    {
                        "owner_contact": contacts[1],
                        "due_date": due,
                        "status": ActionStatus.IN_PROGRESS,
                        "created_by": auditor,
                    },
                )
                self.created_on(item, self.at(report + datetime.timedelta(days=2), 11))

    def planned_before_notice(self, audit) -> None:
        """An audit seeded with its past dates was planned two weeks before its notice, not when seeded."""
        planned = self.at(audit.notice_date - datetime.timedelta(days=14), 9)
        Audit.objects.filter(pk=audit.pk).update(created_at=planned)

    def _seed_planned_audit(self, right) -> None:
        start = self.today + datetime.timedelta(days=45)
        self.ensure(
            Audit,
            {"reference": "AUD-DEMO-B-1"},
            {
                "audit_right": right,
                "audit_type": AuditType.FINANCIAL,
                "auditor_kind": Auditor.THIRD_PARTY,
                "auditor_name": "Harper & Lowe LLP",
                "lead_auditor": self.users["auditor"],
                "status": AuditStatus.PLANNED,
                "scope_description": "Charges invoiced over the last twelve months against the rate card.",
                "fieldwork_start": start,
                "fieldwork_end": start + datetime.timedelta(days=2),
            },
        )

    # Daily data by family: each returns {counter code: whole number} for one day.

    # Penalty statements

    def seed_statements(self) -> None:
        """Close every demo month through the real monthly close, then walk the statements through
        their lifecycle: older months approved and invoiced, the month before last in review (with a
        vendor dispute on a credited line where there is one), the last month left as a draft."""
        procurement = self.users["procurement"]
        statement_models = (PenaltyStatement, StatementLine, StatementEvent, LineDispute)
        counts_before = {model: model.objects.count() for model in statement_models}
        started = timezone.now()
        for spec in data.CONTRACTS:
            contract = Contract.objects.get(reference=spec["reference"])
            close_contract_month(contract_id=contract.pk, month=month_label(self.months[-1]))
            statements = list(PenaltyStatement.objects.filter(contract=contract).order_by("month"))
            for statement in statements[:-2]:
                if statement.status == StatementStatus.DRAFT:
                    submit_statement(statement_id=statement.pk, actor=procurement)
                    approve_statement(statement_id=statement.pk, actor=procurement)
                    mark_statement_invoiced(
                        statement_id=statement.pk,
                        actor=procurement,
                        invoice_reference=f"INV-{contract.reference}-{add_months(statement.month, 1):%Y%m}",
                    )
            in_review = statements[-2]
            if in_review.status == StatementStatus.DRAFT:
                submit_statement(statement_id=in_review.pk, actor=procurement)
                self.dispute_a_credited_line(contract, in_review)
        for statement in PenaltyStatement.objects.filter(computed_at__gte=started):
            self.date_the_steps(statement)
        for model in statement_models:
            self.created[model._meta.label] += model.objects.count() - counts_before[model]

    def date_the_steps(self, statement: PenaltyStatement) -> None:
        """The services stamp each step with the seeding moment; a past month's statement took its steps in the
        month after it, as procurement works: computed on the 5th (the close), submitted on the 8th, disputed on
        the 10th, approved on the 15th, invoiced on the 20th (never later than now). Meeting dashboards read the
        statements as they stood on the meeting day, from these dates."""
        after = add_months(statement.month, 1)
        now = timezone.now()
        steps = {
            step: min(self.at(after.replace(day=day), hour), now)
            for step, day, hour in (
                ("computed", 5, 6),
                ("submitted", 8, 10),
                ("disputed", 10, 16),
                ("approved", 15, 15),
                ("invoiced", 20, 11),
            )
        }
        PenaltyStatement.objects.filter(pk=statement.pk).update(
            computed_at=steps["computed"],
            **{
                f"{step}_at": steps[step]
                for step in ("submitted", "approved", "invoiced")
                if getattr(statement, f"{step}_at")
            },
        )
        by_action = {
            StatementAction.SUBMITTED: "submitted",
            StatementAction.LINE_DISPUTED: "disputed",
            StatementAction.APPROVED: "approved",
            StatementAction.INVOICED: "invoiced",
        }
        for event in StatementEvent.objects.filter(statement=statement):
            StatementEvent.objects.filter(pk=event.pk).update(created_at=steps[by_action.get(event.action, "computed")])
        by_status = {
            StatementStatus.IN_REVIEW: "submitted",
            StatementStatus.DISPUTED: "disputed",
            StatementStatus.APPROVED: "approved",
            StatementStatus.INVOICED: "invoiced",
        }
        for version in statement.history.all():
            statement.history.filter(pk=version.pk).update(
                history_date=steps[by_status.get(version.status, "computed")]
            )
        # Its lines' versions too (as computed; a waiver's, dated as its event): a past meeting's scorecard reads them.
        StatementLine.history.filter(statement_id=statement.pk).update(history_date=steps["computed"])
        LineDispute.objects.filter(line__statement=statement).update(created_at=steps["disputed"])

    def dispute_a_credited_line(self, contract, statement) -> None:
        line = statement.lines.filter(credit__gt=0).order_by("-credit").first()
        vendor_user = next((user for user in self.users.values() if user.vendor_id == contract.vendor_id), None)
        if line is None or vendor_user is None:
            return
        dispute_line(
            line_id=line.pk,
            actor=vendor_user,
            reason="Our ACD report shows a telephony-carrier outage on two days of the month; we ask for "
            "those days to be excluded under the force-majeure clause.",
        )


def _volume(params: dict, day: datetime.date, rng: random.Random) -> int:
    weekday = day.weekday()
    key = "saturday" if weekday == 5 else "sunday" if weekday == 6 else "weekday"
    base = params.get(key, params["weekday"]) * params.get("factor", 1)
    return max(0, round(base * (1 + rng.uniform(-VOLUME_NOISE, VOLUME_NOISE))))


def _share(total: int, rate: float, rng: random.Random, noise: float = RATE_NOISE) -> int:
    return min(total, max(0, round(total * (rate + rng.uniform(-noise, noise)))))


def _voice(params: dict, day: datetime.date, rng: random.Random) -> dict:
    offered = _volume(params, day, rng)
    sl = params["weekend_sl"] if day.weekday() >= 5 and "weekend_sl" in params else params["sl"]
    short = round(offered * SHORT_ABANDON_SHARE)
    counted = offered - short
    counted_abandons = round(counted * params["abandon"] * (1 + rng.uniform(-VOLUME_NOISE, VOLUME_NOISE)))
    answered = counted - counted_abandons
    within = min(answered, _share(counted, sl, rng))
    asa = 8 + (1 - within / counted) * 90 if counted else 0
    return {
        "offered": offered,
        "answered": answered,
        "answered_within_20s": within,
        "abandoned": counted_abandons + short,
        "short_abandoned": short,
        "total_wait_seconds": round(answered * asa),
        "handle_seconds": round(answered * params["aht"] * (1 + rng.uniform(-0.03, 0.03))),
    }


def _chat(params: dict, day: datetime.date, rng: random.Random) -> dict:
    offered = _volume(params, day, rng)
    answered = offered - round(offered * params["abandon"])
    return {
        "chats_offered": offered,
        "chats_answered": answered,
        "chats_answered_within_60s": min(answered, _share(offered, params["sl"], rng)),
    }


def _email(params: dict, day: datetime.date, rng: random.Random) -> dict:
    due = _volume(params, day, rng)
    return {"emails_due": due, "emails_answered_within_24h": _share(due, params["rate"], rng)}


def _social(params: dict, day: datetime.date, rng: random.Random) -> dict:
    # A few posts a day: each is answered in time or not, so rounding a rate would bias the month.
    posts = _volume(params, day, rng)
    answered = sum(rng.random() < params["rate"] for _ in range(posts))
    return {"social_posts": posts, "social_answered_within_60m": answered}


def _quality(params: dict, day: datetime.date, rng: random.Random) -> dict:
    evaluations = _volume(params, day, rng)
    possible = evaluations * 100
    return {
        "qa_evaluations": evaluations,
        "qa_points_possible": possible,
        "qa_points": _share(possible, params["score"], rng),
    }


def _csat(params: dict, day: datetime.date, rng: random.Random) -> dict:
    responses = _volume(params, day, rng)
    return {"csat_responses": responses, "csat_top2": _share(responses, params["rate"], rng, noise=0.012)}


def _workforce(params: dict, day: datetime.date, rng: random.Random) -> dict:
    scheduled = _volume(params, day, rng)
    return {"scheduled_minutes": scheduled, "adherent_minutes": _share(scheduled, params["adherence"], rng)}


FAMILIES = {
    "voice": _voice,
    "chat": _chat,
    "email": _email,
    "social": _social,
    "quality": _quality,
    "csat": _csat,
    "workforce": _workforce,
}


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _terms_of_reference(tier: str, contract: Contract) -> str:
    if tier == "tactical":
        return (
            f"Reviews {contract.reference}'s monthly service-level results, KPI data quality, open actions "
            "and the next month's forecast. Escalates to the executive steering committee."
        )
    return (
        f"Steers the {contract.reference} relationship: quarterly performance and credits, contract changes, "
        "innovation, risks and audit follow-up. Settles escalated disputes."
    )


def _minutes(committee: Committee, day: datetime.date, agenda: list, decision: str) -> str:
    lines = [f"# {committee.name} – {day:%d %B %Y}", "", "## Agenda", ""]
    lines += [f"{position}. {title}" for position, (title, _auto) in enumerate(agenda, start=1)]
    lines += [
        "",
        "## Discussion",
        "",
        "- The vendor presented the month's KPI pack; the client's figures were recomputed from the raw "
        "daily counts (ratio of sums, never the mean of daily percentages).",
        "- Open action items were reviewed one by one; late items were given a new owner or date.",
        "",
        "## Decisions",
        "",
        f"1. {decision}",
        "",
        "## Actions",
        "",
        "See the action items recorded with this meeting.",
    ]
    return "\n".join(lines)
