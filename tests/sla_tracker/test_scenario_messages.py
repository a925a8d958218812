"""The simulator's refusals read in the reader's language, on the page and in the API."""

import copy
import json
import re

import pytest
from django.urls import reverse
from django.utils import translation

from sla_tracker.engine.scenario import ScenarioError, load_scenario
from sla_tracker.scenario_messages import readable_message
from tests.factories import UserFactory

from .test_close import scenario_json, seed_scenario

# Scenarios broken in most of the ways the engine names: each change applied to ex01.
BREAKS = [
    {"currency": "euro", "months": {"from": "2026-13", "to": "2025-01"}, "unexpected": 1},
    {"months": {"from": "1800-01", "to": "2026-01"}, "contract_year_start": "13", "charges": {"2026-01": None}},
    {"months": {"from": "2026-01", "to": "2036-12"}, "pool_pct": "10"},
    {"charges": {"2026-02": "1.00"}, "measurements": [{"values": {"x": 1}}, None, {"date": "2026-01-02", "values": 3}]},
    {"termination_triggers": [{"type": "consecutive_defaults", "months": 3, "window": 6}, {"type": "x", "months": 0}]},
    {"exclusions": [{"from": "2026-01-05", "to": "2026-01-04", "reason": "r", "service_levels": ["CSL-9"]}]},
    {"incidents": [{"month": "2026-01", "service_levels": [None], "selected": "CSL-9"}]},
]
LEVEL_BREAKS = [
    {"code": "CSL-2", "scale": "0", "precision": 99, "numerator": [], "denominator": ["bad name"]},
    {"kind": "key", "cap_pct": "5", "multipliers": [{"run": 2, "factor": "x"}, {"run": 2, "factor": "1"}]},
    {
        "credit": {
            "type": "tiers",
            "bands": [{"from": "75", "to": "70", "pct": "3"}, {"from": "0", "to": "60", "pct": "6"}],
        }
    },
    {
        "credit": {"type": "allocation", "allocation_pct": "250"},
        "minimum": "90",
        "earn_back": {"months": 0, "pct": "200"},
    },
    {"expected_miss_rule": {"occurrences": 9, "window": 3}, "direction": "sideways", "expected": "abc"},
]


def _problems() -> list[str]:
    messages = []
    base = scenario_json("ex01_plain_breach")
    variants = [{**copy.deepcopy(base), **change} for change in BREAKS]
    for change in LEVEL_BREAKS:
        variant = copy.deepcopy(base)
        variant["service_levels"][0].update(change)
        variants.append(variant)
    for variant in variants:
        with pytest.raises(ScenarioError) as refused:
            load_scenario(variant)
        messages += [problem.message for problem in refused.value.problems]
    return messages


def test_every_message_the_engine_gave_here_reads_in_french():
    messages = _problems()
    assert len(set(messages)) >= 20
    with translation.override("fr"):
        untranslated = sorted({message for message in messages if readable_message(message) == message})
    assert untranslated == []


def test_a_message_keeps_the_values_it_names():
    with translation.override("fr"):
        assert readable_message("not a decimal number: 'abc'") == "n’est pas un nombre décimal\u00a0: 'abc'"
        assert readable_message("allocations sum to 250 %, above pool_pct 200 %") == (
            "les allocations totalisent 250\u00a0%, au-delà de pool_pct 200\u00a0%"
        )
        assert readable_message("6 occurrences cannot fit in a window of 3") == (
            "6 occurrences ne tiennent pas dans une fenêtre de 3"
        )
        assert readable_message("no such message") == "no such message"


@pytest.mark.django_db
def test_the_api_and_the_simulator_page_write_the_refusals_in_the_readers_language(client):
    contract = seed_scenario(scenario_json("ex01_plain_breach"))
    client.force_login(UserFactory(procurement=True))
    scenario = scenario_json("ex01_plain_breach")
    scenario["service_levels"][0]["expected"] = "abc"

    api = client.post("/api/v1/simulations/", scenario, content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr")
    page = client.post(
        reverse("sla_tracker:simulate", args=[contract.pk]),
        {"scenario": json.dumps(scenario)},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert api.json()["errors"] == {"service_levels[0].expected": ["n’est pas un nombre décimal\u00a0: 'abc'"]}
    assert re.search(r"service_levels\[0\]\.expected</code>\s*:?\s*n’est pas un nombre décimal", page.content.decode())
