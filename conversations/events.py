"""The catalogue of events ``conversations`` appends to the event log.

Every event type is a constant here with a one-line description and its payload builder; no other
module spells an event type as a string (a test checks it). Audiences are the desktop groups of
``contactcenter.realtime`` (``agent.<id>``, ``supervisors``, ``service.<id>``). Payloads stay small:
pages fetch what they show, events only say what changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import AgentProfile, Conversation, Interaction, Message, Offer

# --- Conversations ----------------------------------------------------------------------------
#: A conversation was opened (inbound from a new or returning customer).
CONVERSATION_CREATED = "conversation.created"
#: A conversation got an owner (offer accepted, conference joined).
CONVERSATION_ASSIGNED = "conversation.assigned"
#: Its interactions ended and the service asks for after-call work.
CONVERSATION_WRAP_UP = "conversation.wrap_up"
#: The conversation was closed (wrap-up submitted or timed out, or nothing to wrap up).
CONVERSATION_CLOSED = "conversation.closed"
#: A closed conversation was reopened by the customer writing again.
CONVERSATION_REOPENED = "conversation.reopened"
#: The conversation moved to another service's queue or another agent.
CONVERSATION_TRANSFERRED = "conversation.transferred"
#: An agent left a conference (to the agent who left).
CONVERSATION_LEFT = "conversation.left"
#: A participant joined or left (to everybody in the conversation).
CONVERSATION_PARTICIPANTS_CHANGED = "conversation.participants_changed"
#: The conversation was moved to another contact.
CONVERSATION_CONTACT_CHANGED = "conversation.contact_changed"
#: Its case state changed (Pending, Resolved, follow-up due, reopened by the customer).
CONVERSATION_CASE_CHANGED = "conversation.case_changed"
#: An integration changed the conversation's custom fields.
CONVERSATION_UPDATED = "conversation.updated"

# --- Interactions and messages ----------------------------------------------------------------
#: A new channel leg started inside a conversation (e.g. an SMS during a chat).
INTERACTION_STARTED = "interaction.started"
#: A channel leg ended.
INTERACTION_ENDED = "interaction.ended"
#: A message, note or system line was added to a conversation's timeline.
MESSAGE_CREATED = "message.created"
#: An outbound message's delivery status moved forward.
MESSAGE_STATUS_CHANGED = "message.status_changed"

# --- Routing ----------------------------------------------------------------------------------
#: An interaction was offered to an agent.
OFFER_CREATED = "offer.created"
#: The agent accepted the offer.
OFFER_ACCEPTED = "offer.accepted"
#: The agent rejected the offer.
OFFER_REJECTED = "offer.rejected"
#: Nobody answered the offer in time.
OFFER_EXPIRED = "offer.expired"
#: The offer was withdrawn (the customer left).
OFFER_CANCELLED = "offer.cancelled"
#: Offer state -> event type, for the writers that end an offer.
OFFER_ENDED = {
    "accepted": OFFER_ACCEPTED,
    "rejected": OFFER_REJECTED,
    "expired": OFFER_EXPIRED,
    "cancelled": OFFER_CANCELLED,
}
#: A service's queue changed (someone joined or left it).
QUEUE_CHANGED = "queue.changed"

# --- Agents -----------------------------------------------------------------------------------
#: An agent's state changed (Ready, Not Ready + reason, Busy, After Call Work, Logged out).
AGENT_STATE_CHANGED = "agent.state_changed"
#: An agent asked for Not Ready while busy: it applies after the current work.
AGENT_STATE_REQUESTED = "agent.state_requested"

# --- Supervision --------------------------------------------------------------------------------
#: A supervisor whispered to the agents handling a conversation (never to the customer).
SUPERVISOR_WHISPER = "supervisor.whisper"

ALL = (
    CONVERSATION_CREATED,
    CONVERSATION_ASSIGNED,
    CONVERSATION_WRAP_UP,
    CONVERSATION_CLOSED,
    CONVERSATION_REOPENED,
    CONVERSATION_TRANSFERRED,
    CONVERSATION_LEFT,
    CONVERSATION_PARTICIPANTS_CHANGED,
    CONVERSATION_CONTACT_CHANGED,
    CONVERSATION_CASE_CHANGED,
    CONVERSATION_UPDATED,
    INTERACTION_STARTED,
    INTERACTION_ENDED,
    MESSAGE_CREATED,
    MESSAGE_STATUS_CHANGED,
    OFFER_CREATED,
    OFFER_ACCEPTED,
    OFFER_REJECTED,
    OFFER_EXPIRED,
    OFFER_CANCELLED,
    QUEUE_CHANGED,
    AGENT_STATE_CHANGED,
    AGENT_STATE_REQUESTED,
    SUPERVISOR_WHISPER,
)


#: Every event type of this catalogue with its description (webhook subscriptions, API docs).
CATALOGUE = {
    CONVERSATION_CREATED: "A conversation was opened (inbound from a new or returning customer).",
    CONVERSATION_ASSIGNED: "A conversation got an owner (offer accepted, conference joined).",
    CONVERSATION_WRAP_UP: "Its interactions ended and the service asks for after-call work.",
    CONVERSATION_CLOSED: "The conversation was closed.",
    CONVERSATION_REOPENED: "A closed conversation was reopened by the customer writing again.",
    CONVERSATION_TRANSFERRED: "The conversation moved to another service's queue or agent.",
    CONVERSATION_LEFT: "An agent left a conference.",
    CONVERSATION_PARTICIPANTS_CHANGED: "A participant joined or left a conversation.",
    CONVERSATION_CONTACT_CHANGED: "The conversation was moved to another contact.",
    CONVERSATION_CASE_CHANGED: "The case state of an email conversation changed.",
    CONVERSATION_UPDATED: "The conversation's custom fields changed.",
    INTERACTION_STARTED: "A new channel leg started inside a conversation.",
    INTERACTION_ENDED: "A channel leg ended.",
    MESSAGE_CREATED: "A message, note or system line was added to a conversation's timeline.",
    MESSAGE_STATUS_CHANGED: "An outbound message's delivery status moved forward.",
    OFFER_CREATED: "An interaction was offered to an agent.",
    OFFER_ACCEPTED: "The agent accepted the offer.",
    OFFER_REJECTED: "The agent rejected the offer.",
    OFFER_EXPIRED: "Nobody answered the offer in time.",
    OFFER_CANCELLED: "The offer was withdrawn (the customer left).",
    QUEUE_CHANGED: "A service's queue changed (someone joined or left it).",
    AGENT_STATE_CHANGED: "An agent's state changed.",
    AGENT_STATE_REQUESTED: "An agent asked for Not Ready while busy (applies after the work).",
    SUPERVISOR_WHISPER: "A supervisor whispered to the agents of a conversation.",
}


# --- Payloads ---------------------------------------------------------------------------------


def conversation_payload(conversation: Conversation, **extra: object) -> dict:
    return {
        "conversation_id": conversation.pk,
        "number": conversation.number,
        "status": conversation.status,
        "agent_id": conversation.agent_id,
        "service_id": conversation.service_id,
        "case_state": conversation.case_state,
        **extra,
    }


def message_payload(message: Message) -> dict:
    return {
        "conversation_id": message.conversation_id,
        "message_id": message.pk,
        "interaction_id": message.interaction_id,
        "channel": message.channel,
        "direction": message.direction,
        "status": message.status,
    }


def message_status_payload(message: Message) -> dict:
    return {
        "conversation_id": message.conversation_id,
        "message_id": message.pk,
        "status": message.status,
        "error_code": message.error_code,
        "error_message": message.error_message,
    }


def interaction_payload(interaction: Interaction) -> dict:
    return {
        "conversation_id": interaction.conversation_id,
        "interaction_id": interaction.pk,
        "channel": interaction.channel,
        "state": interaction.state,
    }


def offer_payload(offer: Offer) -> dict:
    interaction = offer.interaction
    return {
        "offer_id": offer.pk,
        "interaction_id": interaction.pk,
        "conversation_id": interaction.conversation_id,
        "channel": interaction.channel,
        "agent_id": offer.agent_id,
        "state": offer.state,
        "expires_at": offer.expires_at.isoformat(),
    }


def queue_payload(*, service_id: int, interaction_id: int) -> dict:
    return {"service_id": service_id, "interaction_id": interaction_id}


def agent_state_payload(profile: AgentProfile) -> dict:
    return {
        "agent_id": profile.user_id,
        "state": profile.state,
        "reason": profile.not_ready_reason,
        "since": profile.state_changed_at.isoformat(),
    }


def agent_state_requested_payload(*, agent_id: int, state: str, reason: str) -> dict:
    return {"agent_id": agent_id, "state": state, "reason": reason}


WHISPER_PREVIEW_LENGTH = 500


def whisper_payload(message: Message, *, supervisor_name: str, number: str) -> dict:
    """What the agent's desktop pops up: who whispered, in which conversation, and the words (staff
    text, shown with ``textContent``; the whole note is in the timeline)."""
    return {
        "conversation_id": message.conversation_id,
        "message_id": message.pk,
        "number": number,
        "from": supervisor_name,
        "body": message.body[:WHISPER_PREVIEW_LENGTH],
    }
