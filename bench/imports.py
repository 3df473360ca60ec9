"""Import and export: rows per second and peak memory of the management commands.

- `import_contacts` then `import_activities`, from CSV and from JSON Lines, each format
  into its own fresh database (the files are generated once into the data directory);
  every command runs in a subprocess under `/usr/bin/time -v` for its peak RSS.
- The floor: the same activity rows (and their contact links) read from the same CSV
  file and inserted plainly, in batches of the import's size (executemany on SQLite,
  COPY on PostgreSQL), into scratch tables of the same shape (columns and indexes).
- `export_timeline --contact` of the whale of a seeded database, to a file.

    python -m bench.imports --engine sqlite --rows 1000000
    python -m bench.imports --engine postgresql --rows 20000 --export-size quick
"""

import argparse
import csv
import json
import random
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import MANAGE, PYTHON, emit_json, read_json, run_measured, section, table
from bench.data import (
    DATA_DIR,
    PG_URL,
    Dataset,
    Size,
    _remove_sqlite,
    _server,
    add_dataset_args,
    dataset_args,
    dataset_from,
)

GENERATOR = "v1"  # change when the generated files change
WORKSPACE_SLUG = "bench-import"
BATCH_SIZE = 20_000  # activities.importing.BATCH_SIZE
TYPES = ["email", "call", "meeting", "task", "other", "api:message", "external:webinar"]
TITLES = {
    "email": "Following up on our call",
    "call": "Discovery call",
    "meeting": "Quarterly business review",
    "task": "Send the proposal",
    "other": "Visited the pricing page",
    "api:message": "Message in #general",
    "external:webinar": "Attended Webinar: CRM hygiene 101",
}
BODIES = [
    "Walked them through the reporting dashboard; they want exports gone by Q3.",
    "Budget is approved. Legal review of the MSA is the last blocker.",
    "Notes: https://docs.example.com/calls/review\nNext: send the pricing sheet.",
    "No answer. Left a voicemail.",
    "",
]
FIRST = ["Dana", "Marcus", "Priya", "Sofia", "Liam", "Aisha", "Kenji", "Elena", "Mateo"]
LAST = ["Scully", "Reyes", "Patel", "Nguyen", "Kowalski", "Tanaka", "Rossi", "Dubois"]


def contact_ref(n: int) -> str:
    return f"c{n:07d}"


# The files


def files(data_dir: Path, rows: int, contacts: int) -> dict[str, Path]:
    """The generated files (made now if missing): contacts and activities, CSV and JSONL."""
    stem = data_dir / f"import-{GENERATOR}-{rows}-{contacts}"
    paths = {
        f"{what}.{fmt}": Path(f"{stem}-{what}.{fmt}")
        for what in ("contacts", "activities")
        for fmt in ("csv", "jsonl")
    }
    if not all(path.exists() for path in paths.values()):
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_contacts(paths["contacts.csv"], paths["contacts.jsonl"], contacts)
        _write_activities(paths["activities.csv"], paths["activities.jsonl"], rows, contacts)
    return paths


def _write_contacts(csv_path: Path, jsonl_path: Path, count: int) -> None:
    rng = random.Random(7)
    header = ["name", "email", "phone", "company", "external_id", "custom_fields"]
    with _atomic(csv_path) as c, _atomic(jsonl_path) as j:
        writer = csv.writer(c)
        writer.writerow(header)
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            row = {
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}{n}@example.com",
                "phone": f"+1 415-555-{n % 10000:04d}",
                "company": f"Company {n % 997}",
                "external_id": contact_ref(n),
                "custom_fields": {"plan": rng.choice(["Trial", "Pro", "Enterprise"])},
            }
            writer.writerow([*list(row.values())[:5], json.dumps(row["custom_fields"])])
            j.write(json.dumps(row) + "\n")


def _write_activities(csv_path: Path, jsonl_path: Path, count: int, contacts: int) -> None:
    rng = random.Random(8)
    header = [
        "external_id",
        "type",
        "occurred_at",
        "contacts",
        "title",
        "body",
        "actor_name",
        "metadata",
    ]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    step = timedelta(days=700) / count
    with _atomic(csv_path) as c, _atomic(jsonl_path) as j:
        writer = csv.writer(c)
        writer.writerow(header)
        for n in range(count):
            kind = rng.choice(TYPES)
            refs = [contact_ref(rng.randrange(contacts))]
            if rng.random() < 0.1:
                refs.append(contact_ref(rng.randrange(contacts)))
            metadata = {"campaign": f"cmp-{n % 50}", "score": n % 100} if n % 3 == 0 else None
            row = {
                "external_id": f"imp-{n:08d}",
                "type": kind,
                "occurred_at": (start + step * n).isoformat().replace("+00:00", "Z"),
                "contacts": refs,
                "title": TITLES[kind],
                "body": rng.choice(BODIES),
                "actor_name": "Eloqua" if kind.startswith("external:") else "",
                "metadata": metadata,
            }
            cells = list(row.values())
            cells[3] = ";".join(refs)
            cells[7] = json.dumps(metadata) if metadata else ""
            writer.writerow(cells)
            j.write(json.dumps({k: v for k, v in row.items() if v not in ("", None)}) + "\n")


class _atomic:
    """A file written under a temporary name, renamed when complete."""

    def __init__(self, path: Path):
        self.path = path
        self.partial = path.with_name(path.name + ".partial")

    def __enter__(self):
        self.file = open(self.partial, "w", newline="", encoding="utf-8")
        return self.file

    def __exit__(self, kind, value, traceback):
        self.file.close()
        if kind is None:
            self.partial.rename(self.path)
        else:
            self.partial.unlink(missing_ok=True)


# Scratch databases


def scratch(engine: str, label: str, data_dir: Path, pg_url: str, pg_prefix: str) -> Dataset:
    return Dataset(engine, Size(label, 0, 0, 0), data_dir, pg_url, pg_prefix)


def create_empty(db: Dataset) -> None:
    """A fresh, migrated database holding the import's workspace, copied from a template
    made once per schema (migrating costs seconds per database, PostgreSQL more)."""
    template = scratch(db.engine, "empty", db.data_dir, db.pg_url, db.pg_prefix)
    if not template.is_current():
        drop(template)
        _create(template)
        env = template.env()
        run_measured([PYTHON, MANAGE, "migrate", "--noinput", "-v", "0"], env)
        args = ["create_workspace", "Bench import", "--slug", WORKSPACE_SLUG]
        run_measured([PYTHON, MANAGE, *args], env)
        template.write_marker(template.wanted())
    drop(db)
    if db.engine == "postgresql":
        with _server(db.pg_url) as conn:
            conn.execute(f'CREATE DATABASE "{db.pg_name}" TEMPLATE "{template.pg_name}"')
    else:
        shutil.copyfile(template.sqlite_path, db.sqlite_path)


def _create(db: Dataset) -> None:
    if db.engine == "postgresql":
        with _server(db.pg_url) as conn:
            conn.execute(f'CREATE DATABASE "{db.pg_name}"')
    else:
        db.data_dir.mkdir(parents=True, exist_ok=True)


def drop(db: Dataset) -> None:
    if db.engine == "postgresql":
        with _server(db.pg_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db.pg_name}" WITH (FORCE)')
    else:
        _remove_sqlite(db.sqlite_path)


# The floor: a plain bulk insert of the same rows (run inside a Django process)


def floor(path: Path, batch_size: int = BATCH_SIZE) -> dict:
    from django.db import connection, transaction

    from activities.bulk import RowInserter, converters_by_kind
    from activities.models import Activity, ActivityContact, ActivityType
    from contacts.models import Contact, Workspace

    workspace = Workspace.objects.get(slug=WORKSPACE_SLUG)
    types = dict(ActivityType.objects.in_workspace(workspace).values_list("key", "id"))
    other = types["other"]
    contacts = dict(
        Contact.objects.in_workspace(workspace).values_list("external_id", "id").iterator()
    )
    tables = {Activity: "bench_floor_activity", ActivityContact: "bench_floor_link"}
    _create_floor_tables(connection, tables)
    converters = converters_by_kind()
    activities = _retarget(RowInserter(Activity, converters), tables)
    links = _retarget(RowInserter(ActivityContact, converters), tables)
    new_id = _ordered_ids()
    rows = 0
    started = time.perf_counter()
    try:
        with open(path, newline="", encoding="utf-8") as file:
            batch_a, batch_l = [], []
            for record in csv.DictReader(file):
                activity_id = new_id()
                occurred_at = datetime.fromisoformat(record["occurred_at"])
                type_id = types.get(record["type"], other)
                batch_a.append(
                    activities.values(
                        {
                            "id": activity_id,
                            "workspace_id": workspace.pk,
                            "type_id": type_id,
                            "occurred_at": occurred_at,
                            "external_id": record["external_id"],
                            "title": record["title"],
                            "body": record["body"],
                            "body_html": record["body"],
                            "actor_name": record["actor_name"],
                            "metadata": json.loads(record["metadata"] or "{}"),
                        }
                    )
                )
                for ref in dict.fromkeys(record["contacts"].split(";")):
                    batch_l.append(
                        links.values(
                            {
                                "activity_id": activity_id,
                                "contact_id": contacts[ref],
                                "occurred_at": occurred_at,
                                "type_id": type_id,
                            }
                        )
                    )
                rows += 1
                if len(batch_a) >= batch_size:
                    with transaction.atomic():
                        activities.insert(batch_a)
                        links.insert(batch_l)
                    batch_a, batch_l = [], []
            with transaction.atomic():
                activities.insert(batch_a)
                links.insert(batch_l)
        seconds = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            for table in reversed(tables.values()):  # the links refer to the activities
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return {"rows": rows, "seconds": seconds}


def _create_floor_tables(connection, tables: dict) -> None:
    with connection.cursor() as cursor:
        for scratch_table in reversed(tables.values()):
            cursor.execute(f"DROP TABLE IF EXISTS {scratch_table}")
        for model, scratch_table in tables.items():
            source = model._meta.db_table
            if connection.vendor == "postgresql":
                # Columns, defaults, checks and indexes; not the foreign keys.
                cursor.execute(f"CREATE TABLE {scratch_table} (LIKE {source} INCLUDING ALL)")
                continue
            cursor.execute(
                # Tables and indexes, as on PostgreSQL: not the triggers (a plain insert).
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL "
                "AND type IN ('table', 'index') ORDER BY type = 'index'",
                [source],
            )
            for kind, name, ddl in cursor.fetchall():
                for model_, table_ in tables.items():
                    ddl = ddl.replace(f'"{model_._meta.db_table}"', f'"{table_}"')
                if kind == "index":
                    ddl = ddl.replace(f'"{name}"', f'"bench_floor_{name}"', 1)
                cursor.execute(ddl)


def _retarget(inserter, tables: dict):
    for model, scratch_table in tables.items():
        quoted = inserter.connection.ops.quote_name(model._meta.db_table)
        if f"{quoted} (" in inserter.insert_sql:
            inserter.insert_sql = inserter.insert_sql.replace(quoted, scratch_table, 1)
            inserter.copy_sql = inserter.copy_sql.replace(quoted, scratch_table, 1)
    return inserter


def _ordered_ids():
    """UUIDs whose first 48 bits count up, as the import's (appended to the indexes)."""
    base = (time.time_ns() // 1_000_000 % 2**32) << 16
    counter = iter(range(base, 2**48))
    bits = random.getrandbits
    return lambda: uuid.UUID(int=next(counter) << 80 | bits(80), version=4)


# The runs


@dataclass
class Figure:
    what: str
    rows: int
    seconds: float
    peak_mb: float | None
    command: str

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def run_imports(
    engine: str, rows: int, contacts: int, data_dir: Path, pg_url: str, pg_prefix: str, log=print
) -> list[Figure]:
    paths = files(data_dir, rows, contacts)
    figures = []
    for fmt in ("csv", "jsonl"):
        db = scratch(engine, f"import-{fmt}", data_dir, pg_url, pg_prefix)
        log(f"[import] {db.name}: creating an empty database")
        create_empty(db)
        try:
            for what, count in (("contacts", contacts), ("activities", rows)):
                path = paths[f"{what}.{fmt}"]
                args = [f"import_{what}", WORKSPACE_SLUG, str(path)]
                measured = run_measured([PYTHON, MANAGE, *args], db.env())
                summary = measured.stdout.strip().splitlines()[-1]
                if f"imported {count}" not in summary:
                    raise RuntimeError(f"import_{what} {path}: {summary}\n{measured.stderr}")
                log(f"[import] {db.name}: {what} {fmt}: {count / measured.seconds:,.0f} rows/s")
                figures.append(
                    Figure(
                        f"import_{what} {fmt}",
                        count,
                        measured.seconds,
                        measured.max_rss_mb,
                        f"{db.shell_prefix()} .venv/bin/python manage.py {' '.join(args)}",
                    )
                )
            if fmt == "csv":
                args = [
                    "-m",
                    "bench.imports",
                    "--floor",
                    str(paths["activities.csv"]),
                    "--engine",
                    engine,
                    "--data-dir",
                    str(data_dir),
                    "--pg-url",
                    pg_url,
                    "--pg-prefix",
                    pg_prefix,
                ]
                measured = run_measured([PYTHON, *args], db.env())
                result = read_json(measured.stdout)
                log(f"[import] {db.name}: floor: {rows / result['seconds']:,.0f} rows/s")
                figures.append(
                    Figure(
                        "floor: plain insert (csv)",
                        result["rows"],
                        # Reading and inserting; not the start-up, nor creating and
                        # dropping the scratch tables (the commands' start-up is ~1 s).
                        result["seconds"],
                        measured.max_rss_mb,
                        f".venv/bin/python {' '.join(args)}  (after the csv imports)",
                    )
                )
        finally:
            drop(db)
    return figures


def run_export(dataset: Dataset, log=print) -> Figure:
    subjects = read_json(
        run_measured([PYTHON, "-m", "bench.fixtures", *dataset_args(dataset)], base_env()).stdout
    )
    output = dataset.data_dir / f"export-{dataset.engine}-{dataset.size.label}.csv"
    args = [
        "export_timeline",
        subjects["workspace_slug"],
        "--contact",
        subjects["whale_id"],
        "--output",
        str(output),
    ]
    try:
        measured = run_measured([PYTHON, MANAGE, *args], dataset.env())
        with open(output, newline="", encoding="utf-8") as file:
            rows = sum(1 for _ in csv.reader(file)) - 1  # cells may hold line breaks
    finally:
        output.unlink(missing_ok=True)
    log(f"[export] {dataset.name}: {rows / measured.seconds:,.0f} rows/s")
    return Figure(
        f"export_timeline whale ({dataset.size.label})",
        rows,
        measured.seconds,
        measured.max_rss_mb,
        f"{dataset.shell_prefix()} .venv/bin/python manage.py {' '.join(args)}",
    )


def base_env() -> dict[str, str]:
    from bench.common import base_env as env

    return env()


def render(title: str, figures: list[Figure], command: str) -> str:
    rows = [[f.what, f.rows, f.seconds, f.rows_per_s, f.peak_mb] for f in figures]
    body = table(["run", "rows", "seconds", "rows/s", "peak MB"], rows)
    commands = "\n".join(f"  {f.what}: {f.command}" for f in figures)
    return section(title, body + "\n" + commands, command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_args(parser, size=False)
    parser.add_argument("--rows", type=int, default=1_000_000, help="activities to import")
    parser.add_argument("--contacts", type=int, help="contacts to import (default rows/10)")
    parser.add_argument("--export-size", action="append", help="seeded databases to export from")
    parser.add_argument("--floor", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor:  # the floor's own process, started by run_imports
        from bench.fixtures import setup_django

        db = scratch(args.engine, "import-csv", args.data_dir, args.pg_url, args.pg_prefix)
        setup_django(db.env())
        emit_json(floor(args.floor))
        return 0
    contacts = args.contacts or max(1, args.rows // 10)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    figures = run_imports(
        args.engine, args.rows, contacts, args.data_dir, args.pg_url, args.pg_prefix, log=log
    )
    for label in args.export_size or []:
        args.size = label
        figures.append(run_export(dataset_from(args), log=log))
    command = f".venv/bin/python -m bench.imports --engine {args.engine} --rows {args.rows}"
    if args.data_dir != DATA_DIR:
        command += f" --data-dir {args.data_dir}"
    if args.pg_url != PG_URL:
        command += f" --pg-url {args.pg_url}"
    command += "".join(f" --export-size {label}" for label in args.export_size or [])
    print(render(f"Import and export: {args.engine}", figures, command))
    emit_json({"engine": args.engine, "figures": [f.__dict__ for f in figures]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
