"""Activities: a contact's conversations for the contacts pages (implements ``contacts.ports``).

Summaries never load messages; a conversation's timeline is fetched one page at a time and only
by users who may open that conversation on the desktop (``conversations_visible_to``).
"""

import re
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext

from contactcenter.realtime import agent_audience
from contacts import ports
from contacts.models import Contact
from contacts.permissions import can_merge

from .models import AgentProfile, Conversation, CustomFieldDefinition, Interaction, Message
from .selectors import conversation_get_for_agent, conversations_visible_to, timeline_messages

ACTIVITIES_PAGE = 20
CONVERSATION_NUMBER = re.compile(r"^C-?(\d+)$", re.IGNORECASE)


def agent_name(user: AbstractBaseUser | None) -> str:
    if user is None:
        return ""
    try:
        profile = user.agent_profile
    except ObjectDoesNotExist:
        profile = None
    if profile is not None:
        return profile.name
    return user.get_full_name() or user.get_username()


def _duration(start, end) -> timedelta | None:
    return end - start if (start and end) else None


def contact_conversations(
    *, contact_id: int, with_candidates: bool = True
) -> QuerySet[Conversation]:
    """Every conversation of the contact, newest first, with what a summary shows (not messages;
    ``with_candidates`` False leaves out the possible duplicates, which the panel does not show)."""
    prefetches: list = [
        Prefetch(
            "interactions",
            queryset=Interaction.objects.select_related("agent__agent_profile").order_by(
                "started_at", "id"
            ),
        ),
        Prefetch(
            "service__custom_field_definitions",
            queryset=CustomFieldDefinition.objects.order_by("position", "id"),
        ),
    ]
    if with_candidates:
        prefetches.append(
            Prefetch(
                "duplicate_candidates",
                queryset=Contact.objects.only("id", "first_name", "last_name", "merged_into"),
            )
        )
    return (
        Conversation.objects.filter(contact_id=contact_id)
        .select_related("service", "disposition", "agent__agent_profile")
        .prefetch_related(*prefetches)
        .order_by("-opened_at", "-id")
    )


def field_display(definition: CustomFieldDefinition, value: object) -> str:
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    return "" if value is None else str(value)


def filled_fields(conversation: Conversation) -> list[tuple[str, str]]:
    """The service's fields this conversation has a value for, labelled, in the service's order
    (definitions prefetched by ``contact_conversations``)."""
    values = conversation.custom_fields or {}
    return [
        (definition.label, field_display(definition, values[definition.key]))
        for definition in conversation.service.custom_field_definitions.all()
        if values.get(definition.key) not in (None, "")
    ]


def _leg(interaction: Interaction) -> ports.ActivityLeg:
    return ports.ActivityLeg(
        channel=interaction.channel,
        channel_label=interaction.get_channel_display(),
        direction_label=interaction.get_direction_display(),
        started_at=interaction.started_at,
        ended_at=interaction.ended_at,
        duration=_duration(interaction.started_at, interaction.ended_at),
        agent_name=agent_name(interaction.agent),
        customer_address=interaction.customer_address,
        # Voice lands later with recordings; any leg that has one shows its link.
        recording_url=getattr(interaction, "recording_url", "") or "",
    )


def _activity(
    conversation: Conversation,
    *,
    visible: bool,
    may_move: bool,
    contact_id: int,
    with_candidates: bool = True,
) -> ports.Activity:
    legs = [_leg(interaction) for interaction in conversation.interactions.all()]
    channels = list(dict.fromkeys((leg.channel, leg.channel_label) for leg in legs))
    candidates = [
        (candidate.pk, candidate.display_name)
        for candidate in (conversation.duplicate_candidates.all() if with_candidates else ())
        if candidate.pk != contact_id and candidate.merged_into_id is None
    ]
    return ports.Activity(
        conversation_id=conversation.pk,
        number=conversation.number,
        status=conversation.status,
        status_label=conversation.get_status_display(),
        is_open=conversation.is_open,
        opened_at=conversation.opened_at,
        closed_at=conversation.closed_at,
        duration=_duration(conversation.opened_at, conversation.closed_at),
        channels=channels,
        agent_name=agent_name(conversation.agent),
        service_name=conversation.service.name,
        disposition=conversation.disposition.name if conversation.disposition else "",
        notes=conversation.wrap_up_notes,
        fields=filled_fields(conversation),
        legs=legs,
        duplicate_candidates=candidates,
        timeline_url=reverse("contact-activity-timeline", args=[conversation.pk])
        if visible
        else "",
        desktop_url=reverse("conversation-detail", args=[conversation.pk]) if visible else "",
        move_url=reverse("contact-activity-move", args=[conversation.pk])
        if (visible and may_move)
        else "",
    )


def activities_page(
    *,
    contact: Contact,
    user: AbstractBaseUser,
    page: int | str = 1,
    per_page: int = ACTIVITIES_PAGE,
) -> Page:
    """One page of the contact's Activities; the same number of queries for 2 or 2,000."""
    paginator = Paginator(contact_conversations(contact_id=contact.pk), per_page)
    page_obj = paginator.get_page(page)
    conversations = list(page_obj.object_list)
    visible = set(
        conversations_visible_to(user=user)
        .filter(pk__in=[conversation.pk for conversation in conversations])
        .values_list("pk", flat=True)
    )
    may_move = can_merge(user)
    page_obj.object_list = [
        _activity(
            conversation,
            visible=conversation.pk in visible,
            may_move=may_move,
            contact_id=contact.pk,
        )
        for conversation in conversations
    ]
    return page_obj


def recent_activities(
    *, contact_id: int, user: AbstractBaseUser, exclude_id: int, limit: int
) -> tuple[list[ports.Activity], int]:
    """The contact's other conversations, newest first, at most ``limit``, and how many there are
    in all (the desktop's context panel); a fixed number of queries however many there are."""
    queryset = contact_conversations(contact_id=contact_id, with_candidates=False).exclude(
        pk=exclude_id
    )
    conversations = list(queryset[:limit])
    total = queryset.count()  # always: the same queries for 2 or 2,000
    visible = set(
        conversations_visible_to(user=user)
        .filter(pk__in=[conversation.pk for conversation in conversations])
        .values_list("pk", flat=True)
    )
    activities = [
        _activity(
            conversation,
            visible=conversation.pk in visible,
            may_move=False,  # moving a conversation is the contact page's
            contact_id=contact_id,
            with_candidates=False,
        )
        for conversation in conversations
    ]
    return activities, total


def activity_timeline(
    *, user: AbstractBaseUser, pk: int, before_id: int | None = None
) -> tuple[Conversation, list[ports.ActivityLeg], list[Message], bool]:
    """One page (the newest, or those before ``before_id``) of a conversation's messages, its
    legs and whether older messages exist. NotFound unless the user may open the conversation."""
    conversation = conversation_get_for_agent(user=user, pk=pk)
    messages = timeline_messages(conversation=conversation, before_id=before_id)
    has_earlier = bool(messages) and conversation.messages.filter(id__lt=messages[0].pk).exists()
    legs = [
        _leg(interaction)
        for interaction in conversation.interactions.select_related(
            "agent__agent_profile"
        ).order_by("started_at", "id")
    ]
    return conversation, legs, messages, has_earlier


# --- Other ports ----------------------------------------------------------------------------


def contacts_for_reference(text: str) -> list[int] | None:
    """``C-1042`` (the conversation number) -> the id of that conversation's contact."""
    match = CONVERSATION_NUMBER.match(text.strip())
    if not match:
        return None
    pk = int(match.group(1)) - Conversation.NUMBER_OFFSET
    if pk <= 0:
        return []
    return list(Conversation.objects.filter(pk=pk).values_list("contact_id", flat=True))


def contact_agent_audiences(contact_ids: list[int]) -> list[str]:
    """Agents holding open conversations of these contacts hear about changes to them."""
    agent_ids = (
        Conversation.objects.filter(contact_id__in=contact_ids, agent__isnull=False)
        .exclude(status=Conversation.Status.CLOSED)
        .values_list("agent_id", flat=True)
        .distinct()
    )
    return [agent_audience(agent_id) for agent_id in agent_ids]


def is_agent(user: AbstractBaseUser) -> bool:
    return AgentProfile.objects.filter(user_id=user.pk).exists()


def register() -> None:
    ports.register_activities_provider(activities_page)
    ports.register_reference_resolver(contacts_for_reference)
    ports.register_audience_provider(contact_agent_audiences)
    ports.register_viewer_check(is_agent)
