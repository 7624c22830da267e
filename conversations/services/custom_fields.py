"""A conversation's custom fields: what integrations attach to it (a CRM case id, a ticket URL)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from contactcenter import realtime
from contacts.services import clean_custom_fields

from .. import events
from ..models import Conversation
from ..selectors import conversation_audiences
from .guards import ensure_participant


def conversation_custom_fields_set(
    *, conversation: Conversation, user: AbstractBaseUser, custom_fields: object
) -> Conversation:
    """Replace the conversation's custom fields (closed conversations too: a CRM may link a case
    afterwards). Same rules as a contact's: names to text, numbers, true/false or empty."""
    cleaned = clean_custom_fields(custom_fields)
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        ensure_participant(conversation, user, allow_closed=True)
        if conversation.custom_fields == cleaned:
            return conversation
        conversation.custom_fields = cleaned
        conversation.save(update_fields=["custom_fields"])
        realtime.publish(
            audiences=conversation_audiences(conversation),
            type=events.CONVERSATION_UPDATED,
            payload=events.conversation_payload(conversation, fields=sorted(cleaned)),
        )
    return conversation
