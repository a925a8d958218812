"""Bulk reads and writes faster than the ORM's where the volume calls for it."""

from __future__ import annotations

import json
from typing import Any

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import Value
from django.utils import timezone


class AnyOf(models.Lookup):
    """``filter(field__any=values)``: like ``__in``, for long lists of plain values (ids).

    On PostgreSQL the values go as one array parameter (``field = ANY(%s)``). Django's ``__in``
    prepares each value in Python and psycopg parses one placeholder per value: about 20 ms for
    a thousand ids, several times what PostgreSQL took to run the query. Integers go as the text of
    a ``bigint[]``: psycopg quotes a list element by element, 0.8 ms for a thousand ids, the text
    0.1 ms. Elsewhere it is ``IN``.
    """

    lookup_name = "any"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            if all(type(value) is int for value in values):
                return f"{lhs} = ANY(%s::bigint[])", (*params, "{" + ",".join(map(str, values)) + "}")
            return f"{lhs} = ANY(%s)", (*params, values)
        if not values:
            raise EmptyResultSet
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*params, *values)


# Foreign keys take only the lookups registered on them, not those of Field.
models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]], *, keys: bool = False) -> None:
    """Insert ``rows`` (column values by field attname; a missing field takes its default) into
    ``model``'s table, without model instances, signals or ``save()``: nothing fills ``auto_now``
    fields or writes history rows, so the caller writes them (a statement's lines: with
    :func:`copy_history_rows`).

    On PostgreSQL the rows are sent with ``COPY``: Django's multi-row INSERT has psycopg escape
    each text and JSON value as an array element in Python, which cost more than the rest of a
    monthly close's writes. Elsewhere (SQLite: the demo and quick runs) this is ``bulk_create``.

    ``keys``: each row gets its primary key, set in the row under the key's attname (for the rows'
    history: :func:`copy_history_rows`); on PostgreSQL the keys are drawn from the table's sequence in one
    more query, as :func:`insert_instances` does.
    """
    if not rows:
        return
    key = model._meta.pk.attname
    if connection.vendor != "postgresql":
        instances = model.objects.bulk_create([model(**row) for row in rows])
        if keys:
            for row, instance in zip(rows, instances, strict=True):
                row[key] = instance.pk
        return
    if keys:
        for row, drawn in zip(rows, _draw_keys(model, len(rows)), strict=True):
            row[key] = drawn
    fields = [field for field in model._meta.concrete_fields if (keys or not field.primary_key) and not field.generated]
    _copy_rows(model, fields, rows)


def _draw_keys(model: type[models.Model], count: int) -> list[int]:
    """``count`` new keys of ``model``'s table, drawn from its sequence in one query (PostgreSQL)."""
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [key for (key,) in cursor.fetchall()]


def insert_instances(instances: list[models.Model]) -> None:
    """``bulk_create(instances)`` for new instances of one model without ``auto_now`` fields: no
    signals, ``save()`` or history rows (see :func:`insert_rows`); the instances get their keys.

    On PostgreSQL the keys are drawn from the table's sequence in one query and the rows sent with
    ``COPY``: the multi-row INSERT of a close's hundred statements spent most of its time quoting
    some 2,000 parameters on the client, the server taking a tenth of it.
    """
    if not instances:
        return
    model = type(instances[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances)
        return
    meta = model._meta
    for instance, key in zip(instances, _draw_keys(model, len(instances)), strict=True):
        instance.pk = key
        instance._state.adding = False
        instance._state.db = connection.alias
    fields = [field for field in meta.concrete_fields if not field.generated]
    names = [field.attname for field in fields]
    _copy_rows(model, fields, [{name: getattr(instance, name) for name in names} for instance in instances])


def _copy_rows(model: type[models.Model], fields: list[models.Field], rows: list[dict[str, Any]]) -> None:
    """``COPY`` ``rows`` (values by attname; a missing one takes the field's default) into the ``fields``
    of ``model``'s table (PostgreSQL)."""
    defaults = {field.attname: field.get_default() for field in fields}
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    names = [field.attname for field in fields]
    json_columns = [(index, field.encoder) for index, field in enumerate(fields) if isinstance(field, models.JSONField)]

    def values(row: dict[str, Any]) -> list:
        cells = [row[name] if name in row else defaults[name] for name in names]
        for index, encoder in json_columns:
            if cells[index] is not None:
                cells[index] = _json_text(cells[index], encoder)
        return cells

    with connection.cursor() as cursor:

        def copy_rows(sql, params, many, context):
            with cursor.connection.cursor().copy(sql) as copy:
                for row in rows:
                    copy.write_row(values(row))

        # Through the connection's execute wrappers, so that what counts and times queries sees it.
        cursor._execute_with_wrappers(sql, None, False, copy_rows)


def _json_text(value: Any, encoder: type[json.JSONEncoder] | None) -> str:
    """A JSON column's text: by orjson where the field has no encoder of its own (several times
    faster than json for a close's line inputs and explanations; jsonb stores the same value)."""
    if encoder is None:
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits, which json writes
            pass
    return json.dumps(value, cls=encoder)


def insert_history_rows(instances: list[models.Model], *, history_type: str, user=None) -> None:
    """The django-simple-history rows of ``instances`` just created (``history_type`` "+"), updated
    ("~") or deleted ("-") in bulk: the rows ``bulk_create_with_history`` and ``bulk_update_with_history``
    write (the instances' tracked fields, now, ``user``, no change reason), sent with
    :func:`insert_rows` instead of being built as model instances first."""
    if not instances:
        return
    history = type(instances[0]).history.model
    stamp = {
        "history_date": timezone.now(),
        "history_type": history_type,
        "history_user_id": getattr(user, "pk", None),
        "history_change_reason": None,
    }
    names = [field.attname for field in history.tracked_fields]
    insert_rows(history, [{**{name: getattr(instance, name) for name in names}, **stamp} for instance in instances])


def copy_history_rows(model: type[models.Model], keys: list[int], *, history_type: str, user=None) -> None:
    """The django-simple-history rows of ``model``'s rows ``keys`` as they stand, just created (``history_type``
    "+"), updated ("~") or about to be deleted ("-") in bulk: the rows :func:`insert_history_rows` writes, copied by
    the database from the table in one INSERT … SELECT. Only the keys are sent: a close's lines carry their
    explanation and inputs, which a second ``COPY`` encoded and sent again (twice the lines' write)."""
    if not keys:
        return
    history = model.history.model
    names = [field.attname for field in history.tracked_fields]  # the same columns in both tables
    stamp = {
        "history_date": Value(timezone.now(), output_field=models.DateTimeField()),
        "history_type": Value(history_type, output_field=models.CharField()),
        "history_user_id": Value(getattr(user, "pk", None), output_field=models.IntegerField()),
        "history_change_reason": Value(None, output_field=models.CharField()),
    }
    # Aliased apart from the model's fields; selected in the order of the columns listed.
    rows = (
        model._base_manager.filter(pk__any=list(keys))
        .order_by()
        .annotate(**{f"_{name}": value for name, value in stamp.items()})
        .values_list(*names, *(f"_{name}" for name in stamp))
    )
    select, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(history._meta.get_field(name).column) for name in [*names, *stamp])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(history._meta.db_table)} ({columns}) {select}", params)
