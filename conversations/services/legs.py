"""Opening a new channel leg inside a conversation the agent handles (an SMS during a chat, a call
to the customer in the browser)."""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from contactcenter import realtime

from .. import events
from ..models import Conversation, Interaction
from ..selectors import conversation_audiences


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
