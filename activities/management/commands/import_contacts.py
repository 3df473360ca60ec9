from activities.importing import ContactImporter, ImportCommand


class Command(ImportCommand):
    help = (
        "Import contacts from CSV or JSON Lines. Columns: name (required), email, phone, "
        "company, external_id, avatar_url, custom_fields (a JSON object). A contact whose "
        "external_id the workspace has is skipped (with --update, updated); bad rows are "
        "reported on stderr with their line numbers while the others load."
    )
    importer = ContactImporter
    what = "contacts"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--update",
            action="store_true",
            help="Update contacts that exist (by external_id) with the row's non-empty values.",
        )

    def importer_options(self, options: dict) -> dict:
        return {"update": options["update"]}
