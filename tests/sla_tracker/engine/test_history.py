"""Evaluating from a closed history, terms that change over time, and provisional months."""

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from sla_tracker.engine import (
    EarnBack,
    EngineError,
    History,
    Month,
    MonthRange,
    Status,
    evaluate,
    evaluate_month,
    history_from_dict,
    history_to_dict,
)
from sla_tracker.engine.scenario import load_scenario

from .builders import contract_a, contract_data, month_values, monthly_rows, with_service_level

D = Decimal
SCENARIOS = Path(__file__).parent / "scenarios"


def scenario(name: str):
    return load_scenario(json.loads((SCENARIOS / f"{name}.json").read_text()))


@pytest.mark.parametrize(
    "name",
    [
        "ex09_multiplier",
        "ex10b_earn_back_forfeited",
        "ex12b_min_volume_carry_forward",
        "ex13_termination_triggers",
        "ex14_expected_and_minimum_levels",
        "ex15_annual_cap",
    ],
)
def test_evaluating_from_the_closed_history_equals_evaluating_the_whole_range(name):
    loaded = scenario(name)
    whole = evaluate(loaded.terms, loaded.data, loaded.months).months

    for split in range(1, len(whole)):
        closed = history_from_dict(json.loads(json.dumps(history_to_dict(History.from_results(whole[:split])))))
        rest = MonthRange(whole[split].month, loaded.months.last)

        assert evaluate(loaded.terms, loaded.data, rest, history=closed).months == whole[split:]


def test_months_summarised_by_their_credits_give_the_annual_cap_the_same_figures():
    loaded = scenario("ex15_annual_cap")
    whole = evaluate(loaded.terms, loaded.data, loaded.months).months
    history = History.from_results(whole[:11])
    summarised = History((*(prior.summary() for prior in history.months[:10]), history.months[10]))
    stored = history_from_dict(json.loads(json.dumps(history_to_dict(summarised))))

    assert stored == summarised
    assert [prior.credits for prior in stored.months] == [prior.credits for prior in history.months]
    assert stored.months[0].service_levels == () and history.months[0].credits > 0
    assert evaluate_month(loaded.terms, loaded.data, Month(2026, 12), history=stored) == whole[11]


def test_a_summarised_month_has_no_service_levels():
    prior = History.from_results(evaluate_scenario("ex15_annual_cap")[:1]).months[0]

    with pytest.raises(ValueError, match="a summarised month has no service levels"):
        replace(prior, summary_credits=D("1.00"))


def evaluate_scenario(name: str):
    loaded = scenario(name)
    return evaluate(loaded.terms, loaded.data, loaded.months).months


def test_a_waived_credit_in_history_counts_as_zero_for_the_annual_cap_and_the_earn_back():
    loaded = scenario("ex15_annual_cap")
    whole = evaluate(loaded.terms, loaded.data, loaded.months).months
    history = History.from_results(whole[:11])
    november = history.months[10]
    waived = replace(
        november,
        service_levels=tuple(replace(line, credit=D("0.00")) for line in november.service_levels),
    )
    history = History((*history.months[:10], waived))

    december = evaluate_month(loaded.terms, loaded.data, Month(2026, 12), history=history)

    assert december.credits == D("21600.00")  # 144,000 − (136,800 − 14,400 waived)


def test_carried_forward_sums_in_history_are_added_to_the_next_month():
    loaded = scenario("ex12b_min_volume_carry_forward")
    january = evaluate_month(loaded.terms, loaded.data, Month(2026, 1))
    history = History.from_results([january])

    february = evaluate_month(loaded.terms, loaded.data, Month(2026, 2), history=history)

    assert history.months[0].line("CSL-5").carried_forward.numerator == 48
    assert february.line("CSL-5").status is Status.DEFAULT
    assert february.credits == D("7200.00")


def test_history_must_end_before_the_evaluated_months():
    loaded = scenario("ex01_plain_breach")
    january = evaluate_month(loaded.terms, loaded.data, Month(2026, 1))

    with pytest.raises(EngineError):
        evaluate_month(loaded.terms, loaded.data, Month(2026, 1), history=History.from_results([january]))


def test_terms_can_change_from_one_month_to_the_next():
    jan, feb, mar = Month(2026, 1), Month(2026, 2), Month(2026, 3)
    before = contract_a()
    after = replace(with_service_level(before, "CSL-1", earn_back=EarnBack(1, D(50))), at_risk_pct=D(10))
    values = {
        jan: month_values(within=31_500),
        feb: month_values(within=31_500),
        mar: month_values(),
    }
    terms = {jan: before, feb: after, mar: after}

    months = evaluate(terms, contract_data(monthly_rows(values)), MonthRange(jan, mar)).months

    assert [result.at_risk_amount for result in months] == [
        D("24000.00"),
        D("20000.00"),
        D("20000.00"),
    ]
    assert [result.credits for result in months] == [D("14400.00"), D("12000.00"), D("0.00")]
    assert months[2].earn_backs == D("6000.00")  # only February's credit was under an earn-back


def test_a_month_without_terms_in_force_is_an_error():
    data = contract_data(monthly_rows({Month(2026, 1): month_values()}))

    with pytest.raises(EngineError, match="no terms in force for 2026-02"):
        evaluate({Month(2026, 1): contract_a()}, data, MonthRange(Month(2026, 1), Month(2026, 2)))


def test_a_line_is_provisional_until_its_finalisation_days_after_month_end():
    terms = with_service_level(contract_a(), "CSL-5", finalisation_days=10)
    data = contract_data(monthly_rows({Month(2026, 1): month_values()}))

    def flags(as_of):
        result = evaluate_month(terms, data, Month(2026, 1), as_of=as_of)
        return (
            result.line("CSL-1").provisional,
            result.line("CSL-5").provisional,
            result.provisional,
        )

    assert flags(None) == (False, False, False)
    assert flags(date(2026, 1, 31)) == (True, True, True)
    assert flags(date(2026, 2, 1)) == (False, True, True)
    assert flags(date(2026, 2, 10)) == (False, True, True)
    assert flags(date(2026, 2, 11)) == (False, False, False)
    provisional = evaluate_month(terms, data, Month(2026, 1), as_of=date(2026, 2, 5))
    assert provisional.line("CSL-5").explanation.endswith("provisional until 2026-02-11")
