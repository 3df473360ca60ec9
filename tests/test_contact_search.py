"""The contacts search: the index that serves it stays in step with every write, and
whatever a person types is taken as text."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from contacts.views import CappedPaginator

HTMX = {"HTTP_HX_REQUEST": "true"}


def found(client, text: str) -> list[str]:
    response = client.get("/contacts/", {"q": text}, **HTMX)
    return [contact.name for contact in response.context["page"]]


@pytest.fixture
def ada(workspace) -> Contact:
    return Contact.objects.create(
        workspace=workspace, name="Ada Lovelace", email="ada@analytical.example", company="Engines"
    )


def test_a_new_contact_is_found_at_once(owner_client, ada):
    assert found(owner_client, "lovel") == ["Ada Lovelace"]
    assert found(owner_client, "ANALYTICAL.EX") == ["Ada Lovelace"]
    assert found(owner_client, "ngine") == ["Ada Lovelace"]


def test_a_renamed_contact_is_found_by_its_new_name_only(owner_client, ada):
    ada.name = "Augusta King"
    ada.save()
    assert found(owner_client, "augusta") == ["Augusta King"]
    assert found(owner_client, "lovelace") == []


def test_a_contact_changed_by_a_bulk_update_is_found_by_its_new_email(owner_client, ada):
    Contact.objects.filter(pk=ada.pk).update(email="countess@lovelace.example")
    assert found(owner_client, "countess@") == ["Ada Lovelace"]
    assert found(owner_client, "analytical") == []


def test_a_deleted_contact_is_not_found(owner_client, ada, workspace):
    keep = Contact.objects.create(workspace=workspace, name="Ada Byron")
    ada.delete()
    assert found(owner_client, "ada") == ["Ada Byron"]
    keep.delete()
    assert found(owner_client, "ada") == []


def test_short_texts_match_too(owner_client, ada, workspace):
    Contact.objects.create(workspace=workspace, name="Bo Li")
    assert found(owner_client, "li") == ["Bo Li"]
    assert found(owner_client, "a") == ["Ada Lovelace"]


@pytest.mark.parametrize(
    "text", ['"', 'Ada"', "ada OR bob", "NOT ada", "ada*", "(ada", "name:ada", "ada -x", "'; --"]
)
def test_search_syntax_is_taken_as_text(owner_client, ada, text):
    response = owner_client.get("/contacts/", {"q": text}, **HTMX)
    assert response.status_code == 200
    assert [contact.name for contact in response.context["page"]] == []


def test_quotes_and_operators_in_names_are_found_as_written(owner_client, workspace):
    Contact.objects.create(workspace=workspace, name='Jo "JJ" Smith OR Co')
    assert found(owner_client, '"JJ"') == ['Jo "JJ" Smith OR Co']
    assert found(owner_client, "smith or") == ['Jo "JJ" Smith OR Co']


def test_search_sees_only_the_workspace_s_contacts(owner_client, ada, other_workspace):
    Contact.objects.create(workspace=other_workspace, name="Ada Elsewhere")
    assert found(owner_client, "ada") == ["Ada Lovelace"]


def test_a_count_past_the_cap_reads_as_a_lower_bound(owner_client, workspace, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 60)
    Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"Person {index:03}") for index in range(75)
    )
    html = owner_client.get("/contacts/", {"q": "person"}, **HTMX).content.decode()
    assert "<strong>60+</strong> contacts" in html
    assert "Page 1 of 2+" in html
    last = owner_client.get("/contacts/", {"q": "person", "page": 2}, **HTMX)
    assert [c.name for c in last.context["page"]][-1] == "Person 059"


def test_a_count_within_the_cap_is_exact(owner_client, workspace, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 60)
    Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"Person {index:03}") for index in range(60)
    )
    html = owner_client.get("/contacts/", {"q": "person"}, **HTMX).content.decode()
    assert "<strong>60</strong> contacts" in html
    assert "Page 1 of 2<" in html


def test_the_count_does_not_sort_the_matches(owner_client, workspace):
    Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"Person {index:03}") for index in range(3)
    )
    with CaptureQueriesContext(connection) as captured:
        html = owner_client.get("/contacts/", {"q": "person"}, **HTMX).content.decode()
    assert "<strong>3</strong> contacts" in html
    counts = [query["sql"] for query in captured if query["sql"].startswith("SELECT COUNT(")]
    assert len(counts) == 1 and "ORDER BY" not in counts[0]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's")
def test_sqlite_search_reads_the_trigram_index_not_every_contact(workspace):
    from contacts.filters import search_contacts

    plan = search_contacts(Contact.objects.in_workspace(workspace), "lovelace").explain()
    assert "VIRTUAL TABLE INDEX" in plan
    assert "SCAN contacts_contact" not in plan.replace("SCAN contacts_contact_search", "")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner needs the statistics")
def test_after_an_import_the_search_starts_from_its_matches(workspace, tmp_path):
    from django.core.management import call_command

    from contacts.filters import search_contacts

    path = tmp_path / "contacts.csv"
    path.write_text("name\n" + "".join(f"Person {index}\n" for index in range(3000)))
    call_command("import_contacts", workspace.slug, str(path))
    found = search_contacts(Contact.objects.in_workspace(workspace), "son 12").order_by("name")
    plan = found[:50].explain()
    assert "contact_ws_name" not in plan
    assert len(found) == 111  # Person 12, 120-129, 1200-1299


def test_like_wildcards_quotes_and_backslashes_are_found_as_written(owner_client, workspace):
    for name in ["100% Sure", "1000 Sure", "snake_case", "snakeXcase", "O'Neil", "back\\slash"]:
        Contact.objects.create(workspace=workspace, name=name)
    assert found(owner_client, "0% s") == ["100% Sure"]
    assert found(owner_client, "e_c") == ["snake_case"]
    assert found(owner_client, "o'ne") == ["O'Neil"]
    assert found(owner_client, "k\\s") == ["back\\slash"]


def test_letters_beyond_ascii_are_found(owner_client, workspace):
    Contact.objects.create(workspace=workspace, name="Zoë Ångström")
    assert found(owner_client, "zoë") == ["Zoë Ångström"]
    assert found(owner_client, "ÅNGS") == ["Zoë Ångström"]


@pytest.mark.parametrize(
    ("url", "results"),
    [("/contacts/", "page"), ("/contacts/search/", "matches"), ("/activities/log/", "matches")],
)
def test_a_search_holding_a_nul_character_finds_nothing(owner_client, ada, url, results):
    response = owner_client.get(url, {"q": "ada\x00"}, **HTMX)
    assert response.status_code == 200
    assert list(response.context[results]) == []
