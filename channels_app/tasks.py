"""Celery tasks of the channels: thin adapters over services, ids only.

Beat runs the web chat close-out every few seconds (``CELERY_BEAT_SCHEDULE``): each run selects
candidate ids and acts on each under the session's lock, so overlapping runs, redeliveries and a
task running twice change nothing twice. (What happens to a chat on the agent's side reaches the
customer through the lifecycle listener, not through a task.)
"""

import logging

from celery import shared_task

from .voice import services as voice
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


# --- Voice ---------------------------------------------------------------------------------------


@shared_task(ignore_result=True)
def voice_ring_timeout(call_id: int) -> bool:
    """A web call nobody answered in ``VOICE_RING_SECONDS`` ends unanswered."""
    return voice.call_ring_expire(call_id=call_id)


@shared_task(ignore_result=True)
def voice_recordings_expire() -> int:
    """Beat: delete the recordings older than their service's retention period."""
    return voice.recordings_expire()


@shared_task(ignore_result=True)
def voice_calls_gone() -> dict:
    """Beat: end the web calls whose customer or agent went away without hanging up."""
    done = {"customer": 0, "agent": 0}
    for call_id in voice.calls_gone_due():
        try:
            side = voice.call_gone_check(call_id=call_id)
        except Exception:
            logger.exception("voice: gone check of call %s failed", call_id)
            continue
        if side:
            done[side] += 1
    return done


VOICE_COMMANDS_RUN = "channels_app.tasks.voice_commands_run"


@shared_task(ignore_result=True, acks_late=True)
def voice_commands_run(call_id: int) -> str:
    """Send a phone call's pending controls to the provider, in order; a transient failure runs
    the task again with backoff (the sweep finds a lost one)."""
    from contactcenter.jobs import enqueue
    from conversations.tasks import retry_countdown

    from .voice import phone

    outcome = phone.commands_run(call_id=call_id)
    if outcome == "retry":
        attempts = phone.command_attempts(call_id=call_id)
        enqueue(VOICE_COMMANDS_RUN, call_id, countdown=retry_countdown(attempts))
    return outcome


@shared_task(ignore_result=True)
def voice_commands_sweep() -> int:
    """Beat: calls whose commands wait longer than ``OUTBOUND_STUCK_SECONDS`` (a lost task, a
    worker that died) are run again."""
    from datetime import timedelta

    from django.conf import settings

    from contactcenter.jobs import enqueue

    from .voice import phone

    stuck = phone.commands_stuck(older_than=timedelta(seconds=settings.OUTBOUND_STUCK_SECONDS))
    return sum(bool(enqueue(VOICE_COMMANDS_RUN, call_id)) for call_id in stuck)


VOICE_RECORDING_FETCH = "channels_app.tasks.voice_recording_fetch"


RECORDING_FETCH_ATTEMPTS = 8


@shared_task(ignore_result=True, acks_late=True)
def voice_recording_fetch(recording_id: int, attempt: int = 1) -> bool:
    """Download a phone call's recording from the provider into our storage (tried again with
    backoff while the provider is unreachable or still processing it)."""
    from contactcenter.jobs import enqueue
    from conversations.tasks import retry_countdown

    from .voice import phone
    from .voice.telephony import TelephonyError

    try:
        return phone.recording_fetch(recording_id=recording_id)
    except TelephonyError as exc:
        if not exc.transient or attempt >= RECORDING_FETCH_ATTEMPTS:
            logger.warning("recording %s could not be fetched: %s", recording_id, exc)
            return False
        logger.info("recording %s not fetched yet (%s): trying again", recording_id, exc)
        enqueue(
            VOICE_RECORDING_FETCH, recording_id, attempt + 1, countdown=retry_countdown(attempt)
        )
        return False
