"""Demo data: a realistic workspace of any size, the same for the same seed.

The setup (users, segments, types) goes through the ORM. The timeline, up to millions of
entries, is generated in time order one entry at a time and written in batches
(executemany, or COPY on PostgreSQL), so memory stays flat however many entries there
are. The contacts are written last, the same way, each once with the state its timeline
left it in (flags, last activity, segments). Every random choice, the ids included,
comes from `random.Random(seed)` (or generators seeded from it), and all times are
relative to the start of the current day (UTC), so a seed gives the same data all day.
"""

import bisect
import functools
import heapq
import importlib
import itertools
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from activities import services, types
from activities.api.common import iso_z
from activities.bulk import RowInserter, converters_by_kind
from activities.models import Activity, ActivityContact, ActivityType
from activities.text import render_text
from contacts.filters import refresh_search_statistics
from contacts.models import Color, Contact, Membership, Note, Segment, SegmentMembership, Workspace

WORKSPACE_NAME = "Acme"
WORKSPACE_SLUG = "acme"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
HISTORY_DAYS = 730
UPCOMING_DAYS = 21
BATCH_SIZE = 10000

# (username, first name, last name, role). The first is the demo login.
STAFF = [
    (DEMO_USERNAME, "Demo", "User", Membership.Role.ADMIN),
    ("maya", "Maya", "Chen", Membership.Role.MEMBER),
    ("sam", "Sam", "Okafor", Membership.Role.MEMBER),
]

SEGMENTS = [
    ("Customers", Color.GREEN, "Paying accounts with an active subscription."),
    ("Trial", Color.BLUE, "Started a free trial in the last 30 days."),
    ("Enterprise leads", Color.PURPLE, "Companies with 1,000+ employees in the pipeline."),
    ("Newsletter", Color.YELLOW, "Receives the monthly product newsletter."),
    ("Churn risk", Color.RED, "Low usage or an open escalation: check in this month."),
    ("Event attendees", Color.ORANGE, "Came to a webinar, a meetup or a trade show booth."),
    ("Partners", Color.PINK, "Resellers and integration partners."),
    ("Dormant", Color.GRAY, "No reply to the last three emails."),
]

# Types that integrations create on first use; the demo installs them up front.
MESSAGE = "api:message"
REACTION = "api:reaction"
EXTERNAL_TYPES = {
    "external:viewed-a-demo": ("Viewed a Demo", "Demo", ["Product tour", "Timeline deep dive"]),
    "external:attended-webinar": (
        "Attended Webinar",
        "Webinar",
        ["Scaling support teams", "Quarterly product update", "CRM hygiene 101"],
    ),
    "external:downloaded-whitepaper": (
        "Downloaded Whitepaper",
        "Whitepaper",
        ["The state of customer success", "Security at Acme"],
    ),
    "external:visited-booth": (
        "Visited Tradeshow Booth",
        "Tradeshow",
        ["SaaStr Annual", "Web Summit", "Tradeshow 2024"],
    ),
}
CAMPAIGN_IDS = {
    asset: str(37 + n)
    for n, asset in enumerate(a for _, _, assets in EXTERNAL_TYPES.values() for a in assets)
}
INTEGRATION_TYPES = {
    MESSAGE: ("Message", Color.BLUE),
    REACTION: ("Reaction", Color.PINK),
    **{key: (name, Color.PURPLE) for key, (name, _, _) in EXTERNAL_TYPES.items()},
}

# fmt: off
FIRST_NAMES = [
    "Dana", "Marcus", "Priya", "Sofia", "Liam", "Aisha", "Kenji", "Elena", "Mateo", "Chloe",
    "Omar", "Hannah", "Diego", "Mei", "Lucas", "Fatima", "Noah", "Isabel", "Ravi", "Grace",
    "Tomás", "Yuki", "Ethan", "Amara", "Jonas", "Leila", "Felix", "Nora", "Samuel", "Zara",
    "Andre", "Ingrid", "Victor", "Olivia", "Kwame", "Lena", "Hugo", "Anika", "Rafael",
    "Claire", "Tariq", "Julia", "Sara", "Caleb", "Bianca", "Arjun", "Freya", "Gabriel", "Inês",
    "Jamal", "Kira", "Leo", "Mila", "Nikhil", "Paula", "Quinn", "Rosa", "Stefan", "Talia",
]
LAST_NAMES = [
    "Scully", "Reyes", "Patel", "García", "Nguyen", "Kowalski", "Okonkwo", "Tanaka", "Rossi",
    "Dubois", "Hughes", "Novak", "Fischer", "Haddad", "Larsen", "Moreau", "Silva", "Kim",
    "Andersson", "Costa", "Jensen", "Mbeki", "Walsh", "Ibrahim", "O'Brien", "Schmidt",
    "Laurent", "Sato", "Petrov", "Alvarez", "Byrne", "Chowdhury", "Eriksen", "Ferreira",
    "Gallo", "Horvath", "Iyer", "Jovanović", "Keller", "Lindqvist", "Mendes", "Nakamura",
    "Ortiz", "Park", "Quinlan", "Rahman",
]
COMPANIES = [
    "Northwind Traders", "Contoso", "Fabrikam", "Tailspin Toys", "Litware", "Adventure Works",
    "Coho Winery", "Proseware", "Wingtip Toys", "Alpine Ski House", "Fourth Coffee",
    "Lucerne Publishing", "Trey Research", "Woodgrove Bank", "Brightline Analytics",
    "Copperleaf Health", "Harbor & Pine", "Kestrel Labs", "Meridian Freight",
    "Nimbus Cloudworks", "Oakridge Dental", "Peregrine Robotics", "Redwood Legal",
    "Sunfield Energy", "Tidewater Logistics", "Vantage Realty", "Willow Schools",
    "Bluebird Bakery",
]
# fmt: on
JOB_TITLES = [
    "Head of Sales",
    "VP Marketing",
    "CTO",
    "Operations Manager",
    "Procurement Lead",
    "Customer Success Manager",
    "Founder & CEO",
    "IT Director",
    "Product Manager",
    "Finance Director",
]
PLANS = ["Trial", "Starter", "Pro", "Business", "Enterprise"]
AREA_CODES = ["415", "212", "617", "312", "206", "512", "303", "646"]

CALL_PURPOSES = ["Discovery", "Follow-up", "Check-in", "Renewal", "Onboarding", "Pricing"]
CALL_NOTES = [
    "Walked {first} through the reporting dashboard. Today the team exports everything "
    "to spreadsheets and wants that gone by next quarter.",
    "{first} is happy with onboarding so far but needs SSO before the wider rollout.",
    "Budget is approved for Q3. Legal review of the MSA is the last blocker.",
    "Discussed renewal terms. {first} asked for a discount on a two-year commitment.",
    "They are comparing us with two other vendors. Price matters, but the timeline view "
    "is what they liked most.",
    "Exports time out for their largest account. Opened a ticket with engineering and "
    "promised {first} an update by Friday.",
    "Next steps:\n- send the pricing sheet\n- book a technical deep dive\n- intro to our "
    "solutions engineer",
    "Call notes: https://docs.acme.example/calls/quarterly-review",
    "{first} wants to add 20 seats in the spring, once the new support team is hired.",
    "No answer. Left a voicemail and will try again on Thursday morning.",
]
MEETING_KINDS = [
    "Product demo",
    "Kickoff",
    "Quarterly business review",
    "Onboarding session",
    "Contract review",
    "Coffee chat",
]
MEETING_NOTES = [
    "Agenda:\n1. Recap of the last quarter\n2. Demo of the new reporting\n3. Next steps",
    "{first} brought their IT lead; most questions were about permissions and audit logs.",
    "Good energy. They want a proposal for the whole support org by the end of the month.",
    "Recording: https://meet.acme.example/recordings/qbr",
    "Walked through the migration plan. Import of their old CRM data starts next week.",
    "Action items:\n- Acme: send the security questionnaire\n- {first}: confirm the seat count",
]
LOCATIONS = {
    "video": ["https://meet.acme.example/sales-room", "https://zoom.example/j/84512"],
    "in_person": ["Acme HQ, 5th floor", "Their office", "Fourth Coffee, Mint Street"],
    "phone": ["+1 415-555-0100"],
}
EMAIL_SUBJECTS = [
    "Following up on our call",
    "Pricing for {company}",
    "Your trial ends in 3 days",
    "Notes from today's demo",
    "Quick question about your rollout",
    "Renewal proposal for {company}",
    "Invitation: product roadmap webinar",
]
EMAIL_PARAGRAPHS = [
    "Thanks for your time today. As promised, here is the summary of what we discussed.",
    "I have attached the proposal. The pricing is valid until the end of the month.",
    "Would Tuesday or Wednesday afternoon work for a follow-up?",
    "Here is the guide we talked about: https://help.acme.example/getting-started",
    "Let me know if anyone else from {company} should join the next session.",
    "Our solutions engineer can help with the data import whenever you are ready.",
]
EMAIL_REPLIES = [
    "Thanks, this is helpful. Can we push the call to next week?",
    "Looks good. I will loop in our finance team.",
    "We reviewed it internally and have a few questions about the SSO setup.",
    "Great, Wednesday at 3pm works for us.",
    "Could you send over the security documentation as well?",
]
TASK_TITLES = [
    "Send proposal to {first}",
    "Follow up with {first} about pricing",
    "Book a QBR with {company}",
    "Share the onboarding checklist with {first}",
    "Check in with {first} after the trial",
    "Prepare the renewal quote for {company}",
]
TASK_NOTES = [
    "Use the new pricing sheet, not the one from last year.",
    "{first} asked for this before their board meeting.",
    "Template: https://docs.acme.example/templates/proposal",
]
NOTE_PARAGRAPHS = [
    "{first} prefers email over calls; mornings work best.",
    "Met {first} at the meetup. Very interested in the API, especially webhooks.",
    "The CFO decides; {first} is our champion internally.",
    "Renewal is at the end of March. No discounts before the QBR.",
    "They have about 40k contacts in an old CRM and want them imported before launch.\n"
    "Owner: solutions team.",
    "Sent the security whitepaper: https://acme.example/security.pdf",
    "{first} mentioned they are hiring two more support agents this quarter.",
    "Careful: {first} had a bad experience with our support last year.",
]
CHANNELS = ["#general", "#help", "#product-feedback", "#integrations", "#show-and-tell"]
COMMUNITY_EVENTS = ["Community meetup", "Office hours", "Launch week AMA"]
MESSAGES = [
    "Is there a way to export a contact's timeline to CSV?",
    "Loving the new filters! 🎉",
    "We get a 500 when an externalId contains a slash. Repro: https://gist.example/8812",
    "Anyone integrating with Zapier? Would love to compare notes.",
    "How do people structure their segments? We have too many.",
    "Shipped our integration today, thanks for all the help in here.",
    "Feature request: pin more than one entry on a timeline.",
]
REPLIES = [
    "Same here, following.",
    "+1, we need this too.",
    "That worked, thank you!",
    "We solved it with a webhook, happy to share the code.",
]
EMOJI = ["👍", "🎉", "❤️", "👀", "🙌"]
EXTERNAL_NOTES = ["", "", "Watched most of the recording.", "Asked two questions in the chat."]


class Mix:
    """Weighted random picks, with the cumulative weights computed once."""

    def __init__(self, weights: dict):
        self.items = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


KINDS = Mix(
    {
        "email": 20,
        "call": 12,
        "meeting": 9,
        "note": 10,
        "task": 8,
        "external": 14,
        "message": 12,
        "reply": 4,
        "reaction": 3,
        "status": 8,
    }
)
UPCOMING_KINDS = Mix({"meeting": 3, "task": 2})
WHALE_KINDS = Mix({"message": 5, "reply": 1, "reaction": 1, "external": 2, "email": 1})
# (flag, new value) -> the entry that records the change.
FLAG_ENTRIES = {
    ("blocked", True): (types.CONTACT_BLOCKED, "Blocked"),
    ("blocked", False): (types.CONTACT_UNBLOCKED, "Unblocked"),
    ("unsubscribed", True): (types.CONTACT_UNSUBSCRIBED, "Unsubscribed"),
    ("unsubscribed", False): (types.CONTACT_RESUBSCRIBED, "Resubscribed"),
}


@dataclass(frozen=True)
class Staff:
    user_id: int
    name: str
    email: str

    def actor(self) -> dict:
        return {
            "actor_kind": Activity.ActorKind.USER,
            "actor_user_id": self.user_id,
            "actor_name": self.name,
            "actor_email": self.email,
        }


@dataclass(eq=False, slots=True)  # slots: there is one for every contact, all run long
class Person:
    """A contact as the generator tracks it: who it is and its state so far."""

    id: uuid.UUID
    name: str
    email: str
    company: str
    segments: dict[int, datetime] = field(default_factory=dict)
    blocked: bool = False
    blocked_changed_at: datetime | None = None
    unsubscribed: bool = False
    unsubscribed_changed_at: datetime | None = None
    last_activity_at: datetime | None = None
    last_email: tuple[uuid.UUID, str, Staff] | None = None  # (id, subject, sender)
    pinned: bool = False
    first_name: str = field(init=False)

    def __post_init__(self):
        self.first_name = self.name.split()[0]


@dataclass
class Entry:
    activity: dict
    links: list[dict]
    note: dict | None = None


SYSTEM_ACTOR = {"actor_kind": Activity.ActorKind.SYSTEM}
ELOQUA_ACTOR = {
    "actor_kind": Activity.ActorKind.INTEGRATION,
    "actor_name": "Eloqua",
    "actor_external_id": "eloqua",
}


@functools.lru_cache(maxsize=50_000)
def _render_paragraph(paragraph: str) -> str:
    return str(render_text(paragraph))


def _render(paragraphs: list[str]) -> str:
    # render_text turns paragraphs (split at blank lines) into <p> blocks joined by a blank
    # line, so rendering each paragraph once and joining gives the same HTML, from a cache:
    # rendering every body afresh would cost more than all the rest of the run.
    return "\n\n".join(_render_paragraph(p) for p in paragraphs)


def ascending_fractions(rng: random.Random, count: int) -> Iterator[float]:
    """`count` uniform random numbers in [0, 1) in ascending order, one at a time.

    The smallest of k uniforms is 1 - U ** (1/k) and the others are uniform above it,
    so nothing needs to be stored or sorted.
    """
    low = 0.0
    for remaining in range(count, 0, -1):
        low += (1.0 - low) * (1.0 - rng.random() ** (1.0 / remaining))
        yield low


class OfficeHours:
    """Maps [0, 1) onto the weekday office hours (08:00-18:00 UTC) of a run of days, in order."""

    SECONDS = 10 * 3600

    def __init__(self, first_day: date, days: int):
        every_day = (first_day + timedelta(days=n) for n in range(days))
        self.days = [day for day in every_day if day.weekday() < 5]

    def at(self, fraction: float) -> datetime:
        position = fraction * len(self.days)
        day = self.days[min(int(position), len(self.days) - 1)]
        seconds = int((position % 1) * self.SECONDS)
        return datetime.combine(day, time(8), UTC) + timedelta(seconds=seconds)

    def times(self, rng: random.Random, count: int) -> Iterator[datetime]:
        return (self.at(fraction) for fraction in ascending_fractions(rng, count))


class TimelineWriter:
    """Collects entries and writes them in batches (inside the caller's transaction)."""

    def __init__(self, progress: Callable[[int], object], batch_size: int = BATCH_SIZE):
        self.progress = progress
        self.batch_size = batch_size
        converters = converters_by_kind()
        self.tables = {
            "notes": RowInserter(Note, converters),
            "activities": RowInserter(Activity, converters),
            "links": RowInserter(ActivityContact, converters),
        }
        self.rows: dict[str, list[list]] = {name: [] for name in self.tables}

    def add(self, entry: Entry) -> None:
        # Converted right away, while the entry's values are still in the converters' caches.
        if entry.note:
            self._add("notes", entry.note)
        self._add("activities", entry.activity)
        for link in entry.links:
            self._add("links", link)
        if len(self.rows["activities"]) >= self.batch_size:
            self.flush()

    def _add(self, table: str, row: dict) -> None:
        self.rows[table].append(self.tables[table].values(row))

    def flush(self) -> None:
        for name, table in self.tables.items():  # notes first: entries refer to them
            table.insert(self.rows[name])
        self.progress(len(self.rows["activities"]))
        self.rows = {name: [] for name in self.tables}


class TimelineGenerator:
    """Makes one timeline entry at a time, keeping each contact's state consistent."""

    def __init__(
        self,
        rng: random.Random,
        *,
        workspace: Workspace,
        type_ids: dict[str, uuid.UUID],
        staff: list[Staff],
        people: list[Person],
        segments: list[Segment],
        today: datetime,
    ):
        self.rng = rng
        self.workspace_id = workspace.pk
        self.type_ids = type_ids
        self.staff = staff
        self.people = people
        self.segments = segments
        self.today = today
        self.id_base = rng.getrandbits(46)
        self.id_counter = itertools.count()
        self.colleagues: dict[str, list[Person]] = {}
        for person in people:
            self.colleagues.setdefault(person.company, []).append(person)
        self.channel_ids = {channel: self.new_id() for channel in CHANNELS}
        self.event_ids = {event: self.new_id() for event in COMMUNITY_EVENTS}
        self.recent_messages: deque[tuple[uuid.UUID, str, str]] = deque(maxlen=50)
        self.serial = 0
        self.builders = {
            "email": self.email,
            "call": self.call,
            "meeting": self.meeting,
            "note": self.note,
            "task": self.task,
            "external": self.external,
            "message": self.message,
            "reply": self.reply,
            "reaction": self.reaction,
            "status": self.status,
        }

    def new_id(self) -> uuid.UUID:
        """A random-looking id whose first 48 bits count up, entry after entry.

        Entries come in time order, so the indexes on ids (and on activity + contact) are
        appended to rather than written all over, which keeps big runs fast.
        """
        prefix = self.id_base + next(self.id_counter)
        return uuid.UUID(int=prefix << 80 | self.rng.getrandbits(80), version=4)

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def entry(self, at: datetime, person: Person, kinds: Mix) -> Entry:
        return self.builders[kinds.pick(self.rng)](at, person)

    def _fill(self, text: str, person: Person) -> str:
        return text.format(first=person.first_name, company=person.company)

    def _paragraphs(
        self, pool: list[str], person: Person, *, fewest: int = 0, most: int = 2
    ) -> list[str]:
        chosen = self.rng.sample(pool, self.rng.randint(fewest, most))
        return [self._fill(paragraph, person) for paragraph in chosen]

    def _activity(
        self,
        type_key: str,
        at: datetime,
        people: list[Person],
        actor: dict,
        *,
        paragraphs: Sequence[str] = (),
        source: str = Activity.Source.UI,
        pinned: bool = False,
        **fields,
    ) -> Entry:
        activity_id = self.new_id()
        type_id = self.type_ids[type_key]
        written_at = min(at, self.today)
        activity = {
            "id": activity_id,
            "workspace_id": self.workspace_id,
            "type_id": type_id,
            "source": source,
            "occurred_at": at,
            "body": "\n\n".join(paragraphs),
            "body_html": _render(paragraphs),
            "created_at": written_at,
            "updated_at": written_at,
            **actor,
            **fields,
        }
        links = [
            {
                "activity_id": activity_id,
                "contact_id": person.id,
                "occurred_at": at,
                "type_id": type_id,
                "pinned": pinned,
            }
            for person in people
        ]
        if at <= self.today:  # entries come in time order, so the latest is the last
            for person in people:
                person.last_activity_at = at
        return Entry(activity, links)

    def _contact_actor(self, person: Person, *, via: str) -> dict:
        """The contact, as an integration reports what they did."""
        return {
            "actor_kind": Activity.ActorKind.INTEGRATION,
            "actor_name": person.name,
            "actor_email": person.email,
            "actor_external_id": via,
        }

    # One builder per kind of entry.

    def email(self, at: datetime, person: Person) -> Entry:
        if person.last_email and self.rng.random() < 0.35:
            parent_id, subject, staff = person.last_email
            person.last_email = None
            return self._activity(
                types.EMAIL,
                at,
                [person],
                self._contact_actor(person, via="mailbox-sync"),
                paragraphs=[self.rng.choice(EMAIL_REPLIES), person.first_name],
                source=Activity.Source.API,
                title=f"Re: {subject}",
                sub_type="inbound",
                status="received",
                reply_to_id=parent_id,
                metadata={"direction": "inbound", "from": person.email, "to": [staff.email]},
            )
        staff = self.rng.choice(self.staff)
        subject = self._fill(self.rng.choice(EMAIL_SUBJECTS), person)
        paragraphs = [
            f"Hi {person.first_name},",
            *self._paragraphs(EMAIL_PARAGRAPHS, person, fewest=1, most=3),
            f"Best,\n{staff.name}",
        ]
        entry = self._activity(
            types.EMAIL,
            at,
            [person],
            staff.actor(),
            paragraphs=paragraphs,
            title=subject,
            sub_type="outbound",
            status=self.rng.choice(["sent", "opened", "opened", "clicked"]),
            metadata={"direction": "outbound", "from": staff.email, "to": [person.email]},
        )
        person.last_email = (entry.activity["id"], subject, staff)
        return entry

    def call(self, at: datetime, person: Person) -> Entry:
        answered = self.rng.random() < 0.8
        seconds = self.rng.randint(180, 2700) if answered else 0
        direction = self.rng.choice(["outbound", "outbound", "inbound"])
        purpose = self.rng.choice(CALL_PURPOSES)
        return self._activity(
            types.CALL,
            at,
            [person],
            self.rng.choice(self.staff).actor(),
            paragraphs=self._paragraphs(CALL_NOTES, person) if answered else [],
            title=f"{purpose} call with {person.first_name}",
            ended_at=at + timedelta(seconds=seconds),
            sub_type=direction,
            status="completed" if answered else "no_answer",
            metadata={"direction": direction, "duration_seconds": seconds},
        )

    def meeting(self, at: datetime, person: Person) -> Entry:
        people = [person]
        if self.rng.random() < 0.3:
            colleagues = self.colleagues.get(person.company, [])
            chosen = self.rng.sample(colleagues, min(len(colleagues), 3))
            people += [p for p in chosen if p is not person][: self.rng.randint(1, 2)]
        host = self.rng.choice(self.staff)
        end = at + timedelta(minutes=self.rng.choice([30, 45, 60, 90]))
        upcoming = at > self.today
        status = "scheduled" if upcoming else self.rng.choice(["completed"] * 8 + ["cancelled"])
        meeting_type = self.rng.choice(list(LOCATIONS))
        what = self.rng.choice(MEETING_KINDS)
        who = person.company if len(people) > 1 else person.first_name
        return self._activity(
            types.MEETING,
            at,
            people,
            host.actor(),
            paragraphs=self._paragraphs(MEETING_NOTES, person, most=1 if upcoming else 2),
            title=f"{what} with {who}",
            ended_at=end,
            status=status,
            category="meeting",
            metadata={
                "kind": "meeting",
                "title": f"{what} with {who}",
                "location": self.rng.choice(LOCATIONS[meeting_type]),
                "start_date": iso_z(at),
                "end_date": iso_z(end),
                "status": status,
                "meeting_type": meeting_type,
                "participants": self._participants(host, people, status),
            },
        )

    def _participants(self, host: Staff, people: list[Person], status: str) -> list[dict]:
        answers = {
            "scheduled": ["accepted", "tentative", "needs_action"],
            "cancelled": ["declined"],
        }
        host_entry = {"name": host.name, "email": host.email, "is_host": True}
        return [
            {
                **host_entry,
                "rsvp_status": "accepted",
                "user_id": str(host.user_id),
                "contact_id": None,
            }
        ] + [
            {
                "name": person.name,
                "email": person.email,
                "is_host": False,
                "rsvp_status": self.rng.choice(answers.get(status, ["accepted"])),
                "user_id": None,
                "contact_id": str(person.id),
            }
            for person in people
        ]

    def note(self, at: datetime, person: Person) -> Entry:
        staff = self.rng.choice(self.staff)
        paragraphs = self._paragraphs(NOTE_PARAGRAPHS, person, fewest=1, most=3)
        note_id = self.new_id()
        pinned = not person.pinned and self.rng.random() < 0.05
        person.pinned = person.pinned or pinned
        entry = self._activity(
            types.NOTE_CREATED,
            at,
            [person],
            staff.actor(),
            paragraphs=paragraphs,
            pinned=pinned,
            note_id=note_id,
        )
        entry.note = {
            "id": note_id,
            "workspace_id": self.workspace_id,
            "contact_id": person.id,
            "author_id": staff.user_id,
            "content": entry.activity["body"],
            "created_at": at,
            "updated_at": at,
        }
        return entry

    def task(self, at: datetime, person: Person) -> Entry:
        recent = at > self.today - timedelta(days=UPCOMING_DAYS)
        done = at <= self.today and self.rng.random() < (0.5 if recent else 0.95)
        done_at = None
        if done:
            done_at = min(at + timedelta(hours=self.rng.uniform(-72, 4)), self.today)
        return self._activity(
            types.TASK,
            at,
            [person],
            self.rng.choice(self.staff).actor(),
            paragraphs=self._paragraphs(TASK_NOTES, person, most=1),
            title=self._fill(self.rng.choice(TASK_TITLES), person),
            status="done" if done else "open",
            priority=self.rng.choice(["low", "normal", "normal", "high"]),
            done_at=done_at,
        )

    def external(self, at: datetime, person: Person) -> Entry:
        key = self.rng.choice(list(EXTERNAL_TYPES))
        name, asset_type, assets = EXTERNAL_TYPES[key]
        asset = self.rng.choice(assets)
        note = self.rng.choice(EXTERNAL_NOTES)
        return self._activity(
            key,
            at,
            [person],
            ELOQUA_ACTOR,
            paragraphs=[note] if note else [],
            source=Activity.Source.IMPORT,
            title=f"{name}: {asset}",
            asset_type=asset_type,
            asset_name=asset,
            campaign_id=CAMPAIGN_IDS[asset],
            external_id=f"eloqua-{100_000 + self.next_serial()}",
        )

    def message(self, at: datetime, person: Person) -> Entry:
        channel = self.rng.choice(CHANNELS)
        event = self.rng.choice(COMMUNITY_EVENTS) if self.rng.random() < 0.15 else ""
        entry = self._activity(
            MESSAGE,
            at,
            [person],
            self._contact_actor(person, via="conquest"),
            paragraphs=[self.rng.choice(MESSAGES)],
            source=Activity.Source.API,
            title=f"Message in {event or channel}",
            channel_id=str(self.channel_ids[channel]),
            event_id=str(self.event_ids[event]) if event else "",
            external_id=f"conquest-{self.next_serial()}",
        )
        self.recent_messages.append((entry.activity["id"], channel, person.first_name))
        return entry

    def reply(self, at: datetime, person: Person) -> Entry:
        if not self.recent_messages:
            return self.message(at, person)
        parent_id, channel, author = self.rng.choice(self.recent_messages)
        return self._activity(
            MESSAGE,
            at,
            [person],
            self._contact_actor(person, via="conquest"),
            paragraphs=[self.rng.choice(REPLIES)],
            source=Activity.Source.API,
            title=f"Replied to {author} in {channel}",
            channel_id=str(self.channel_ids[channel]),
            reply_to_id=parent_id,
            external_id=f"conquest-{self.next_serial()}",
        )

    def reaction(self, at: datetime, person: Person) -> Entry:
        if not self.recent_messages:
            return self.message(at, person)
        parent_id, channel, author = self.rng.choice(self.recent_messages)
        return self._activity(
            REACTION,
            at,
            [person],
            self._contact_actor(person, via="conquest"),
            source=Activity.Source.API,
            title=f"Reacted {self.rng.choice(EMOJI)} to {author}'s message",
            channel_id=str(self.channel_ids[channel]),
            react_to_id=parent_id,
            external_id=f"conquest-{self.next_serial()}",
        )

    def status(self, at: datetime, person: Person) -> Entry:
        # Undoing is likelier than doing, so that however many entries a contact gets,
        # only a few end up blocked (about 6%) or unsubscribed (about 15%).
        if self.rng.random() < (0.3 if person.blocked else 0.02):
            return self._flag(at, person, "blocked")
        if self.rng.random() < (0.3 if person.unsubscribed else 0.06):
            return self._flag(at, person, "unsubscribed")
        return self._segment_change(at, person)

    def _flag(self, at: datetime, person: Person, flag: str) -> Entry:
        value = not getattr(person, flag)
        setattr(person, flag, value)
        setattr(person, f"{flag}_changed_at", at)
        key, title = FLAG_ENTRIES[flag, value]
        by_link = flag == "unsubscribed" and self.rng.random() < 0.5
        return self._activity(
            key,
            at,
            [person],
            SYSTEM_ACTOR if by_link else self.rng.choice(self.staff).actor(),
            source=Activity.Source.SYSTEM if by_link else Activity.Source.UI,
            title=title,
        )

    def _segment_change(self, at: datetime, person: Person) -> Entry:
        members_of = person.segments
        remove = bool(members_of) and (len(members_of) >= 3 or self.rng.random() < 0.3)
        if remove:
            index = self.rng.choice(sorted(members_of))
            del members_of[index]
        else:
            index = self.rng.choice([i for i in range(len(self.segments)) if i not in members_of])
            members_of[index] = at
        segment = self.segments[index]
        return self._activity(
            types.SEGMENT_REMOVED if remove else types.SEGMENT_ADDED,
            at,
            [person],
            self.rng.choice(self.staff).actor(),
            title=f"{'Removed from' if remove else 'Added to'} {segment.name}",
            segment_id=segment.pk,
        )


# Setup


def start_of_today() -> datetime:
    return datetime.combine(timezone.now().astimezone(UTC).date(), time(), UTC)


def _staff(workspace: Workspace) -> list[Staff]:
    User = get_user_model()
    staff = []
    for username, first, last, role in STAFF:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@acme.example"
        user.is_staff = user.is_superuser = username == DEMO_USERNAME
        user.set_password(DEMO_PASSWORD)
        user.save()
        services.add_member(workspace=workspace, user=user, role=role)
        staff.append(Staff(user.pk, user.get_full_name(), user.email))
    return staff


def _install_integration_types(workspace: Workspace) -> None:
    ActivityType.objects.bulk_create(
        ActivityType(workspace=workspace, key=key, name=name, color=color)
        for key, (name, color) in INTEGRATION_TYPES.items()
    )


def _segments(rng: random.Random, workspace: Workspace, since: datetime) -> list[Segment]:
    return Segment.objects.bulk_create(
        Segment(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            workspace=workspace,
            name=name,
            color=color,
            description=description,
            created_at=since - timedelta(days=rng.randint(30, 90)),
        )
        for name, color, description in SEGMENTS
    )


def _contact_rows(
    rng: random.Random, workspace: Workspace, count: int, staff: list[Staff], since: datetime
) -> Iterator[dict]:
    """The contacts' rows without their state, which their timelines decide."""
    for number in range(count):
        yield _contact(rng, workspace, number, staff, since)


def _contact(
    rng: random.Random, workspace: Workspace, number: int, staff: list[Staff], since: datetime
) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = rng.choice(COMPANIES)
    domain = "".join(c for c in company.lower() if c.isalnum()) + ".example"
    local = "".join(c for c in f"{first}.{last}".lower() if c.isalnum() or c == ".")
    created_at = since - timedelta(days=rng.randint(1, 365), seconds=rng.randint(0, 86_399))
    return {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "workspace_id": workspace.pk,
        "name": f"{first} {last}",
        "email": f"{local}@{domain}",
        "phone": f"+1 {rng.choice(AREA_CODES)}-555-{rng.randint(100, 199):04d}",
        "company": company,
        "owner_id": rng.choice(staff).user_id,
        "external_id": str(2400 + number) if rng.random() < 0.6 else None,
        "custom_fields": {"title": rng.choice(JOB_TITLES), "plan": rng.choice(PLANS)},
        "created_at": created_at,
    }


def _whale(rng: random.Random, workspace: Workspace, staff: list[Staff], since: datetime) -> dict:
    """The one contact with a huge timeline: a customer's integration account."""
    return {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "workspace_id": workspace.pk,
        "name": "Bot Account",
        "email": "bot@globex.example",
        "company": "Globex Corporation",
        "owner_id": staff[0].user_id,
        "custom_fields": {"title": "Integration", "plan": "Enterprise"},
        "created_at": since - timedelta(days=400),
    }


def _person(row: dict) -> Person:
    return Person(row["id"], row["name"], row["email"], row["company"])


# The run


@dataclass(frozen=True)
class DemoSize:
    contacts: int = 200
    activities: int = 5000
    whale_activities: int = 0
    seed: int = 1


def create_demo(size: DemoSize, progress: Callable[[int], object] = lambda n: None) -> Workspace:
    """Create the demo workspace with `size.activities` entries (and the whale's).

    All in one transaction, so a failed run leaves nothing behind (and one commit is
    cheaper than one per batch).
    """
    rng = random.Random(size.seed)
    today = start_of_today()
    since = today - timedelta(days=HISTORY_DAYS)
    with transaction.atomic():
        workspace = services.create_workspace(name=WORKSPACE_NAME, slug=WORKSPACE_SLUG)
        _install_integration_types(workspace)
        staff = _staff(workspace)
        segments = _segments(rng, workspace, since)
        # The contacts are written after their timelines, with their final state, so their
        # rows are drawn twice from the same random state: now for who they are, then to
        # be written. Their entries refer to them before they exist, which the foreign
        # keys (deferred to the commit) allow.
        contacts_state = rng.getstate()
        people = [
            _person(row) for row in _contact_rows(rng, workspace, size.contacts, staff, since)
        ]
        whale_rows = [_whale(rng, workspace, staff, since)] if size.whale_activities else []
        whales = [_person(row) for row in whale_rows]
        generator = TimelineGenerator(
            rng,
            workspace=workspace,
            type_ids=dict(workspace.activity_types.values_list("key", "id")),
            staff=staff,
            people=people,
            segments=segments,
            today=today,
        )
        with weekly_counts_built_at_the_end(workspace):
            writer = TimelineWriter(progress)
            for entry in _entries(generator, size, since, today, whales):
                writer.add(entry)
            writer.flush()
            replay = random.Random()
            replay.setstate(contacts_state)
            rows = itertools.chain(
                _contact_rows(replay, workspace, size.contacts, staff, since), whale_rows
            )
            _save_contacts(rows, people + whales, segments, today)
    refresh_search_statistics()
    return workspace


# The weekly counts' triggers on the links (migration activities/0003).
_timeline_weeks = importlib.import_module("activities.migrations.0003_timeline_weeks")
WEEKLY_COUNT_TRIGGER = "timeline_week_insert"
COUNT_WORKSPACE_WEEKS = f"""
INSERT INTO activities_timelineweek (contact_id, week, count)
SELECT contact_id, {_timeline_weeks.SQLITE_WEEK.format(row="activities_activitycontact")}, count(*)
FROM activities_activitycontact
WHERE contact_id IN (SELECT id FROM contacts_contact WHERE workspace_id = %s)
GROUP BY 1, 2
"""


@contextmanager
def weekly_counts_built_at_the_end(workspace: Workspace) -> Iterator[None]:
    """On SQLite, count the workspace's weeks in one statement after its links are in.

    SQLite's trigger runs once per link, an upsert each, a third of a big seed's time;
    one grouped count at the end is a fraction of that. The trigger is dropped and
    recreated from its own stored SQL inside the caller's transaction, which holds
    SQLite's write lock (IMMEDIATE), so no other writer inserts links meanwhile, and a
    failed seed rolls the drop back. PostgreSQL's triggers are per statement already
    (one grouped upsert a batch) and dropping one there would lock the table against
    readers until the commit, so it keeps them.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
            [WEEKLY_COUNT_TRIGGER],
        )
        (trigger_sql,) = cursor.fetchone()
        cursor.execute(f"DROP TRIGGER {WEEKLY_COUNT_TRIGGER}")
    yield
    with connection.cursor() as cursor:
        cursor.execute(COUNT_WORKSPACE_WEEKS, [workspace.pk.hex])
        cursor.execute(trigger_sql)


def _entries(
    generator: TimelineGenerator,
    size: DemoSize,
    since: datetime,
    today: datetime,
    whales: list[Person],
) -> Iterator[Entry]:
    """The past in time order (the whale's entries merged in), then the upcoming weeks."""
    people = generator.people
    if not people:
        return
    rng = generator.rng
    upcoming = min(size.activities, max(3, size.activities // 100))
    past = OfficeHours(since.date(), HISTORY_DAYS)
    future = OfficeHours(today.date() + timedelta(days=1), UPCOMING_DAYS)
    # A few contacts get most of the entries, as in a real CRM.
    busy = Mix({person: rng.paretovariate(1.2) for person in people})
    # Each stream of times has its own generator, so that the merged stream is in order.
    everyone = past.times(random.Random(rng.getrandbits(64)), size.activities - upcoming)
    whale = past.times(random.Random(rng.getrandbits(64)), size.whale_activities if whales else 0)
    for at, is_whale in heapq.merge(((t, False) for t in everyone), ((t, True) for t in whale)):
        if is_whale:
            yield generator.entry(at, whales[0], WHALE_KINDS)
        else:
            yield generator.entry(at, busy.pick(rng), KINDS)
    for at in future.times(random.Random(rng.getrandbits(64)), upcoming):
        yield generator.entry(at, busy.pick(rng), UPCOMING_KINDS)


def _save_contacts(
    rows: Iterable[dict], people: list[Person], segments: list[Segment], written_at: datetime
) -> None:
    """Insert each contact once, in the state its timeline left it in, with its memberships."""
    converters = converters_by_kind()
    contacts = RowInserter(Contact, converters)
    memberships = RowInserter(SegmentMembership, converters)
    contact_rows, membership_rows = [], []
    for row, person in zip(rows, people, strict=True):
        contact_rows.append(
            contacts.values({**row, **_final_state(person), "updated_at": written_at})
        )
        membership_rows += (
            memberships.values(
                {"contact_id": person.id, "segment_id": segments[index].pk, "added_at": added_at}
            )
            for index, added_at in person.segments.items()
        )
        if len(contact_rows) >= BATCH_SIZE:
            contacts.insert(contact_rows)
            memberships.insert(membership_rows)
            contact_rows, membership_rows = [], []
    contacts.insert(contact_rows)
    memberships.insert(membership_rows)


def _final_state(person: Person) -> dict:
    return {
        "last_activity_at": person.last_activity_at,
        "blocked": person.blocked,
        "blocked_changed_at": person.blocked_changed_at,
        "unsubscribed": person.unsubscribed,
        "unsubscribed_changed_at": person.unsubscribed_changed_at,
    }
