"""DOMAIN.md §6 worked examples through the engine API, with exactly the numbers shown there."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sla_tracker.engine import (
    AllocationCredit,
    Bonus,
    ContractTerms,
    CounterRow,
    Direction,
    EarnBack,
    Exclusion,
    ExpectedMissRule,
    FixedCredit,
    Incident,
    Kind,
    LinearCredit,
    MinVolume,
    MinVolumeRule,
    Month,
    MonthRange,
    Multiplier,
    ServiceLevelTerms,
    Shortfall,
    Status,
    TerminationTrigger,
    Tier,
    TieredCredit,
    TriggerType,
    counters,
    evaluate,
    round_half_up,
)

from .builders import (
    OFFERED_COUNTED,
    contract_a,
    contract_data,
    defaulting,
    month_values,
    monthly_rows,
    with_every_service_level,
    with_service_level,
)

D = Decimal
JAN, FEB, MAR, APR = (Month(2026, number) for number in (1, 2, 3, 4))


def close(terms, data, first, last=None):
    return evaluate(terms, data, MonthRange(first, last or first))


def close_one(terms, values, month=JAN):
    return close(terms, contract_data(monthly_rows({month: values})), month).months[0]


def pct(value: Fraction) -> Decimal:
    return round_half_up(value, 2)


def test_a_plain_breach_credits_the_allocation_of_the_at_risk_amount():
    result = close_one(contract_a(), month_values(within=31_500))

    line = result.line("CSL-1")
    assert line.denominator == 43_000
    assert pct(line.measured) == D("73.26")
    assert line.status is Status.DEFAULT
    assert line.credit == D("14400.00")
    assert result.credits == D("14400.00")
    assert line.explanation == (
        "73.26 % < 80 % target → default; allocation 60 % × €24,000.00 at risk = €14,400.00; "
        "monthly cap not reached"
    )


def test_a_second_service_level_on_the_same_data_can_be_met():
    result = close_one(contract_a(), month_values(within=31_500))

    line = result.line("CSL-2")
    assert pct(line.measured) == D("4.65")
    assert line.status is Status.MET
    assert line.credit == D("0.00")


def test_exactly_at_target_is_met_and_just_below_is_a_default_even_if_it_displays_as_80():
    at_target = close_one(contract_a(), month_values(within=34_400)).line("CSL-1")
    just_below = close_one(contract_a(), month_values(within=34_399)).line("CSL-1")

    assert at_target.measured == 80
    assert at_target.status is Status.MET
    assert pct(just_below.measured) == D("80.00")
    assert just_below.status is Status.DEFAULT
    assert just_below.credit == D("14400.00")
    assert just_below.explanation.startswith("79.9977 % < 80 % target")


def test_a_precision_of_one_decimal_rounds_before_the_comparison():
    terms = with_service_level(contract_a(), "CSL-1", precision=1)

    line = close_one(terms, month_values(within=34_399)).line("CSL-1")

    assert line.compared == 80
    assert line.status is Status.MET
    assert line.credit == D("0.00")


def test_a_lower_is_better_service_level_defaults_above_its_target_and_is_met_at_it():
    above = close_one(contract_a(), month_values(abandons=2_236)).line("CSL-2")
    at_target = close_one(contract_a(), month_values(abandons=2_150)).line("CSL-2")

    assert pct(above.measured) == D("5.20")
    assert above.status is Status.DEFAULT
    assert above.credit == D("9600.00")
    assert at_target.measured == 5
    assert at_target.status is Status.MET


def test_the_month_is_the_ratio_of_sums_not_the_mean_of_daily_ratios():
    days = [date(2026, 4, day) for day in range(1, 31)]
    rows = tuple(
        CounterRow.for_day(day, {"answered": 100, "answered_within_20s": 98})
        if day.weekday() >= 5
        else CounterRow.for_day(day, {"answered": 1_000, "answered_within_20s": 760})
        for day in days
    )
    others = {k: v for k, v in month_values().items() if k.startswith(("emails", "qa", "csat"))}
    data = contract_data((*rows, CounterRow.for_month(APR, others)))

    line = close(contract_a(), data, APR).months[0].line("CSL-1")

    assert line.measured == Fraction(17_504, 22_800) * 100
    assert pct(line.measured) == D("76.77")
    assert line.status is Status.DEFAULT
    assert line.credit == D("14400.00")


def contract_b() -> ContractTerms:
    bands = (
        Tier(D(80), None, D(0)),
        Tier(D(75), D(80), D(3)),
        Tier(D(70), D(75), D(6)),
        Tier(D(0), D(70), D(10)),
    )
    voice = ServiceLevelTerms(
        code="CSL-1",
        numerator=counters("answered_within_20s"),
        denominator=counters(*OFFERED_COUNTED),
        expected=D(80),
        credit=TieredCredit(bands),
    )
    return ContractTerms(service_levels=(voice,), at_risk_pct=D(10))


def test_tier_bands_are_half_open_with_the_lower_bound_inclusive():
    cases = {31_500: "9000.00", 32_250: "4500.00", 30_099: "15000.00", 34_400: "0.00"}
    for within, credit in cases.items():
        values = {"answered": 43_000, "answered_within_20s": within}
        data = contract_data(monthly_rows({JAN: values}), charges="150000.00")

        result = close(contract_b(), data, JAN).months[0]

        assert result.credits == D(credit), within
    assert result.at_risk_amount == D("15000.00")


def test_allocation_credits_are_capped_at_the_at_risk_amount_and_attributed_pro_rata():
    values = month_values(
        within=31_500, emails=(9_120, 9_800), qa=(52_980, 600), csat=(2_150, 2_500)
    )

    result = close_one(contract_a(), values, Month(2026, 7))

    assert result.uncapped_credits == 31_200
    assert result.cap_reached
    assert result.credits == D("24000.00")
    assert [line.credit for line in result.lines] == [
        D("11076.92"),
        D("0.00"),
        D("7384.62"),
        D("5538.46"),
        D("0.00"),
    ]


def contract_c(shortfall: Shortfall) -> ContractTerms:
    email = ServiceLevelTerms(
        code="CSL-3",
        numerator=counters("emails_answered_24bh"),
        denominator=counters("emails_due"),
        expected=D(95),
        credit=LinearCredit(D("1.0"), shortfall),
        cap_pct=D(5),
    )
    return ContractTerms(service_levels=(email,), at_risk_pct=D(12))


def test_linear_credits_take_the_shortfall_proportionally_floored_or_ceiled_then_the_sl_cap():
    expected = {
        Shortfall.PROPORTIONAL: ("13200.00", "4300.00"),
        Shortfall.FLOOR: ("12000.00", "4000.00"),
        Shortfall.CEIL: ("14000.00", "6000.00"),
    }
    data = contract_data(
        monthly_rows(
            {
                JAN: {"emails_answered_24bh": 11_050, "emails_due": 12_500},
                FEB: {"emails_answered_24bh": 18_570, "emails_due": 20_000},
            }
        )
    )
    for shortfall, (raw_8a, credit_8b) in expected.items():
        result_8a, result_8b = close(contract_c(shortfall), data, JAN, FEB).months

        assert round_half_up(result_8a.lines[0].raw_credit, 2) == D(raw_8a)
        assert result_8a.credits == D("10000.00"), shortfall
        assert result_8b.credits == D(credit_8b), shortfall


def test_consecutive_defaults_multiply_the_credit_and_a_met_month_resets_the_run():
    terms = with_every_service_level(
        contract_a(), multipliers=(Multiplier(2, D("1.5")), Multiplier(3, D("2.0")))
    )
    abandons = {2: 2_064, 3: 2_408, 4: 2_279, 5: 2_623, 6: 2_107, 7: 2_365}
    values = {
        Month(2026, month): month_values(
            abandons=count, csat=(2_075, 2_500) if month == 5 else (2_200, 2_500)
        )
        for month, count in abandons.items()
    }

    months = close(terms, contract_data(monthly_rows(values)), FEB, Month(2026, 7)).months

    assert [result.line("CSL-2").run for result in months] == [0, 1, 2, 3, 0, 1]
    assert [result.credits for result in months] == [
        D("0.00"),
        D("9600.00"),
        D("14400.00"),
        D("24000.00"),
        D("0.00"),
        D("9600.00"),
    ]
    may = months[3]
    assert may.uncapped_credits == 26_400
    assert may.line("CSL-2").credit == D("17454.55")
    assert may.line("CSL-5").credit == D("6545.45")


def earn_back_months(*within: int):
    terms = with_every_service_level(contract_a(), earn_back=EarnBack(3, D(100)))
    values = {JAN + index: month_values(within=count) for index, count in enumerate(within)}
    return close(terms, contract_data(monthly_rows(values)), JAN, JAN + len(within) - 1).months


def test_a_credit_is_earned_back_after_three_months_met_with_the_boundary_counting_as_met():
    months = earn_back_months(32_895, 34_830, 34_400, 35_776)

    assert months[0].credits == D("14400.00")
    assert [result.earn_backs for result in months] == [D("0.00")] * 3 + [D("14400.00")]
    assert months[3].line("CSL-1").earn_back == D("14400.00")
    assert sum(result.net for result in months) == 0


def test_a_default_inside_the_window_forfeits_the_earn_back_and_opens_a_new_window():
    months = earn_back_months(32_895, 34_830, 34_357, 35_776, 35_776, 35_776)

    assert months[2].line("CSL-1").status is Status.DEFAULT
    assert months[2].credits == D("14400.00")
    assert "earn-back of the 2026-01 credit forfeited" in months[2].line("CSL-1").explanation
    assert [result.earn_backs for result in months[:5]] == [D("0.00")] * 5
    assert months[5].earn_backs == D("14400.00")


def test_excluded_days_remove_their_numerator_and_denominator():
    rest_of_month = {**month_values(within=32_000, offered=38_000, abandons=0, short=0)}
    rows = (
        CounterRow.for_month(APR, rest_of_month),
        CounterRow.for_day(date(2026, 4, 14), {"answered": 3_000, "answered_within_20s": 600}),
        CounterRow.for_day(date(2026, 4, 15), {"answered": 2_000, "answered_within_20s": 400}),
    )
    outage = Exclusion(date(2026, 4, 14), date(2026, 4, 15), reason="force majeure")

    without = close(contract_a(), contract_data(rows), APR).months[0].line("CSL-1")
    excluded = close(contract_a(), contract_data(rows, exclusions=(outage,)), APR).months[0]

    assert pct(without.measured) == D("76.74")
    assert without.credit == D("14400.00")
    line = excluded.line("CSL-1")
    assert pct(line.measured) == D("84.21")
    assert line.status is Status.MET
    assert line.excluded_days == (date(2026, 4, 14), date(2026, 4, 15))
    assert excluded.credits == D("0.00")


def test_an_exclusion_naming_other_service_levels_leaves_this_one_untouched():
    day = date(2026, 1, 9)
    rows = (
        CounterRow.for_month(JAN, month_values(within=34_400)),
        CounterRow.for_day(day, {"answered": 1_000, "answered_within_20s": 0}),
    )
    other = Exclusion(day, day, service_levels=("CSL-3",))

    line = (
        close(contract_a(), contract_data(rows, exclusions=(other,)), JAN).months[0].line("CSL-1")
    )

    assert line.excluded_days == ()
    assert line.status is Status.DEFAULT


def min_volume_months(rule: MinVolumeRule):
    terms = with_service_level(contract_a(), "CSL-5", min_volume=MinVolume(D(100), rule))
    values = {JAN: month_values(csat=(48, 62)), FEB: month_values(csat=(120, 140))}
    return close(terms, contract_data(monthly_rows(values)), JAN, FEB).months


def test_below_minimum_volume_the_month_is_not_measured():
    january, february = (
        result.line("CSL-5") for result in min_volume_months(MinVolumeRule.NOT_MEASURED)
    )

    assert january.status is Status.NOT_MEASURED
    assert january.measured is None
    assert pct(february.measured) == D("85.71")
    assert february.status is Status.MET


def test_carried_forward_volume_is_measured_with_the_next_month():
    january, february = min_volume_months(MinVolumeRule.CARRY_FORWARD)

    assert january.line("CSL-5").status is Status.NOT_MEASURED
    assert january.line("CSL-5").carried_forward.denominator == 62
    line = february.line("CSL-5")
    assert line.measured == Fraction(168, 202) * 100
    assert pct(line.measured) == D("83.17")
    assert line.status is Status.DEFAULT
    assert february.credits == D("7200.00")


def test_termination_triggers_report_the_first_month_they_hold_with_evidence():
    terms = replace(
        contract_a(),
        termination_triggers=(
            TerminationTrigger(TriggerType.CONSECUTIVE_DEFAULTS, 3),
            TerminationTrigger(TriggerType.DEFAULTS_IN_WINDOW, 6, 12),
            TerminationTrigger(TriggerType.CAP_REACHED_IN_WINDOW, 3, 12),
        ),
    )
    pattern = [
        ("CSL-1",),
        (),
        ("CSL-2",),
        ("CSL-1", "CSL-2"),
        (),
        ("CSL-4",),
        ("CSL-1", "CSL-3", "CSL-4"),
        ("CSL-3",),
        ("CSL-3",),
    ]
    values = {JAN + index: defaulting(*codes) for index, codes in enumerate(pattern)}

    months = close(terms, contract_data(monthly_rows(values)), JAN, Month(2026, 9)).months

    assert [result.credits for result in months] == [
        D(amount)
        for amount in (
            "14400.00",
            "0.00",
            "9600.00",
            "24000.00",
            "0.00",
            "7200.00",
            "24000.00",
            "9600.00",
            "9600.00",
        )
    ]
    assert [result.cap_reached for result in months].count(True) == 2
    assert all(result.termination_rights == () for result in months[:7])
    august, september = months[7], months[8]
    assert [(str(r.trigger.type), str(r.since)) for r in august.termination_rights] == [
        ("defaults_in_window", "2026-08"),
    ]
    assert [(str(r.trigger.type), str(r.since)) for r in september.termination_rights] == [
        ("consecutive_defaults", "2026-09"),
        ("defaults_in_window", "2026-08"),
    ]
    assert (
        "CSL-3 credit-bearing in 3 consecutive months" in september.termination_rights[0].evidence
    )


def contract_f() -> ContractTerms:
    voice = ServiceLevelTerms(
        code="CSL-1",
        numerator=counters("answered_within_20s"),
        denominator=counters(*OFFERED_COUNTED),
        expected=D(80),
        minimum=D(75),
        expected_miss_rule=ExpectedMissRule(occurrences=4, window=12),
        credit=FixedCredit(D("10000.00")),
    )
    return ContractTerms(service_levels=(voice,))


def test_expected_level_misses_become_defaults_from_the_fourth_in_a_rolling_year():
    within = [
        8_120,
        7_800,
        8_000,
        7_490,
        8_200,
        7_950,
        8_030,
        7_700,
        7_600,
        8_000,
        8_000,
        8_000,
        8_000,
        7_850,
    ]
    first = Month(2025, 1)
    values = {
        first + index: {"answered": 10_000, "answered_within_20s": count}
        for index, count in enumerate(within)
    }

    months = close(contract_f(), contract_data(monthly_rows(values)), first, first + 13).months

    statuses = [result.lines[0].status for result in months]
    assert statuses == [
        Status.MET,
        Status.MISSED,
        Status.MET,
        Status.MINIMUM_DEFAULT,
        Status.MET,
        Status.MISSED,
        Status.MET,
        Status.DEFAULT,
        Status.DEFAULT,
        Status.MET,
        Status.MET,
        Status.MET,
        Status.MET,
        Status.DEFAULT,
    ]
    assert [result.lines[0].occurrences for result in months if result.lines[0].occurrences] == [
        1,
        2,
        3,
        4,
        5,
        5,
    ]
    assert sum(result.credits for result in months) == D("40000.00")


def test_an_expected_level_miss_without_an_occurrence_rule_is_a_default():
    terms = replace(
        contract_f(),
        service_levels=(replace(contract_f().service_levels[0], expected_miss_rule=None),),
    )
    values = {JAN: {"answered": 10_000, "answered_within_20s": 7_800}}

    result = close(terms, contract_data(monthly_rows(values)), JAN).months[0]

    assert result.lines[0].status is Status.DEFAULT
    assert result.credits == D("10000.00")


def test_a_key_measurement_below_target_is_missed_and_never_credited():
    terms = with_service_level(contract_a(), "CSL-1", kind=Kind.KEY, credit=None)

    line = close_one(terms, month_values(within=31_500)).line("CSL-1")

    assert line.status is Status.MISSED
    assert line.credit == D("0.00")


def test_the_annual_cap_limits_the_last_month_of_the_contract_year():
    pattern = [
        ("CSL-1",),
        (),
        ("CSL-2",),
        ("CSL-1", "CSL-2"),
        (),
        ("CSL-4",),
        ("CSL-1", "CSL-3", "CSL-4"),
        ("CSL-3",),
        ("CSL-3",),
        ("CSL-1", "CSL-2"),
        ("CSL-1",),
        ("CSL-1", "CSL-2"),
    ]
    values = {JAN + index: defaulting(*codes) for index, codes in enumerate(pattern)}
    terms = replace(contract_a(), annual_cap_pct=D(6))

    months = close(terms, contract_data(monthly_rows(values)), JAN, Month(2026, 12)).months

    assert sum((result.credits for result in months[:11]), D(0)) == D("136800.00")
    december = months[11]
    assert december.annual_cap_amount == D("144000.00")
    assert december.credits == D("7200.00")
    assert december.line("CSL-1").credit == D("4320.00")
    assert december.line("CSL-2").credit == D("2880.00")
    assert sum((result.credits for result in months), D(0)) == D("144000.00")


def test_one_incident_keeps_only_the_selected_or_else_the_highest_credit():
    values = month_values(within=31_820, abandons=2_322)
    data = contract_data(
        monthly_rows(dict.fromkeys((JAN, FEB, MAR, APR), values)),
        incidents=(
            Incident(JAN, ("CSL-1", "CSL-2")),
            Incident(FEB, ("CSL-1", "CSL-2"), selected="CSL-2"),
            Incident(MAR, ("CSL-1", "CSL-2"), selected="CSL-1"),
        ),
    )

    months = close(contract_a(), data, JAN, APR).months

    assert pct(months[0].line("CSL-1").measured) == D("74.00")
    assert pct(months[0].line("CSL-2").measured) == D("5.40")
    assert [result.credits for result in months] == [
        D("14400.00"),
        D("9600.00"),
        D("14400.00"),
        D("24000.00"),
    ]
    assert months[0].line("CSL-2").status is Status.DEFAULT


def test_one_incident_between_equal_credits_keeps_the_first_by_code_whatever_order_lists_them():
    # CSL-1 and CSL-2 both credited €9,600.00: which one the incident keeps cannot depend on the order an API
    # request, a scenario or the database lists its service levels in (a stored incident's are a set).
    terms = replace(
        contract_a(),
        service_levels=tuple(
            replace(level, credit=FixedCredit(D("9600.00"))) if level.code == "CSL-1" else level
            for level in contract_a().service_levels
        ),
    )
    values = month_values(within=31_820, abandons=2_322)
    kept = []
    for listed in (("CSL-1", "CSL-2"), ("CSL-2", "CSL-1")):
        data = contract_data(monthly_rows({JAN: values}), incidents=(Incident(JAN, listed),))
        result = close(terms, data, JAN, JAN).months[0]
        kept.append((result.line("CSL-1").credit, result.line("CSL-2").credit))

    assert kept == [(D("9600.00"), D("0.00")), (D("9600.00"), D("0.00"))]


def test_a_bonus_is_a_separate_line_outside_the_caps_and_not_netted_away():
    terms = with_service_level(contract_a(), "CSL-5", bonus=Bonus(D("90.0"), D("0.5"), D(2)))

    result = close_one(terms, month_values(abandons=2_236, csat=(2_310, 2_500)))

    assert pct(result.line("CSL-5").measured) == D("92.40")
    assert result.line("CSL-5").bonus == D("2000.00")
    assert result.credits == D("9600.00")
    assert result.bonuses == D("2000.00")
    assert result.net == D("-7600.00")


def test_a_two_level_pool_is_an_allocation_of_category_share_times_service_level_share():
    # DIR's A = 50 % of the pool to the category × B = 40 % within it: allocation_pct 20.
    service_level = ServiceLevelTerms(
        code="CSL-7",
        numerator=counters("resolved_in_time"),
        denominator=counters("due"),
        expected=D(95),
        credit=AllocationCredit(D("0.50") * D("0.40") * 100),
    )
    terms = ContractTerms(service_levels=(service_level,), currency="USD", at_risk_pct=D(10))
    data = contract_data(monthly_rows({JAN: {"resolved_in_time": 900, "due": 1_000}}), "100000.00")

    result = close(terms, data, JAN).months[0]

    assert result.at_risk_amount == D("10000.00")
    assert result.credits == D("2000.00")
    assert "$10,000.00 at risk = $2,000.00" in result.lines[0].explanation


def test_asa_is_total_wait_over_answered_calls_with_scale_one_and_lower_is_better():
    asa = ServiceLevelTerms(
        code="ASA",
        numerator=counters("total_wait_seconds"),
        denominator=counters("answered"),
        scale=D(1),
        direction=Direction.LOWER_IS_BETTER,
        expected=D(40),
        credit=FixedCredit(D("5000.00")),
    )
    rows = (
        CounterRow.for_day(date(2026, 1, 5), {"answered": 1_000, "total_wait_seconds": 60_000}),
        CounterRow.for_day(date(2026, 1, 6), {"answered": 100, "total_wait_seconds": 1_000}),
    )

    line = close(ContractTerms(service_levels=(asa,)), contract_data(rows), JAN).months[0].lines[0]

    assert line.measured == Fraction(61_000, 1_100)
    assert pct(line.measured) == D("55.45")
    assert line.status is Status.DEFAULT
    assert line.explanation.startswith("55.45 > 40 target → default")
