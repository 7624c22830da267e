"""Routing a burst in passes (issue 11): one transaction offers up to ``ROUTE_PASS`` heads of the
queue, reading the eligible agents once per kind of interaction and keeping their order in memory.

What must not change: queue order, longest idle first (an agent offered one in this pass counts
as the most recently routed), capacity read under the agent's lock, refusers last; what must:
the statements a burst costs (pinned below)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contactcenter.webhooks import subscriptions_changed, webhooks_active
from conversations import services
from conversations.models import Offer
from conversations.services.queue import ROUTE_PASS
from tests.factories import AgentProfileFactory, ServiceFactory

from .test_routing import inbound

# 50 offers to 100 Ready agents: 7 statements per offer (lock the conversation, the interaction
# and the agent, read the agent's load, insert the offer, update the interaction and the agent),
# plus per pass of 25 its transaction (2), the queue's heads, the refusals among them, the
# service's skills, the candidates and one INSERT of all the pass's events; then a last pass
# finds the queue empty (3). A transaction, the heads, the skills, the candidates and two event
# INSERTs per offer made it 15 per offer before.
BURST_STATEMENTS = 7 * 50 + 2 * 7 + 3


@pytest.fixture
def service(db):
    return ServiceFactory(name="Burst")


def offered_agents(interactions) -> list[int]:
    by_interaction = dict(
        Offer.objects.filter(interaction__in=interactions, state=Offer.State.OFFERED).values_list(
            "interaction_id", "agent_id"
        )
    )
    return [by_interaction.get(interaction.pk) for interaction in interactions]


@pytest.mark.django_db
def test_a_burst_is_offered_in_passes_at_a_fixed_cost_per_offer(service, monkeypatch):
    # Remembered for the whole test: on a slow machine the burst outlives the usual seconds.
    monkeypatch.setattr("contactcenter.webhooks._ACTIVE_TTL_SECONDS", 3600)
    subscriptions_changed()  # drop a flag an earlier test remembered with the 5 s expiry
    waiting = [inbound(service, channel="sms", phone=f"+1415555{i:04d}") for i in range(50)]
    for _ in range(100):
        AgentProfileFactory(services=[service])
    webhooks_active()  # remembered per process for seconds: the steady state costs no query
    with CaptureQueriesContext(connection) as queries:
        made = services.route_service(service_id=service.pk)
    assert made == 50
    assert len(set(offered_agents(waiting))) == 50  # one each: longest idle first
    assert ROUTE_PASS == 25
    assert len(queries) == BURST_STATEMENTS, "\n".join(q["sql"][:120] for q in queries[:12])


@pytest.mark.django_db
def test_in_one_pass_the_agent_just_offered_one_goes_last_in_line(service):
    now = timezone.now()
    longest_idle = AgentProfileFactory(
        services=[service],
        last_routed_at=now - timedelta(hours=2),
        capacity_overrides={"share": {"chat": 50}},
    )
    next_idle = AgentProfileFactory(
        services=[service],
        last_routed_at=now - timedelta(hours=1),
        capacity_overrides={"share": {"chat": 50}},
    )
    chats = [inbound(service, visitor=f"visitor-{i}") for i in range(5)]
    made = services.route_service(service_id=service.pk)
    assert made == 4  # two chats each fill both agents
    a, b = longest_idle.user_id, next_idle.user_id
    assert offered_agents(chats) == [a, b, a, b, None]


@pytest.mark.django_db
def test_an_agent_who_refused_a_head_of_the_burst_goes_last_for_it_only(service, settings):
    settings.ROUTING_REOFFER_AFTER_SECONDS = 0
    first = AgentProfileFactory(services=[service], last_routed_at=None)
    second = AgentProfileFactory(
        services=[service], last_routed_at=timezone.now() - timedelta(minutes=5)
    )
    refused, fresh = (inbound(service, visitor=f"visitor-{i}") for i in range(2))
    services.route_service(service_id=service.pk, limit=1)
    offer = Offer.objects.get(interaction=refused)
    assert offer.agent_id == first.user_id
    services.offer_reject(offer_id=offer.pk, user=first.user)
    assert services.route_service(service_id=service.pk) == 2
    # The refused chat goes to the other agent; the fresh one to the agent who refused the first.
    assert offered_agents([refused, fresh]) == [second.user_id, first.user_id]
