"""The timeline link's copy of its activity's type, without a foreign key in the database.

The activity's own `type_id` has one, and the link's is written from it. Checked too, it
cost one more deferred check per link at every commit: one in five of an import's.

On SQLite, changing the column rebuilds the table, which drops its triggers: the weekly
counts' triggers (0003) are created again after the rebuild, either way.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

timeline_weeks = importlib.import_module("activities.migrations.0003_timeline_weeks")


def create_weekly_count_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in timeline_weeks.SQLITE_TRIGGERS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0003_timeline_weeks'),
    ]

    operations = [
        # Backwards, the rebuild that undoes the change runs before this.
        migrations.RunPython(migrations.RunPython.noop, create_weekly_count_triggers),
        migrations.AlterField(
            model_name='activitycontact',
            name='type',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.RESTRICT, related_name='+', to='activities.activitytype'),
        ),
        migrations.RunPython(create_weekly_count_triggers, migrations.RunPython.noop),
    ]
