import zoneinfo

from django.db.models import QuerySet
from django.utils import timezone

from config import compiled
from contacts.models import Membership

SESSION_KEY = "workspace_id"


def current_membership(request, memberships: list[Membership]) -> Membership | None:
    """The membership, of the signed-in user's `memberships`, in the workspace they chose
    (or their first one)."""
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    found = [m for m in memberships if str(m.workspace_id) == chosen]
    membership = found[0] if found else memberships[0]
    if chosen != str(membership.workspace_id):
        request.session[SESSION_KEY] = str(membership.workspace_id)
    return membership


def memberships_of(user) -> list[Membership]:
    """The user's memberships with their workspaces, by workspace name, in one query (a
    user has a few); every page reads them, from SQL the ORM compiled once (`compiled`)."""
    if not user.is_authenticated:
        return []
    values = {"user_id": user.pk}
    memberships = compiled.instances(
        "memberships", Membership, _memberships, values, related=["workspace"]
    )
    for membership in memberships:
        membership.user = user
    return memberships


def _memberships(user_id) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user_id).order_by("workspace__name", "workspace_id")


class CurrentWorkspaceMiddleware:
    """Sets `request.membership` and `request.workspace` (None for outsiders), and
    `request.memberships`, all the user's, for the header's workspace switcher."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.memberships = memberships_of(request.user)
        request.membership = current_membership(request, request.memberships)
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
