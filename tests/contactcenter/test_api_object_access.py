"""Every API endpoint that names an object answers 404 to a token or an agent session that may not
see that object: never its data, never a 403 or a validation error that would reveal it exists.

The endpoints are found by walking the URL conf and the OpenAPI schema, so a new endpoint is
covered automatically: the test fails until ``OBJECTS`` says which object it names and who must
not see it."""

import functools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from channels_app.models import ApiChannelSettings
from contactcenter import webhooks
from contactcenter.models import WebhookDelivery
from contacts.services import contact_merge
from conversations.models import Channel, Message, MessageStatus, Offer
from tests.factories import (
    ContactFactory,
    DispositionFactory,
    EntryPointFactory,
    IdentityFactory,
    InteractionFactory,
    MessageFactory,
    UserFactory,
    VoiceCallFactory,
)
from tests.support.api import api_for

API_PREFIX = "api/v1/"


def api_routes() -> dict[str, str]:
    """Route name -> route of every URL under /api/v1/ with a path parameter."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIX) and "<" in route:
                found[pattern.name] = route

    walk(get_resolver().url_patterns, "")
    return found


@functools.cache
def schema_operations() -> dict[str, list[str]]:
    """OpenAPI path -> methods, for the paths with a path parameter."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        path: [m.upper() for m in operations if m in ("get", "post", "put", "patch", "delete")]
        for path, operations in schema["paths"].items()
        if "{" in path
    }


@dataclass
class World:
    agent_a: object
    agent_b: object
    outsider: object
    supervisor: object  # supervises service A only
    administrator: object
    integration: object  # may post into API channels and report phone calls (CTI)


def _conversation(world: World):
    return InteractionFactory(conversation__agent=world.agent_a).conversation


def _offer(world: World):
    interaction = InteractionFactory(conversation__agent=None, agent=None, state="offered")
    from datetime import timedelta

    from django.utils import timezone

    return Offer.objects.create(
        interaction=interaction, agent=world.agent_a, expires_at=timezone.now() + timedelta(hours=1)
    )


def _conversation_b(world: World):
    """A conversation of service B: outside the supervisor's scope."""
    service_b = world.agent_b.agent_profile.services.get()
    return InteractionFactory(
        conversation__agent=world.agent_b, conversation__service=service_b, service=service_b
    ).conversation


def _waiting_b(world: World):
    service_b = world.agent_b.agent_profile.services.get()
    return InteractionFactory(
        conversation__agent=None,
        conversation__service=service_b,
        service=service_b,
        agent=None,
        state="queued",
    )


def _merge(world: World):
    survivor, merged = ContactFactory(), ContactFactory()
    return contact_merge(survivor=survivor, merged=merged, user=world.supervisor)


def _subscription(world: World):
    return webhooks.webhook_subscription_create(
        user=world.agent_a,
        name="A's hook",
        url="https://crm.example.com/hook",
        event_types=["message.created"],
    )


def _delivery(world: World):
    subscription = _subscription(world)
    return WebhookDelivery.objects.create(
        subscription=subscription, event_id=1, event_type="message.created", payload={}
    )


def _api_entry_point(world: World):
    entry_point = EntryPointFactory(channel=Channel.API, address="bridge")
    ApiChannelSettings.objects.create(entry_point=entry_point, reply_url="https://x.example/r")
    return entry_point


def _cti_call(world: World):
    interaction = InteractionFactory(conversation__agent=world.agent_a, channel=Channel.VOICE)
    return VoiceCallFactory(
        interaction=interaction, kind="phone", provider="cti", provider_call_id="cti:pbx-1"
    )


def _api_reply(world: World):
    entry_point = _api_entry_point(world)
    interaction = InteractionFactory(
        conversation__agent=world.agent_a, channel=Channel.API, service_address="bridge"
    )
    message = MessageFactory(
        interaction=interaction, direction=Message.Direction.OUTBOUND, status=MessageStatus.SENT
    )
    return entry_point, message


BOTH = ("outsider", "agent_b")
#: Who does see the object (a control: the object exists). Default: agent A.
OWNERS = {
    "api-contact-merge": "supervisor",
    "api-contact-merge-undo": "supervisor",
    "api-channel-messages": "integration",
    "api-channel-message-status": "integration",
    "cti-call": "integration",
    "api-supervisor-agent-state": "administrator",
    "api-supervisor-assign": "administrator",
    "api-supervisor-transfer": "administrator",
    "api-supervisor-close": "administrator",
    "api-supervisor-whisper": "administrator",
    "api-supervisor-barge": "administrator",
}
#: Supervisor endpoints: agents get 403 whatever the object (a role, not an object, keeps them
#: out); a supervisor gets 404 for what lies outside their teams' services.
OTHER_SUPERVISORS = ("supervisor",)
#: Contacts are shared by every agent: only a user who is no agent may not see one.
NOT_AGENTS = ("outsider",)

#: Route name -> (URL kwargs for an object of agent A / the supervisor, who may not see it).
OBJECTS: dict[str, tuple[Callable[[World], dict], tuple[str, ...]]] = {
    "api-conversation": (lambda w: {"pk": _conversation(w).pk}, BOTH),
    "api-conversation-messages": (lambda w: {"pk": _conversation(w).pk}, BOTH),
    "api-conversation-transfer": (lambda w: {"pk": _conversation(w).pk}, BOTH),
    "api-conversation-move": (lambda w: {"pk": _conversation(w).pk}, BOTH),
    "api-message": (
        lambda w: {"pk": MessageFactory(interaction__conversation__agent=w.agent_a).pk},
        BOTH,
    ),
    "api-interaction": (
        lambda w: {"pk": InteractionFactory(conversation__agent=w.agent_a).pk},
        BOTH,
    ),
    "api-offer-accept": (lambda w: {"pk": _offer(w).pk}, BOTH),
    "api-offer-reject": (lambda w: {"pk": _offer(w).pk}, BOTH),
    "api-agent": (lambda w: {"pk": w.agent_a.pk}, BOTH),
    "api-agent-detail-state": (lambda w: {"pk": w.agent_a.pk}, BOTH),
    "api-service": (lambda w: {"pk": w.agent_a.agent_profile.services.get().pk}, BOTH),
    "api-service-queue": (lambda w: {"pk": w.agent_a.agent_profile.services.get().pk}, BOTH),
    "api-disposition": (
        lambda w: {"pk": DispositionFactory(service=w.agent_a.agent_profile.services.get()).pk},
        BOTH,
    ),
    "api-contact": (lambda w: {"pk": ContactFactory().pk}, NOT_AGENTS),
    "api-contact-identities": (lambda w: {"pk": ContactFactory().pk}, NOT_AGENTS),
    "api-contact-identity": (
        lambda w: {"pk": (i := IdentityFactory()).contact_id, "identity_pk": i.pk},
        NOT_AGENTS,
    ),
    "api-contact-merge": (lambda w: {"pk": _merge(w).pk}, BOTH),
    "api-contact-merge-undo": (lambda w: {"pk": _merge(w).pk}, BOTH),
    "api-webhook": (lambda w: {"pk": _subscription(w).pk}, BOTH),
    "api-webhook-deliveries": (lambda w: {"pk": _subscription(w).pk}, BOTH),
    "api-webhook-rotate-secret": (lambda w: {"pk": _subscription(w).pk}, BOTH),
    "api-webhook-redeliver": (
        lambda w: {"pk": (d := _delivery(w)).subscription_id, "delivery_pk": d.pk},
        BOTH,
    ),
    "api-channel-messages": (lambda w: {"slug": _api_entry_point(w).address}, BOTH),
    "api-channel-message-status": (
        lambda w: {"slug": (r := _api_reply(w))[0].address, "message_id": r[1].pk},
        BOTH,
    ),
    "cti-call": (lambda w: {"call_id": _cti_call(w).provider_call_id.removeprefix("cti:")}, BOTH),
    "api-supervisor-agent-state": (lambda w: {"pk": w.agent_b.pk}, OTHER_SUPERVISORS),
    "api-supervisor-assign": (lambda w: {"pk": _waiting_b(w).pk}, OTHER_SUPERVISORS),
    "api-supervisor-transfer": (lambda w: {"pk": _conversation_b(w).pk}, OTHER_SUPERVISORS),
    "api-supervisor-close": (lambda w: {"pk": _conversation_b(w).pk}, OTHER_SUPERVISORS),
    "api-supervisor-whisper": (lambda w: {"pk": _conversation_b(w).pk}, OTHER_SUPERVISORS),
    "api-supervisor-barge": (lambda w: {"pk": _conversation_b(w).pk}, OTHER_SUPERVISORS),
}


def test_every_api_endpoint_with_an_object_is_covered():
    routes = api_routes()
    missing, stale = sorted(set(routes) - set(OBJECTS)), sorted(set(OBJECTS) - set(routes))
    assert not missing and not stale, (
        f"a new /api/v1/ endpoint with a path parameter: add it to OBJECTS "
        f"(missing: {missing}, stale: {stale})"
    )


@pytest.mark.django_db
def test_the_schema_documents_exactly_these_endpoints():
    routes = api_routes()
    documented = schema_operations()
    as_schema = {
        "/"
        + route.replace("<id:", "{").replace("<slug:", "{").replace("<str:", "{").replace(">", "}")
        for route in routes.values()
    }
    normalized = {path.replace("{id}", "{pk}") for path in documented}
    assert normalized == as_schema


def _clients(world: World, who: str) -> list[tuple[str, APIClient]]:
    user = getattr(world, who)
    session = APIClient()
    session.force_login(user)
    return [(f"{who} token", api_for(user)), (f"{who} session", session)]


@pytest.mark.django_db
@pytest.mark.parametrize("route_name", sorted(OBJECTS))
def test_an_object_endpoint_is_a_404_to_whoever_may_not_see_the_object(
    route_name, agent_a, agent_b, outsider, supervisor, administrator
):
    integration = UserFactory(username="integration")
    integration.user_permissions.add(
        *Permission.objects.filter(codename__in=["post_api_inbound", "report_cti_calls"])
    )
    world = World(
        agent_a=agent_a,
        agent_b=agent_b,
        outsider=outsider,
        supervisor=supervisor,
        administrator=administrator,
        integration=integration,
    )
    make_kwargs, strangers = OBJECTS[route_name]
    kwargs = make_kwargs(world)
    path = reverse(route_name, kwargs=kwargs)
    schema_path = "/" + api_routes()[route_name]
    for name, converter in (("<id:", "{"), ("<slug:", "{"), ("<str:", "{")):
        schema_path = schema_path.replace(name, converter)
    schema_path = schema_path.replace(">", "}").replace("{pk}", "{id}")
    methods = schema_operations()[schema_path]
    assert methods, schema_path

    owner = api_for(getattr(world, OWNERS.get(route_name, "agent_a")))
    control = getattr(owner, methods[0].lower())(path, {}, format="json")
    assert control.status_code != 404, (route_name, "the object's owner must see it")

    for who in strangers:
        for label, client in _clients(world, who):
            for method in methods:
                response = getattr(client, method.lower())(path, {}, format="json")
                assert response.status_code == 404, (label, method, path, response.content)
                body = response.json()
                assert body["error"]["code"] == "not_found", (label, method, body)
