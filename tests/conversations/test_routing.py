"""Routing: capacity, skills, offers, expiry, continuation, transfers, queue figures."""

import math
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from contactcenter import exceptions
from contacts.models import Identity
from conversations import capacity, selectors, services, tasks
from conversations.models import (
    AgentSkill,
    AgentState,
    Interaction,
    Message,
    Offer,
    ServiceSkill,
    Skill,
)
from tests.factories import (
    AgentProfileFactory,
    ConversationFactory,
    InteractionFactory,
    ServiceFactory,
)


def inbound(service, *, channel="chat", visitor=None, phone=None, required_skills=None, body="hi"):
    identities = [(Identity.Kind.PHONE, phone)] if phone else [(Identity.Kind.WEBCHAT, visitor)]
    return services.inbound_receive(
        record=services.InboundRecord(
            channel=channel,
            service=service,
            identities=identities,
            provider_id=f"{channel}-{visitor or phone}-{body}",
            body=body,
            customer_address=phone or visitor,
            required_skills=required_skills or {},
        )
    ).message.interaction


def live_offers(user):
    return Offer.objects.filter(agent=user, state=Offer.State.OFFERED)


@pytest.fixture
def service(db):
    return ServiceFactory(name="Chat service")


@pytest.fixture
def agents(service):
    return [AgentProfileFactory(services=[service]).user for _ in range(10)]


@pytest.mark.django_db
def test_fifty_chats_for_ten_agents_give_each_exactly_four(service, agents, run_on_commit):
    interactions = [run_on_commit(lambda i=i: inbound(service, visitor=f"v{i}")) for i in range(50)]

    for agent in agents:
        assert live_offers(agent).count() == 4
        assert capacity.agent_load(user_id=agent.pk) == 100
    waiting = Interaction.objects.filter(state=Interaction.State.QUEUED).order_by("queued_at")
    assert list(waiting) == interactions[40:]

    # Capacity frees: the agent accepts and ends one chat -> the longest waiting is offered next.
    offer = live_offers(agents[0]).first()
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agents[0]))
    run_on_commit(lambda: services.interaction_end(interaction=offer.interaction))
    next_offer = live_offers(agents[0]).order_by("-id").first()
    assert next_offer.interaction == interactions[40]
    # Another frees: the next in arrival order.
    offer = live_offers(agents[1]).first()
    run_on_commit(lambda: services.offer_reject(offer_id=offer.pk, user=agents[1]))
    assert live_offers(agents[1]).order_by("-id").first().interaction == interactions[41]


@pytest.mark.django_db
def test_agent_on_a_call_gets_no_second_call_and_no_chat_by_default(service, run_on_commit):
    agent = AgentProfileFactory(services=[service]).user
    call = run_on_commit(lambda: inbound(service, channel="voice", phone="+14155550100"))
    run_on_commit(lambda: services.offer_accept(offer_id=call.offers.get().pk, user=agent))

    second_call = run_on_commit(lambda: inbound(service, channel="voice", phone="+14155550101"))
    chat = run_on_commit(lambda: inbound(service, visitor="v1"))

    second_call.refresh_from_db()
    chat.refresh_from_db()
    assert second_call.state == chat.state == Interaction.State.QUEUED


@pytest.mark.django_db
def test_per_agent_override_lets_a_chat_in_beside_a_call_but_not_a_second_call(
    service, run_on_commit
):
    profile = AgentProfileFactory(services=[service], capacity_overrides={"share": {"voice": 75}})
    call = run_on_commit(lambda: inbound(service, channel="voice", phone="+14155550100"))
    run_on_commit(lambda: services.offer_accept(offer_id=call.offers.get().pk, user=profile.user))

    second_call = run_on_commit(lambda: inbound(service, channel="voice", phone="+14155550101"))
    chat = run_on_commit(lambda: inbound(service, visitor="v1"))

    second_call.refresh_from_db()
    chat.refresh_from_db()
    assert second_call.state == Interaction.State.QUEUED  # spare 25 < 50 needed for voice
    assert chat.state == Interaction.State.OFFERED and chat.agent == profile.user


@pytest.mark.django_db
def test_chat_capacity_leaves_room_for_nothing_else_once_full(service, run_on_commit):
    agent = AgentProfileFactory(services=[service]).user
    for i in range(4):
        run_on_commit(lambda i=i: inbound(service, visitor=f"v{i}"))
    sms = run_on_commit(lambda: inbound(service, channel="sms", phone="+14155550100"))
    sms.refresh_from_db()
    assert live_offers(agent).count() == 4
    assert sms.state == Interaction.State.QUEUED


@pytest.mark.django_db
def test_interaction_needing_spanish_3_is_offered_only_to_agents_with_that_level(
    service, run_on_commit
):
    spanish = Skill.objects.create(name="spanish")
    beginner = AgentProfileFactory(services=[service])
    AgentSkill.objects.create(agent=beginner, skill=spanish, level=2)
    no_skill = AgentProfileFactory(services=[service])
    fluent = AgentProfileFactory(services=[service])
    AgentSkill.objects.create(agent=fluent, skill=spanish, level=4)

    chat = run_on_commit(lambda: inbound(service, visitor="v1", required_skills={"spanish": 3}))

    assert chat.offers.get().agent == fluent.user
    assert not live_offers(beginner.user).exists()
    assert not live_offers(no_skill.user).exists()


@pytest.mark.django_db
def test_service_skill_requirement_applies_to_every_interaction(service, run_on_commit):
    spanish = Skill.objects.create(name="spanish")
    ServiceSkill.objects.create(service=service, skill=spanish, min_level=3)
    AgentProfileFactory(services=[service])

    chat = run_on_commit(lambda: inbound(service, visitor="v1"))

    chat.refresh_from_db()
    assert chat.state == Interaction.State.QUEUED


@pytest.mark.django_db
def test_unanswered_offer_expires_and_goes_to_the_next_agent(service, run_on_commit):
    first = AgentProfileFactory(
        services=[service], last_routed_at=timezone.now() - timedelta(hours=2)
    )
    second = AgentProfileFactory(
        services=[service], last_routed_at=timezone.now() - timedelta(hours=1)
    )
    early = run_on_commit(lambda: inbound(service, visitor="early"))
    offer = early.offers.get()
    assert offer.agent == first.user

    with time_machine.travel(offer.expires_at + timedelta(seconds=1)):
        run_on_commit(tasks.expire_offers)

    offer.refresh_from_db()
    first.refresh_from_db()
    assert offer.state == Offer.State.EXPIRED
    assert (first.state, first.not_ready_reason) == (AgentState.NOT_READY, "missed offer")
    assert early.offers.get(state=Offer.State.OFFERED).agent == second.user


@pytest.mark.django_db
def test_expired_offer_goes_back_to_the_head_of_the_queue(service, run_on_commit):
    AgentProfileFactory(services=[service], capacity_overrides={"share": {"chat": 100}})
    first = run_on_commit(lambda: inbound(service, visitor="first"))
    later = run_on_commit(lambda: inbound(service, visitor="later"))
    offer = first.offers.get()

    with time_machine.travel(offer.expires_at + timedelta(seconds=1)):
        run_on_commit(tasks.expire_offers)
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.state == later.state == Interaction.State.QUEUED
    assert selectors.queue_position(interaction=first) == 1
    assert selectors.queue_position(interaction=later) == 2


@pytest.mark.django_db
def test_accepting_an_expired_offer_is_refused(service, run_on_commit):
    agent = AgentProfileFactory(services=[service]).user
    chat = run_on_commit(lambda: inbound(service, visitor="v"))
    offer = chat.offers.get()
    with (
        time_machine.travel(offer.expires_at + timedelta(seconds=1)),
        pytest.raises(exceptions.InvalidState),
    ):
        services.offer_accept(offer_id=offer.pk, user=agent)


@pytest.mark.django_db
def test_accept_twice_is_harmless_and_another_agent_cannot_accept(service, agent_b, run_on_commit):
    agent = AgentProfileFactory(services=[service]).user
    chat = run_on_commit(lambda: inbound(service, visitor="v"))
    offer = chat.offers.get()

    with pytest.raises(exceptions.NotFound):
        services.offer_accept(offer_id=offer.pk, user=agent_b)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent))
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent))

    chat.refresh_from_db()
    assert chat.state == Interaction.State.ACTIVE
    assert chat.conversation.agent == agent
    assert agent.agent_profile.__class__.objects.get(user=agent).state == AgentState.BUSY


@pytest.mark.django_db
def test_auto_accept_channel_assigns_without_an_offer_step(run_on_commit):
    service = ServiceFactory(auto_accept_channels=["sms"])
    agent = AgentProfileFactory(services=[service]).user
    sms = run_on_commit(lambda: inbound(service, channel="sms", phone="+14155550100"))
    sms.refresh_from_db()
    assert sms.state == Interaction.State.ACTIVE
    assert sms.conversation.agent == agent


@pytest.mark.django_db
def test_nobody_ready_waits_then_ready_agent_gets_it(service, run_on_commit):
    profile = AgentProfileFactory(services=[service], state=AgentState.NOT_READY)
    chat = run_on_commit(lambda: inbound(service, visitor="v"))
    chat.refresh_from_db()
    assert chat.state == Interaction.State.QUEUED

    run_on_commit(lambda: services.agent_state_set(user=profile.user, state=AgentState.READY))

    chat.refresh_from_db()
    assert chat.state == Interaction.State.OFFERED and chat.agent == profile.user


@pytest.mark.django_db
def test_returning_customer_is_offered_to_their_last_agent(service, run_on_commit):
    last = AgentProfileFactory(services=[service], last_routed_at=timezone.now())
    AgentProfileFactory(services=[service], last_routed_at=None)  # idle longest otherwise
    chat = run_on_commit(lambda: inbound(service, visitor="returning", body="first visit"))
    offer = chat.offers.get()
    if offer.agent != last.user:
        run_on_commit(lambda: services.offer_reject(offer_id=offer.pk, user=offer.agent))
        offer = chat.offers.get(state=Offer.State.OFFERED)
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=last.user))
    conversation = chat.conversation
    run_on_commit(lambda: services.conversation_end(conversation=conversation, user=last.user))
    run_on_commit(
        lambda: services.conversation_wrap_up(
            conversation=conversation, user=last.user, disposition=None
        )
    )

    # Outside the conversation window (a new conversation) but within routing continuation.
    with time_machine.travel(timezone.now() + timedelta(hours=13)):
        again = run_on_commit(lambda: inbound(service, visitor="returning", body="second visit"))
        assert again.conversation_id != conversation.pk
        assert again.offers.get().agent == last.user


def _handled_conversation(service, agent, run_on_commit, *, channel, visitor=None, phone=None):
    interaction = run_on_commit(
        lambda: inbound(service, channel=channel, visitor=visitor, phone=phone)
    )
    offer = interaction.offers.get()
    assert offer.agent == agent
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent))
    return interaction.conversation


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["chat", "sms"])
def test_transfer_to_a_service_keeps_one_conversation(channel, run_on_commit):
    first_service, second_service = ServiceFactory(), ServiceFactory(name="Billing")
    agent = AgentProfileFactory(services=[first_service]).user
    billing_agent = AgentProfileFactory(services=[second_service]).user
    conversation = _handled_conversation(
        first_service, agent, run_on_commit, channel=channel, visitor="v", phone="+14155550100"
    )

    run_on_commit(
        lambda: services.transfer_to_service(
            conversation=conversation, user=agent, service=second_service
        )
    )

    interaction = conversation.interactions.get()
    offer = interaction.offers.get(state=Offer.State.OFFERED)
    assert offer.agent == billing_agent
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=billing_agent))
    conversation.refresh_from_db()
    assert (conversation.agent, conversation.service) == (billing_agent, second_service)
    assert conversation.interactions.count() == 1
    system_lines = conversation.messages.filter(kind=Message.Kind.SYSTEM).values_list(
        "body", flat=True
    )
    assert any("transferred the conversation to Billing" in line for line in system_lines)


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["chat", "sms"])
def test_transfer_to_an_agent_needs_their_acceptance(channel, service, run_on_commit):
    agent = AgentProfileFactory(services=[service]).user
    target_profile = AgentProfileFactory(services=[], display_name="Tara")
    conversation = _handled_conversation(
        service, agent, run_on_commit, channel=channel, visitor="v", phone="+14155550100"
    )

    offer = run_on_commit(
        lambda: services.transfer_to_agent(
            conversation=conversation, user=agent, target=target_profile.user
        )
    )
    conversation.refresh_from_db()
    assert conversation.agent == agent  # until the target accepts

    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=target_profile.user))

    conversation.refresh_from_db()
    assert conversation.agent == target_profile.user
    assert conversation.interactions.get().agent == target_profile.user
    lines = list(
        conversation.messages.filter(kind=Message.Kind.SYSTEM).values_list("body", flat=True)
    )
    assert any("asked Tara to take over" in line for line in lines)
    assert any("Tara joined the conversation" in line for line in lines)


@pytest.mark.django_db
def test_rejected_transfer_returns_to_the_original_agent(service, run_on_commit):
    agent = AgentProfileFactory(services=[service]).user
    target = AgentProfileFactory(services=[]).user
    conversation = _handled_conversation(service, agent, run_on_commit, channel="chat", visitor="v")

    offer = run_on_commit(
        lambda: services.transfer_to_agent(conversation=conversation, user=agent, target=target)
    )
    run_on_commit(lambda: services.offer_reject(offer_id=offer.pk, user=target))

    interaction = conversation.interactions.get()
    assert (interaction.state, interaction.agent) == (Interaction.State.ACTIVE, agent)


@pytest.mark.django_db
def test_queue_figures_match_a_hand_computed_example(service):
    """Threshold 20 s. Today: answered after 5 s, 15 s, 40 s; abandoned after 3 s (short, left
    out), 10 s (within threshold) and 60 s (after threshold); two waiting for 30 s and 90 s.
    SL = 2 within / (3 answered + 1 abandoned after threshold) = 50 %.
    Abandonment = 2 / (3 answered + 2 counted abandons) = 40 %. ASA = (5 + 15 + 40) / 3 = 20 s."""
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    service.service_level_seconds = 20
    service.save()
    conversation = ConversationFactory(service=service)

    def leg(*, queued_ago, answered_after=None, abandoned_after=None, state="ended"):
        queued = now - timedelta(seconds=queued_ago)
        return InteractionFactory(
            conversation=conversation,
            service=service,
            state=state,
            queued_at=queued,
            agent=None,
            answered_at=queued + timedelta(seconds=answered_after)
            if answered_after is not None
            else None,
            abandoned_at=queued + timedelta(seconds=abandoned_after)
            if abandoned_after is not None
            else None,
        )

    for seconds in (5, 15, 40):
        leg(queued_ago=600, answered_after=seconds)
    for seconds in (3, 10, 60):
        leg(queued_ago=600, abandoned_after=seconds)
    leg(queued_ago=30, state=Interaction.State.QUEUED)
    leg(queued_ago=90, state=Interaction.State.QUEUED)
    AgentProfileFactory(services=[service], state=AgentState.READY)
    AgentProfileFactory(services=[service], state=AgentState.BUSY)
    AgentProfileFactory(services=[service], state=AgentState.NOT_READY)

    figures = selectors.queue_figures(service=service, now=now)

    assert figures.waiting == 2
    assert figures.longest_wait_seconds == 90
    assert figures.answered == 3
    assert figures.answered_within_threshold == 2
    assert figures.abandoned == 2
    assert figures.abandoned_after_threshold == 1
    assert figures.service_level_percent == 50.0
    assert figures.abandonment_percent == 40.0
    assert figures.average_speed_of_answer_seconds == 20.0
    assert figures.agents_by_state == {"ready": 1, "busy": 1, "not_ready": 1}
    # What the newest of the 2 waiting customers is told: ASA x position / agents working.
    assert figures.estimated_wait_seconds == math.ceil(20 * 2 / 2)


@pytest.mark.django_db
def test_business_hours_and_holidays_decide_if_a_service_is_open(service):
    import datetime as dt

    from conversations.models import BusinessHours, Holiday

    service.time_zone = "Europe/Madrid"
    service.save()
    assert selectors.service_is_open(service=service)  # no hours configured: always open
    BusinessHours.objects.create(service=service, weekday=0, opens=dt.time(9), closes=dt.time(13))
    BusinessHours.objects.create(service=service, weekday=0, opens=dt.time(15), closes=dt.time(18))
    madrid = dt.timezone(dt.timedelta(hours=1))  # CET in winter
    monday = dt.datetime(2026, 11, 23, tzinfo=madrid)

    assert selectors.service_is_open(service=service, at=monday.replace(hour=10))
    assert not selectors.service_is_open(service=service, at=monday.replace(hour=14))
    assert selectors.service_is_open(service=service, at=monday.replace(hour=17, minute=59))
    assert not selectors.service_is_open(service=service, at=monday.replace(hour=18))
    assert not selectors.service_is_open(service=service, at=monday.replace(day=24, hour=10))
    Holiday.objects.create(service=service, date=dt.date(2026, 11, 23), name="Local holiday")
    assert not selectors.service_is_open(service=service, at=monday.replace(hour=10))


@pytest.mark.django_db
def test_supervisor_can_force_an_agents_state_and_agents_cannot(
    service_a, supervisor, agent_b, run_on_commit
):
    profile = AgentProfileFactory(services=[service_a], state=AgentState.READY)

    run_on_commit(
        lambda: services.agent_state_force(
            supervisor=supervisor, agent=profile.user, state=AgentState.NOT_READY
        )
    )
    profile.refresh_from_db()
    assert (profile.state, profile.not_ready_reason) == (
        AgentState.NOT_READY,
        "forced by supervisor",
    )

    with pytest.raises(exceptions.NotFound):
        services.agent_state_force(supervisor=agent_b, agent=profile.user, state=AgentState.READY)
    profile.refresh_from_db()
    assert profile.state == AgentState.NOT_READY


@pytest.mark.django_db
def test_force_ready_admin_action(admin_client, service):
    profile = AgentProfileFactory(services=[service], state=AgentState.NOT_READY)
    admin_client.post(
        "/admin/conversations/agentprofile/",
        {"action": "force_ready", "_selected_action": [profile.pk]},
    )
    profile.refresh_from_db()
    assert profile.state == AgentState.READY


@pytest.mark.django_db
def test_team_members_are_eligible_for_the_teams_services(service, run_on_commit):
    from conversations.models import Team

    member = AgentProfileFactory(services=[])
    team = Team.objects.create(name="Tier 1")
    team.services.add(service)
    team.members.add(member)

    chat = run_on_commit(lambda: inbound(service, visitor="v"))

    assert chat.offers.get().agent == member.user


@pytest.mark.django_db
def test_ramp_up_staggers_chats_to_an_agent_who_just_became_ready(service, settings, run_on_commit):
    settings.ROUTING_RAMP_UP_SECONDS = 60
    settings.ROUTING_RAMP_UP_STEP_SECONDS = 10
    profile = AgentProfileFactory(services=[service], state=AgentState.NOT_READY)
    run_on_commit(lambda: services.agent_state_set(user=profile.user, state=AgentState.READY))
    for i in range(3):
        run_on_commit(lambda i=i: inbound(service, visitor=f"v{i}"))
    assert live_offers(profile.user).count() == 1

    with time_machine.travel(timezone.now() + timedelta(seconds=11)):
        run_on_commit(tasks.route_all)
        assert live_offers(profile.user).count() == 2
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        run_on_commit(tasks.route_all)
        assert live_offers(profile.user).count() == 3  # ramp-up over: capacity rules alone


@pytest.mark.django_db
def test_agent_can_pull_a_waiting_interaction_from_their_service_queue(
    service, agent_b, run_on_commit
):
    profile = AgentProfileFactory(services=[service], state=AgentState.NOT_READY)
    chat = run_on_commit(lambda: inbound(service, visitor="v"))

    with pytest.raises(exceptions.NotFound):
        services.interaction_pull(interaction=chat, user=agent_b)
    offer = run_on_commit(lambda: services.interaction_pull(interaction=chat, user=profile.user))

    chat.refresh_from_db()
    assert offer.state == Offer.State.ACCEPTED
    assert (chat.state, chat.conversation.agent) == (Interaction.State.ACTIVE, profile.user)
    with pytest.raises(exceptions.InvalidState):
        services.interaction_pull(interaction=chat, user=profile.user)


@pytest.mark.django_db
def test_personal_queue_item_is_offered_only_to_its_agent(service, run_on_commit):
    owner = AgentProfileFactory(services=[service], last_routed_at=timezone.now())
    AgentProfileFactory(services=[service], last_routed_at=None)
    conversation = ConversationFactory(service=service)
    interaction = InteractionFactory(
        conversation=conversation, agent=None, state="queued", personal_agent=owner.user
    )

    run_on_commit(lambda: services.interaction_enqueue(interaction=interaction))

    assert interaction.offers.get().agent == owner.user


@pytest.mark.django_db
def test_logging_out_sets_logged_out_and_returns_live_offers(client, service, run_on_commit):
    profile = AgentProfileFactory(services=[service])
    chat = run_on_commit(lambda: inbound(service, visitor="v"))
    assert chat.offers.get().agent == profile.user
    client.force_login(profile.user)

    response = run_on_commit(lambda: client.post("/accounts/logout/"))

    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.state, profile.not_ready_reason) == (AgentState.LOGGED_OUT, "")
    chat.refresh_from_db()
    assert chat.state == Interaction.State.QUEUED
    assert chat.offers.get().state == Offer.State.REJECTED


@pytest.mark.django_db
def test_silent_desktop_makes_a_ready_agent_not_ready_disconnected(
    service, settings, run_on_commit
):
    settings.AGENT_DISCONNECT_SECONDS = 90
    now = timezone.now()
    silent = AgentProfileFactory(services=[service], last_seen_at=now, last_routed_at=None)
    alive = AgentProfileFactory(services=[service], last_seen_at=now, last_routed_at=now)
    api_only = AgentProfileFactory(services=[service], last_seen_at=None, last_routed_at=now)
    chat = run_on_commit(lambda: inbound(service, visitor="v"))
    assert chat.offers.get().agent == silent.user

    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        services.agent_seen(user_id=alive.user_id)
    with time_machine.travel(timezone.now() + timedelta(seconds=100)):
        assert run_on_commit(tasks.mark_disconnected_agents) == 1
        assert run_on_commit(tasks.mark_disconnected_agents) == 0

    silent.refresh_from_db()
    alive.refresh_from_db()
    api_only.refresh_from_db()
    assert (silent.state, silent.not_ready_reason) == (AgentState.NOT_READY, "disconnected")
    assert alive.state in (AgentState.READY, AgentState.BUSY)
    assert api_only.state in (AgentState.READY, AgentState.BUSY)
    assert chat.offers.get(agent=silent.user).state == Offer.State.EXPIRED
    assert chat.offers.get(state=Offer.State.OFFERED).agent in (alive.user, api_only.user)
