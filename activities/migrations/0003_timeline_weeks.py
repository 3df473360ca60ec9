"""Weekly entry counts per contact, kept by triggers on the timeline links.

Every change to `activities_activitycontact` (insert, delete, a new `occurred_at` or
contact) moves the counts in `activities_timelineweek` in the same statement, whoever
writes: the services, the importer's and `seed_demo`'s bulk inserts (COPY included), and
Django's cascading deletes. Weeks are keyed by their Monday in UTC.

PostgreSQL uses statement-level triggers with transition tables, so a bulk insert of a
batch of links costs one grouped upsert, not one per row. SQLite has row-level triggers only.
"""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_WEEK = "date({row}.occurred_at, 'weekday 0', '-6 days')"

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER timeline_week_insert AFTER INSERT ON activities_activitycontact
    BEGIN
        INSERT INTO activities_timelineweek (contact_id, week, count)
        VALUES (NEW.contact_id, {SQLITE_WEEK.format(row="NEW")}, 1)
        ON CONFLICT (contact_id, week) DO UPDATE SET count = count + 1;
    END
    """,
    f"""
    CREATE TRIGGER timeline_week_delete AFTER DELETE ON activities_activitycontact
    BEGIN
        UPDATE activities_timelineweek SET count = count - 1
        WHERE contact_id = OLD.contact_id AND week = {SQLITE_WEEK.format(row="OLD")};
    END
    """,
    f"""
    CREATE TRIGGER timeline_week_update AFTER UPDATE OF occurred_at, contact_id
    ON activities_activitycontact
    WHEN OLD.contact_id IS NOT NEW.contact_id
        OR {SQLITE_WEEK.format(row="OLD")} IS NOT {SQLITE_WEEK.format(row="NEW")}
    BEGIN
        UPDATE activities_timelineweek SET count = count - 1
        WHERE contact_id = OLD.contact_id AND week = {SQLITE_WEEK.format(row="OLD")};
        INSERT INTO activities_timelineweek (contact_id, week, count)
        VALUES (NEW.contact_id, {SQLITE_WEEK.format(row="NEW")}, 1)
        ON CONFLICT (contact_id, week) DO UPDATE SET count = count + 1;
    END
    """,
]

PG_WEEK = "date_trunc('week', occurred_at AT TIME ZONE 'UTC')::date"

# One function for the three triggers: it adds the rows of `added` and takes away those
# of `removed`, grouped by contact and week (an update brings both).
PG_FUNCTION = f"""
CREATE FUNCTION timeline_week_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO activities_timelineweek (contact_id, week, count)
        SELECT contact_id, {PG_WEEK}, count(*) FROM added GROUP BY 1, 2
        ON CONFLICT (contact_id, week)
        DO UPDATE SET count = activities_timelineweek.count + EXCLUDED.count;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE activities_timelineweek AS w SET count = w.count - r.count
        FROM (SELECT contact_id, {PG_WEEK} AS week, count(*) AS count
              FROM removed GROUP BY 1, 2) AS r
        WHERE w.contact_id = r.contact_id AND w.week = r.week;
    ELSE
        INSERT INTO activities_timelineweek (contact_id, week, count)
        SELECT contact_id, week, sum(delta) FROM (
            SELECT contact_id, {PG_WEEK} AS week, -1 AS delta FROM removed
            UNION ALL
            SELECT contact_id, {PG_WEEK}, 1 FROM added
        ) AS moves
        GROUP BY 1, 2 HAVING sum(delta) <> 0
        ON CONFLICT (contact_id, week)
        DO UPDATE SET count = activities_timelineweek.count + EXCLUDED.count;
    END IF;
    RETURN NULL;
END
$$
"""

PG_TRIGGERS = [
    PG_FUNCTION,
    """
    CREATE TRIGGER timeline_week_insert AFTER INSERT ON activities_activitycontact
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_week_count()
    """,
    """
    CREATE TRIGGER timeline_week_delete AFTER DELETE ON activities_activitycontact
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_week_count()
    """,
    """
    CREATE TRIGGER timeline_week_update AFTER UPDATE ON activities_activitycontact
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_week_count()
    """,
]

BACKFILL = """
INSERT INTO activities_timelineweek (contact_id, week, count)
SELECT contact_id, {week}, count(*) FROM activities_activitycontact GROUP BY 1, 2
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        statements, week = PG_TRIGGERS, PG_WEEK
    else:
        statements, week = SQLITE_TRIGGERS, SQLITE_WEEK.format(row="activities_activitycontact")
    for statement in statements:
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL.format(week=week))


def drop_triggers(apps, schema_editor):
    for name in ("timeline_week_insert", "timeline_week_delete", "timeline_week_update"):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON activities_activitycontact")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS timeline_week_count()")


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0002_partial_indexes_for_optional_references'),
        ('contacts', '0002_trigram_search_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='TimelineWeek',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField(help_text="The week's Monday (UTC).")),
                ('count', models.IntegerField(default=0)),
                ('contact', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='timeline_weeks', to='contacts.contact')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('contact', 'week'), name='timeline_week_unique')],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
