"""The catalogue of events the web chat appends to a customer's audience (``chat.<session id>``,
read only by that customer's widget)."""

#: A line of the chat (the customer's or an agent's): the widget fetches it.
CHAT_MESSAGE = "chat.message"
#: A notice in the customer's transcript (an agent joined, transferred, left; inactivity; ended).
CHAT_NOTICE = "chat.notice"
#: The agent the customer is chatting with changed (``name`` or None).
CHAT_AGENT = "chat.agent"
#: The customer's place in the queue (``position``, ``wait_seconds``; ``connecting`` while an
#: agent is being offered the chat).
CHAT_QUEUE = "chat.queue"
#: The agent read the customer's lines up to ``up_to``.
CHAT_READ = "chat.read"
#: The chat will end for inactivity at ``expires_at`` (None: the warning is lifted).
CHAT_WARNING = "chat.warning"
#: The chat ended (``reason``: customer, agent, inactivity, left).
CHAT_ENDED = "chat.ended"

ALL = (CHAT_MESSAGE, CHAT_NOTICE, CHAT_AGENT, CHAT_QUEUE, CHAT_READ, CHAT_WARNING, CHAT_ENDED)
