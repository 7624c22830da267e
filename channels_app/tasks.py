"""Celery tasks of the channels: thin adapters over services, ids only.

Beat runs the web chat close-out every few seconds (``CELERY_BEAT_SCHEDULE``): each run selects
candidate ids and acts on each with a conditional update, so overlapping runs, redeliveries and a
task running twice change nothing twice.
"""

import logging

from celery import shared_task
from django.db.models import F, Q

from conversations.models import Conversation, Interaction

from .models import ChatSession
from .webchat import services as webchat

logger = logging.getLogger(__name__)

SYNC_BATCH = 500


@shared_task(ignore_result=True)
def webchat_inactivity() -> dict:
    """Warn customers idle for half the timeout; end the chats idle for the whole timeout."""
    done = {"warned": 0, "ended": 0}
    for session_id in webchat.chat_inactivity_due():
        try:
            outcome = webchat.chat_inactivity_check(session_id=session_id)
        except Exception:
            logger.exception("webchat: inactivity check of chat %s failed", session_id)
            continue
        if outcome:
            done[outcome] += 1
    return done


@shared_task(ignore_result=True)
def webchat_sync() -> int:
    """Safety net for chats whose widget is not connected: a chat whose interaction ended or
    whose agent changed gets its notices (the connected widgets re-check on their own)."""
    candidates = (
        ChatSession.objects.filter(state=ChatSession.State.OPEN, interaction__isnull=False)
        .filter(
            Q(interaction__state=Interaction.State.ENDED)
            | ~Q(conversation__status=Conversation.Status.OPEN)
            # the customer was told about no agent, or another one, than the one on the chat now
            | Q(interaction__state=Interaction.State.ACTIVE, agent__isnull=True)
            | (Q(interaction__state=Interaction.State.ACTIVE) & ~Q(agent=F("interaction__agent")))
            # or about an agent who is no longer on it (back in the queue)
            | (Q(agent__isnull=False) & ~Q(interaction__state=Interaction.State.ACTIVE))
        )
        .values_list("id", flat=True)[:SYNC_BATCH]
    )
    count = 0
    for session_id in candidates:
        try:
            webchat.chat_session_sync(session_id=session_id)
            count += 1
        except Exception:
            logger.exception("webchat: sync of chat %s failed", session_id)
    return count


# --- Email -----------------------------------------------------------------------------------


@shared_task(ignore_result=True)
def email_poll_mailboxes() -> int:
    """Beat: poll every IMAP mailbox (each in its own task; a mailbox already being polled is
    left to that poll)."""
    from contactcenter.jobs import enqueue

    from .email.imap import mailboxes_to_poll

    return sum(bool(enqueue(EMAIL_POLL_MAILBOX, mailbox_id)) for mailbox_id in mailboxes_to_poll())


EMAIL_POLL_MAILBOX = "channels_app.tasks.email_poll_mailbox"


@shared_task(ignore_result=True, acks_late=True, time_limit=300, soft_time_limit=240)
def email_poll_mailbox(mailbox_id: int) -> dict:
    from .email.imap import mailbox_poll

    report = mailbox_poll(mailbox_id=mailbox_id)
    return {"stored": report.stored, "duplicates": report.duplicates, "error": report.error}
