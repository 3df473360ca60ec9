"""One error shape for the whole API, whatever went wrong.

{"status": 422, "error": "validation_error", "message": "…",
 "errors": [{"field": "memberId", "message": "Field required"}]}
"""

import math

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from activities.api import throttles
from activities.api.parser import RefusedValue

# Request parameters are nested under these in ninja's error locations; clients know
# their fields by name only.
PARAMETER_SOURCES = {"body", "query", "path", "header", "cookie", "form", "payload"}


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    status: int
    error: str
    message: str
    errors: list[FieldError] = []


ERROR_RESPONSES = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    405: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "validation_error",
    429: "too_many_requests",
}


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The errors an operation documents: `statuses`; 405, which every path answers for the
    methods it does not take (in this shape: activities.middleware); and 429, since every
    operation is rate-limited (activities.api.throttles)."""
    return {status: ERROR_RESPONSES[status] for status in (*statuses, 405, 429)}


class InvalidInput(Exception):
    """Invalid input found after parsing (a missing contact, a mismatched type…).

    `status` is 400 on the Eloqua path, as its page documents, and 422 elsewhere.
    """

    def __init__(self, errors: list[tuple[str, str]], *, status: int = 422, message: str = ""):
        self.errors = errors
        self.status = status
        self.message = message or "The request is invalid."
        super().__init__(self.message)


def error_response(
    api: NinjaAPI, request: HttpRequest, status: int, message: str, errors=()
) -> HttpResponse:
    body = {
        "status": status,
        "error": ERROR_CODES.get(status, "error"),
        "message": message,
        "errors": [{"field": field, "message": text} for field, text in errors],
    }
    response = api.create_response(request, body, status=status)
    if status == 401:
        # The Eloqua path also takes HTTP Basic whose password is a token.
        eloqua = request.path.startswith("/api/rest/")
        response["WWW-Authenticate"] = (
            'Bearer realm="trail", Basic realm="trail"' if eloqua else 'Bearer realm="trail"'
        )
    return response


def field_name(location) -> str:
    parts = [str(part) for part in location if str(part) not in PARAMETER_SOURCES]
    return ".".join(parts) or "body"


def install_error_handlers(api: NinjaAPI, *, validation_status) -> None:
    """`validation_status(request)` says whether this path answers bad input with 400 or 422."""

    @api.exception_handler(ValidationError)
    def invalid_request(request, exc: ValidationError):
        errors = [(field_name(e.get("loc", ())), e.get("msg", "Invalid value")) for e in exc.errors]
        return error_response(
            api, request, validation_status(request), "The request is invalid.", errors
        )

    @api.exception_handler(InvalidInput)
    def invalid_input(request, exc: InvalidInput):
        return error_response(api, request, exc.status, exc.message, exc.errors)

    @api.exception_handler(DjangoValidationError)
    def invalid_for_the_domain(request, exc: DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = [(name, msg) for name, msgs in exc.message_dict.items() for msg in msgs]
        else:
            errors = [("body", msg) for msg in exc.messages]
        return error_response(
            api, request, validation_status(request), "The request is invalid.", errors
        )

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        response = error_response(
            api, request, 429, "Too many requests: try again after Retry-After seconds."
        )
        response["Retry-After"] = str(math.ceil(exc.wait))
        return response

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc: AuthenticationError):
        if not throttles.ANONYMOUS.allow_request(request):
            return throttled(request, Throttled(wait=throttles.ANONYMOUS.wait()))
        return error_response(
            api, request, 401, "A valid API token is required (Authorization: Bearer …)."
        )

    @api.exception_handler(RequestDataTooBig)
    def too_large(request, exc: RequestDataTooBig):
        return error_response(api, request, 413, "The request body is too large.")

    @api.exception_handler(TooManyFieldsSent)
    def too_many_parameters(request, exc: TooManyFieldsSent):
        return error_response(
            api, request, validation_status(request), "The request has too many parameters."
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if isinstance(exc.__cause__, RefusedValue):
            refused = exc.__cause__
            return error_response(
                api,
                request,
                validation_status(request),
                "The request is invalid.",
                [(refused.field, str(refused))],
            )
        status = exc.status_code
        if status == 400:
            status = validation_status(request)
        return error_response(api, request, status, str(exc))

    @api.exception_handler(Http404)
    def not_found(request, exc: Http404):
        return error_response(api, request, 404, "Not found.")
