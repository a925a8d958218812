"""Bulk writes faster than the ORM's where the volume calls for it."""

from __future__ import annotations

import json

from django.db import connection, models


def bulk_insert(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert new instances of ``model`` and set their primary keys, like ``bulk_create`` without
    signals or ``save()``.

    On PostgreSQL the ids are drawn from the table's sequence in one query and the rows are sent
    with ``COPY``: Django's multi-row INSERT has psycopg escape each text and JSON value as an
    array element in Python, which cost more than the rest of a monthly close's writes. Elsewhere
    (SQLite: the demo and quick runs) this is ``bulk_create``.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_insert")  # as bulk_create: FK ids of saved parents
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.generated]
    table, pk_column = meta.db_table, meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk_column, len(objs)]
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        sql = f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN"

        def copy_rows(sql, params, many, context):
            with cursor.connection.cursor().copy(sql) as copy:
                for obj in objs:
                    copy.write_row([_db_value(field, obj) for field in fields])

        # Through the connection's execute wrappers, so that what counts and times queries sees it.
        cursor._execute_with_wrappers(sql, None, False, copy_rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def _db_value(field: models.Field, obj: models.Model):
    value = getattr(obj, field.attname)
    if isinstance(field, models.JSONField):
        return json.dumps(value, cls=field.encoder)
    return value
