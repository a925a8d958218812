"""The what-if simulator: the management command and the API give the engine's result, and reject
bad scenarios naming the field."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from sla_tracker.engine.scenario import run_scenario
from tests.factories import UserFactory

SCENARIOS = sorted((Path(__file__).parent / "engine" / "scenarios").glob("*.json"))


def _simulate(path: Path) -> dict:
    out = io.StringIO()
    call_command("simulate_penalties", str(path), stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_command_prints_the_engine_result_for_every_worked_example(path):
    assert _simulate(path) == run_scenario(json.loads(path.read_text()))


def test_command_prints_the_capped_attribution_of_example_7():
    result = _simulate(next(p for p in SCENARIOS if p.stem.startswith("ex07")))
    month = result["months"][0]
    credits = {line["code"]: line["credit"] for line in month["service_levels"]}
    assert month["credits"] == "24000.00"
    assert month["cap_reached"] is True
    assert (credits["CSL-1"], credits["CSL-3"], credits["CSL-4"]) == ("11076.92", "7384.62", "5538.46")


def test_command_exits_2_naming_the_bad_field(tmp_path):
    scenario = json.loads(SCENARIOS[0].read_text())
    scenario["service_levels"][0]["credit"]["allocation_pct"] = "abc"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(scenario))
    with pytest.raises(CommandError) as error:
        call_command("simulate_penalties", str(path))
    assert error.value.returncode == 2
    assert "service_levels[0].credit.allocation_pct" in str(error.value)


def test_command_exits_2_on_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"currency": ')
    with pytest.raises(CommandError) as error:
        call_command("simulate_penalties", str(path))
    assert error.value.returncode == 2
    assert "not valid JSON" in str(error.value)


def test_command_exits_2_on_a_file_nested_too_deeply(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CommandError) as error:
        call_command("simulate_penalties", str(path))
    assert error.value.returncode == 2
    assert "nested too deeply" in str(error.value)


def test_command_exits_2_on_a_file_that_is_not_utf8(tmp_path):
    scenario = json.loads(SCENARIOS[0].read_text())
    scenario["service_levels"][0]["name"] = "Réponse aux e-mails"
    path = tmp_path / "latin1.json"
    path.write_bytes(json.dumps(scenario, ensure_ascii=False).encode("cp1252"))
    with pytest.raises(CommandError) as error:
        call_command("simulate_penalties", str(path))
    assert error.value.returncode == 2
    assert "is not UTF-8 text" in str(error.value)


@pytest.mark.django_db
def test_api_returns_the_same_result_as_the_command():
    client = APIClient()
    client.force_authenticate(UserFactory())
    path = next(p for p in SCENARIOS if p.stem.startswith("ex13"))
    response = client.post("/api/v1/simulations/", json.loads(path.read_text()), format="json")
    assert response.status_code == 200
    assert response.json() == _simulate(path)


@pytest.mark.django_db
def test_api_rejects_an_unknown_field_with_its_path():
    client = APIClient()
    client.force_authenticate(UserFactory())
    scenario = json.loads(SCENARIOS[0].read_text())
    scenario["service_levels"][0]["colour"] = "red"
    response = client.post("/api/v1/simulations/", scenario, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"  # the API's one error shape
    assert "service_levels[0].colour" in response.json()["errors"]


@pytest.mark.django_db
def test_api_refuses_anonymous_callers():
    response = APIClient().post("/api/v1/simulations/", {}, format="json")
    assert response.status_code in (401, 403)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("place", "value", "message"),
    [
        (
            ("measurements", 0, "values", "answered"),
            "1" + "0" * 63 + "1",
            "must have at most 16 digits before the point",
        ),
        (("measurements", 0, "values", "answered"), "1.00001", "must have at most 4 decimals, as a stored KPI value"),
        (("charges", "default"), "1" + "0" * 40, "must be at most 999999999999.99"),
        (("service_levels", 0, "scale"), 1e300, "must have at most 16 digits before the point"),
    ],
)
def test_a_number_beyond_what_the_tracker_stores_is_refused_not_a_crash(tmp_path, place, value, message):
    """Before, the engine's exact sums or its rounding raised on such numbers: a traceback, a 500."""
    scenario = json.loads(SCENARIOS[0].read_text())
    holder = scenario
    for key in place[:-1]:
        holder = holder[key]
    holder[place[-1]] = value
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(scenario))
    client = APIClient()
    client.force_authenticate(UserFactory())
    field = ".".join(str(key) for key in place).replace(".0.", "[0].")

    with pytest.raises(CommandError) as error:
        call_command("simulate_penalties", str(path))
    response = client.post("/api/v1/simulations/", scenario, format="json")

    assert error.value.returncode == 2
    assert f"{field}: {message}" in str(error.value)
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}


def test_a_json_number_with_an_exponent_is_read_as_its_plain_digits():
    scenario = json.loads(SCENARIOS[0].read_text())
    scenario["measurements"][0]["values"]["short_abandoned"] = 1e2
    plain = json.loads(SCENARIOS[0].read_text())
    plain["measurements"][0]["values"]["short_abandoned"] = "100"

    assert run_scenario(scenario) == run_scenario(plain)
