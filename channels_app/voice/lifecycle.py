"""The voice lifecycle listener: whoever ends a voice interaction (the agent's hang-up or *End*,
the customer, a supervisor closing the conversation), the call closes here, in the same
transaction."""

from conversations.ports import Lifecycle, LifecycleEvent

from ..models import VoiceCall
from .services import call_ended


def voice_lifecycle(event: LifecycleEvent) -> None:
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
