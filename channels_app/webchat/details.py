"""What a chat tells the agent about its conversation (the context panel's Details tab): the
pre-chat answers and the page the customer is on."""

from django.utils.translation import gettext

from conversations.models import Conversation
from conversations.ports import DetailItem

from ..models import ChatSession


def chat_details(conversation: Conversation) -> list[DetailItem]:
    """The newest chat session of the conversation (one query)."""
    session = (
        ChatSession.objects.filter(conversation_id=conversation.pk)
        .select_related("entry_point")
        .order_by("-created_at", "-id")
        .first()
    )
    if session is None:
        return []
    prechat = gettext("Pre-chat form")
    answers = [
        (gettext("Name"), session.customer_name),
        (gettext("Email"), session.email),
        (gettext("Phone"), session.phone),
        (gettext("Question"), session.question),
    ]
    items = [
        DetailItem(group=prechat, label=label, value=value) for label, value in answers if value
    ]
    page = gettext("Web page")
    if session.page_url:
        items.append(
            DetailItem(
                group=page,
                label=gettext("Customer is on") if session.is_open else gettext("Last page"),
                value=session.page_title or session.page_url,
                url=session.page_url,
            )
        )
    items.append(
        DetailItem(group=page, label=gettext("Chat entry point"), value=session.entry_point.name)
    )
    return items
