"""The segment pages: list, create, edit and a segment's contacts."""

import pytest
from django.contrib.messages import get_messages

from activities import services
from activities.models import Activity
from contacts.models import Contact, Segment, SegmentMembership

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def foreign_segment(other_workspace) -> Segment:
    return Segment.objects.create(workspace=other_workspace, name="Globex VIP", color="red")


# List


@pytest.mark.django_db
def test_segments_need_a_login(client):
    assert client.get("/segments/")["Location"] == "/login/?next=/segments/"


def test_segment_list_shows_color_name_description_and_exact_count(
    owner_client, workspace, segment, contact, actor
):
    Segment.objects.filter(pk=segment.pk).update(description="Top accounts")
    other = Contact.objects.create(workspace=workspace, name="Fox Mulder")
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    services.add_to_segment(contact=other, segment=segment, actor=actor)
    Segment.objects.create(workspace=workspace, name="Empty", color="green")
    response = owner_client.get("/segments/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/segments/{segment.id}/">VIP</a>' in html
    assert "Top accounts" in html
    assert "color-purple" in html
    assert "2 contacts</span>" in html
    assert "0 contacts</span>" in html


def test_segment_list_query_count_does_not_grow_with_segments(
    owner_client, workspace, django_assert_max_num_queries
):
    Segment.objects.bulk_create(
        Segment(workspace=workspace, name=f"Segment {index}") for index in range(30)
    )
    owner_client.get("/segments/")  # the first request also saves the session
    with django_assert_max_num_queries(7):
        response = owner_client.get("/segments/")
    assert response.content.decode().count('class="segment-row"') == 30


def test_segment_list_empty_state(owner_client):
    html = owner_client.get("/segments/").content.decode()
    assert "No segments yet" in html
    assert 'href="/segments/new/"' in html


def test_segment_list_shows_only_the_workspace_s_segments(owner_client, segment, foreign_segment):
    html = owner_client.get("/segments/").content.decode()
    assert "Globex VIP" not in html


def test_segment_list_escapes_user_text(owner_client, workspace):
    Segment.objects.create(workspace=workspace, name="<script>x</script>", description="<b>d</b>")
    html = owner_client.get("/segments/").content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "&lt;b&gt;d&lt;/b&gt;" in html
    assert "<script>x" not in html


def test_segment_list_takes_only_safe_methods(owner_client):
    assert owner_client.post("/segments/").status_code == 405


# Create


def test_create_form_offers_the_palette_as_colored_choices(owner_client):
    response = owner_client.get("/segments/new/")
    assert response.status_code == 200
    html = response.content.decode()
    for color in ["red", "orange", "yellow", "green", "blue", "purple", "pink", "gray"]:
        assert f'class="swatch chip color-{color}"' in html
        assert f'type="radio" name="color" value="{color}"' in html
    assert 'hx-post="/segments/new/"' in html


def test_creating_a_segment_redirects_to_it_with_a_message(owner_client, workspace):
    response = owner_client.post(
        "/segments/new/", {"name": "Trials", "color": "green", "description": "On a trial"}
    )
    segment = Segment.objects.get(workspace=workspace, name="Trials")
    assert response.status_code == 302
    assert response["Location"] == f"/segments/{segment.id}/"
    assert (segment.color, segment.description) == ("green", "On a trial")
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Segment “Trials” created."]


def test_creating_a_segment_with_htmx_redirects_the_browser(owner_client, workspace):
    response = owner_client.post("/segments/new/", {"name": "Trials", "color": "blue"}, **HTMX)
    segment = Segment.objects.get(workspace=workspace, name="Trials")
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/segments/{segment.id}/"


def test_creating_a_segment_writes_no_timeline_entry(owner_client, contact):
    owner_client.post("/segments/new/", {"name": "Trials", "color": "blue"})
    assert not Activity.objects.exists()


def test_invalid_segment_answers_422_with_errors_by_the_fields_and_typed_values(owner_client):
    response = owner_client.post(
        "/segments/new/", {"name": "", "color": "teal", "description": "Kept <text>"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert '<ul class="errorlist" id="id_name_error"><li>This field is required.' in html
    assert '<ul class="errorlist" id="id_color_error"><li>Select a valid choice.' in html
    assert "Kept &lt;text&gt;</textarea>" in html
    assert "<html" in html
    assert not Segment.objects.exists()


def test_invalid_segment_with_htmx_answers_the_form_fragment(owner_client):
    response = owner_client.post("/segments/new/", {"name": "", "color": "blue"}, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="segment-form"')


def test_segment_name_is_unique_per_workspace_in_any_case(owner_client, segment):
    response = owner_client.post("/segments/new/", {"name": "vip", "color": "blue"})
    assert response.status_code == 422
    assert "A segment named “vip” already exists in this workspace." in response.content.decode()
    assert 'value="vip"' in response.content.decode()
    assert Segment.objects.count() == 1


def test_another_workspace_may_use_the_same_name(owner_client, foreign_segment, workspace):
    response = owner_client.post("/segments/new/", {"name": "Globex VIP", "color": "blue"})
    assert response.status_code == 302
    assert Segment.objects.filter(workspace=workspace, name="Globex VIP").exists()


def test_segment_create_takes_get_and_post_only(owner_client):
    assert owner_client.put("/segments/new/").status_code == 405
    assert owner_client.delete("/segments/new/").status_code == 405


# Edit


def test_edit_form_shows_the_current_values(owner_client, segment):
    response = owner_client.get(f"/segments/{segment.id}/edit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="VIP"' in html
    assert 'value="purple" id="id_color_5" required checked' in html
    assert f'hx-post="/segments/{segment.id}/edit/"' in html


def test_editing_a_segment_saves_and_redirects_to_it(owner_client, segment):
    response = owner_client.post(
        f"/segments/{segment.id}/edit/", {"name": "Vip", "color": "pink", "description": "New"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/segments/{segment.id}/"
    segment.refresh_from_db()
    assert (segment.name, segment.color, segment.description) == ("Vip", "pink", "New")
    assert not Activity.objects.exists()


def test_editing_with_htmx_redirects_the_browser(owner_client, segment):
    response = owner_client.post(
        f"/segments/{segment.id}/edit/", {"name": "VIP", "color": "red"}, **HTMX
    )
    assert response["HX-Redirect"] == f"/segments/{segment.id}/"


def test_editing_to_another_segment_s_name_answers_422(owner_client, segment, workspace):
    Segment.objects.create(workspace=workspace, name="Customers")
    response = owner_client.post(
        f"/segments/{segment.id}/edit/", {"name": "CUSTOMERS", "color": "red"}
    )
    assert response.status_code == 422
    assert "already exists" in response.content.decode()
    segment.refresh_from_db()
    assert segment.name == "VIP"


def test_another_workspace_s_segment_is_not_found(owner_client, foreign_segment):
    for url in [f"/segments/{foreign_segment.id}/", f"/segments/{foreign_segment.id}/edit/"]:
        assert owner_client.get(url).status_code == 404
    response = owner_client.post(
        f"/segments/{foreign_segment.id}/edit/", {"name": "Mine now", "color": "blue"}
    )
    assert response.status_code == 404
    foreign_segment.refresh_from_db()
    assert foreign_segment.name == "Globex VIP"


def test_segment_edit_takes_get_and_post_only(owner_client, segment):
    assert owner_client.delete(f"/segments/{segment.id}/edit/").status_code == 405


# A segment's contacts


def test_segment_page_lists_its_contacts_with_count_and_edit_button(
    owner_client, workspace, segment, contact, actor
):
    Contact.objects.create(workspace=workspace, name="Not In It")
    services.add_to_segment(contact=contact, segment=segment, actor=actor)
    response = owner_client.get(f"/segments/{segment.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert [c.name for c in response.context["page"]] == ["Dana Scully"]
    assert "<strong>1</strong> contact in this segment" in html
    assert f'href="/segments/{segment.id}/edit/"' in html
    assert f'href="/contacts/{contact.id}/"' in html
    assert "Not In It" not in html


def test_segment_page_paginates_with_htmx(owner_client, workspace, segment):
    contacts = Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"Person {index:02}") for index in range(60)
    )
    SegmentMembership.objects.bulk_create(
        SegmentMembership(contact=contact, segment=segment) for contact in contacts
    )
    response = owner_client.get(f"/segments/{segment.id}/", {"page": 2}, **HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="segment-contacts"')
    assert response.context["page"][0].name == "Person 50"
    assert f'href="/segments/{segment.id}/?page=1"' in html
    assert "HX-Request" in response["Vary"]


def test_segment_page_history_restore_gets_the_full_page(owner_client, segment):
    response = owner_client.get(
        f"/segments/{segment.id}/", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )
    assert b"<html" in response.content


def test_empty_segment_says_so(owner_client, segment):
    assert b"No one is in this segment yet" in owner_client.get(f"/segments/{segment.id}/").content


def test_segment_page_query_count_does_not_grow_with_contacts(
    owner_client, workspace, segment, django_assert_max_num_queries
):
    others = Segment.objects.bulk_create(
        Segment(workspace=workspace, name=f"Other {index}") for index in range(2)
    )
    contacts = Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"Person {index:02}") for index in range(50)
    )
    SegmentMembership.objects.bulk_create(
        SegmentMembership(contact=contact, segment=each)
        for contact in contacts
        for each in [segment, *others]
    )
    owner_client.get(f"/segments/{segment.id}/")  # the first request also saves the session
    with django_assert_max_num_queries(10):
        response = owner_client.get(f"/segments/{segment.id}/")
    assert response.content.decode().count('class="contact-row"') == 50


def test_segment_page_takes_only_safe_methods(owner_client, segment):
    assert owner_client.post(f"/segments/{segment.id}/").status_code == 405
