from django.db import migrations


def record_the_lines_first_versions(apps, schema_editor):
    """Until now the close wrote its lines without history (only a waiver's save and a removal recorded a version),
    and a past meeting's scorecard now reads each line from its history: every line without a first version ("+")
    gets one, dated when its statement was first computed (the statement's first version; else its computed_at),
    with its figures as they stand (a line with versions already: those of its first one, not waived). What a month
    recomputed before this release showed on a meeting day is not known: its past meetings show its lines as they
    stand, as they did before. Two INSERT … SELECT, run by the database (with names from the models, quoted)."""
    HistoricalLine = apps.get_model("sla_tracker", "HistoricalStatementLine")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    history = quote(HistoricalLine._meta.db_table)
    lines = quote(apps.get_model("sla_tracker", "StatementLine")._meta.db_table)
    statements = quote(apps.get_model("sla_tracker", "PenaltyStatement")._meta.db_table)
    statement_history = quote(apps.get_model("sla_tracker", "HistoricalPenaltyStatement")._meta.db_table)
    # The line's own columns (the history's "id" is the line's key), then the version's.
    columns = [field.column for field in HistoricalLine._meta.concrete_fields if not field.name.startswith("history_")]
    insert = (
        f"INSERT INTO {history} ({', '.join(quote(column) for column in columns)}, "
        "history_date, history_type, history_user_id, history_change_reason) "
    )
    first_computed = "(SELECT MIN(s.history_date) FROM {table} s WHERE s.id = {alias}.statement_id)"
    # Lines with no version at all: every line a close wrote that nothing changed since.
    from_lines = (
        f"SELECT {', '.join(f'l.{quote(column)}' for column in columns)}, "  # noqa: S608
        f"COALESCE({first_computed.format(table=statement_history, alias='l')}, p.computed_at, CURRENT_TIMESTAMP), "
        "'+', NULL, NULL "
        f"FROM {lines} l INNER JOIN {statements} p ON p.id = l.statement_id "
        f"WHERE NOT EXISTS (SELECT 1 FROM {history} h WHERE h.id = l.id)"
    )
    # Lines with versions but no first one (waived, or removed by a close): from their first version, dated no later
    # than it. A line is created unwaived.
    unwaived = {"waived": "%s", "waiver_reason": "''", "waived_by_id": "NULL", "waived_at": "NULL"}
    first = first_computed.format(table=statement_history, alias="v")
    from_versions = (
        f"SELECT {', '.join(unwaived.get(column, f'v.{quote(column)}') for column in columns)}, "  # noqa: S608
        f"CASE WHEN {first} < v.history_date THEN {first} ELSE v.history_date END, '+', NULL, NULL "
        f"FROM {history} v "
        f"WHERE v.history_id = (SELECT MIN(e.history_id) FROM {history} e WHERE e.id = v.id) "
        f"AND NOT EXISTS (SELECT 1 FROM {history} h WHERE h.id = v.id AND h.history_type = '+')"
    )
    with connection.cursor() as cursor:
        cursor.execute(insert + from_lines)
        cursor.execute(insert + from_versions, [False])


class Migration(migrations.Migration):
    dependencies = [
        ("sla_tracker", "0020_kpiupload_import_started_failed"),
    ]

    operations = [
        migrations.RunPython(record_the_lines_first_versions, migrations.RunPython.noop),
    ]
