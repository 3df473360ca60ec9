import re

from playwright.sync_api import expect

from activities import services


def test_person_logs_in_and_sees_their_workspace(signed_in_page, workspace):
    expect(signed_in_page.get_by_role("heading", level=1)).to_have_text(workspace.name)
    expect(signed_in_page.locator("#count-contacts")).to_have_text("0")


def test_person_switches_workspace_from_the_header(
    signed_in_page, owner, other_workspace, live_server
):
    services.add_member(workspace=other_workspace, user=owner, role="member")
    signed_in_page.reload()
    signed_in_page.get_by_role("group").filter(has_text="Acme").locator("summary").click()
    signed_in_page.get_by_role("button", name=other_workspace.name).click()
    expect(signed_in_page.get_by_role("heading", level=1)).to_have_text(other_workspace.name)


def test_person_logs_out_from_the_account_menu(signed_in_page, live_server):
    signed_in_page.get_by_label(re.compile("^Account")).click()
    signed_in_page.get_by_role("button", name="Log out").click()
    expect(signed_in_page).to_have_url(f"{live_server.url}/login/")
