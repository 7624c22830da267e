"""Threading: our own Message-IDs, subjects carrying the case number, the conversations an
inbound email names (In-Reply-To/References first, the subject's ``[C-1042]`` as a fallback for
clients that break the headers)."""

import hashlib
import hmac
import re

from django.conf import settings

from conversations.models import Conversation

from ..models import EmailDetails
from .parsing import ParsedEmail

CASE_TOKEN = re.compile(r"\[\s*#?C-(\d{1,12})\s*\]", re.IGNORECASE)
REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|rv|antw|r|ynt)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
MAX_REFERENCES = 20


def case_token(conversation: Conversation) -> str:
    return f"[{conversation.number}]"


def subject_with_token(subject: str, conversation: Conversation) -> str:
    """``subject`` carrying the conversation's number, once."""
    subject = " ".join((subject or "").split())
    token = case_token(conversation)
    if token.lower() in subject.lower():
        return subject
    return f"{subject} {token}".strip()


def reply_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    return subject if REPLY_PREFIX.match(subject) else f"Re: {subject}".strip()


def subject_conversation_ids(subject: str) -> list[int]:
    ids = []
    for match in CASE_TOKEN.finditer(subject or ""):
        pk = int(match.group(1)) - Conversation.NUMBER_OFFSET
        if pk > 0 and pk not in ids:
            ids.append(pk)
    return ids


def outbound_message_id(*, message_pk: int, domain: str) -> str:
    """Our Message-ID for an outbound email: the same on every attempt (a retried send is the
    same email to the receiving servers), not guessable from the message number alone."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"email-message-{message_pk}".encode(), hashlib.sha256
    ).hexdigest()[:16]
    domain = settings.EMAIL_MESSAGE_ID_DOMAIN or domain or "localhost"
    return f"cc.{message_pk}.{digest}@{domain}"


def references_after(parent: EmailDetails | None) -> list[str]:
    """The References of a reply to ``parent``: its own, then its Message-ID (capped)."""
    if parent is None:
        return []
    chain = [ref for ref in parent.references.split() if ref]
    if parent.header_id:
        chain.append(parent.header_id)
    return list(dict.fromkeys(chain))[-MAX_REFERENCES:]


def thread_conversation_ids(parsed: ParsedEmail) -> list[int]:
    """The conversations the email names, best first: those of the messages it answers (most
    recent reference first), then the case number of its subject. ``inbound_receive`` keeps
    only one of the sender's own contact."""
    found: list[int] = []
    ids = parsed.thread_ids
    if ids:
        by_message_id = dict(
            EmailDetails.objects.filter(header_id__in=ids).values_list(
                "header_id", "message__conversation_id"
            )
        )
        found = [by_message_id[ref] for ref in ids if ref in by_message_id]
    found += subject_conversation_ids(parsed.subject)
    return list(dict.fromkeys(found))
