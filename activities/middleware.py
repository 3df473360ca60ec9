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
