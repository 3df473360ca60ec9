from django.http import JsonResponse

from activities.api import ELOQUA_PREFIX


class CaseInsensitiveEloquaPathMiddleware:
    """Eloqua's page writes `/api/REST/2.0/…`: its paths match whatever their case."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info[: len(ELOQUA_PREFIX)].lower() == ELOQUA_PREFIX:
            request.path_info = request.path_info.lower()
            request.path = request.path.lower()
        return self.get_response(request)


class ApiMethodNotAllowedMiddleware:
    """ninja answers a method a path does not take with a plain-text 405; the API's
    clients get the API's error shape instead (the `Allow` header stays)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = request.resolver_match
        if response.status_code == 405 and match and match.namespace == "api":
            body = {
                "status": 405,
                "error": "method_not_allowed",
                "message": f"{request.method} is not allowed here.",
                "errors": [],
            }
            allow = response["Allow"]
            response = JsonResponse(body, status=405)
            response["Allow"] = allow
        return response
