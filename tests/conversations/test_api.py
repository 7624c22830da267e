import pytest
from rest_framework.test import APIClient

from conversations import services
from conversations.models import AgentState, Message, Offer
from tests.factories import (
    AgentProfileFactory,
    ConversationFactory,
    InteractionFactory,
    MessageFactory,
    ServiceFactory,
)
from tests.support.api import api_for, error_of
from tests.utils import count_queries


@pytest.mark.django_db
def test_api_requires_a_token():
    response = APIClient().get("/api/v1/conversations/")
    assert response.status_code == 401


@pytest.mark.django_db
def test_conversation_list_shows_own_conversations_with_constant_queries(
    agent_a, agent_b, django_assert_num_queries
):
    api = api_for(agent_a)
    for _ in range(2):
        InteractionFactory(conversation__agent=agent_a)
    InteractionFactory(conversation__agent=agent_b)
    api.get("/api/v1/conversations/")  # the token's first use notes its last-used time
    two = count_queries(lambda: api.get("/api/v1/conversations/"))
    for _ in range(18):
        InteractionFactory(conversation__agent=agent_a)

    with django_assert_num_queries(two):
        response = api.get("/api/v1/conversations/")

    assert response.json()["count"] == 20
    assert {row["agent"] for row in response.json()["results"]} == {agent_a.pk}


@pytest.mark.django_db
def test_agent_b_cannot_read_or_reply_to_agent_a_conversation(agent_a, agent_b):
    conversation = InteractionFactory(conversation__agent=agent_a).conversation
    api = api_for(agent_b)

    assert api.get(f"/api/v1/conversations/{conversation.pk}/").status_code == 404
    assert api.get(f"/api/v1/conversations/{conversation.pk}/messages/").status_code == 404
    reply = api.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "hi"})
    assert reply.status_code == 404
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_reply_through_the_api_is_idempotent_on_the_key(
    agent_a, django_capture_on_commit_callbacks
):
    conversation = InteractionFactory(conversation__agent=agent_a).conversation
    api = api_for(agent_a)
    url = f"/api/v1/conversations/{conversation.pk}/messages/"

    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(url, {"body": "hello"}, HTTP_IDEMPOTENCY_KEY="k-1")
        second = api.post(url, {"body": "hello"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Message.objects.filter(direction="outbound").count() == 1


@pytest.mark.django_db
def test_empty_reply_is_a_400_naming_the_field(agent_a):
    conversation = InteractionFactory(conversation__agent=agent_a).conversation
    response = api_for(agent_a).post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"body": ""}
    )
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["body"]


@pytest.mark.django_db
def test_messages_list_query_count_is_constant(agent_a, django_assert_num_queries):
    interaction = InteractionFactory(conversation__agent=agent_a)
    MessageFactory.create_batch(2, interaction=interaction)
    api = api_for(agent_a)
    url = f"/api/v1/conversations/{interaction.conversation_id}/messages/"
    api.get(url)  # the token's first use notes its last-used time
    two = count_queries(lambda: api.get(url))
    MessageFactory.create_batch(18, interaction=interaction)
    with django_assert_num_queries(two):
        page = api.get(url).json()
    assert len(page["results"]) == 20
    assert [m["id"] for m in page["results"]] == sorted(m["id"] for m in page["results"])


@pytest.mark.django_db
def test_offer_accept_and_reject_through_the_api(django_capture_on_commit_callbacks):
    from conversations import services
    from conversations.services import InboundRecord

    service = ServiceFactory()
    agent = AgentProfileFactory(services=[service]).user
    api = api_for(agent)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):
            services.inbound_receive(
                record=InboundRecord(
                    channel="chat",
                    service=service,
                    identities=[("webchat", f"v{n}")],
                    provider_id=f"p{n}",
                    body="hi",
                )
            )
    offers = api.get("/api/v1/offers/").json()
    assert len(offers) == 2

    with django_capture_on_commit_callbacks(execute=True):
        accepted = api.post(f"/api/v1/offers/{offers[0]['id']}/accept/")
        rejected = api.post(f"/api/v1/offers/{offers[1]['id']}/reject/")

    assert accepted.json()["state"] == "accepted"
    assert rejected.json()["state"] == "rejected"
    assert Offer.objects.get(pk=offers[0]["id"]).interaction.conversation.agent == agent


@pytest.mark.django_db
def test_another_agent_cannot_accept_my_offer(agent_b, django_capture_on_commit_callbacks):
    service = ServiceFactory()
    agent = AgentProfileFactory(services=[service]).user
    conversation = ConversationFactory(service=service)
    interaction = InteractionFactory(conversation=conversation, agent=None, state="queued")

    with django_capture_on_commit_callbacks(execute=True):
        services.interaction_enqueue(interaction=interaction)
    offer = Offer.objects.get(agent=agent)

    response = api_for(agent_b).post(f"/api/v1/offers/{offer.pk}/accept/")

    assert response.status_code == 404
    offer.refresh_from_db()
    assert offer.state == "offered"


@pytest.mark.django_db
def test_agent_state_through_the_api(agent_a):
    api = api_for(agent_a)
    response = api.post("/api/v1/agent/state/", {"state": "not_ready", "reason": "Lunch"})
    assert response.json()["state"] == AgentState.NOT_READY
    assert response.json()["reason"] == "Lunch"
    bad = api.post("/api/v1/agent/state/", {"state": "asleep"})
    assert bad.status_code == 400 and list(error_of(bad)["fields"]) == ["state"]


@pytest.mark.django_db
def test_queue_figures_are_scoped_to_the_agents_services(agent_a, service_a, service_b):
    api = api_for(agent_a)
    assert api.get(f"/api/v1/services/{service_a.pk}/queue/").json()["waiting"] == 0
    assert api.get(f"/api/v1/services/{service_b.pk}/queue/").status_code == 404


@pytest.mark.django_db
def test_transfer_through_the_api_needs_exactly_one_target(agent_a):
    conversation = InteractionFactory(conversation__agent=agent_a).conversation
    response = api_for(agent_a).post(f"/api/v1/conversations/{conversation.pk}/transfer/", {})
    assert response.status_code == 400
