from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def workspace_required(view):
    """Login required, and a workspace to work in (set by CurrentWorkspaceMiddleware)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.workspace is None:
            return render(request, "home_no_workspace.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
