"""What the benchmarks ask for, found in a seeded database (run inside a Django process).

The demo workspace, its `demo` user, the whale ("Bot Account"), a normal contact, a
cursor `depth` entries down the whale's timeline, and API tokens. Everything the
benchmarks write carries the prefix BENCH_PREFIX and is removed by `cleanup`, so that a
database can be measured again and again.

    python -m bench.fixtures --engine sqlite --size 2m             # prints the subjects
    python -m bench.fixtures --engine sqlite --size 2m --cleanup
"""

import argparse
import os
import sys
from dataclasses import asdict, dataclass

BENCH_PREFIX = "bench-"
# A normal contact: the least busy one whose first page is full.
NORMAL_MIN_ENTRIES = 100
NORMAL_SAMPLE = 5000
FILTER_TYPE = "email"


@dataclass
class Subjects:
    workspace_id: str
    workspace_slug: str
    username: str
    whale_id: str
    whale_entries: int
    normal_id: str
    normal_entries: int
    contacts: int
    depth: int
    deep_cursor: str
    filter_type: str
    search_name: str
    search_email: str


def setup_django(env: dict[str, str]) -> None:
    """Configure this process for a benchmark database (before anything imports models)."""
    for name in ("DATABASE_URL", "SQLITE_PATH"):
        os.environ.pop(name, None)
    os.environ.update(env)
    import django

    django.setup()


def find_subjects(depth: int) -> Subjects:
    from django.db.models import Count

    from activities import demo, timeline
    from activities.models import ActivityContact
    from contacts.models import Contact, Membership, Workspace

    workspace = Workspace.objects.get(slug=demo.WORKSPACE_SLUG)
    membership = Membership.objects.select_related("user", "workspace").get(
        workspace=workspace, user__username=demo.DEMO_USERNAME
    )
    contacts = Contact.objects.in_workspace(workspace)
    whale = contacts.get(name="Bot Account")
    rows = timeline.contact_entries(whale, membership).order_by("-occurred_at", "-activity_id")
    occurred_at, activity_id = rows.values_list("occurred_at", "activity_id")[depth - 1]
    # Among the first few thousand contacts by id (counting every contact's entries takes
    # half a minute on SQLite at 2.2M), else among all.
    sample = contacts.exclude(pk=whale.pk).order_by("pk").values("pk")[:NORMAL_SAMPLE]
    busy = None
    for among in (sample, contacts.exclude(pk=whale.pk).values("pk")):
        busy = (
            ActivityContact.objects.filter(contact__in=list(among.values_list("pk", flat=True)))
            .values("contact")
            .annotate(entries=Count("id"))
            .filter(entries__gte=NORMAL_MIN_ENTRIES)
            .order_by("entries", "contact")
            .first()
        )
        if busy:
            break
    if busy is None:
        raise RuntimeError(f"No contact has {NORMAL_MIN_ENTRIES} entries: seed a bigger demo.")
    # Search terms taken from the normal contact, so that every size finds some contacts:
    # a fragment of its last name, and its email up to 4 letters past the dot ("dana.scul").
    normal = contacts.get(pk=busy["contact"])
    local = normal.email.split("@")[0]
    search_name = normal.name.split()[-1][:5].lower()
    search_email = local[: local.index(".") + 5] if "." in local else local[:8]
    return Subjects(
        workspace_id=str(workspace.pk),
        workspace_slug=workspace.slug,
        username=membership.user.username,
        whale_id=str(whale.pk),
        whale_entries=ActivityContact.objects.filter(contact=whale).count(),
        normal_id=str(busy["contact"]),
        normal_entries=busy["entries"],
        contacts=contacts.count(),
        depth=depth,
        deep_cursor=timeline.Cursor(occurred_at, activity_id).encode(),
        filter_type=FILTER_TYPE,
        search_name=search_name,
        search_email=search_email,
    )


def issue_token(workspace_id: str, scope: str) -> str:
    from contacts.models import ApiToken, Workspace

    workspace = Workspace.objects.get(pk=workspace_id)
    _, raw = ApiToken.issue(workspace=workspace, scope=scope, name=f"{BENCH_PREFIX}{scope}")
    return raw


def cleanup(
    contact_ids: list[str] | None = None, session_keys: list[str] | None = None
) -> dict[str, int]:
    """Remove what benchmarks wrote: tokens, sessions, activities posted through the API
    (by their external id's prefix), and the contacts' last-activity times they moved."""
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.db.models import Max
    from django.utils import timezone

    from activities.models import Activity, ActivityContact
    from contacts.models import ApiToken, Contact

    with transaction.atomic():
        touched = set(
            ActivityContact.objects.filter(
                activity__external_id__startswith=BENCH_PREFIX
            ).values_list("contact_id", flat=True)
        ) | set(contact_ids or [])
        activities, _ = Activity.objects.filter(external_id__startswith=BENCH_PREFIX).delete()
        tokens, _ = ApiToken.objects.filter(name__startswith=BENCH_PREFIX).delete()
        now = timezone.now()
        for contact_id in touched:
            latest = ActivityContact.objects.filter(
                contact_id=contact_id, occurred_at__lte=now
            ).aggregate(latest=Max("occurred_at"))["latest"]
            Contact.objects.filter(pk=contact_id).update(last_activity_at=latest)
        sessions, _ = Session.objects.filter(session_key__in=session_keys or []).delete()
    return {"activities": activities, "tokens": tokens, "sessions": sessions}


def main(argv: list[str] | None = None) -> int:
    from bench.common import emit_json
    from bench.data import add_dataset_args, dataset_from

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_args(parser)
    parser.add_argument("--depth", type=int, help="default: half the whale's entries")
    parser.add_argument("--cleanup", action="store_true")
    parser.add_argument("--tokens", action="store_true", help="also issue a read and a write token")
    parser.add_argument("--session", action="append", help="a session to remove (--cleanup)")
    args = parser.parse_args(argv)
    dataset = dataset_from(args)
    setup_django(dataset.env())
    if args.cleanup:
        emit_json(cleanup(session_keys=args.session))
        return 0
    subjects = find_subjects(args.depth or dataset.size.whale // 2)
    out = asdict(subjects)
    if args.tokens:
        out["read_token"] = issue_token(subjects.workspace_id, "read")
        out["write_token"] = issue_token(subjects.workspace_id, "write")
    emit_json(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
