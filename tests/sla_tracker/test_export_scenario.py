"""export_scenario writes a stored contract in the simulator's format, and where no waiver or
adjustment intervenes the stored statements equal the simulator's figures for that export."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sla_tracker.engine import round_half_up
from sla_tracker.engine.scenario import load_scenario, run_scenario
from sla_tracker.models import PenaltyStatement, ServiceLevelVersion
from tests.factories import ServiceLevelVersionFactory

from .test_close import SCENARIOS, close, scenario_json, seed_scenario

SCENARIO_NAMES = sorted(path.stem for path in SCENARIOS.glob("*.json"))


def export(reference: str, first: str, last: str, tmp_path: Path) -> dict:
    output = tmp_path / "scenario.json"
    call_command("export_scenario", reference, "--from", first, "--to", last, "--output", str(output))
    return json.loads(output.read_text(encoding="utf-8"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_the_statements_equal_the_simulator_on_the_exported_scenario(name, tmp_path):
    original = scenario_json(name)
    contract = seed_scenario(original)
    first, last = original["months"]["from"], original["months"]["to"]
    close(contract, last)

    exported = export(contract.reference, first, last, tmp_path)
    simulated = run_scenario(exported)

    assert _figures(simulated) == _figures(run_scenario(original))

    statements = {
        f"{statement.month:%Y-%m}": statement
        for statement in PenaltyStatement.objects.filter(contract=contract).prefetch_related("lines__service_level")
    }
    assert sorted(statements) == [month["month"] for month in simulated["months"]]
    for month in simulated["months"]:
        statement = statements[month["month"]]
        assert _money(
            statement, "charges", "at_risk_amount", "uncapped_credits", "credits", "bonuses", "earn_backs"
        ) == {
            key: month[key]
            for key in ("charges", "at_risk_amount", "uncapped_credits", "credits", "bonuses", "earn_backs")
        }
        assert str(statement.net) == month["net"]
        assert statement.cap_reached == month["cap_reached"]
        assert [(item["type"], item["since"], item["evidence"]) for item in statement.termination_rights] == [
            (item["type"], item["since"], item["evidence"]) for item in month["termination_rights"]
        ]
        lines = {line.service_level.code: line for line in statement.lines.all()}
        for expected in month["service_levels"]:
            line = lines[expected["code"]]
            got = {
                "status": line.status,
                "run": line.run,
                "raw_credit": str(line.raw_credit),
                "credit": str(line.credit),
                "bonus": str(line.bonus),
                "earn_back": str(line.earn_back),
                "explanation": line.explanation,
            }
            assert got == {key: expected[key] for key in got}, (month["month"], expected["code"])
            shown = None if line.measured is None else str(round_half_up(line.measured, 4))
            assert shown == expected["measured"], (month["month"], expected["code"])


def _figures(result: dict) -> list[tuple]:
    return [
        (
            month["month"],
            month["credits"],
            month["net"],
            [(line["code"], line["status"], line["credit"]) for line in month["service_levels"]],
        )
        for month in result["months"]
    ]


def _money(statement, *names) -> dict:
    return {name: None if getattr(statement, name) is None else str(getattr(statement, name)) for name in names}


@pytest.mark.django_db
def test_an_output_file_that_cannot_be_written_is_a_command_error(tmp_path):
    contract = seed_scenario(scenario_json("ex11_excluded_days"))

    with pytest.raises(CommandError, match=r"cannot write .*missing/scenario\.json: No such file or directory"):
        call_command(
            "export_scenario",
            contract.reference,
            "--from",
            "2026-04",
            "--to",
            "2026-04",
            "--output",
            str(tmp_path / "missing" / "scenario.json"),
        )


@pytest.mark.django_db
def test_the_export_loads_as_a_scenario_and_goes_to_stdout_without_output(capsys):
    contract = seed_scenario(scenario_json("ex11_excluded_days"))

    call_command("export_scenario", contract.reference.swapcase(), "--from", "2026-04", "--to", "2026-04")

    captured = capsys.readouterr()
    scenario = load_scenario(json.loads(captured.out))
    assert str(scenario.months) == "2026-04..2026-04"
    assert [item.code for item in scenario.terms.service_levels] == ["CSL-1", "CSL-2", "CSL-3", "CSL-4", "CSL-5"]
    assert len(scenario.data.exclusions) == 1
    assert captured.err == ""


@pytest.mark.django_db
def test_terms_that_change_within_the_range_are_exported_as_in_the_last_month_with_a_warning(tmp_path, capsys):
    contract = seed_scenario(scenario_json("ex06_tiers"))
    current = ServiceLevelVersion.objects.get(service_level__contract=contract)
    ServiceLevelVersionFactory(
        service_level=current.service_level,
        valid_from=date(2026, 3, 1),
        numerator=current.numerator,
        denominator=current.denominator,
        expected=Decimal("85"),
        minimum=None,
        allocation_pct=Decimal("50"),
    )

    exported = export(contract.reference, "2026-01", "2026-04", tmp_path)

    assert exported["service_levels"][0]["expected"] == "85"
    assert exported["service_levels"][0]["credit"] == {"type": "allocation", "allocation_pct": "50"}
    assert "warning: the terms changed within 2026-01..2026-04" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_range_after_stored_statements_is_exported_with_a_warning_that_their_history_is_not_in_it(tmp_path, capsys):
    contract = seed_scenario(scenario_json("ex06_tiers"))
    close(contract, "2026-02")

    export(contract.reference, "2026-01", "2026-02", tmp_path)
    from_start = capsys.readouterr().err
    export(contract.reference, "2026-02", "2026-02", tmp_path)
    after = capsys.readouterr().err

    assert "statements before" not in from_start
    assert f"warning: {contract.reference} has statements before 2026-02 (the last for 2026-01)" in after


@pytest.mark.django_db
def test_export_scenario_refuses_an_unknown_contract_or_a_bad_month():
    with pytest.raises(CommandError, match="no contract"):
        call_command("export_scenario", "NOPE", "--from", "2026-01", "--to", "2026-02")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("export_scenario", "NOPE", "--from", "2026-13", "--to", "2026-02")
    with pytest.raises(CommandError, match="at most 120 months at a time"):
        call_command("export_scenario", "NOPE", "--from", "2016-01", "--to", "2026-01")
    with pytest.raises(CommandError, match="from 1900 to 9000"):
        call_command("export_scenario", "NOPE", "--from", "9999-11", "--to", "9999-12")
