"""Cent rounding of lines never makes the credited total exceed the uncapped total."""

from sla_tracker.engine.scenario import run_scenario


def _fixed_service_level(code: str) -> dict:
    return {
        "code": code,
        "numerator": ["answered_within_20s"],
        "denominator": ["answered"],
        "direction": "higher_is_better",
        "expected": "80",
        "credit": {"type": "fixed", "amount": "1000.005"},
    }


def test_uncapped_total_is_the_sum_of_the_lines_in_cents():
    scenario = {
        "currency": "EUR",
        "months": {"from": "2026-01", "to": "2026-01"},
        "charges": {"default": "200000.00"},
        "service_levels": [_fixed_service_level("CSL-1"), _fixed_service_level("CSL-2")],
        "measurements": [{"month": "2026-01", "values": {"answered": 100, "answered_within_20s": 50}}],
    }
    month = run_scenario(scenario)["months"][0]
    assert [line["credit"] for line in month["service_levels"]] == ["1000.01", "1000.01"]
    assert month["uncapped_credits"] == "2000.02"
    assert month["credits"] == "2000.02"
