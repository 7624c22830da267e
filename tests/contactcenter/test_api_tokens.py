"""API tokens: created in admin and shown once, stored hashed, scoped, revocable, expiring, with
their last-used time; session authentication stays for the desktop's own calls (with CSRF)."""

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from contactcenter import tokens
from contactcenter.models import ApiToken
from tests.support.api import api_for, error_of

URL = "/api/v1/conversations/"


def client_with(key: str, scheme: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


@pytest.mark.django_db
def test_a_token_created_in_admin_is_shown_once_and_stored_hashed(admin_client, agent_a):
    response = admin_client.post(
        reverse("admin:contactcenter_apitoken_add"),
        {"name": "CRM sync", "user": agent_a.pk, "scopes": ["read", "write"]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    key = re.search(r'<code id="api-token-key">([^<]+)</code>', page).group(1)
    token = ApiToken.objects.get()
    assert (token.name, token.user, token.scopes) == ("CRM sync", agent_a, ["read", "write"])
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.values().get())  # only the hash is kept
    change_page = admin_client.get(reverse("admin:contactcenter_apitoken_change", args=[token.pk]))
    assert key not in change_page.content.decode()
    assert client_with(key).get(URL).status_code == 200
    assert client_with(key, "Bearer").get(URL).status_code == 200


@pytest.mark.django_db
def test_wrong_revoked_and_expired_tokens_are_401s(agent_a, admin_client):
    token, key = tokens.api_token_create(user=agent_a, name="t", scopes=["read"])
    assert client_with(key + "x").get(URL).status_code == 401
    assert client_with("cc_" + "A" * 43).get(URL).status_code == 401

    admin_client.post(
        reverse("admin:contactcenter_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    revoked = client_with(key).get(URL)
    assert revoked.status_code == 401
    assert revoked["WWW-Authenticate"] == "Token"
    assert error_of(revoked)["code"] == "authentication_failed"

    _, soon = tokens.api_token_create(
        user=agent_a, name="t2", scopes=["read"], expires_at=timezone.now() + timedelta(days=1)
    )
    assert client_with(soon).get(URL).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert client_with(soon).get(URL).status_code == 401


@pytest.mark.django_db
def test_a_token_of_a_deactivated_user_is_refused(agent_a):
    api = api_for(agent_a)
    agent_a.is_active = False
    agent_a.save()
    assert api.get(URL).status_code == 401


@pytest.mark.django_db
def test_scopes_limit_what_a_token_may_do(agent_a):
    conversation_url = "/api/v1/contacts/"
    reader = api_for(agent_a, scopes=["read"])
    assert reader.get(conversation_url).status_code == 200
    refused = reader.post(conversation_url, {"first_name": "Bo"}, format="json")
    assert refused.status_code == 403
    assert "'write'" in error_of(refused)["message"]

    writer = api_for(agent_a, scopes=["write"])
    assert writer.get(conversation_url).status_code == 403
    assert writer.post(conversation_url, {"first_name": "Bo"}, format="json").status_code == 201

    cti = api_for(agent_a, scopes=["cti"])
    assert cti.get("/api/v1/agent/state/").status_code == 200
    assert cti.post("/api/v1/agent/state/", {"state": "ready"}, format="json").status_code == 200
    assert cti.get(conversation_url).status_code == 403


@pytest.mark.django_db
def test_last_used_time_is_noted_at_most_once_a_minute(agent_a):
    token, key = tokens.api_token_create(user=agent_a, name="t", scopes=["read"])
    assert token.last_used_at is None
    client_with(key).get(URL)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client_with(key).get(URL)
    token.refresh_from_db()
    assert token.last_used_at == first
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        client_with(key).get(URL)
    token.refresh_from_db()
    assert token.last_used_at > first


@pytest.mark.django_db
def test_tokens_need_a_known_scope_and_a_name(agent_a):
    from contactcenter.exceptions import ValidationError

    with pytest.raises(ValidationError) as unknown:
        tokens.api_token_create(user=agent_a, name="t", scopes=["root"])
    assert unknown.value.field == "scopes"
    with pytest.raises(ValidationError):
        tokens.api_token_create(user=agent_a, name="t", scopes=[])
    with pytest.raises(ValidationError):
        tokens.api_token_create(user=agent_a, name=" ", scopes=["read"])


@pytest.mark.django_db
def test_keys_of_the_old_authtoken_app_keep_working(agent_a):
    """Keys of ``rest_framework.authtoken`` (40 hex characters) are imported by a migration."""
    import importlib

    from django.apps import apps as global_apps
    from django.db import connection

    migration = importlib.import_module("contactcenter.migrations.0005_import_authtoken_tokens")
    legacy_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer, "
            "created timestamp with time zone)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer, "
            "created datetime)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [legacy_key, agent_a.pk, timezone.now()],
        )

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.import_tokens(global_apps, editor)

    assert client_with(legacy_key).get(URL).status_code == 200
    assert ApiToken.objects.get().scopes == ["read", "write", "cti", "webhooks"]


@pytest.mark.django_db
def test_the_desktop_uses_its_session_with_csrf(agent_a):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent_a)
    assert browser.get(URL).status_code == 200
    refused = browser.post(
        "/api/v1/agent/state/", {"state": "ready"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert "CSRF" in error_of(refused)["message"]
    browser.get("/")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/v1/agent/state/",
        {"state": "ready"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 200


@pytest.mark.django_db
def test_api_token_admin_changelist_query_count_is_constant(admin_client, agent_a):
    from tests.utils import count_queries

    url = reverse("admin:contactcenter_apitoken_changelist")
    for n in range(2):
        tokens.api_token_create(user=agent_a, name=f"t{n}", scopes=["read"])
    admin_client.get(url)
    two = count_queries(lambda: admin_client.get(url))
    for n in range(18):
        tokens.api_token_create(user=agent_a, name=f"u{n}", scopes=["read"])
    assert count_queries(lambda: admin_client.get(url)) == two
