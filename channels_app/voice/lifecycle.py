"""The voice lifecycle listener: whoever ends a voice interaction (the agent's hang-up or *End*,
the customer, a supervisor closing the conversation), the call closes here, in the same
transaction."""

from conversations.ports import Lifecycle, LifecycleEvent

from ..models import ChatSession, VoiceCall
from ..webchat.services import session_end
from .services import (
    call_assigned,
    call_ended,
    call_transferred,
    call_waiting,
    consult_joined,
    consult_left,
)


def voice_lifecycle(event: LifecycleEvent) -> None:
    if event.kind in (
        Lifecycle.ASSIGNED,
        Lifecycle.QUEUED,
        Lifecycle.TRANSFERRED,
        Lifecycle.PARTICIPANT_JOINED,
        Lifecycle.PARTICIPANT_LEFT,
    ):
        if event.interaction is None:
            return
        call = (
            VoiceCall.objects.select_for_update(of=("self",))
            .filter(interaction_id=event.interaction.pk)
            .select_related("interaction")
            .first()
        )
        if call is None:
            return  # the interaction is being created: its call follows in the transaction
        call.interaction = event.interaction
        if event.kind == Lifecycle.PARTICIPANT_JOINED and event.agent_id:
            consult_joined(call, agent_id=event.agent_id)
        elif event.kind == Lifecycle.PARTICIPANT_LEFT and event.agent_id:
            consult_left(call, agent_id=event.agent_id)
        elif event.kind == Lifecycle.TRANSFERRED:
            service = event.conversation.service if event.service_id else None
            call_transferred(
                call,
                agent_id=event.agent_id,
                previous_agent_id=event.previous_agent_id,
                service_name=service.name if service else "",
            )
        elif event.kind == Lifecycle.ASSIGNED and event.agent_id:
            call_assigned(call, agent_id=event.agent_id)
        elif event.kind == Lifecycle.QUEUED:
            call_waiting(call)
        return
    if event.kind not in (Lifecycle.ENDED, Lifecycle.CLOSED):
        return
    calls = VoiceCall.objects.select_for_update(of=("self",)).exclude(state=VoiceCall.State.ENDED)
    if event.interaction is not None:
        calls = calls.filter(interaction_id=event.interaction.pk)
    else:
        calls = calls.filter(interaction__conversation_id=event.conversation.pk)
    for call in calls.select_related("interaction__agent__agent_profile"):
        call.interaction.conversation = event.conversation
        call_ended(call, reason=event.reason)
    if event.kind == Lifecycle.CLOSED:
        # A customer who only called (no chat line, so no chat leg) had the widget's session
        # opened for the call: it ends with the conversation, as a chat's does.
        sessions = ChatSession.objects.select_for_update(of=("self",)).filter(
            conversation_id=event.conversation.pk,
            interaction__isnull=True,
            state=ChatSession.State.OPEN,
        )
        for session in sessions:
            session_end(session, ChatSession.EndReason.AGENT)
