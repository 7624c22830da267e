"""The web chat's side of an agent's ephemeral activity (the ``agent activity`` port): the agent
typing is shown in the customer's widget; the agent reading the customer's lines marks them read
(read receipts)."""

from contactcenter import realtime
from conversations.models import Conversation

from ..models import ChatSession
from .services import agent_display_name, chat_agent_read

TYPING = "chat.typing"  # a channel-layer message type (ephemeral), not an event of the log


class ChatActivity:
    def typing(self, *, conversation: Conversation, user, typing: bool) -> None:
        if conversation.agent_id != user.pk:
            return  # a supervisor looking in does not type as the agent
        name = agent_display_name(user)
        sessions = ChatSession.objects.filter(
            conversation=conversation, state=ChatSession.State.OPEN
        ).values_list("id", flat=True)
        for session_id in sessions:
            realtime.ring_group(
                realtime_group(session_id), {"type": TYPING, "typing": typing, "name": name}
            )

    def read(self, *, conversation: Conversation, user, up_to: int) -> None:
        chat_agent_read(conversation=conversation, user=user, up_to=up_to)


def realtime_group(session_id: int) -> str:
    from ..models import chat_audience

    return chat_audience(session_id)
