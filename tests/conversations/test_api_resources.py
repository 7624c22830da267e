"""The conversations API's resources for integrations: conversation filters and detail (with
interactions, participants, disposition, custom fields), messages (cursor pages, sending on a
channel), interactions, agents (state read/change by permission), services with live queue
figures, dispositions. Every list runs the same number of queries at 2 and at 20 rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contactcenter.models import Event
from conversations import events, services
from conversations.models import (
    AgentState,
    Conversation,
    ConversationParticipant,
    Interaction,
    Message,
)
from tests.factories import (
    AgentProfileFactory,
    ContactFactory,
    ConversationFactory,
    DispositionFactory,
    EntryPointFactory,
    IdentityFactory,
    InteractionFactory,
    MessageFactory,
    ServiceFactory,
)
from tests.support.api import api_for, error_of
from tests.utils import count_queries


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_conversations_filter_by_contact_service_status_channel_agent_and_update_time(
    supervisor, administrator, agent_a, agent_b, service_a, service_b
):
    now = timezone.now()
    old = now - timedelta(days=10)
    a = InteractionFactory(
        conversation__agent=agent_a, conversation__service=service_a, channel="sms"
    ).conversation
    b = InteractionFactory(
        conversation__agent=agent_b, conversation__service=service_b, channel="chat"
    ).conversation
    closed = ConversationFactory(
        agent=agent_a,
        service=service_a,
        status=Conversation.Status.CLOSED,
        opened_at=old,
        last_message_at=old,
        closed_at=old,
    )
    api = api_for(administrator)
    url = "/api/v1/conversations/"

    assert set(ids(api.get(url))) == {a.pk, b.pk, closed.pk}
    # A supervisor sees the services of their teams only.
    assert set(ids(api_for(supervisor).get(url))) == {a.pk, closed.pk}
    assert ids(api.get(url, {"contact": a.contact_id})) == [a.pk]
    assert set(ids(api.get(url, {"service": service_a.pk}))) == {a.pk, closed.pk}
    assert ids(api.get(url, {"status": "closed"})) == [closed.pk]
    assert ids(api.get(url, {"channel": "chat"})) == [b.pk]
    assert set(ids(api.get(url, {"agent": agent_a.pk}))) == {a.pk, closed.pk}
    since = (now - timedelta(days=1)).isoformat()
    assert set(ids(api.get(url, {"updated_since": since}))) == {a.pk, b.pk}
    closed.closed_at = now
    closed.save(update_fields=["closed_at"])
    assert closed.pk in ids(api.get(url, {"updated_since": since}))

    for bad in ({"status": "asleep"}, {"channel": "fax"}, {"updated_since": "yesterday"}):
        response = api.get(url, bad)
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == list(bad)
    # An agent's filters apply within what they may see.
    assert ids(api_for(agent_b).get(url, {"service": service_a.pk})) == []


@pytest.mark.django_db
def test_a_conversation_in_detail_has_interactions_participants_disposition_custom_fields(
    agent_a, agent_b, service_a
):
    conversation = ConversationFactory(
        agent=agent_a,
        service=service_a,
        disposition=DispositionFactory(service=service_a, name="Resolved"),
        wrap_up_notes="Refund sent",
        custom_fields={"crm_case": "CASE-1"},
    )
    sms = InteractionFactory(conversation=conversation, channel="sms")
    chat = InteractionFactory(conversation=conversation, channel="chat")
    ConversationParticipant.objects.create(conversation=conversation, agent=agent_b)

    body = api_for(agent_a).get(f"/api/v1/conversations/{conversation.pk}/").json()

    assert [i["id"] for i in body["interactions"]] == [sms.pk, chat.pk]
    assert body["interactions"][0]["channel"] == "sms"
    assert [p["username"] for p in body["participants"]] == ["agent_b"]
    assert body["disposition"]["name"] == "Resolved"
    assert body["custom_fields"] == {"crm_case": "CASE-1"}
    assert body["wrap_up_notes"] == "Refund sent"
    # agent B takes part in it (a conference): they may read it too.
    assert api_for(agent_b).get(f"/api/v1/conversations/{conversation.pk}/").status_code == 200


@pytest.mark.django_db
def test_an_integration_sets_a_conversations_custom_fields(agent_a, run_on_commit):
    conversation = InteractionFactory(conversation__agent=agent_a).conversation
    api = api_for(agent_a)
    url = f"/api/v1/conversations/{conversation.pk}/"

    response = run_on_commit(
        lambda: api.patch(
            url, {"custom_fields": {"crm_case": "CASE-8812", "vip": True}}, format="json"
        )
    )

    assert response.status_code == 200
    assert response.json()["custom_fields"] == {"crm_case": "CASE-8812", "vip": True}
    conversation.refresh_from_db()
    assert conversation.custom_fields == {"crm_case": "CASE-8812", "vip": True}
    event = Event.objects.filter(type=events.CONVERSATION_UPDATED).first()
    assert event.payload["fields"] == ["crm_case", "vip"]
    bad = api.patch(url, {"custom_fields": {"x": {"nested": 1}}}, format="json")
    assert bad.status_code == 400 and list(error_of(bad)["fields"]) == ["custom_fields"]
    assert api.patch(url, {"custom_fields": "text"}, format="json").status_code == 400


@pytest.mark.django_db
def test_messages_come_in_cursor_pages_oldest_first(agent_a):
    interaction = InteractionFactory(conversation__agent=agent_a)
    messages = MessageFactory.create_batch(5, interaction=interaction)
    api = api_for(agent_a)
    url = f"/api/v1/conversations/{interaction.conversation_id}/messages/"

    first = api.get(url, {"page_size": 3}).json()
    second = api.get(first["next"]).json()

    assert [m["id"] for m in first["results"] + second["results"]] == [m.pk for m in messages]
    assert second["next"] is None
    one = api.get(f"/api/v1/messages/{messages[0].pk}/").json()
    assert one["body"] == messages[0].body and one["conversation"] == interaction.conversation_id
    assert api.get(url, {"cursor": "garbage"}).status_code == 404


@pytest.mark.django_db
def test_a_message_can_continue_the_conversation_on_another_channel(agent_a, service_a):
    contact = ContactFactory()
    IdentityFactory(contact=contact, kind="phone", value="+14155550177")
    EntryPointFactory(address="+15005550006", service=service_a)
    conversation = InteractionFactory(
        conversation__agent=agent_a,
        conversation__contact=contact,
        conversation__service=service_a,
        channel="chat",
    ).conversation

    response = api_for(agent_a).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"body": "Your order ships today.", "channel": "sms", "to": "+14155550177"},
        format="json",
    )

    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.channel, message.interaction.customer_address) == ("sms", "+14155550177")
    stranger = api_for(agent_a).post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"body": "Hi", "channel": "sms", "to": "+14155550999"},
        format="json",
    )
    assert stranger.status_code == 400 and list(error_of(stranger)["fields"]) == ["to"]


@pytest.mark.django_db
def test_interactions_are_those_of_visible_conversations(agent_a, agent_b):
    mine = InteractionFactory(conversation__agent=agent_a, channel="sms")
    InteractionFactory(conversation=mine.conversation, channel="chat", state="ended")
    InteractionFactory(conversation__agent=agent_b)
    api = api_for(agent_a)

    assert len(ids(api.get("/api/v1/interactions/"))) == 2
    assert ids(api.get("/api/v1/interactions/", {"channel": "sms"})) == [mine.pk]
    assert len(ids(api.get("/api/v1/interactions/", {"state": "ended"}))) == 1
    assert (
        api.get(f"/api/v1/interactions/{mine.pk}/").json()["conversation"] == mine.conversation_id
    )


@pytest.mark.django_db
def test_agents_see_themselves_supervisors_see_and_force_their_teams_administrators_everyone(
    agent_a, agent_b, supervisor, administrator, run_on_commit
):
    assert ids(api_for(agent_a).get("/api/v1/agents/")) == [agent_a.pk]
    assert set(ids(api_for(supervisor).get("/api/v1/agents/"))) == {agent_a.pk, supervisor.pk}
    assert {agent_a.pk, agent_b.pk, supervisor.pk} <= set(
        ids(api_for(administrator).get("/api/v1/agents/"))
    )
    own = run_on_commit(
        lambda: api_for(agent_a).post(
            f"/api/v1/agents/{agent_a.pk}/state/",
            {"state": "not_ready", "reason": "Lunch"},
            format="json",
        )
    )
    assert own.json()["state"] == AgentState.NOT_READY and own.json()["reason"] == "Lunch"
    # An agent may not change another's state (that agent does not exist for them).
    other = api_for(agent_a).post(
        f"/api/v1/agents/{agent_b.pk}/state/", {"state": "not_ready"}, format="json"
    )
    assert other.status_code == 404
    outside = api_for(supervisor).post(
        f"/api/v1/agents/{agent_b.pk}/state/", {"state": "logged_out"}, format="json"
    )
    assert outside.status_code == 404  # agent B works service B, outside the supervisor's teams
    forced = run_on_commit(
        lambda: api_for(administrator).post(
            f"/api/v1/agents/{agent_b.pk}/state/", {"state": "logged_out"}, format="json"
        )
    )
    assert forced.status_code == 200
    agent_b.agent_profile.refresh_from_db()
    assert agent_b.agent_profile.state == AgentState.LOGGED_OUT
    detail = api_for(supervisor).get(f"/api/v1/agents/{agent_a.pk}/").json()
    assert detail["username"] == "agent_a" and detail["state"] == AgentState.NOT_READY
    assert detail["services"] == [agent_a.agent_profile.services.get().pk]


@pytest.mark.django_db
def test_services_show_their_live_queue_and_dispositions(
    agent_a, administrator, service_a, service_b, run_on_commit
):
    DispositionFactory(service=service_a, name="Resolved")
    DispositionFactory(service=service_b, name="Escalated")
    run_on_commit(
        lambda: services.inbound_receive(
            record=services.InboundRecord(
                channel="chat",
                service=service_a,
                identities=[("webchat", "v1")],
                provider_id="p1",
                body="hi",
            )
        )
    )
    api = api_for(agent_a)

    assert [s["name"] for s in api.get("/api/v1/services/").json()["results"]] == ["Service A"]
    detail = api.get(f"/api/v1/services/{service_a.pk}/").json()
    assert detail["queue"]["service_id"] == service_a.pk
    assert detail["queue"]["waiting"] + detail["queue"]["answered"] >= 1
    assert [d["name"] for d in detail["dispositions"]] == ["Resolved"]
    assert [d["name"] for d in api.get("/api/v1/dispositions/").json()["results"]] == ["Resolved"]
    everything = api_for(administrator).get("/api/v1/dispositions/", {"service": service_b.pk})
    assert [d["name"] for d in everything.json()["results"]] == ["Escalated"]


@pytest.mark.django_db
def test_an_agent_in_a_services_team_sees_the_service(agent_b, service_a):
    from conversations.models import Team

    team = Team.objects.create(name="Support team")
    team.services.add(service_a)
    team.members.add(agent_b.agent_profile)
    assert service_a.pk in ids(api_for(agent_b).get("/api/v1/services/"))


def _constant_queries(api, url, add_rows) -> None:
    add_rows(2)
    api.get(url)  # the token's first use notes its last-used time
    two = count_queries(lambda: api.get(url))
    add_rows(18)
    assert count_queries(lambda: api.get(url)) == two, url


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/api/v1/interactions/", "/api/v1/agents/", "/api/v1/services/", "/api/v1/dispositions/"],
)
def test_every_list_runs_the_same_queries_at_2_and_20_rows(url, supervisor):
    service = ServiceFactory()

    def add_rows(n: int) -> None:
        for _ in range(n):
            if "interactions" in url:
                InteractionFactory(conversation__agent=supervisor)
            elif "agents" in url:
                AgentProfileFactory(services=[service, ServiceFactory()])
            elif "services" in url:
                ServiceFactory()
            else:
                DispositionFactory(service=service)

    _constant_queries(api_for(supervisor), url, add_rows)


@pytest.mark.django_db
def test_the_webhook_lists_run_the_same_queries_at_2_and_20_rows(supervisor):
    from tests.factories import WebhookDeliveryFactory, WebhookSubscriptionFactory

    api = api_for(supervisor, scopes=["webhooks"])
    _constant_queries(
        api,
        "/api/v1/webhooks/",
        lambda n: WebhookSubscriptionFactory.create_batch(n, user=supervisor),
    )
    subscription = WebhookSubscriptionFactory(user=supervisor)
    _constant_queries(
        api,
        f"/api/v1/webhooks/{subscription.pk}/deliveries/",
        lambda n: WebhookDeliveryFactory.create_batch(n, subscription=subscription),
    )


@pytest.mark.django_db
def test_the_conversation_list_keeps_its_queries_with_filters(supervisor, service_a):
    def add_rows(n: int) -> None:
        for _ in range(n):
            InteractionFactory(conversation__service=service_a, channel="chat")

    _constant_queries(
        api_for(supervisor),
        f"/api/v1/conversations/?service={service_a.pk}&channel=chat&status=open",
        add_rows,
    )
    assert Interaction.objects.count() == 20
