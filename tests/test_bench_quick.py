"""The benchmark suite's quick mode runs, so that bench/ does not rot between full runs.

It runs the in-process part (latency, growth, import and export) at the quick sizes on
the engine of this test run (PostgreSQL when DATABASE_URL names one, else SQLite) in
scratch databases, and checks that every named request and command produced figures.
It never checks how fast they were: performance does not live in timed tests.
"""

import json
import os
from collections.abc import Iterator

import psycopg
import pytest

from bench import run
from bench.data import QUICK, QUICK_SMALL, Dataset
from bench.imports import scratch
from bench.latency import PROBE_NAMES

PG_PREFIX = "test_trail_bench_"


@pytest.fixture
def engine_options(tmp_path) -> Iterator[tuple[str, list[str]]]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield "sqlite", ["--engine", "sqlite", "--data-dir", str(tmp_path)]
        return
    server = url.rsplit("/", 1)[0]
    options = ["--data-dir", str(tmp_path), "--pg-url", server, "--pg-prefix", PG_PREFIX]
    yield "postgresql", ["--engine", "postgresql", *options]
    names = [Dataset("postgresql", size, tmp_path, server, PG_PREFIX).pg_name
             for size in (QUICK, QUICK_SMALL)]  # fmt: skip
    names += [
        scratch("postgresql", label, tmp_path, server, PG_PREFIX).pg_name
        for label in ("import-csv", "import-jsonl", "empty")
    ]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_quick_mode_measures_every_request_import_and_export(engine_options, tmp_path, capsys):
    engine, options = engine_options
    output = tmp_path / "results.json"

    run.main(["--quick", "--skip", "load", "--skip", "seed", "--json", str(output), *options])

    results = json.loads(output.read_text())["engines"][engine]
    for size in ("big", "small"):
        latency = results["latency"][size]
        assert sorted(latency) == sorted(PROBE_NAMES)
        for name, figures in latency.items():
            assert figures["samples"] >= 30, name
            assert 0 < figures["median_ms"] <= figures["p95_ms"], name
            assert figures["queries"] > 0, name
            assert figures["shown"] > 0, name  # the page had entries, contacts or items
    assert sorted(results["growth"]) == sorted(PROBE_NAMES)
    figures = {f["what"]: f for f in results["imports"]["figures"]}
    assert sorted(figures) == sorted(
        [
            "import_contacts csv",
            "import_activities csv",
            "floor: plain insert (csv)",
            "import_contacts jsonl",
            "import_activities jsonl",
            f"export_timeline whale ({QUICK.label})",
            f"export_timeline whale ({QUICK_SMALL.label})",
        ]
    )
    for what, f in figures.items():
        assert f["rows"] > 0 and f["seconds"] > 0 and f["peak_mb"], what
    printed = capsys.readouterr().out
    assert "reproduce: .venv/bin/python -m bench.latency" in printed
    assert "== Targets ==" in printed
