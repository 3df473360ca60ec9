import zoneinfo

from django.utils import timezone

from contacts.models import Membership

SESSION_KEY = "workspace_id"


def current_membership(request) -> Membership | None:
    """The signed-in user's membership in the workspace they chose (or their first one)."""
    if not request.user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=request.user).select_related("workspace", "user")
    chosen = request.session.get(SESSION_KEY)
    membership = (chosen and memberships.filter(workspace_id=chosen).first()) or (
        memberships.order_by("workspace__name").first()
    )
    if membership and chosen != str(membership.workspace_id):
        request.session[SESSION_KEY] = str(membership.workspace_id)
    return membership


class CurrentWorkspaceMiddleware:
    """Sets `request.membership` and `request.workspace` (None for outsiders)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = current_membership(request)
        request.workspace = request.membership.workspace if request.membership else None
        return self.get_response(request)


TIMEZONE_COOKIE = "tz"


class TimezoneMiddleware:
    """Shows times in the browser's time zone, which static/js/app.js puts in a cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            timezone.activate(zoneinfo.ZoneInfo(request.COOKIES.get(TIMEZONE_COOKIE, "")))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            timezone.deactivate()
        return self.get_response(request)
