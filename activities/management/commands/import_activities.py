from activities.importing import ActivityImporter, ImportCommand


class Command(ImportCommand):
    help = (
        "Import activities from CSV or JSON Lines onto the workspace's contacts' timelines. "
        "Rows whose external_id the workspace has are skipped; bad rows are reported on "
        "stderr with their line numbers while the others load. Columns: type, occurred_at, "
        "contacts (ids or external ids, separated by ';'), and optionally external_id, "
        "ended_at, title, body, source, actor_name, category, status, priority, "
        "campaign_id, asset_type, asset_name, object_type, object_id, metadata, type_name."
    )
    importer = ActivityImporter
    what = "activities"
