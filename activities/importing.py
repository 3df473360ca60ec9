"""Importing contacts and activities from CSV or JSON Lines (`manage.py import_contacts`,
`manage.py import_activities`).

- Streaming and batched: the file is read one record at a time and written in batches
  (20,000 rows by default), each in one transaction, so memory stays flat however big the
  file is, and a batch that fails leaves the batches before it in place.
- Idempotent by `external_id`: a row whose external id the workspace already has (or an
  earlier row of the file had) is skipped, so importing a file again stores nothing twice.
  Rows without one are always inserted. Existing contacts are left as they are, unless the
  import updates them (`--update`): then the row's non-empty values replace theirs.
- Line numbers: a CSV record is named by the physical line it starts on (the header is
  line 1), a JSON Lines record by its line.
- A bad row (a missing or invalid value, an unknown contact, a line that is not valid
  UTF-8 or holds a NUL character, a JSON Lines line that is not a JSON object) is reported
  with its line number and left out; the other rows still load. Damage to one line does
  not move the next (UTF-8 never hides a newline inside a character), so reading goes on.
- Reading stops, keeping the rows read before, only when the file cannot be read any
  further: an I/O error, or CSV the parser cannot follow (say, a quote never closed).
  A file that cannot be read at all (no header, a malformed or duplicated column) stops
  before anything is written.
"""

import contextlib
import csv
import functools
import io
import json
import random
import re
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator, validate_email
from django.db import DatabaseError, DataError, IntegrityError, reset_queries, transaction
from django.db.models import Q
from django.utils import timezone
from tqdm import tqdm

from activities import bulk, services
from activities.models import Activity, ActivityType
from activities.text import render_text
from contacts.filters import refresh_search_statistics
from contacts.management.workspaces import workspace_named
from contacts.models import Contact, Workspace

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
BATCH_SIZE = 20_000
# Contact references an activity import remembers (a few tens of MB at most).
CONTACT_CACHE = 200_000


class ImportStopped(Exception):
    """The file cannot be read (any further). The batches before stay written."""

    def __init__(self, line: int | None, message: str):
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


class RowError(ValueError):
    """What is wrong with one row, every problem of it in one message."""


@dataclass
class Summary:
    imported: int = 0
    skipped: int = 0
    failed: int = 0
    updated: int | None = None  # counted only by an import that updates

    def __str__(self) -> str:
        parts = [f"imported {self.imported}"]
        if self.updated is not None:
            parts.append(f"updated {self.updated}")
        parts += [f"skipped {self.skipped} (already present)", f"failed {self.failed}"]
        return ", ".join(parts)


def format_for(path: str, given: str | None) -> str:
    """The format asked for, or the one the file's extension names."""
    if given:
        return given
    for extension, name in FORMATS.items():
        if path.lower().endswith(extension):
            return name
    raise ValueError(
        "Cannot tell the format from the file name: use --format csv or --format jsonl."
    )


# Reading records


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    values: dict[str, Any]
    error: str = ""


class _Lines:
    """A binary stream's lines as text, noting each line that is not valid UTF-8 or holds
    a NUL character (neither can be stored). Such a line is passed on with the bad
    characters replaced, so the CSV parser keeps its place; its record is then refused."""

    UNSTORABLE = re.compile("[\x00\udc80-\udcff]")

    def __init__(self, stream: BinaryIO):
        # utf-8-sig drops the byte order mark that spreadsheet programs write.
        self.text = io.TextIOWrapper(
            stream, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        self.number = 0
        self.damage: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        try:
            for line in self.text:
                self.number += 1
                if "\x00" in line or (not line.isascii() and self.UNSTORABLE.search(line)):
                    self.damage[self.number] = _damage(line)
                    line = self.UNSTORABLE.sub("\ufffd", line)
                yield line
        except OSError as error:
            raise ImportStopped(self.number + 1, f"cannot read the file ({error})") from error

    def close(self) -> None:
        self.text.detach()  # leaves the stream open: it is the caller's (or stdin)

    def damage_between(self, first: int, last: int) -> str:
        """The first problem noted on lines first..last (a record's), forgetting those up
        to last."""
        found = ""
        for number in sorted(n for n in self.damage if n <= last):
            message = self.damage.pop(number)
            if number >= first and not found:
                found = message if number == first else f"line {number} is {message}"
        return found


def _damage(line: str) -> str:
    bad = _Lines.UNSTORABLE.search(line).group()
    if bad == "\x00":
        return "holds a NUL character"
    return f"not valid UTF-8 (byte 0x{ord(bad) - 0xDC00:02X})"


def read_records(
    stream: BinaryIO,
    fmt: str,
    *,
    columns: frozenset[str],
    required: tuple[str, ...],
    warn: Callable[[str], None],
) -> Iterator[Record]:
    """The file's records, in order. Raises ImportStopped when it cannot read on."""
    lines = _Lines(stream)
    try:
        if fmt == "csv":
            yield from _csv_records(lines, columns, required, warn)
        else:
            yield from _jsonl_records(lines, columns, warn)
    finally:
        lines.close()


def _csv_records(
    lines: _Lines, columns: frozenset[str], required: tuple[str, ...], warn: Callable
) -> Iterator[Record]:
    reader = csv.reader(lines)
    names = _csv_header(reader, lines, columns, required, warn)
    end = reader.line_num
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportStopped(start, f"malformed CSV ({error}); stopped reading") from error
        end = reader.line_num
        damage = lines.damage_between(start, end) if lines.damage else ""
        if damage:
            yield Record(start, {}, damage)
        elif not any(cells):
            continue  # a blank line, or a row of empty cells
        elif len(cells) != len(names):
            yield Record(start, {}, f"{len(cells)} values, but the header has {len(names)} columns")
        else:
            yield Record(start, dict(zip(names, cells, strict=True)))


def _csv_header(reader, lines: _Lines, columns, required, warn) -> list[str]:
    try:
        header = next((cells for cells in reader if any(cells)), None)
    except csv.Error as error:
        raise ImportStopped(reader.line_num, f"malformed CSV header ({error})") from error
    if header is None:
        raise ImportStopped(None, "The file is empty: a CSV file starts with a header row.")
    if damage := lines.damage_between(1, reader.line_num):
        raise ImportStopped(reader.line_num, f"the header cannot be read: {damage}")
    names = [name.strip().lower() for name in header]
    if "" in names:
        raise ImportStopped(reader.line_num, "the header has a column without a name")
    if repeated := sorted({name for name in names if names.count(name) > 1}):
        raise ImportStopped(
            reader.line_num, f"the header repeats the column(s) {', '.join(repeated)}"
        )
    if missing := [name for name in required if name not in names]:
        raise ImportStopped(reader.line_num, f"the header lacks the column(s) {', '.join(missing)}")
    if unknown := [name for name in names if name not in columns]:
        warn(f"Ignoring the column(s) {', '.join(unknown)}: not importable.")
    return names


def _jsonl_records(lines: _Lines, columns: frozenset[str], warn: Callable) -> Iterator[Record]:
    ignored = set()
    for line in lines:
        number = lines.number
        if damage := lines.damage.pop(number, None):
            yield Record(number, {}, damage)
            continue
        if not line.strip():
            continue
        try:
            values = json.loads(line.strip(), parse_constant=_refuse_constant)
        except ValueError as error:
            message = getattr(error, "msg", str(error))
            column = getattr(error, "colno", None)
            where = f" at column {column}" if column else ""
            yield Record(number, {}, f"not valid JSON: {message}{where}")
            continue
        except RecursionError:
            yield Record(number, {}, "not valid JSON: nested too deeply")
            continue
        if not isinstance(values, dict):
            yield Record(number, {}, "not a JSON object")
            continue
        if "\\u0000" in line:
            yield Record(number, {}, "holds a NUL character (\\u0000), which cannot be stored")
            continue
        if unknown := values.keys() - columns - ignored:
            ignored |= unknown
            warn(f"Ignoring the field(s) {', '.join(sorted(unknown))} (first on line {number}).")
        yield Record(number, values)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number that can be stored")


# Checking values. Each helper returns the clean value or raises RowError.


def _text(value: Any, name: str, limit: int) -> str:
    """A text value, stripped; numbers (ids in JSON) become text."""
    if type(value) is not str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RowError(f"{name}: must be text")
        value = str(value)
    value = value.strip()
    if len(value) > limit:
        raise RowError(f"{name}: at most {limit:,} characters (this one has {len(value):,})")
    return value


def _moment(value: Any, name: str) -> datetime:
    """An ISO 8601 date and time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (AttributeError, ValueError, OverflowError):
        raise RowError(f"{name}: {_shown(value)} is not an ISO 8601 date and time") from None


def _json_object(value: Any, name: str) -> dict:
    """A JSON object, or (in CSV) a cell holding one."""
    if isinstance(value, str):
        if "\\u0000" in value:
            raise RowError(f"{name}: holds a NUL character (\\u0000), which cannot be stored")
        try:
            value = json.loads(value, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise RowError(f"{name}: not valid JSON") from None
    if not isinstance(value, dict):
        raise RowError(f"{name}: must be a JSON object")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 42 else text[:40] + "…'"


def _present(value: Any) -> bool:
    return value is not None and value != ""


# The importers


@dataclass
class _Pending:
    """Rows of the batch being read, and the problems found in it so far."""

    rows: list[tuple[int, dict]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    records: int = 0


class _Importer:
    """Reads records, checks each (`parse`), and writes them a batch at a time (`write`)."""

    columns: frozenset[str]
    required: tuple[str, ...] = ()

    def __init__(
        self,
        workspace: Workspace,
        *,
        batch_size: int = BATCH_SIZE,
        report: Callable[[str], None] = lambda message: None,
        progress: Callable[[int], object] = lambda count: None,
    ):
        self.workspace = workspace
        self.batch_size = batch_size
        self.report = report
        self.progress = progress
        self.summary = Summary()
        self.pending = _Pending()

    def run(self, stream: BinaryIO, fmt: str) -> Summary:
        """Import the stream. Raises ImportStopped if it cannot be read to its end; what
        was read before is written first, and `summary` counts it. Interrupted (Ctrl-C,
        SIGTERM), it finishes what the batches written so far leave to the end."""
        try:
            self._read(stream, fmt)
        except (ImportStopped, KeyboardInterrupt):
            with contextlib.suppress(ImportStopped):  # the first stop is the one to report
                self.finish()
            raise
        self.finish()
        return self.summary

    def _read(self, stream: BinaryIO, fmt: str) -> None:
        records = read_records(
            stream, fmt, columns=self.columns, required=self.required, warn=self.report
        )
        # Closed however reading ends, so that it lets go of the stream before its owner.
        with contextlib.closing(records):
            self._read_records(records)

    def _read_records(self, records: Iterator[Record]) -> None:
        try:
            for record in records:
                pending = self.pending
                pending.records += 1
                if record.error:
                    pending.problems.append((record.line, record.error))
                else:
                    try:
                        pending.rows.append((record.line, self.parse(record.values)))
                    except RowError as error:
                        pending.problems.append((record.line, str(error)))
                if pending.records >= self.batch_size:
                    self._flush()
        except ImportStopped:
            self._flush()
            raise
        self._flush()

    def finish(self) -> None:
        """Write what the batches leave to the end. Raises ImportStopped if it cannot."""

    def parse(self, values: dict[str, Any]) -> dict:
        raise NotImplementedError

    def write(self, rows: list[tuple[int, dict]]) -> list[tuple[int, str]]:
        """Write a batch's rows in one transaction, counting them in `summary`. Returns
        the problems of the rows it refused (line, message)."""
        raise NotImplementedError

    def _flush(self) -> None:
        pending, self.pending = self.pending, _Pending()
        problems = pending.problems
        try:
            if pending.rows:
                problems += self._write_once_more_if_raced(pending.rows)
        except (IntegrityError, DataError) as error:
            self._batch_failed(pending.rows, error)
        except DatabaseError as error:
            self._batch_failed(pending.rows, error)
            raise ImportStopped(pending.rows[0][0], "the database failed; stopped") from error
        finally:
            self.summary.failed += len(problems)
            for line, message in sorted(problems):
                self.report(f"line {line}: {message}")
            self.progress(pending.records)

    def _write_once_more_if_raced(self, rows: list[tuple[int, dict]]) -> list[tuple[int, str]]:
        # Another import of the same rows may have committed some of them since this one
        # looked: the second attempt finds them and skips them.
        try:
            return self.write(rows)
        except IntegrityError:
            self.forget()
            return self.write(rows)

    def forget(self) -> None:
        """Drop what was remembered from the database (it may have changed)."""

    def _batch_failed(self, rows: list[tuple[int, dict]], error: Exception) -> None:
        first, last = rows[0][0], rows[-1][0]
        self.summary.failed += len(rows)
        self.report(
            f"lines {first}-{last}: the batch of {len(rows)} rows was not saved "
            f"({type(error).__name__}: {str(error).strip()[:200]})"
        )


# Activities

# Text columns copied as they are: (column, max_length from the model).
ACTIVITY_TEXT = tuple(
    (name, Activity._meta.get_field(name).max_length)
    for name in (
        "title",
        "actor_name",
        "actor_email",
        "actor_external_id",
        "sub_type",
        "category",
        "status",
        "priority",
        "account_id",
        "opportunity_id",
        "sequence_id",
        "pipeline_stage_id",
        "campaign_id",
        "asset_type",
        "asset_name",
        "channel_id",
        "event_id",
        "object_type",
        "object_id",
        "object_name",
    )
)
ACTIVITY_COLUMNS = frozenset(
    {
        "external_id",
        "type",
        "type_name",
        "occurred_at",
        "ended_at",
        "body",
        "contacts",
        "source",
        "metadata",
        *(name for name, _ in ACTIVITY_TEXT),
    }
)
SOURCES = frozenset(Activity.Source.values)
EXTERNAL_ID_LENGTH = Activity._meta.get_field("external_id").max_length
BODY_LENGTH = Activity._meta.get_field("body").max_length
TYPE_KEY_LENGTH = ActivityType._meta.get_field("key").max_length
# Bodies up to this length are rendered through a cache (of 1,024 bodies, ~1 MB at most).
SHORT_BODY = 500
CONTACT_REF_LENGTH = max(Contact._meta.get_field("external_id").max_length, 36)


class ActivityImporter(_Importer):
    """Activities, each on the timelines of one or more contacts of the workspace.

    Columns: `type` (a key; an unknown key creates its type, named by `type_name` if
    given), `occurred_at` (ISO 8601, UTC when it has no zone), `contacts` (contact ids or
    external ids, separated by `;`), and optionally `external_id`, `ended_at`, `title`,
    `body`, `source` (default "import"), `actor_name`, `category`, `status`, `priority`,
    the references (`campaign_id`, `asset_type`, `asset_name`, `object_type`,
    `object_id`, …) and `metadata` (a JSON object).
    """

    columns = ACTIVITY_COLUMNS
    required = ("type", "occurred_at", "contacts")

    def __init__(self, workspace: Workspace, **options):
        super().__init__(workspace, **options)
        self.type_ids = dict(ActivityType.objects.in_workspace(workspace).values_list("key", "id"))
        self.new_id = _time_ordered_ids()
        # Contact references found in earlier batches, so that most batches need no query.
        self.contact_ids: dict[str, uuid.UUID] = {}
        # The latest time of each contact's entries written, for its last activity time:
        # moved once, at the end (or when this holds too many contacts), since a file in
        # time order would move the same contacts again after every batch.
        self.latest: dict[uuid.UUID, datetime] = {}
        # Files from other tools repeat bodies (templates, "Left a voicemail.").
        self.render_short = functools.lru_cache(maxsize=1024)(render_text)

    def forget(self) -> None:
        self.contact_ids.clear()

    def parse(self, values: dict[str, Any]) -> dict:
        problems = []
        row = {}
        get = values.get
        for name, limit in ACTIVITY_TEXT:
            value = get(name)
            if value is not None and value != "":
                try:
                    row[name] = _text(value, name, limit)
                except RowError as error:
                    problems.append(str(error))
        checks = (
            self._external_id,
            self._times,
            self._body,
            self._source,
            self._metadata,
        )
        for check in checks:
            try:
                check(values, row)
            except RowError as error:
                problems.append(str(error))
        try:
            refs = _contact_refs(get("contacts"))
        except RowError as error:
            problems.append(str(error))
        try:
            key = _type_key(get("type"))
        except RowError as error:
            problems.append(str(error))
        if not problems:
            # Last, so that a row refused for other reasons creates no type.
            try:
                row["type_id"] = self._type_id(key, get("type_name"))
            except RowError as error:
                problems.append(str(error))
        if problems:
            raise RowError("; ".join(problems))
        row["id"] = self.new_id()
        if row.get("actor_name"):
            row["actor_kind"] = Activity.ActorKind.INTEGRATION
        row["contact_refs"] = refs
        return row

    @staticmethod
    def _external_id(values: dict, row: dict) -> None:
        value = values.get("external_id")
        if value is not None and value != "":
            row["external_id"] = _text(value, "external_id", EXTERNAL_ID_LENGTH) or None

    @staticmethod
    def _times(values: dict, row: dict) -> None:
        value = values.get("occurred_at")
        if value is None or value == "":
            raise RowError("occurred_at: required")
        row["occurred_at"] = occurred_at = _moment(value, "occurred_at")
        value = values.get("ended_at")
        if value is not None and value != "":
            ended_at = _moment(value, "ended_at")
            if ended_at < occurred_at:
                raise RowError("ended_at: must not be before occurred_at")
            row["ended_at"] = ended_at

    def _body(self, values: dict, row: dict) -> None:
        value = values.get("body")
        if value is not None and value != "":
            body = _text(value, "body", BODY_LENGTH)
            if body:
                row["body"] = body
                row["body_html"] = (
                    self.render_short(body) if len(body) <= SHORT_BODY else render_text(body)
                )

    @staticmethod
    def _source(values: dict, row: dict) -> None:
        value = values.get("source")
        if value is None or value == "":
            row["source"] = Activity.Source.IMPORT
        elif value in SOURCES:
            row["source"] = value
        else:
            raise RowError(f"source: must be one of {', '.join(sorted(SOURCES))}")

    @staticmethod
    def _metadata(values: dict, row: dict) -> None:
        value = values.get("metadata")
        if value is not None and value != "":
            row["metadata"] = _json_object(value, "metadata")

    def _type_id(self, key: str, name: Any) -> uuid.UUID:
        if key in self.type_ids:
            return self.type_ids[key]
        name = _text(name, "type_name", 100) if _present(name) else ""
        try:
            activity_type = services.activity_type_for(self.workspace, key, name=name)
        except ValidationError as error:
            raise RowError("type: " + " ".join(error.messages)) from None
        self.type_ids[key] = activity_type.pk
        return activity_type.pk

    def write(self, rows: list[tuple[int, dict]]) -> list[tuple[int, str]]:
        found = self.contact_ids
        if missing := {ref for _, row in rows for ref in row["contact_refs"]} - found.keys():
            if len(found) > CONTACT_CACHE:
                found.clear()
            found |= self._find_contacts(missing)
        ready, problems = [], []
        for line, row in rows:
            refs = row["contact_refs"]
            contact_ids = [found.get(ref) for ref in refs]
            if None in contact_ids:
                unknown = [ref for ref, id_ in zip(refs, contact_ids, strict=True) if not id_]
                problems.append(
                    (
                        line,
                        "contacts: no contact of this workspace has the id or external id "
                        + ", ".join(_shown(ref) for ref in unknown),
                    )
                )
                continue
            ready.append(({k: v for k, v in row.items() if k != "contact_refs"}, contact_ids))
        new = services.import_activity_batch(
            workspace=self.workspace, rows=ready, latest=self.latest
        )
        self.summary.imported += new
        self.summary.skipped += len(ready) - new
        if len(self.latest) > CONTACT_CACHE:
            self._write_last_activity()
        return problems

    def finish(self) -> None:
        self._write_last_activity()

    def _write_last_activity(self) -> None:
        try:
            services.advance_last_activity(self.latest)
        except DatabaseError as error:
            raise ImportStopped(
                None, f"the database failed moving contacts' last activity times ({error})"
            ) from error
        self.latest.clear()

    def _find_contacts(self, refs: set[str]) -> dict[str, uuid.UUID]:
        """Each reference's contact, by external id first and then by id (as Eloqua's
        contactId), in one query."""
        as_ids = {}
        for ref in refs:
            if len(ref) >= 32:  # shorter is no UUID (saves the exceptions)
                with contextlib.suppress(ValueError):
                    as_ids[ref] = uuid.UUID(ref)
        by_external_id, ids = {}, set()
        for some in bulk.lists_for_any_of(sorted(refs), bulk.SQLITE_IN_LIST // 2):
            some_ids = [as_ids[ref] for ref in some if ref in as_ids]
            for pk, external_id in (
                Contact.objects.in_workspace(self.workspace)
                .filter(Q(external_id__any_of=some) | Q(pk__any_of=some_ids))
                .order_by()
                .values_list("pk", "external_id")
            ):
                by_external_id[external_id] = pk
                ids.add(pk)
        found = {}
        for ref in refs:
            if ref in by_external_id:
                found[ref] = by_external_id[ref]
            elif as_ids.get(ref) in ids:
                found[ref] = as_ids[ref]
        return found


def _type_key(value: Any) -> str:
    key = _text(value, "type", TYPE_KEY_LENGTH) if _present(value) else ""
    if not key:
        raise RowError("type: required (an activity type key such as call or api:message)")
    return key


def _contact_refs(value: Any) -> list[str]:
    """Contact ids or external ids: `a;b` in CSV; that or a list in JSON."""
    if isinstance(value, str):
        parts = value.split(";")
    elif isinstance(value, list):
        parts = value
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = [value]
    elif value is None:
        parts = []
    else:
        raise RowError("contacts: must be text or a list")
    refs = []
    for part in parts:
        ref = _text(part, "contacts", 10_000)
        if len(ref) > CONTACT_REF_LENGTH:
            raise RowError(f"contacts: {_shown(ref)} is no contact id or external id")
        if ref and ref not in refs:
            refs.append(ref)
    if not refs:
        raise RowError("contacts: required (contact ids or external ids, separated by ';')")
    return refs


def _time_ordered_ids() -> Callable[[], uuid.UUID]:
    """UUIDs laid out as version 7: milliseconds since 1970 in the first 48 bits, a counter
    after them, then random bits, so that each is greater than the one before.

    The indexes on activity ids are then appended to instead of written all over, which
    keeps a big import fast.
    """
    counter = (time.time_ns() // 1_000_000) << 12  # milliseconds, then a 12-bit counter
    bits = random.getrandbits

    def new_id() -> uuid.UUID:
        nonlocal counter
        counter += 1
        return uuid.UUID(
            int=(counter >> 12) << 80 | 0x7 << 76 | (counter & 0xFFF) << 64 | 0b10 << 62 | bits(62)
        )

    return new_id


# Contacts

CONTACT_TEXT = tuple(
    (name, Contact._meta.get_field(name).max_length)
    for name in ("name", "email", "phone", "company", "avatar_url", "external_id")
)
CONTACT_COLUMNS = frozenset({*(name for name, _ in CONTACT_TEXT), "custom_fields"})
_validate_url = URLValidator()


class ContactImporter(_Importer):
    """Contacts. Columns: `name` (required), `email`, `phone`, `company`, `external_id`,
    `avatar_url`, `custom_fields` (a JSON object). `blocked` and `unsubscribed` are not
    importable: each change of them is a timeline entry, made through the services.

    A row whose `external_id` the workspace has is skipped, or with `update`, its
    non-empty values replace the contact's (custom fields are merged key by key).
    """

    columns = CONTACT_COLUMNS
    required = ("name",)

    def __init__(self, workspace: Workspace, *, update: bool = False, **options):
        super().__init__(workspace, **options)
        self.update = update
        if update:
            self.summary.updated = 0

    def finish(self) -> None:
        refresh_search_statistics()

    def parse(self, values: dict[str, Any]) -> dict:
        problems = []
        row = {}
        for name, limit in CONTACT_TEXT:
            value = values.get(name)
            if value is not None and value != "":
                try:
                    value = _text(value, name, limit)
                except RowError as error:
                    problems.append(str(error))
                    continue
                if value:
                    row[name] = value
        if "name" not in row and not any(p.startswith("name:") for p in problems):
            problems.append("name: required")
        if "email" in row:
            try:
                validate_email(row["email"])
            except ValidationError:
                problems.append(f"email: {_shown(row['email'])} is not an email address")
        if "avatar_url" in row:
            try:
                _validate_url(row["avatar_url"])
            except ValidationError:
                problems.append(f"avatar_url: {_shown(row['avatar_url'])} is not a URL")
        value = values.get("custom_fields")
        if value is not None and value != "":
            try:
                row["custom_fields"] = _json_object(value, "custom_fields")
            except RowError as error:
                problems.append(str(error))
        if problems:
            raise RowError("; ".join(problems))
        return row

    def write(self, rows: list[tuple[int, dict]]) -> list[tuple[int, str]]:
        now = timezone.now()
        with transaction.atomic():
            external_ids = list({row["external_id"] for _, row in rows if "external_id" in row})
            existing = {}
            for some in bulk.lists_for_any_of(external_ids):
                for contact in Contact.objects.in_workspace(self.workspace).filter(
                    external_id__any_of=some
                ):
                    existing[contact.external_id] = contact
            new, changed, fields = [], {}, set()
            created = set()  # external ids of this batch's new contacts
            imported = skipped = 0
            for _, row in rows:
                external_id = row.get("external_id")
                contact = existing.get(external_id) if external_id else None
                if contact is None:
                    contact = Contact(workspace=self.workspace, created_at=now, **row)
                    new.append(contact)
                    imported += 1
                    if external_id:
                        existing[external_id] = contact
                        created.add(external_id)
                elif (
                    self.update
                    and external_id not in created
                    and (updated := _changes(contact, row))
                ):
                    fields |= updated
                    changed[contact.pk] = contact
                else:
                    skipped += 1
            Contact.objects.bulk_create(new, batch_size=500)
            if changed:
                for contact in changed.values():
                    contact.updated_at = now
                Contact.objects.bulk_update(
                    list(changed.values()), [*sorted(fields), "updated_at"], batch_size=500
                )
        self.summary.imported += imported
        self.summary.skipped += skipped
        if self.update:
            self.summary.updated += len(changed)
        return []


def _changes(contact: Contact, row: dict) -> set[str]:
    """Apply the row's values to the contact; the names of the fields that changed."""
    changed = set()
    for name, value in row.items():
        if name == "custom_fields":
            value = contact.custom_fields | value
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.add(name)
    return changed


# The commands


class ImportCommand(BaseCommand):
    """What `import_contacts` and `import_activities` share: the arguments, the progress
    bar, the report of bad rows on stderr, and the summary as the last line of stdout."""

    importer: type[_Importer]
    what = "rows"

    def add_arguments(self, parser):
        parser.add_argument("workspace", help="The workspace's id or slug.")
        parser.add_argument("file", help="The file to import; - reads standard input.")
        parser.add_argument(
            "--format",
            choices=sorted(set(FORMATS.values())),
            help="csv or jsonl (JSON Lines). Default: from the file's extension.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"Rows per transaction (default {BATCH_SIZE:,}).",
        )

    def importer_options(self, options: dict) -> dict:
        return {}

    def handle(self, *args, workspace: str, file: str, batch_size: int, **options):
        found = workspace_named(workspace)
        if batch_size < 1:
            raise CommandError("The batch size must be at least 1.")
        if file == "-" and not options["format"]:
            raise CommandError("Reading standard input needs --format csv or --format jsonl.")
        try:
            fmt = format_for(file, options["format"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        try:
            stream = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}") from None

        def report(message: str) -> None:
            with tqdm.external_write_mode(file=sys.stderr):
                self.stderr.write(message)

        # The bar counts records read, on stderr, and shows only when that is a terminal.
        bar = tqdm(unit=f" {self.what}", unit_scale=True, file=sys.stderr, disable=None)

        def progress(count: int) -> None:
            bar.update(count)
            if settings.DEBUG:
                reset_queries()  # else Django keeps every batch's SQL, the ids spelled out

        importer = self.importer(
            found,
            batch_size=batch_size,
            report=report,
            progress=progress,
            **self.importer_options(options),
        )
        # A stop asked for (`kill`, a container's shutdown) ends as Ctrl-C does: the
        # contacts of the rows written get their last activity times.
        on_terminate = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            summary = importer.run(stream, fmt)
        except ImportStopped as stop:
            self.stdout.write(str(importer.summary))
            raise CommandError(str(stop)) from None
        finally:
            signal.signal(signal.SIGTERM, on_terminate)
            bar.close()
            if stream is not sys.stdin.buffer:
                stream.close()
        self.stdout.write(str(summary))
