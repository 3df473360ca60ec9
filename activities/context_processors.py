from django.db.models import Count, QuerySet

from activities.models import Notification
from config import compiled


def notifications(request) -> dict:
    """The unread count for the header's bell, counted only when a template shows it."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    values = {"user_id": membership.user_id, "workspace_id": membership.workspace_id}
    return {"unread_notifications": lambda: _unread_count(values)}


def _unread_count(values: dict) -> int:
    # Every page's header shows it: from SQL the ORM compiled once (`compiled`).
    found = compiled.rows("unread-notifications", _unread, values)
    return found[0][0] if found else 0


def _unread(user_id, workspace_id) -> QuerySet:
    unread = Notification.objects.filter(user_id=user_id, workspace_id=workspace_id).unread()
    # Grouped by the one user, for a single count row (none when nothing is unread).
    return unread.order_by().values("user_id").annotate(count=Count("pk")).values_list("count")
