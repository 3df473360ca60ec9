"""Rate limits: API calls per token and per client address, failed logins per username
and per client address (docs/design.md, "Rate limits")."""

import time

import pytest

from activities.models import Activity
from contacts.models import ApiToken
from tests.api.conftest import ApiClient
from tests.test_settings import run

CONQUEST = "/v1/activities"


@pytest.fixture
def clock(monkeypatch):
    """Time as the counters see it, moved forward by `clock.advance(seconds)`."""

    class Clock:
        offset = 0.0

        def advance(self, seconds: float) -> None:
            self.offset += seconds

    clock = Clock()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + clock.offset)
    return clock


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json() == {
        "status": 429,
        "error": "too_many_requests",
        "message": "Too many requests: try again after Retry-After seconds.",
        "errors": [],
    }


# API calls per token


def token_api(client, workspace) -> ApiClient:
    """The test client with a new read-write token of `workspace` (all named alike)."""
    raw = ApiToken.issue(workspace=workspace, scope=ApiToken.Scope.WRITE, name="Zapier")[1]
    return ApiClient(client, raw)


@pytest.fixture
def api(client, workspace) -> ApiClient:
    return token_api(client, workspace)


@pytest.fixture
def anonymous_api(client) -> ApiClient:
    return ApiClient(client, None)


@pytest.fixture
def two_calls_a_minute(settings):
    settings.API_TOKEN_RATE = "2/m"
    settings.API_ANONYMOUS_RATE = "2/m"


def contact_list(api: ApiClient, workspace, headers=None):
    return api.get(f"/orgs/{workspace.pk}/contacts", headers=headers)


def test_a_call_past_the_token_rate_is_refused_with_retry_after(api, workspace, two_calls_a_minute):
    assert [contact_list(api, workspace).status_code for _ in range(2)] == [200, 200]

    assert_throttled(contact_list(api, workspace))


def test_a_throttled_post_writes_nothing(api, workspace, contact, two_calls_a_minute):
    def post(number: int):
        body = {"activityTypeKey": "api:message", "memberId": str(contact.pk), "title": "Hi"}
        return api.post(CONQUEST, body | {"externalId": f"call-{number}"})

    assert [post(number).status_code for number in range(2)] == [200, 200]
    stored = Activity.objects.count()

    assert_throttled(post(2))
    assert Activity.objects.count() == stored


def test_another_token_keeps_its_own_count(
    api, client, workspace, other_workspace, two_calls_a_minute
):
    for _ in range(2):
        contact_list(api, workspace)
    assert contact_list(api, workspace).status_code == 429

    assert contact_list(token_api(client, workspace), workspace).status_code == 200
    assert contact_list(token_api(client, other_workspace), other_workspace).status_code == 200


def test_calls_pass_again_once_the_window_has_passed(api, workspace, two_calls_a_minute, clock):
    for _ in range(2):
        contact_list(api, workspace)
    assert contact_list(api, workspace).status_code == 429

    clock.advance(61)

    assert contact_list(api, workspace).status_code == 200


def test_the_eloqua_path_is_throttled_in_the_same_shape(api, two_calls_a_minute):
    for _ in range(2):
        api.get("/api/rest/2.0/data/activity/1")

    assert_throttled(api.get("/api/rest/2.0/data/activity/1"))


# Calls without a valid token, per client address


def test_calls_without_a_token_are_refused_with_401_then_throttled(
    anonymous_api, workspace, two_calls_a_minute
):
    assert [contact_list(anonymous_api, workspace).status_code for _ in range(2)] == [401, 401]

    assert_throttled(contact_list(anonymous_api, workspace))


def test_bad_tokens_count_against_their_address(client, workspace, two_calls_a_minute):
    for number in range(2):
        contact_list(ApiClient(client, f"trl_guess{number}"), workspace)

    assert_throttled(contact_list(ApiClient(client, "trl_guess2"), workspace))


def test_another_address_keeps_its_own_count(anonymous_api, workspace, two_calls_a_minute):
    for _ in range(2):
        contact_list(anonymous_api, workspace)
    assert contact_list(anonymous_api, workspace).status_code == 429

    other = anonymous_api.client.get(f"/orgs/{workspace.pk}/contacts", REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 401


def test_a_forwarded_address_is_not_believed(anonymous_api, workspace, two_calls_a_minute):
    for number in range(2):
        contact_list(anonymous_api, workspace, headers={"X-Forwarded-For": f"192.0.2.{number}"})

    spoofed = contact_list(anonymous_api, workspace, headers={"X-Forwarded-For": "192.0.2.9"})
    assert spoofed.status_code == 429


# The OpenAPI document


def test_every_operation_documents_429_as_error_out(client):
    document = client.get("/api/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            schema = operation["responses"]["429"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)


# Failed logins, per username and per client address


@pytest.fixture
def login_limits(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURES_PER_IP = 5
    settings.LOGIN_FAILURE_WINDOW = 900


def log_in(client, username: str, password: str, path: str = "/login/", **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def fail_logins(client, username: str, times: int, path: str = "/login/") -> list[int]:
    return [log_in(client, username, "wrong", path).status_code for _ in range(times)]


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 900
    page = response.content.decode()
    assert "Too many failed logins. Try again in" in page
    assert '<header class="site-header">' in page
    assert 'name="password"' in page
    assert "_auth_user_id" not in response.client.session


def test_failures_past_the_username_limit_lock_it_out(client, owner, login_limits):
    assert fail_logins(client, "alice", 3) == [200, 200, 200]

    assert_locked_out(log_in(client, "alice", "password"))


def test_a_locked_out_username_is_locked_whatever_its_case(client, owner, login_limits):
    fail_logins(client, "ALICE", 3)

    assert_locked_out(log_in(client, "alice", "password"))


def test_the_lockout_page_keeps_the_username_not_the_password(client, owner, login_limits):
    fail_logins(client, "alice", 3)

    response = log_in(client, "alice", "s3cret-guess")

    page = response.content.decode()
    assert response.status_code == 429
    assert 'value="alice"' in page
    assert "s3cret-guess" not in page


def test_another_username_from_the_same_address_still_logs_in(
    client, owner, teammate, login_limits
):
    fail_logins(client, "alice", 3)
    assert log_in(client, "alice", "password").status_code == 429

    assert log_in(client, "bob", "password").status_code == 302
    assert client.session["_auth_user_id"] == str(teammate.pk)


def test_a_correct_password_under_the_limit_logs_in_and_counts_nothing_off(
    client, owner, login_limits
):
    fail_logins(client, "alice", 2)

    assert log_in(client, "alice", "password").status_code == 302
    client.post("/logout/")

    fail_logins(client, "alice", 1)
    assert_locked_out(log_in(client, "alice", "password"))


def test_failures_past_the_address_limit_lock_every_username_out(
    client, owner, teammate, login_limits
):
    for name in ["carol", "dave", "erin", "frank", "grace"]:
        log_in(client, name, "wrong")

    assert_locked_out(log_in(client, "alice", "password"))
    assert log_in(client, "bob", "password", REMOTE_ADDR="192.0.2.7").status_code == 302


def test_a_forwarded_address_does_not_escape_the_address_limit(client, owner, login_limits):
    for number, name in enumerate(["carol", "dave", "erin", "frank", "grace"]):
        log_in(client, name, "wrong", headers={"X-Forwarded-For": f"192.0.2.{number}"})

    locked = log_in(client, "alice", "password", headers={"X-Forwarded-For": "192.0.2.9"})
    assert locked.status_code == 429


def test_logins_pass_again_once_the_window_has_passed(client, owner, login_limits, clock):
    fail_logins(client, "alice", 3)
    assert log_in(client, "alice", "password").status_code == 429

    clock.advance(900)

    assert log_in(client, "alice", "password").status_code == 302


def test_the_admin_login_is_behind_the_same_limits(client, owner, login_limits):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    assert fail_logins(client, "alice", 3, path="/admin/login/") == [200, 200, 200]

    assert_locked_out(log_in(client, "alice", "password", path="/admin/login/"))
    assert log_in(client, "alice", "password").status_code == 429


def test_an_outsized_username_is_refused_as_a_failure_not_an_error(client, db, login_limits):
    assert fail_logins(client, "a" * 100_000, 4) == [200, 200, 200, 429]


# Settings


def test_redis_url_makes_the_shared_cache_redis_and_leaves_rendered_entries_local():
    code = (
        "from config import settings as s;"
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'],"
        " s.CACHES['rendered-entries']['BACKEND'])"
    )
    result = run(["-c", code], REDIS_URL="redis://cache.internal:6379/0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache.internal:6379/0",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("API_TOKEN_RATE", "lots", "API_TOKEN_RATE must be calls per period like 100/m"),
        ("API_ANONYMOUS_RATE", "0/m", "API_ANONYMOUS_RATE must be calls per period"),
        ("LOGIN_FAILURES_PER_IP", "0", "LOGIN_FAILURES_PER_IP must be at least 1"),
        ("LOGIN_FAILURE_WINDOW", "soon", "LOGIN_FAILURE_WINDOW must be an integer"),
    ],
)
def test_a_bad_limit_refuses_to_start(name, value, says):
    result = run(["-c", "import config.settings"], **{name: value})
    assert result.returncode != 0
    assert says in result.stderr
