"""Telling the channels what happened to their interactions (the lifecycle port, ``ports``).

Writers call :func:`lifecycle_notify` inside their transaction, after their own writes; each
registered listener of the interaction's channel (or, for conversation events, of every channel
the conversation has a leg on) runs in the same transaction, so what a channel tells its customer
commits, or not, with the change itself.
"""

from ..models import Conversation, Interaction
from ..ports import LifecycleEvent, lifecycle_listeners


def lifecycle_notify(
    kind: str,
    *,
    conversation: Conversation,
    interaction: Interaction | None = None,
    agent_id: int | None = None,
    previous_agent_id: int | None = None,
    service_id: int | None = None,
    reason: str = "",
) -> None:
    event = LifecycleEvent(
        kind=kind,
        conversation=conversation,
        interaction=interaction,
        agent_id=agent_id,
        previous_agent_id=previous_agent_id,
        service_id=service_id,
        reason=reason,
    )
    if interaction is not None:
        channels = [interaction.channel]
    else:
        channels = sorted(set(conversation.interactions.values_list("channel", flat=True)))
    for channel in channels:
        for listener in lifecycle_listeners(channel):
            listener(event)
