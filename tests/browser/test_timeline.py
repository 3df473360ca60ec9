"""A person reading a contact's timeline: filters that change the URL, infinite scroll."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from activities import services
from activities.timeline import PAGE_SIZE


def test_filtering_by_type_updates_the_timeline_and_the_url(signed_in_page, live_server, contact):
    for type_key, title in [("call", "Pricing call"), ("email", "Welcome email")]:
        services.log_activity(
            workspace=contact.workspace, type_key=type_key, contacts=[contact], title=title
        )
    page = signed_in_page
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    page.evaluate("window.notReloaded = true")
    page.get_by_text("Filters").click()
    page.locator(".filters").get_by_label("Call", exact=True).check()
    expect(page).to_have_url(re.compile(r"[?&]type=call"))
    expect(page.locator("#timeline")).not_to_contain_text("Welcome email")
    expect(page.locator("#timeline")).to_contain_text("Pricing call")
    assert page.evaluate("window.notReloaded") is True


def test_scrolling_down_loads_older_entries(signed_in_page, live_server, contact):
    start = timezone.now() - timedelta(days=30)
    for index in range(PAGE_SIZE + 15):
        services.log_activity(
            workspace=contact.workspace,
            type_key="call",
            contacts=[contact],
            title=f"Call number {index}",
            occurred_at=start + timedelta(hours=index),
        )
    page = signed_in_page
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    entries = page.locator("#timeline article.entry")
    expect(entries).to_have_count(PAGE_SIZE)
    page.locator(".load-more").scroll_into_view_if_needed()
    expect(entries).to_have_count(PAGE_SIZE + 15)
    expect(page.locator("#timeline")).to_contain_text("Call number 0")
