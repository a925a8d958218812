import datetime
import io
from collections import defaultdict

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from accounts.models import User
from audits.models import Audit
from contracts.models import Contract, Vendor
from contracts.months import add_months, first_of_month, last_day_of_month
from demo import data
from governance.choices import ActionStatus, Cadence, MeetingStatus
from governance.models import ActionItem, Committee
from sla_tracker.choices import ChangeAction, MeasurementSource
from sla_tracker.completeness import completeness
from sla_tracker.models import Measurement, MeasurementChange, PenaltyStatement

TODAY = datetime.date(2026, 11, 26)
PROJECT_APPS = ["accounts", "contracts", "sla_tracker", "governance", "audits"]
CADENCE_MONTHS = {Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3, Cadence.SEMIANNUAL: 6, Cadence.ANNUAL: 12}

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module inside a transaction rolled back at the end; each test runs in a
    savepoint within it, so tests may write without touching the others' view."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", today=TODAY.isoformat(), stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }


def test_running_the_seed_twice_creates_and_changes_nothing(seeded):
    counts = _row_counts()
    measurements = list(Measurement.objects.order_by("pk").values_list("pk", "value", "updated_at"))

    call_command("seed_demo", today=TODAY.isoformat(), stdout=io.StringIO())

    assert _row_counts() == counts
    assert list(Measurement.objects.order_by("pk").values_list("pk", "value", "updated_at")) == measurements
    assert counts["sla_tracker.Measurement"] > 10_000


def test_no_measurement_is_duplicated(seeded):
    duplicates = Measurement.objects.values("contract", "counter", "day").annotate(rows=Count("id")).filter(rows__gt=1)
    assert not duplicates.exists()


def test_every_seeded_value_has_its_creation_in_the_data_history(seeded):
    seeded_values = set(
        Measurement.objects.filter(source=MeasurementSource.SEED).values_list("contract", "counter", "day", "value")
    )
    logged = list(
        MeasurementChange.objects.filter(source=MeasurementSource.SEED).values_list(
            "contract", "counter", "day", "new_value", "action"
        )
    )

    assert len(logged) == len(seeded_values) > 10_000
    assert {entry[:4] for entry in logged} == seeded_values
    assert {entry[4] for entry in logged} == {ChangeAction.CREATE}


def test_every_demo_user_has_its_role_and_signs_in_with_the_printed_password(seeded, rf):
    request = rf.post("/sign-in/")  # the sign-in guard (django-axes) needs the request
    for username, role, _first, _last, vendor_name, password in data.USERS:
        user = authenticate(request, username=username, password=password)

        assert user is not None, username
        assert user.role == role
        assert user.is_staff == (vendor_name is None)
        assert (user.vendor.name if user.vendor else None) == vendor_name
    assert authenticate(request, username="admin", password="demo-administrator-2026").is_superuser


def test_three_vendors_and_contracts_in_distinct_currencies(seeded):
    assert Vendor.objects.count() >= 3
    assert Contract.objects.count() >= 3
    assert Contract.objects.values("currency").distinct().count() >= 3
    assert Vendor.objects.filter(users__isnull=False).distinct().count() >= 2


def test_the_demo_contracts_count_business_days_in_their_jurisdictions_calendar_or_monday_to_friday(seeded):
    calendars = dict(
        Contract.objects.filter(reference__startswith="DEMO-").values_list("reference", "calendar_country")
    )
    assert calendars == {"DEMO-A": "FR", "DEMO-B": "GB", "DEMO-C": "", "DEMO-D": ""}
    assert Contract.objects.get(reference="DEMO-B").business_calendar.code == "GB-ENG"


def test_contract_a_has_twelve_months_of_daily_data_ending_last_month(seeded):
    last_month = add_months(first_of_month(TODAY), -1)
    first_month = add_months(last_month, -11)
    expected_days = (last_day_of_month(last_month) - first_month).days + 1

    answered = Measurement.objects.filter(contract__reference="DEMO-A", counter__code="answered")

    assert answered.values("month").distinct().count() == 12
    assert answered.count() == expected_days
    assert answered.filter(day__lt=first_month).count() == 0
    assert answered.filter(day__gt=last_day_of_month(last_month)).count() == 0


def test_subset_counters_never_exceed_their_bound_on_any_day(seeded):
    values = defaultdict(dict)
    for contract, day, code, value in Measurement.objects.values_list("contract", "day", "counter__code", "value"):
        values[contract, day][code] = value
    bounds = [(code, bound) for code, _name, _channel, _unit, bound, _text in data.COUNTERS if bound]

    for (contract, day), day_values in values.items():
        for code, bound in bounds:
            if code in day_values:
                assert day_values[code] <= day_values[bound], (contract, day, code)
        for value in day_values.values():
            assert value == int(value) and value >= 0


def test_governance_shows_an_overdue_action_and_a_lapsed_committee(seeded):
    overdue = ActionItem.objects.filter(status__in=ActionStatus.open_values(), due_date__lt=TODAY)
    assert overdue.exists()

    lapsed = []
    for committee in Committee.objects.annotate(
        last_held=Max("meetings__scheduled_for", filter=Q(meetings__status=MeetingStatus.HELD))
    ).filter(last_held__isnull=False):
        months = CADENCE_MONTHS[committee.cadence]
        if committee.last_held.date() < _months_before(TODAY, months):
            lapsed.append(committee.name)
    assert lapsed == ["DEMO-C executive steering committee"]


def test_one_contract_ends_within_90_to_200_days(seeded):
    ends = [(contract.end_date - TODAY).days for contract in Contract.objects.all()]
    assert any(90 <= days <= 200 for days in ends)


def _months_before(day: datetime.date, count: int) -> datetime.date:
    month = add_months(first_of_month(day), -count)
    return month.replace(day=min(day.day, last_day_of_month(month).day))


def test_the_demo_statements_come_from_the_monthly_close_and_walk_their_lifecycle(seeded):
    from sla_tracker.choices import StatementStatus
    from sla_tracker.models import LineDispute, PenaltyStatement

    contract_a = Contract.objects.get(reference="DEMO-A")
    statements = list(PenaltyStatement.objects.filter(contract=contract_a).order_by("month"))
    assert len(statements) == data.KPI_MONTHS
    assert {s.status for s in statements[:-2]} == {StatementStatus.INVOICED}
    assert statements[-2].status in (StatementStatus.IN_REVIEW, StatementStatus.DISPUTED)
    assert statements[-1].status == StatementStatus.DRAFT
    # The cap-binding month of contract A: credits of three defaults capped at the €24,000 at-risk amount.
    assert any(s.cap_reached and s.credits == 24_000 for s in statements)
    assert all(s.lines.count() == s.contract.service_levels.count() for s in statements)
    assert LineDispute.objects.filter(line__statement__status=StatementStatus.DISPUTED).exists()


def test_the_demo_shows_the_governance_alerts_the_rules_compute(seeded):
    from contracts.selectors import notice_deadlines_within
    from governance.selectors import committees_with_compliance, overdue_action_items

    assert overdue_action_items(today=TODAY).exists()
    assert any(not committee.is_compliant for committee in committees_with_compliance(today=TODAY))
    assert notice_deadlines_within(days=90, today=TODAY)


def test_the_demo_exclusion_was_proposed_by_the_vendor_manager_and_decided_by_procurement(seeded):
    from accounts.roles import reviews_statements
    from sla_tracker.choices import ApprovalStatus
    from sla_tracker.models import Exclusion

    exclusion = Exclusion.objects.get(status=ApprovalStatus.APPROVED)
    assert exclusion.requested_by.role == "vendor_manager"
    assert reviews_statements(exclusion.decided_by)


def test_the_seeded_audits_timelines_run_in_order(seeded):
    for audit in Audit.objects.exclude(notice_date=None):
        planned = timezone.localtime(audit.created_at).date()
        dates = [planned, audit.notice_date, audit.fieldwork_start, audit.report_date or audit.fieldwork_start]
        assert dates == sorted(dates), audit.reference


def test_the_months_with_a_statement_have_complete_data(seeded):
    # The demo's data are logged on every day its counters are expected (completeness), so that no statement
    # warns of missing days: a counter of no channel (quality) is expected on every day a channel is covered.
    admin = User.objects.get(username="admin")
    incomplete = []
    for contract in Contract.objects.all():
        months = sorted(set(PenaltyStatement.objects.filter(contract=contract).values_list("month", flat=True)))
        for (_pk, month), status in completeness(admin, [contract], months, TODAY).items():
            incomplete += [(contract.reference, month, gap.code) for gap in status.gaps]
    assert incomplete == []


def test_the_excused_days_were_proposed_before_they_were_approved(seeded):
    from sla_tracker.models import Exclusion

    for exclusion in Exclusion.objects.filter(decided_at__isnull=False):
        assert exclusion.history.earliest("history_date").history_date < exclusion.decided_at


def test_each_statement_took_its_steps_in_the_month_after_its_own(seeded):
    from sla_tracker.models import StatementEvent, StatementLine

    for statement in PenaltyStatement.objects.all():
        following = add_months(statement.month, 1)
        moments = [statement.computed_at, statement.submitted_at, statement.approved_at, statement.invoiced_at]
        moments = [timezone.localtime(moment).date() for moment in moments if moment]
        assert moments == sorted(moments)
        assert all(following <= day <= last_day_of_month(following) for day in moments), (statement, moments)
        events = list(StatementEvent.objects.filter(statement=statement).order_by("id"))
        assert [event.created_at for event in events] == sorted(event.created_at for event in events)
        assert statement.history.earliest("history_date").history_date == statement.computed_at
        lines = StatementLine.history.filter(statement_id=statement.pk)
        assert set(lines.values_list("history_date", flat=True)) == {statement.computed_at}
