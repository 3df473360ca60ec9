"""The OpenAPI document (`/api/openapi.json`) and the docs page (`/api/docs`)."""

import re

import pytest
from django.contrib.staticfiles import finders

ELOQUA = "/api/rest/2.0/data/activity"
CONTACT = "/orgs/{org_id}/contacts/{contact_id}"
MEMBERSHIP = "/orgs/{org_id}/segments/{segment_id}/contacts/{contact_id}"

MIRRORS = {
    ("post", "/v1/activities"),  # Conquest
    ("post", "/api/activity-entries"),  # the activity-stream SDK
    ("post", "/api/v2/activity"),  # Reevo
    ("post", ELOQUA),
    ("get", ELOQUA + "/{id}"),
    ("get", CONTACT + "/activities"),  # Invent
}
NATIVE = {
    ("get", "/orgs/{org_id}/contacts"),
    ("post", "/orgs/{org_id}/contacts"),
    ("get", CONTACT),
    ("patch", CONTACT),
    ("post", CONTACT + "/notes"),
    ("post", CONTACT + "/block"),
    ("post", CONTACT + "/unblock"),
    ("post", CONTACT + "/unsubscribe"),
    ("post", CONTACT + "/resubscribe"),
    ("get", "/orgs/{org_id}/segments"),
    ("post", "/orgs/{org_id}/segments"),
    ("put", MEMBERSHIP),
    ("delete", MEMBERSHIP),
    ("get", "/orgs/{org_id}/activities"),
}
ERROR_OUT = {"$ref": "#/components/schemas/ErrorOut"}


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_the_document_is_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] == "Trail API"


def test_every_mirror_and_native_endpoint_is_listed(document):
    assert {(method, path) for method, path, _ in operations(document)} == MIRRORS | NATIVE


def test_every_operation_has_a_unique_id_and_a_summary(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert all(operation["summary"] for _, _, operation in operations(document))


def test_operations_take_a_bearer_token_and_eloquas_also_basic(document):
    schemes = document["components"]["securitySchemes"]
    assert {name: (scheme["type"], scheme["scheme"]) for name, scheme in schemes.items()} == {
        "TokenAuth": ("http", "bearer"),
        "BasicTokenAuth": ("http", "basic"),
    }
    for _, path, operation in operations(document):
        expected = [{"TokenAuth": []}]
        if path.startswith(ELOQUA):
            expected.append({"BasicTokenAuth": []})
        assert operation["security"] == expected, path


def test_every_error_is_documented_as_error_out(document):
    for method, path, operation in operations(document):
        errors = {
            status: response
            for status, response in operation["responses"].items()
            if int(status) >= 400
        }
        # Every operation wants a token and is rate-limited; every path refuses the
        # methods it does not take.
        assert {"401", "405", "429"} <= set(errors), (method, path)
        for status, response in errors.items():
            schema = response["content"]["application/json"]["schema"]
            assert schema == ERROR_OUT, (method, path, status)


def test_bodies_may_be_refused_as_invalid_or_too_large(document):
    for method, path, operation in operations(document):
        if "requestBody" not in operation:
            continue
        invalid = "400" if path.startswith(ELOQUA) else "422"
        assert {invalid, "413"} <= set(operation["responses"]), (method, path)


def test_error_out_has_the_one_error_shape(document):
    schemas = document["components"]["schemas"]
    error_out = schemas["ErrorOut"]
    assert set(error_out["properties"]) == {"status", "error", "message", "errors"}
    assert set(error_out["required"]) == {"status", "error", "message"}
    field_error = schemas["FieldError"]
    assert set(field_error["properties"]) == set(field_error["required"]) == {"field", "message"}


def test_a_wrong_method_is_answered_in_the_error_shape(api, workspace):
    response = api.send("DELETE", "/v1/activities")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {
        "status": 405,
        "error": "method_not_allowed",
        "message": "DELETE is not allowed here.",
        "errors": [],
    }


def test_the_docs_page_serves_its_assets_itself(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    page = response.content.decode()
    for cdn in ("cdn.", "jsdelivr", "unpkg"):
        assert cdn not in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    assert "/api/openapi.json" in page
