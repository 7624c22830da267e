"""Reads of the live floor view (``/supervisor/``): the services, the agents board and the
conversations in progress that a supervisor supervises, each one page at a time, each in a
constant number of queries."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from .capacity import LOAD_STATES
from .models import (
    AgentProfile,
    AgentState,
    Channel,
    Conversation,
    Interaction,
    Message,
    Service,
)
from .permissions import in_scope, supervised_agents
from .selectors import QueueFigures, customer_label, queue_figures_for

PAGE_SIZE = 25
#: At most this many agents in a filter or "assign to" list.
CHOICES_LIMIT = 200
WAITING_STATES = (Interaction.State.QUEUED, Interaction.State.OFFERED)


def _page(queryset: QuerySet, number: object) -> Page:
    return Paginator(queryset, PAGE_SIZE).get_page(number)


# --- Services -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    service: Service
    figures: QueueFigures

    def agents(self, *states: str) -> int:
        return sum(self.figures.agents_by_state.get(state, 0) for state in states)

    @property
    def logged_in(self) -> int:
        return sum(n for state, n in self.figures.agents_by_state.items() if state != "logged_out")

    @property
    def ready(self) -> int:
        return self.agents(AgentState.READY)

    @property
    def busy(self) -> int:
        return self.agents(AgentState.BUSY, AgentState.OFFERED)

    @property
    def not_ready(self) -> int:
        return self.agents(AgentState.NOT_READY)

    @property
    def after_call_work(self) -> int:
        return self.agents(AgentState.AFTER_CALL_WORK)


def floor_services(*, user: AbstractBaseUser, page: object = 1) -> Page:
    """The services ``user`` supervises with their live queue figures (``queue_figures``)."""
    services = in_scope(Service.objects.order_by("name", "id"), user, "pk")
    result = _page(services, page)
    listed = list(result.object_list)
    figures = queue_figures_for(services=listed)
    result.object_list = [ServiceRow(service=s, figures=figures[s.pk]) for s in listed]
    return result


def service_choices(*, user: AbstractBaseUser) -> list[Service]:
    return list(in_scope(Service.objects.order_by("name"), user, "pk")[:CHOICES_LIMIT])


# --- Agents ---------------------------------------------------------------------------------------


@dataclass
class AgentWork:
    """One conversation an agent works on: its channels and since when it is theirs."""

    conversation_id: int
    number: str
    contact_name: str
    status: str
    channels: list[tuple[str, str]] = field(default_factory=list)
    since: datetime | None = None


@dataclass
class AgentRow:
    profile: AgentProfile
    capacity_used: int
    work: list[AgentWork]

    @property
    def user_id(self) -> int:
        return self.profile.user_id


def _agents_queryset(*, user: AbstractBaseUser, state: str = "", service_id: int | None = None):
    profiles = supervised_agents(user).select_related("user")
    if state:
        profiles = profiles.filter(state=state)
    if service_id:
        profiles = profiles.filter(Q(services=service_id) | Q(teams__services=service_id))
        profiles = AgentProfile.objects.filter(pk__in=profiles.values("pk")).select_related("user")
    logged_out_last = Case(
        When(state=AgentState.LOGGED_OUT, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return profiles.order_by(logged_out_last, "display_name", "user__username", "id")


def floor_agents(
    *, user: AbstractBaseUser, page: object = 1, state: str = "", service_id: int | None = None
) -> Page:
    """The agents board: each agent's state, reason, since when, the conversations they work on
    (channels, durations) and the share of their capacity in use. Three queries per page."""
    result = _page(_agents_queryset(user=user, state=state, service_id=service_id), page)
    profiles = list(result.object_list)
    user_ids = [profile.user_id for profile in profiles]
    work: dict[int, dict[int, AgentWork]] = {user_id: {} for user_id in user_ids}
    load: dict[int, int] = dict.fromkeys(user_ids, 0)
    by_user = {profile.user_id: profile for profile in profiles}
    interactions = (
        Interaction.objects.filter(agent_id__in=user_ids, state__in=LOAD_STATES)
        .select_related("conversation__contact")
        .order_by("started_at", "id")
    )
    for interaction in interactions:
        profile = by_user[interaction.agent_id]
        load[interaction.agent_id] += profile.capacity_share(interaction.channel)
        conversation = interaction.conversation
        item = work[interaction.agent_id].setdefault(
            conversation.pk,
            AgentWork(
                conversation_id=conversation.pk,
                number=conversation.number,
                contact_name=customer_label(conversation.contact, [interaction]),
                status=interaction.state,
            ),
        )
        item.channels.append((interaction.channel, interaction.get_channel_display()))
        since = interaction.answered_at or interaction.started_at
        item.since = min(item.since, since) if item.since else since
    wrap_ups = Conversation.objects.filter(
        agent_id__in=user_ids, status=Conversation.Status.WRAP_UP
    ).select_related("contact")
    for conversation in wrap_ups:
        work[conversation.agent_id].setdefault(
            conversation.pk,
            AgentWork(
                conversation_id=conversation.pk,
                number=conversation.number,
                contact_name=conversation.contact.display_name,
                status=conversation.status,
                since=conversation.wrap_up_started_at,
            ),
        )
    result.object_list = [
        AgentRow(
            profile=profile,
            capacity_used=load[profile.user_id],
            work=list(work[profile.user_id].values()),
        )
        for profile in profiles
    ]
    return result


def agent_choices(*, user: AbstractBaseUser, logged_in_only: bool = False) -> list[AgentProfile]:
    """Agents ``user`` supervises, for filters and "assign to" lists (bounded)."""
    profiles = supervised_agents(user).select_related("user")
    if logged_in_only:
        profiles = profiles.exclude(state=AgentState.LOGGED_OUT)
    return list(profiles.order_by("display_name", "user__username")[:CHOICES_LIMIT])


# --- Conversations in progress ------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationFilters:
    service_id: int | None = None
    channel: str = ""
    agent_id: int | None = None
    waiting_over_seconds: int | None = None

    @classmethod
    def from_query(cls, query) -> "ConversationFilters":
        def number(name: str) -> int | None:
            value = (query.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        channel = query.get("channel", "")
        return cls(
            service_id=number("service"),
            channel=channel if channel in Channel.values else "",
            agent_id=number("agent"),
            waiting_over_seconds=number("waiting"),
        )


_last_outbound_id = (
    Message.objects.filter(
        conversation=OuterRef(OuterRef("pk")), direction=Message.Direction.OUTBOUND
    )
    .order_by("-id")
    .values("id")[:1]
)
#: When the customer's oldest unanswered message arrived (their turn is over, ours is not).
_unanswered_since = (
    Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.INBOUND)
    .filter(id__gt=Coalesce(Subquery(_last_outbound_id), 0))
    .order_by("id")
    .values("created_at")[:1]
)
#: When the oldest of its interactions still waiting for an agent joined the queue.
_queued_since = (
    Interaction.objects.filter(conversation=OuterRef("pk"), state__in=WAITING_STATES)
    .order_by()
    .values("conversation")
    .annotate(oldest=Min("queued_at"))
    .values("oldest")
)


def floor_conversations(
    *,
    user: AbstractBaseUser,
    filters: ConversationFilters | None = None,
    page: object = 1,
    now: datetime | None = None,
) -> Page:
    """Open and wrapping-up conversations of the services ``user`` supervises, the customer who
    has waited longest first. Waiting = in the queue, or for an answer to their last message."""
    filters = filters or ConversationFilters()
    now = now or timezone.now()
    conversations = (
        in_scope(Conversation.objects.exclude(status=Conversation.Status.CLOSED), user)
        .annotate(waiting_since=Coalesce(Subquery(_queued_since), Subquery(_unanswered_since)))
        .select_related("contact", "service", "agent__agent_profile")
        .prefetch_related(
            Prefetch(
                "interactions",
                queryset=Interaction.objects.exclude(state=Interaction.State.ENDED).order_by(
                    "started_at", "id"
                ),
                to_attr="open_interactions",
            )
        )
    )
    if filters.service_id:
        conversations = conversations.filter(service_id=filters.service_id)
    if filters.agent_id:
        conversations = conversations.filter(agent_id=filters.agent_id)
    if filters.channel:
        conversations = conversations.filter(
            Exists(
                Interaction.objects.filter(
                    conversation=OuterRef("pk"), channel=filters.channel
                ).exclude(state=Interaction.State.ENDED)
            )
        )
    if filters.waiting_over_seconds is not None:
        conversations = conversations.filter(
            waiting_since__lte=now - timedelta(seconds=filters.waiting_over_seconds)
        )
    conversations = conversations.order_by(
        F("waiting_since").asc(nulls_last=True), "opened_at", "id"
    )
    return _page(conversations, page)


def waiting_interaction(conversation: Conversation) -> Interaction | None:
    """The conversation's oldest interaction waiting in the queue (what "assign" hands over)."""
    waiting = [
        interaction
        for interaction in getattr(conversation, "open_interactions", [])
        if interaction.state == Interaction.State.QUEUED
    ]
    return min(waiting, key=lambda i: (i.queued_at or i.started_at, i.pk)) if waiting else None
