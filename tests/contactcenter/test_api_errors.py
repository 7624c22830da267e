"""One error shape for every 4xx/5xx of the API, ``{"error": {"code", "message", "fields"}}``,
including 401, 403, 404, 405, 406, 415, 429 (with Retry-After) and 500; throttling per token and
per client address."""

import random

import pytest
from django.test import Client

from tests.factories import ContactFactory
from tests.support.api import api_for, error_of


def some_address() -> str:
    """An address of its own for each test (throttle counters outlive a test in Redis)."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.mark.django_db
def test_every_kind_of_error_has_the_one_shape(agent_a, monkeypatch):
    api = api_for(agent_a)
    anonymous = Client()
    cases = {
        400: api.get("/api/v1/conversations/", {"status": "sleeping"}),
        401: anonymous.get("/api/v1/conversations/"),
        403: api_for(agent_a, scopes=["read"]).post("/api/v1/contacts/", {}, format="json"),
        404: api.get("/api/v1/conversations/999999/"),
        405: api.put("/api/v1/conversations/", {}, format="json"),
        406: api.get("/api/v1/conversations/", HTTP_ACCEPT="text/html"),
        415: api.post(
            "/api/v1/contacts/", "first_name=Bo", content_type="text/plain; charset=utf-8"
        ),
    }
    codes = {status: error_of(response)["code"] for status, response in cases.items()}
    for status, response in cases.items():
        assert response.status_code == status, (status, response.content)
        assert response["Content-Type"] == "application/json"
    assert codes == {
        400: "invalid",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        406: "not_acceptable",
        415: "unsupported_media_type",
    }
    assert error_of(cases[400])["fields"] == {
        "status": [error_of(cases[400])["fields"]["status"][0]]
    }
    assert cases[405]["Allow"]


@pytest.mark.django_db
def test_an_unknown_api_url_is_a_json_404(agent_a):
    response = api_for(agent_a).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    page = Client().get("/no-such-page/")
    assert page.status_code == 404 and "html" in page["Content-Type"]


@pytest.mark.django_db
def test_an_unexpected_failure_is_a_json_500_that_names_nothing_internal(agent_a, monkeypatch):
    from conversations.api import views

    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.selectors, "conversation_detail_for_agent", broken)
    client = Client(raise_request_exception=False)
    client.force_login(agent_a)
    response = client.get("/api/v1/conversations/1/")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "secret" not in response.content.decode()


@pytest.mark.django_db
def test_a_token_over_its_rate_gets_429_with_retry_after(agent_a, agent_b, settings):
    settings.API_THROTTLE_TOKEN_RATE = "3/min"
    api, other = api_for(agent_a), api_for(agent_b)
    address = some_address()
    answers = [api.get("/api/v1/offers/", REMOTE_ADDR=address).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = api.get("/api/v1/offers/", REMOTE_ADDR=address)
    assert error_of(refused)["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert other.get("/api/v1/offers/", REMOTE_ADDR=address).status_code == 200


@pytest.mark.django_db
def test_an_address_over_its_rate_gets_429_whoever_it_claims_to_be(agent_a, settings):
    settings.API_THROTTLE_ADDRESS_RATE = "4/min"
    address = some_address()
    anonymous = Client()
    answers = [
        anonymous.get("/api/v1/offers/", REMOTE_ADDR=address).status_code for _ in range(2)
    ] + [api_for(agent_a).get("/api/v1/offers/", REMOTE_ADDR=address).status_code for _ in range(3)]
    assert answers == [401, 401, 200, 200, 429]
    assert api_for(agent_a).get("/api/v1/offers/", REMOTE_ADDR=some_address()).status_code == 200


@pytest.mark.django_db
def test_x_forwarded_for_counts_only_behind_a_configured_proxy(agent_a, settings):
    settings.API_THROTTLE_ADDRESS_RATE = "2/min"
    api = api_for(agent_a)
    proxy = some_address()
    spoofed = [
        api.get("/api/v1/offers/", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=some_address())
        for _ in range(3)
    ]
    assert [r.status_code for r in spoofed] == [200, 200, 429]  # the header is ignored

    settings.NUM_PROXIES = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    behind = some_address()
    answers = [
        api.get(
            "/api/v1/offers/", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"{behind}, {addr}"
        ).status_code
        for addr in (some_address(), some_address())
    ]
    assert answers == [200, 200]  # each client behind the proxy counts for itself


@pytest.mark.django_db
def test_options_on_a_contact_is_answered_not_a_500(agent_a):
    """Issue 16, seen from outside, item 7: OPTIONS /api/v1/contacts/<id>/ was a 500."""
    response = api_for(agent_a).options(f"/api/v1/contacts/{ContactFactory().pk}/")
    assert response.status_code == 200
    assert set(response["Allow"].replace(" ", "").split(",")) >= {"GET", "PUT", "PATCH"}


@pytest.mark.django_db
def test_posting_json_to_the_docs_without_csrf_is_a_405_not_a_500(agent_a):
    """Issue 16, item 7: POST /api/docs/ with JSON and no CSRF token was a 500."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent_a)
    for accept, status in (("application/json", 406), ("*/*", 405), ("text/html", 405)):
        response = browser.post(
            "/api/docs/", '{"a": 1}', content_type="application/json", HTTP_ACCEPT=accept
        )
        assert response.status_code == status, (accept, response.content)
        assert error_of(response)["code"] in ("method_not_allowed", "not_acceptable")
    schema = browser.post("/api/schema/", "{}", content_type="application/json")
    assert schema.status_code == 405 and error_of(schema)["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_a_null_character_in_a_query_parameter_is_a_400_naming_it(agent_a, client):
    """No database compares a NUL: refused before any view, on the API and on pages alike."""
    response = api_for(agent_a).get("/api/v1/contacts/", {"q": "Bo\x00b"})
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["q"]

    client.force_login(agent_a)
    page = client.get("/contacts/", {"q": "Bo\x00b"})
    assert page.status_code == 400
    assert "null character" in page.content.decode()
