"""The notifications page: what integrations and teammates flagged for the user."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from activities.models import Notification
from activities.views import HtmxHttpRequest
from contacts.decorators import workspace_required

PAGE_SIZE = 50


def _inbox(request: HtmxHttpRequest):
    return Notification.objects.filter(user=request.user, workspace=request.workspace)


@require_safe
@workspace_required
def notification_list(request: HtmxHttpRequest) -> HttpResponse:
    notifications = (
        _inbox(request)
        .select_related("activity__type")
        .prefetch_related("activity__contacts")
        .order_by("-created_at")[:PAGE_SIZE]
    )
    return render(request, "activities/notifications.html", {"notifications": notifications})


@require_POST
@workspace_required
def notification_read(request: HtmxHttpRequest, notification_id) -> HttpResponse:
    notification = get_object_or_404(_inbox(request), pk=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return redirect("notification-list")


@require_POST
@workspace_required
def notification_read_all(request: HtmxHttpRequest) -> HttpResponse:
    _inbox(request).unread().update(read_at=timezone.now())
    return redirect("notification-list")
