"""The monthly close through the database: ORM rows → engine → statements.

Contracts are seeded from the DOMAIN.md §6 scenario files (tests/sla_tracker/engine/scenarios/),
so the same figures are checked through the engine, the simulator and the close.
"""

import json
import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from contracts.choices import Channel
from contracts.models import Contract
from sla_tracker.choices import (
    CreditType,
    LineStatus,
    MeasurementSource,
    MinVolumeRule,
    StatementAction,
    StatementStatus,
)
from sla_tracker.engine import (
    AllocationCredit,
    FixedCredit,
    LinearCredit,
    Month,
    MonthRange,
    TieredCredit,
    round_half_up,
)
from sla_tracker.engine.scenario import load_scenario, run_scenario
from sla_tracker.kpi_import.service import save_measurements
from sla_tracker.kpi_import.validation import KpiValue
from sla_tracker.models import (
    Measurement,
    PenaltyStatement,
    StatementAdjustment,
    StatementEvent,
    StatementLine,
)
from sla_tracker.services import (
    approve_statement,
    close_contract_month,
    submit_statement,
    waive_line,
)
from tests.factories import (
    ContractFactory,
    ContractScopeFactory,
    CreditMultiplierFactory,
    CreditTierFactory,
    ExclusionFactory,
    IncidentFactory,
    KpiCounterFactory,
    MonthlyChargeFactory,
    PenaltyRegimeFactory,
    ServiceLevelFactory,
    ServiceLevelVersionFactory,
    TerminationTriggerFactory,
    UserFactory,
)

SCENARIOS = Path(__file__).parent / "engine" / "scenarios"
D = Decimal
AS_OF = date(2027, 6, 1)  # long after every scenario month: no line is provisional


def scenario_json(name: str) -> dict:
    return json.loads((SCENARIOS / f"{name}.json").read_text(encoding="utf-8"))


def seed_scenario(data: dict, *, reference: str | None = None) -> Contract:
    """Create a contract whose terms, charges and data are those of a scenario (terms from its first month)."""
    scenario = load_scenario(data)
    terms, months = scenario.terms, scenario.months
    start = months.first.first_day
    contract = ContractFactory(
        start_date=start, currency=terms.currency, **({"reference": reference} if reference else {})
    )
    PenaltyRegimeFactory(
        contract=contract,
        valid_from=start,
        at_risk_pct=terms.at_risk_pct,
        pool_pct=terms.pool_pct,
        annual_cap_pct=terms.annual_cap_pct,
        contract_year_start_month=terms.contract_year_start,
    )
    for trigger in terms.termination_triggers:
        TerminationTriggerFactory(
            contract=contract, trigger_type=str(trigger.type), months=trigger.months, window=trigger.window
        )
    levels = {}
    for order, item in enumerate(terms.service_levels):
        level = ServiceLevelFactory(contract=contract, code=item.code, name=item.name, display_order=order)
        levels[item.code] = level
        version = ServiceLevelVersionFactory(service_level=level, valid_from=start, **_version_fields(item))
        if isinstance(item.credit, TieredCredit):
            for band in item.credit.bands:
                CreditTierFactory(version=version, lower=band.lower, upper=band.upper, pct=band.pct)
        for multiplier in item.multipliers:
            CreditMultiplierFactory(version=version, run=multiplier.run, factor=multiplier.factor)
    needed = set(months)
    if terms.annual_cap_pct is not None:
        for month in months:
            first = terms.contract_year_of(month)
            needed.update(MonthRange(first, first + 11))
    for month in sorted(needed):
        MonthlyChargeFactory(contract=contract, month=month.first_day, amount=scenario.data.charges.for_month(month))
    counters = {}
    rows = []
    for row in scenario.data.rows:
        for name, value in row.values.items():
            counter = counters.get(name) or counters.setdefault(name, KpiCounterFactory(code=name))
            rows.append(
                Measurement(
                    contract=contract,
                    counter=counter,
                    month=row.month.first_day,
                    day=row.day,
                    value=value,
                    source=MeasurementSource.MANUAL,
                )
            )
    Measurement.objects.bulk_create(rows)
    for exclusion in scenario.data.exclusions:
        ExclusionFactory(
            contract=contract,
            approved=True,
            start_date=exclusion.start,
            end_date=exclusion.end,
            service_levels=[levels[code] for code in exclusion.service_levels or ()],
        )
    for incident in scenario.data.incidents:
        IncidentFactory(
            contract=contract,
            occurred_on=incident.month.first_day,
            service_levels=[levels[code] for code in incident.service_levels],
            selected_service_level=levels[incident.selected] if incident.selected else None,
        )
    return contract


def _version_fields(item) -> dict:
    fields = {
        "kind": str(item.kind),
        "numerator": [str(term) for term in item.numerator],
        "denominator": [str(term) for term in item.denominator],
        "scale": item.scale,
        "direction": str(item.direction),
        "expected": item.expected,
        "minimum": item.minimum,
        "precision": item.precision,
        "cap_pct": item.cap_pct,
        "finalisation_days": item.finalisation_days,
        "credit_type": CreditType.NONE,
        "allocation_pct": None,
    }
    if item.expected_miss_rule:
        fields["expected_miss_occurrences"] = item.expected_miss_rule.occurrences
        fields["expected_miss_window"] = item.expected_miss_rule.window
    if item.min_volume:
        fields["min_volume"] = int(item.min_volume.at_least)
        fields["min_volume_rule"] = MinVolumeRule(str(item.min_volume.rule))
    credit = item.credit
    if isinstance(credit, AllocationCredit):
        fields.update(credit_type=CreditType.ALLOCATION, allocation_pct=credit.allocation_pct)
    elif isinstance(credit, FixedCredit):
        fields.update(credit_type=CreditType.FIXED, fixed_amount=credit.amount)
    elif isinstance(credit, TieredCredit):
        fields.update(credit_type=CreditType.TIERS)
    elif isinstance(credit, LinearCredit):
        fields.update(
            credit_type=CreditType.LINEAR, pct_per_point=credit.pct_per_point, shortfall_rounding=str(credit.shortfall)
        )
    if item.earn_back:
        fields.update(earn_back_months=item.earn_back.months, earn_back_pct=item.earn_back.pct)
    if item.bonus:
        fields.update(
            bonus_above=item.bonus.above,
            bonus_pct_per_full_point=item.bonus.pct_per_full_point,
            bonus_max_pct=item.bonus.max_pct,
        )
    return fields


def close(contract: Contract, month: str, **kwargs) -> PenaltyStatement:
    return close_contract_month(contract_id=contract.pk, month=month, as_of=AS_OF, **kwargs)


def statement_of(contract: Contract, month: str) -> PenaltyStatement:
    return PenaltyStatement.objects.get(contract=contract, month=Month.parse(month).first_day)


def line_of(contract: Contract, month: str, code: str) -> StatementLine:
    return StatementLine.objects.get(
        statement__contract=contract, statement__month=Month.parse(month).first_day, service_level__code=code
    )


def snapshot(contract: Contract) -> list[tuple]:
    """Every stored figure of a contract's statements and lines, for comparisons."""
    statements = list(
        PenaltyStatement.objects.filter(contract=contract)
        .order_by("month")
        .values_list(
            "pk",
            "month",
            "status",
            "charges",
            "at_risk_amount",
            "uncapped_credits",
            "cap_reached",
            "credits",
            "bonuses",
            "earn_backs",
            "adjustments",
            "net",
            "termination_rights",
            "input_fingerprint",
            "computed_at",
        )
    )
    lines = list(
        StatementLine.objects.filter(statement__contract=contract)
        .order_by("statement__month", "service_level__code")
        .values_list(
            "pk",
            "service_level__code",
            "terms_id",
            "measured",
            "numerator",
            "denominator",
            "status",
            "run",
            "raw_credit",
            "credit",
            "bonus",
            "earn_back",
            "explanation",
            "inputs",
            "waived",
        )
    )
    return [*statements, *lines]


# DOMAIN.md §6 examples through the database ------------------------------------------------------------


@pytest.mark.django_db
def test_example_1_a_plain_breach_credits_60_percent_of_the_at_risk_amount():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))

    statement = close(contract, "2026-01")

    line = line_of(contract, "2026-01", "CSL-1")
    assert statement.charges == D("200000.00")
    assert statement.at_risk_amount == D("24000.00")
    assert line.status == LineStatus.DEFAULT
    assert round_half_up(line.measured, 2) == D("73.26")
    assert line.denominator == 43_000
    assert line.credit == D("14400.00")
    assert line.terms.service_level == line.service_level
    assert line.explanation == (
        "73.26 % < 80 % target → default; allocation 60 % × €24,000.00 at risk = €14,400.00; monthly cap not reached"
    )
    # The sums of the counters of the line's own formula, not of every counter of the contract.
    assert line.inputs["counter_sums"] == {
        "abandoned": "2400",
        "answered": "41000",
        "answered_within_20s": "31500",
        "short_abandoned": "400",
    }
    assert line_of(contract, "2026-01", "CSL-3").inputs["counter_sums"] == {
        "emails_answered_24bh": "9700",
        "emails_due": "10000",
    }
    assert statement.credits == D("14400.00")
    assert statement.net == D("-14400.00")
    assert statement.status == StatementStatus.DRAFT
    assert len(statement.input_fingerprint) == 64
    assert statement.lines.count() == 5


@pytest.mark.django_db
def test_example_7_the_at_risk_cap_binds_and_is_attributed_pro_rata():
    contract = seed_scenario(scenario_json("ex07_pool_with_cap_binding"))

    statement = close(contract, "2026-07")

    assert statement.uncapped_credits == D("31200.00")
    assert statement.cap_reached
    assert statement.credits == D("24000.00")
    credits = list(statement.lines.order_by("service_level__code").values_list("credit", flat=True))
    assert credits == [D("11076.92"), D("0.00"), D("7384.62"), D("5538.46"), D("0.00")]


# The close as a whole ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_closing_a_month_first_closes_the_earlier_months_without_a_statement_in_order():
    contract = seed_scenario(scenario_json("ex09_multiplier"))

    close(contract, "2026-07")

    months = list(PenaltyStatement.objects.filter(contract=contract).order_by("month").values_list("month", flat=True))
    assert months == [Month(2026, number).first_day for number in range(2, 8)]
    events = StatementEvent.objects.filter(statement__contract=contract)
    assert set(events.values_list("action", flat=True)) == {StatementAction.COMPUTED}
    assert events.count() == 6


@pytest.mark.django_db
def test_a_month_is_closed_once_it_is_over_not_before():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))

    for as_of in (date(2026, 1, 15), date(2026, 1, 31)):
        with pytest.raises(ValidationError, match="January 2026 is not over"):
            close_contract_month(contract_id=contract.pk, month="2026-01", as_of=as_of)
    with translation.override("fr"), pytest.raises(ValidationError, match="janvier 2026 n"):
        close_contract_month(contract_id=contract.pk, month="2026-01", as_of=date(2026, 1, 31))
    assert not PenaltyStatement.objects.filter(contract=contract).exists()
    statement = close_contract_month(contract_id=contract.pk, month="2026-01", as_of=date(2026, 2, 1))
    assert statement.month == date(2026, 1, 1)


@pytest.mark.django_db
def test_closing_the_same_month_twice_changes_no_row():
    contract = seed_scenario(scenario_json("ex13_termination_triggers"))
    close(contract, "2026-09")
    before = snapshot(contract)
    events = StatementEvent.objects.count()

    close(contract, "2026-09")
    close(contract, "2026-05")

    assert snapshot(contract) == before
    assert StatementEvent.objects.count() == events
    assert PenaltyStatement.objects.filter(contract=contract).count() == 9


@pytest.mark.django_db
def test_a_recomputation_after_a_data_change_updates_the_draft_in_place():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    statement = close(contract, "2026-01")
    fingerprint = statement.input_fingerprint
    Measurement.objects.filter(contract=contract, counter__code="answered_within_20s").update(value=40_000)

    again = close(contract, "2026-01")

    assert again.pk == statement.pk
    assert again.input_fingerprint != fingerprint
    assert line_of(contract, "2026-01", "CSL-1").status == LineStatus.MET
    assert again.credits == D("0.00")
    assert StatementEvent.objects.filter(statement=statement, action=StatementAction.RECOMPUTED).count() == 1


@pytest.mark.django_db
def test_the_statements_history_records_its_computation_and_each_recomputation_with_who(admin_user):
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    statement = close(contract, "2026-01")
    Measurement.objects.filter(contract=contract, counter__code="answered_within_20s").update(value=40_000)

    close(contract, "2026-01", actor=admin_user)

    records = list(statement.history.order_by("history_id"))
    assert [(record.history_type, record.history_user) for record in records] == [("+", None), ("~", admin_user)]
    assert [(record.credits, record.net) for record in records] == [(D("14400.00"), D("-14400.00")), (D("0"), D("0"))]
    assert records[1].input_fingerprint == PenaltyStatement.objects.get(pk=statement.pk).input_fingerprint


@pytest.mark.django_db
def test_a_month_without_charges_cannot_be_closed():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))

    with pytest.raises(ValidationError, match="no monthly charges for February 2026"):
        close(contract, "2026-02")


@pytest.mark.django_db
def test_excluded_days_are_removed_from_the_month():
    contract = seed_scenario(scenario_json("ex11_excluded_days"))
    expected = run_scenario(scenario_json("ex11_excluded_days"))["months"][0]

    close(contract, "2026-04")

    line = line_of(contract, "2026-04", "CSL-1")
    assert line.inputs["excluded_days"]
    wanted = next(item for item in expected["service_levels"] if item["code"] == "CSL-1")
    assert (str(round_half_up(line.measured, 4)), line.status, str(line.credit)) == (
        wanted["measured"],
        wanted["status"],
        wanted["credit"],
    )


# History as it stands ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_waived_credit_is_not_earned_back_later():
    data = scenario_json("ex10_earn_back")
    kept, waived = seed_scenario(data), seed_scenario(data)
    for contract in (kept, waived):
        close(contract, "2026-01")
    jan = line_of(waived, "2026-01", "CSL-1")
    assert jan.credit > 0
    waive_line(line_id=jan.pk, actor=UserFactory(procurement=True), reason="Goodwill after the migration.")

    for contract in (kept, waived):
        close(contract, "2026-04")

    assert line_of(kept, "2026-04", "CSL-1").earn_back == jan.credit
    assert line_of(waived, "2026-04", "CSL-1").earn_back == D("0.00")
    assert statement_of(waived, "2026-01").credits == statement_of(kept, "2026-01").credits - jan.credit


# Approved statements are never changed --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_correction_after_approval_becomes_one_adjustment_in_the_next_open_statement():
    contract = seed_scenario(scenario_json("ex03_exactly_at_target_and_rounding_trap"))
    close(contract, "2026-02")
    feb = statement_of(contract, "2026-02")
    user = UserFactory(procurement=True)
    submit_statement(statement_id=feb.pk, actor=user)
    approve_statement(statement_id=feb.pk, actor=user)
    approved = snapshot(contract)
    Measurement.objects.create(
        contract=contract,
        counter=KpiCounterFactory(code="answered_within_20s"),
        month=date(2026, 3, 1),
        value=40_000,
        source=MeasurementSource.MANUAL,
    )
    for code in ("answered", "abandoned", "short_abandoned"):
        Measurement.objects.create(
            contract=contract,
            counter=KpiCounterFactory(code=code),
            month=date(2026, 3, 1),
            value={"answered": 41_000, "abandoned": 2_400, "short_abandoned": 400}[code],
            source=MeasurementSource.MANUAL,
        )
    MonthlyChargeFactory(contract=contract, month=date(2026, 3, 1), amount=D("200000.00"))
    close(contract, "2026-03")
    # February's data corrected after approval: CSL-1 was in fact met.
    Measurement.objects.filter(contract=contract, month=date(2026, 2, 1), counter__code="answered_within_20s").update(
        value=34_400
    )

    close(contract, "2026-02")
    close(contract, "2026-02")

    assert snapshot(contract)[:2] == approved[:2]
    assert line_of(contract, "2026-02", "CSL-1").credit == D("14400.00")
    adjustment = StatementAdjustment.objects.get()
    assert adjustment.origin == feb
    assert adjustment.statement == statement_of(contract, "2026-03")
    assert adjustment.service_level.code == "CSL-1"
    assert adjustment.amount == D("14400.00")
    mar = statement_of(contract, "2026-03")
    assert mar.adjustments == D("14400.00")
    assert mar.net == mar.bonuses + mar.earn_backs - mar.credits + D("14400.00")
    assert StatementEvent.objects.filter(statement=mar, action=StatementAction.ADJUSTED).count() == 1


# Performance and concurrency -----------------------------------------------------------------------------


def seed_synthetic(service_levels: int, days: int) -> Contract:
    """A January contract with ``service_levels`` allocation CSLs and ``days`` days of counters,
    one approved exclusion, a tiered and a multiplied service level and an incident."""
    contract = ContractFactory(start_date=date(2026, 1, 1))
    PenaltyRegimeFactory(contract=contract, valid_from=date(2026, 1, 1))
    TerminationTriggerFactory(contract=contract)
    MonthlyChargeFactory(contract=contract, month=date(2026, 1, 1), amount=D("200000.00"))
    levels = []
    for index in range(service_levels):
        level = ServiceLevelFactory(contract=contract, code=f"CSL-{index + 1}")
        levels.append(level)
        if index == 0:
            version = ServiceLevelVersionFactory(service_level=level, valid_from=date(2026, 1, 1), tiers=True)
            CreditTierFactory(version=version)
        else:
            version = ServiceLevelVersionFactory(
                service_level=level, valid_from=date(2026, 1, 1), allocation_pct=D("10")
            )
            CreditMultiplierFactory(version=version)
    counters = [KpiCounterFactory(code=code) for code in ("answered_within_20s", "answered", "abandoned")]
    Measurement.objects.bulk_create(
        Measurement(
            contract=contract,
            counter=counter,
            month=date(2026, 1, 1),
            day=date(2026, 1, 1) + timedelta(days=offset),
            value=value,
            source=MeasurementSource.MANUAL,
        )
        for offset in range(days)
        for counter, value in zip(counters, (700, 900, 100), strict=True)
    )
    ExclusionFactory(contract=contract, approved=True, start_date=date(2026, 1, 3), end_date=date(2026, 1, 4))
    IncidentFactory(contract=contract, occurred_on=date(2026, 1, 5), service_levels=levels[:2])
    return contract


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_service_levels_or_days():
    small, large = seed_synthetic(2, 10), seed_synthetic(6, 28)
    counts = []
    for contract in (small, large):
        with CaptureQueriesContext(connection) as first:
            close(contract, "2026-01")
        with CaptureQueriesContext(connection) as again:
            close(contract, "2026-01")
        counts.append((len(first), len(again)))

    assert counts[0] == counts[1]
    assert statement_of(large, "2026-01").lines.count() == 6


@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_the_same_month_write_one_statement(postgres_only):
    contract = seed_scenario(scenario_json("ex09_multiplier"))
    barrier = threading.Barrier(2)
    errors = []

    def work():
        try:
            barrier.wait()
            close(contract, "2026-07")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert PenaltyStatement.objects.filter(contract=contract).count() == 6
    reference = seed_scenario(scenario_json("ex09_multiplier"))
    close(reference, "2026-07")
    assert figures(contract) == figures(reference)
    assert StatementEvent.objects.filter(statement__contract=contract).count() == 6


def figures(contract: Contract) -> list[tuple]:
    """The snapshot without row ids, computation times and terms ids (which differ between contracts)."""
    rows = snapshot(contract)
    count = PenaltyStatement.objects.filter(contract=contract).count()
    return [row[1:-1] for row in rows[:count]] + [row[1:2] + row[3:] for row in rows[count:]]


# The command ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_compute_penalties_sync_closes_one_contract_and_reports_progress(capsys):
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    other = seed_scenario(scenario_json("ex01_plain_breach"))

    call_command("compute_penalties", "--month", "2026-01", "--contract", contract.reference.swapcase(), "--sync")

    out = capsys.readouterr().out
    assert f"[1/1] {contract.reference} 2026-01: Draft, credits 14400.00, net -14400.00" in out
    assert statement_of(contract, "2026-01").credits == D("14400.00")
    assert not PenaltyStatement.objects.filter(contract=other).exists()


@pytest.mark.django_db
def test_compute_penalties_sync_closes_every_active_contract(capsys):
    first = seed_scenario(scenario_json("ex07_pool_with_cap_binding"))
    second = seed_scenario(scenario_json("ex07_pool_with_cap_binding"))
    draft = ContractFactory(status="draft")

    call_command("compute_penalties", "--month", "2026-07", "--sync")

    out = capsys.readouterr().out
    assert "[2/2]" in out
    assert "Closed 2 of 2 contract(s) for 2026-07." in out
    assert statement_of(first, "2026-07").credits == statement_of(second, "2026-07").credits == D("24000.00")
    assert not PenaltyStatement.objects.filter(contract=draft).exists()


@pytest.mark.django_db
def test_compute_penalties_reports_a_contract_that_cannot_be_closed_and_fails(capsys):
    contract = seed_scenario(scenario_json("ex01_plain_breach"))

    with pytest.raises(CommandError, match="1 contract"):
        call_command("compute_penalties", "--month", "2026-07", "--contract", contract.reference, "--sync")

    assert "has no monthly charges for February 2026" in capsys.readouterr().err


@pytest.mark.django_db
def test_compute_penalties_without_sync_queues_the_celery_fan_out(capsys):
    """Tests run Celery eagerly, so the queued tasks have run when the command returns."""
    contract = seed_scenario(scenario_json("ex07_pool_with_cap_binding"))
    unclosable = seed_scenario(scenario_json("ex01_plain_breach"))

    call_command("compute_penalties", "--month", "2026-07")

    assert "Queued the close of 2026-07 for 2 contract(s)." in capsys.readouterr().out
    assert statement_of(contract, "2026-07").credits == D("24000.00")
    assert not PenaltyStatement.objects.filter(contract=unclosable).exists()


# The Celery tasks ----------------------------------------------------------------------------------------


def test_the_tasks_have_stable_names_ack_late_and_retry_only_transient_database_errors():
    from django.db import InterfaceError, OperationalError

    from sla_tracker.tasks import (
        close_missed_contracts,
        compute_month,
        evaluate_contract_month,
        evaluate_contracts_month,
    )

    assert (compute_month.name, evaluate_contract_month.name, evaluate_contracts_month.name) == (
        "sla_tracker.compute_month",
        "sla_tracker.evaluate_contract_month",
        "sla_tracker.evaluate_contracts_month",
    )
    for task in (compute_month, evaluate_contract_month, evaluate_contracts_month, close_missed_contracts):
        assert task.acks_late and task.reject_on_worker_lost
        assert set(task.autoretry_for) == {OperationalError, InterfaceError}


def test_every_beat_entry_names_a_registered_task():
    from django.conf import settings

    from config.celery_app import app

    app.loader.import_default_modules()  # what a worker does at start: the apps' tasks modules
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "sla_tracker.close_missed_contracts" in names
    assert names <= set(app.tasks)


@pytest.mark.django_db
def test_compute_month_fans_out_one_task_per_active_contract_and_is_idempotent():
    from sla_tracker.tasks import compute_month

    contracts = [seed_scenario(scenario_json("ex07_pool_with_cap_binding")) for _ in range(2)]

    assert compute_month.delay("2026-07").get() == 2
    before = [figures(contract) for contract in contracts]
    compute_month.delay("2026-07").get()

    assert [figures(contract) for contract in contracts] == before
    assert PenaltyStatement.objects.count() == 2


@pytest.mark.django_db
def test_enqueue_month_close_queues_the_close_when_the_transaction_commits(django_capture_on_commit_callbacks):
    from sla_tracker.services import enqueue_month_close

    contract = seed_scenario(scenario_json("ex07_pool_with_cap_binding"))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_month_close(month="2026-07")
    assert not PenaltyStatement.objects.exists()
    callbacks[0]()

    assert statement_of(contract, "2026-07").credits == D("24000.00")


@pytest.mark.django_db
def test_a_difference_without_an_open_statement_to_carry_it_is_recorded_once_then_carried_later():
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    jan = close(contract, "2026-01")
    user = UserFactory(procurement=True)
    submit_statement(statement_id=jan.pk, actor=user)
    approve_statement(statement_id=jan.pk, actor=user)
    Measurement.objects.filter(contract=contract, counter__code="answered_within_20s").update(value=40_000)

    close(contract, "2026-01")
    close(contract, "2026-01")

    pending = StatementEvent.objects.filter(statement=jan, action=StatementAction.RECOMPUTED)
    assert [event.data for event in pending] == [{"pending": {"CSL-1": "14400.00"}}]
    assert not StatementAdjustment.objects.exists()

    MonthlyChargeFactory(contract=contract, month=date(2026, 2, 1), amount=D("200000.00"))
    close(contract, "2026-02")
    close(contract, "2026-01")

    adjustment = StatementAdjustment.objects.get()
    assert (adjustment.statement, adjustment.amount) == (statement_of(contract, "2026-02"), D("14400.00"))


@pytest.mark.django_db
def test_the_daily_job_recomputes_the_open_statements_whose_data_changed():
    from sla_tracker.tasks import recompute_changed_drafts

    changed = seed_scenario(scenario_json("ex01_plain_breach"))
    unchanged = seed_scenario(scenario_json("ex01_plain_breach"))
    for contract in (changed, unchanged):
        close(contract, "2026-01")
    before = snapshot(unchanged)
    Measurement.objects.filter(contract=changed, counter__code="answered_within_20s").update(value=40_000)

    assert recompute_changed_drafts.delay().get() == 2

    assert statement_of(changed, "2026-01").credits == D("0.00")
    assert snapshot(unchanged) == before


def _hand_entry(contract: Contract, month: str, **values) -> None:
    if not contract.scopes.exists():
        ContractScopeFactory(contract=contract, channel=Channel.VOICE)
    items = [
        KpiValue(counter=code, period=month, value=D(value), row=1, column=code, period_column="month")
        for code, value in values.items()
    ]
    save_measurements(
        contract=contract, values=items, source=MeasurementSource.MANUAL, actor=contract.owner, today=date(2026, 11, 27)
    )


@pytest.mark.django_db
def test_a_kpi_write_recomputes_the_open_statements_once_it_commits(django_capture_on_commit_callbacks):
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    assert close(contract, "2026-01").credits == D("14400.00")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _hand_entry(contract, "2026-01", answered_within_20s=40_000)

    assert len(callbacks) == 1
    statement = statement_of(contract, "2026-01")
    assert statement.credits == D("0.00")
    assert statement.events.filter(action=StatementAction.RECOMPUTED).exists()


@pytest.mark.django_db
def test_a_kpi_write_that_changes_nothing_or_only_later_months_recomputes_nothing(
    django_capture_on_commit_callbacks,
):
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    close(contract, "2026-01")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _hand_entry(contract, "2026-01", answered_within_20s=31_500)  # the stored value
        _hand_entry(contract, "2026-02", answered_within_20s=30_000)  # no statement from February on

    assert callbacks == []
    assert statement_of(contract, "2026-01").credits == D("14400.00")


@pytest.mark.django_db
def test_recomputing_a_contract_redoes_its_open_months_oldest_first():
    from sla_tracker.tasks import recompute_contract_drafts

    contract = seed_scenario(scenario_json("ex09_multiplier"))
    close(contract, "2026-07")
    before = snapshot(contract)
    Measurement.objects.filter(contract=contract, month=date(2026, 3, 1), counter__code="abandoned").update(value=400)

    assert recompute_contract_drafts.delay(contract.pk).get() == 6

    march, april = statement_of(contract, "2026-03"), statement_of(contract, "2026-04")
    assert march.credits == D("0.00")
    # April's run restarts at 1 now that March is met: no ×1.5 multiplier any more.
    assert april.lines.get(service_level__code="CSL-2").run == 1
    assert snapshot(contract) != before


@pytest.mark.django_db
def test_the_monthly_job_closes_last_month(monkeypatch):
    from sla_tracker import tasks

    queued = []
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: date(2026, 11, 5))
    monkeypatch.setattr(tasks, "compute_month", lambda month: queued.append(month) or 0)
    tasks.close_previous_month()
    assert queued == ["2026-10"]


@pytest.mark.django_db
def test_the_daily_safety_net_closes_last_month_for_the_contracts_the_close_missed(monkeypatch, settings):
    from contracts.models import Contract
    from sla_tracker import tasks

    settings.MONTHLY_CLOSE_DAY = 5
    closed, missed, not_yet_in_term = (seed_scenario(scenario_json("ex01_plain_breach")) for _ in range(3))
    Contract.objects.filter(pk=not_yet_in_term.pk).update(start_date=date(2026, 2, 1))
    close(closed, "2026-01")
    expected = figures(closed)

    monkeypatch.setattr(tasks.timezone, "localdate", lambda: date(2026, 2, 4))
    assert tasks.close_missed_contracts() == 0  # before the close day: the close itself has not run
    assert not PenaltyStatement.objects.filter(contract=missed).exists()

    monkeypatch.setattr(tasks.timezone, "localdate", lambda: date(2026, 2, 5))
    assert tasks.close_missed_contracts() == 1
    assert figures(missed) == expected
    assert not PenaltyStatement.objects.filter(contract=not_yet_in_term).exists()
    assert tasks.close_missed_contracts() == 0  # nothing is missed any more
    assert PenaltyStatement.objects.count() == 2
