"""Idempotency-Key on every creating POST of the API: the same key twice creates one object and
replays the first answer; the same key with another body is a 422 that changes nothing."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from drf_spectacular.generators import SchemaGenerator

from channels_app.models import ApiChannelSettings, CtiEvent
from contactcenter.api.idempotency import HEADER
from contactcenter.models import IdempotencyKey, WebhookSubscription
from contacts.models import Contact, ContactMerge, Identity
from conversations.models import Channel, Message
from tests.factories import ContactFactory, EntryPointFactory, InteractionFactory, UserFactory
from tests.support.api import api_for, error_of


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def test_every_creating_post_documents_the_idempotency_key():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    creating = {
        path
        for path, operations in schema["paths"].items()
        if "201" in operations.get("post", {}).get("responses", {})
    }
    with_key = {
        path
        for path, operations in schema["paths"].items()
        if any(p["name"] == HEADER for p in operations.get("post", {}).get("parameters", []))
    }
    assert creating, "the schema lost its creating operations"
    assert creating <= with_key, sorted(creating - with_key)
    assert {path for path in creating if path not in CASES_BY_PATH} == set(), (
        "a new creating POST: add a case to CASES"
    )


@dataclass
class Case:
    path: str
    setup: Callable  # (agent_a, supervisor) -> (user, url, body, other body)
    count: Callable[[], int]


def _contact(agent_a, supervisor):
    return agent_a, "/api/v1/contacts/", {"first_name": "Bo"}, {"first_name": "Cy"}


def _identity(agent_a, supervisor):
    contact = ContactFactory()
    url = f"/api/v1/contacts/{contact.pk}/identities/"
    return (
        agent_a,
        url,
        {"kind": "phone", "value": "+14155550199"},
        {"kind": "phone", "value": "+14155550198"},
    )


def _message(agent_a, supervisor):
    conversation = InteractionFactory(conversation__agent=agent_a, channel="chat").conversation
    url = f"/api/v1/conversations/{conversation.pk}/messages/"
    return agent_a, url, {"body": "Hello"}, {"body": "Hello again"}


def _merge(agent_a, supervisor):
    survivor, merged, third = ContactFactory(), ContactFactory(), ContactFactory()
    return (
        supervisor,
        "/api/v1/contacts/merges/",
        {"survivor": survivor.pk, "merged": merged.pk},
        {"survivor": survivor.pk, "merged": third.pk},
    )


def _webhook(agent_a, supervisor):
    body = {"name": "CRM", "url": "https://crm.example.com/h", "event_types": ["message.created"]}
    return supervisor, "/api/v1/webhooks/", body, {**body, "name": "Other"}


def _api_inbound(agent_a, supervisor):
    entry_point = EntryPointFactory(channel=Channel.API, address="bridge")
    ApiChannelSettings.objects.create(entry_point=entry_point, reply_url="https://x.example/r")
    user = UserFactory(username="bridge-user")
    user.user_permissions.add(Permission.objects.get(codename="post_api_inbound"))
    body = {
        "message_id": "m-1",
        "identities": [{"kind": "messenger", "value": "tg:1"}],
        "body": "Hi",
    }
    return user, "/api/v1/channels/api/bridge/messages/", body, {**body, "message_id": "m-2"}


def _cti_event(agent_a, supervisor):
    EntryPointFactory(channel=Channel.VOICE, address="+14155550100")
    user = UserFactory(username="pbx-user")
    user.user_permissions.add(Permission.objects.get(codename="report_cti_calls"))
    body = {"call_id": "c-1", "event": "new", "sequence": 1, "from": "+14155550123",
            "to": "+14155550100"}  # fmt: skip
    return user, "/api/v1/cti/events/", body, {**body, "call_id": "c-2"}


def _supervised(agent_a, supervisor, path):
    service = agent_a.agent_profile.services.get()
    conversation = InteractionFactory(
        conversation__agent=agent_a, conversation__service=service, service=service, channel="chat"
    ).conversation
    url = f"/api/v1/supervisor/conversations/{conversation.pk}/{path}/"
    return supervisor, url, {"body": "Hello"}, {"body": "Hello again"}


def _barge(agent_a, supervisor):
    return _supervised(agent_a, supervisor, "barge")


def _whisper(agent_a, supervisor):
    return _supervised(agent_a, supervisor, "whisper")


CASES = [
    Case("/api/v1/contacts/", _contact, lambda: Contact.objects.count()),
    Case("/api/v1/contacts/{id}/identities/", _identity, lambda: Identity.objects.count()),
    Case(
        "/api/v1/conversations/{id}/messages/",
        _message,
        lambda: Message.objects.filter(direction="outbound").count(),
    ),
    Case("/api/v1/contacts/merges/", _merge, lambda: ContactMerge.objects.count()),
    Case("/api/v1/webhooks/", _webhook, lambda: WebhookSubscription.objects.count()),
    Case(
        "/api/v1/channels/api/{slug}/messages/",
        _api_inbound,
        lambda: Message.objects.filter(channel="api").count(),
    ),
    Case("/api/v1/cti/events/", _cti_event, lambda: CtiEvent.objects.count()),
    Case(
        "/api/v1/supervisor/conversations/{id}/barge/",
        _barge,
        lambda: Message.objects.filter(body__startswith="Hello").count(),
    ),
    Case(
        "/api/v1/supervisor/conversations/{id}/whisper/", _whisper, lambda: Message.objects.count()
    ),
]
CASES_BY_PATH = {case.path: case for case in CASES}


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case.path for case in CASES])
def test_the_same_key_twice_creates_one_object_and_another_body_is_a_422(
    case, agent_a, supervisor, run_on_commit
):
    user, url, body, other = case.setup(agent_a, supervisor)
    api = api_for(user)
    before = case.count()

    first = run_on_commit(lambda: api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"))
    again = run_on_commit(lambda: api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"))

    assert first.status_code in (200, 201), first.content
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert case.count() == before + 1

    reused = api.post(url, other, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 422
    error = error_of(reused)
    assert error["code"] == "idempotency_key_reused" and list(error["fields"]) == [HEADER]
    assert case.count() == before + 1

    fresh = run_on_commit(lambda: api.post(url, other, format="json", HTTP_IDEMPOTENCY_KEY="k-2"))
    assert fresh.status_code in (200, 201), fresh.content
    assert case.count() == before + 2


@pytest.mark.django_db
def test_a_malformed_key_is_a_400_naming_the_header(agent_a):
    response = api_for(agent_a).post(
        "/api/v1/contacts/", {"first_name": "Bo"}, format="json", HTTP_IDEMPOTENCY_KEY="a b"
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == [HEADER]
    assert not Contact.objects.exists() and not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_old_keys_are_pruned(agent_a):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from contactcenter import tasks

    api_for(agent_a).post("/api/v1/contacts/", {"first_name": "Bo"}, HTTP_IDEMPOTENCY_KEY="k")
    assert IdempotencyKey.objects.count() == 1
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert tasks.prune_idempotency_keys() == 1
