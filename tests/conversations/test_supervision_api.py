"""Supervisor actions over the API: the permission first (403 for agents and outsiders), the
supervisor's scope next (404), bad input a 400 naming the field, barge-in once per
Idempotency-Key."""

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.models import AgentState, Conversation, Interaction, Message, Offer
from tests.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def handled(service, agent):
    now = timezone.now()
    return InteractionFactory(
        conversation__service=service,
        conversation__agent=agent,
        service=service,
        channel="chat",
        agent=agent,
        queued_at=now,
        answered_at=now,
    )


def waiting(service):
    return InteractionFactory(
        conversation__service=service,
        conversation__agent=None,
        service=service,
        channel="chat",
        agent=None,
        state=Interaction.State.QUEUED,
        queued_at=timezone.now(),
    )


def post(client, name, pk, data=None, **headers):
    return client.post(
        reverse(name, args=[pk]), data or {}, content_type="application/json", **headers
    )


def test_a_supervisor_acts_through_the_api(client, supervisor, agent_a, service_a, service_b):
    conversation = handled(service_a, agent_a).conversation
    queued = waiting(service_a)
    client.force_login(supervisor)

    whisper = post(client, "api-supervisor-whisper", conversation.pk, {"body": "psst"})
    barge = post(client, "api-supervisor-barge", conversation.pk, {"body": "Hi, team lead here"})
    assign = post(client, "api-supervisor-assign", queued.pk, {"agent": agent_a.pk})
    state = post(
        client, "api-supervisor-agent-state", agent_a.pk, {"state": "not_ready", "reason": "1:1"}
    )
    closed = post(client, "api-supervisor-close", conversation.pk)

    assert (whisper.status_code, whisper.json()["kind"]) == (201, "note")
    assert (barge.status_code, barge.json()["direction"]) == (201, "outbound")
    assert (assign.status_code, assign.json()["state"]) == (200, "offered")
    assert state.json() == {
        "state": "not_ready",
        "reason": "1:1",
        "since": state.json()["since"],
        "requested_state": "",
    }
    assert (closed.status_code, closed.json()["status"]) == (200, "wrap_up")
    logged_out = post(client, "api-supervisor-agent-state", agent_a.pk, {"state": "logged_out"})
    assert logged_out.json()["state"] == AgentState.LOGGED_OUT


def test_transfer_through_the_api(client, supervisor, agent_a, service_a, service_b):
    conversation = handled(service_a, agent_a).conversation
    client.force_login(supervisor)
    neither = post(client, "api-supervisor-transfer", conversation.pk, {})
    moved = post(client, "api-supervisor-transfer", conversation.pk, {"service": service_b.pk})
    assert neither.status_code == 400
    assert (moved.status_code, moved.json()["service"]) == (200, service_b.pk)
    assert Conversation.objects.get(pk=conversation.pk).service == service_b


@pytest.mark.parametrize("persona", ["agent_a", "agent_b", "outsider"])
def test_agents_and_outsiders_get_403_from_every_supervisor_endpoint(
    client, request, persona, agent_a, service_a
):
    conversation = handled(service_a, agent_a).conversation
    queued = waiting(service_a)
    client.force_login(request.getfixturevalue(persona))
    for name, pk, data in (
        ("api-supervisor-whisper", conversation.pk, {"body": "x"}),
        ("api-supervisor-barge", conversation.pk, {"body": "x"}),
        ("api-supervisor-transfer", conversation.pk, {"service": service_a.pk}),
        ("api-supervisor-close", conversation.pk, {}),
        ("api-supervisor-assign", queued.pk, {"agent": agent_a.pk}),
        ("api-supervisor-agent-state", agent_a.pk, {"state": "ready"}),
    ):
        response = post(client, name, pk, data)
        assert response.status_code == 403, name
        assert response.json()["error"]["code"] == "forbidden"
    assert not Message.objects.exists()
    assert not Offer.objects.exists()


def test_outside_their_services_a_supervisor_gets_404(client, supervisor, agent_b, service_b):
    conversation = handled(service_b, agent_b).conversation
    queued = waiting(service_b)
    client.force_login(supervisor)
    assert post(client, "api-supervisor-whisper", conversation.pk, {"body": "x"}).status_code == 404
    assert (
        post(client, "api-supervisor-assign", queued.pk, {"agent": agent_b.pk}).status_code == 404
    )
    assert (
        post(client, "api-supervisor-agent-state", agent_b.pk, {"state": "ready"}).status_code
        == 404
    )


def test_bad_input_is_a_400_naming_the_field(client, supervisor, agent_a, service_a):
    queued = waiting(service_a)
    client.force_login(supervisor)
    response = post(client, "api-supervisor-assign", queued.pk, {"agent": "nobody"})
    assert (response.status_code, list(response.json()["error"]["fields"])) == (400, ["agent"])
    response = post(client, "api-supervisor-agent-state", agent_a.pk, {"state": "dancing"})
    assert (response.status_code, list(response.json()["error"]["fields"])) == (400, ["state"])


def test_over_capacity_is_a_409_with_the_reason(client, supervisor, agent_a, service_a):
    for _ in range(4):
        handled(service_a, agent_a)
    queued = waiting(service_a)
    client.force_login(supervisor)
    response = post(client, "api-supervisor-assign", queued.pk, {"agent": agent_a.pk})
    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == ["agent"]
    assert "is over capacity" in response.json()["error"]["message"]


def test_barge_in_sends_once_per_idempotency_key(client, supervisor, agent_a, service_a):
    conversation = handled(service_a, agent_a).conversation
    client.force_login(supervisor)
    first = post(
        client, "api-supervisor-barge", conversation.pk, {"body": "Hi"}, HTTP_IDEMPOTENCY_KEY="b1"
    )
    again = post(
        client, "api-supervisor-barge", conversation.pk, {"body": "Hi"}, HTTP_IDEMPOTENCY_KEY="b1"
    )
    assert first.json() == again.json()
    assert conversation.messages.filter(direction="outbound").count() == 1
