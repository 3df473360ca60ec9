from django.core.management.base import BaseCommand, CommandError

from contacts.management.workspaces import workspace_named
from contacts.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token for a workspace. Prints the token, once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="The workspace's id or slug.")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args, workspace: str, scope: str, name: str, **options):
        found = workspace_named(workspace)
        if len(name) > ApiToken._meta.get_field("name").max_length:
            raise CommandError("The name can have at most 100 characters.")
        token, raw = ApiToken.issue(workspace=found, scope=scope, name=name)
        self.stdout.write(
            f"Issued {token.get_scope_display()} token {token.prefix}… for {found.name}. "
            "Store it now: it is not shown again."
        )
        self.stdout.write(raw)
