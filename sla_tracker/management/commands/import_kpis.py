"""Import a KPI pack (CSV or .xlsx) for a contract: validate, print the report, write all or nothing (a
refused pack is not kept)."""

import datetime
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from contracts.models import Contract
from sla_tracker.kpi_import.readers import UnreadableFile
from sla_tracker.kpi_import.reasons import readable_errors
from sla_tracker.kpi_import.service import KpiDataRejected, import_upload, preview_upload

ERROR_EXIT_CODE = 2


class Command(BaseCommand):
    help = "Validate and import a KPI pack for a contract; exits 2 with the report when any row is wrong."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="CSV (, or ; separated, UTF-8) or .xlsx file")
        parser.add_argument("--contract", required=True, help="Contract reference, e.g. DEMO-A")
        parser.add_argument("--mapping", help="Name of a saved column mapping of the contract")
        parser.add_argument(
            "--mapping-json",
            help='Mapping as JSON: {"date_column": "Date", "columns": {"Appels reçus": "offered"}, "name": "…"}',
        )
        parser.add_argument("--user", help="Username recorded as the author (default: the contract's owner)")
        parser.add_argument(
            "--correction-reason",
            default="",
            help="Why the file corrects months whose penalty statement is approved or invoiced: they are then "
            "accepted, the statements stay as they are and the differences become adjustments of the next open one",
        )
        parser.add_argument("--today", type=datetime.date.fromisoformat, help="Pretend today is this date (YYYY-MM-DD)")

    def handle(self, *args, **options) -> None:
        contract = Contract.objects.filter(reference__iexact=options["contract"]).first()
        if contract is None:
            raise CommandError(f"Unknown contract {options['contract']!r}.", returncode=ERROR_EXIT_CODE)
        actor = self._actor(options["user"], contract)
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.", returncode=ERROR_EXIT_CODE)
        mapping = _mapping_json(options["mapping_json"])
        try:
            with path.open("rb") as handle:
                upload = preview_upload(
                    contract=contract,
                    file=File(handle, name=path.name),
                    actor=actor,
                    mapping_name=options["mapping"],
                    mapping=mapping,
                    today=options["today"],
                    correction_reason=options["correction_reason"],
                )
        except PermissionDenied as error:
            raise CommandError(str(error), returncode=ERROR_EXIT_CODE) from error
        except KpiDataRejected as rejected:
            self._print_preview(path.name, rejected.preview)
            self._print_refusal(rejected)
            raise CommandError(
                f"Nothing imported: {rejected.error_count} error(s).", returncode=ERROR_EXIT_CODE
            ) from None
        except (UnreadableFile, ValidationError) as error:
            raise CommandError(f"{path.name}: {_message(error)}", returncode=ERROR_EXIT_CODE) from error
        self._print_preview(path.name, upload.preview, rows=upload.rows_total)
        try:
            import_upload(upload=upload, actor=actor, today=options["today"])
        except KpiDataRejected as rejected:
            self._print_refusal(rejected)
            raise CommandError("Nothing imported.", returncode=ERROR_EXIT_CODE) from None
        result = upload.preview["result"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported upload #{upload.pk}: {result['created']} created, {result['updated']} changed, "
                f"{result['unchanged']} unchanged (mapping “{upload.mapping.name}”)."
            )
        )

    def _actor(self, username: str | None, contract: Contract):
        if not username:
            return contract.owner
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Unknown user {username!r}.", returncode=ERROR_EXIT_CODE)
        return user

    def _print_preview(self, name: str, preview: dict, *, rows: int | None = None) -> None:
        """What was read of the file: its format, and the mapping it is read with."""
        if not preview:
            return
        counted = f"{rows} data row(s), " if rows is not None else ""
        self.stdout.write(f"{name}: {counted}{preview.get('format')}")
        mapping = preview.get("mapping", {})
        time = f", time in “{mapping['time_column']}”" if mapping.get("time_column") else ""
        self.stdout.write(f"Mapping ({mapping.get('origin')}): date in “{mapping.get('date_column')}”{time}")
        for header, code in mapping.get("columns", {}).items():
            self.stdout.write(f"  {header} → {code}")
        for header in mapping.get("unmapped_columns", []):
            self.stdout.write(f"  {header} → (not mapped)")
        if preview.get("months"):
            self.stdout.write(f"Months: {', '.join(preview['months'])}; values: {preview.get('values')}")

    def _print_refusal(self, rejected: KpiDataRejected) -> None:
        for error in readable_errors(rejected.stored_errors()):
            place = ", ".join(
                part
                for part in (
                    f"row {error['row']}" if error.get("row") else "",
                    f"column “{error['column']}”" if error.get("column") else "",
                    f"value “{error['value']}”" if error.get("value") is not None else "",
                )
                if part
            )
            self.stdout.write(self.style.ERROR(f"{place}: {error['message']}" if place else error["message"]))
        if rejected.error_count > len(rejected.issues):
            self.stdout.write(self.style.ERROR(f"… and {rejected.error_count - len(rejected.issues)} more error(s)."))


def _mapping_json(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(
            f"--mapping-json is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}).",
            returncode=ERROR_EXIT_CODE,
        ) from None


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(str(message) for message in error.messages)
    return str(getattr(error, "message", error))
