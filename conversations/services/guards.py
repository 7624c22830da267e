"""Who may act on a conversation: one place for the checks every writer makes."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext

from contactcenter.exceptions import InvalidState, NotFound

from ..models import Conversation
from ..permissions import MANAGE_CONVERSATIONS, can_supervise_conversation
from ..selectors import takes_part_in


def ensure_handler(conversation: Conversation, user: AbstractBaseUser) -> None:
    """The owner or a supervisor of its service: may end, transfer, invite and wrap up."""
    if conversation.agent_id != user.pk and not can_supervise_conversation(
        user, conversation, MANAGE_CONVERSATIONS
    ):
        raise NotFound(gettext("Conversation not found."))
    ensure_not_closed(conversation)


def ensure_participant(
    conversation: Conversation, user: AbstractBaseUser, *, allow_closed: bool = False
) -> None:
    """The owner, a conference participant or a supervisor of its service: may write in it."""
    if not takes_part_in(conversation=conversation, user=user):
        raise NotFound(gettext("Conversation not found."))
    if not allow_closed:
        ensure_not_closed(conversation)


def ensure_not_closed(conversation: Conversation) -> None:
    if conversation.status == Conversation.Status.CLOSED:
        raise InvalidState(gettext("The conversation is closed."))


def agent_name(user: AbstractBaseUser | None) -> str:
    """The name agents and customers see for ``user``: their display name."""
    if user is None:
        return ""
    try:
        profile = user.agent_profile
    except ObjectDoesNotExist:
        profile = None
    if profile is not None:
        return profile.name
    return user.get_full_name() or user.get_username()
