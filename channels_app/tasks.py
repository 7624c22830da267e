"""Celery tasks of the channels: thin adapters over services, ids only.

Beat runs the web chat close-out every few seconds (``CELERY_BEAT_SCHEDULE``): each run selects
candidate ids and acts on each under the session's lock, so overlapping runs, redeliveries and a
task running twice change nothing twice. (What happens to a chat on the agent's side reaches the
customer through the lifecycle listener, not through a task.)
"""

import logging

from celery import shared_task

from .webchat import services as webchat

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def webchat_inactivity() -> dict:
    """Warn customers idle for half the timeout; end the chats idle for the whole timeout; take
    out of the queue the waiting customers whose widget went away."""
    done = {"warned": 0, "ended": 0, "left": 0}
    for session_id in webchat.chat_inactivity_due():
        try:
            outcome = webchat.chat_inactivity_check(session_id=session_id)
        except Exception:
            logger.exception("webchat: inactivity check of chat %s failed", session_id)
            continue
        if outcome:
            done[outcome] += 1
    return done
