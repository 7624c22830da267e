"""IMAP: polling the mailboxes of email entry points, and waiting for new mail with IDLE.

Each message is processed once, even when a poll is interrupted:

- A mailbox is polled by one process at a time: a poll takes a lease on the mailbox row with a
  conditional update and renews it after each message; a poll that died leaves a lease that runs
  out (``LEASE_SECONDS``).
- The cursor is (UIDVALIDITY, last UID processed). Messages are fetched in UID order with
  ``BODY.PEEK[]`` and each goes through ``email_receive`` (its own transaction); only then does the
  cursor move past it. A poll killed between the two fetches that message again next time, and
  ``email_receive`` stores it once (unique Message-ID). A new UIDVALIDITY (the folder was
  recreated) starts the cursor again from the beginning, with the same guarantee.
- A message that can never be read (not an email, too large) is logged and passed over; any
  other failure stops the poll before the cursor moves, so the message is tried again.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import select
import ssl
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from contactcenter.exceptions import DomainError, NotFound, ValidationError
from conversations.models import Channel

from ..models import EmailMailbox
from .services import EmailTooLarge, email_receive

logger = logging.getLogger(__name__)

LEASE_SECONDS = 90
DEFAULT_PORTS = {
    EmailMailbox.Security.SSL: 993,
    EmailMailbox.Security.STARTTLS: 143,
    EmailMailbox.Security.NONE: 143,
}
UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class ImapError(Exception):
    """The mailbox could not be read (connection, login, folder); the message says why and never
    carries the password."""


@dataclass
class PollReport:
    mailbox_id: int
    busy: bool = False
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str = ""
    uids: list[int] = field(default_factory=list)


def imap_connect(mailbox: EmailMailbox) -> imaplib.IMAP4:
    """A logged-in connection to the mailbox's server (folder not selected yet)."""
    security = mailbox.imap_security
    port = mailbox.imap_port or DEFAULT_PORTS[security]
    timeout = settings.EMAIL_IMAP_TIMEOUT
    try:
        if security == EmailMailbox.Security.SSL:
            connection = imaplib.IMAP4_SSL(
                mailbox.imap_host, port, ssl_context=ssl.create_default_context(), timeout=timeout
            )
        else:
            connection = imaplib.IMAP4(mailbox.imap_host, port, timeout=timeout)
            if security == EmailMailbox.Security.STARTTLS:
                connection.starttls(ssl_context=ssl.create_default_context())
        connection.login(mailbox.imap_username, mailbox.imap_password)
    except (imaplib.IMAP4.error, OSError) as exc:
        raise ImapError(f"{mailbox.imap_host}:{port}: {_reason(exc)}") from exc
    return connection


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, bytes):
        text = exc.decode(errors="replace")
    return " ".join(text.split())[:300]


def _select(connection: imaplib.IMAP4, folder: str) -> int:
    """Select ``folder``; returns its UIDVALIDITY."""
    status, data = connection.select(_quoted(folder))
    if status != "OK":
        raise ImapError(f"cannot open folder {folder!r}: {_reason(Exception(data))}")
    status, data = connection.response("UIDVALIDITY")
    if data and data[0]:
        return int(data[0])
    status, data = connection.status(_quoted(folder), "(UIDVALIDITY)")
    match = UIDVALIDITY.search(b" ".join(item for item in data if isinstance(item, bytes)))
    if not match:
        raise ImapError(f"folder {folder!r} has no UIDVALIDITY")
    return int(match.group(1))


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lease(mailbox_id: int) -> bool:
    now = timezone.now()
    return bool(
        EmailMailbox.objects.filter(pk=mailbox_id)
        .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        .update(poll_lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )


def _renew(mailbox_id: int) -> None:
    EmailMailbox.objects.filter(pk=mailbox_id).update(
        poll_lease_until=timezone.now() + timedelta(seconds=LEASE_SECONDS)
    )


def mailbox_cursor_reset(*, mailbox_id: int, uidvalidity: int) -> None:
    """A folder with a new UIDVALIDITY: its UIDs mean other messages now, start again."""
    EmailMailbox.objects.filter(pk=mailbox_id).exclude(imap_uidvalidity=uidvalidity).update(
        imap_uidvalidity=uidvalidity, imap_last_uid=0
    )


def mailbox_cursor_advance(*, mailbox_id: int, uidvalidity: int, uid: int) -> bool:
    """Remember that ``uid`` was processed (forward only, and only for that UIDVALIDITY)."""
    return bool(
        EmailMailbox.objects.filter(
            pk=mailbox_id, imap_uidvalidity=uidvalidity, imap_last_uid__lt=uid
        ).update(imap_last_uid=uid)
    )


def mailbox_poll(*, mailbox_id: int, limit: int = 200) -> PollReport:
    """Fetch and process the mailbox's new messages (at most ``limit``), once each."""
    report = PollReport(mailbox_id=mailbox_id)
    if not _lease(mailbox_id):
        report.busy = True
        return report
    connection = None
    try:
        mailbox = EmailMailbox.objects.select_related("entry_point__service").get(pk=mailbox_id)
        if not mailbox.polls or not mailbox.entry_point.active:
            return report
        connection = imap_connect(mailbox)
        uidvalidity = _select(connection, mailbox.imap_folder)
        mailbox_cursor_reset(mailbox_id=mailbox_id, uidvalidity=uidvalidity)
        mailbox.refresh_from_db(fields=["imap_uidvalidity", "imap_last_uid"])
        for uid in _new_uids(connection, after=mailbox.imap_last_uid)[:limit]:
            _process(connection, mailbox, uid, report)
            mailbox_cursor_advance(mailbox_id=mailbox_id, uidvalidity=uidvalidity, uid=uid)
            _mark_seen(connection, uid)
            _renew(mailbox_id)
            report.uids.append(uid)
        EmailMailbox.objects.filter(pk=mailbox_id).update(
            last_polled_at=timezone.now(), last_error=""
        )
    except (ImapError, imaplib.IMAP4.error, OSError) as exc:
        report.error = _reason(exc)
        logger.warning("IMAP poll of mailbox %s failed: %s", mailbox_id, report.error)
        EmailMailbox.objects.filter(pk=mailbox_id).update(
            last_polled_at=timezone.now(), last_error=report.error[:500]
        )
    finally:
        if connection is not None:
            _logout(connection)
        EmailMailbox.objects.filter(pk=mailbox_id).update(poll_lease_until=None)
    return report


def _new_uids(connection: imaplib.IMAP4, *, after: int) -> list[int]:
    status, data = connection.uid("SEARCH", None, f"UID {after + 1}:*")
    if status != "OK":
        raise ImapError(f"UID SEARCH failed: {_reason(Exception(data))}")
    uids = sorted({int(uid) for chunk in data if chunk for uid in chunk.split()})
    return [uid for uid in uids if uid > after]  # "n:*" also matches the last UID when < n


def _fetch(connection: imaplib.IMAP4, uid: int) -> bytes | None:
    status, data = connection.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if status != "OK":
        raise ImapError(f"UID FETCH {uid} failed: {_reason(Exception(data))}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None  # expunged meanwhile


def _process(connection: imaplib.IMAP4, mailbox: EmailMailbox, uid: int, report: PollReport):
    raw = _fetch(connection, uid)
    if raw is None:
        return
    report.fetched += 1
    try:
        outcome = email_receive(raw=raw, entry_point=mailbox.entry_point)
    except (ValidationError, EmailTooLarge, NotFound) as exc:
        # Never readable, never storable: passing over it keeps the mailbox flowing.
        report.rejected += 1
        logger.warning("mailbox %s: UID %s passed over: %s", mailbox.pk, uid, exc.message)
        return
    except DomainError:
        raise
    if outcome.duplicate:
        report.duplicates += 1
    else:
        report.stored += 1


def _mark_seen(connection: imaplib.IMAP4, uid: int) -> None:
    try:
        connection.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)")
    except (imaplib.IMAP4.error, OSError):
        logger.info("could not flag UID %s as seen", uid)


def _logout(connection: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        connection.logout()


def mailboxes_to_poll() -> list[int]:
    return list(
        EmailMailbox.objects.filter(entry_point__channel=Channel.EMAIL, entry_point__active=True)
        .exclude(imap_host="")
        .exclude(imap_username="")
        .values_list("id", flat=True)
    )


# --- IDLE -------------------------------------------------------------------------------------


def imap_supports_idle(connection: imaplib.IMAP4) -> bool:
    return "IDLE" in connection.capabilities


def imap_idle_wait(connection: imaplib.IMAP4, *, timeout: float) -> bool:
    """IMAP IDLE (RFC 2177) on the selected folder: True as soon as the server announces new
    mail, False when ``timeout`` passes first. (``imaplib`` has no IDLE before Python 3.14.)"""
    tag = connection._new_tag()  # the protocol's own tag sequence, so later commands stay valid
    connection.send(tag + b" IDLE\r\n")
    line = connection.readline()
    if not line.startswith(b"+"):
        raise ImapError(f"IDLE refused: {line.decode(errors='replace').strip()}")
    announced = False
    sock = connection.sock
    deadline = time.monotonic() + timeout
    while not announced:
        # Wait on the socket itself: a timeout on imaplib's buffered reader would break it.
        pending = getattr(sock, "pending", lambda: 0)()
        left = deadline - time.monotonic()
        if not pending and (left <= 0 or not select.select([sock], [], [], left)[0]):
            break
        line = connection.readline()
        if not line:
            raise ImapError("connection closed during IDLE")
        announced = bool(re.match(rb"\* \d+ (EXISTS|RECENT)", line))
    connection.send(b"DONE\r\n")
    while True:
        line = connection.readline()
        if not line:
            raise ImapError("connection closed after IDLE")
        if line.startswith(tag):
            break
    return announced


def mailbox_wait_for_mail(*, mailbox_id: int, timeout: float) -> bool | None:
    """Wait up to ``timeout`` seconds for new mail in the mailbox's folder with IDLE: True when
    mail came, False when the wait ended without. None at once when the server has no IDLE (the
    caller polls on a timer instead)."""
    mailbox = EmailMailbox.objects.get(pk=mailbox_id)
    connection = imap_connect(mailbox)
    try:
        _select(connection, mailbox.imap_folder)
        if not imap_supports_idle(connection):
            return None
        return imap_idle_wait(connection, timeout=timeout)
    finally:
        _logout(connection)
