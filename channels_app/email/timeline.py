"""What timelines show under an email message (the ``conversations`` timeline extras port):
subject and addresses, the quoted history folded, the formatted version in a sandboxed frame
with remote images blocked until asked for, attachments left out for their size."""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from conversations.models import Message

from ..models import EmailDetails
from .sanitize import has_remote_images


def email_timeline_extras(messages: list[Message]) -> dict[int, str]:
    details = EmailDetails.objects.filter(message_id__in=[message.pk for message in messages])
    extras: dict[int, str] = {}
    for item in details:
        html_url = reverse("email-html", args=[item.message_id]) if item.html else ""
        extras[item.message_id] = SafeString(
            render_to_string(
                "channels_app/email/_timeline_extra.html",
                {
                    "details": item,
                    "message_pk": item.message_id,
                    "html_url": html_url,
                    "remote_images": bool(html_url) and has_remote_images(item.html),
                },
            )
        )
    return extras
