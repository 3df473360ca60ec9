"""The JSON API: five vendors' activity APIs mirrored, and native endpoints.

Every endpoint calls activities.services and activities.timeline, as the pages do.
"""

from django.http import HttpRequest
from ninja import NinjaAPI

from activities.api import activity_entries, conquest, eloqua, invent, native, reevo
from activities.api.auth import READ
from activities.api.errors import install_error_handlers
from activities.api.parser import StrictJsonParser
from activities.api.throttles import PER_TOKEN

ELOQUA_PREFIX = "/api/rest/"


def validation_status(request: HttpRequest) -> int:
    """Eloqua's page documents 400 for a bad body; the others answer 422."""
    return 400 if request.path.lower().startswith(ELOQUA_PREFIX) else 422


api = NinjaAPI(
    title="Trail API",
    version="1.0",
    description=(
        "Post activities in the shapes of five vendors' APIs (Conquest, an activity-stream "
        "SDK, Reevo, Oracle Eloqua, Invent) and read contacts' timelines. Authenticate with "
        "`Authorization: Bearer <token>` (tokens from `manage.py create_api_token` or the "
        "admin). Errors share one shape: `ErrorOut`. Calls are rate-limited per token; past "
        "the limit they answer 429 with `Retry-After` (seconds)."
    ),
    auth=READ,
    throttle=PER_TOKEN,
    parser=StrictJsonParser(),
    urls_namespace="api",
    openapi_url="/api/openapi.json",
    docs_url="/api/docs",
)
install_error_handlers(api, validation_status=validation_status)

api.add_router("", conquest.router, tags=["Conquest"])
api.add_router("", activity_entries.router, tags=["Activity entries"])
api.add_router("", reevo.router, tags=["Reevo"])
api.add_router("", eloqua.router, tags=["Eloqua"])
api.add_router("", invent.router, tags=["Invent"])
api.add_router("", native.router, tags=["Contacts, segments and the feed"])
