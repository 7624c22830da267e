"""Property-based fuzzing of every API operation with schemathesis: with a valid token, no
operation answers a server error, and every answer (status code, content type, body) conforms to
the OpenAPI schema the server publishes.

Each operation gets a bounded number of generated requests (``FUZZ_EXAMPLES``, default 12) so the
whole run stays around a minute. Path ids are drawn by hypothesis; two out of three are replaced
by ids of objects that exist (seeded below), so the success answers are checked too, not only
404s."""

import json
import os

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from channels_app.models import ApiChannelSettings
from contactcenter import webhooks
from contactcenter.models import WebhookDelivery
from contactcenter.tokens import api_token_create
from contacts.services import contact_merge
from conversations.models import Channel, Message, MessageStatus, Offer
from tests.factories import (
    AgentProfileFactory,
    ContactFactory,
    DispositionFactory,
    EntryPointFactory,
    IdentityFactory,
    InteractionFactory,
    MessageFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _load_schema():
    """The schema the server serves at /api/schema/, called through WSGI in the test's thread."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    generated = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(generated)))
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@pytest.fixture(autouse=True)
def requests_keep_the_test_transaction(settings):
    """Like Django's test client: requests must not close this test's database connection."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # no DNS lookups of generated hostnames
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db):
    """An integrator (a superuser: sees and may do everything) and one object of each kind."""
    from datetime import timedelta

    user = UserFactory(username="integrator", is_staff=True, is_superuser=True)
    user.user_permissions.add(Permission.objects.get(codename="post_api_inbound"))
    AgentProfileFactory(user=user)
    _token, key = api_token_create(
        user=user, name="fuzz", scopes=["read", "write", "cti", "webhooks"]
    )
    service = ServiceFactory(name="Fuzzed service")
    AgentProfileFactory(user=UserFactory(username="fuzz-agent"), services=[service])
    interaction = InteractionFactory(
        conversation__agent=user, conversation__service=service, channel=Channel.CHAT
    )
    conversation = interaction.conversation
    message = MessageFactory(interaction=interaction)
    contact = conversation.contact
    identity = IdentityFactory(contact=contact)
    merge = contact_merge(survivor=ContactFactory(), merged=ContactFactory(), user=user)
    disposition = DispositionFactory(service=service)
    waiting = InteractionFactory(conversation__service=service, agent=None, state="offered")
    offer = Offer.objects.create(
        interaction=waiting, agent=user, expires_at=timezone.now() + timedelta(hours=1)
    )
    subscription = webhooks.webhook_subscription_create(
        user=user, name="Hook", url="https://crm.example.com/h", event_types=["message.created"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event_id=1, event_type="message.created", payload={}
    )
    entry_point = EntryPointFactory(channel=Channel.API, address="bridge", service=service)
    ApiChannelSettings.objects.create(entry_point=entry_point, reply_url="https://x.example/r")
    reply = MessageFactory(
        interaction=InteractionFactory(
            conversation=conversation, channel=Channel.API, service_address="bridge"
        ),
        direction=Message.Direction.OUTBOUND,
        status=MessageStatus.SENT,
    )
    ids = {
        "conversations": conversation.pk,
        "contacts": contact.pk,
        "merges": merge.pk,
        "messages": message.pk,
        "interactions": interaction.pk,
        "offers": offer.pk,
        "agents": user.pk,
        "services": service.pk,
        "dispositions": disposition.pk,
        "webhooks": subscription.pk,
    }
    return {
        "headers": {"Authorization": f"Token {key}"},
        "ids": ids,
        "identity_pk": identity.pk,
        "delivery_pk": delivery.pk,
        "slug": "bridge",
        "message_id": reply.pk,
    }


def use_real_objects(case, world) -> None:
    """Point two out of three generated ids at objects that exist."""
    parameters = case.path_parameters or {}
    if not parameters:
        return
    keep_generated = all(
        isinstance(v, int) and v % 3 == 0 for v in parameters.values() if isinstance(v, int)
    )
    if keep_generated:
        return
    segments = case.operation.path.strip("/").split("/")
    resource = segments[3] if segments[2] == "contacts" and segments[3] == "merges" else segments[2]
    for name in parameters:
        if name == "id":
            parameters[name] = world["ids"].get(resource, parameters[name])
        elif name in world:
            parameters[name] = world[name]


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("FUZZ_RANDOM", "") == "",
)
def test_no_operation_answers_a_server_error_or_outside_its_schema(case, world):
    use_real_objects(case, world)
    case.call_and_validate(headers=world["headers"], checks=CHECKS)
