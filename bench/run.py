"""Run every benchmark and check the figures against the targets (issue 5).

    python -m bench.run            # full size: 2.2M entries per engine (a long run)
    python -m bench.run --quick    # small sizes, every benchmark, well under 2 minutes
    python -m bench.run --quick --skip load --skip seed --engine sqlite

Each benchmark runs in its own process (the latency ones configure Django for their
database) and prints its table and the command that reproduces it; this runner adds the
growth ratios and the targets, and with --json writes every figure to a file.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bench import data
from bench.common import PYTHON, ROOT, base_env, read_json, run_measured, section, table
from bench.data import FULL, FULL_SMALL, QUICK, QUICK_SMALL, Dataset

PARTS = ("latency", "load", "imports", "seed")
TIMELINE_PAGES = (
    "contact-page",
    "contact-page-whale",
    "timeline-whale-top",
    "timeline-whale-deep",
    "timeline-whale-type",
)


def child(args: list[str]) -> dict:
    """Run a benchmark's module; its tables go to our stdout, its progress to stderr."""
    done = subprocess.run(
        [PYTHON, "-m", *args], cwd=ROOT, env=base_env(), stdout=subprocess.PIPE, text=True
    )
    shown = "\n".join(x for x in done.stdout.splitlines() if not x.startswith("BENCH-JSON "))
    print(shown, flush=True)
    if done.returncode != 0:
        raise RuntimeError(f"python -m {' '.join(args)} failed ({done.returncode})")
    return read_json(done.stdout)


def commit() -> str:
    """The checkout's commit, marked `+changes` when files differ from it (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if status else "")


def growth(big: dict, small: dict) -> dict[str, float]:
    return {
        name: big[name]["median_ms"] / small[name]["median_ms"] for name in big if name in small
    }


def seed_benchmark(engine: str, activities: int, contacts: int, opts) -> dict:
    """seed_demo into a scratch database, timed; the database is dropped afterwards."""
    from bench.imports import create_empty, drop, scratch

    db = scratch(engine, "seed", opts.data_dir, opts.pg_url, opts.pg_prefix)
    create_empty(db)  # (seed_demo adds its own workspace beside the import's)
    try:
        args = ["seed_demo", "--contacts", str(contacts), "--activities", str(activities)]
        measured = run_measured([PYTHON, "manage.py", *args], db.env())
    finally:
        drop(db)
    return {
        "engine": engine,
        "activities": activities,
        "contacts": contacts,
        "seconds": measured.seconds,
        "peak_mb": measured.max_rss_mb,
        "command": f"{db.shell_prefix()} .venv/bin/python manage.py migrate && "
        f"{db.shell_prefix()} .venv/bin/python manage.py {' '.join(args)}",
    }


# The targets


def check(results: dict, quick: bool) -> list[list]:
    """One row per target and engine: what was measured, the target, met or not."""
    rows = []

    def add(engine: str, what: str, value: str, target: str, met: bool) -> None:
        rows.append([engine, what, value, target, "met" if met else "MISSED"])

    for engine, r in results["engines"].items():
        lat = r.get("latency", {}).get("big")
        small = r.get("latency", {}).get("small")
        if lat:
            for name in ("contact-page", "contact-page-whale"):
                m = lat[name]["median_ms"]
                add(engine, f"{name} median", f"{m:.1f} ms", "<= 15 ms", m <= 15)
            deep = lat["timeline-whale-deep"]["median_ms"]
            top = lat["timeline-whale-top"]["median_ms"]
            add(
                engine,
                "whale load-more deep / first page",
                f"{deep / top:.2f}x",
                "<= 1.2x",
                deep / top <= 1.2,
            )
            counts = {lat[n]["queries"] for n in TIMELINE_PAGES}
            if small:
                counts |= {small[n]["queries"] for n in TIMELINE_PAGES}
            add(
                engine,
                "queries per timeline page / load-more",
                "/".join(map(str, sorted(counts))),
                "constant, <= 8",
                len(counts) == 1 and max(counts) <= 8,
            )
            for name in ("invent-first", "invent-deep"):
                m = lat[name]["median_ms"]
                add(engine, f"{name} median", f"{m:.1f} ms", "<= 5 ms", m <= 5)
            m = lat["conquest-create"]["median_ms"]
            add(engine, "conquest-create median", f"{m:.1f} ms", "<= 8 ms", m <= 8)
            for name in ("contacts-search-name", "contacts-search-email"):
                m = lat[name]["median_ms"]
                add(engine, f"{name} median", f"{m:.1f} ms", "<= 30 ms", m <= 30)
        for name, ratio in r.get("growth", {}).items():
            add(engine, f"growth {name}", f"{ratio:.2f}x", "<= 1.3x", ratio <= 1.3)
        if load := r.get("load"):
            errors = sum(x["errors"] for x in load["results"].values())
            add(engine, "errors under load", str(errors), "0", errors == 0)
            for name, share in (
                ("contact-page", 0.05),
                ("contact-page-whale", 0.05),
                ("invent-first", 0.25),
            ):
                of = load["results"][name]["of_healthz"]
                add(
                    engine,
                    f"{name} under load",
                    f"{of:.1%} of healthz",
                    f">= {share:.0%}",
                    of >= share,
                )
        if imports := r.get("imports"):
            figures = {f["what"]: f for f in imports["figures"]}
            floor = figures.get("floor: plain insert (csv)")
            for fmt in ("csv", "jsonl"):
                f = figures[f"import_activities {fmt}"]
                rate = f["rows"] / f["seconds"]
                add(
                    engine,
                    f"import_activities {fmt}",
                    f"{rate:,.0f} rows/s",
                    ">= 20,000/s",
                    rate >= 20_000,
                )
                add(
                    engine,
                    f"import_activities {fmt} peak",
                    f"{f['peak_mb']:.0f} MB",
                    "< 300 MB",
                    f["peak_mb"] < 300,
                )
                if floor:
                    share = rate / (floor["rows"] / floor["seconds"])
                    add(
                        engine,
                        f"import_activities {fmt} / floor",
                        f"{share:.2f}",
                        ">= 0.33",
                        share >= 1 / 3,
                    )
            exports = [f for f in imports["figures"] if f["what"].startswith("export_timeline")]
            if len(exports) == 2:
                big_e, small_e = exports
                growth_mb = big_e["peak_mb"] - small_e["peak_mb"]
                add(
                    engine,
                    "export peak memory, big whale vs small",
                    f"{big_e['peak_mb']:.0f} vs {small_e['peak_mb']:.0f} MB",
                    "flat (+< 20 MB)",
                    growth_mb < 20,
                )
        if (seed := r.get("seed")) and engine == "sqlite":
            add(
                engine,
                f"seed_demo {seed['activities']:,} activities",
                f"{seed['seconds']:.0f} s",
                "< 120 s",
                seed["seconds"] < 120,
            )
    return rows


class Plan:
    """What one engine runs, in order: latency (both sizes) and growth, load, import and
    export, seed. Each part's wall time goes into the results."""

    def __init__(self, opts, quick: bool, big, small, samples: int):
        self.opts, self.quick, self.big, self.small, self.samples = opts, quick, big, small, samples

    def dataset(self, engine: str, size) -> Dataset:
        o = self.opts
        return Dataset(engine, size, o.data_dir, o.pg_url, o.pg_prefix)

    def engine(self, engine: str) -> dict:
        r = {"part_seconds": {}}
        for part in PARTS:
            if part in self.opts.skip or (part == "seed" and engine != "sqlite"):
                continue
            started = time.monotonic()
            getattr(self, part)(engine, r)
            r["part_seconds"][part] = time.monotonic() - started
        return r

    def latency(self, engine: str, r: dict) -> None:
        r["latency"], r["subjects"] = {}, {}
        for key, size in (("big", self.big), ("small", self.small)):
            args = ["bench.latency", *data.dataset_args(self.dataset(engine, size)),
                    "--samples", str(self.samples), "--no-build",
                    "--warmup", "3" if self.quick else "5"]  # fmt: skip
            out = child(args)
            r["latency"][key] = out["results"]
            r["subjects"][key] = out["subjects"]
        r["growth"] = growth(r["latency"]["big"], r["latency"]["small"])
        rows = [
            [
                name,
                r["latency"]["small"][name]["median_ms"],
                r["latency"]["big"][name]["median_ms"],
                ratio,
            ]
            for name, ratio in r["growth"].items()
        ]
        headers = ["request", f"{self.small.label} ms", f"{self.big.label} ms", "ratio"]
        command = " ; ".join(
            ".venv/bin/python -m bench.latency "
            + " ".join(data.dataset_args(self.dataset(engine, s)))
            for s in (self.small, self.big)
        )
        title = f"Growth {self.big.label} / {self.small.label}: {engine}"
        print(section(title, table(headers, rows), command), flush=True)

    def load(self, engine: str, r: dict) -> None:
        args = ["bench.load", *data.dataset_args(self.dataset(engine, self.big)),
                "--duration", "3" if self.quick else "15",
                "--warmup", "0" if self.quick else "2"]  # fmt: skip
        r["load"] = child(args)

    def imports(self, engine: str, r: dict) -> None:
        o = self.opts
        args = ["bench.imports", "--engine", engine,
                "--rows", "20000" if self.quick else "1000000",
                "--data-dir", str(o.data_dir), "--pg-url", o.pg_url, "--pg-prefix", o.pg_prefix,
                "--export-size", self.big.label, "--export-size", self.small.label]  # fmt: skip
        r["imports"] = child(args)

    def seed(self, engine: str, r: dict) -> None:
        activities, contacts = (20_000, 1_000) if self.quick else (1_000_000, 50_000)
        print(f"[seed] {engine}: seed_demo --activities {activities:,}", file=sys.stderr)
        seed = r["seed"] = seed_benchmark(engine, activities, contacts, self.opts)
        headers = ["activities", "contacts", "seconds", "entries/s", "peak MB"]
        row = [seed["activities"], seed["contacts"], seed["seconds"],
               seed["activities"] / seed["seconds"], seed["peak_mb"]]  # fmt: skip
        print(section(f"seed_demo: {engine}", table(headers, [row]), seed["command"]), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI)")
    parser.add_argument("--engine", action="append", choices=data.ENGINES)
    parser.add_argument("--skip", action="append", choices=PARTS, default=[])
    parser.add_argument("--data-dir", type=Path, default=data.DATA_DIR)
    parser.add_argument("--pg-url", default=data.PG_URL)
    parser.add_argument("--pg-prefix", default="trail_bench_")
    parser.add_argument("--samples", type=int, help="timed requests (default 50; quick 30)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the databases")
    parser.add_argument(
        "--json",
        type=Path,
        help="where to write every figure (default: results-<mode>.json in the data directory)",
    )
    opts = parser.parse_args(argv)
    started = time.monotonic()
    quick = opts.quick
    big, small = (QUICK, QUICK_SMALL) if quick else (FULL, FULL_SMALL)
    samples = opts.samples or (30 if quick else 50)
    engines = opts.engine or [
        e for e in data.ENGINES if e == "sqlite" or data.postgres_available(opts.pg_url)
    ]
    if "postgresql" not in engines and not opts.engine:
        print(f"PostgreSQL at {opts.pg_url} is not reachable: SQLite only.", file=sys.stderr)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731

    items = [
        Dataset(e, s, opts.data_dir, opts.pg_url, opts.pg_prefix)
        for e in engines
        for s in (big, small)
    ]
    markers = data.ensure_all(items, rebuild=opts.rebuild, log=log)
    print(data.report(items, markers), flush=True)
    data.collect_static(opts.data_dir)
    results = {
        "mode": "quick" if quick else "full",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "load_average_at_start": os.getloadavg(),
        "databases": markers,
    }
    plan = Plan(opts, quick, big, small, samples)
    if quick and len(engines) > 1:
        # Side by side: quick figures check the harness, they are not for reading.
        with ThreadPoolExecutor(max_workers=len(engines)) as pool:
            done = dict(zip(engines, pool.map(plan.engine, engines), strict=True))
    else:
        done = {engine: plan.engine(engine) for engine in engines}
    results["engines"] = done
    rows = check(results, quick)
    results["targets"] = rows
    note = "\n(quick: small sizes, engines side by side; the targets are for the full run)"
    note = note if quick else ""
    command = ".venv/bin/python -m bench.run" + (" --quick" if quick else "")
    print(
        section(
            "Targets", table(["engine", "what", "measured", "target", ""], rows) + note, command
        )
    )
    elapsed = time.monotonic() - started
    results["seconds"] = elapsed
    parts = "; ".join(
        f"{engine}: " + ", ".join(f"{k} {v:.0f} s" for k, v in r["part_seconds"].items())
        for engine, r in results["engines"].items()
    )
    print(f"Wall time per part: {parts}")
    results["load_average_at_end"] = os.getloadavg()
    start, end = (
        " ".join(f"{x:.2f}" for x in results[f"load_average_at_{when}"])
        for when in ("start", "end")
    )
    print(f"Load average (1, 5, 15 min) at start: {start}, at end: {end}")
    print(f"All benchmarks: {elapsed:.0f} s, at commit {results['commit']}")
    path = opts.json or opts.data_dir / f"results-{results['mode']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"Figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
