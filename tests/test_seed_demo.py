"""seed_demo: a small demo workspace that keeps every promise the big one makes."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from activities import demo, services, types
from activities.models import Activity, ActivityContact, TimelineWeek
from activities.text import render_text
from contacts.models import Color, Contact, Membership, Note, Segment, SegmentMembership, Workspace

CONTACTS, ACTIVITIES, WHALE = 30, 500, 40


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _seed(*options: str) -> str:
    out = StringIO()
    call_command("seed_demo", *options, stdout=out)
    return out.getvalue()


@pytest.fixture
def acme(db) -> Workspace:
    _seed("--contacts", str(CONTACTS), "--activities", str(ACTIVITIES))
    return Workspace.objects.get(slug="acme")


@pytest.fixture
def acme_with_whale(db) -> Workspace:
    args = ["--contacts", str(CONTACTS), "--activities", str(ACTIVITIES)]
    _seed(*args, "--whale-activities", str(WHALE))
    return Workspace.objects.get(slug="acme")


def _latest(contact: Contact, keys: list[str]) -> str | None:
    link = contact.activity_links.filter(type__key__in=keys).order_by("-occurred_at").first()
    return link and link.type.key


def test_demo_user_logs_in_as_an_admin_and_superuser(acme, client):
    assert client.login(username="demo", password="demo")
    membership = Membership.objects.get(workspace=acme, user__username="demo")
    assert membership.is_admin
    assert membership.user.is_staff and membership.user.is_superuser


def test_other_staff_are_members_who_act_on_the_timeline(acme):
    members = Membership.objects.filter(workspace=acme, role="member")
    assert members.count() >= 1
    actors = set(Activity.objects.filter(workspace=acme).values_list("actor_user_id", flat=True))
    assert set(members.values_list("user_id", flat=True)) <= actors


def test_counts_match_the_options(acme_with_whale):
    assert Contact.objects.filter(workspace=acme_with_whale).count() == CONTACTS + 1
    assert Activity.objects.filter(workspace=acme_with_whale).count() == ACTIVITIES + WHALE
    whale = Contact.objects.get(workspace=acme_with_whale, name="Bot Account")
    assert whale.activity_links.count() == WHALE


def test_every_activity_is_on_a_timeline_with_its_time_and_type(acme):
    activities = Activity.objects.filter(workspace=acme)
    assert not activities.filter(links__isnull=True).exists()
    links = ActivityContact.objects.filter(activity__workspace=acme)
    assert not links.exclude(occurred_at=F("activity__occurred_at")).exists()
    assert not links.exclude(type=F("activity__type")).exists()
    assert activities.annotate(n=Count("links")).filter(n__gt=1).exists()


def test_last_activity_at_is_the_latest_past_entry(acme_with_whale):
    now = timezone.now()
    contacts = Contact.objects.filter(workspace=acme_with_whale).annotate(
        latest=Max("activity_links__occurred_at", filter=Q(activity_links__occurred_at__lte=now))
    )
    assert all(c.last_activity_at == c.latest for c in contacts)
    assert contacts.filter(last_activity_at__isnull=False).exists()


def test_body_html_is_the_rendered_body(acme):
    activities = Activity.objects.filter(workspace=acme)
    assert all(a.body_html == render_text(a.body) for a in activities)
    assert activities.filter(body__contains="https://", body_html__contains="<a href").exists()


def test_meetings_carry_their_participants(acme):
    meetings = Activity.objects.filter(workspace=acme, type__key=types.MEETING)
    assert meetings.exists()
    for meeting in meetings:
        participants = meeting.metadata["participants"]
        assert set(meeting.metadata) == {
            "kind",
            "title",
            "location",
            "start_date",
            "end_date",
            "status",
            "meeting_type",
            "participants",
        }
        assert meeting.meeting["start"] == meeting.occurred_at
        assert meeting.meeting["end"] == meeting.ended_at
        assert sum(p["is_host"] for p in participants) == 1
        contact_ids = {p["contact_id"] for p in participants if p["contact_id"]}
        assert contact_ids == {str(pk) for pk in meeting.contacts.values_list("pk", flat=True)}
        assert all({"name", "email", "rsvp_status", "user_id"} <= set(p) for p in participants)


def test_segments_use_the_palette_and_match_their_entries(acme):
    segments = Segment.objects.filter(workspace=acme)
    assert 6 <= segments.count() <= 8
    assert all(s.color in Color.values and s.description for s in segments)
    for contact in Contact.objects.filter(workspace=acme):
        for segment in segments:
            latest = (
                contact.activity_links.filter(activity__segment=segment)
                .order_by("-occurred_at")
                .first()
            )
            is_member = SegmentMembership.objects.filter(contact=contact, segment=segment).exists()
            assert is_member == bool(latest and latest.type.key == types.SEGMENT_ADDED)


def test_blocked_and_unsubscribed_flags_agree_with_the_latest_entries(acme):
    contacts = Contact.objects.filter(workspace=acme)
    for contact in contacts:
        blocking = _latest(contact, [types.CONTACT_BLOCKED, types.CONTACT_UNBLOCKED])
        subscription = _latest(contact, [types.CONTACT_UNSUBSCRIBED, types.CONTACT_RESUBSCRIBED])
        assert contact.blocked == (blocking == types.CONTACT_BLOCKED)
        assert contact.unsubscribed == (subscription == types.CONTACT_UNSUBSCRIBED)
    assert contacts.filter(blocked=True).exists()
    assert contacts.filter(unsubscribed=True).exists()


def test_notes_have_their_entries(acme):
    notes = Note.objects.filter(workspace=acme)
    assert notes.exists()
    for note in notes:
        entry = note.activities.get(type__key=types.NOTE_CREATED)
        assert (entry.body, entry.occurred_at) == (note.content, note.created_at)
        assert list(entry.contacts.all()) == [note.contact]


def test_integrations_write_their_kinds_of_entries(acme):
    activities = Activity.objects.filter(workspace=acme)
    external = activities.filter(type__key="external:viewed-a-demo").first()
    assert external.source == "import"
    assert external.asset_type and external.asset_name and external.campaign_id
    message = activities.filter(type__key="api:message").first()
    assert (message.source, message.actor_kind) == ("api", "integration")
    assert message.channel_id and message.external_id
    assert activities.filter(reply_to__isnull=False).exists()
    assert activities.filter(react_to__isnull=False).exists()


def test_tasks_and_meetings_are_past_done_overdue_and_upcoming(acme):
    now = timezone.now()
    activities = Activity.objects.filter(workspace=acme)
    tasks = activities.filter(type__key=types.TASK)
    assert tasks.filter(done_at__isnull=False, done_at__lte=now).exists()
    assert tasks.filter(done_at__isnull=True, occurred_at__lt=now).exists()  # overdue
    upcoming = activities.filter(occurred_at__gt=now)
    assert upcoming.exists()
    assert set(upcoming.values_list("type__key", flat=True)) <= {types.MEETING, types.TASK}
    assert not activities.filter(occurred_at__lt=now - timedelta(days=731)).exists()


def _weekly_counts() -> dict:
    return {
        (row.contact_id, row.week): row.count for row in TimelineWeek.objects.filter(count__gt=0)
    }


def test_weekly_counts_are_those_the_triggers_keep(acme_with_whale):
    seeded = _weekly_counts()
    links = list(ActivityContact.objects.all())
    ActivityContact.objects.all().delete()
    TimelineWeek.objects.all().delete()
    ActivityContact.objects.bulk_create(links, batch_size=100)  # counted by the triggers
    assert seeded == _weekly_counts()
    assert sum(seeded.values()) == len(links) > ACTIVITIES + WHALE


def test_the_weekly_counts_stay_kept_after_a_seed(acme):
    contact = Contact.objects.filter(workspace=acme).first()
    when = timezone.now()
    monday = when.date() - timedelta(days=when.weekday())
    before = TimelineWeek.objects.filter(contact=contact, week=monday).first()
    services.log_activity(workspace=acme, type_key="call", contacts=[contact], occurred_at=when)
    after = TimelineWeek.objects.get(contact=contact, week=monday)
    assert after.count == (before.count if before else 0) + 1


def test_the_same_seed_gives_the_same_data(db, monkeypatch):
    today = demo.start_of_today()
    monkeypatch.setattr(demo, "start_of_today", lambda: today)

    def snapshot(seed: str) -> tuple[list, list]:
        _seed("--contacts", "10", "--activities", "200", "--seed", seed)
        workspace = Workspace.objects.get(slug="acme")
        contacts = list(
            workspace.contacts.order_by("id").values_list(
                "id", "name", "email", "phone", "external_id", "blocked", "last_activity_at"
            )
        )
        contacts += (
            SegmentMembership.objects.filter(contact__workspace=workspace)
            .order_by("contact", "segment__name")
            .values_list("contact", "segment__name", "added_at")
        )
        activities = list(workspace.activities.order_by("id").values_list("id", "title"))
        # Activity.type is PROTECT, so the workspace can go only after its activities.
        workspace.activities.all().delete()
        workspace.delete()
        return contacts, activities

    first = snapshot("7")
    assert snapshot("7") == first
    assert snapshot("8") != first


def test_an_existing_demo_workspace_is_left_alone(acme):
    before = Activity.objects.count()
    assert "exists already" in _seed("--activities", "10")
    assert Activity.objects.count() == before


def test_refuses_a_demo_without_contacts(db):
    with pytest.raises(CommandError):
        _seed("--contacts", "0")
    assert not Workspace.objects.exists()
