"""Reads for pages and the API, permission-scoped."""

import math
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Substr
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter.db import SecondsBetween
from contactcenter.exceptions import NotFound

from .models import (
    PARKED_CASE_STATES,
    AgentProfile,
    CannedResponse,
    Channel,
    Conversation,
    ConversationParticipant,
    Disposition,
    Interaction,
    Message,
    Offer,
    Service,
)
from .permissions import (
    can_supervise_conversation,
    is_supervisor,
    scope_filter,
    supervises_all_services,
)

TIMELINE_PAGE = 50


def conversations_visible_to(*, user: AbstractBaseUser) -> QuerySet[Conversation]:
    """An agent sees what they own and what they take part in; a supervisor also every
    conversation of the services they supervise (administrators: all)."""
    qs = Conversation.objects.all()
    if supervises_all_services(user):
        return qs
    taking_part = ConversationParticipant.objects.filter(agent=user, left_at__isnull=True)
    visible = Q(agent=user) | Q(pk__in=taking_part.values("conversation_id"))
    if is_supervisor(user):
        visible |= scope_filter(user)
    return qs.filter(visible)


def takes_part_in(*, conversation: Conversation, user: AbstractBaseUser) -> bool:
    """Owner, conference participant or supervisor of its service: may write in it."""
    if conversation.agent_id == user.pk or can_supervise_conversation(user, conversation):
        return True
    return ConversationParticipant.objects.filter(
        conversation_id=conversation.pk, agent=user, left_at__isnull=True
    ).exists()


def conversation_get_for_agent(*, user: AbstractBaseUser, pk: int) -> Conversation:
    """The conversation if ``user`` may see it; NotFound otherwise (no leak of existence)."""
    conversation = (
        conversations_visible_to(user=user)
        .select_related("contact", "service", "agent", "disposition", "follows")
        .filter(pk=pk)
        .first()
    )
    if conversation is None:
        raise NotFound(gettext("Conversation not found."))
    return conversation


def was_handled_by(*, user: AbstractBaseUser, conversation_id: int) -> bool:
    """Whether ``user`` once had this conversation (offered, owned a leg, took part): such a user
    may be told it moved on; anybody else learns nothing about it."""
    return (
        Offer.objects.filter(agent=user, interaction__conversation_id=conversation_id).exists()
        or Interaction.objects.filter(agent=user, conversation_id=conversation_id).exists()
        or ConversationParticipant.objects.filter(
            agent=user, conversation_id=conversation_id
        ).exists()
    )


def conversation_detail_for_agent(*, user: AbstractBaseUser, pk: int) -> Conversation:
    """The conversation with its interactions and current participants (the API's detail)."""
    conversation = (
        conversations_visible_to(user=user)
        .select_related("contact", "service", "agent", "disposition")
        .prefetch_related(
            Prefetch("interactions", queryset=Interaction.objects.order_by("started_at", "id")),
            Prefetch(
                "participants",
                queryset=ConversationParticipant.objects.filter(left_at__isnull=True)
                .select_related("agent")
                .order_by("joined_at", "id"),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if conversation is None:
        raise NotFound(gettext("Conversation not found."))
    return conversation


def message_get_for_agent(*, user: AbstractBaseUser, pk: int) -> Message:
    visible = conversations_visible_to(user=user).values("pk")
    message = (
        Message.objects.select_related("conversation", "interaction")
        .filter(pk=pk, conversation__in=visible)
        .first()
    )
    if message is None:
        raise NotFound(gettext("Message not found."))
    return message


def interactions_visible_to(*, user: AbstractBaseUser) -> QuerySet[Interaction]:
    """Channel legs of the conversations ``user`` may see."""
    qs = Interaction.objects.all()
    if is_supervisor(user):
        return qs
    return qs.filter(conversation__in=conversations_visible_to(user=user).values("pk"))


def interaction_get_for_agent(*, user: AbstractBaseUser, pk: int) -> Interaction:
    interaction = interactions_visible_to(user=user).filter(pk=pk).first()
    if interaction is None:
        raise NotFound(gettext("Interaction not found."))
    return interaction


def services_visible_to(*, user: AbstractBaseUser) -> QuerySet[Service]:
    """The services a user works in (directly or through a team) and, for a supervisor, the
    services they supervise (administrators: every service)."""
    from .permissions import supervised_services

    qs = Service.objects.all()
    direct = AgentProfile.services.through.objects.filter(agentprofile__user=user)
    teams = Service.teams.through.objects.filter(team__members__user=user)
    works_in = Q(pk__in=direct.values("service_id")) | Q(pk__in=teams.values("service_id"))
    if is_supervisor(user):
        supervised = supervised_services(user)
        if supervised is None:
            return qs
        return qs.filter(works_in | Q(pk__in=supervised.values("pk")))
    return qs.filter(works_in)


def service_get_for_user(*, user: AbstractBaseUser, pk: int) -> Service:
    service = services_visible_to(user=user).filter(pk=pk).first()
    if service is None:
        raise NotFound(gettext("Service not found."))
    return service


def dispositions_visible_to(*, user: AbstractBaseUser) -> QuerySet[Disposition]:
    return Disposition.objects.filter(service__in=services_visible_to(user=user).values("pk"))


def disposition_get_for_user(*, user: AbstractBaseUser, pk: int) -> Disposition:
    disposition = dispositions_visible_to(user=user).filter(pk=pk).first()
    if disposition is None:
        raise NotFound(gettext("Disposition not found."))
    return disposition


def agent_profiles_visible_to(*, user: AbstractBaseUser) -> QuerySet[AgentProfile]:
    """Supervisors see the agents they supervise (administrators: every agent) and themselves;
    an agent only themselves."""
    from .permissions import supervised_agents

    qs = AgentProfile.objects.select_related("user")
    if is_supervisor(user):
        return qs.filter(Q(pk__in=supervised_agents(user).values("pk")) | Q(user=user))
    return qs.filter(user=user)


def agent_profile_get_for_user(*, user: AbstractBaseUser, agent_id: int) -> AgentProfile:
    """The agent (by user id) if ``user`` may see them; NotFound otherwise."""
    profile = agent_profiles_visible_to(user=user).filter(user_id=agent_id).first()
    if profile is None:
        raise NotFound(gettext("Agent not found."))
    return profile


#: Characters of the last message kept for the list's one-line preview.
PREVIEW_CHARS = 160


def active_conversations(*, user: AbstractBaseUser, pk: int | None = None) -> list[Conversation]:
    """The agent's Active Conversations list; supervisors also see unassigned ones. With ``pk``,
    only that entry (empty when it is not in the list any more): the desktop updates one entry
    when only it changed.

    Each item carries ``last_text`` (the start of its last message or note: ``preview``,
    ``direction``, ``kind``; None without one) for the list's preview line: one query for all
    items, whatever their number."""
    taking_part = ConversationParticipant.objects.filter(agent=user, left_at__isnull=True)
    scope = Q(agent=user) | Q(pk__in=taking_part.values("conversation_id"))
    if is_supervisor(user):
        scope |= Q(agent__isnull=True) & scope_filter(user)
    if pk is not None:
        scope &= Q(pk=pk)
    conversations = list(
        Conversation.objects.filter(scope)
        .exclude(status=Conversation.Status.CLOSED)
        .exclude(case_state__in=PARKED_CASE_STATES)
        .select_related("contact", "service", "agent")
        .prefetch_related(
            Prefetch(
                "interactions",
                queryset=Interaction.objects.exclude(state=Interaction.State.ENDED),
                to_attr="open_interactions",
            )
        )
        .annotate(
            unread=Coalesce(Subquery(_unread_count), 0),
            last_customer_message_at=Subquery(_last_inbound_at),
            last_text_id=Subquery(_last_text_id),
        )
        .order_by("-last_message_at", "-id")
    )
    texts = {
        row["id"]: row
        for row in Message.objects.filter(
            pk__in=[c.last_text_id for c in conversations if c.last_text_id]
        )
        .annotate(preview=Substr("body", 1, PREVIEW_CHARS))
        .values("id", "preview", "direction", "kind")
    }
    from .ports import interaction_timers

    timers = interaction_timers(
        interaction for item in conversations for interaction in item.open_interactions
    )
    for conversation in conversations:
        conversation.last_text = texts.get(conversation.last_text_id)
        for interaction in conversation.open_interactions:
            interaction.timers = timers.get(interaction.pk, [])
    return conversations


# Customer messages since the agent last wrote: the agent's turn, and its unread count.
_last_outbound_id = (
    Message.objects.filter(
        conversation=OuterRef(OuterRef("pk")), direction=Message.Direction.OUTBOUND
    )
    .order_by("-id")
    .values("id")[:1]
)
_unread_count = (
    Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.INBOUND)
    .filter(id__gt=Coalesce(Subquery(_last_outbound_id), 0))
    .order_by()
    .values("conversation")
    .annotate(n=Count("id"))
    .values("n")
)
_last_text_id = (
    Message.objects.filter(
        conversation=OuterRef("pk"), kind__in=[Message.Kind.TEXT, Message.Kind.NOTE]
    )
    .order_by("-id")
    .values("id")[:1]
)
_last_inbound_at = (
    Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.INBOUND)
    .order_by("-id")
    .values("created_at")[:1]
)


def timeline_messages(
    *, conversation: Conversation, after_id: int = 0, before_id: int | None = None
) -> list[Message]:
    """Messages of a conversation in display order, the newest page first loaded. Each carries
    ``channel_extra``: what its channel shows under it (``ports.timeline_extras``), or ""."""
    qs = conversation.messages.select_related("sender", "interaction")
    if after_id:
        return _with_extras(list(qs.filter(id__gt=after_id).order_by("id")[:TIMELINE_PAGE]))
    if before_id:
        qs = qs.filter(id__lt=before_id)
    newest = list(qs.order_by("-id")[:TIMELINE_PAGE])
    newest.reverse()
    return _with_extras(newest)


def _with_extras(messages: list[Message]) -> list[Message]:
    from .ports import timeline_extras

    extras = timeline_extras(messages)
    for message in messages:
        message.channel_extra = extras.get(message.pk, "")
    return messages


def agent_profile_for(*, user: AbstractBaseUser) -> AgentProfile:
    profile, _ = AgentProfile.objects.get_or_create(user=user)
    return profile


def conversation_audiences(
    conversation: Conversation, *, participant_ids: Iterable[int] | None = None
) -> list[str]:
    """Who sees events about ``conversation``: its agent, its conference participants (read
    unless the caller knows them, ``()`` for a conversation created in this transaction) and
    the supervisors."""
    from contactcenter.realtime import SUPERVISORS, agent_audience

    audiences = [SUPERVISORS]
    if conversation.agent_id:
        audiences.insert(0, agent_audience(conversation.agent_id))
    if participant_ids is None:
        participant_ids = ConversationParticipant.objects.filter(
            conversation_id=conversation.pk, left_at__isnull=True
        ).values_list("agent_id", flat=True)
    audiences[0:0] = [agent_audience(agent_id) for agent_id in participant_ids]
    return audiences


def conversation_people_ids(conversation: Conversation) -> list[int]:
    """The agents in a conversation now: its owner and its conference participants."""
    people = set(
        ConversationParticipant.objects.filter(
            conversation_id=conversation.pk, left_at__isnull=True
        ).values_list("agent_id", flat=True)
    )
    if conversation.agent_id:
        people.add(conversation.agent_id)
    return sorted(people)


def conversation_people(*, conversation: Conversation, user: AbstractBaseUser) -> dict:
    """Who else is in the conversation (for the header), and whether ``user`` may leave it."""
    participants = list(
        conversation.participants.filter(left_at__isnull=True).select_related(
            "agent__agent_profile"
        )
    )
    others = [p.agent for p in participants if p.agent_id != user.pk]
    if conversation.agent_id and conversation.agent_id != user.pk:
        others.insert(0, conversation.agent)
    taking_part = any(p.agent_id == user.pk for p in participants)
    owner_with_company = conversation.agent_id == user.pk and bool(participants)
    return {
        "others": others,
        "can_leave": taking_part or owner_with_company,
        "people_ids": ",".join(str(i) for i in conversation_people_ids(conversation)),
    }


def pending_offers(*, user: AbstractBaseUser) -> list[Offer]:
    return list(
        Offer.objects.filter(agent=user, state=Offer.State.OFFERED)
        .select_related("interaction__conversation__contact", "interaction__service")
        .order_by("expires_at")
    )


def transfer_targets(*, user: AbstractBaseUser) -> dict:
    """Services and agents a conversation can be transferred to."""
    return {
        "services": list(Service.objects.order_by("name")),
        "agents": list(
            AgentProfile.objects.exclude(user=user)
            .select_related("user")
            .order_by("display_name", "user__username")
        ),
    }


@dataclass(frozen=True)
class QueueFigures:
    service_id: int
    waiting: int
    longest_wait_seconds: int
    estimated_wait_seconds: int | None
    agents_by_state: dict[str, int]
    answered: int
    answered_within_threshold: int
    abandoned: int
    abandoned_after_threshold: int
    service_level_percent: float | None
    abandonment_percent: float | None
    average_speed_of_answer_seconds: float | None
    #: When the longest-waiting interaction joined the queue (pages tick the longest wait).
    oldest_queued_at: datetime | None = None


def _start_of_day(service: Service, now: datetime) -> datetime:
    local = now.astimezone(zoneinfo.ZoneInfo(service.time_zone or "UTC"))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


WORKING_STATES = ("ready", "busy", "offered")


def estimated_wait_seconds(
    *,
    position: int,
    average_answer_seconds: float | None,
    agents_by_state: dict[str, int],
) -> int | None:
    """How long the customer at ``position`` in a queue will wait: the one formula the widget,
    supervisors and the API all show.

    Each customer ahead takes today's average speed of answer (before anyone was answered today:
    ``QUEUE_AVERAGE_HANDLE_SECONDS``), shared among the agents working (Ready or Busy) or, with
    none working, among those logged in. Nobody logged in: None ("no agent available").
    """
    working = sum(n for state, n in agents_by_state.items() if state in WORKING_STATES)
    logged_in = sum(n for state, n in agents_by_state.items() if state != "logged_out")
    if not logged_in:
        return None
    per_customer = (
        average_answer_seconds
        if average_answer_seconds is not None and working
        else settings.QUEUE_AVERAGE_HANDLE_SECONDS
    )
    return math.ceil(per_customer * max(position, 1) / (working or logged_in))


#: How long an interaction waited before it was answered, and before it was abandoned (seconds).
WAIT_TO_ANSWER = SecondsBetween("answered_at", "queued_at")
WAIT_TO_ABANDON = SecondsBetween("abandoned_at", "queued_at")


def queue_figures(*, service: Service, now: datetime | None = None) -> QueueFigures:
    """Live figures of one service queue; one selector for the widget, supervisors and the API.

    Service level today = answered within threshold / (answered + abandoned after threshold);
    abandons shorter than SHORT_ABANDON_SECONDS are left out of abandonment entirely.
    Estimated wait = what the newest customer in the queue is told (``estimated_wait_seconds``
    for the last position; for the first when nobody waits).
    """
    return queue_figures_for(services=[service], now=now)[service.pk]


def queue_figures_for(
    *, services: list[Service], now: datetime | None = None
) -> dict[int, QueueFigures]:
    """:func:`queue_figures` of several services at once, in three queries whatever their number
    (the floor view's services panel). "Today" starts at midnight in each service's time zone."""
    now = now or timezone.now()
    ids = [service.pk for service in services]
    if not ids:
        return {}
    short = timedelta(seconds=settings.SHORT_ABANDON_SECONDS)
    waiting = {
        row["service_id"]: row
        for row in Interaction.objects.filter(
            service_id__in=ids, state__in=[Interaction.State.QUEUED, Interaction.State.OFFERED]
        )
        .values("service_id")
        .annotate(count=Count("id"), oldest=Min("queued_at"))
        .order_by()
    }
    by_day_start: dict[datetime, list[int]] = {}
    for service in services:
        by_day_start.setdefault(_start_of_day(service, now), []).append(service.pk)
    today = Q()
    for day_start, service_ids in by_day_start.items():
        today |= Q(service_id__in=service_ids, queued_at__gte=day_start)
    stats = {
        row["service_id"]: row
        for row in Interaction.objects.filter(today)
        .values("service_id")
        .annotate(
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            within=Count(
                "id",
                filter=Q(answered_at__isnull=False)
                & Q(GreaterThanOrEqual(F("service__service_level_seconds"), WAIT_TO_ANSWER)),
            ),
            abandoned=Count(
                "id",
                filter=Q(answered_at__isnull=True, abandoned_at__gte=F("queued_at") + short),
            ),
            abandoned_late=Count(
                "id",
                filter=Q(answered_at__isnull=True, abandoned_at__isnull=False)
                & Q(LessThan(F("service__service_level_seconds"), WAIT_TO_ABANDON)),
            ),
            asa=Avg(
                ExpressionWrapper(F("answered_at") - F("queued_at"), output_field=DurationField()),
                filter=Q(answered_at__isnull=False),
            ),
        )
        .order_by()
    }
    states = agents_by_state_for(service_ids=ids)
    figures = {}
    for service in services:
        waiting_row = waiting.get(service.pk, {"count": 0, "oldest": None})
        row = stats.get(service.pk) or {
            "answered": 0,
            "within": 0,
            "abandoned": 0,
            "abandoned_late": 0,
            "asa": None,
        }
        by_state = states.get(service.pk, {})
        asa = row["asa"].total_seconds() if row["asa"] is not None else None
        denominator = row["answered"] + row["abandoned_late"]
        offered = row["answered"] + row["abandoned"]
        estimated = estimated_wait_seconds(
            position=waiting_row["count"], average_answer_seconds=asa, agents_by_state=by_state
        )
        figures[service.pk] = QueueFigures(
            service_id=service.pk,
            waiting=waiting_row["count"],
            longest_wait_seconds=int((now - waiting_row["oldest"]).total_seconds())
            if waiting_row["oldest"]
            else 0,
            estimated_wait_seconds=estimated,
            agents_by_state=by_state,
            answered=row["answered"],
            answered_within_threshold=row["within"],
            abandoned=row["abandoned"],
            abandoned_after_threshold=row["abandoned_late"],
            service_level_percent=round(100 * row["within"] / denominator, 1)
            if denominator
            else None,
            abandonment_percent=round(100 * row["abandoned"] / offered, 1) if offered else None,
            average_speed_of_answer_seconds=round(asa, 1) if asa is not None else None,
            oldest_queued_at=waiting_row["oldest"],
        )
    return figures


def agents_by_state_for(*, service_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per service, how many of its agents (assigned directly or through a team; each counted
    once) are in each state. One query."""
    direct = AgentProfile.objects.filter(services__in=service_ids).values_list(
        "services", "id", "state"
    )
    through_teams = AgentProfile.objects.filter(teams__services__in=service_ids).values_list(
        "teams__services", "id", "state"
    )
    seen: set[tuple[int, int]] = set()
    counts: dict[int, dict[str, int]] = {}
    for service_id, profile_id, state in direct.union(through_teams):
        if service_id not in service_ids or (service_id, profile_id) in seen:
            continue
        seen.add((service_id, profile_id))
        by_state = counts.setdefault(service_id, {})
        by_state[state] = by_state.get(state, 0) + 1
    return counts


def queue_position(*, interaction: Interaction) -> int:
    """1-based position of a waiting interaction in its service queue (0 when not waiting)."""
    if interaction.state != Interaction.State.QUEUED or interaction.queued_at is None:
        return 0
    ahead = Interaction.objects.filter(
        service_id=interaction.service_id, state=Interaction.State.QUEUED
    ).filter(
        Q(priority__gt=interaction.priority)
        | Q(priority=interaction.priority, queued_at__lt=interaction.queued_at)
        | Q(priority=interaction.priority, queued_at=interaction.queued_at, id__lt=interaction.pk)
    )
    return ahead.count() + 1


def service_is_open(*, service: Service, at: datetime | None = None) -> bool:
    """Open now by the service's business hours and holidays, in its time zone.

    A service without any business hours configured is always open.
    """
    local = (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(service.time_zone or "UTC"))
    if service.holidays.filter(date=local.date()).exists():
        return False
    periods = list(service.business_hours.all())
    if not periods:
        return True
    now_time = local.time()
    return any(p.weekday == local.weekday() and p.opens <= now_time < p.closes for p in periods)


@dataclass(frozen=True)
class ComposerTarget:
    """One choice of the composer's channel selector. ``ask_address``: a new leg to an address
    the agent types (an email to someone the contact has no identity for yet)."""

    channel: str
    to_address: str
    label: str
    new_leg: bool
    ask_address: bool = False


#: Channels an agent can continue a conversation on, with the identity kind they send to.
NEW_LEG_CHANNELS = {"sms": "phone", "email": "email"}
#: Channels whose new legs may also go to an address the agent types.
FREE_ADDRESS_CHANNELS = ("email",)


#: Channels whose interactions carry no written messages (a call): never a reply target.
SPOKEN_CHANNELS = (Channel.VOICE,)


def composer_targets(*, conversation: Conversation) -> list[ComposerTarget]:
    """Reply on an open interaction, or continue on another channel: an SMS to a contact phone,
    an email to a contact address (or another address), when the service can send on it."""
    from .ports import sender_addresses

    active = list(
        conversation.interactions.filter(state=Interaction.State.ACTIVE)
        .exclude(channel__in=SPOKEN_CHANNELS)
        .order_by("-started_at")
    )
    targets = [
        ComposerTarget(
            channel=i.channel,
            to_address=i.customer_address,
            label=f"{i.get_channel_display()} {i.customer_address}".strip(),
            new_leg=False,
        )
        for i in active
    ]
    sending = [
        channel
        for channel in NEW_LEG_CHANNELS
        if sender_addresses(channel=channel, service_id=conversation.service_id)
    ]
    if not sending:
        return targets
    identities = list(
        conversation.contact.identities.filter(
            kind__in=[NEW_LEG_CHANNELS[channel] for channel in sending]
        ).values_list("kind", "value")
    )
    for channel in sending:
        busy = {i.customer_address for i in active if i.channel == channel}
        kind = NEW_LEG_CHANNELS[channel]
        for identity_kind, address in identities:
            if identity_kind == kind and address not in busy:
                targets.append(
                    ComposerTarget(
                        channel=channel,
                        to_address=address,
                        label=f"{channel.upper()} {address}",
                        new_leg=True,
                    )
                )
        if channel in FREE_ADDRESS_CHANNELS:
            targets.append(
                ComposerTarget(
                    channel=channel, to_address="", label="", new_leg=True, ask_address=True
                )
            )
    return targets


# --- Work queues: My queue and the service queues an agent can pull from ---------------------

WORK_QUEUE_LIMIT = 50


@dataclass(frozen=True)
class WorkQueues:
    personal: list[Interaction]
    parked: list[Conversation]
    waiting: list[Interaction]


def work_queues(*, user: AbstractBaseUser) -> WorkQueues:
    """What an agent can pick up: their personal queue (interactions only they may be offered)
    and their parked cases (Pending, Resolved) -- "My queue" -- and what waits in the queues of
    the services they work, which they can pull. Constant number of queries."""
    waiting_related = ("conversation__contact", "service")
    personal = list(
        Interaction.objects.filter(state=Interaction.State.QUEUED, personal_agent=user)
        .select_related(*waiting_related)
        .order_by("-priority", "queued_at", "id")[:WORK_QUEUE_LIMIT]
    )
    parked = list(
        Conversation.objects.filter(
            agent=user, status=Conversation.Status.OPEN, case_state__in=PARKED_CASE_STATES
        )
        .select_related("contact", "service")
        .order_by(Coalesce("follow_up_at", "resolved_at"), "id")[:WORK_QUEUE_LIMIT]
    )
    waiting = list(
        Interaction.objects.filter(
            state=Interaction.State.QUEUED,
            service_id__in=agent_service_ids(user=user),
            personal_agent__isnull=True,
        )
        .select_related(*waiting_related)
        .order_by("-priority", "queued_at", "id")[:WORK_QUEUE_LIMIT]
    )
    return WorkQueues(personal=personal, parked=parked, waiting=waiting)


def agent_service_ids(*, user: AbstractBaseUser) -> list[int]:
    """Ids of the services ``user`` works, directly or through a team."""
    return list(
        Service.objects.filter(Q(agents__user=user) | Q(teams__members__user=user))
        .distinct()
        .values_list("id", flat=True)
    )


_PLACEHOLDER = re.compile(r"{{\s*(contact\.first_name|contact\.last_name|agent\.name|case)\s*}}")


def canned_responses_for(*, conversation: Conversation, user: AbstractBaseUser) -> list[dict]:
    """The service's (and global) canned responses and knowledge articles, placeholders filled
    in (``kind`` tells them apart: the composer's menu offers the responses)."""
    profile = getattr(user, "agent_profile", None)
    values = {
        "contact.first_name": conversation.contact.first_name,
        "contact.last_name": conversation.contact.last_name,
        "agent.name": profile.name if profile else user.get_username(),
        "case": conversation.number,
    }
    responses = CannedResponse.objects.filter(
        Q(service=conversation.service_id) | Q(service__isnull=True)
    ).order_by("kind", "title")
    return [
        {
            "id": r.pk,
            "kind": r.kind,
            "title": r.title,
            "text": _PLACEHOLDER.sub(lambda m: values[m.group(1)], r.body),
            "url": r.url,
        }
        for r in responses
    ]


PHONE_CHANNELS = ("sms", "voice")


def customer_label(contact, interactions) -> str:
    """A customer as agents see them: the contact's name; for an unnamed contact, the phone
    number (formatted to read) or email address of one of ``interactions`` (live ones first);
    otherwise the contact's placeholder name ("Contact 42")."""
    if f"{contact.first_name} {contact.last_name}".strip():
        return contact.display_name
    for interaction in sorted(interactions or (), key=lambda leg: leg.state == "ended"):
        address = interaction.customer_address
        if interaction.channel in PHONE_CHANNELS and address.startswith("+"):
            return phone_display(address)
        if interaction.channel == "email" and address:
            return address
    return contact.display_name


def phone_display(e164: str) -> str:
    """+14155550100 -> +1 415-555-0100 (the international format); as stored if unreadable."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
