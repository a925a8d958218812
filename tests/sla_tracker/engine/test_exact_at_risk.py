"""The at-risk amount is an intermediate value: allocation credits are computed from it exactly, and only
the final lines are rounded to cents (DOMAIN.md C1); the explanation shows the exact base it used."""

from django.utils import translation

from sla_tracker.engine import evaluate
from sla_tracker.engine.explain import to_data
from sla_tracker.engine.scenario import load_scenario, run_scenario
from sla_tracker.explanations import readable


def _scenario(charges: str) -> dict:
    return {
        "currency": "EUR",
        "months": {"from": "2026-01", "to": "2026-01"},
        "charges": {"default": charges},
        "at_risk_pct": "12",
        "service_levels": [
            {
                "code": "CSL-1",
                "name": "Service level",
                "numerator": ["answered_within"],
                "denominator": ["offered"],
                "expected": "80",
                "credit": {"type": "allocation", "allocation_pct": "50"},
            }
        ],
        "measurements": [{"month": "2026-01", "values": {"answered_within": 70, "offered": 100}}],
    }


def test_an_allocation_credit_is_computed_from_the_exact_at_risk_amount():
    month = run_scenario(_scenario("100000.05"))["months"][0]
    (line,) = month["service_levels"]

    assert month["at_risk_amount"] == "12000.01"  # 12 % of €100,000.05 = €12,000.006, shown in cents
    assert line["credit"] == "6000.00"  # 50 % of €12,000.006 = €6,000.003 (not 50 % of €12,000.01)
    assert "allocation 50 % × €12,000.006 at risk = €6,000.00" in line["explanation"]


def test_the_exact_base_reads_in_french_with_its_fractions_of_a_cent():
    scenario = load_scenario(_scenario("100000.05"))
    (month,) = evaluate(scenario.terms, scenario.data, scenario.months).months
    (line,) = month.lines
    with translation.override("fr"):
        text = readable(line.explanation, to_data(line.notes))
    assert "12\u00a0000,006\u00a0€ à risque = 6\u00a0000,00\u00a0€" in text


def test_an_at_risk_amount_in_whole_cents_reads_as_before():
    (line,) = run_scenario(_scenario("200000.00"))["months"][0]["service_levels"]
    assert "allocation 50 % × €24,000.00 at risk = €12,000.00" in line["explanation"]
