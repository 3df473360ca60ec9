from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from contacts.middleware import SESSION_KEY
from contacts.models import Membership


@login_required
@require_POST
def switch_workspace(request: HttpRequest, workspace_id) -> HttpResponse:
    membership = get_object_or_404(Membership, user=request.user, workspace_id=workspace_id)
    request.session[SESSION_KEY] = str(membership.workspace_id)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = "home"
    return redirect(next_url)


# Placeholders until the pages land; each answers 404.
def _not_yet(request, *args, **kwargs):
    from django.http import Http404

    raise Http404


contact_list = contact_search = segment_list = segment_create = segment_detail = segment_edit = (
    _not_yet
)
