"""The attachments of a conversation's emails, for the context panel's Details tab."""

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext

from conversations.models import Conversation
from conversations.ports import DetailItem

from ..models import EmailAttachment

ATTACHMENTS_SHOWN = 50


def email_details(conversation: Conversation) -> list[DetailItem]:
    """Up to ``ATTACHMENTS_SHOWN`` non-inline attachments, newest first (one query). The link is
    the permission-checked download view."""
    attachments = (
        EmailAttachment.objects.filter(message__conversation_id=conversation.pk, inline=False)
        .only("id", "filename", "size")
        .order_by("-id")[:ATTACHMENTS_SHOWN]
    )
    group = gettext("Attachments")
    return [
        DetailItem(
            group=group,
            label=filesizeformat(attachment.size),
            value=attachment.filename,
            url=reverse("email-attachment", args=[attachment.pk]),
        )
        for attachment in attachments
    ]
