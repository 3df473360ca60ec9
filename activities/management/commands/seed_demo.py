import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from activities import demo
from contacts.models import Workspace


class Command(BaseCommand):
    help = (
        f"Create the demo workspace {demo.WORKSPACE_NAME!r} with realistic, deterministic data; "
        f"log in as {demo.DEMO_USERNAME} / {demo.DEMO_PASSWORD}."
    )

    def add_arguments(self, parser):
        defaults = demo.DemoSize()
        parser.add_argument("--contacts", type=int, default=defaults.contacts)
        parser.add_argument(
            "--activities",
            type=int,
            default=defaults.activities,
            help="Timeline entries, over the last two years and the next three weeks.",
        )
        parser.add_argument(
            "--whale-activities",
            type=int,
            default=defaults.whale_activities,
            help="Entries for one extra, very busy contact (Bot Account).",
        )
        parser.add_argument(
            "--seed", type=int, default=defaults.seed, help="The same seed gives the same data."
        )

    def handle(
        self, *args, contacts: int, activities: int, whale_activities: int, seed: int, **options
    ):
        if contacts < 1 or activities < 0 or whale_activities < 0:
            raise CommandError("Use at least one contact and no negative counts.")
        if Workspace.objects.filter(slug=demo.WORKSPACE_SLUG).exists():
            self.stdout.write(
                f"The demo workspace {demo.WORKSPACE_SLUG!r} exists already; nothing changed. "
                "To load it again, use a fresh database."
            )
            return
        size = demo.DemoSize(contacts, activities, whale_activities, seed)
        started = time.monotonic()
        total = activities + whale_activities
        with tqdm(total=total, unit=" entries", file=sys.stderr, disable=None) as bar:
            workspace = demo.create_demo(size, progress=bar.update)
        self.stdout.write(
            f"Created {workspace.name} with {contacts + bool(whale_activities)} contacts and "
            f"{total} timeline entries in {time.monotonic() - started:.1f}s.\n"
            f"Log in as {demo.DEMO_USERNAME} / {demo.DEMO_PASSWORD}."
        )
