"""The outbound adapter for chat: an agent's reply is pushed to the customer's widget through the
event log (audience ``chat.<session id>``), then marked delivered and read by the widget."""

from conversations.models import Message, MessageStatus
from conversations.ports import SendError, SendResult

from ..conversation_ops import AgentLine
from .services import chat_deliver


class ChatSender:
    def send(self, message: Message) -> SendResult:
        if not chat_deliver(message=message):
            raise SendError(
                AgentLine.CHAT_NOT_DELIVERED.stored(),
                transient=False,
                code=AgentLine.CHAT_NOT_DELIVERED.code,
            )
        return SendResult(provider_id=f"chat-{message.pk}", status=MessageStatus.SENT)
