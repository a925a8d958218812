"""Invariants over generated contracts and data (hypothesis)."""

import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_tracker.engine import (
    AllocationCredit,
    Bonus,
    Charges,
    ContractData,
    ContractTerms,
    CounterRow,
    Direction,
    EarnBack,
    ExpectedMissRule,
    FixedCredit,
    History,
    Incident,
    LinearCredit,
    MinVolume,
    MinVolumeRule,
    Month,
    MonthRange,
    Multiplier,
    ServiceLevelTerms,
    Shortfall,
    Tier,
    TieredCredit,
    counters,
    evaluate,
    history_from_dict,
    history_to_dict,
    to_cents,
)
from sla_tracker.engine.money import pct_of
from sla_tracker.engine.scenario import Scenario, dump_scenario, load_scenario

FIRST = Month(2026, 1)
pcts = st.decimals(min_value=0, max_value=100, places=1)
levels = st.integers(min_value=1, max_value=99).map(Decimal)


@st.composite
def credit_models(draw, with_at_risk: bool):
    kinds = ["fixed", "tiers", "linear"] + (["allocation"] if with_at_risk else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "allocation":
        return AllocationCredit(draw(st.decimals(min_value=0, max_value=80, places=1)))
    if kind == "fixed":
        return FixedCredit(draw(st.decimals(min_value=0, max_value=50_000, places=2)))
    if kind == "linear":
        return LinearCredit(draw(pcts), draw(st.sampled_from(list(Shortfall))))
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=99), min_size=1, max_size=3)))
    edges = [0, *cuts]
    bands = [
        Tier(Decimal(low), Decimal(high), draw(pcts))
        for low, high in zip(edges, cuts, strict=False)
    ]
    return TieredCredit((*bands, Tier(Decimal(edges[-1]), None, draw(pcts))))


@st.composite
def service_levels(draw, code: str, with_at_risk: bool):
    direction = draw(st.sampled_from(list(Direction)))
    expected = draw(levels)
    minimum = draw(
        st.none()
        | st.just(expected - 1 if direction is Direction.HIGHER_IS_BETTER else expected + 1)
    )
    return ServiceLevelTerms(
        code=code,
        numerator=counters(f"{code}_good"),
        denominator=counters(f"{code}_all", f"-{code}_void"),
        expected=expected,
        direction=direction,
        minimum=minimum,
        expected_miss_rule=draw(
            st.none() | st.builds(ExpectedMissRule, st.integers(1, 3), st.just(3))
        ),
        precision=draw(st.none() | st.integers(0, 2)),
        min_volume=draw(
            st.none()
            | st.builds(MinVolume, st.just(Decimal(50)), st.sampled_from(list(MinVolumeRule)))
        ),
        credit=draw(credit_models(with_at_risk)),
        cap_pct=draw(st.none() | pcts),
        multipliers=draw(
            st.sampled_from([(), (Multiplier(2, Decimal("1.5")), Multiplier(3, Decimal(2)))])
        ),
        earn_back=draw(st.none() | st.builds(EarnBack, st.integers(1, 3), pcts)),
        bonus=draw(st.none() | st.builds(Bonus, levels, pcts, pcts)),
    )


@st.composite
def scenarios(draw):
    at_risk_pct = draw(st.none() | st.decimals(min_value=1, max_value=20, places=1))
    codes = [f"SL{index}" for index in range(draw(st.integers(1, 4)))]
    terms = ContractTerms(
        service_levels=tuple(draw(service_levels(code, at_risk_pct is not None)) for code in codes),
        at_risk_pct=at_risk_pct,
        annual_cap_pct=draw(st.none() | st.decimals(min_value=0, max_value=10, places=1)),
        contract_year_start=draw(st.integers(1, 12)),
    )
    months = MonthRange(FIRST, FIRST + draw(st.integers(0, 7)))
    rows = []
    for month in months:
        for code in codes:
            total = draw(st.integers(0, 400))
            good = draw(st.integers(0, total))
            void = draw(st.integers(0, total // 10))
            values = {f"{code}_good": good, f"{code}_all": total, f"{code}_void": void}
            rows.append(CounterRow.for_month(month, values))
    incidents = tuple(
        Incident(
            month, tuple(draw(st.sets(st.sampled_from(codes), min_size=2, max_size=len(codes))))
        )
        for month in months
        if len(codes) > 1 and draw(st.booleans())
    )
    charges = Charges(draw(st.decimals(min_value=1_000, max_value=1_000_000, places=2)))
    return Scenario(months, terms, ContractData(charges, tuple(rows), incidents=incidents))


common = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(scenario: Scenario):
    return evaluate(scenario.terms, scenario.data, scenario.months).months


@common
@given(scenarios())
def test_credits_are_never_negative_and_never_exceed_any_cap(scenario):
    terms = scenario.terms
    for result in run(scenario):
        for line, service_level in zip(result.lines, terms.service_levels, strict=True):
            assert line.credit >= 0 and line.bonus >= 0 and line.earn_back >= 0
            if service_level.cap_pct is not None:
                assert line.credit <= to_cents(pct_of(service_level.cap_pct, result.charges))
        if result.at_risk_amount is not None:
            assert result.credits <= result.at_risk_amount


@common
@given(scenarios())
def test_credits_of_a_contract_year_never_exceed_the_annual_cap(scenario):
    months = run(scenario)
    terms = scenario.terms
    by_year: dict[Month, Decimal] = {}
    for result in months:
        year = terms.contract_year_of(result.month)
        by_year[year] = by_year.get(year, Decimal(0)) + result.credits
        if terms.annual_cap_pct is not None:
            assert by_year[year] <= result.annual_cap_amount


@common
@given(scenarios())
def test_a_binding_monthly_cap_is_attributed_to_the_lines_to_the_cent(scenario):
    if scenario.terms.annual_cap_pct is not None:
        return
    for result in run(scenario):
        rounded = sum(to_cents(line.capped_credit) for line in result.lines)
        if result.at_risk_amount is not None and rounded > result.at_risk_amount:
            assert result.credits == result.at_risk_amount
        else:
            assert [line.credit for line in result.lines] == [
                to_cents(line.capped_credit) for line in result.lines
            ]


@common
@given(scenarios())
def test_evaluating_twice_gives_identical_results(scenario):
    assert run(scenario) == run(scenario)


@common
@given(scenarios(), st.integers(min_value=1, max_value=7))
def test_evaluating_from_history_equals_evaluating_the_whole_range(scenario, split):
    whole = run(scenario)
    split = min(split, len(whole) - 1)
    if split < 1:
        return
    stored = json.loads(json.dumps(history_to_dict(History.from_results(whole[:split]))))
    rest = MonthRange(whole[split].month, scenario.months.last)

    resumed = evaluate(scenario.terms, scenario.data, rest, history=history_from_dict(stored))

    assert resumed.months == whole[split:]


@common
@given(scenarios())
def test_a_scenario_survives_dump_and_load(scenario):
    assert load_scenario(json.loads(json.dumps(dump_scenario(scenario)))) == scenario
