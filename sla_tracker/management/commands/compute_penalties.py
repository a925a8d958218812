"""Run the monthly penalty close from the shell: queue it on Celery, or (--sync) run it in-process."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from contracts.models import Contract
from contracts.months import parse_month
from sla_tracker import services
from sla_tracker.choices import ComputationCause
from sla_tracker.tasks import compute_month, contract_ids_to_close, evaluate_contract_month


class Command(BaseCommand):
    help = "Compute the penalty statements of a month for every active contract, or for one (--contract)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help='The month to close, "YYYY-MM".')
        parser.add_argument("--contract", metavar="REF", help="Only this contract (its reference).")
        parser.add_argument("--sync", action="store_true", help="Run in this process instead of queueing tasks.")

    def handle(self, *args, month: str, contract: str | None, sync: bool, **options):
        try:
            parse_month(month)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if contract is not None:
            try:
                ids = [Contract.objects.values_list("pk", flat=True).get(reference__iexact=contract)]
            except Contract.DoesNotExist as exc:
                raise CommandError(f"no contract with reference {contract!r}") from exc
        else:
            ids = contract_ids_to_close(month)
        if sync:
            self._run(ids, month)
        elif contract is not None:
            evaluate_contract_month.delay(ids[0], month, ComputationCause.COMMAND)
            self.stdout.write(f"Queued the close of {month} for {contract}.")
        else:
            compute_month.delay(month, ComputationCause.COMMAND)
            self.stdout.write(f"Queued the close of {month} for {len(ids)} contract(s).")

    def _run(self, ids: list[int], month: str) -> None:
        """Close in batches of CLOSE_BATCH_SIZE contracts, as the Celery fan-out does."""
        references = dict(Contract.objects.filter(pk__in=ids).values_list("pk", "reference"))
        size = settings.CLOSE_BATCH_SIZE
        failures = 0
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            try:
                closed = services.close_contracts_month(contract_ids=batch, month=month, cause=ComputationCause.COMMAND)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            for index, contract_id in enumerate(batch, start=start + 1):
                prefix = f"[{index}/{len(ids)}] {references[contract_id]} {month}"
                if contract_id in closed.refused:
                    failures += 1
                    self.stderr.write(f"{prefix}: {closed.refused[contract_id]}")
                    continue
                statement = closed.statements[contract_id]
                self.stdout.write(
                    f"{prefix}: {statement.get_status_display()}, credits {statement.credits}, net {statement.net}"
                )
        self.stdout.write(f"Closed {len(ids) - failures} of {len(ids)} contract(s) for {month}.")
        if failures:
            raise CommandError(f"{failures} contract(s) could not be closed", returncode=1)
