"""Failed logins are limited per username and per client address, on the login page and on
the admin's (docs/design.md, "Rate limits").

The counts are in the default cache (Redis when REDIS_URL is set, shared by every worker),
in fixed windows of LOGIN_FAILURE_WINDOW seconds: add() and incr() are atomic there.
"""

import functools
import hashlib
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _counters(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    """The cache key of each count that an attempt for `username` adds to, and its limit."""
    window = int(time.time() // settings.LOGIN_FAILURE_WINDOW)
    subjects = [
        ("username", username.casefold(), settings.LOGIN_FAILURES_PER_USERNAME),
        ("ip", request.META.get("REMOTE_ADDR", ""), settings.LOGIN_FAILURES_PER_IP),
    ]
    return [
        (f"login-failures:{kind}:{window}:{hashlib.sha256(value.encode()).hexdigest()}", limit)
        for kind, value, limit in subjects
    ]


def _count_failure(counters: list[tuple[str, int]]) -> None:
    for key, _ in counters:
        if not cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW):
            try:
                cache.incr(key)
            except ValueError:  # gone since add(): expired or pushed out
                cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)


def _locked_out(request: HttpRequest, username: str) -> HttpResponse:
    """The login page again, saying when to try again (the window's end)."""
    window = settings.LOGIN_FAILURE_WINDOW
    retry_after = math.ceil(window - time.time() % window)
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "next": request.POST.get("next", ""),
        "retry_minutes": math.ceil(retry_after / 60),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def limit_failed_logins(login_view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`login_view` behind the limits. A POST past one is answered 429 without trying its
    password; a POST that does not end logged in as the username it names is a failure."""

    @functools.wraps(login_view)
    def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        username = request.POST.get("username", "").strip()
        counters = _counters(request, username)
        counts = cache.get_many([key for key, _ in counters])
        if any(counts.get(key, 0) >= limit for key, limit in counters):
            return _locked_out(request, username)
        response = login_view(request, *args, **kwargs)
        if not (request.user.is_authenticated and request.user.get_username() == username):
            _count_failure(counters)
        return response

    return limited
