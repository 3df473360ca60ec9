"""In-process latency: Django's test client against a benchmark database, DEBUG off.

Each request is made a few times to warm up (the SQL queries are counted on those, with
CaptureQueriesContext), then timed `--samples` times without query capture; the table
gives the median, p95 and the queries per request.

    python -m bench.latency --engine sqlite --size 2m
    python -m bench.latency --engine postgresql --size 2m --only contact-page-whale
    pyinstrument -m bench.latency --engine sqlite --size 2m --only contacts-search-name \\
        --samples 200        # where the time goes (pip install pyinstrument)
"""

import argparse
import itertools
import json
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from bench.common import emit_json, median, percentile, section, table

WARMUP = 5
ENTRY = re.compile(rb'<article class="entry')


@dataclass(frozen=True)
class Probe:
    name: str
    title: str
    # (client, api client, subjects, serial number) -> response
    call: Callable
    check: Callable  # response -> number of entries/items shown
    status: int = 200


def _html_entries(response) -> int:
    return len(ENTRY.findall(response.content))


def _json_items(response) -> int:
    return len(json.loads(response.content))


def _json_created(response) -> int:
    return int(bool(json.loads(response.content)["activity"]["id"]))


MATCHES = re.compile(rb"<strong>([\d,]+\+?)</strong> contact")


def _contacts_found(response) -> int:
    """The number of contacts found (the page shows the first 50)."""
    match = MATCHES.search(response.content)
    return int(match.group(1).rstrip(b"+").replace(b",", b"")) if match else 0


def _htmx(target: str | None = None) -> dict:
    headers = {"HX-Request": "true"}
    if target:
        headers["HX-Target"] = target
    return headers


def _invent(s: dict, deep: bool) -> str:
    query = {"take": 50} | ({"next": s["deep_cursor"]} if deep else {})
    return f"/orgs/{s['workspace_id']}/contacts/{s['whale_id']}/activities?{urlencode(query)}"


def _conquest(client, api, s: dict, n: int):
    body = {
        "activityTypeKey": "api:message",
        "memberId": s["normal_id"],
        "externalId": f"bench-latency-{s['run']}-{n}",
        "title": "Message in #general",
        "message": "Posted by the benchmark: https://example.com/bench",
        "channelId": "bench",
    }
    return api.post(
        "/v1/activities",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {s['write_token']}"},
    )


PROBES = [
    Probe(
        "contact-page",
        "Contact page, first 50 entries (normal contact)",
        lambda c, api, s, n: c.get(f"/contacts/{s['normal_id']}/"),
        _html_entries,
    ),
    Probe(
        "contact-page-whale",
        "Contact page, first 50 entries (whale)",
        lambda c, api, s, n: c.get(f"/contacts/{s['whale_id']}/"),
        _html_entries,
    ),
    Probe(
        "timeline-whale-top",
        "Whale timeline fragment, first page (htmx)",
        lambda c, api, s, n: c.get(f"/contacts/{s['whale_id']}/timeline/", headers=_htmx()),
        _html_entries,
    ),
    Probe(
        "timeline-whale-deep",
        "Whale load-more, cursor at the depth (htmx)",
        lambda c, api, s, n: c.get(
            f"/contacts/{s['whale_id']}/timeline/?{urlencode({'cursor': s['deep_cursor']})}",
            headers=_htmx(),
        ),
        _html_entries,
    ),
    Probe(
        "timeline-whale-type",
        "Whale timeline filtered by one type (htmx)",
        lambda c, api, s, n: c.get(
            f"/contacts/{s['whale_id']}/?{urlencode({'type': s['filter_type']})}",
            headers=_htmx("timeline"),
        ),
        _html_entries,
    ),
    Probe(
        "contacts-search-name",
        "Contacts list searched by a name fragment (htmx)",
        lambda c, api, s, n: c.get(
            f"/contacts/?{urlencode({'q': s['search_name']})}", headers=_htmx("contact-results")
        ),
        _contacts_found,
    ),
    Probe(
        "contacts-search-email",
        "Contacts list searched by an email prefix (htmx)",
        lambda c, api, s, n: c.get(
            f"/contacts/?{urlencode({'q': s['search_email']})}", headers=_htmx("contact-results")
        ),
        _contacts_found,
    ),
    Probe(
        "feed",
        "Activity feed, first page",
        lambda c, api, s, n: c.get("/activities/"),
        _html_entries,
    ),
    Probe(
        "invent-first",
        "Invent list take=50, first page",
        lambda c, api, s, n: api.get(
            _invent(s, deep=False), headers={"Authorization": f"Bearer {s['read_token']}"}
        ),
        _json_items,
    ),
    Probe(
        "invent-deep",
        "Invent list take=50, next= at the depth",
        lambda c, api, s, n: api.get(
            _invent(s, deep=True), headers={"Authorization": f"Bearer {s['read_token']}"}
        ),
        _json_items,
    ),
    Probe("conquest-create", "Conquest POST /v1/activities", _conquest, _json_created),
]
PROBE_NAMES = [probe.name for probe in PROBES]


def measure(
    subjects: dict, *, samples: int, only: list[str] | None, warmup: int = WARMUP, log=print
) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username=subjects["username"]))
    api = Client()
    serial = itertools.count()
    results = {}
    try:
        for probe in PROBES:
            if only and probe.name not in only:
                continue
            queries = []
            shown = 0
            for _ in range(max(1, warmup)):
                with CaptureQueriesContext(connection) as captured:
                    response = probe.call(client, api, subjects, next(serial))
                if response.status_code != probe.status:
                    raise RuntimeError(
                        f"{probe.name}: status {response.status_code}, expected {probe.status}:"
                        f"\n{response.content[:2000]!r}"
                    )
                queries.append(len(captured))
                shown = probe.check(response)
            timings = []
            size = len(response.content)
            for _ in range(samples):
                started = time.perf_counter()
                response = probe.call(client, api, subjects, next(serial))
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != probe.status:
                    raise RuntimeError(f"{probe.name}: status {response.status_code}")
            results[probe.name] = {
                "title": probe.title,
                "median_ms": median(timings),
                "p95_ms": percentile(timings, 0.95),
                "min_ms": min(timings),
                # The last warm-up's: the first ones also write the session's workspace
                # and the token's last use, which later requests do not.
                "queries": queries[-1],
                "queries_warmup": queries,
                "shown": shown,
                "bytes": size,
                "samples": samples,
            }
            log(
                f"[latency] {probe.name}: median {results[probe.name]['median_ms']:.1f} ms, "
                f"{queries[-1]} queries (warm-up: {queries})"
            )
    finally:
        from bench.fixtures import cleanup

        session_key = client.session.session_key
        cleanup([subjects["normal_id"]], [session_key] if session_key else [])
    return results


def render(name: str, results: dict, subjects: dict, command: str) -> str:
    rows = [
        [
            key,
            r["median_ms"],
            r["p95_ms"],
            r["queries"],
            r["shown"],
            r["bytes"] / 1024,
        ]
        for key, r in results.items()
    ]
    headers = ["request", "median ms", "p95 ms", "queries", "entries", "KB"]
    note = (
        f"whale: {subjects['whale_entries']:,} entries; normal contact: "
        f"{subjects['normal_entries']:,}; depth {subjects['depth']:,}; "
        f"{subjects['contacts']:,} contacts; samples {next(iter(results.values()))['samples']}"
        if results
        else ""
    )
    return section(f"In-process latency: {name}", table(headers, rows) + "\n" + note, command)


def main(argv: list[str] | None = None) -> int:
    from bench.data import add_dataset_args, collect_static, dataset_args, dataset_from
    from bench.fixtures import find_subjects, issue_token, setup_django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_args(parser)
    parser.add_argument("--samples", type=int, default=50, help="timed requests (>= 30)")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="requests before timing")
    parser.add_argument("--depth", type=int, help="default: half the whale's entries")
    parser.add_argument("--only", action="append", choices=PROBE_NAMES)
    parser.add_argument("--no-build", action="store_true", help="fail if the data is missing")
    args = parser.parse_args(argv)
    dataset = dataset_from(args)
    if args.no_build:
        if not dataset.is_current():
            raise SystemExit(f"{dataset.name} is missing or stale: python -m bench.data")
    else:
        dataset.ensure(log=lambda m: print(m, file=sys.stderr))
    collect_static(dataset.data_dir)
    setup_django(dataset.env())
    from dataclasses import asdict

    subjects = asdict(find_subjects(args.depth or dataset.size.whale // 2))
    subjects["read_token"] = issue_token(subjects["workspace_id"], "read")
    subjects["write_token"] = issue_token(subjects["workspace_id"], "write")
    subjects["run"] = uuid.uuid4().hex[:8]
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    results = measure(subjects, samples=args.samples, only=args.only, warmup=args.warmup, log=log)
    command = f".venv/bin/python -m bench.latency {' '.join(dataset_args(dataset))}"
    if args.samples != 50:
        command += f" --samples {args.samples}"
    print(render(dataset.name, results, subjects, command))
    public = {k: v for k, v in subjects.items() if not k.endswith("_token")}
    emit_json({"dataset": dataset.name, "subjects": public, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
