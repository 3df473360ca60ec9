"""How often the API may be called: per token, and without a valid token per client address.

The rates are settings (API_TOKEN_RATE, API_ANONYMOUS_RATE), read at each call; the counts
live in the default cache (Redis when REDIS_URL is set, shared by every worker).
"""

import threading

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import AnonRateThrottle, AuthRateThrottle, SimpleRateThrottle


def _per_thread(name: str) -> property:
    return property(
        lambda self: getattr(self.thread, name),
        lambda self, value: setattr(self.thread, name, value),
    )


class SettingRateThrottle(SimpleRateThrottle):
    """ninja keeps one throttle object per API, and SimpleRateThrottle keeps the call it is
    checking on it (key, history, now) until wait(): with gunicorn's threads, two calls
    would mix theirs, so these live per thread."""

    rate_setting: str
    key = _per_thread("key")
    history = _per_thread("history")
    now = _per_thread("now")

    def __init__(self):
        self.thread = threading.local()
        super().__init__(rate=getattr(settings, self.rate_setting))

    def allow_request(self, request: HttpRequest) -> bool:
        self.num_requests, self.duration = self.parse_rate(getattr(settings, self.rate_setting))
        return super().allow_request(request)

    def wait(self) -> float:
        """Seconds until the oldest call of the window leaves it, making room for one more."""
        return self.duration - (self.now - self.history[-1])


class TokenRateThrottle(SettingRateThrottle, AuthRateThrottle):
    """Per API token, by its id (tokens' names and prefixes need not be unique)."""

    rate_setting = "API_TOKEN_RATE"

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class AnonymousRateThrottle(SettingRateThrottle, AnonRateThrottle):
    """Per client address (REMOTE_ADDR: settings.NINJA_NUM_PROXIES is 0), for the calls that
    bring no valid token. Every endpoint needs one, so these are counted as they are refused
    (activities.api.errors), not before."""

    rate_setting = "API_ANONYMOUS_RATE"


PER_TOKEN = TokenRateThrottle()
ANONYMOUS = AnonymousRateThrottle()
