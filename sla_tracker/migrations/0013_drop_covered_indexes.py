"""Drop the foreign-key indexes that a composite index beginning with the same column covers: each
only slowed the close's inserts. Only the indexes are dropped (AlterField would also drop and
re-validate the foreign-key constraints, scanning the tables)."""

import django.db.models.deletion
from django.db import migrations, models

# (model, field, related_name, target, on_delete, the index Django created for the field, its column)
COVERED = [
    (
        "penaltystatement",
        "contract",
        "statements",
        "contracts.contract",
        django.db.models.deletion.PROTECT,
        "sla_tracker_penaltystatement_contract_id_4468e416",
        "contract_id",
    ),
    (
        "statementevent",
        "statement",
        "events",
        "sla_tracker.penaltystatement",
        django.db.models.deletion.CASCADE,
        "sla_tracker_statementevent_statement_id_e5850862",
        "statement_id",
    ),
    (
        "statementline",
        "statement",
        "lines",
        "sla_tracker.penaltystatement",
        django.db.models.deletion.CASCADE,
        "sla_tracker_statementline_statement_id_7046e24e",
        "statement_id",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0007_contract_last_day_of_service"),
        ("sla_tracker", "0012_close_refusal"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name=model,
                    name=name,
                    field=models.ForeignKey(db_index=False, on_delete=on_delete, related_name=related, to=target),
                )
                for model, name, related, target, on_delete, _index, _column in COVERED
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "sla_tracker_{model}" ("{column}")',
                )
                for model, _name, _related, _target, _on_delete, index, column in COVERED
            ],
        )
    ]
