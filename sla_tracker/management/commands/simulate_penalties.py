"""Evaluate a penalty scenario (a contract's terms with its data, as JSON) without the database."""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sla_tracker.engine.scenario import ScenarioError, run_scenario


class Command(BaseCommand):
    help = (
        "Evaluate SCENARIO.json (the scenario format of the penalty simulator) and print the result "
        "JSON. Exit 2 with the JSON path of the bad field when the scenario is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("scenario", help="Path to the scenario JSON file, or - to read standard input.")

    def handle(self, *args, scenario: str, **options):
        data = _read_json(scenario)
        try:
            result = run_scenario(data)
        except ScenarioError as exc:
            raise CommandError(f"invalid scenario: {exc}", returncode=2) from exc
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))


def _read_json(source: str) -> object:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CommandError(f"cannot read {source}: {exc.strerror}", returncode=2) from exc
    except UnicodeDecodeError as exc:  # e.g. saved as Windows-1252 by a spreadsheet or an old editor
        raise CommandError(
            f"{source} is not UTF-8 text (byte {exc.start + 1}): save it as UTF-8 and try again", returncode=2
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", returncode=2
        ) from exc
    except RecursionError as exc:
        raise CommandError(f"{source} is not valid JSON: it is nested too deeply", returncode=2) from exc
