"""Opening a new channel leg inside a conversation the agent handles (an SMS during a chat, a call
to the customer in the browser), and a new conversation an agent starts with a contact."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter import realtime
from contactcenter.exceptions import NotFound

from .. import events
from ..models import AgentProfile, Conversation, Interaction, Service
from ..selectors import conversation_audiences
from . import agent_state


def interaction_open(
    *,
    conversation: Conversation,
    channel: str,
    user: AbstractBaseUser,
    direction: str = Interaction.Direction.OUTBOUND,
    customer_address: str = "",
    service_address: str = "",
    answered: bool = True,
) -> Interaction:
    """Create the leg (active, the agent on it) and tell the conversation's agents. The caller
    holds the conversation's lock and has checked that the user may start it; ``answered`` False
    leaves ``answered_at`` for the channel to set (a call that still rings)."""
    now = timezone.now()
    interaction = Interaction.objects.create(
        conversation=conversation,
        channel=channel,
        direction=direction,
        state=Interaction.State.ACTIVE,
        customer_address=customer_address,
        service_address=service_address,
        agent=user,
        service_id=conversation.service_id,
        started_at=now,
        answered_at=now if answered else None,
    )
    realtime.publish(
        audiences=conversation_audiences(conversation),
        type=events.INTERACTION_STARTED,
        payload=events.interaction_payload(interaction),
    )
    return interaction


def conversation_start(
    *, contact_id: int, user: AbstractBaseUser, service: Service | None = None
) -> Conversation:
    """The agent starts a conversation with a contact (a call from the contact's page): it is
    theirs from the start, in ``service`` (one of theirs; default: their first). Its first leg
    is opened by the caller, in the same transaction."""
    profile = AgentProfile.objects.filter(user=user).first()
    services = profile.services.order_by("name") if profile else Service.objects.none()
    service = services.filter(pk=service.pk).first() if service else services.first()
    if service is None:
        raise NotFound(gettext("You are in no service: a supervisor adds you to one."))
    now = timezone.now()
    conversation = Conversation.objects.create(
        contact_id=contact_id, service=service, agent=user, opened_at=now, last_message_at=now
    )
    audiences = conversation_audiences(conversation)
    realtime.publish(
        audiences=audiences,
        type=events.CONVERSATION_CREATED,
        payload=events.conversation_payload(conversation),
    )
    realtime.publish(
        audiences=audiences,
        type=events.CONVERSATION_ASSIGNED,
        payload=events.conversation_payload(conversation),
    )
    agent_state.agent_work_state_sync(user_id=user.pk)
    return conversation
