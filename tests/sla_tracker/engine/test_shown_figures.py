"""An explanation's figures never contradict the rule they explain: the measured value is shown with
more decimals where 2 would round it onto the other side of a credit band's edge, a whole point of
shortfall, or another value at the service level's precision."""

import pytest

from sla_tracker.engine.scenario import run_scenario


def _explanation(level: dict, answered_within: int, offered: int) -> str:
    scenario = {
        "currency": "EUR",
        "months": {"from": "2026-01", "to": "2026-01"},
        "charges": {"default": "100000.00"},
        "service_levels": [
            {
                "code": "CSL-1",
                "name": "Service level",
                "numerator": ["answered_within"],
                "denominator": ["offered"],
                "expected": "95",
                **level,
            }
        ],
        "measurements": [{"month": "2026-01", "values": {"answered_within": answered_within, "offered": offered}}],
    }
    (line,) = run_scenario(scenario)["months"][0]["service_levels"]
    return line["explanation"]


FIXED = {"credit": {"type": "fixed", "amount": "1000.00"}}


@pytest.mark.parametrize(
    ("level", "answered_within", "shown"),
    [
        # 94.94999 % rounds to 94.9 at 1 decimal: shown as 94.95 it would seem to round to 95.0.
        ({"precision": 1, **FIXED}, 9_494_999, "94.94999 % → 94.9 % rounded to 1 decimal"),
        # 69.9999 % lies in the band [0, 70), which "70.00 %" does not.
        (
            {
                "credit": {
                    "type": "tiers",
                    "bands": [{"from": "70", "to": "95", "pct": "3"}, {"from": "0", "to": "70", "pct": "6"}],
                }
            },
            6_999_990,
            "69.9999 %",
        ),
        # 92.9999 % is 2.0001 points short of 95: three whole points up, not the two "93.00 %" suggests.
        ({"credit": {"type": "linear", "pct_per_point": "1", "shortfall": "ceil"}}, 9_299_990, "92.9999 %"),
    ],
)
def test_a_figure_is_shown_with_the_decimals_its_rule_needs(level, answered_within, shown):
    assert _explanation(level, answered_within, 10_000_000).startswith(shown)


def test_a_plain_figure_keeps_two_decimals():
    assert _explanation(FIXED, 7_326_000, 10_000_000).startswith("73.26 % < 95 % target → default")


def test_the_points_of_a_proportional_shortfall_are_shown_as_precisely_as_the_credit_needs():
    # 92.8901725… % is 2.1098275 points short of 95: with 4 decimals, 2.1098 × 1 % × €185,500 gives
    # €3,913.68, not the €3,913.73 credited; 6 decimals give it.
    level = {"credit": {"type": "linear", "pct_per_point": "1", "shortfall": "proportional"}}
    scenario_charges = "185500.00"
    scenario = {
        "currency": "EUR",
        "months": {"from": "2026-01", "to": "2026-01"},
        "charges": {"default": scenario_charges},
        "service_levels": [
            {
                "code": "CSL-1",
                "name": "Service level",
                "numerator": ["answered_within"],
                "denominator": ["offered"],
                "expected": "95",
                **level,
            }
        ],
        "measurements": [{"month": "2026-01", "values": {"answered_within": 92_890_172_5, "offered": 1_000_000_000}}],
    }
    (line,) = run_scenario(scenario)["months"][0]["service_levels"]

    assert line["raw_credit"] == "3913.73"
    assert "shortfall 2.109828 points (proportional) × 1 % × €185,500.00 charges = €3,913.73" in line["explanation"]


def test_whole_points_of_shortfall_keep_their_short_form():
    level = {"credit": {"type": "linear", "pct_per_point": "1", "shortfall": "floor"}}
    assert "shortfall 2 points (floor)" in _explanation(level, 9_290_000, 10_000_000)
