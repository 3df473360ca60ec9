"""Login, the home page, the health check and the error pages."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from activities import services
from activities.models import Activity


@pytest.mark.django_db
def test_home_needs_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_login_page_renders_the_form(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_login_with_a_wrong_password_says_so(client, owner):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_login_leads_to_the_home_page_of_the_workspace(client, owner, workspace):
    response = client.post("/login/", {"username": "alice", "password": "password"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert f"<h1>{workspace.name}</h1>".encode() in response.content


def test_logout_takes_a_post(owner_client):
    assert owner_client.get("/logout/").status_code == 405
    response = owner_client.post("/logout/")
    assert response.status_code == 302
    assert owner_client.get("/").status_code == 302


def test_home_counts_only_the_current_workspace(
    owner_client, workspace, contact, segment, actor, outsider_contact
):
    services.block_contact(contact=contact, actor=actor)
    services.add_note(contact=contact, content="Renewal is due in May", actor=actor)
    response = owner_client.get("/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts == {"contacts": 1, "segments": 1, "activities": 2, "blocked": 1}
    assert [a.type.key for a in response.context["recent"]] == ["note_created", "contact_blocked"]


def test_home_lists_recent_entries_with_user_text_escaped(owner_client, contact, actor):
    services.log_activity(
        workspace=contact.workspace,
        type_key="call",
        contacts=[contact],
        actor=actor,
        title="<script>alert(1)</script>",
    )
    response = owner_client.get("/")
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
    assert b"<script>alert(1)" not in response.content


def test_home_hides_entries_targeted_at_someone_else(teammate_client, contact, owner, workspace):
    services.log_activity(
        workspace=workspace,
        type_key="other",
        contacts=[contact],
        title="For Alice only",
        targets=[services.TargetSpec(target_id=owner.username)],
    )
    response = teammate_client.get("/")
    assert b"For Alice only" not in response.content


def test_user_without_a_workspace_is_told_so(client, db):
    client.force_login(User.objects.create_user("loner", password="password"))
    response = client.get("/")
    assert response.status_code == 403
    assert b"not in a workspace yet" in response.content


def test_header_offers_each_workspace_of_the_user(owner_client, owner, other_workspace):
    services.add_member(workspace=other_workspace, user=owner, role="member")
    response = owner_client.get("/")
    assert reverse("switch-workspace", args=[other_workspace.id]).encode() in response.content


def test_a_page_masks_its_csrf_token_once_and_each_response_anew(
    owner_client, owner, other_workspace, contact
):
    """The header's forms carry one masked token, and so do the contact's actions (masking
    it for each form is a pure-Python loop a time); the next response masks it anew,
    against BREACH."""
    services.add_member(workspace=other_workspace, user=owner, role="member")
    url = reverse("contact-detail", args=[contact.pk])

    def tokens() -> tuple[set[str], set[str]]:
        header, main = owner_client.get(url).content.decode().split('<main id="main"')
        return _csrf_tokens(header), _csrf_tokens(main)

    (header, main), (next_header, next_main) = tokens(), tokens()
    assert len(header) == len(main) == 1
    assert header != next_header and main != next_main


def _csrf_tokens(html: str) -> set[str]:
    fields = html.split('name="csrfmiddlewaretoken" value="')[1:]
    return {field.split('"')[0] for field in fields}


def test_healthz_answers_without_touching_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_healthz_takes_only_safe_methods(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_unknown_page_is_the_styled_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"couldn't find that page" in response.content
    assert b'class="site-header"' in response.content


def test_error_pages_share_the_site_style(rf):
    from config import views

    request = rf.get("/")
    request.user = User()
    assert b"can't do that" in views.permission_denied(request).content
    response = views.server_error(request)
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content


def test_home_page_query_count_does_not_grow_with_entries(
    owner_client, contact, actor, django_assert_max_num_queries
):
    for index in range(20):
        services.log_activity(
            workspace=contact.workspace,
            type_key="call",
            contacts=[contact],
            actor=actor,
            title=f"Call {index}",
        )
    with django_assert_max_num_queries(12):
        response = owner_client.get("/")
    assert len(response.context["recent"]) == 8
    assert Activity.objects.count() == 20


def test_pages_carry_a_content_security_policy(client, db):
    policy = client.get("/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
