"""Helpers every benchmark shares: subprocesses under /usr/bin/time, tables, statistics."""

import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
TIME = "/usr/bin/time"


@dataclass
class Measured:
    """A finished subprocess: how long it took, its peak memory and its output."""

    seconds: float
    max_rss_mb: float | None
    stdout: str
    stderr: str


def run_measured(args: Sequence[str], env: Mapping[str, str], *, cwd: Path = ROOT) -> Measured:
    """Run a command to the end under `/usr/bin/time -v`; raise if it fails."""
    timed = Path(TIME).exists()
    report = None
    command = list(args)
    if timed:
        report_fd, report_name = _tempfile()
        report = Path(report_name)
        os.close(report_fd)
        command = [TIME, "-v", "-o", str(report), *command]
    started = time.perf_counter()
    done = subprocess.run(command, env=dict(env), cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    rss = None
    if report is not None:
        text = report.read_text()
        report.unlink()
        if match := re.search(r"Maximum resident set size \(kbytes\): (\d+)", text):
            rss = int(match.group(1)) / 1024
    if done.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return Measured(seconds, rss, done.stdout, done.stderr)


def _tempfile() -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(prefix="bench-time-", suffix=".txt")


def base_env(**overrides: str | None) -> dict[str, str]:
    """This process's environment with `overrides` (None removes a variable)."""
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (p95: the value 95% of the samples are at or below)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil
    return ordered[int(rank) - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) or value is None


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def section(title: str, body: str, command: str) -> str:
    """A benchmark's printed output: its title, its table, and how to run it again."""
    return f"\n== {title} ==\n{body}\nreproduce: {command}\n"


def emit_json(payload: object) -> None:
    """How a benchmark subprocess hands its figures to the runner: one marked stdout line."""
    print("BENCH-JSON " + json.dumps(payload), flush=True)


def read_json(stdout: str) -> object:
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCH-JSON "):
            return json.loads(line.removeprefix("BENCH-JSON "))
    raise RuntimeError(f"no figures in the benchmark's output:\n{stdout[-2000:]}")
