"""Scenario limits: months, counts and null items give an error naming the JSON path, never a crash
or an endless evaluation (the API would answer 500, or not at all)."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sla_tracker.engine.scenario import ScenarioError, load_scenario, run_scenario

SCENARIOS = Path(__file__).parent / "scenarios"
TEXT = (SCENARIOS / "ex01_plain_breach.json").read_text()
BASE = json.loads(TEXT)  # 2026-01, CSL-1 in default (credit-bearing)
ROOT = Path(__file__).resolve().parents[3]


def scenario(**changes) -> dict:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def in_year(year: int, **changes) -> dict:
    """The base scenario moved from 2026 to ``year`` (months, dates and measurements)."""
    data = json.loads(TEXT.replace('"2026-', f'"{year}-'))
    data.update(changes)
    return data


def with_service_level(data: dict, **changes) -> dict:
    data["service_levels"][0].update(changes)
    return data


def problems(data: dict) -> dict[str, list[str]]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(data)
    return caught.value.as_dict()


def window_trigger(window: int, months: int = 2) -> list[dict]:
    return [{"type": "defaults_in_window", "months": months, "window": window}]


# Defect 1: the month after 9999-12 was computed.


def test_months_up_to_9999_are_refused_at_months_to():
    errors = problems(scenario(months={"from": "2026-01", "to": "9999-12"}))

    assert errors == {"months.to": ["the year must be from 1900 to 9000"]}


@pytest.mark.parametrize("first", ["0001-01", "1000-01", "1899-12"])
def test_months_before_1900_are_refused_at_months_from(first):
    errors = problems(scenario(months={"from": first, "to": "2026-01"}))

    assert errors == {"months.from": ["the year must be from 1900 to 9000"]}


def test_the_first_and_last_years_allowed_evaluate():
    assert run_scenario(in_year(1900))["months"][0]["month"] == "1900-01"
    last = in_year(9000, months={"from": "9000-01", "to": "9000-12"}, annual_cap_pct="50")
    last["contract_year_start"] = "07"  # its contract year ends in 9001-06

    assert run_scenario(last)["months"][-1]["month"] == "9000-12"


# Defect 2: a huge trigger window.


@pytest.mark.parametrize("window", [10**30, 100000, 32768])
def test_a_huge_trigger_window_is_refused(window):
    errors = problems(scenario(termination_triggers=window_trigger(window)))

    assert errors == {"termination_triggers[0].window": ["must be at most 32767"]}


# Defect 3: the evaluated range and the counts are bounded.


def test_more_than_120_months_are_refused_at_months_to():
    errors = problems(scenario(months={"from": "1000-01", "to": "9998-12"}))
    assert errors == {"months.from": ["the year must be from 1900 to 9000"]}

    errors = problems(scenario(months={"from": "2026-01", "to": "2036-01"}))
    assert errors == {"months.to": ["at most 120 months at a time: 2035-12 at the latest"]}


def test_120_months_are_evaluated():
    result = run_scenario(scenario(months={"from": "2026-01", "to": "2035-12"}))

    assert len(result["months"]) == 120


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        (
            {"termination_triggers": [{"type": "consecutive_defaults", "months": 10**30}]},
            "termination_triggers[0].months",
            "must be at most 32767",
        ),
        (
            {"termination_triggers": window_trigger(32767, months=40000)},
            "termination_triggers[0].months",
            "must be at most 32767",
        ),
        (
            {"expected_miss_rule": {"occurrences": 1, "window": 10**30}},
            "service_levels[0].expected_miss_rule.window",
            "must be at most 32767",
        ),
        (
            {"expected_miss_rule": {"occurrences": 10**30, "window": 2}},
            "service_levels[0].expected_miss_rule.occurrences",
            "must be at most 32767",
        ),
        (
            {"earn_back": {"months": 10**30, "pct": "50"}},
            "service_levels[0].earn_back.months",
            "must be at most 32767",
        ),
        (
            {"multipliers": [{"run": 10**30, "factor": "2"}]},
            "service_levels[0].multipliers[0].run",
            "must be at most 32767",
        ),
        ({"precision": 10**30}, "service_levels[0].precision", "must be at most 6"),
        ({"precision": 7}, "service_levels[0].precision", "must be at most 6"),
        (
            {"min_volume": {"at_least": "1" + "0" * 40}},
            "service_levels[0].min_volume.at_least",
            "must be at most 2147483647",
        ),
    ],
)
def test_counts_beyond_what_stored_terms_allow_are_refused(changes, path, message):
    data = scenario()
    if "termination_triggers" in changes:
        data.update(changes)
    else:
        with_service_level(data, **changes)

    assert problems(data) == {path: [message]}


def test_the_largest_counts_stored_terms_allow_evaluate():
    """Exported scenarios hold stored terms: every count a stored contract can hold must load and
    evaluate, at either end of the years allowed."""
    for year in (1900, 9000):
        data = in_year(
            year,
            months={"from": f"{year}-01", "to": f"{year}-03"},
            termination_triggers=[
                *window_trigger(32767, months=32767),
                {"type": "consecutive_defaults", "months": 32767},
            ],
        )
        with_service_level(
            data,
            expected_miss_rule={"occurrences": 1, "window": 32767},
            earn_back={"months": 32767, "pct": "100"},
            multipliers=[{"run": 32767, "factor": "3"}],
            precision=6,
        )
        data["service_levels"][1]["min_volume"] = {"at_least": 2147483647, "rule": "carry_forward"}

        result = run_scenario(data)

        assert [month["month"] for month in result["months"]] == [
            f"{year}-01",
            f"{year}-02",
            f"{year}-03",
        ]
        assert result["months"][0]["service_levels"][0]["status"] == "default"


# Defect 4: a scale that is not positive.


@pytest.mark.parametrize("scale", ["0", "0.0", 0, "-1"])
def test_a_scale_that_is_not_positive_is_refused(scale):
    errors = problems(with_service_level(scenario(), scale=scale))

    assert errors == {"service_levels[0].scale": ["must be above 0"]}


# Defect 5: null items.


@pytest.mark.parametrize(
    "name",
    ["termination_triggers", "service_levels", "measurements", "exclusions", "incidents"],
)
def test_a_null_item_is_refused_at_its_path(name):
    errors = problems(scenario(**{name: [None]}))

    assert errors == {f"{name}[0]": ["must be an object"]}


def test_a_null_multiplier_is_refused_at_its_path():
    errors = problems(with_service_level(scenario(), multipliers=[None]))

    assert errors == {"service_levels[0].multipliers[0]": ["must be an object"]}


def test_a_null_band_is_refused_at_its_path():
    bands = [{"from": "0", "to": "80", "pct": "5"}, None]
    errors = problems(with_service_level(scenario(), credit={"type": "tiers", "bands": bands}))

    assert errors == {"service_levels[0].credit.bands[1]": ["must be an object"]}


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"charges": {"2026-01": None}}, 'charges["2026-01"]', "required"),
        (
            {"measurements": [{"month": "2026-01", "values": {"answered": None}}]},
            "measurements[0].values.answered",
            "required",
        ),
        (
            {"measurements": [{"date": None, "values": {"answered": 1}}]},
            "measurements[0]",
            'needs exactly one of "date" and "month"',
        ),
        (
            {"exclusions": [{"from": "2026-01-01", "to": "2026-01-02", "service_levels": [None]}]},
            "exclusions[0].service_levels[0]",
            "must be a non-empty string",
        ),
        (
            {"incidents": [{"month": "2026-01", "service_levels": ["CSL-1", None]}]},
            "incidents[0].service_levels[1]",
            "must be a non-empty string",
        ),
    ],
)
def test_other_null_values_are_refused_at_their_path(changes, path, message):
    assert problems(scenario(**changes)) == {path: [message]}


# Years of data outside the evaluated months.


def test_a_month_of_year_0_is_refused_at_its_path():
    data = scenario(measurements=[{"month": "0000-01", "values": {"answered": 1}}])

    assert problems(data) == {"measurements[0].month": ["must be a month \"YYYY-MM\", not '0000-01'"]}


def test_data_of_year_1_outside_the_evaluated_months_is_accepted():
    data = scenario()
    data["measurements"].append({"date": "0001-01-01", "values": {"answered": 1}})
    data["exclusions"] = [{"from": "0001-01-01", "to": "0001-01-31"}]
    data["incidents"] = [{"month": "0001-01", "service_levels": ["CSL-1", "CSL-2"]}]
    data["charges"]["0001-01"] = "1.00"

    assert run_scenario(data)["months"][0]["month"] == "2026-01"


# The command the API shares the parser with.


def test_simulate_penalties_exits_2_naming_the_path(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario(termination_triggers=window_trigger(10**30))))

    done = subprocess.run(
        [sys.executable, "manage.py", "simulate_penalties", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2
    assert "termination_triggers[0].window: must be at most 32767" in done.stderr
