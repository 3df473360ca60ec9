"""The contacts list (/contacts/) and the contact picker's search (/contacts/search/)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activities import services
from contacts.models import Contact, Segment, SegmentMembership

HTMX = {"HTTP_HX_REQUEST": "true"}


def names(response) -> list[str]:
    return [contact.name for contact in response.context["page"]]


def make_contact(workspace, name: str, **fields) -> Contact:
    return Contact.objects.create(workspace=workspace, name=name, **fields)


@pytest.fixture
def trio(workspace) -> dict[str, Contact]:
    """Three contacts that differ in every way the list can filter or sort by."""
    now = timezone.now()
    return {
        "ada": make_contact(
            workspace,
            "Ada Lovelace",
            email="ada@analytical.example",
            company="Engines Ltd",
            last_activity_at=now - timedelta(days=3),
        ),
        "grace": make_contact(
            workspace,
            "Grace Hopper",
            email="grace@navy.example",
            company="US Navy",
            last_activity_at=now - timedelta(hours=1),
        ),
        "linus": make_contact(workspace, "Linus Torvalds", email="linus@kernel.example"),
    }


# The page


@pytest.mark.django_db
def test_contacts_need_a_login(client):
    response = client.get("/contacts/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/contacts/"


def test_contacts_page_lists_each_contact_with_its_details(owner_client, trio, segment, actor):
    services.add_to_segment(contact=trio["ada"], segment=segment, actor=actor)
    services.block_contact(contact=trio["ada"], actor=actor)
    services.unsubscribe_contact(contact=trio["ada"], actor=actor)
    response = owner_client.get("/contacts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert names(response) == ["Ada Lovelace", "Grace Hopper", "Linus Torvalds"]
    assert f'href="/contacts/{trio["ada"].id}/"' in html
    assert "ada@analytical.example" in html
    assert "Engines Ltd" in html
    assert '<span class="chip color-purple">VIP</span>' in html
    assert "Blocked</span>" in html
    assert "Unsubscribed</span>" in html
    assert ">AL</span>" in html
    assert "No activity yet" in html


def test_last_activity_shows_as_relative_time_with_the_exact_time_on_hover(owner_client, trio):
    html = owner_client.get("/contacts/").content.decode()
    when = trio["grace"].last_activity_at
    assert f'<time datetime="{when.isoformat()}"' in html
    assert "an hour ago</time>" in html


def test_avatar_image_is_shown_when_the_contact_has_one(owner_client, workspace):
    make_contact(workspace, "Hedy Lamarr", avatar_url="https://img.example/hedy.png")
    html = owner_client.get("/contacts/").content.decode()
    assert '<img src="https://img.example/hedy.png" alt=""' in html


def test_filter_form_updates_the_results_with_htmx_and_pushes_the_url(owner_client, trio):
    html = owner_client.get("/contacts/").content.decode()
    assert 'hx-get="/contacts/"' in html
    assert 'hx-trigger="input delay:300ms, change"' in html
    assert 'hx-target="#contact-results"' in html
    assert 'hx-push-url="true"' in html
    assert 'id="contact-results"' in html


def test_htmx_request_gets_only_the_results(owner_client, trio):
    response = owner_client.get("/contacts/?q=grace", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="contact-results"')
    assert names(response) == ["Grace Hopper"]
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_full_page(owner_client, trio):
    response = owner_client.get(
        "/contacts/?q=grace", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )
    assert b"<html" in response.content


def test_contacts_page_takes_only_safe_methods(owner_client):
    assert owner_client.post("/contacts/").status_code == 405


def test_user_text_is_escaped(owner_client, workspace, actor):
    contact = make_contact(workspace, "<script>alert(1)</script>", company="<b>Evil</b>")
    segment = Segment.objects.create(workspace=workspace, name="<script>seg</script>")
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    html = owner_client.get("/contacts/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html
    assert "&lt;script&gt;seg&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<script>seg" not in html


# Search and filters


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("grace", ["Grace Hopper"]),
        ("HOPPER", ["Grace Hopper"]),
        ("analytical.example", ["Ada Lovelace"]),
        ("navy", ["Grace Hopper"]),
        ("engines", ["Ada Lovelace"]),
        ("  linus  ", ["Linus Torvalds"]),
    ],
)
def test_search_matches_name_email_or_company_in_any_case(owner_client, trio, query, expected):
    assert names(owner_client.get("/contacts/", {"q": query})) == expected


def test_filter_by_segment(owner_client, trio, segment, actor):
    services.add_to_segment(contact=trio["grace"], segment=segment, actor=actor)
    response = owner_client.get("/contacts/", {"segment": segment.id})
    assert names(response) == ["Grace Hopper"]


def test_segment_choices_are_the_workspace_s_own(owner_client, segment, other_workspace):
    Segment.objects.create(workspace=other_workspace, name="Globex VIP")
    response = owner_client.get("/contacts/")
    choices = list(response.context["filter"].form.fields["segment"].queryset)
    assert choices == [segment]


def test_filter_by_another_workspace_s_segment_matches_nothing(owner_client, trio, actor):
    foreign = Segment.objects.create(workspace=services.create_workspace(name="G", slug="g"))
    response = owner_client.get("/contacts/", {"segment": foreign.id})
    assert names(response) == []
    assert b"No contacts match" in response.content


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("blocked", "true", ["Grace Hopper"]),
        ("blocked", "false", ["Ada Lovelace", "Linus Torvalds"]),
        ("blocked", "", ["Ada Lovelace", "Grace Hopper", "Linus Torvalds"]),
        ("unsubscribed", "true", ["Linus Torvalds"]),
        ("unsubscribed", "false", ["Ada Lovelace", "Grace Hopper"]),
    ],
)
def test_filter_by_status(owner_client, trio, actor, flag, value, expected):
    services.block_contact(contact=trio["grace"], actor=actor)
    services.unsubscribe_contact(contact=trio["linus"], actor=actor)
    assert names(owner_client.get("/contacts/", {flag: value})) == expected


def test_sort_by_name_is_the_default(owner_client, trio):
    response = owner_client.get("/contacts/", {"sort": "name"})
    assert names(response) == names(owner_client.get("/contacts/"))
    assert names(response) == ["Ada Lovelace", "Grace Hopper", "Linus Torvalds"]


def test_sort_by_last_activity_puts_contacts_without_activity_last(owner_client, trio):
    response = owner_client.get("/contacts/", {"sort": "-last_activity_at"})
    assert names(response) == ["Grace Hopper", "Ada Lovelace", "Linus Torvalds"]


def test_outsider_never_sees_our_contacts(outsider_client, trio, outsider_contact):
    response = outsider_client.get("/contacts/")
    assert names(response) == ["Hank Scorpio"]
    assert b"Ada Lovelace" not in response.content


# Pagination and states


def test_pages_hold_fifty_and_page_links_keep_the_filters(owner_client, workspace):
    Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"Person {index:03}", company="Initech")
        for index in range(120)
    )
    response = owner_client.get("/contacts/", {"q": "person", "blocked": "false", "page": 2})
    assert names(response)[0] == "Person 050"
    assert len(names(response)) == 50
    html = response.content.decode()
    assert "Page 2 of 3" in html
    assert 'href="/contacts/?q=person&amp;blocked=false&amp;page=3"' in html
    assert 'href="/contacts/?q=person&amp;blocked=false&amp;page=1"' in html


def test_page_out_of_range_shows_the_last_page(owner_client, trio):
    assert names(owner_client.get("/contacts/", {"page": 99})) == [
        "Ada Lovelace",
        "Grace Hopper",
        "Linus Torvalds",
    ]


def test_empty_workspace_says_how_to_add_contacts(owner_client):
    html = owner_client.get("/contacts/").content.decode()
    assert "No contacts yet" in html
    assert "API" in html and "admin" in html and "manage.py" in html
    assert 'role="search"' not in html


def test_no_match_offers_to_clear_the_filters(owner_client, trio):
    html = owner_client.get("/contacts/", {"q": "nobody-like-this"}).content.decode()
    assert "No contacts match" in html
    assert "Clear filters" in html


def test_query_count_does_not_grow_with_contacts_or_segments(
    owner_client, workspace, django_assert_max_num_queries
):
    segments = Segment.objects.bulk_create(
        Segment(workspace=workspace, name=f"Segment {index}") for index in range(3)
    )
    contacts = Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"Person {index:02}") for index in range(50)
    )
    SegmentMembership.objects.bulk_create(
        SegmentMembership(contact=contact, segment=segment)
        for contact in contacts
        for segment in segments
    )
    owner_client.get("/contacts/")  # the first request also saves the session
    with django_assert_max_num_queries(10):
        response = owner_client.get("/contacts/")
    assert len(names(response)) == 50
    assert response.content.decode().count('class="chip color-') == 150


def test_each_row_shows_its_contact_s_own_segments_by_name(
    owner_client, workspace, trio, segment, actor
):
    analysts = Segment.objects.create(workspace=workspace, name="Analysts", color="blue")
    services.add_to_segment(contact=trio["ada"], segment=segment, actor=actor)
    services.add_to_segment(contact=trio["ada"], segment=analysts, actor=actor)
    services.add_to_segment(contact=trio["grace"], segment=segment, actor=actor)
    html = owner_client.get("/contacts/").content.decode()
    rows = html.split('<li class="contact-row">')[1:]
    chips = [[chip.split("<")[0] for chip in row.split('class="chip color-')[1:]] for row in rows]
    assert chips == [['blue">Analysts', 'purple">VIP'], ['purple">VIP'], []]


# The picker's search


def option_names(response) -> list[str]:
    return [c.name for c in [*response.context["chosen"], *response.context["matches"]]]


def test_search_answers_picker_options_as_a_fragment(owner_client, trio):
    response = owner_client.get("/contacts/search/", {"q": "navy"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'data-contact-id="{trio["grace"].id}"' in html
    assert f'<input type="checkbox" name="contacts" value="{trio["grace"].id}">' in html
    assert "grace@navy.example" in html
    assert option_names(response) == ["Grace Hopper"]


@pytest.mark.parametrize("query", ["ADA", "kernel.example", "us navy"])
def test_picker_search_matches_name_email_or_company(owner_client, trio, query):
    assert len(option_names(owner_client.get("/contacts/search/", {"q": query}))) == 1


def test_picker_without_a_query_offers_the_ten_most_recently_active(owner_client, workspace):
    now = timezone.now()
    Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"P{index:02}", last_activity_at=now - timedelta(index))
        for index in range(12)
    )
    make_contact(workspace, "Never active")
    response = owner_client.get("/contacts/search/")
    assert option_names(response) == [f"P{index:02}" for index in range(10)]


def test_picker_keeps_chosen_contacts_first_and_checked(owner_client, trio, outsider_contact):
    response = owner_client.get(
        "/contacts/search/",
        {"q": "a", "contacts": [trio["linus"].id, outsider_contact.id, "not-a-uuid"]},
    )
    assert option_names(response)[0] == "Linus Torvalds"
    assert option_names(response).count("Linus Torvalds") == 1
    assert "Hank Scorpio" not in option_names(response)
    assert f'value="{trio["linus"].id}" checked>' in response.content.decode()


def test_picker_says_when_nothing_matches(owner_client, trio):
    response = owner_client.get("/contacts/search/", {"q": "<zzz>"})
    assert "No contacts match “&lt;zzz&gt;”" in response.content.decode()


def test_picker_never_offers_another_workspace_s_contacts(outsider_client, trio):
    assert option_names(outsider_client.get("/contacts/search/", {"q": "a"})) == []


def test_picker_takes_only_safe_methods(owner_client):
    assert owner_client.post("/contacts/search/").status_code == 405
