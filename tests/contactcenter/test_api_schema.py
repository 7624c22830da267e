"""The OpenAPI schema documents every operation: its parameters, pagination, errors (in the one
error shape) and examples; and it is valid OpenAPI."""

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, items in schema["paths"].items():
        for method, operation in items.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_has_an_example(schema):
    missing = []
    for path, method, operation in operations(schema):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        answers = [
            response.get("content", {}).get("application/json", {})
            for code, response in operation["responses"].items()
            if code.startswith("2")
        ]
        no_content = all(
            not response.get("content")
            for code, response in operation["responses"].items()
            if code.startswith("2")
        )
        if not (body.get("examples") or any(a.get("examples") for a in answers) or no_content):
            missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_every_operation_documents_its_errors_in_the_one_shape(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert {"400", "401", "403", "404", "406", "429"} <= codes, (method, path)
        if method != "get":
            assert {"409", "415"} <= codes, (method, path)
        for code in codes - {"200", "201", "202", "204"}:
            content = operation["responses"][code]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (method, path, code)
        assert operation.get("security"), (method, path)


def test_lists_document_their_pagination_and_filters(schema):
    paginated = {}
    for path, method, operation in operations(schema):
        if method != "get":
            continue
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        if body.get("$ref", "").split("/")[-1].startswith("Paginated"):
            paginated[path] = {p["name"] for p in operation.get("parameters", [])}
    assert set(paginated) == {
        "/api/v1/agents/",
        "/api/v1/contacts/",
        "/api/v1/conversations/",
        "/api/v1/conversations/{id}/messages/",
        "/api/v1/dispositions/",
        "/api/v1/interactions/",
        "/api/v1/services/",
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{id}/deliveries/",
    }
    for path, names in paginated.items():
        assert {"cursor" if path.endswith("/messages/") else "page", "page_size"} <= names, path
    assert {"contact", "service", "status", "channel", "agent", "updated_since"} <= paginated[
        "/api/v1/conversations/"
    ]
    assert {"conversation", "channel", "state", "agent"} <= paginated["/api/v1/interactions/"]
    offers = schema["paths"]["/api/v1/offers/"]["get"]["responses"]["200"]["content"]
    assert offers["application/json"]["schema"]["type"] == "array"


def test_the_schema_is_valid_openapi(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
