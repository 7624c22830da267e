"""Reads for pages and the API, permission-scoped."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet

from contactcenter.exceptions import NotFound

from .models import AgentProfile, Conversation, Interaction, Message

TIMELINE_PAGE = 50


def is_supervisor(user: AbstractBaseUser) -> bool:
    return bool(user.is_staff)


def conversations_visible_to(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    qs = Conversation.objects.all()
    if is_supervisor(user):
        return qs
    return qs.filter(agent=user)


def conversation_get_for_agent(*, user: AbstractBaseUser, pk: int) -> Conversation:
    """The conversation if ``user`` may see it; NotFound otherwise (no leak of existence)."""
    conversation = (
        conversations_visible_to(user=user)
        .select_related("contact", "service", "agent", "disposition")
        .filter(pk=pk)
        .first()
    )
    if conversation is None:
        raise NotFound("Conversation not found.")
    return conversation


def active_conversations(*, user: AbstractBaseUser) -> list[Conversation]:
    """The agent's Active Conversations list; supervisors also see unassigned ones."""
    scope = Q(agent=user)
    if is_supervisor(user):
        scope |= Q(agent__isnull=True)
    return list(
        Conversation.objects.filter(scope)
        .exclude(status=Conversation.Status.CLOSED)
        .select_related("contact", "service", "agent")
        .prefetch_related(
            Prefetch(
                "interactions",
                queryset=Interaction.objects.exclude(state=Interaction.State.ENDED),
                to_attr="open_interactions",
            )
        )
        .order_by("-last_message_at", "-id")
    )


def timeline_messages(
    *, conversation: Conversation, after_id: int = 0, before_id: int | None = None
) -> list[Message]:
    """Messages of a conversation in display order, the newest page first loaded."""
    qs = conversation.messages.select_related("sender", "interaction")
    if after_id:
        return list(qs.filter(id__gt=after_id).order_by("id")[:TIMELINE_PAGE])
    if before_id:
        qs = qs.filter(id__lt=before_id)
    newest = list(qs.order_by("-id")[:TIMELINE_PAGE])
    newest.reverse()
    return newest


def agent_profile_for(*, user: AbstractBaseUser) -> AgentProfile:
    profile, _ = AgentProfile.objects.get_or_create(user=user)
    return profile


def conversation_audiences(conversation: Conversation) -> list[str]:
    from contactcenter.realtime import SUPERVISORS, agent_audience

    audiences = [SUPERVISORS]
    if conversation.agent_id:
        audiences.insert(0, agent_audience(conversation.agent_id))
    return audiences
