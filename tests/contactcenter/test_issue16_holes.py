"""Issue 16, "seen from outside": one test per item this branch fixes, each written to fail on
the code before the fix. Items 3 and 4 (websocket on logout, exact Origin) belong to the
websocket consumers; item 6 (per-address chat limits) is in
tests/channels_app/webchat/test_address_limits.py; the 500s of item 7 on the API are also in
tests/contactcenter/test_api_errors.py."""

import re
import subprocess
from urllib.parse import urlencode

import pytest
import yaml
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from channels_app.models import LocalOutboxItem
from contacts.models import Contact
from conversations.models import Message
from tests.conftest import twilio_signature
from tests.factories import EntryPointFactory, InteractionFactory
from tests.support.api import api_for, error_of
from tests.support.live_server import REPO_ROOT, VENV_BIN

# --- 1. Demo tools ----------------------------------------------------------------------------


@pytest.fixture
def sms_number(service_a):
    return EntryPointFactory(name="SMS A", address="+15005550006", service=service_a)


def simulate(client, sms_number, body="STOP"):
    return client.post(
        reverse("channels-outbox"),
        {"from_number": "+14155550100", "entry_point": sms_number.pk, "body": body},
    )


@pytest.mark.django_db
def test_item1_agents_cannot_post_fake_customer_sms_nor_read_the_outbox(
    client, agent_a, supervisor, sms_number, settings
):
    LocalOutboxItem.objects.create(
        message_id=1, from_address="+15005550006", to_address="+14155550100", body="private"
    )
    for demo_mode in (False, True):
        settings.DEMO_MODE = demo_mode
        client.force_login(agent_a)
        assert client.get(reverse("channels-outbox")).status_code == 404
        assert simulate(client, sms_number).status_code == 404
        assert "Local outbox" not in client.get("/").content.decode()
    assert not Message.objects.exists() and not Contact.objects.exists()

    settings.DEMO_MODE = False
    client.force_login(supervisor)
    assert client.get(reverse("channels-outbox")).status_code == 404, "off outside demo mode"
    assert simulate(client, sms_number).status_code == 404
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_item1_in_demo_mode_supervisors_may_play_the_customer(
    client, supervisor, sms_number, settings, run_on_commit
):
    settings.DEMO_MODE = True
    client.force_login(supervisor)
    page = client.get(reverse("channels-outbox"))
    assert page.status_code == 200
    assert run_on_commit(lambda: simulate(client, sms_number, "Hello")).status_code == 302
    assert Message.objects.get().body == "Hello"
    assert "Local outbox" in client.get("/").content.decode()


# --- 2. Brute force on the login page ---------------------------------------------------------


def login(client, username, password, address="192.0.2.10"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


@pytest.mark.django_db
def test_item2_wrong_passwords_lock_the_login_out(client, agent_a):
    answers = [login(client, "agent_a", f"guess-{n}").status_code for n in range(25)]
    assert answers[:4] == [200] * 4  # the form again, with its error
    assert set(answers[4:]) == {429}  # the 5th failure locks the account out from here

    right = login(client, "agent_a", "password")
    assert right.status_code == 429, "25 wrong passwords, then the right one, must not log in"
    assert "_auth_user_id" not in client.session
    page = right.content.decode()
    assert 'id="login-locked-out"' in page and "locked for 15 minutes" in page

    # Another address is not locked out of this account.
    assert login(Client(), "agent_a", "password", address="198.51.100.20").status_code == 302


@pytest.mark.django_db
def test_item2_a_supervisor_unlocks_from_admin(client, admin_client, agent_a):
    for n in range(6):
        login(client, "agent_a", f"guess-{n}")
    attempt = AccessAttempt.objects.get(username="agent_a")
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "agent_a" in admin_client.get(changelist).content.decode()

    admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert login(client, "agent_a", "password").status_code == 302
    assert client.session["_auth_user_id"] == str(agent_a.pk)


@pytest.mark.django_db
def test_item2_a_success_resets_the_count(client, agent_a):
    for n in range(4):
        login(client, "agent_a", f"guess-{n}")
    assert login(client, "agent_a", "password").status_code == 302
    client.logout()
    for n in range(4):
        assert login(client, "agent_a", f"again-{n}").status_code == 200


# --- 5. Content-Security-Policy and HSTS ------------------------------------------------------


@pytest.mark.django_db
def test_item5_every_page_has_a_strict_content_security_policy(
    client, admin_client, supervisor, settings
):
    settings.DEMO_MODE = True
    client.force_login(supervisor)
    pages = [
        (client, "/"),
        (client, reverse("contact-list")),
        (client, reverse("floor")),
        (client, reverse("channels-outbox")),
        (admin_client, "/admin/"),
        (admin_client, reverse("admin:contactcenter_apitoken_add")),
        (admin_client, reverse("admin:conversations_conversation_changelist")),
        (Client(), "/api/docs/"),
        (Client(), reverse("login")),
    ]
    for browser, url in pages:
        response = browser.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        directives = dict(
            [*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip()
        )
        assert directives["script-src"] == "'self'", (url, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
        assert directives["frame-ancestors"] == "'none'", url
        assert directives["object-src"] == "'none'", url


HSTS_CHECK = """
from django.test import Client
response = Client().get(
    "/accounts/login/", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="cc.example.com"
)
plain = Client().get("/accounts/login/", HTTP_HOST="cc.example.com")
print("STATUS", response.status_code)
print("HSTS", response.get("Strict-Transport-Security", "-"))
print("PLAIN_HSTS", plain.get("Strict-Transport-Security", "-"))
print("SECURE", response.wsgi_request.is_secure())
from django.conf import settings
print("COOKIES", settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)
"""


def test_item5_with_debug_off_behind_tls_responses_carry_hsts(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "contactcenter.settings",
        "DEBUG": "0",
        "TESTING": "0",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "cc.example.com",
        "TRUST_X_FORWARDED": "1",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
    }
    result = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "shell", "-c", HSTS_CHECK],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert out["STATUS"] == "200", result.stdout
    assert out["HSTS"].startswith("max-age=31536000"), result.stdout
    assert out["PLAIN_HSTS"] == "-"  # never over plain HTTP
    assert out["SECURE"] == "True"  # the proxy's X-Forwarded-Proto is trusted
    assert out["COOKIES"] == "True True"


# --- 7. Reachable 500s and over-long webhook fields -------------------------------------------

INBOUND = "/webhooks/twilio/sms/"


def signed_raw_post(client, body: str, params: dict, content_type: str):
    url = f"http://testserver{INBOUND}"
    return client.post(
        INBOUND,
        data=body,
        content_type=content_type,
        HTTP_X_TWILIO_SIGNATURE=twilio_signature(url, params),
    )


@pytest.mark.django_db
def test_item7_a_latin1_webhook_under_debug_is_a_400_not_a_500(
    client, twilio_settings, sms_number, settings
):
    settings.DEBUG = True
    params = {"MessageSid": "SM" + "a" * 32, "From": "+14155550100", "To": "+15005550006"}
    body = urlencode({**params, "Body": "caf\xe9"}, encoding="latin-1")
    client.raise_request_exception = False
    response = signed_raw_post(
        client, body, params, "application/x-www-form-urlencoded; charset=latin-1"
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["Content-Type"]
    assert not Message.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("MessageSid", "SM" + "a" * 300),
        ("MessageSid", "SM<script>"),
        ("From", "+1" + "4" * 60),
        ("Body", "x" * 1601),
        ("Body", "nul\x00byte"),
        ("MediaUrl0", "https://example.com/" + "a" * 2100),
    ],
)
def test_item7_over_long_or_malformed_webhook_fields_are_400s_naming_them(
    twilio_post, sms_number, field, value
):
    params = {
        "MessageSid": "SM" + "b" * 32,
        "From": "+14155550100",
        "To": "+15005550006",
        "Body": "hi",
        "NumMedia": "1" if field == "MediaUrl0" else "0",
        field: value,
    }
    response = twilio_post(INBOUND, params)
    assert response.status_code == 400, response.content
    assert list(error_of(response)["fields"]) == [field]
    assert not Message.objects.exists() and not Contact.objects.exists()


@pytest.mark.django_db
def test_item7_status_callbacks_check_their_fields_too(twilio_post, sms_number):
    response = twilio_post(
        "/webhooks/twilio/sms/status/",
        {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered", "ErrorCode": "1" * 50},
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["ErrorCode"]


# --- 8. The schema matches the answers --------------------------------------------------------


@pytest.fixture
def schema(client):
    return yaml.safe_load(client.get("/api/schema/").content)


def _response_schema(schema, path, method="get", code="200"):
    body = schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]
    if "$ref" in body:
        return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return body


@pytest.mark.django_db
def test_item8_lists_are_documented_as_pages_and_offers_as_an_array(schema, agent_a, administrator):
    conversations = _response_schema(schema, "/api/v1/conversations/")
    assert conversations["properties"]["results"]["type"] == "array"
    messages = _response_schema(schema, "/api/v1/conversations/{id}/messages/")
    assert messages["properties"]["results"]["type"] == "array"
    assert "next" in messages["properties"]
    assert _response_schema(schema, "/api/v1/offers/")["type"] == "array"
    output = schema["components"]["schemas"]["ConversationOutput"]["properties"]
    assert output["agent_username"]["nullable"] is True

    InteractionFactory(conversation__agent=None, agent=None)  # waiting: nobody has it yet
    page = api_for(administrator).get("/api/v1/conversations/").json()
    assert set(page) >= {"count", "next", "previous", "results"}
    assert page["results"][0]["agent_username"] is None
    assert isinstance(api_for(agent_a).get("/api/v1/offers/").json(), list)


# --- 9. The docs work offline -----------------------------------------------------------------


@pytest.mark.django_db
def test_item9_the_docs_load_everything_from_this_server(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by this server (a CDN?)"
        assert client.get(asset).status_code == 200, asset
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    init = [a for a in assets if "script" in a and "swagger-ui" not in a]
    assert init and "/api/schema/" in client.get(init[0]).content.decode()
