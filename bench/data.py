"""The benchmark databases: built once with seed_demo, reused while size and schema match.

Each database lives outside the repository: a SQLite file under the data directory
(`BENCH_DATA_DIR`, default ~/bench-data) and a PostgreSQL database on `BENCH_PG_URL`
(default postgres://postgres@127.0.0.1:5432). Beside each one is a marker with the size it
was built at and a fingerprint of the migrations: a JSON file next to the SQLite file, a
comment on the PostgreSQL database. A database whose marker does not match is rebuilt.
A build goes to a temporary name first and is renamed when complete, so an interrupted
build is never mistaken for a finished one.

    python -m bench.data --full          # build (or check) the full-size databases
    python -m bench.data --quick --rebuild
"""

import argparse
import hashlib
import json
import os
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from bench.common import MANAGE, PYTHON, ROOT, base_env, run_measured, section, table

ENGINES = ("sqlite", "postgresql")
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", Path.home() / "bench-data"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")


@dataclass(frozen=True)
class Size:
    label: str
    contacts: int
    activities: int
    whale: int
    seed: int = 1

    def seed_args(self) -> list[str]:
        return [
            *("--contacts", str(self.contacts)),
            *("--activities", str(self.activities)),
            *("--whale-activities", str(self.whale)),
            *("--seed", str(self.seed)),
        ]


# The full run: the sizes, and one a hundredth of them for the growth ratio.
FULL = Size("2m", contacts=100_000, activities=2_000_000, whale=200_000)
FULL_SMALL = Size("20k", contacts=1_000, activities=20_000, whale=2_000)
# The quick run (CI): the same shape, small.
QUICK = Size("quick", contacts=2_000, activities=20_000, whale=5_000)
QUICK_SMALL = Size("quick-small", contacts=200, activities=2_000, whale=500)
SIZES = {size.label: size for size in (FULL, FULL_SMALL, QUICK, QUICK_SMALL)}


def django_env(data_dir: Path = DATA_DIR, **overrides: str | None) -> dict[str, str]:
    """Production settings as the benchmarks run them (plain http on loopback)."""
    return base_env(
        DJANGO_SETTINGS_MODULE="bench.settings",
        BENCH_STATIC_ROOT=str(data_dir / "static"),
        DEBUG="false",
        SECRET_KEY="bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        LOG_LEVEL="WARNING",
        **overrides,
    )


def schema_fingerprint() -> str:
    """Django's version and the contents of the project's migrations."""
    import django

    digest = hashlib.sha256(django.__version__.encode())
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Dataset:
    engine: str
    size: Size
    data_dir: Path = DATA_DIR
    pg_url: str = PG_URL
    pg_prefix: str = "trail_bench_"

    @property
    def name(self) -> str:
        return f"{self.engine}/{self.size.label}"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / f"bench-{self.size.label}.sqlite3"

    @property
    def pg_name(self) -> str:
        return self.pg_prefix + self.size.label.replace("-", "_")

    def env(self, name: str | None = None) -> dict[str, str]:
        """The environment a Django process needs to use this database (or `name`)."""
        if self.engine == "sqlite":
            path = self.data_dir / name if name else self.sqlite_path
            return django_env(self.data_dir, DATABASE_URL=None, SQLITE_PATH=str(path))
        return django_env(self.data_dir, DATABASE_URL=f"{self.pg_url}/{name or self.pg_name}")

    def shell_prefix(self) -> str:
        """The variables to put before a command to use this database from a shell."""
        if self.engine == "sqlite":
            return f"SQLITE_PATH={shlex.quote(str(self.sqlite_path))}"
        return f"DATABASE_URL={shlex.quote(self.pg_url + '/' + self.pg_name)}"

    def wanted(self) -> dict:
        return {"size": asdict(self.size), "fingerprint": schema_fingerprint()}

    # Markers

    def marker(self) -> dict | None:
        if self.engine == "sqlite":
            path = self.sqlite_path.with_name(self.sqlite_path.name + ".json")
            if not (path.exists() and self.sqlite_path.exists()):
                return None
            return json.loads(path.read_text())
        with _server(self.pg_url) as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [self.pg_name],
            ).fetchone()
        if not row or not row[0]:
            return None
        try:
            return json.loads(row[0])
        except ValueError:
            return None

    def is_current(self) -> bool:
        marker = self.marker()
        wanted = self.wanted()
        return bool(marker) and all(marker.get(k) == v for k, v in wanted.items())

    # Building

    def ensure(self, *, rebuild: bool = False, log=print) -> dict:
        """The marker of a database of this size and schema, built now if needed."""
        if not rebuild and self.is_current():
            marker = self.marker() or {}
            log(f"[data] {self.name}: reusing the database built {marker.get('built_at')}")
            return marker | {"reused": True}
        log(f"[data] {self.name}: building ({self.size})...")
        marker = self._build()
        log(
            f"[data] {self.name}: built in {marker['seed_seconds']:.0f}s "
            f"(seed_demo, peak {marker['seed_max_rss_mb']:.0f} MB)"
        )
        return marker | {"reused": False}

    def _build(self) -> dict:
        building = f"{self.size.label}-building"
        if self.engine == "sqlite":
            self.data_dir.mkdir(parents=True, exist_ok=True)
            target = self.data_dir / f"bench-{building}.sqlite3"
            _remove_sqlite(target)
            env = self.env(target.name)
        else:
            target_db = self.pg_name + "_building"
            with _server(self.pg_url) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(target_db)
                    )
                )
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target_db)))
            env = self.env(target_db)
        migrate = run_measured([PYTHON, MANAGE, "migrate", "--noinput", "-v", "0"], env)
        seed = run_measured([PYTHON, MANAGE, "seed_demo", *self.size.seed_args()], env)
        marker = self.wanted() | {
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "migrate_seconds": round(migrate.seconds, 1),
            "seed_seconds": round(seed.seconds, 1),
            "seed_max_rss_mb": round(seed.max_rss_mb or 0, 1),
            "entries": self.size.activities + self.size.whale,
        }
        if self.engine == "sqlite":
            _remove_sqlite(self.sqlite_path)
            target.rename(self.sqlite_path)
            marker["bytes"] = self.sqlite_path.stat().st_size
            self.write_marker(marker)
        else:
            # What autovacuum does soon after a bulk load; done now so that every run
            # measures the same planner statistics and visibility map.
            with psycopg.connect(f"{self.pg_url}/{target_db}", autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE)")
            with _server(self.pg_url) as conn:
                name = sql.Identifier(self.pg_name)
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
                conn.execute(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(target_db), name
                    )
                )
                marker["bytes"] = conn.execute(
                    "SELECT pg_database_size(%s)", [self.pg_name]
                ).fetchone()[0]
            self.write_marker(marker)
        return marker

    def write_marker(self, marker: dict) -> None:
        if self.engine == "sqlite":
            path = self.sqlite_path.with_name(self.sqlite_path.name + ".json")
            path.write_text(json.dumps(marker, indent=2) + "\n")
            return
        with _server(self.pg_url) as conn:
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(self.pg_name), sql.Literal(json.dumps(marker))
                )
            )

    def reproduce_build(self) -> str:
        args = " ".join(self.size.seed_args())
        return (
            f"{self.shell_prefix()} .venv/bin/python manage.py migrate && "
            f"{self.shell_prefix()} .venv/bin/python manage.py seed_demo {args}"
        )


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".json"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _server(url: str) -> psycopg.Connection:
    return psycopg.connect(f"{url}/postgres", autocommit=True, connect_timeout=5)


def postgres_available(url: str = PG_URL) -> bool:
    try:
        _server(url).close()
    except psycopg.OperationalError:
        return False
    return True


def add_dataset_args(parser: argparse.ArgumentParser, *, size: bool = True) -> None:
    """The options that name a benchmark database (shared by every benchmark's command)."""
    parser.add_argument("--engine", choices=ENGINES, default="sqlite")
    if size:
        parser.add_argument("--size", choices=sorted(SIZES), default=FULL.label)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="default: %(default)s")
    parser.add_argument("--pg-url", default=PG_URL, help="the server (default: %(default)s)")
    parser.add_argument("--pg-prefix", default="trail_bench_", help="of database names")


def dataset_from(args: argparse.Namespace, size: Size | None = None) -> Dataset:
    return Dataset(
        args.engine, size or SIZES[args.size], args.data_dir, args.pg_url, args.pg_prefix
    )


def dataset_args(dataset: Dataset) -> list[str]:
    """The options that name `dataset`, for a command line."""
    args = ["--engine", dataset.engine, "--size", dataset.size.label]
    if dataset.data_dir != DATA_DIR:
        args += ["--data-dir", str(dataset.data_dir)]
    if dataset.engine == "postgresql" and dataset.pg_url != PG_URL:
        args += ["--pg-url", dataset.pg_url]
    if dataset.engine == "postgresql" and dataset.pg_prefix != "trail_bench_":
        args += ["--pg-prefix", dataset.pg_prefix]
    return args


def collect_static(data_dir: Path = DATA_DIR) -> None:
    """Hashed, compressed static files for DEBUG=false (incremental after the first run)."""
    env = django_env(data_dir, DATABASE_URL=None, SQLITE_PATH=str(data_dir / "unused.sqlite3"))
    data_dir.mkdir(parents=True, exist_ok=True)
    run_measured([PYTHON, MANAGE, "collectstatic", "--noinput", "-v", "0"], env)


def datasets(engines: list[str], sizes: list[Size]) -> list[Dataset]:
    return [Dataset(engine, size) for engine in engines for size in sizes]


def ensure_all(items: list[Dataset], *, rebuild: bool = False, log=print) -> dict[str, dict]:
    """Build what is missing: the two engines side by side, sizes one after another."""

    def one_engine(engine: str) -> dict[str, dict]:
        return {d.name: d.ensure(rebuild=rebuild, log=log) for d in items if d.engine == engine}

    engines = sorted({d.engine for d in items})
    with ThreadPoolExecutor(max_workers=len(engines) or 1) as pool:
        results = list(pool.map(one_engine, engines))
    return {name: marker for result in results for name, marker in result.items()}


def report(items: list[Dataset], markers: dict[str, dict]) -> str:
    rows = []
    for d in items:
        m = markers[d.name]
        entries = m.get("entries", d.size.activities + d.size.whale)
        rows.append(
            [
                d.name,
                d.size.contacts,
                entries,
                d.size.whale,
                m.get("seed_seconds"),
                entries / m["seed_seconds"] if m.get("seed_seconds") else None,
                m.get("seed_max_rss_mb"),
                (m.get("bytes") or 0) / 2**20,
                "reused" if m.get("reused") else "built now",
            ]
        )
    headers = [
        "database",
        "contacts",
        "entries",
        "whale",
        "seed s",
        "entries/s",
        "peak MB",
        "size MB",
        "state",
    ]
    commands = "; ".join(d.reproduce_build() for d in items)
    return section("Benchmark databases (seed_demo)", table(headers, rows), commands)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the quick run's sizes")
    parser.add_argument("--full", action="store_true", help="the full run's sizes (default)")
    parser.add_argument("--engine", action="append", choices=ENGINES)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    sizes = [QUICK, QUICK_SMALL] if args.quick else [FULL, FULL_SMALL]
    engines = args.engine or [e for e in ENGINES if e == "sqlite" or postgres_available()]
    items = datasets(engines, sizes)
    started = time.monotonic()
    markers = ensure_all(items, rebuild=args.rebuild, log=lambda m: print(m, flush=True))
    print(report(items, markers))
    print(f"({time.monotonic() - started:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
