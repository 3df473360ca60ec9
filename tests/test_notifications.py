"""The notifications page and the unread count in the header."""

from django.urls import reverse

from activities import services
from activities.models import Notification
from activities.services import TargetSpec


def notify(workspace, contact, target_id, title="Invoice overdue"):
    activity, _ = services.log_activity(
        workspace=workspace,
        type_key="other",
        contacts=[contact],
        title=title,
        targets=[TargetSpec(target_id=target_id, notify=True)],
    )
    return activity.notifications.get()


def test_header_shows_the_unread_count(owner_client, workspace, contact, owner):
    notify(workspace, contact, owner.username)
    notify(workspace, contact, owner.username, title="Second")
    response = owner_client.get("/")
    assert response.context["unread_notifications"]() == 2
    assert b'<span class="bell__count" id="unread-count">2</span>' in response.content


def test_list_shows_only_my_notifications(teammate_client, workspace, contact, owner, teammate):
    notify(workspace, contact, owner.username, title="For Alice")
    notify(workspace, contact, teammate.username, title="For Bob")
    response = teammate_client.get(reverse("notification-list"))
    assert response.status_code == 200
    assert b"For Bob" in response.content
    assert b"For Alice" not in response.content


def test_mark_one_as_read(owner_client, workspace, contact, owner):
    notification = notify(workspace, contact, owner.username)
    response = owner_client.post(reverse("notification-read", args=[notification.pk]))
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert owner_client.get("/").context["unread_notifications"]() == 0


def test_mark_all_as_read(owner_client, workspace, contact, owner, teammate):
    notify(workspace, contact, owner.username)
    notify(workspace, contact, owner.username)
    theirs = notify(workspace, contact, teammate.username)
    owner_client.post(reverse("notification-read-all"))
    assert not Notification.objects.filter(user=owner).unread().exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_someone_elses_notification_is_404(owner_client, workspace, contact, teammate):
    theirs = notify(workspace, contact, teammate.username)
    assert owner_client.post(reverse("notification-read", args=[theirs.pk])).status_code == 404


def test_reading_takes_a_post(owner_client, workspace, contact, owner):
    notification = notify(workspace, contact, owner.username)
    assert owner_client.get(reverse("notification-read", args=[notification.pk])).status_code == 405


def test_empty_list_says_so(owner_client):
    assert b"No notifications" in owner_client.get(reverse("notification-list")).content
