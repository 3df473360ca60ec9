"""What a person does all day: find a contact, add a note, log a meeting, block."""

import re

from playwright.sync_api import expect

from activities.models import Activity
from contacts.models import Contact


def test_search_a_contact_and_open_it(signed_in_page, live_server, contact, workspace):
    Contact.objects.create(workspace=workspace, name="Walter Skinner", company="FBI")
    page = signed_in_page
    page.get_by_role("link", name="Contacts").click()
    page.get_by_label("Search contacts").fill("scul")
    expect(page).to_have_url(re.compile(r"[?&]q=scul"))
    results = page.locator("#contact-results")
    expect(results).not_to_contain_text("Walter Skinner")
    results.get_by_role("link", name="Dana Scully").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dana Scully")


def test_add_a_note_and_see_it_on_top_without_a_reload(signed_in_page, live_server, contact):
    page = signed_in_page
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    page.evaluate("window.notReloaded = true")
    page.get_by_placeholder("Write a note").fill("Prefers email\nAsk about renewal")
    page.get_by_role("button", name="Add note").click()
    first_entry = page.locator("#timeline article.entry").first
    expect(first_entry).to_contain_text("Ask about renewal")
    expect(page.get_by_placeholder("Write a note")).to_have_value("")
    assert page.evaluate("window.notReloaded") is True


def test_log_a_meeting_with_two_contacts_shows_on_both_timelines(
    signed_in_page, live_server, contact, workspace
):
    other = Contact.objects.create(workspace=workspace, name="Walter Skinner")
    page = signed_in_page
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    page.get_by_role("link", name="Log activity").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Type").select_option("meeting")
    dialog.get_by_label("Subject").fill("Budget review")
    dialog.get_by_label("Start").fill("2026-03-02T10:00")
    dialog.get_by_label("End").fill("2026-03-02T11:00")
    dialog.get_by_label("Location").fill("Room 4")
    dialog.get_by_label("Search contacts").fill("Skinner")
    dialog.get_by_label("Walter Skinner").check()
    dialog.get_by_role("button", name="Log activity").click()
    expect(page.locator("#timeline")).to_contain_text("Budget review")
    page.goto(f"{live_server.url}/contacts/{other.pk}/")
    expect(page.locator("#timeline")).to_contain_text("Budget review")
    expect(page.locator("#timeline")).to_contain_text("Room 4")
    assert Activity.objects.get(title="Budget review").contacts.count() == 2


def test_block_and_unblock(signed_in_page, live_server, contact):
    page = signed_in_page
    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    page.get_by_role("button", name="Block").click()
    status = page.locator("#contact-status")
    expect(status).to_contain_text("Blocked")
    expect(page.locator("#timeline article.entry").first).to_contain_text("Blocked")
    page.get_by_role("button", name="Unblock").click()
    expect(status).not_to_contain_text("Blocked")
    expect(page.locator("#timeline article.entry").first).to_contain_text("Unblocked")
    contact.refresh_from_db()
    assert contact.blocked is False
    assert (
        Activity.objects.filter(type__key__in=["contact_blocked", "contact_unblocked"]).count() == 2
    )
