"""Case states (New, Open, Pending with a reason and a follow-up time, Resolved, Closed), My
queue and the service queues on the desktop, pulling work from them."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from contactcenter import realtime
from contactcenter.exceptions import ValidationError
from contactcenter.models import Event
from conversations import events, services, tasks
from conversations.models import Conversation, Interaction, Offer
from conversations.selectors import active_conversations, work_queues
from tests.factories import (
    DispositionFactory,
    IdentityFactory,
    InteractionFactory,
)
from tests.utils import count_queries

pytestmark = pytest.mark.django_db

PHONE = "+14155550100"


def inbound_sms(body: str, run_on_commit, *, phone: str = PHONE, service=None):
    from channels_app.services import InboundSms, sms_receive
    from tests.support.twilio_standin import new_sid

    return run_on_commit(
        lambda: sms_receive(
            sms=InboundSms(
                message_sid=new_sid(), from_number=phone, to_number="+15005550006", body=body
            )
        )
    ).message


@pytest.fixture
def taken(agent_a, sms_entry_point_a, run_on_commit):
    """A customer texted and agent A took the conversation."""
    message = inbound_sms("Hello", run_on_commit)
    conversation = message.conversation
    assert conversation.case_state == Conversation.CaseState.NEW
    offer = Offer.objects.get(interaction=message.interaction, state="offered")
    run_on_commit(lambda: services.offer_accept(offer_id=offer.pk, user=agent_a))
    conversation.refresh_from_db()
    assert conversation.case_state == Conversation.CaseState.OPEN
    return conversation


def later(hours: float = 1):
    return timezone.now() + timedelta(hours=hours)


def test_pending_needs_a_reason_and_a_future_follow_up(taken, agent_a):
    for reason, follow_up, field in (
        ("", later(), "reason"),
        ("documents", None, "follow_up_at"),
        ("documents", timezone.now() - timedelta(minutes=1), "follow_up_at"),
    ):
        with pytest.raises(ValidationError) as error:
            services.case_pend(
                conversation=taken, user=agent_a, reason=reason, follow_up_at=follow_up
            )
        assert error.value.field == field


def test_a_pending_case_frees_the_agent_and_waits_in_my_queue(
    taken, agent_a, run_on_commit, django_capture_on_commit_callbacks
):
    run_on_commit(
        lambda: services.case_pend(
            conversation=taken, user=agent_a, reason="waiting for the invoice", follow_up_at=later()
        )
    )
    taken.refresh_from_db()
    assert taken.case_state == Conversation.CaseState.PENDING
    assert taken.status == Conversation.Status.OPEN and taken.agent_id == agent_a.pk
    assert not taken.interactions.exclude(state=Interaction.State.ENDED).exists()
    assert agent_a.agent_profile.__class__.objects.get(user=agent_a).state == "ready"
    assert taken not in active_conversations(user=agent_a)
    assert [case.pk for case in work_queues(user=agent_a).parked] == [taken.pk]
    assert Event.objects.filter(
        type=events.CONVERSATION_CASE_CHANGED, audience=realtime.agent_audience(agent_a.pk)
    ).exists()
    assert taken.messages.filter(kind="system", body__contains="waiting for the invoice").exists()


def test_a_customer_message_takes_a_pending_case_up_again_with_its_agent_first(
    taken, agent_a, run_on_commit
):
    services.case_pend(conversation=taken, user=agent_a, reason="docs", follow_up_at=later())
    message = inbound_sms("Here are the documents", run_on_commit)

    taken.refresh_from_db()
    assert message.conversation_id == taken.pk
    assert taken.case_state == Conversation.CaseState.OPEN
    assert taken.follow_up_at is None and taken.pending_reason == ""
    offer = Offer.objects.get(interaction=message.interaction, state="offered")
    assert offer.agent_id == agent_a.pk  # routed, the last agent preferred


def test_at_the_follow_up_time_the_case_comes_back_to_its_agent(taken, agent_a):
    services.case_pend(conversation=taken, user=agent_a, reason="call back", follow_up_at=later())
    assert tasks.case_follow_ups() == 0

    with time_machine.travel(later(2)):
        assert tasks.case_follow_ups() == 1
        assert tasks.case_follow_ups() == 0  # once

    taken.refresh_from_db()
    assert taken.case_state == Conversation.CaseState.OPEN
    assert taken in active_conversations(user=agent_a)
    assert taken.messages.filter(kind="system", body__contains="call back").count() == 2


def test_resolving_asks_the_disposition_the_service_requires(taken, agent_a, service_a):
    service_a.disposition_required = True
    service_a.save()
    with pytest.raises(ValidationError) as error:
        services.case_resolve(conversation=taken, user=agent_a)
    assert error.value.field == "disposition"
    done = DispositionFactory(service=service_a, name="Solved")
    services.case_resolve(conversation=taken, user=agent_a, disposition=done, notes="ok")
    taken.refresh_from_db()
    assert (taken.case_state, taken.disposition, taken.wrap_up_notes) == ("resolved", done, "ok")
    assert taken.status == Conversation.Status.OPEN


def test_a_resolved_case_reopens_on_a_customer_message_and_otherwise_closes_later(
    taken, agent_a, run_on_commit, settings
):
    settings.CASE_RESOLVED_CLOSE_SECONDS = 3600
    services.case_resolve(conversation=taken, user=agent_a)
    inbound_sms("Actually, one more question", run_on_commit)
    taken.refresh_from_db()
    assert taken.case_state == Conversation.CaseState.OPEN

    for interaction in taken.interactions.exclude(state="ended"):
        offer = interaction.offers.filter(state="offered").first()
        if offer:
            services.offer_accept(offer_id=offer.pk, user=agent_a)
    services.case_resolve(conversation=taken, user=agent_a)
    assert tasks.close_resolved_cases() == 0
    with time_machine.travel(later(1.5)):
        assert tasks.close_resolved_cases() == 1
        assert tasks.close_resolved_cases() == 0
    taken.refresh_from_db()
    assert (taken.status, taken.case_state) == ("closed", "closed")


def test_writing_to_the_customer_takes_a_parked_case_up_again(taken, agent_a, run_on_commit):
    IdentityFactory(contact=taken.contact, kind="phone", value="+14155550199")
    services.case_pend(conversation=taken, user=agent_a, reason="x", follow_up_at=later())
    run_on_commit(
        lambda: services.message_send(
            conversation=taken,
            user=agent_a,
            body="Any news?",
            channel="sms",
            to_address="+14155550199",
        )
    )
    taken.refresh_from_db()
    assert taken.case_state == Conversation.CaseState.OPEN


def test_only_the_cases_agent_or_a_supervisor_sets_its_state(
    client, taken, agent_b, outsider, supervisor
):
    pend = reverse("case-pend", args=[taken.pk])
    resolve = reverse("case-resolve", args=[taken.pk])
    data = {"reason": "docs", "follow_up_at": later().strftime("%Y-%m-%dT%H:%M")}
    for user in (agent_b, outsider):
        client.force_login(user)
        assert client.post(pend, data).status_code == 404
        assert client.post(resolve).status_code == 404
    client.force_login(supervisor)
    response = client.post(pend, data)
    assert response.status_code == 200
    assert response.json()["case_state"] == "pending"
    bad = client.post(pend, {"reason": "docs", "follow_up_at": "tomorrow"})
    assert bad.status_code == 400 and list(bad.json()["error"]["fields"]) == ["follow_up_at"]


# --- Work queues ------------------------------------------------------------------------------


def waiting(service, count, **fields):
    created = []
    for _ in range(count):
        interaction = InteractionFactory(
            conversation__service=service,
            conversation__agent=None,
            service=service,
            queued_at=timezone.now(),
            agent=None,
            state="queued",
            channel="email",
            customer_address="someone@example.com",
            **fields,
        )
        created.append(interaction)
    return created


def test_the_service_queue_lists_what_waits_in_my_services_only(agent_a, service_a, service_b):
    mine = waiting(service_a, 2)
    waiting(service_b, 2)
    queues = work_queues(user=agent_a)
    assert [i.pk for i in queues.waiting] == [i.pk for i in mine]
    assert queues.personal == [] and queues.parked == []


def test_my_queue_holds_what_is_personal_to_me(agent_a, agent_b, service_a):
    (personal,) = waiting(service_a, 1, personal_agent=agent_a)
    waiting(service_a, 1, personal_agent=agent_b)
    queues = work_queues(user=agent_a)
    assert [i.pk for i in queues.personal] == [personal.pk]
    assert queues.waiting == []  # personal work of anybody is not in the service queue


def test_pulling_takes_the_interaction_for_the_agent(client, agent_a, agent_b, service_a):
    (interaction,) = waiting(service_a, 1)
    url = reverse("interaction-pull", args=[interaction.pk])
    client.force_login(agent_b)  # not an agent of service A
    assert client.post(url).status_code == 404
    client.force_login(agent_a)
    response = client.post(url)
    assert response.status_code == 200, response.json()
    assert response.json()["conversation_url"] == reverse(
        "conversation-detail", args=[interaction.conversation_id]
    )
    interaction.refresh_from_db()
    assert (interaction.state, interaction.agent_id) == ("active", agent_a.pk)
    again = client.post(url)
    assert again.status_code == 409
    assert client.post(reverse("interaction-pull", args=[999999])).status_code == 404


def test_an_offer_tells_the_services_pull_lists(agent_a, service_a, run_on_commit):
    (interaction,) = waiting(service_a, 1)
    run_on_commit(lambda: services.route_service(service_id=service_a.pk))
    assert Event.objects.filter(
        type=events.QUEUE_CHANGED,
        audience=realtime.service_audience(service_a.pk),
        payload__interaction_id=interaction.pk,
    ).exists()


def test_the_queues_fragment_costs_the_same_with_2_and_20_rows(
    client, agent_a, service_a, run_on_commit
):
    from tests.factories import ConversationFactory

    def parked(count):
        for _ in range(count):
            ConversationFactory(
                agent=agent_a,
                service=service_a,
                case_state="pending",
                pending_reason="docs",
                follow_up_at=later(),
            )

    client.force_login(agent_a)
    url = reverse("work-queues-fragment")
    waiting(service_a, 2)
    waiting(service_a, 2, personal_agent=agent_a)
    parked(2)
    two = count_queries(lambda: client.get(url))
    waiting(service_a, 18)
    waiting(service_a, 18, personal_agent=agent_a)
    parked(18)
    response = client.get(url)
    assert response.content.decode().count('class="queue-item') == 60
    assert count_queries(lambda: client.get(url)) == two
    desktop = count_queries(lambda: client.get(reverse("desktop")))
    waiting(service_a, 5)
    assert count_queries(lambda: client.get(reverse("desktop"))) == desktop
