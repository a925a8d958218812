"""Inconsistent or malformed scenarios are rejected, naming the field by its JSON path."""

import copy
import json
from pathlib import Path

import pytest

from sla_tracker.engine.scenario import ScenarioError, load_scenario, run_scenario

BASE = json.loads((Path(__file__).parent / "scenarios" / "ex01_plain_breach.json").read_text())


def scenario(**changes) -> dict:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def problems(data: dict) -> dict[str, list[str]]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(data)
    return caught.value.as_dict()


def with_service_level(index: int, **changes) -> dict:
    data = scenario()
    data["service_levels"][index].update(changes)
    return data


def test_a_valid_scenario_loads():
    assert load_scenario(scenario()).terms.service_levels[0].code == "CSL-1"


def test_allocations_above_the_pool_are_rejected_at_the_allocation_that_crosses_it():
    data = with_service_level(4, credit={"type": "allocation", "allocation_pct": "40"})

    errors = problems(data)

    assert list(errors) == ["service_levels[4].credit.allocation_pct"]
    assert "210 %, above pool_pct 200 %" in errors["service_levels[4].credit.allocation_pct"][0]


def test_an_allocation_credit_without_at_risk_pct_is_rejected():
    data = scenario()
    del data["at_risk_pct"]

    errors = problems(data)

    assert "service_levels[0].credit" in errors
    assert "at_risk_pct" in errors["service_levels[0].credit"][0]


def test_overlapping_tiers_are_rejected_naming_the_band():
    bands = [{"from": "75", "to": "80", "pct": "3"}, {"from": "70", "to": "76", "pct": "6"}]
    data = with_service_level(0, credit={"type": "tiers", "bands": bands})

    errors = problems(data)

    assert errors == {"service_levels[0].credit.bands[0]": ["overlaps bands[1] [70, 76)"]}


def test_tiers_that_leave_a_gap_are_rejected_naming_it():
    bands = [{"from": "75", "to": "80", "pct": "3"}, {"from": "0", "to": "70", "pct": "6"}]
    data = with_service_level(0, credit={"type": "tiers", "bands": bands})

    errors = problems(data)

    assert errors == {"service_levels[0].credit.bands[0]": ["leaves [70, 75) without a band after bands[1]"]}


def test_an_unbounded_band_below_another_overlaps_it():
    bands = [{"from": "0", "pct": "10"}, {"from": "70", "to": "75", "pct": "6"}]

    errors = problems(with_service_level(0, credit={"type": "tiers", "bands": bands}))

    assert "service_levels[0].credit.bands[1]" in errors


def test_tiers_that_stop_short_of_the_target_are_rejected_as_a_default_there_would_be_credited_0():
    short = [{"from": "0", "to": "75", "pct": "6"}]
    from_50 = [{"from": "50", "to": "80", "pct": "3"}]

    assert problems(with_service_level(0, credit={"type": "tiers", "bands": short})) == {
        "service_levels[0].credit.bands[0].to": ["leaves [75, 80) below expected without a band"]
    }
    assert problems(with_service_level(0, credit={"type": "tiers", "bands": from_50})) == {
        "service_levels[0].credit.bands[0].from": ["leaves [0, 50) without a band: start the lowest band at 0"]
    }


def test_tiers_that_reach_the_target_or_past_it_load():
    to_target = [{"from": "0", "to": "75", "pct": "6"}, {"from": "75", "to": "80", "pct": "3"}]
    past_it = [{"from": "0", "to": "80", "pct": "6"}, {"from": "80", "pct": "0"}]

    for bands in (to_target, past_it):
        loaded = load_scenario(with_service_level(0, credit={"type": "tiers", "bands": bands}))
        assert len(loaded.terms.service_levels[0].credit.bands) == len(bands)


def test_lower_is_better_tiers_reach_from_the_target_up_without_an_end():
    """CSL-2, abandonment ≤ 5 %: every rate above 5 % must fall in a band."""
    above_target = [{"from": "6", "pct": "3"}]
    bounded = [{"from": "5", "to": "10", "pct": "3"}]
    reaching = [{"from": "5", "to": "10", "pct": "3"}, {"from": "10", "pct": "6"}]

    assert problems(with_service_level(1, credit={"type": "tiers", "bands": above_target})) == {
        "service_levels[1].credit.bands[0].from": ["leaves (5, 6) above expected without a band"]
    }
    assert problems(with_service_level(1, credit={"type": "tiers", "bands": bounded})) == {
        "service_levels[1].credit.bands[0].to": [
            "leaves values from 10 up without a band: leave out the highest band's to"
        ]
    }
    assert load_scenario(with_service_level(1, credit={"type": "tiers", "bands": reaching}))


def test_a_cap_trigger_without_an_at_risk_amount_is_rejected_as_it_could_never_hold():
    data = scenario(termination_triggers=[{"type": "cap_reached_in_window", "months": 2, "window": 6}])
    for service_level in data["service_levels"]:
        if service_level.get("credit", {}).get("type") == "allocation":
            service_level["credit"] = {"type": "fixed", "amount": "1000.00"}
    del data["at_risk_pct"]
    del data["pool_pct"]

    assert problems(data) == {
        "termination_triggers[0].type": ["cap_reached_in_window needs at_risk_pct (the cap it counts)"]
    }


def test_a_key_service_level_with_credit_terms_is_rejected():
    errors = problems(with_service_level(1, kind="key", cap_pct="5"))

    assert set(errors) == {"service_levels[1].credit", "service_levels[1].cap_pct"}


def test_an_exclusion_naming_an_unknown_service_level_is_rejected():
    exclusion = {"from": "2026-01-14", "to": "2026-01-15", "service_levels": ["CSL-1", "CSL-9"]}

    errors = problems(scenario(exclusions=[exclusion]))

    assert errors == {"exclusions[0].service_levels[1]": ["unknown service level 'CSL-9'"]}


def test_an_incident_naming_an_unknown_service_level_or_selection_is_rejected():
    incident = {"month": "2026-01", "service_levels": ["CSL-1", "CSL-X"], "selected": "CSL-3"}

    errors = problems(scenario(incidents=[incident]))

    assert set(errors) == {"incidents[0].service_levels[1]", "incidents[0].selected"}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (scenario(colour="blue"), "colour"),
        (with_service_level(0, weight=2), "service_levels[0].weight"),
        (
            with_service_level(0, credit={"type": "fixed", "amount": 1, "cap": 2}),
            "service_levels[0].credit.cap",
        ),
        (scenario(months={"from": "2026-01", "to": "2026-01", "step": 1}), "months.step"),
        (
            scenario(exclusions=[{"from": "2026-01-01", "to": "2026-01-02", "who": "x"}]),
            "exclusions[0].who",
        ),
    ],
)
def test_an_unknown_field_is_an_error_naming_its_path(data, path):
    assert problems(data) == {path: ["unknown field"]}


def test_a_malformed_counter_name_is_named_with_a_bracketed_path():
    data = scenario(measurements=[{"month": "2026-01", "values": {"answered calls": 1}}])

    assert problems(data) == {'measurements[0].values["answered calls"]': ["not a counter name"]}


@pytest.mark.parametrize(
    ("months", "path"),
    [
        ({"from": "2026-13", "to": "2026-12"}, "months.from"),
        ({"from": "2026-01", "to": "26-02"}, "months.to"),
        ({"from": "2026-03", "to": "2026-01"}, "months.to"),
        ({"from": "2026-1", "to": "2026-01"}, "months.from"),
    ],
)
def test_a_month_outside_the_format_is_rejected(months, path):
    assert path in problems(scenario(months=months))


def test_a_bad_month_in_charges_measurements_or_incidents_is_named():
    data = scenario(
        charges={"default": "200000.00", "2026-00": "1"},
        measurements=[{"month": "January", "values": {}}],
        incidents=[{"month": "2026-1", "service_levels": ["CSL-1"]}],
    )

    errors = problems(data)

    assert {'charges["2026-00"]', "measurements[0].month", "incidents[0].month"} <= set(errors)


def test_decimals_may_be_strings_or_numbers_but_nothing_else():
    assert load_scenario(scenario(at_risk_pct=12.5)).terms.at_risk_pct == 12.5
    assert load_scenario(scenario(at_risk_pct="12.5")).terms.at_risk_pct == 12.5
    assert "at_risk_pct" in problems(scenario(at_risk_pct="12,5"))
    assert "at_risk_pct" in problems(scenario(at_risk_pct=True))
    assert "at_risk_pct" in problems(scenario(at_risk_pct="-1"))


def test_a_measurement_row_needs_exactly_one_of_date_and_month():
    both = {"date": "2026-01-14", "month": "2026-01", "values": {"answered": 1}}

    assert "measurements[0]" in problems(scenario(measurements=[both]))
    assert "measurements[0].date" in problems(
        scenario(measurements=[{"date": "2026-02-30", "values": {}}])
    )


def test_months_without_charges_are_rejected():
    data = scenario(charges={"2026-02": "1000"})

    assert problems(data) == {"charges": ['no charges for 2026-01: add them or a "default"']}


def test_several_problems_are_reported_together():
    data = scenario(colour="blue", contract_year_start="13")
    data["service_levels"][0]["direction"] = "sideways"

    error_paths = set(problems(data))

    assert error_paths == {"colour", "contract_year_start", "service_levels[0].direction"}


def test_the_error_message_names_the_path_and_the_problem():
    with pytest.raises(ScenarioError) as caught:
        load_scenario(scenario(pool_pct="100"))

    assert caught.value.path == "service_levels[2].credit.allocation_pct"
    assert str(caught.value).startswith(
        "service_levels[2].credit.allocation_pct: allocations sum to 200 %, above pool_pct 100 %"
    )


def test_a_missing_or_null_required_field_is_named_once():
    data = scenario()
    del data["service_levels"][0]["expected"]
    data["service_levels"][1]["numerator"] = None

    assert problems(data) == {
        "service_levels[0].expected": ["required"],
        "service_levels[1].numerator": ["required"],
    }


def test_a_null_optional_field_takes_its_default():
    loaded = load_scenario(with_service_level(0, kind=None, scale=None))

    assert (loaded.terms.service_levels[0].kind, loaded.terms.service_levels[0].scale) == (
        "critical",
        100,
    )


def test_a_window_trigger_needs_a_window_that_can_hold_its_months():
    triggers = [
        {"type": "defaults_in_window", "months": 6},
        {"type": "cap_reached_in_window", "months": 13, "window": 12},
        {"type": "consecutive_defaults", "months": 3, "window": 12},
    ]

    assert problems(scenario(termination_triggers=triggers)) == {
        "termination_triggers[0].window": ["required for defaults_in_window"],
        "termination_triggers[1].months": ["13 months cannot fit in a window of 12"],
        "termination_triggers[2].window": ["consecutive_defaults takes no window"],
    }


def test_a_scenario_that_is_not_an_object_is_rejected():
    assert problems([]) == {"$": ["must be an object"]}


def test_a_critical_service_level_needs_credit_terms_and_a_minimum_on_the_worse_side():
    data = scenario()
    del data["service_levels"][0]["credit"]
    data["service_levels"][1]["minimum"] = "4"  # lower is better: a minimum below 5.0 is better

    errors = problems(data)

    assert errors["service_levels[0].credit"] == ["required for a critical service level"]
    assert errors["service_levels[1].minimum"] == ["must be above expected (5.0)"]


def test_counts_that_sum_below_zero_are_refused_naming_the_service_level_month_and_formula():
    """More short abandons than abandons: CSL-2's numerator would be -50, a negative abandonment rate."""
    data = scenario()
    data["measurements"][0]["values"].update(abandoned=100, short_abandoned=150)

    with pytest.raises(ScenarioError) as refused:
        run_scenario(data)

    assert refused.value.as_dict() == {
        "measurements": [
            "CSL-2 in 2026-01: the numerator (abandoned - short_abandoned) sums to -50: "
            "the counters it subtracts exceed those it adds"
        ]
    }
