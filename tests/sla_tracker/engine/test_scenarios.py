"""DOMAIN.md §6 examples as JSON scenarios (tests/sla_tracker/engine/scenarios/) through
``run_scenario``, checked against the result format of issue 3 §2."""

import json
from pathlib import Path

import pytest

from sla_tracker.engine.scenario import dump_scenario, load_scenario, run_scenario

SCENARIOS = Path(__file__).parent / "scenarios"

# Per scenario and month: the month's credits and net, then (code, measured, status, credit).
EXPECTED = {
    "ex01_plain_breach": {
        "2026-01": ("14400.00", "-14400.00", [("CSL-1", "73.2558", "default", "14400.00")])
    },
    "ex02_met_on_the_same_data": {
        "2026-01": ("14400.00", "-14400.00", [("CSL-2", "4.6512", "met", "0.00")])
    },
    "ex03_exactly_at_target_and_rounding_trap": {
        "2026-01": ("0.00", "0.00", [("CSL-1", "80.0000", "met", "0.00")]),
        "2026-02": ("14400.00", "-14400.00", [("CSL-1", "79.9977", "default", "14400.00")]),
    },
    "ex03c_precision_one_decimal": {
        "2026-01": ("0.00", "0.00", [("CSL-1", "79.9977", "met", "0.00")])
    },
    "ex04_lower_is_better": {
        "2026-01": ("9600.00", "-9600.00", [("CSL-2", "5.2000", "default", "9600.00")]),
        "2026-02": ("0.00", "0.00", [("CSL-2", "5.0000", "met", "0.00")]),
    },
    "ex05_ratio_of_sums": {
        "2026-04": ("14400.00", "-14400.00", [("CSL-1", "76.7719", "default", "14400.00")])
    },
    "ex06_tiers": {
        "2026-01": ("9000.00", "-9000.00", [("CSL-1", "73.2558", "default", "9000.00")]),
        "2026-02": ("4500.00", "-4500.00", [("CSL-1", "75.0000", "default", "4500.00")]),
        "2026-03": ("15000.00", "-15000.00", [("CSL-1", "69.9977", "default", "15000.00")]),
        "2026-04": ("0.00", "0.00", [("CSL-1", "80.0000", "met", "0.00")]),
    },
    "ex07_pool_with_cap_binding": {
        "2026-07": (
            "24000.00",
            "-24000.00",
            [
                ("CSL-1", "73.2558", "default", "11076.92"),
                ("CSL-2", "4.6512", "met", "0.00"),
                ("CSL-3", "93.0612", "default", "7384.62"),
                ("CSL-4", "88.3000", "default", "5538.46"),
                ("CSL-5", "86.0000", "met", "0.00"),
            ],
        )
    },
    "ex08_linear_proportional": {
        "2026-01": ("10000.00", "-10000.00", [("CSL-3", "88.4000", "default", "10000.00")]),
        "2026-02": ("4300.00", "-4300.00", [("CSL-3", "92.8500", "default", "4300.00")]),
    },
    "ex08_linear_floor": {
        "2026-01": ("10000.00", "-10000.00", []),
        "2026-02": ("4000.00", "-4000.00", []),
    },
    "ex08_linear_ceil": {
        "2026-01": ("10000.00", "-10000.00", []),
        "2026-02": ("6000.00", "-6000.00", []),
    },
    "ex09_multiplier": {
        "2026-02": ("0.00", "0.00", [("CSL-2", "4.8000", "met", "0.00")]),
        "2026-03": ("9600.00", "-9600.00", [("CSL-2", "5.6000", "default", "9600.00")]),
        "2026-04": ("14400.00", "-14400.00", [("CSL-2", "5.3000", "default", "14400.00")]),
        "2026-05": (
            "24000.00",
            "-24000.00",
            [
                ("CSL-2", "6.1000", "default", "17454.55"),
                ("CSL-5", "83.0000", "default", "6545.45"),
            ],
        ),
        "2026-06": ("0.00", "0.00", [("CSL-2", "4.9000", "met", "0.00")]),
        "2026-07": ("9600.00", "-9600.00", [("CSL-2", "5.5000", "default", "9600.00")]),
    },
    "ex10_earn_back": {
        "2026-01": ("14400.00", "-14400.00", [("CSL-1", "76.5000", "default", "14400.00")]),
        "2026-02": ("0.00", "0.00", [("CSL-1", "81.0000", "met", "0.00")]),
        "2026-03": ("0.00", "0.00", [("CSL-1", "80.0000", "met", "0.00")]),
        "2026-04": ("0.00", "14400.00", [("CSL-1", "83.2000", "met", "0.00")]),
    },
    "ex10b_earn_back_forfeited": {
        "2026-03": ("14400.00", "-14400.00", [("CSL-1", "79.9000", "default", "14400.00")]),
        "2026-04": ("0.00", "0.00", []),
        "2026-06": ("0.00", "14400.00", []),
    },
    "ex11_excluded_days": {"2026-04": ("0.00", "0.00", [("CSL-1", "84.2105", "met", "0.00")])},
    "ex12a_min_volume_not_measured": {
        "2026-01": ("0.00", "0.00", [("CSL-5", None, "not_measured", "0.00")]),
        "2026-02": ("0.00", "0.00", [("CSL-5", "85.7143", "met", "0.00")]),
    },
    "ex12b_min_volume_carry_forward": {
        "2026-01": ("0.00", "0.00", [("CSL-5", None, "not_measured", "0.00")]),
        "2026-02": ("7200.00", "-7200.00", [("CSL-5", "83.1683", "default", "7200.00")]),
    },
    "ex13_termination_triggers": {
        month: (credit, f"-{credit}" if credit != "0.00" else "0.00", [])
        for month, credit in zip(
            [f"2026-0{number}" for number in range(1, 10)],
            [
                "14400.00",
                "0.00",
                "9600.00",
                "24000.00",
                "0.00",
                "7200.00",
                "24000.00",
                "9600.00",
                "9600.00",
            ],
            strict=True,
        )
    },
    "ex14_expected_and_minimum_levels": {
        "2025-02": ("0.00", "0.00", [("CSL-1", "78.0000", "missed", "0.00")]),
        "2025-04": ("10000.00", "-10000.00", [("CSL-1", "74.9000", "minimum_default", "10000.00")]),
        "2025-06": ("0.00", "0.00", [("CSL-1", "79.5000", "missed", "0.00")]),
        "2025-08": ("10000.00", "-10000.00", [("CSL-1", "77.0000", "default", "10000.00")]),
        "2025-09": ("10000.00", "-10000.00", [("CSL-1", "76.0000", "default", "10000.00")]),
        "2026-02": ("10000.00", "-10000.00", [("CSL-1", "78.5000", "default", "10000.00")]),
    },
    "ex15_annual_cap": {
        "2026-11": ("14400.00", "-14400.00", []),
        "2026-12": (
            "7200.00",
            "-7200.00",
            [
                ("CSL-1", "73.2558", "default", "4320.00"),
                ("CSL-2", "5.2000", "default", "2880.00"),
            ],
        ),
    },
    "ex16_single_incident": {
        "2026-01": (
            "14400.00",
            "-14400.00",
            [
                ("CSL-1", "74.0000", "default", "14400.00"),
                ("CSL-2", "5.4000", "default", "0.00"),
            ],
        ),
        "2026-02": ("9600.00", "-9600.00", [("CSL-1", "74.0000", "default", "0.00")]),
        "2026-03": ("14400.00", "-14400.00", []),
        "2026-04": ("24000.00", "-24000.00", []),
    },
    "ex17_bonus_alongside_a_credit": {
        "2026-01": (
            "9600.00",
            "-7600.00",
            [
                ("CSL-2", "5.2000", "default", "9600.00"),
                ("CSL-5", "92.4000", "met", "0.00"),
            ],
        )
    },
    "ex18_two_level_pool": {
        "2026-01": ("2000.00", "-2000.00", [("CSL-7", "90.0000", "default", "2000.00")])
    },
    "ex19_asa_lower_is_better": {
        "2026-01": (
            "5000.00",
            "-5000.00",
            [
                ("ASA", "55.4545", "default", "5000.00"),
                ("ASA-KM", "55.4545", "missed", "0.00"),
            ],
        )
    },
}


def load(name: str) -> dict:
    return json.loads((SCENARIOS / f"{name}.json").read_text())


def run(name: str) -> dict[str, dict]:
    return {month["month"]: month for month in run_scenario(load(name))["months"]}


def test_every_scenario_file_has_expectations():
    assert {path.stem for path in SCENARIOS.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_gives_the_figures_of_its_domain_example(name):
    months = run(name)

    for month, (credits, net, lines) in EXPECTED[name].items():
        result = months[month]
        assert (result["credits"], result["net"]) == (credits, net), month
        by_code = {line["code"]: line for line in result["service_levels"]}
        for code, measured, status, credit in lines:
            line = by_code[code]
            assert (line["measured"], line["status"], line["credit"]) == (
                measured,
                status,
                credit,
            ), (
                month,
                code,
            )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_survives_a_load_and_dump_round_trip(name):
    data = load(name)

    assert dump_scenario(load_scenario(data)) == data


def test_the_result_has_exactly_the_fields_of_the_format():
    result = run_scenario(load("ex01_plain_breach"))

    assert set(result) == {"currency", "months"}
    month = result["months"][0]
    assert set(month) == {
        "month",
        "charges",
        "at_risk_amount",
        "service_levels",
        "uncapped_credits",
        "cap_reached",
        "credits",
        "bonuses",
        "earn_backs",
        "net",
        "termination_rights",
    }
    assert set(month["service_levels"][0]) == {
        "code",
        "measured",
        "status",
        "run",
        "raw_credit",
        "credit",
        "bonus",
        "earn_back",
        "explanation",
    }
    assert (month["charges"], month["at_risk_amount"]) == ("200000.00", "24000.00")
    assert json.loads(json.dumps(result)) == result


def test_the_first_example_line_reads_as_in_the_issue():
    line = run("ex01_plain_breach")["2026-01"]["service_levels"][0]

    assert line == {
        "code": "CSL-1",
        "measured": "73.2558",
        "status": "default",
        "run": 1,
        "raw_credit": "14400.00",
        "credit": "14400.00",
        "bonus": "0.00",
        "earn_back": "0.00",
        "explanation": "73.26 % < 80 % target → default; allocation 60 % × €24,000.00 at risk = "
        "€14,400.00; monthly cap not reached",
    }


def test_cap_reached_is_true_when_uncapped_credits_equal_the_at_risk_amount():
    months = run("ex13_termination_triggers")

    assert months["2026-04"]["uncapped_credits"] == "24000.00"
    assert months["2026-04"]["cap_reached"] is True
    assert months["2026-07"]["uncapped_credits"] == "31200.00"
    assert [m["cap_reached"] for m in months.values()].count(True) == 2


def test_termination_rights_appear_in_every_month_they_hold_with_their_first_month():
    months = run("ex13_termination_triggers")

    rights = {
        month: [(r["type"], r["since"]) for r in result["termination_rights"]]
        for month, result in months.items()
    }
    assert rights["2026-07"] == []
    assert rights["2026-08"] == [("defaults_in_window", "2026-08")]
    assert rights["2026-09"] == [
        ("consecutive_defaults", "2026-09"),
        ("defaults_in_window", "2026-08"),
    ]
    assert all(r[0] != "cap_reached_in_window" for month in rights.values() for r in month)


def test_termination_rights_come_in_the_order_of_the_trigger_types_whatever_order_lists_the_triggers():
    # A stored contract reads its triggers in another order than its scenario lists them: the rights must not follow it.
    data = json.loads((SCENARIOS / "ex13_termination_triggers.json").read_text())
    data["termination_triggers"].reverse()

    result = run_scenario(data)

    september = next(month for month in result["months"] if month["month"] == "2026-09")
    assert [right["type"] for right in september["termination_rights"]] == [
        "consecutive_defaults",
        "defaults_in_window",
    ]


def test_the_evidence_of_consecutive_defaults_names_the_service_levels_by_code_whatever_order_lists_them():
    def level(code, counter):
        return {
            "code": code, "name": code, "numerator": [f"{counter}_ok"], "denominator": [f"{counter}_all"],
            "expected": "80", "credit": {"type": "fixed", "amount": "100.00"},
        }

    data = {
        "currency": "EUR",
        "months": {"from": "2026-01", "to": "2026-01"},
        "charges": {"default": "10000.00"},
        "termination_triggers": [{"type": "consecutive_defaults", "months": 1}],
        "service_levels": [level("SL-B", "b"), level("SL-A", "a")],
        "measurements": [{"month": "2026-01", "values": {"a_ok": 1, "a_all": 2, "b_ok": 1, "b_all": 2}}],
    }

    (right,) = run_scenario(data)["months"][0]["termination_rights"]

    assert right["evidence"] == (
        "SL-A credit-bearing in 1 consecutive months (2026-01..2026-01, ≥ 1); "
        "SL-B credit-bearing in 1 consecutive months (2026-01..2026-01, ≥ 1)"
    )


def test_earn_backs_bonuses_and_their_month_totals_are_on_the_lines():
    earn_back = run("ex10_earn_back")["2026-04"]
    bonus = run("ex17_bonus_alongside_a_credit")["2026-01"]

    assert earn_back["earn_backs"] == "14400.00"
    assert earn_back["service_levels"][0]["earn_back"] == "14400.00"
    assert bonus["bonuses"] == "2000.00"
    assert bonus["service_levels"][4]["bonus"] == "2000.00"


def test_the_currency_is_echoed_in_the_result():
    assert run_scenario(load("ex18_two_level_pool"))["currency"] == "USD"
