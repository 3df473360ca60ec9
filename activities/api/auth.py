"""API authentication: bearer tokens (and HTTP Basic whose password is a token, for Eloqua)."""

from datetime import timedelta

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthorizationError
from ninja.security import HttpBasicAuth, HttpBearer

from config import compiled
from contacts.models import ApiToken

# last_used_at is written at most this often per token, not on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def authenticate_token(request: HttpRequest, raw: str, *, write: bool) -> ApiToken | None:
    """The active token for `raw`, set on the request with its workspace; None if unknown.

    A read token on a write endpoint is refused with 403, not 401: it is known, not allowed.
    """
    if not raw or len(raw) > 200:
        return None
    values = {"token_hash": ApiToken.hash(raw)}
    found = compiled.instances("api-token", ApiToken, _active_token, values, related=["workspace"])
    if not found:
        return None
    token = found[0]
    if write and not token.can_write:
        raise AuthorizationError(message="This token is read-only.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    request.api_token = token
    request.workspace = token.workspace
    return token


def _active_token(token_hash) -> QuerySet[ApiToken]:
    # Every API call reads it: from SQL the ORM compiled once (`compiled`). No ordering:
    # the hash is unique.
    return ApiToken.objects.filter(token_hash=token_hash, revoked_at__isnull=True)


class TokenAuth(HttpBearer):
    openapi_description = "A Trail API token: `Authorization: Bearer trl_…`."

    def __init__(self, *, write: bool = False):
        self.write = write
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return authenticate_token(request, token, write=self.write)


class BasicTokenAuth(HttpBasicAuth):
    """Eloqua's clients send `--user "Company\\User:token"`: the password is the token."""

    openapi_description = "HTTP Basic whose password is a Trail API token (Eloqua clients)."

    def __init__(self, *, write: bool = False):
        self.write = write
        super().__init__()

    def authenticate(self, request: HttpRequest, username: str, password: str) -> ApiToken | None:
        return authenticate_token(request, password, write=self.write)


READ = TokenAuth()
WRITE = TokenAuth(write=True)
ELOQUA_READ = [TokenAuth(), BasicTokenAuth()]
ELOQUA_WRITE = [TokenAuth(write=True), BasicTokenAuth(write=True)]
