"""Write a stored contract's terms and data for a range of months in the simulator's scenario format."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contracts.models import Contract
from sla_tracker.engine import Month, MonthRange
from sla_tracker.engine.scenario import FIRST_YEAR, LAST_YEAR, MAX_MONTHS
from sla_tracker.penalty_inputs import export_scenario, history_before


class Command(BaseCommand):
    help = (
        "Export CONTRACT_REF's terms (as in force in the last month) and its charges, counters, approved "
        "exclusions and incidents from --from to --to as a scenario JSON for simulate_penalties."
    )

    def add_arguments(self, parser):
        parser.add_argument("contract", metavar="CONTRACT_REF")
        parser.add_argument("--from", dest="first", required=True, help='First month, "YYYY-MM".')
        parser.add_argument("--to", dest="last", required=True, help='Last month, "YYYY-MM".')
        parser.add_argument("--output", help="Write to this file instead of standard output.")

    def handle(self, *args, contract: str, first: str, last: str, output: str | None, **options):
        try:
            months = MonthRange(Month.parse(first), Month.parse(last))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if months.first.year < FIRST_YEAR or months.last.year > LAST_YEAR:
            raise CommandError(f"the months must be from {FIRST_YEAR} to {LAST_YEAR}, as simulate_penalties takes them")
        if len(months) > MAX_MONTHS:
            raise CommandError(f"at most {MAX_MONTHS} months at a time, as simulate_penalties evaluates them")
        try:
            stored = Contract.objects.get(reference__iexact=contract)
        except Contract.DoesNotExist as exc:
            raise CommandError(f"no contract with reference {contract!r}") from exc
        scenario, differing = export_scenario(stored, months)
        if differing:
            self.stderr.write(
                f"warning: the terms changed within {months}; the scenario uses those in force in {months.last} "
                f"(different in {', '.join(map(str, differing))})"
            )
        if (earlier := history_before(stored, months)) is not None:
            self.stderr.write(
                f"warning: {stored.reference} has statements before {months.first} (the last for {earlier}); a "
                "scenario starts without their history (runs, occurrence windows, earn-backs, the annual cap used), "
                "so its first months may differ from the statements"
            )
        text = json.dumps(scenario, indent=2, ensure_ascii=False)
        if output:
            try:
                Path(output).write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
            self.stderr.write(f"wrote {output}")
        else:
            self.stdout.write(text)
