from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from contacts.management.workspaces import workspace_named
from contacts.models import Membership


class Command(BaseCommand):
    help = "Add a user to a workspace (creating the user if needed) and set their password."

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="The workspace's id or slug.")
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--admin", action="store_true", help="Make them an admin.")

    def handle(self, *args, workspace: str, username: str, password: str, admin: bool, **options):
        found = workspace_named(workspace)
        User = get_user_model()
        try:
            User._meta.get_field(User.USERNAME_FIELD).clean(username, None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if not password:
            raise CommandError("The password must not be empty.")
        role = Membership.Role.ADMIN if admin else Membership.Role.MEMBER
        with transaction.atomic():
            user, created = User.objects.get_or_create(**{User.USERNAME_FIELD: username})
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(workspace=found, user=user, defaults={"role": role})
        action = "Created" if created else "Updated the password of"
        self.stdout.write(f"{action} {username}, {role} of {found.name}.")
