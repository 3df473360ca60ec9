"""Nothing of one workspace is visible from, or writable through, another."""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.urls import reverse

from activities import services
from activities.models import Activity, ActivityType, Notification
from activities.services import Actor, TargetSpec
from contacts.middleware import SESSION_KEY
from contacts.models import ApiToken, Contact, Membership, Note, Segment, SegmentMembership

SCOPED_MODELS = [Contact, Segment, Note, Membership, ApiToken, ActivityType, Activity]


@pytest.fixture
def both_workspaces_filled(workspace, other_workspace, owner, teammate, outsider):
    """Rows of every workspace-owned model in both workspaces."""
    for ws, user, name in [(workspace, owner, "Ours"), (other_workspace, outsider, "Theirs")]:
        contact = Contact.objects.create(workspace=ws, name=f"{name} contact")
        Segment.objects.create(workspace=ws, name=f"{name} segment")
        services.add_note(contact=contact, content=f"{name} note", actor=Actor.of(user))
        services.log_activity(workspace=ws, type_key=f"api:{name.lower()}", contacts=[contact])
        ApiToken.issue(workspace=ws, name=f"{name} token")


@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_in_workspace_returns_only_that_workspaces_rows(
    both_workspaces_filled, workspace, other_workspace, model
):
    ours = model.objects.in_workspace(workspace)
    theirs = model.objects.in_workspace(other_workspace)

    assert ours.exists()
    assert theirs.exists()
    assert set(ours.values_list("workspace_id", flat=True)) == {workspace.pk}
    assert set(theirs.values_list("workspace_id", flat=True)) == {other_workspace.pk}
    assert ours.count() + theirs.count() == model.objects.count()


def test_activity_of_another_workspace_is_never_visible_even_when_targeted_at_the_user(
    workspace, other_workspace, owner, outsider
):
    services.add_member(workspace=other_workspace, user=owner, role=Membership.Role.ADMIN)
    targets = [
        TargetSpec(target_id=owner.username),
        TargetSpec(target_id=str(owner.pk)),
        TargetSpec(target_id="administrators"),
    ]
    targeted, _ = services.log_activity(workspace=other_workspace, type_key="call", targets=targets)
    open_to_all, _ = services.log_activity(workspace=other_workspace, type_key="call")
    ours, _ = services.log_activity(workspace=workspace, type_key="call")

    in_ours = Membership.objects.select_related("user").get(workspace=workspace, user=owner)
    in_theirs = Membership.objects.select_related("user").get(workspace=other_workspace, user=owner)
    assert set(Activity.objects.visible_to(in_ours)) == {ours}
    assert set(Activity.objects.visible_to(in_theirs)) == {targeted, open_to_all}


def test_outsider_sees_none_of_our_activities(workspace, other_workspace, owner, outsider):
    services.log_activity(workspace=workspace, type_key="call")
    services.log_activity(
        workspace=workspace, type_key="call", targets=[TargetSpec(target_id="mallory")]
    )
    membership = Membership.objects.select_related("user").get(user=outsider)
    assert not Activity.objects.visible_to(membership).exists()


def test_notify_never_reaches_a_user_outside_the_workspace(workspace, outsider):
    services.log_activity(
        workspace=workspace,
        type_key="call",
        targets=[TargetSpec(target_id="mallory", notify=True)],
    )
    services.log_activity(
        workspace=workspace,
        type_key="call",
        targets=[TargetSpec(kind="Everyone", notify=True)],
    )
    assert not Notification.objects.filter(user=outsider).exists()


# Services refuse records of another workspace


@pytest.fixture
def their_segment(other_workspace) -> Segment:
    return Segment.objects.create(workspace=other_workspace, name="Their VIPs", color="red")


def test_adding_to_a_segment_of_another_workspace_is_refused(contact, their_segment, actor):
    with pytest.raises(ValidationError):
        services.add_to_segment(contact=contact, segment=their_segment, actor=actor)
    assert not SegmentMembership.objects.exists()
    assert not Activity.objects.exists()


def test_removing_from_a_segment_of_another_workspace_is_refused(contact, their_segment, actor):
    # Even a membership that should never exist is not touched through the wrong workspace.
    SegmentMembership.objects.create(contact=contact, segment=their_segment)
    with pytest.raises(ValidationError):
        services.remove_from_segment(contact=contact, segment=their_segment, actor=actor)
    assert SegmentMembership.objects.filter(contact=contact, segment=their_segment).exists()
    assert not Activity.objects.exists()


def test_logging_on_a_contact_of_another_workspace_is_refused(workspace, outsider_contact):
    with pytest.raises(ValidationError):
        services.log_activity(workspace=workspace, type_key="call", contacts=[outsider_contact])
    assert not Activity.objects.exists()


def test_replying_to_an_activity_of_another_workspace_is_refused(workspace, other_workspace):
    theirs, _ = services.log_activity(workspace=other_workspace, type_key="call")
    with pytest.raises(ValidationError):
        services.log_activity(workspace=workspace, type_key="call", reply_to=theirs)
    assert not Activity.objects.filter(workspace=workspace).exists()


@pytest.mark.parametrize("link", ["segment", "note"])
def test_logging_with_a_segment_or_note_of_another_workspace_is_refused(
    workspace, other_workspace, outsider, outsider_contact, their_segment, link
):
    their_note = services.add_note(
        contact=outsider_contact, content="Theirs", actor=Actor.of(outsider)
    )
    record = their_segment if link == "segment" else their_note
    with pytest.raises(ValidationError):
        services.log_activity(workspace=workspace, type_key="call", **{link: record})
    assert not Activity.objects.filter(workspace=workspace).exists()


# The current workspace of a request


def test_home_page_is_for_the_users_workspace(owner_client, workspace):
    response = owner_client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.workspace == workspace
    assert response.wsgi_request.membership.user.username == "alice"
    assert response.context["workspace"] == workspace
    assert "<h1>Acme</h1>" in response.text


def test_outsider_home_page_shows_only_their_workspace(
    outsider_client, workspace, other_workspace, owner
):
    services.log_activity(workspace=workspace, type_key="call", title="Acme secret deal")
    response = outsider_client.get("/")
    assert response.wsgi_request.workspace == other_workspace
    assert "<h1>Globex</h1>" in response.text
    assert "Acme" not in response.text
    assert response.context["counts"]["activities"] == 0


def test_user_in_several_workspaces_starts_in_the_first_by_name(
    client, owner, workspace, other_workspace
):
    services.add_member(workspace=other_workspace, user=owner, role=Membership.Role.MEMBER)
    client.force_login(owner)
    response = client.get("/")
    assert response.wsgi_request.workspace == workspace
    assert response.wsgi_request.membership.role == Membership.Role.ADMIN
    assert client.session[SESSION_KEY] == str(workspace.pk)


def test_switching_to_a_workspace_of_the_user_shows_it(client, owner, workspace, other_workspace):
    services.add_member(workspace=other_workspace, user=owner, role=Membership.Role.MEMBER)
    services.log_activity(workspace=other_workspace, type_key="call", title="Globex call")
    client.force_login(owner)

    response = client.post(reverse("switch-workspace", args=[other_workspace.pk]))

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session[SESSION_KEY] == str(other_workspace.pk)
    home = client.get("/")
    assert home.wsgi_request.workspace == other_workspace
    assert home.wsgi_request.membership.role == Membership.Role.MEMBER
    assert "<h1>Globex</h1>" in home.text
    assert "Globex call" in home.text


def test_switching_to_a_workspace_the_user_is_not_in_is_404(owner_client, other_workspace):
    response = owner_client.post(reverse("switch-workspace", args=[other_workspace.pk]))
    assert response.status_code == 404
    assert owner_client.session.get(SESSION_KEY) != str(other_workspace.pk)
    home = owner_client.get("/")
    assert "<h1>Acme</h1>" in home.text
    assert "Globex" not in home.text


def test_switching_to_an_unknown_workspace_is_404(owner_client):
    url = reverse("switch-workspace", args=["00000000-0000-0000-0000-000000000000"])
    assert owner_client.post(url).status_code == 404


def test_switching_workspace_needs_post(owner_client, workspace):
    response = owner_client.get(reverse("switch-workspace", args=[workspace.pk]))
    assert response.status_code == 405


def test_switching_workspace_needs_a_login(client, workspace):
    response = client.post(reverse("switch-workspace", args=[workspace.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_switching_workspace_does_not_redirect_off_site(
    owner_client, owner, workspace, other_workspace
):
    services.add_member(workspace=other_workspace, user=owner, role=Membership.Role.MEMBER)
    response = owner_client.post(
        reverse("switch-workspace", args=[other_workspace.pk]),
        {"next": "https://evil.example/phish"},
    )
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_session_for_a_workspace_the_user_left_falls_back_to_their_own(
    client, owner, workspace, other_workspace
):
    services.add_member(workspace=other_workspace, user=owner, role=Membership.Role.MEMBER)
    client.force_login(owner)
    client.post(reverse("switch-workspace", args=[other_workspace.pk]))
    Membership.objects.filter(workspace=other_workspace, user=owner).delete()

    response = client.get("/")

    assert response.wsgi_request.workspace == workspace
    assert "<h1>Acme</h1>" in response.text
    assert "Globex" not in response.text
    assert client.session[SESSION_KEY] == str(workspace.pk)


def test_user_without_a_workspace_gets_no_workspace(client, workspace):
    loner = User.objects.create_user("loner")
    client.force_login(loner)
    response = client.get("/")
    assert response.status_code == 403
    assert response.wsgi_request.workspace is None
    assert response.wsgi_request.membership is None
