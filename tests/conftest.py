"""Shared fixtures: a workspace with an owner (admin) and a teammate, and an outsider
who belongs to another workspace."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone

from activities import services
from activities.services import Actor
from contacts.models import Contact, Membership, Segment, Workspace


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_rate_limit_counts():
    """The rate limits count in the default cache: each test starts from none, so no test
    is throttled by the calls of the tests before it."""
    cache.clear()


@pytest.fixture
def workspace(db) -> Workspace:
    return services.create_workspace(name="Acme", slug="acme")


@pytest.fixture
def other_workspace(db) -> Workspace:
    return services.create_workspace(name="Globex", slug="globex")


def _member(workspace: Workspace, username: str, role: str) -> User:
    user = User.objects.create_user(
        username, email=f"{username}@example.com", password="password", first_name=username.title()
    )
    services.add_member(workspace=workspace, user=user, role=role)
    return user


@pytest.fixture
def owner(workspace) -> User:
    return _member(workspace, "alice", Membership.Role.ADMIN)


@pytest.fixture
def teammate(workspace) -> User:
    return _member(workspace, "bob", Membership.Role.MEMBER)


@pytest.fixture
def outsider(other_workspace) -> User:
    return _member(other_workspace, "mallory", Membership.Role.ADMIN)


@pytest.fixture
def actor(owner) -> Actor:
    return Actor.of(owner)


@pytest.fixture
def contact(workspace) -> Contact:
    return Contact.objects.create(
        workspace=workspace, name="Dana Scully", email="dana@fbi.example", company="FBI"
    )


@pytest.fixture
def outsider_contact(other_workspace) -> Contact:
    return Contact.objects.create(workspace=other_workspace, name="Hank Scorpio")


@pytest.fixture
def segment(workspace) -> Segment:
    return Segment.objects.create(workspace=workspace, name="VIP", color="purple")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def teammate_client(client, teammate):
    client.force_login(teammate)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def long_timeline(contact):
    """120 entries on one contact, two types, an hour apart."""
    start = timezone.now() - timedelta(days=200)
    for index in range(120):
        services.log_activity(
            workspace=contact.workspace,
            type_key=["call", "email"][index % 2],
            contacts=[contact],
            title=f"Entry {index}",
            occurred_at=start + timedelta(hours=index),
        )
    return contact
