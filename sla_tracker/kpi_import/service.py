"""The write path of KPI data: file previews and imports, hand entry and the API all end in
`save_measurements`, which validates and writes one contract's values in one transaction.

The write is an upsert of the given (counter, day) keys: new keys are created, changed values are
replaced, equal values are left alone, and a value of None deletes. Every create, change and delete
is logged in MeasurementChange (who, when, old and new value, which upload) in the same transaction.
On PostgreSQL the values are streamed with COPY into a temporary table and written with a few
set-based statements; elsewhere in batches through the ORM.
"""

import datetime
import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Count, Exists, Max, OuterRef
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from contracts.models import Contract
from sla_tracker.choices import ChangeAction, ComputationCause, MeasurementSource, StatementAction, UploadStatus
from sla_tracker.kpi_import.access import contracts_for_kpi_correction, contracts_for_kpi_entry, may_not_log
from sla_tracker.kpi_import.mapping import ResolvedMapping, resolve_mapping, save_mapping
from sla_tracker.kpi_import.readers import Table, UnreadableFile, check_size, open_table
from sla_tracker.kpi_import.reasons import Reason
from sla_tracker.kpi_import.validation import FileRows, Issue, KpiValue, Period, Validator
from sla_tracker.models import (
    KpiCounter,
    KpiUpload,
    Measurement,
    MeasurementChange,
    PenaltyStatement,
    StatementEvent,
)
from sla_tracker.services import carry_corrections_of_approved_months

logger = logging.getLogger(__name__)

WRITE_BATCH_SIZE = 2000
COPY_BATCH_SIZE = 20_000
PROGRESS_EVERY_ROWS = 1_000  # at most, a hundred reports per file
# Kept on every changed value of a correction: a few sentences, not a document.
CORRECTION_REASON_MAX_LENGTH = 1_000
PREVIEW_SAMPLE_ROWS = 5
IMPORTED_STATUSES = (UploadStatus.IMPORTING, UploadStatus.IMPORTED)
# Uploads no import has started on: removed once older than KPI_UPLOAD_ABANDONED_DAYS.
ABANDONED_STATUSES = (UploadStatus.NEEDS_MAPPING, UploadStatus.VALIDATED)
# Uploads whose columns the mapping step maps (again): one waiting for its mapping, one validated whose
# mapping leaves columns unread, one refused before refused packs stopped being stored.
MAPPABLE_STATUSES = (UploadStatus.NEEDS_MAPPING, UploadStatus.VALIDATED, UploadStatus.REJECTED)
DISCARD_BATCH_SIZE = 500
NO_DATA_ROWS = Reason(gettext_noop("The file has a header row but no data rows."))


class KpiDataRejected(Exception):
    """Validation failed: nothing was written. `issues` lists the first errors, `error_count` counts all;
    for a KPI pack, `preview` says what was read of the file (format, sheet, header row, mapping)."""

    def __init__(self, issues: list[Issue], error_count: int, *, preview: dict | None = None) -> None:
        super().__init__(f"{error_count} error(s), first: {issues[0].message if issues else ''}")
        self.issues = issues
        self.error_count = error_count
        self.preview = preview or {}

    def stored_errors(self) -> list[dict]:
        """The errors in no language (`reasons.readable_errors` writes them in the reader's)."""
        return [issue.as_dict() for issue in self.issues]


@dataclass(frozen=True)
class SaveResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "deleted": self.deleted, "unchanged": self.unchanged}


# Hand entry, API and files --------------------------------------------------------------------------


def save_measurements(
    *,
    contract: Contract,
    values: Iterable[KpiValue] | FileRows,
    source: str,
    actor,
    upload: KpiUpload | None = None,
    today: datetime.date | None = None,
    decimal_comma: bool | None = None,
    per_item: bool = False,
    correction_reason: str = "",
) -> SaveResult:
    """Validate and upsert one contract's values, all or nothing; KpiDataRejected lists every error.

    `values` are KpiValue items, or a file's rows (`file_rows`); either may stream (a generator is
    read once). `per_item` reports a problem once per item (API) instead of once per file column.
    Writers of one contract's measurements take turns on the contract's row lock.

    Months whose statement is approved or invoiced are refused, unless a `correction_reason` is given
    by someone who may correct them (access.contracts_for_kpi_correction): the changes then keep the
    reason, each corrected statement records it, and, in the same transaction, the corrected months are
    recomputed and their differences carried into the next open statement as adjustments
    (carry_corrections_of_approved_months); the approved statements themselves never change.
    """
    correction_reason = _checked_correction_reason(contract, actor, correction_reason)
    validator = Validator(
        contract=contract,
        today=today or timezone.localdate(),
        decimal_comma=decimal_comma,
        per_item=per_item,
        corrects_locked_months=bool(correction_reason),
    )
    with transaction.atomic():
        Contract.objects.select_for_update().filter(pk=contract.pk).exists()
        # The months a correction may change, whose changes keep its reason.
        correction_months = sorted(validator.locked_months) if correction_reason else []
        changes_before = _last_change_id(contract, correction_months) if correction_months else None
        writer = _writer_class()(
            contract=contract,
            source=source,
            actor=actor,
            upload=upload,
            correction_reason=correction_reason,
            correction_months=correction_months,
        )
        checked = validator.check_rows(values) if isinstance(values, FileRows) else validator.check_items(values)
        for period, pairs in checked:
            writer.add(period, pairs)
        validator.finish()
        if not validator.ok:
            raise KpiDataRejected(validator.issues, validator.error_count)
        result = writer.finish()
        if result.created or result.updated or result.deleted:
            corrected = (
                _changes_by_month(contract, correction_months, after=changes_before) if correction_months else {}
            )
            if corrected:
                _record_correction(contract, corrected, correction_reason, actor)
            _carry_changes(contract, validator.months, actor)
        return result


def _last_change_id(contract: Contract, months: list[datetime.date]) -> int:
    """The last change logged for ``months`` of ``contract`` (through the log's (contract, month) index)."""
    changes = MeasurementChange.objects.filter(contract=contract, month__in=months)
    return changes.aggregate(last=Max("id"))["last"] or 0


def _changes_by_month(contract: Contract, months: list[datetime.date], *, after: int) -> dict[datetime.date, dict]:
    """The changes this write made in ``months`` (ids after ``after``: writers of a contract take turns on
    its lock), counted per month and action."""
    counts: dict[datetime.date, dict] = {}
    rows = (
        MeasurementChange.objects.filter(contract=contract, month__in=months, id__gt=after)
        .values_list("month", "action")
        .annotate(count=Count("id"))
        .order_by()
    )
    for month, action, count in rows:
        counts.setdefault(month, {"created": 0, "updated": 0, "deleted": 0})[f"{action}d"] = count
    return counts


def _checked_correction_reason(contract: Contract, actor, reason: str | None) -> str:
    """The reason of a correction, stripped; PermissionDenied if ``actor`` may not correct ``contract``."""
    reason = (reason or "").strip()
    if reason and not contracts_for_kpi_correction(actor).filter(pk=contract.pk).exists():
        raise PermissionDenied(_("Only the contract's vendor manager or an administrator corrects approved months."))
    if len(reason) > CORRECTION_REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "correction_reason": [
                    _("Keep the reason to at most %(max)d characters.") % {"max": CORRECTION_REASON_MAX_LENGTH}
                ]
            }
        )
    return reason


def _record_correction(contract: Contract, changes: dict[datetime.date, dict], reason: str, actor) -> None:
    """Record the correction on each corrected statement with its month's changes."""
    for statement in PenaltyStatement.objects.filter(contract=contract, month__in=list(changes)):
        StatementEvent.objects.create(
            statement=statement,
            action=StatementAction.DATA_CORRECTED,
            actor=actor,
            note=reason,
            data=changes[statement.month],
        )


def _carry_changes(contract: Contract, months, actor) -> None:
    """Recompute the statements the write changed the inputs of (same transaction for the approved ones
    and the months up to them, their differences carried; once it commits for the open ones after)."""
    try:
        carry_corrections_of_approved_months(
            contract_id=contract.pk, months=list(months), actor=actor, cause=ComputationCause.KPI_DATA
        )
    except ValidationError as refused:
        reason = Reason(
            gettext_noop("The correction cannot be carried: {reason}"), {"reason": " ".join(refused.messages)}
        )
        raise KpiDataRejected([Issue(reason)], 1) from refused


def save_measurement(
    *,
    contract: Contract,
    counter: KpiCounter,
    month: datetime.date,
    day: datetime.date | None,
    value: Decimal | None,
    actor,
    source: str = MeasurementSource.API,
    must_be_new: bool = False,
    today: datetime.date | None = None,
) -> Measurement | None:
    """Store (or with value None delete) one value through `save_measurements`, so its rules, locks and
    change log apply: the stored row, or None once deleted. `must_be_new` refuses a key that has a value
    (a create). KpiDataRejected names the field of each error: "counter", "day" or "month", "value".
    """
    period_field = "day" if day else "month"
    item = KpiValue(
        counter=counter.code,
        period=day or f"{month:%Y-%m}",
        value=value,
        row=0,
        column="value",
        period_column=period_field,
        counter_column="counter",
    )
    stored = Measurement.objects.filter(contract=contract, counter=counter)
    stored = stored.filter(day=day) if day else stored.filter(day__isnull=True, month=month)
    with transaction.atomic():
        Contract.objects.select_for_update().filter(pk=contract.pk).exists()
        if must_be_new and stored.exists():
            message = (
                gettext_noop("This counter already has a value for this day.")
                if day
                else gettext_noop("This counter already has a whole-month value for this month.")
            )
            raise KpiDataRejected([Issue(Reason(message), row=0, column=period_field)], 1)
        save_measurements(contract=contract, values=[item], source=source, actor=actor, today=today, per_item=True)
    return stored.first()


def _writer_class() -> type:
    """COPY and set-based statements on PostgreSQL (much faster than batched upserts there: benchmarks.ingest)."""
    return _CopyWriter if connection.vendor == "postgresql" else _BatchWriter


class _BatchWriter:
    """Batched upserts through the ORM: look up a batch's existing rows, then bulk create/update/delete."""

    def __init__(self, *, contract, source, actor, upload, correction_reason="", correction_months=()) -> None:
        self.contract, self.source, self.actor, self.upload = contract, source, actor, upload
        self.correction_reason, self.correction_months = correction_reason, set(correction_months)
        self.batch: list[tuple[int, Period, Decimal | None]] = []
        self.counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}

    def add(self, period: Period, values: list[tuple[int, str | None]]) -> None:
        for counter_id, text in values:
            self.batch.append((counter_id, period, None if text is None else Decimal(text)))
        if len(self.batch) >= WRITE_BATCH_SIZE:
            self.flush()

    def finish(self) -> SaveResult:
        self.flush()
        return SaveResult(**self.counts)

    def flush(self) -> None:
        if not self.batch:
            return
        existing = self._existing(self.batch)
        now = timezone.now()
        creates, updates, deletes, changes = [], [], [], []
        for counter_id, period, value in self.batch:
            stored = existing.get((counter_id, period))
            old_value = stored.value if stored else None
            action = _action(old_value, value)
            if action is None:
                self.counts["unchanged"] += 1
                continue
            if action == ChangeAction.CREATE:
                creates.append(self._measurement(counter_id, period, value))
            elif action == ChangeAction.UPDATE:
                stored.value, stored.source, stored.upload = value, self.source, self.upload
                stored.updated_by, stored.updated_at = self.actor, now
                updates.append(stored)
            else:
                deletes.append(stored.pk)
            changes.append(self._change(counter_id, period, action, old_value, value))
        Measurement.objects.bulk_create(creates)
        Measurement.objects.bulk_update(updates, ["value", "source", "upload", "updated_by", "updated_at"])
        Measurement.objects.filter(pk__in=deletes).delete()
        MeasurementChange.objects.bulk_create(changes)
        self.counts["created"] += len(creates)
        self.counts["updated"] += len(updates)
        self.counts["deleted"] += len(deletes)
        self.batch = []

    def _existing(self, batch: list[tuple[int, Period, Decimal | None]]) -> dict[tuple[int, Period], Measurement]:
        counters = {counter_id for counter_id, _period, _value in batch}
        days = {period.day for _id, period, _value in batch if period.day}
        months = {period.month for _id, period, _value in batch if period.day is None}
        rows = Measurement.objects.filter(contract=self.contract, counter_id__in=counters)
        found = {}
        if days:
            found |= {(m.counter_id, Period(m.month, m.day)): m for m in rows.filter(day__in=days)}
        if months:
            found |= {(m.counter_id, Period(m.month, None)): m for m in rows.filter(day__isnull=True, month__in=months)}
        return found

    def _measurement(self, counter_id: int, period: Period, value: Decimal) -> Measurement:
        return Measurement(
            contract=self.contract,
            counter_id=counter_id,
            month=period.month,
            day=period.day,
            value=value,
            source=self.source,
            upload=self.upload,
            updated_by=self.actor,
        )

    def _change(
        self, counter_id: int, period: Period, action: str, old_value: Decimal | None, value: Decimal | None
    ) -> MeasurementChange:
        return MeasurementChange(
            contract=self.contract,
            counter_id=counter_id,
            month=period.month,
            day=period.day,
            action=action,
            old_value=old_value,
            new_value=value,
            source=self.source,
            upload=self.upload,
            changed_by=self.actor,
            correction_reason=self.correction_reason if period.month in self.correction_months else "",
        )


def _action(old: Decimal | None, new: Decimal | None) -> str | None:
    if old is None:
        return None if new is None else ChangeAction.CREATE
    if new is None:
        return ChangeAction.DELETE
    return None if old == new else ChangeAction.UPDATE


_INCOMING = "kpi_import_incoming"
_NULL = r"\N"  # COPY's text for NULL

# The statements of _CopyWriter: table names and clauses are constants, values are parameters.
_CREATE_INCOMING = f"""
    CREATE TEMPORARY TABLE IF NOT EXISTS {_INCOMING} (
        month date NOT NULL, day date, counter_id bigint NOT NULL, value numeric(20, 4),
        stored_id bigint, stored_value numeric(20, 4)
    ) ON COMMIT DROP
"""
_HAS_STORED_VALUES = f"""
    SELECT EXISTS (SELECT 1 FROM {Measurement._meta.db_table} WHERE contract_id = %s AND month = ANY(%s))
"""  # noqa: S608
# How an incoming value finds the stored row of its key: by day, or by month for a whole-month value.
# Equalities only, so the lookups go through the partial unique indexes.
_LOOK_UP_STORED = {
    kind: f"""
        UPDATE {_INCOMING} i SET stored_id = m.id, stored_value = m.value
        FROM {Measurement._meta.db_table} m
        WHERE m.contract_id = %(contract)s AND m.counter_id = i.counter_id AND {match}
    """  # noqa: S608
    for kind, match in (
        ("day", "i.day IS NOT NULL AND m.day = i.day"),
        ("month", "i.day IS NULL AND m.day IS NULL AND m.month = i.month"),
    )
}
_UPDATE_CHANGED = f"""
    UPDATE {Measurement._meta.db_table} m
    SET value = i.value, source = %(source)s, upload_id = %(upload)s, updated_by_id = %(actor)s, updated_at = %(now)s
    FROM {_INCOMING} i
    WHERE m.id = i.stored_id AND i.value <> i.stored_value
"""  # noqa: S608
_DELETE_EMPTIED = f"""
    DELETE FROM {Measurement._meta.db_table} m USING {_INCOMING} i WHERE m.id = i.stored_id AND i.value IS NULL
"""  # noqa: S608
_INSERT_NEW = f"""
    INSERT INTO {Measurement._meta.db_table}
        (contract_id, counter_id, month, day, value, source, upload_id, updated_by_id, updated_at)
    SELECT %(contract)s, counter_id, month, day, value, %(source)s, %(upload)s, %(actor)s, %(now)s
    FROM {_INCOMING}
    WHERE stored_id IS NULL AND value IS NOT NULL
"""  # noqa: S608
_LOG_CHANGES = f"""
    INSERT INTO {MeasurementChange._meta.db_table}
        (contract_id, counter_id, month, day, action, old_value, new_value, source, upload_id, changed_by_id,
         changed_at, correction_reason)
    SELECT %(contract)s, counter_id, month, day,
        CASE WHEN stored_id IS NULL THEN '{ChangeAction.CREATE}'
             WHEN value IS NULL THEN '{ChangeAction.DELETE}'
             ELSE '{ChangeAction.UPDATE}' END,
        stored_value, value, %(source)s, %(upload)s, %(actor)s, %(now)s,
        CASE WHEN month = ANY(%(correction_months)s::date[]) THEN %(correction_reason)s ELSE '' END
    FROM {_INCOMING}
    WHERE value IS DISTINCT FROM stored_value
"""  # noqa: S608


class _CopyWriter:
    """PostgreSQL: COPY the values into a temporary table, then write with a few set-based statements.

    When the contract has no stored value in the months of the values (a new period: the usual case),
    every value is a plain insert. Otherwise each key's stored value is looked up first, then new keys
    are inserted, changed values updated and emptied ones deleted. The change log is written from the
    same table in one statement. The contract's row lock (save_measurements) keeps the contract's
    other writers out until the transaction ends, so the values looked up stay the stored ones.
    """

    def __init__(self, *, contract, source, actor, upload, correction_reason="", correction_months=()) -> None:
        self.params = {
            "contract": contract.pk,
            "source": source,
            "upload": upload.pk if upload else None,
            "actor": actor.pk if actor else None,
            "now": timezone.now(),
            "correction_reason": correction_reason,
            "correction_months": list(correction_months),
        }
        self.lines: list[str] = []
        self.prefixes: dict[Period, str] = {}
        self.done = 0
        self.has_months = self.has_deletes = False
        with connection.cursor() as cursor:
            cursor.execute(_CREATE_INCOMING)
            cursor.execute(f"TRUNCATE {_INCOMING}")

    def add(self, period: Period, values: list[tuple[int, str | None]]) -> None:
        prefix = self.prefixes.get(period)
        if prefix is None:
            prefix = self.prefixes[period] = self._prefix(period)
        append = self.lines.append
        for counter_id, text in values:
            if text is None:
                self.has_deletes, text = True, _NULL
            append(f"{prefix}{counter_id}\t{text}\n")
        if len(self.lines) >= COPY_BATCH_SIZE:
            self.flush()

    def _prefix(self, period: Period) -> str:
        self.has_months |= period.day is None
        day = period.day.isoformat() if period.day else _NULL
        return f"{period.month.isoformat()}\t{day}\t"

    def flush(self) -> None:
        if not self.lines:
            return
        with (
            connection.cursor() as cursor,
            cursor.connection.cursor().copy(f"COPY {_INCOMING} (month, day, counter_id, value) FROM STDIN") as copy,
        ):
            copy.write("".join(self.lines))
        self.done += len(self.lines)
        self.lines = []

    def finish(self) -> SaveResult:
        self.flush()
        updated = deleted = 0
        with connection.cursor() as cursor:
            if self._has_stored_values(cursor):
                cursor.execute(f"ANALYZE {_INCOMING}")
                for kind in ("day", "month") if self.has_months else ("day",):
                    cursor.execute(_LOOK_UP_STORED[kind], self.params)
                cursor.execute(_UPDATE_CHANGED, self.params)
                updated = cursor.rowcount
                if self.has_deletes:
                    cursor.execute(_DELETE_EMPTIED)
                    deleted = cursor.rowcount
            cursor.execute(_INSERT_NEW, self.params)
            created = cursor.rowcount
            cursor.execute(_LOG_CHANGES, self.params)
            cursor.execute(f"DROP TABLE {_INCOMING}")
        return SaveResult(created, updated, deleted, self.done - created - updated - deleted)

    def _has_stored_values(self, cursor) -> bool:
        """Whether the contract has a stored value in a month of the incoming values."""
        if not self.prefixes:
            return False
        months = sorted({period.month for period in self.prefixes})
        cursor.execute(_HAS_STORED_VALUES, [self.params["contract"], months])
        return cursor.fetchone()[0]


# Files ------------------------------------------------------------------------------------------------


def file_rows(table: Table, mapping: ResolvedMapping) -> FileRows:
    """A KPI pack's rows with the columns the mapping reads, for the validator's row-by-row checks.

    A CSV row's values under no header (right of its last one, or under an empty one) are refused (a stray
    separator shifts the values after it); a workbook's are not: its cells keep their columns, and notes or totals
    beside the table are common."""
    return FileRows(
        rows=table.rows,
        date_index=table.headers.index(mapping.date_column),
        date_column=mapping.date_column,
        columns=[(table.headers.index(header), header, code) for header, code in mapping.columns.items()],
        time_index=table.headers.index(mapping.time_column) if mapping.time_column else None,
        time_column=mapping.time_column,
        headers=table.headers if table.file_format == "csv" else None,
    )


def file_values(table: Table, mapping: ResolvedMapping) -> Iterator[KpiValue]:
    """The values of a KPI pack's rows, one per non-empty mapped cell (an empty cell means no value)."""
    date_index = table.headers.index(mapping.date_column)
    columns = [(table.headers.index(header), header, code) for header, code in mapping.columns.items()]
    date_column = mapping.date_column
    for row_number, cells in table.rows:
        period = cells[date_index] if date_index < len(cells) else ""
        for index, header, code in columns:
            cell = cells[index] if index < len(cells) else ""
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue
            yield KpiValue(code, period, cell, row_number, header, date_column)


def preview_upload(
    *,
    contract: Contract,
    file,
    actor,
    original_name: str | None = None,
    mapping_name: str | None = None,
    mapping: dict | None = None,
    today: datetime.date | None = None,
    correction_reason: str = "",
    mapping_step: bool = False,
) -> KpiUpload:
    """Check a KPI pack without writing any data and store it, validated, for its import: the upload's
    preview says what the import would do. A refused pack is not stored: KpiDataRejected lists its errors
    (with `preview`, what was read of it), UnreadableFile says why the file cannot be read (empty, too
    large, not CSV or Excel), ValidationError why a mapping cannot be used.

    A layout that needs a column mapping is stored as such only for a `mapping_step` (the web page
    where the user maps the columns of the stored file); elsewhere (API, command) the pack is refused,
    naming the columns to map, since the mapping is sent with the file. With a `correction_reason` (see
    save_measurements) the file may correct months whose statement is approved or invoiced; the upload
    keeps the reason.
    """
    correction_reason = _checked_correction_reason(contract, actor, correction_reason)
    file = file if isinstance(file, File) else File(file)
    name = PurePath(original_name or file.name or "kpi-pack").name
    upload = _checked_upload(
        contract=contract,
        file=file,
        actor=actor,
        name=name,
        mapping_name=mapping_name,
        mapping=mapping,
        today=today,
        correction_reason=correction_reason,
        mapping_step=mapping_step,
    )
    file.seek(0)
    upload.file.save(name, file, save=False)
    try:
        with transaction.atomic():
            upload.save()
            if upload.status == UploadStatus.VALIDATED:
                _replace_waiting_uploads(upload)
    except Exception:
        upload.file.delete(save=False)  # a pack not stored leaves no file behind
        raise
    return upload


def _replace_waiting_uploads(upload: KpiUpload) -> None:
    """The same file sent again by the same user with a mapping (the API's `mapping` or `mapping_name`, a saved
    mapping picked on the upload form) is the mapped upload of the one left waiting for its mapping: that one
    is removed in the upload's transaction, and its file once that commits (a rollback keeps both)."""
    waiting = list(
        KpiUpload.objects.select_for_update()
        .filter(
            contract_id=upload.contract_id,
            sha256=upload.sha256,
            uploaded_by_id=upload.uploaded_by_id,
            status=UploadStatus.NEEDS_MAPPING,
        )
        .exclude(pk=upload.pk)
        .only("pk", "file")
    )
    if not waiting:
        return
    KpiUpload.objects.filter(pk__in=[old.pk for old in waiting]).delete()
    names = {old.file.name for old in waiting if old.file.name}
    still_named = set(KpiUpload.objects.filter(file__in=names).values_list("file", flat=True))
    files = [(old.file.storage, old.file.name) for old in waiting if old.file.name and old.file.name not in still_named]
    if files:
        transaction.on_commit(lambda: _delete_files(files))
    logger.info(
        "KPI upload %s replaces the upload(s) of its file waiting for a mapping: %s", upload.pk, [o.pk for o in waiting]
    )


def map_upload(*, upload: KpiUpload, mapping: dict, actor, today: datetime.date | None = None) -> KpiUpload:
    """The mapping step: check the stored file of ``upload`` again with the ``mapping`` given for it (as the
    API's `mapping` reads it); checked, the upload becomes its mapped upload, validated with that mapping and
    its new preview, in one transaction under its row lock, so that no copy of it is left waiting for a mapping.

    A refusal changes nothing (the upload waits for another mapping, as it was): KpiDataRejected lists the
    errors, UnreadableFile says why the file cannot be read, ValidationError why the mapping cannot be used or
    why the upload is no longer mapped (imported, importing, failed, or its import queued). A correction keeps
    its reason, and is mapped only by who may correct the contract (PermissionDenied).
    """
    with transaction.atomic():
        upload = KpiUpload.objects.select_for_update().select_related("contract").get(pk=upload.pk)
        if upload.status not in MAPPABLE_STATUSES or upload.task_id:
            raise ValidationError(
                format_lazy(
                    _("The columns of this upload can no longer be mapped: it is “{status}”."),
                    status=upload.get_status_display(),
                )
            )
        correction_reason = _checked_correction_reason(upload.contract, actor, upload.correction_reason)
        with upload.file.open("rb") as stored:
            checked = _checked_upload(
                contract=upload.contract,
                file=stored,
                actor=actor,
                name=upload.original_name,
                mapping_name=None,
                mapping=mapping,
                today=today,
                correction_reason=correction_reason,
                mapping_step=False,
            )
        upload.status, upload.preview, upload.mapping = checked.status, checked.preview, checked.mapping
        upload.rows_total, upload.rows_done, upload.errors, upload.error_count = checked.rows_total, 0, [], 0
        upload.save(update_fields=["status", "preview", "mapping", "rows_total", "rows_done", "errors", "error_count"])
    logger.info("KPI upload %s: columns mapped by user %s", upload.pk, actor.pk)
    return upload


def _checked_upload(
    *,
    contract: Contract,
    file: File,
    actor,
    name: str,
    mapping_name: str | None,
    mapping: dict | None,
    today: datetime.date | None,
    correction_reason: str,
    mapping_step: bool,
) -> KpiUpload:
    """The upload of a KPI pack as `preview_upload` checks it (its status, preview and rows), not stored."""
    size = file.size
    check_size(size)
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    with open_table(file) as table:
        resolved = resolve_mapping(contract=contract, headers=table.headers, mapping_name=mapping_name, mapping=mapping)
        duplicate_headers = sorted({h for h in table.headers if h and table.headers.count(h) > 1})
        upload = KpiUpload(
            contract=contract,
            uploaded_by=actor,
            original_name=name,
            sha256=digest.hexdigest(),
            size_bytes=size,
            mapping=resolved.saved,
            correction_reason=correction_reason,
        )
        preview = {
            "format": table.file_format,
            "delimiter": table.delimiter,
            "headers": table.headers,
            "header_row": table.header_row,
            "sheet": table.sheet,
            "mapping": resolved.as_dict(),
            "sample": [],
        }
        issues: list[Issue] = []
        if duplicate := _imported_duplicate(contract, upload.sha256):
            preview["duplicate_of"] = duplicate.pk
            issues.append(
                Issue(
                    Reason(
                        gettext_noop("This file was already imported on {date} (upload #{id}): nothing to do."),
                        {
                            "date": {"datetime": (duplicate.imported_at or duplicate.created_at).isoformat()},
                            "id": duplicate.pk,
                        },
                    )
                )
            )
        for header in duplicate_headers:
            issues.append(
                Issue(
                    Reason(gettext_noop("Two columns have this header: rename one.")),
                    row=table.header_row,
                    column=header,
                )
            )
        if not resolved.complete or duplicate_headers:
            rows_total = sum(1 for _row in table.rows)
            if rows_total == 0:  # nothing to map: refused at once, as a file of a known layout is
                issues.append(Issue(NO_DATA_ROWS))
            elif not (resolved.complete or duplicate_headers or mapping_step):
                issues += _mapping_issues(resolved, table.header_row)
            if issues:
                raise KpiDataRejected(issues, len(issues), preview=preview)
            upload.status = UploadStatus.NEEDS_MAPPING
            preview["mapping_needed"] = _mapping_help(resolved)
        elif issues:
            raise KpiDataRejected(issues, len(issues), preview=preview)
        else:
            validator = Validator(
                contract=contract,
                today=today or timezone.localdate(),
                decimal_comma=table.decimal_comma,
                corrects_locked_months=bool(correction_reason),
            )
            counter = _RowCounter(table.rows, preview["sample"], table.headers)
            table.rows = iter(counter)
            stored = 0  # an interval file's values are stored as daily sums: fewer than the file holds
            try:
                for _period, pairs in validator.check_rows(file_rows(table, resolved)):
                    stored += len(pairs)
            except UnreadableFile as error:
                validator.add(error.message)
            validator.finish()
            rows_total = counter.count
            if rows_total == 0:
                validator.add(NO_DATA_ROWS)
            if not validator.ok:
                raise KpiDataRejected(validator.issues, validator.error_count, preview=preview)
            upload.status = UploadStatus.VALIDATED
            preview.update(
                values=validator.value_count,
                stored_values=stored,
                months=sorted(f"{month:%Y-%m}" for month in validator.months),
                first_day=validator.first_day.isoformat() if validator.first_day else None,
                last_day=validator.last_day.isoformat() if validator.last_day else None,
                counters=sorted(resolved.columns.values()),
            )
    upload.rows_total = rows_total
    upload.preview = preview
    upload.full_clean(exclude=["file"])
    return upload


class _RowCounter:
    """Counts the rows streaming through and keeps the first few as the preview's sample."""

    def __init__(self, rows, sample: list, headers: list[str]) -> None:
        self.rows, self.sample, self.headers, self.count = rows, sample, headers, 0

    def __iter__(self):
        for number, cells in self.rows:
            self.count += 1
            if len(self.sample) < PREVIEW_SAMPLE_ROWS:
                self.sample.append({"row": number, "cells": [_cell_text(cell) for cell in cells[: len(self.headers)]]})
            yield number, cells


def _cell_text(cell) -> str:
    return cell.isoformat() if isinstance(cell, datetime.date) else str(cell)


def _mapping_help(resolved: ResolvedMapping) -> dict:
    """What the mapping step asks, stored in no language (`reasons.readable_reason` writes it)."""
    if resolved.missing:
        reason = Reason(
            gettext_noop("The file has no column {columns}."),
            {"columns": ", ".join(f"“{h}”" for h in resolved.missing)},
        )
    elif not resolved.date_column:
        reason = Reason(gettext_noop("Say which column holds the date, and which counter each other column holds."))
    elif resolved.suggested:
        reason = Reason(
            gettext_noop(
                "The mapping “{name}” does not read these columns, which look like counters: {columns}. "
                "Say which counter each holds, or ignore it."
            ),
            {"name": resolved.name, "columns": ", ".join(f"“{h}” ({code})" for h, code in resolved.suggested.items())},
        )
    else:
        reason = Reason(
            gettext_noop("Say which counter each of these columns holds, or ignore it: {columns}."),
            {"columns": ", ".join(f"“{h}”" for h in resolved.unmapped)},
        )
    return reason.as_dict()


def _mapping_issues(resolved: ResolvedMapping, header_row: int) -> list[Issue]:
    """Why a layout cannot be read without a mapping, for a pack sent without one (API, command): each
    column to map, in the header row."""
    place = {"row": header_row}
    issues = [
        Issue(
            Reason(gettext_noop("The file has no column {columns}."), {"columns": f"“{header}”"}),
            column=header,
            **place,
        )
        for header in resolved.missing
    ]
    if not resolved.date_column:
        issues.append(
            Issue(Reason(gettext_noop("No column is recognised as the date: give a mapping that names it.")), **place)
        )
    for header, code in resolved.suggested.items():
        reason = Reason(
            gettext_noop(
                "This column looks like the counter {code}, which the mapping “{name}” does not read: give a "
                "mapping that names its counter or ignores it."
            ),
            {"code": code, "name": resolved.name},
        )
        issues.append(Issue(reason, column=header, **place))
    if resolved.origin == "suggested":
        reason = Reason(
            gettext_noop(
                "No counter is recognised for this column: give a mapping that names its counter or ignores it."
            )
        )
        issues += [Issue(reason, column=header, **place) for header in resolved.unmapped]
    if not issues:  # every column is known, and none is read as a counter
        reason = Reason(gettext_noop("The mapping reads no counter: give one that names a column's counter."))
        issues.append(Issue(reason, **place))
    return issues


def _imported_duplicate(contract: Contract, sha256: str) -> KpiUpload | None:
    """The latest import of the same file, unless the contract's data changed since by other writes: then
    the file restores its values, as any re-upload replaces them."""
    duplicate = (
        KpiUpload.objects.filter(contract=contract, sha256=sha256, status__in=IMPORTED_STATUSES)
        .order_by("-created_at")
        .first()
    )
    if duplicate is None:
        return None
    changed_since = MeasurementChange.objects.filter(
        contract=contract, changed_at__gt=duplicate.imported_at or duplicate.created_at
    ).exclude(upload=duplicate)
    return None if changed_since.exists() else duplicate


def check_may_import(upload: KpiUpload, actor) -> None:
    """PermissionDenied if ``upload`` is a correction that ``actor`` may not make (checked before it is
    queued or claimed, so that a refusal leaves the upload validated)."""
    _checked_correction_reason(upload.contract, actor, upload.correction_reason)


def claim_upload(upload: KpiUpload, *, task_id: str = "") -> bool:
    """Move a validated upload to importing (compare-and-set), noting when; a redelivered task may reclaim its own."""
    claimable = KpiUpload.objects.filter(pk=upload.pk, status=UploadStatus.VALIDATED)
    if task_id:
        claimable = KpiUpload.objects.filter(pk=upload.pk, task_id=task_id, status=UploadStatus.IMPORTING) | claimable
    claimed = claimable.update(status=UploadStatus.IMPORTING, task_id=task_id, import_started_at=timezone.now()) == 1
    upload.refresh_from_db()
    return claimed


def import_upload(
    *, upload: KpiUpload, actor, today: datetime.date | None = None, report_progress: bool = False, task_id: str = ""
) -> KpiUpload:
    """Write a validated upload's values (validated again: a statement may have been approved since).

    Idempotent: an imported upload is returned as it is. A refused pack leaves nothing behind: on errors
    (a stored file that can no longer be read included) nothing is written, the upload and its file are
    removed (`_discard_upload`) and KpiDataRejected is raised with the errors. A correction (the upload's
    reason) is imported only by who may correct the contract (PermissionDenied, the upload left as it was).
    """
    if upload.status == UploadStatus.IMPORTED:
        return upload
    check_may_import(upload, actor)  # before claiming it
    if not claim_upload(upload, task_id=task_id):
        if upload.status == UploadStatus.IMPORTED:
            return upload
        raise ValidationError(
            format_lazy(
                _("Only a validated upload can be imported; this one is “{status}”."),
                status=upload.get_status_display(),
            )
        )
    progress = _ProgressReporter(upload) if report_progress else None
    try:
        with transaction.atomic():
            _hold_upload(upload)
            mapping = _mapping_for_import(upload, actor)
            contract = upload.contract
            with upload.file.open("rb") as stored, open_table(stored) as table:
                rows = file_rows(table, mapping)
                if progress:
                    rows = replace(rows, rows=progress.counted(rows.rows))
                result = save_measurements(
                    contract=contract,
                    values=rows,
                    source=MeasurementSource.UPLOAD,
                    actor=actor,
                    upload=upload,
                    today=today,
                    decimal_comma=table.decimal_comma,
                    correction_reason=upload.correction_reason,
                )
            upload.status, upload.rows_done, upload.imported_at = (
                UploadStatus.IMPORTED,
                upload.rows_total,
                timezone.now(),
            )
            upload.mapping = mapping.saved
            upload.preview = {**upload.preview, "result": result.as_dict()}
            upload.save(update_fields=["status", "rows_done", "imported_at", "mapping", "preview"])
    except KpiDataRejected:
        _discard_upload(upload)
        raise
    except UnreadableFile as error:
        _discard_upload(upload)
        raise KpiDataRejected([Issue(error.message)], 1) from error
    except Exception:
        upload.status, upload.rows_done, upload.failed_at = UploadStatus.FAILED, 0, timezone.now()
        upload.save(update_fields=["status", "rows_done", "failed_at"])
        raise
    finally:
        if progress:
            progress.close()
    return upload


_HOLD_UPLOAD = f"SELECT 1 FROM {KpiUpload._meta.db_table} WHERE id = %s FOR KEY SHARE"  # noqa: S608


def _hold_upload(upload: KpiUpload) -> None:
    """Hold the row of the upload being imported until the import's transaction ends, so that the daily check
    of stalled imports (fail_imports_started_before) passes it by. On PostgreSQL a key-share lock: the progress
    reports still update the row. Elsewhere the import's writes lock the database itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_HOLD_UPLOAD, [upload.pk])


def fail_imports_started_before(*, started_before: datetime.datetime) -> int:
    """Mark failed the uploads still importing whose import started before ``started_before`` (longer ago than
    a task may run: their worker died, or their connection was lost for good and the save that would have
    marked them failed failed too), for their users to retry them (retry_import); returns how many.

    Their values went with the import's transaction, rolled back: a failed upload has none. Rows are locked,
    skipping the locked ones: a live import holds its upload's row (import_upload), so it is never touched.
    """
    stalled = KpiUpload.objects.filter(status=UploadStatus.IMPORTING, import_started_at__lt=started_before)
    with transaction.atomic():
        ids = list(stalled.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True))
        KpiUpload.objects.filter(pk__in=ids).update(status=UploadStatus.FAILED, rows_done=0, failed_at=timezone.now())
    if ids:
        logger.warning(
            "KPI uploads importing since before %s marked failed, to be retried: %s", started_before.isoformat(), ids
        )
    return len(ids)


def _discard_upload(upload: KpiUpload) -> None:
    """Remove a refused upload, and its file once that is committed (a rollback keeps both): a refused
    pack leaves the database and the file storage as they were before it was sent."""
    storage, name = upload.file.storage, upload.file.name
    with transaction.atomic():
        KpiUpload.objects.filter(pk=upload.pk).delete()
        if name:
            transaction.on_commit(lambda: storage.delete(name))


def retry_import(*, upload: KpiUpload, actor, today: datetime.date | None = None) -> KpiUpload:
    """Send a failed import back to be imported (import_upload or queue_import, as after a preview).

    The stored file is checked again as a new upload of it would be, against the contract's data as it is
    now (a month approved since, a counter out of scope, the same file imported since), with the mapping
    it was validated with: the one given for it, or the saved one it was read with as that mapping now is,
    or, when that is gone, the layout recognised again. Checked, the upload is validated again with the new
    preview and records who retried it and when (retried_by, retried_at). Refused, it is removed with its
    file as any refused pack is, and KpiDataRejected lists the errors.

    Only a failed upload is retried (ValidationError naming its status), and only by who may import it:
    who logs the contract's data, and for a correction, who may correct the contract (PermissionDenied).
    Either refusal leaves the upload as it was.
    """
    if not contracts_for_kpi_entry(actor).filter(pk=upload.contract_id).exists():
        raise PermissionDenied(may_not_log(upload.contract))
    check_may_import(upload, actor)
    upload = _check_failed_upload_again(upload, actor=actor, today=today, retried_by=actor)
    logger.info("KPI upload %s: import retried by user %s", upload.pk, actor.pk)
    return upload


def retry_task_import(*, upload: KpiUpload, actor, task_id: str) -> KpiUpload:
    """The import task's own retry of the import it failed (a database error: import_upload left the upload
    failed, its values rolled back): the file is checked again as by retry_import, then validated for the
    task (``task_id``) to claim again. Nothing records a user: the task retried itself, as its log says.

    Only an upload failed under that task is retried (ValidationError otherwise: a user retried it since, or
    another import holds it); a refusal removes it as retry_import does (KpiDataRejected).
    """
    check_may_import(upload, actor)
    upload = _check_failed_upload_again(upload, actor=actor, today=None, task_id=task_id)
    logger.info("KPI upload %s: import retried by its task %s after a database error", upload.pk, task_id)
    return upload


def _check_failed_upload_again(
    upload: KpiUpload, *, actor, today: datetime.date | None, retried_by=None, task_id: str = ""
) -> KpiUpload:
    """Check a failed upload's file again (retry_import), under the upload's row lock: validated again with the
    new preview (with ``retried_by``, who and when; with ``task_id``, only if that task failed it, and kept
    for it), or removed with its file (KpiDataRejected)."""
    refused = None
    with transaction.atomic():
        upload = KpiUpload.objects.select_for_update().select_related("contract").get(pk=upload.pk)
        if upload.status != UploadStatus.FAILED or (task_id and upload.task_id != task_id):
            raise ValidationError(
                format_lazy(
                    _("Only a failed import can be retried; this upload is “{status}”."),
                    status=upload.get_status_display(),
                )
            )
        try:
            with upload.file.open("rb") as stored:
                checked = _checked_upload(
                    contract=upload.contract,
                    file=stored,
                    actor=actor,
                    name=upload.original_name,
                    today=today,
                    correction_reason=upload.correction_reason,
                    mapping_step=False,
                    **_mapping_to_check_again(upload),
                )
        except KpiDataRejected as rejected:
            refused = rejected
        except UnreadableFile as error:
            refused = KpiDataRejected([Issue(error.message)], 1)
        if refused is not None:
            _discard_upload(upload)
        else:
            upload.status, upload.preview, upload.mapping = UploadStatus.VALIDATED, checked.preview, checked.mapping
            upload.rows_total, upload.rows_done, upload.task_id = checked.rows_total, 0, task_id
            fields = ["status", "preview", "mapping", "rows_total", "rows_done", "task_id"]
            if retried_by is not None:
                upload.retried_by, upload.retried_at = retried_by, timezone.now()
                fields += ["retried_by", "retried_at"]
            upload.save(update_fields=fields)
    if refused is not None:
        raise refused
    return upload


def _mapping_to_check_again(upload: KpiUpload) -> dict:
    """How a retried upload's file is read again: with the mapping given for it (the mapping step, the API's
    `mapping`), with the saved mapping it was read with if the contract still has it, else as a new file."""
    data = upload.preview.get("mapping") or {}
    if data.get("origin") == "given":
        ignored = dict.fromkeys(data.get("ignored_columns") or ())
        return {
            "mapping": {
                "date_column": data["date_column"],
                "time_column": data.get("time_column"),
                "columns": {**ignored, **data["columns"]},
                "name": data.get("name") or "",
            },
            "mapping_name": None,
        }
    saved = upload.contract.column_mappings.filter(pk=data.get("saved_mapping") or 0).first()
    return {"mapping": None, "mapping_name": saved.name if saved else None}


def discard_uploads_abandoned_before(*, received_before: datetime.datetime) -> int:
    """Remove the uploads received before ``received_before`` that were left waiting for a column mapping
    or validated and never imported, with their files once that is committed; returns how many.

    Only those statuses are removed: an upload importing, imported or failed keeps its file, which its
    values and their change log name (Measurement.upload and MeasurementChange.upload are PROTECT). An
    abandoned upload that measurements or changes do name (rows from before the statuses said so) is kept
    and logged rather than deleted: its history outlives the file. Rows are locked and their status read
    again before their delete, in batches of DISCARD_BATCH_SIZE, so an import claiming one meanwhile wins.
    """
    abandoned = KpiUpload.objects.filter(status__in=ABANDONED_STATUSES, created_at__lt=received_before)
    referenced = abandoned.filter(
        Exists(Measurement.objects.filter(upload=OuterRef("pk")))
        | Exists(MeasurementChange.objects.filter(upload=OuterRef("pk")))
    )
    if kept := list(referenced.order_by("pk").values_list("pk", flat=True)):
        logger.warning("Abandoned KPI uploads kept because KPI data names them: %s", kept)
    discarded, after = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                abandoned.exclude(pk__in=kept)
                .filter(pk__gt=after)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .only("pk", "file")[:DISCARD_BATCH_SIZE]
            )
            if not batch:
                return discarded
            after = batch[-1].pk
            files = [(upload.file.storage, upload.file.name) for upload in batch if upload.file.name]
            KpiUpload.objects.filter(pk__in=[upload.pk for upload in batch]).delete()
            transaction.on_commit(lambda files=files: _delete_files(files))
        discarded += len(batch)


def _delete_files(files: list[tuple]) -> None:
    for storage, name in files:
        storage.delete(name)


def _mapping_for_import(upload: KpiUpload, actor) -> ResolvedMapping:
    """The mapping the preview validated with, saved for the contract if it was new (so the layout is known)."""
    data = upload.preview["mapping"]
    resolved = ResolvedMapping(
        date_column=data["date_column"],
        time_column=data.get("time_column"),
        columns=data["columns"],
        name=data["name"],
    )
    if data.get("saved_mapping"):
        resolved.saved = upload.contract.column_mappings.filter(pk=data["saved_mapping"]).first()
    if resolved.saved is None:
        resolved.saved = save_mapping(
            contract=upload.contract,
            name=_free_mapping_name(upload, data["name"]),
            date_column=resolved.date_column,
            time_column=resolved.time_column,
            columns={**dict.fromkeys(data.get("ignored_columns") or (), ""), **resolved.columns},
            actor=actor,
        )
    return resolved


def _free_mapping_name(upload: KpiUpload, wanted: str) -> str:
    base = wanted or str(format_lazy(_("Layout of {name}"), name=upload.original_name))[:90]
    taken = set(upload.contract.column_mappings.filter(name__startswith=base).values_list("name", flat=True))
    if wanted and wanted in taken:
        return wanted
    name, number = base, 2
    while name in taken:
        name, number = f"{base} ({number})", number + 1
    return name


class _ProgressReporter:
    """Writes rows_done (the file's rows read, checked and handed to the writer) through a second
    connection, so the page sees progress while the import's transaction is still open. Counted in
    rows, not values written: an interval file's values are written only once summed into days.
    The last row waits for the write to finish. PostgreSQL only; best effort: a lock wait never
    holds up the import."""

    def __init__(self, upload: KpiUpload) -> None:
        self.upload = upload
        self.every = max(PROGRESS_EVERY_ROWS, upload.rows_total // 100)
        self.connection = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None

    def counted(self, rows: Iterable[tuple[int, list]]) -> Iterator[tuple[int, list]]:
        """``rows`` as they are, reporting how many were read every so often."""
        for count, row in enumerate(rows, 1):
            yield row
            if count % self.every == 0:
                self.report(min(count, self.upload.rows_total - 1))

    def report(self, rows: int) -> None:
        if self.connection is None:
            return
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
                cursor.execute(
                    f"UPDATE {KpiUpload._meta.db_table} SET rows_done = %s WHERE id = %s AND status = %s",  # noqa: S608
                    [rows, self.upload.pk, UploadStatus.IMPORTING],
                )
        except Exception:
            logger.warning("Could not report the progress of KPI upload %s", self.upload.pk, exc_info=True)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
