from activities.models import Notification


def notifications(request) -> dict:
    """The unread count for the header's bell, counted only when a template shows it."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    unread = Notification.objects.filter(
        user_id=membership.user_id, workspace_id=membership.workspace_id
    ).unread()
    return {"unread_notifications": unread.count}
