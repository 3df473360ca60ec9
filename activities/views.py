from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from activities.models import Activity
from contacts.decorators import workspace_required
from contacts.models import Contact, Segment


@workspace_required
def home(request: HttpRequest) -> HttpResponse:
    workspace = request.workspace
    counts = {
        "contacts": Contact.objects.in_workspace(workspace).count(),
        "segments": Segment.objects.in_workspace(workspace).count(),
        "activities": Activity.objects.in_workspace(workspace).count(),
        "blocked": Contact.objects.in_workspace(workspace).filter(blocked=True).count(),
    }
    recent = (
        Activity.objects.visible_to(request.membership)
        .select_related("type")
        .order_by("-occurred_at", "-id")[:8]
    )
    return render(request, "home.html", {"counts": counts, "recent": recent})


# Placeholders until the pages land; each answers 404.
def _not_yet(request, *args, **kwargs):
    from django.http import Http404

    raise Http404


contact_detail = contact_timeline = contact_timeline_csv = _not_yet
activity_feed = activity_feed_csv = _not_yet
