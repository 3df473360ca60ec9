"""The setup commands: create_workspace, create_member, create_api_token."""

import uuid
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from activities import types
from activities.models import ActivityType
from contacts.models import ApiToken, Membership, Workspace


def _run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


# create_workspace


def test_create_workspace_prints_the_new_id_on_the_last_line(db):
    lines = _run("create_workspace", "Initech Sales")
    workspace = Workspace.objects.get(pk=uuid.UUID(lines[-1]))
    assert lines[-1] == str(workspace.pk)
    assert (workspace.name, workspace.slug) == ("Initech Sales", "initech-sales")


def test_create_workspace_installs_the_builtin_types(db):
    workspace_id = _run("create_workspace", "Initech")[-1]
    keys = set(ActivityType.objects.filter(workspace_id=workspace_id).values_list("key", flat=True))
    assert keys == set(types.BUILTIN_TYPES)


def test_create_workspace_takes_an_explicit_slug(db):
    workspace_id = _run("create_workspace", "Initech", "--slug", "tps-reports")[-1]
    assert Workspace.objects.get(pk=workspace_id).slug == "tps-reports"


def test_create_workspace_refuses_a_slug_in_use(workspace):
    with pytest.raises(CommandError, match="'acme' exists already"):
        call_command("create_workspace", "Acme Again", "--slug", "acme", stdout=StringIO())
    assert Workspace.objects.count() == 1


def test_create_workspace_refuses_a_name_that_slugifies_to_a_taken_slug(workspace):
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_workspace", "ACME!", stdout=StringIO())


@pytest.mark.parametrize("slug", ["not a slug", "", "x" * 51])
def test_create_workspace_refuses_a_bad_slug(db, slug):
    with pytest.raises(CommandError):
        call_command("create_workspace", "Initech", "--slug", slug, stdout=StringIO())
    assert not Workspace.objects.exists()


def test_create_workspace_refuses_a_blank_name(db):
    with pytest.raises(CommandError, match="name"):
        call_command("create_workspace", "   ", stdout=StringIO())


# create_member


def test_create_member_creates_the_user_with_the_password(workspace):
    _run("create_member", "acme", "carol", "--password", "s3cret-pass")
    carol = User.objects.get(username="carol")
    assert carol.check_password("s3cret-pass")
    assert Membership.objects.get(workspace=workspace, user=carol).role == "member"


def test_create_member_makes_an_admin_with_the_admin_flag(workspace):
    _run("create_member", "acme", "carol", "--password", "pw", "--admin")
    assert Membership.objects.get(workspace=workspace, user__username="carol").is_admin


def test_create_member_updates_an_existing_user_and_role(workspace, owner):
    _run("create_member", str(workspace.pk), "alice", "--password", "new-password")
    owner.refresh_from_db()
    assert owner.check_password("new-password")
    assert Membership.objects.get(workspace=workspace, user=owner).role == "member"
    assert User.objects.filter(username="alice").count() == 1


def test_create_member_adds_a_user_to_a_second_workspace(workspace, outsider):
    _run("create_member", "acme", "mallory", "--password", "pw")
    assert set(outsider.memberships.values_list("workspace__slug", flat=True)) == {
        "acme",
        "globex",
    }


@pytest.mark.parametrize("which", ["initech", str(uuid.uuid4())])
def test_create_member_refuses_an_unknown_workspace(workspace, which):
    with pytest.raises(CommandError, match="No workspace"):
        call_command("create_member", which, "carol", "--password", "pw", stdout=StringIO())
    assert not User.objects.filter(username="carol").exists()


def test_create_member_refuses_an_invalid_username(workspace):
    with pytest.raises(CommandError):
        call_command("create_member", "acme", "bad name!", "--password", "pw", stdout=StringIO())


def test_create_member_needs_a_password(workspace):
    with pytest.raises(CommandError):
        call_command("create_member", "acme", "carol", stdout=StringIO())


# create_api_token


def test_create_api_token_prints_a_token_that_authenticates(workspace):
    lines = _run("create_api_token", "acme", "--name", "Zapier")
    raw = lines[-1]
    token = ApiToken.objects.get(token_hash=ApiToken.hash(raw))
    assert (token.workspace, token.name, token.scope) == (workspace, "Zapier", "read")
    assert raw.startswith(token.prefix)
    assert token.prefix in lines[0]
    assert raw not in lines[0]


def test_create_api_token_takes_the_write_scope_and_a_workspace_id(workspace):
    raw = _run("create_api_token", str(workspace.pk), "--scope", "write")[-1]
    assert ApiToken.objects.get(token_hash=ApiToken.hash(raw)).can_write


def test_create_api_token_never_stores_the_raw_token(workspace):
    raw = _run("create_api_token", "acme")[-1]
    token = ApiToken.objects.get()
    assert raw not in {token.token_hash, token.prefix, token.name}


def test_create_api_token_refuses_an_unknown_scope(workspace):
    with pytest.raises(CommandError, match="scope"):
        call_command("create_api_token", "acme", "--scope", "admin", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_create_api_token_refuses_an_unknown_workspace(workspace):
    with pytest.raises(CommandError, match="No workspace"):
        call_command("create_api_token", "initech", stdout=StringIO())
    assert not ApiToken.objects.exists()
