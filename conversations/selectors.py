"""Reads for pages and the API, permission-scoped."""

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

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
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone
from django.utils.translation import gettext

from contactcenter.db import SecondsBetween
from contactcenter.exceptions import NotFound

from .models import (
    AgentProfile,
    CannedResponse,
    Conversation,
    ConversationParticipant,
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
        .select_related("contact", "service", "agent", "disposition")
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


def active_conversations(*, user: AbstractBaseUser) -> list[Conversation]:
    """The agent's Active Conversations list; supervisors also see unassigned ones."""
    taking_part = ConversationParticipant.objects.filter(agent=user, left_at__isnull=True)
    scope = Q(agent=user) | Q(pk__in=taking_part.values("conversation_id"))
    if is_supervisor(user):
        scope |= Q(agent__isnull=True) & scope_filter(user)
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
        .annotate(
            unread=Coalesce(Subquery(_unread_count), 0),
            last_customer_message_at=Subquery(_last_inbound_at),
        )
        .order_by("-last_message_at", "-id")
    )


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
_last_inbound_at = (
    Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.INBOUND)
    .order_by("-id")
    .values("created_at")[:1]
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
    participants = ConversationParticipant.objects.filter(
        conversation_id=conversation.pk, left_at__isnull=True
    ).values_list("agent_id", flat=True)
    audiences[0:0] = [agent_audience(agent_id) for agent_id in participants]
    return audiences


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


#: How long an interaction waited before it was answered, and before it was abandoned (seconds).
WAIT_TO_ANSWER = SecondsBetween("answered_at", "queued_at")
WAIT_TO_ABANDON = SecondsBetween("abandoned_at", "queued_at")
#: Agents counted as logged in for the wait estimate (they can take work now or soon).
ESTIMATE_STATES = ("ready", "busy", "offered")


def queue_figures(*, service: Service, now: datetime | None = None) -> QueueFigures:
    """Live figures of one service queue; one selector for the widget, supervisors and the API.

    Service level today = answered within threshold / (answered + abandoned after threshold);
    abandons shorter than SHORT_ABANDON_SECONDS are left out of abandonment entirely.
    Estimated wait = average speed of answer today x (waiting + 1) / agents logged in.
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
        logged_in = sum(n for state, n in by_state.items() if state in ESTIMATE_STATES)
        asa = row["asa"].total_seconds() if row["asa"] is not None else None
        denominator = row["answered"] + row["abandoned_late"]
        offered = row["answered"] + row["abandoned"]
        estimated = None
        if asa is not None and logged_in:
            estimated = round(asa * (waiting_row["count"] + 1) / logged_in)
        elif logged_in:
            estimated = 0
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
    """One choice of the composer's channel selector."""

    channel: str
    to_address: str
    label: str
    new_leg: bool


def composer_targets(*, conversation: Conversation) -> list[ComposerTarget]:
    """Reply on an open interaction, or continue on another channel (an SMS to a contact phone)."""
    from .ports import sender_addresses

    active = list(
        conversation.interactions.filter(state=Interaction.State.ACTIVE).order_by("-started_at")
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
    texting = {i.customer_address for i in active if i.channel == "sms"}
    if sender_addresses(channel="sms", service_id=conversation.service_id):
        for phone in conversation.contact.identities.filter(kind="phone").values_list(
            "value", flat=True
        ):
            if phone not in texting:
                targets.append(
                    ComposerTarget(
                        channel="sms", to_address=phone, label=f"SMS {phone}", new_leg=True
                    )
                )
    return targets


_PLACEHOLDER = re.compile(r"{{\s*(contact\.first_name|contact\.last_name|agent\.name|case)\s*}}")


def canned_responses_for(*, conversation: Conversation, user: AbstractBaseUser) -> list[dict]:
    """The service's (and global) canned responses with placeholders filled in."""
    profile = getattr(user, "agent_profile", None)
    values = {
        "contact.first_name": conversation.contact.first_name,
        "contact.last_name": conversation.contact.last_name,
        "agent.name": profile.name if profile else user.get_username(),
        "case": conversation.number,
    }
    responses = CannedResponse.objects.filter(
        Q(service=conversation.service_id) | Q(service__isnull=True)
    ).order_by("title")
    return [
        {
            "id": r.pk,
            "title": r.title,
            "text": _PLACEHOLDER.sub(lambda m: values[m.group(1)], r.body),
        }
        for r in responses
    ]
