"""The timeline's pages are index range scans: the database reads a page's entries in
order from an index and stops, instead of sorting all of a contact's entries.

Each test captures the page query that a request really runs and asks the database for
its plan. On PostgreSQL, sequential scans and sorts are made a last resort, so that the
plan shows what the indexes allow whatever the size of the test data (a few hundred rows,
which a sort would otherwise serve as well): a query that no index can serve in order
still shows its Sort.
"""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.timeline_html import load_more_url

PAGE_QUERY = re.compile(r'FROM "activities_activity(contact)?" .* ORDER BY .* LIMIT', re.S)


def page_query(make_request) -> str:
    with CaptureQueriesContext(connection) as captured:
        response = make_request()
    assert response.status_code == 200
    found = [query["sql"] for query in captured if PAGE_QUERY.search(query["sql"])]
    assert found, "no page query"
    return found[0]


def main_plan(sql: str) -> tuple[list[str], list[str]]:
    """The plan's node types and the indexes they use, outside correlated subqueries
    (each entry's other contacts and attachments, a few rows each)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            nodes = list(_nodes(plan[0]["Plan"]))
            return [node["Node Type"] for node in nodes], [
                node["Index Name"] for node in nodes if "Index Name" in node
            ]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        rows = cursor.fetchall()
    top = _sqlite_top_level(rows)
    return [detail for _, _, _, detail in top], [
        match.group(1)
        for _, _, _, detail in top
        if (match := re.search(r"USING (?:COVERING )?INDEX (\w+)", detail))
    ]


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        if child.get("Parent Relationship") not in ("SubPlan", "InitPlan"):
            yield from _nodes(child)


def _sqlite_top_level(rows):
    """SQLite's plan rows outside subqueries (whose rows hang below a SUBQUERY row)."""
    inside = set()
    for node_id, parent, _, detail in rows:
        if parent in inside or "SUBQUERY" in detail:
            inside.add(node_id)
    return [row for row in rows if row[0] not in inside]


def assert_index_range_scan(sql: str, index: str) -> None:
    nodes, indexes = main_plan(sql)
    assert index in indexes, (nodes, indexes)
    assert not [node for node in nodes if "Sort" in node or "ORDER BY" in node], nodes


def test_contact_page_reads_the_timeline_index(owner_client, long_timeline):
    url = reverse("contact-detail", args=[long_timeline.pk])
    assert_index_range_scan(page_query(lambda: owner_client.get(url)), "timeline_contact")


def test_load_more_deep_down_reads_the_timeline_index(owner_client, long_timeline):
    first = owner_client.get(reverse("contact-detail", args=[long_timeline.pk]))
    sql = page_query(lambda: owner_client.get(load_more_url(first), headers={"HX-Request": "true"}))
    assert_index_range_scan(sql, "timeline_contact")


def test_a_type_filter_reads_the_timeline_type_index(owner_client, long_timeline):
    url = reverse("contact-detail", args=[long_timeline.pk])
    sql = page_query(
        lambda: owner_client.get(
            url, {"type": "email"}, headers={"HX-Request": "true", "HX-Target": "timeline"}
        )
    )
    assert_index_range_scan(sql, "timeline_contact_type")


def test_the_feed_reads_the_feed_index(owner_client, long_timeline):
    sql = page_query(lambda: owner_client.get(reverse("activity-feed")))
    assert_index_range_scan(sql, "activity_feed")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
@pytest.mark.parametrize("view", ["contact-detail", "activity-feed"])
def test_each_entry_s_replies_and_reactions_are_probed_not_hashed(
    owner_client, long_timeline, view
):
    """Whether an entry has replies or reactions is one index probe for it: an EXISTS
    could be planned as a hash of every reply in the table (at 22,000 entries it was, and
    took 20 ms of a 21 ms page query). Asked with the planner's own settings."""
    args = [long_timeline.pk] if view == "contact-detail" else []
    sql = page_query(lambda: owner_client.get(reverse(view, args=args)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE activities_activity")
        cursor.execute(f"EXPLAIN (VERBOSE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    hashed = set(re.findall(r"hashed (SubPlan \d+)", json.dumps(plan)))
    scanned = [
        node.get("Relation Name")
        for subplan in _all_nodes(plan[0]["Plan"])
        if subplan.get("Subplan Name") in hashed
        for node in _all_nodes(subplan)
    ]
    assert "activities_activity" not in scanned, scanned


def _all_nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _all_nodes(child)
