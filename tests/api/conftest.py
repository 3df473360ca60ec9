"""API fixtures: tokens for the workspace (read and read-write) and for the outsider's."""

import json

import pytest

from contacts.models import ApiToken


class ApiClient:
    """The test client speaking JSON with a bearer token."""

    def __init__(self, client, raw_token: str | None):
        self.client = client
        self.token = raw_token

    def _headers(self, headers):
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return auth | (headers or {})

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path, body=None, headers=None, raw: bytes | str | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            path, data, content_type="application/json", headers=self._headers(headers)
        )

    def send(self, method, path, body=None, headers=None):
        return self.client.generic(
            method,
            path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers=self._headers(headers),
        )


def _token(workspace, scope):
    return ApiToken.issue(workspace=workspace, scope=scope, name=f"{scope} token")[1]


@pytest.fixture
def write_token(workspace) -> str:
    return _token(workspace, ApiToken.Scope.WRITE)


@pytest.fixture
def read_token(workspace) -> str:
    return _token(workspace, ApiToken.Scope.READ)


@pytest.fixture
def outsider_token(other_workspace) -> str:
    return _token(other_workspace, ApiToken.Scope.WRITE)


@pytest.fixture
def api(client, write_token) -> ApiClient:
    return ApiClient(client, write_token)


@pytest.fixture
def read_api(client, read_token) -> ApiClient:
    return ApiClient(client, read_token)


@pytest.fixture
def outsider_api(client, outsider_token) -> ApiClient:
    return ApiClient(client, outsider_token)


@pytest.fixture
def anonymous_api(client) -> ApiClient:
    return ApiClient(client, None)
