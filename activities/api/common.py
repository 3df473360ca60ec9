"""What every API module needs: the calling integration, scoped lookups, time formats."""

import uuid
from datetime import UTC, datetime

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja.renderers import JSONRenderer

from activities.models import Activity
from activities.services import Actor
from config import compiled
from contacts.models import Contact, Workspace


def integration_actor(request: HttpRequest) -> Actor:
    """The token's integration, named after the token, as the actor of what it posts."""
    token = request.api_token
    return Actor(
        kind=Activity.ActorKind.INTEGRATION,
        name=token.name or "API",
        external_id=str(token.pk),
    )


def as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def workspace_for(request: HttpRequest, org_id: str) -> Workspace:
    """The token's workspace when `org_id` names it (by id or slug); 404 for any other."""
    workspace = request.workspace
    if org_id not in (str(workspace.pk), workspace.slug):
        raise Http404
    return workspace


def get_contact(request: HttpRequest, contact_id) -> Contact:
    """The workspace's contact with this id (a UUID), or 404. Most calls read one: from SQL
    the ORM compiled once (`compiled`)."""
    pk = as_uuid(contact_id)
    values = {"workspace_id": request.workspace.pk, "contact_id": pk}
    found = pk and compiled.instances("api-contact", Contact, _contact, values)
    return _found(found[0] if found else None)


def _contact(workspace_id, contact_id) -> QuerySet[Contact]:
    return Contact.objects.filter(workspace_id=workspace_id, pk=contact_id)


def get_activity(request: HttpRequest, activity_id) -> Activity:
    rows = Activity.objects.in_workspace(request.workspace).select_related("type")
    return _found(find_by_id(rows, activity_id))


def find_by_id(rows: QuerySet, raw_id):
    """The row with this id (a UUID), or None. `get` orders nothing, where `first` would
    sort by the model's ordering."""
    pk = as_uuid(raw_id)
    if pk is None:
        return None
    try:
        return rows.get(pk=pk)
    except rows.model.DoesNotExist:
        return None


def _found(row):
    if row is None:
        raise Http404
    return row


def iso_z(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as every mirrored API writes times."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# The API's renderer (NinjaAPI's default).
RENDERER = JSONRenderer()


def rendered(request: HttpRequest, response: HttpResponse, data) -> HttpResponse:
    """`data` as the API renders an answer, into the operation's `response`, without ninja
    validating it against the response schema again: for answers built to the schema
    (their tests hold them to it) whose validation costs more than building them."""
    response.content = RENDERER.render(request, data, response_status=response.status_code)
    return response
