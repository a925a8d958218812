"""Service-level terms, KPI data and statements: their database constraints and model validation."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from sla_tracker.choices import (
    ApprovalStatus,
    ChangeAction,
    CreditType,
    Direction,
    DisputeStatus,
    MinVolumeRule,
    ServiceLevelKind,
    ShortfallRounding,
    StatementStatus,
    TerminationTriggerType,
)
from sla_tracker.models import (
    ColumnMapping,
    CreditMultiplier,
    CreditTier,
    Exclusion,
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
    StatementLine,
    TerminationTrigger,
)
from tests.factories import (
    DECIDED_AT,
    ColumnMappingFactory,
    ContractFactory,
    CreditMultiplierFactory,
    CreditTierFactory,
    ExclusionFactory,
    IncidentFactory,
    KpiCounterFactory,
    KpiUploadFactory,
    LineDisputeFactory,
    MeasurementChangeFactory,
    MeasurementFactory,
    PenaltyRegimeFactory,
    PenaltyStatementFactory,
    ServiceLevelFactory,
    ServiceLevelVersionFactory,
    StatementAdjustmentFactory,
    StatementLineFactory,
    TerminationTriggerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

JAN = datetime.date(2025, 1, 1)
FEB = datetime.date(2025, 2, 1)


# Penalty regime and termination triggers -----------------------------------------------------------


def test_a_contract_has_one_penalty_regime_per_month(rejected_by):
    regime = PenaltyRegimeFactory(valid_from=JAN)
    PenaltyRegimeFactory(contract=regime.contract, valid_from=FEB)

    with rejected_by(PenaltyRegime, "regime_unique_contract_month"):
        PenaltyRegimeFactory(contract=regime.contract, valid_from=JAN)


PERCENTAGE_RANGES = [
    (PenaltyRegimeFactory, PenaltyRegime, "at_risk_pct", "regime_at_risk_pct_0_100", 100),
    (PenaltyRegimeFactory, PenaltyRegime, "pool_pct", "regime_pool_pct_0_1000", None),
    (PenaltyRegimeFactory, PenaltyRegime, "annual_cap_pct", "regime_annual_cap_pct_0_100", 100),
    (ServiceLevelVersionFactory, ServiceLevelVersion, "allocation_pct", "slversion_allocation_pct_0_100", 100),
    (ServiceLevelVersionFactory, ServiceLevelVersion, "cap_pct", "slversion_cap_pct_0_100", 100),
    (CreditTierFactory, CreditTier, "pct", "tier_pct_0_100", 100),
]


@pytest.mark.parametrize(
    ("factory", "model", "field", "constraint", "high"), PERCENTAGE_RANGES, ids=[r[3] for r in PERCENTAGE_RANGES]
)
def test_percentage_terms_lie_within_their_range(rejected_by, factory, model, field, constraint, high):
    # pool_pct's ceiling of 1000 cannot be tested: numeric(7, 4) overflows on PostgreSQL first.
    factory(**{field: Decimal("0")})
    bad_values = [Decimal("-0.0001")]
    if high is not None:
        factory(**{field: Decimal(high)})
        bad_values.append(Decimal(high) + Decimal("0.0001"))

    for bad in bad_values:
        with rejected_by(model, constraint):
            factory(**{field: bad})


@pytest.mark.parametrize("constraint", ["slversion_earn_back_pct_0_100", "slversion_bonus_max_pct_0_100"])
def test_earn_back_and_bonus_percentages_lie_between_0_and_100(rejected_by, constraint):
    field = constraint.removeprefix("slversion_").removesuffix("_0_100")
    complete_terms = {
        "earn_back_pct": {"earn_back_months": 3},
        "bonus_max_pct": {"bonus_above": Decimal("90"), "bonus_pct_per_full_point": Decimal("0.5")},
    }[field]
    ServiceLevelVersionFactory(**complete_terms, **{field: Decimal("100")})

    with rejected_by(ServiceLevelVersion, constraint):
        ServiceLevelVersionFactory(**complete_terms, **{field: Decimal("100.0001")})


@pytest.mark.parametrize("month", [0, 13])
def test_the_contract_year_starts_in_a_calendar_month(rejected_by, month):
    PenaltyRegimeFactory(contract_year_start_month=12)

    with rejected_by(PenaltyRegime, "regime_year_start_month_1_12"):
        PenaltyRegimeFactory(contract_year_start_month=month)


def test_a_termination_trigger_counts_at_least_one_month(rejected_by):
    TerminationTriggerFactory(months=1)

    with rejected_by(TerminationTrigger, "trigger_months_positive"):
        TerminationTriggerFactory(months=0)


@pytest.mark.parametrize(
    ("trigger_type", "months", "window"),
    [
        (TerminationTriggerType.CONSECUTIVE_DEFAULTS, 3, 6),
        (TerminationTriggerType.DEFAULTS_IN_WINDOW, 4, None),
        (TerminationTriggerType.CAP_REACHED_IN_WINDOW, 4, 3),
    ],
    ids=["consecutive with a window", "window type without one", "window shorter than N"],
)
def test_only_window_triggers_have_a_window_of_at_least_n_months(rejected_by, trigger_type, months, window):
    TerminationTriggerFactory(trigger_type=TerminationTriggerType.CONSECUTIVE_DEFAULTS, months=3, window=None)
    TerminationTriggerFactory(trigger_type=TerminationTriggerType.CAP_REACHED_IN_WINDOW, months=4, window=4)

    with rejected_by(TerminationTrigger, "trigger_window_only_for_window_types"):
        TerminationTriggerFactory(trigger_type=trigger_type, months=months, window=window)


# Service levels and their versions -----------------------------------------------------------------


def test_service_level_codes_are_unique_per_contract(rejected_by):
    level = ServiceLevelFactory(code="CSL-1")
    ServiceLevelFactory(code="CSL-1")

    with rejected_by(ServiceLevel, "servicelevel_unique_code_per_contract"):
        ServiceLevelFactory(contract=level.contract, code="CSL-1")


def test_a_service_level_has_one_version_per_month(rejected_by):
    version = ServiceLevelVersionFactory(valid_from=JAN)
    ServiceLevelVersionFactory(service_level=version.service_level, valid_from=FEB)

    with rejected_by(ServiceLevelVersion, "slversion_unique_service_level_month"):
        ServiceLevelVersionFactory(service_level=version.service_level, valid_from=JAN)


def test_the_scale_of_a_service_level_formula_is_positive(rejected_by):
    ServiceLevelVersionFactory(scale=Decimal("1"))

    with rejected_by(ServiceLevelVersion, "slversion_scale_positive"):
        ServiceLevelVersionFactory(scale=Decimal("0"))


def test_precision_is_at_most_six_decimals(rejected_by):
    ServiceLevelVersionFactory(precision=6)

    with rejected_by(ServiceLevelVersion, "slversion_precision_0_6"):
        ServiceLevelVersionFactory(precision=7)


def test_a_key_measurement_carries_no_credit(rejected_by):
    ServiceLevelVersionFactory(key=True)

    with rejected_by(ServiceLevelVersion, "slversion_key_has_no_credit"):
        ServiceLevelVersionFactory(kind=ServiceLevelKind.KEY, credit_type=CreditType.ALLOCATION)


@pytest.mark.parametrize(
    "terms",
    [
        {"credit_type": CreditType.ALLOCATION, "allocation_pct": None},
        {"credit_type": CreditType.FIXED, "fixed_amount": Decimal("-1")},
        {"credit_type": CreditType.LINEAR, "pct_per_point": Decimal("0"), "shortfall_rounding": "floor"},
        {"credit_type": CreditType.LINEAR, "pct_per_point": Decimal("0.5"), "shortfall_rounding": ""},
    ],
    ids=["allocation without its %", "negative fixed amount", "linear at 0 % per point", "linear without rounding"],
)
def test_each_credit_model_has_its_own_terms(rejected_by, terms):
    ServiceLevelVersionFactory(fixed=True)
    ServiceLevelVersionFactory(linear=True)
    ServiceLevelVersionFactory(tiers=True)

    with rejected_by(ServiceLevelVersion, "slversion_credit_terms_complete"):
        ServiceLevelVersionFactory(**terms)


@pytest.mark.parametrize(
    "terms",
    [
        {"credit_type": CreditType.FIXED, "fixed_amount": None},
        {"credit_type": CreditType.LINEAR, "pct_per_point": None, "shortfall_rounding": ShortfallRounding.FLOOR},
    ],
    ids=["fixed without an amount", "linear without a rate"],
)
def test_a_fixed_or_linear_credit_needs_its_amount_or_rate(rejected_by, terms):
    with rejected_by(ServiceLevelVersion, "slversion_credit_terms_complete"):
        ServiceLevelVersionFactory(allocation_pct=None, **terms)


@pytest.mark.parametrize(
    ("min_volume", "rule"), [(500, ""), (None, MinVolumeRule.NOT_MEASURED)], ids=["volume only", "rule only"]
)
def test_a_minimum_volume_comes_with_its_rule(rejected_by, min_volume, rule):
    ServiceLevelVersionFactory(min_volume=500, min_volume_rule=MinVolumeRule.CARRY_FORWARD)

    with rejected_by(ServiceLevelVersion, "slversion_min_volume_with_rule"):
        ServiceLevelVersionFactory(min_volume=min_volume, min_volume_rule=rule)


@pytest.mark.parametrize(("occurrences", "window"), [(0, 3), (4, 3)], ids=["no occurrence", "window shorter than N"])
def test_the_expected_miss_rule_needs_n_occurrences_in_a_window_of_at_least_n_months(rejected_by, occurrences, window):
    ServiceLevelVersionFactory(expected_miss_occurrences=3, expected_miss_window=3)

    with rejected_by(ServiceLevelVersion, "slversion_miss_rule_complete"):
        ServiceLevelVersionFactory(expected_miss_occurrences=occurrences, expected_miss_window=window)


@pytest.mark.parametrize(("occurrences", "window"), [(3, None), (None, 6)], ids=["N only", "window only"])
def test_the_expected_miss_rule_is_given_whole_or_not_at_all(rejected_by, occurrences, window):
    with rejected_by(ServiceLevelVersion, "slversion_miss_rule_complete"):
        ServiceLevelVersionFactory(expected_miss_occurrences=occurrences, expected_miss_window=window)


@pytest.mark.parametrize(("months", "pct"), [(3, None), (0, Decimal("50"))], ids=["months without %", "zero months"])
def test_earn_back_needs_its_months_and_its_percentage(rejected_by, months, pct):
    ServiceLevelVersionFactory(earn_back_months=3, earn_back_pct=Decimal("50"))

    with rejected_by(ServiceLevelVersion, "slversion_earn_back_complete"):
        ServiceLevelVersionFactory(earn_back_months=months, earn_back_pct=pct)


def test_earn_back_percentage_needs_its_months(rejected_by):
    with rejected_by(ServiceLevelVersion, "slversion_earn_back_complete"):
        ServiceLevelVersionFactory(earn_back_months=None, earn_back_pct=Decimal("50"))


BONUS = {"bonus_above": Decimal("90"), "bonus_pct_per_full_point": Decimal("0.5"), "bonus_max_pct": Decimal("3")}


@pytest.mark.parametrize(
    "missing_or_zero",
    [{"bonus_above": None}, {"bonus_max_pct": None}, {"bonus_pct_per_full_point": Decimal("0")}],
    ids=["no threshold", "no cap", "zero rate"],
)
def test_a_bonus_needs_its_threshold_its_rate_and_its_cap(rejected_by, missing_or_zero):
    ServiceLevelVersionFactory(**BONUS)

    with rejected_by(ServiceLevelVersion, "slversion_bonus_complete"):
        ServiceLevelVersionFactory(**{**BONUS, **missing_or_zero})


def test_a_bonus_needs_its_rate(rejected_by):
    with rejected_by(ServiceLevelVersion, "slversion_bonus_complete"):
        ServiceLevelVersionFactory(**{**BONUS, "bonus_pct_per_full_point": None})


def test_credit_tiers_start_at_distinct_lower_bounds(rejected_by):
    tier = CreditTierFactory(lower=Decimal("70"), upper=Decimal("80"))
    CreditTierFactory(version=tier.version, lower=Decimal("60"), upper=Decimal("70"))

    with rejected_by(CreditTier, "tier_unique_lower_per_version"):
        CreditTierFactory(version=tier.version, lower=Decimal("70"), upper=Decimal("75"))


@pytest.mark.parametrize("upper", [Decimal("70"), Decimal("69.9999")])
def test_a_credit_tier_upper_bound_lies_above_its_lower_bound(rejected_by, upper):
    CreditTierFactory(lower=Decimal("0"), upper=None)
    CreditTierFactory(lower=Decimal("70"), upper=Decimal("70.0001"))

    with rejected_by(CreditTier, "tier_upper_above_lower"):
        CreditTierFactory(lower=Decimal("70"), upper=upper)


def test_a_version_has_one_multiplier_per_run_length(rejected_by):
    multiplier = CreditMultiplierFactory(run=2)
    CreditMultiplierFactory(version=multiplier.version, run=3)

    with rejected_by(CreditMultiplier, "multiplier_unique_run_per_version"):
        CreditMultiplierFactory(version=multiplier.version, run=2)


def test_repeat_failure_multipliers_start_at_a_run_of_two(rejected_by):
    with rejected_by(CreditMultiplier, "multiplier_run_at_least_2"):
        CreditMultiplierFactory(run=1)


def test_a_multiplier_never_reduces_the_credit(rejected_by):
    CreditMultiplierFactory(factor=Decimal("1"))

    with rejected_by(CreditMultiplier, "multiplier_factor_at_least_1"):
        CreditMultiplierFactory(factor=Decimal("0.999"))


def test_service_level_terms_are_valid_from_the_first_day_of_a_month():
    level = ServiceLevelFactory()
    ServiceLevelVersionFactory(service_level=level, valid_from=JAN)
    ServiceLevelVersionFactory.build(service_level=level, valid_from=FEB).full_clean()

    with pytest.raises(ValidationError) as excinfo:
        ServiceLevelVersionFactory.build(service_level=level, valid_from=datetime.date(2025, 2, 3)).full_clean()

    assert set(excinfo.value.message_dict) == {"valid_from"}


def test_saving_terms_stores_the_first_day_of_their_month():
    regime = PenaltyRegimeFactory(valid_from=datetime.date(2025, 3, 20))
    version = ServiceLevelVersionFactory(valid_from=datetime.date(2025, 3, 20))

    regime.refresh_from_db()
    version.refresh_from_db()
    assert regime.valid_from == version.valid_from == datetime.date(2025, 3, 1)


def test_a_service_level_formula_names_only_known_counters():
    ServiceLevelVersionFactory(valid_from=JAN)  # creates the factory's counters
    level = ServiceLevelFactory()
    ServiceLevelVersionFactory.build(service_level=level).full_clean()

    version = ServiceLevelVersionFactory.build(
        service_level=level, numerator=["answered_within_15s"], denominator=["answered", "-short_abandons"]
    )
    with pytest.raises(ValidationError) as excinfo:
        version.full_clean()

    assert excinfo.value.message_dict == {
        "numerator": ["Unknown counters: answered_within_15s."],
        "denominator": ["Unknown counters: short_abandons."],
    }


@pytest.mark.parametrize("codes", [[], "answered", ["answered", 3]], ids=["empty", "not a list", "not all text"])
def test_a_service_level_formula_is_a_non_empty_list_of_counter_codes(codes):
    KpiCounterFactory(code="answered")
    version = ServiceLevelVersionFactory.build(service_level=ServiceLevelFactory(), numerator=codes)
    version.denominator = ["answered"]

    with pytest.raises(ValidationError) as excinfo:
        version.full_clean()

    assert set(excinfo.value.message_dict) == {"numerator"}


@pytest.mark.parametrize(
    ("direction", "expected", "minimum", "valid"),
    [
        (Direction.HIGHER_IS_BETTER, Decimal("80"), Decimal("70"), True),
        (Direction.HIGHER_IS_BETTER, Decimal("80"), Decimal("80"), True),
        (Direction.HIGHER_IS_BETTER, Decimal("80"), Decimal("85"), False),
        (Direction.LOWER_IS_BETTER, Decimal("30"), Decimal("45"), True),
        (Direction.LOWER_IS_BETTER, Decimal("30"), Decimal("20"), False),
    ],
)
def test_the_minimum_level_is_never_better_than_the_expected_level(direction, expected, minimum, valid):
    ServiceLevelVersionFactory(valid_from=JAN)
    version = ServiceLevelVersionFactory.build(
        service_level=ServiceLevelFactory(), direction=direction, expected=expected, minimum=minimum
    )

    if valid:
        version.full_clean()
    else:
        with pytest.raises(ValidationError) as excinfo:
            version.full_clean()
        assert set(excinfo.value.message_dict) == {"minimum"}


def test_a_counter_prefixed_with_a_minus_is_subtracted():
    version = ServiceLevelVersionFactory.build(denominator=["answered", "abandoned", "-abandoned_short"])

    assert version.signed_counters("denominator") == [(1, "answered"), (1, "abandoned"), (-1, "abandoned_short")]


# KPI data ------------------------------------------------------------------------------------------


def test_a_counter_cannot_be_bounded_by_itself(rejected_by):
    answered = KpiCounterFactory(code="answered")
    within = KpiCounterFactory(code="answered_within_20s", must_not_exceed=answered)

    with rejected_by(KpiCounter, "counter_not_subset_of_itself"):
        KpiCounter.objects.filter(pk=within.pk).update(must_not_exceed=within)


def test_column_mapping_names_are_unique_per_contract(rejected_by):
    mapping = ColumnMappingFactory(name="Monthly pack")
    ColumnMappingFactory(name="Monthly pack")

    with rejected_by(ColumnMapping, "mapping_unique_name_per_contract"):
        ColumnMappingFactory(contract=mapping.contract, name="Monthly pack")


def test_an_upload_never_imports_more_rows_than_its_file_has(rejected_by):
    KpiUploadFactory(rows_total=31, rows_done=31)

    with rejected_by(KpiUpload, "upload_rows_done_within_total"):
        KpiUploadFactory(rows_total=31, rows_done=32)


def test_a_counter_has_one_value_per_contract_and_day(rejected_by):
    measurement = MeasurementFactory(day=datetime.date(2025, 1, 2))
    MeasurementFactory(contract=measurement.contract, counter=measurement.counter, day=datetime.date(2025, 1, 3))

    with rejected_by(Measurement, "measurement_unique_contract_counter_day"):
        MeasurementFactory(contract=measurement.contract, counter=measurement.counter, day=datetime.date(2025, 1, 2))


def test_a_counter_has_one_whole_month_value_per_contract_and_month(rejected_by):
    measurement = MeasurementFactory(day=None, month=JAN)
    same = {"contract": measurement.contract, "counter": measurement.counter}
    MeasurementFactory(**same, day=datetime.date(2025, 1, 2))  # daily values sit beside the monthly one
    MeasurementFactory(**same, day=None, month=FEB)

    with rejected_by(Measurement, "measurement_unique_contract_counter_month"):
        MeasurementFactory(**same, day=None, month=JAN)


def test_counter_values_cannot_be_negative(rejected_by):
    MeasurementFactory(value=Decimal("0"))

    with rejected_by(Measurement, "measurement_value_non_negative"):
        MeasurementFactory(value=Decimal("-1"))


def test_a_measured_day_is_not_before_its_month(rejected_by):
    measurement = MeasurementFactory(day=datetime.date(2025, 1, 31))

    with rejected_by(Measurement, "measurement_day_not_before_month"):
        Measurement.objects.filter(pk=measurement.pk).update(month=FEB)


def test_saving_a_measurement_sets_its_month_from_its_day():
    measurement = MeasurementFactory(day=datetime.date(2025, 3, 17), month=JAN)

    measurement.refresh_from_db()
    assert measurement.month == datetime.date(2025, 3, 1)


def test_saving_a_whole_month_measurement_stores_the_first_day_of_the_month():
    measurement = MeasurementFactory(day=None, month=datetime.date(2025, 3, 17))

    measurement.refresh_from_db()
    assert measurement.month == datetime.date(2025, 3, 1)


def test_a_whole_month_measurement_is_entered_on_the_first_day_of_its_month():
    contract, counter = ContractFactory(), KpiCounterFactory()
    MeasurementFactory.build(contract=contract, counter=counter, day=None, month=JAN).full_clean()

    with pytest.raises(ValidationError) as excinfo:
        MeasurementFactory.build(
            contract=contract, counter=counter, day=None, month=datetime.date(2025, 1, 2)
        ).full_clean()

    assert set(excinfo.value.message_dict) == {"month"}


@pytest.mark.parametrize(
    ("action", "old", "new"),
    [
        (ChangeAction.CREATE, Decimal("1"), Decimal("2")),
        (ChangeAction.UPDATE, None, Decimal("2")),
        (ChangeAction.UPDATE, Decimal("1"), None),
        (ChangeAction.DELETE, Decimal("1"), Decimal("2")),
    ],
    ids=[
        "create with an old value",
        "update without an old value",
        "update without a new value",
        "delete with a new value",
    ],
)
def test_a_measurement_change_records_the_values_its_action_implies(rejected_by, action, old, new):
    MeasurementChangeFactory(action=ChangeAction.CREATE, old_value=None, new_value=Decimal("2"))
    MeasurementChangeFactory(action=ChangeAction.UPDATE, old_value=Decimal("1"), new_value=Decimal("2"))
    MeasurementChangeFactory(action=ChangeAction.DELETE, old_value=Decimal("1"), new_value=None)

    with rejected_by(MeasurementChange, "mchange_values_match_action"):
        MeasurementChangeFactory(action=action, old_value=old, new_value=new)


def test_an_exclusion_cannot_end_before_it_starts(rejected_by):
    day = datetime.date(2025, 1, 14)
    ExclusionFactory(start_date=day, end_date=day)

    with rejected_by(Exclusion, "exclusion_end_not_before_start"):
        ExclusionFactory(start_date=day, end_date=day - datetime.timedelta(days=1))


@pytest.mark.parametrize("status", [ApprovalStatus.APPROVED, ApprovalStatus.REJECTED])
@pytest.mark.parametrize("missing", ["decided_by", "decided_at"])
def test_a_decided_exclusion_records_who_decided_and_when(rejected_by, status, missing):
    ExclusionFactory(approved=True)

    with rejected_by(Exclusion, "exclusion_decision_has_decider"):
        ExclusionFactory(approved=True, status=status, **{missing: None})


def test_saving_an_incident_sets_its_month_from_the_day_it_occurred():
    incident = IncidentFactory(occurred_on=datetime.date(2025, 3, 17))

    incident.refresh_from_db()
    assert incident.month == datetime.date(2025, 3, 1)

    incident.occurred_on = datetime.date(2025, 4, 2)
    incident.save()
    incident.refresh_from_db()
    assert incident.month == datetime.date(2025, 4, 1)


def test_a_new_incident_passes_full_clean_before_its_month_is_derived():
    contract = ContractFactory()
    IncidentFactory.build(contract=contract, created_by=contract.owner).full_clean()


# Statements ----------------------------------------------------------------------------------------


def test_a_contract_has_one_statement_per_month(rejected_by):
    statement = PenaltyStatementFactory(month=JAN)
    PenaltyStatementFactory(contract=statement.contract, month=FEB)

    with rejected_by(PenaltyStatement, "statement_unique_contract_month"):
        PenaltyStatementFactory(contract=statement.contract, month=JAN)


@pytest.mark.parametrize("field", ["charges", "uncapped_credits", "credits", "bonuses", "earn_backs"])
def test_statement_amounts_cannot_be_negative(rejected_by, field):
    PenaltyStatementFactory(adjustments=Decimal("-500"), net=Decimal("-500"))  # only these two are signed

    with rejected_by(PenaltyStatement, "statement_amounts_non_negative"):
        PenaltyStatementFactory(**{field: Decimal("-0.01")})


def test_caps_only_reduce_a_statements_credits(rejected_by):
    PenaltyStatementFactory(uncapped_credits=Decimal("40000"), credits=Decimal("30000"))

    with rejected_by(PenaltyStatement, "statement_credits_within_uncapped"):
        PenaltyStatementFactory(uncapped_credits=Decimal("1000"), credits=Decimal("1000.01"))


def test_statement_credits_never_exceed_the_at_risk_amount(rejected_by):
    PenaltyStatementFactory(
        at_risk_amount=Decimal("30000"), uncapped_credits=Decimal("40000"), credits=Decimal("30000")
    )
    PenaltyStatementFactory(at_risk_amount=None, uncapped_credits=Decimal("40000"), credits=Decimal("40000"))

    with rejected_by(PenaltyStatement, "statement_credits_within_at_risk"):
        PenaltyStatementFactory(
            at_risk_amount=Decimal("30000"), uncapped_credits=Decimal("40000"), credits=Decimal("30000.01")
        )


@pytest.mark.parametrize("status", [StatementStatus.APPROVED, StatementStatus.INVOICED])
@pytest.mark.parametrize("missing", ["approved_by", "approved_at"])
def test_an_approved_statement_records_who_approved_it_and_when(rejected_by, status, missing):
    PenaltyStatementFactory(approved=True, status=status)
    PenaltyStatementFactory(status=StatementStatus.IN_REVIEW)

    with rejected_by(PenaltyStatement, "statement_approval_recorded"):
        PenaltyStatementFactory(approved=True, status=status, **{missing: None})


def test_a_statement_has_one_line_per_service_level(rejected_by):
    line = StatementLineFactory()
    StatementLineFactory(statement=line.statement)

    with rejected_by(StatementLine, "line_unique_service_level"):
        StatementLineFactory(statement=line.statement, service_level=line.service_level, terms=line.terms)


@pytest.mark.parametrize("field", ["raw_credit", "credit", "bonus", "earn_back"])
def test_statement_line_amounts_cannot_be_negative(rejected_by, field):
    StatementLineFactory(**{field: Decimal("0")})

    with rejected_by(StatementLine, "line_amounts_non_negative"):
        StatementLineFactory(**{field: Decimal("-0.01")})


WAIVER = {"waived": True, "waiver_reason": "Goodwill after the carrier outage.", "waived_at": DECIDED_AT}


@pytest.mark.parametrize(
    "missing", [{"waiver_reason": ""}, {"waived_by": None}, {"waived_at": None}], ids=["reason", "who", "when"]
)
def test_a_waiver_records_its_reason_who_waived_and_when(rejected_by, missing):
    waiver = {**WAIVER, "waived_by": UserFactory(procurement=True)}
    StatementLineFactory(**waiver)

    with rejected_by(StatementLine, "line_waiver_recorded"):
        StatementLineFactory(**{**waiver, **missing})


@pytest.mark.parametrize(
    "missing", [{"resolution": ""}, {"resolved_by": None}, {"resolved_at": None}], ids=["resolution", "who", "when"]
)
def test_a_resolved_dispute_records_the_resolution_who_and_when(rejected_by, missing):
    resolved = {
        "status": DisputeStatus.REJECTED,
        "resolution": "The outage was within the vendor's control.",
        "resolved_by": UserFactory(procurement=True),
        "resolved_at": DECIDED_AT,
    }
    LineDisputeFactory(**resolved)

    with rejected_by(LineDispute, "dispute_resolution_recorded"):
        LineDisputeFactory(**{**resolved, **missing})


def test_a_line_has_at_most_one_open_dispute(rejected_by):
    dispute = LineDisputeFactory()
    LineDisputeFactory(
        line=dispute.line,
        status=DisputeStatus.ACCEPTED,
        resolution="Excluded as force majeure.",
        resolved_by=UserFactory(procurement=True),
        resolved_at=DECIDED_AT,
    )

    with rejected_by(LineDispute, "dispute_one_open_per_line"):
        LineDisputeFactory(line=dispute.line)


def test_an_adjustment_corrects_another_statement(rejected_by):
    adjustment = StatementAdjustmentFactory()
    assert adjustment.origin.month < adjustment.statement.month

    with rejected_by(StatementAdjustment, "adjustment_origin_is_another_statement"):
        StatementAdjustmentFactory(origin=adjustment.statement, statement=adjustment.statement)


def test_approved_and_invoiced_statements_are_locked():
    assert PenaltyStatementFactory.build(approved=True).is_locked
    assert PenaltyStatementFactory.build(approved=True, status=StatementStatus.INVOICED).is_locked
    assert not PenaltyStatementFactory.build(status=StatementStatus.DISPUTED).is_locked


def test_a_counters_code_channel_and_unit_are_fixed_once_created_its_name_is_not():
    counter = KpiCounterFactory(code="answered_within_20s", channel="voice", unit="count")

    for field, value in (("code", "awt20"), ("channel", "chat"), ("unit", "seconds")):
        changed = KpiCounter.objects.get(pk=counter.pk)
        setattr(changed, field, value)
        with pytest.raises(ValidationError) as refusal:
            changed.full_clean()
        assert refusal.value.message_dict == {
            field: ["A counter's code, channel and unit are fixed: create a new counter for another definition."]
        }
    counter.name = "Calls answered within 20 seconds"
    counter.full_clean()
