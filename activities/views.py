from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from activities.models import Activity
from contacts.models import Contact, Segment


@login_required
def home(request: HttpRequest) -> HttpResponse:
    workspace = request.workspace
    if workspace is None:
        return render(request, "home_no_workspace.html", status=403)
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
