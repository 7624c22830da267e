"""Long-running: watch every IMAP mailbox with IDLE (where the server offers it) and poll it as
soon as mail arrives; without IDLE, poll every EMAIL_IMAP_POLL_SECONDS. Run one next to the
Celery worker (``manage.py email_idle``); beat's periodic poll stays as the safety net, and the
mailbox lease keeps the two from fetching at once."""

import logging
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from channels_app.email.imap import (
    ImapError,
    mailbox_poll,
    mailbox_wait_for_mail,
    mailboxes_to_poll,
)

logger = logging.getLogger(__name__)
RETRY_SECONDS = 30


def watch(mailbox_id: int, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            mailbox_poll(mailbox_id=mailbox_id)
            # With IDLE, poll again as soon as it ends (mail came, or the wait timed out: mail
            # delivered between the poll and the IDLE is only seen by the next poll).
            idle = mailbox_wait_for_mail(
                mailbox_id=mailbox_id, timeout=settings.EMAIL_IMAP_IDLE_SECONDS
            )
            if idle is None:
                stop.wait(settings.EMAIL_IMAP_POLL_SECONDS)
        except ImapError as exc:
            logger.warning("mailbox %s: %s; trying again in %s s", mailbox_id, exc, RETRY_SECONDS)
            stop.wait(RETRY_SECONDS)
        except Exception:
            logger.exception("mailbox %s: watcher failed; restarting", mailbox_id)
            stop.wait(RETRY_SECONDS)
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Watch the IMAP mailboxes with IDLE and process new email as it arrives."

    def handle(self, *args: object, **options: object) -> None:
        stop = threading.Event()
        watchers: dict[int, threading.Thread] = {}
        try:
            while True:
                for mailbox_id in mailboxes_to_poll():
                    thread = watchers.get(mailbox_id)
                    if thread is None or not thread.is_alive():
                        thread = threading.Thread(
                            target=watch, args=(mailbox_id, stop), daemon=True
                        )
                        thread.start()
                        watchers[mailbox_id] = thread
                close_old_connections()
                time.sleep(60)  # pick up mailboxes added meanwhile
        except KeyboardInterrupt:
            stop.set()
