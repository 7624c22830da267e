"""Template helpers of the email channel for the desktop's composer."""

from django import template

from conversations.models import Channel, Conversation
from conversations.ports import sender_addresses

from ..email import threads
from ..models import EmailDetails

register = template.Library()


@register.simple_tag
def email_composer_context(conversation: Conversation) -> dict:
    """Whether the service can send email, from which addresses, and the subject a new email
    of this conversation gets when the agent leaves it empty."""
    addresses = sender_addresses(channel=Channel.EMAIL, service_id=conversation.service_id)
    if not addresses:
        return {"can_send": False}
    last = (
        EmailDetails.objects.filter(message__conversation=conversation)
        .exclude(subject="")
        .order_by("-message_id")
        .values_list("subject", flat=True)
        .first()
    )
    subject = threads.reply_subject(last) if last else conversation.service.name
    return {
        "can_send": True,
        "from_addresses": addresses,
        "default_subject": threads.subject_with_token(subject, conversation),
    }
