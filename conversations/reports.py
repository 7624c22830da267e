"""Reports: aggregate queries over the timestamps the services record on interactions.

Every figure is computed by the database, grouped by service, agent, team, channel, day or hour
of day (days and hours in the report's time zone); nothing loops over interactions in Python.

Definitions (one interaction = one contact offered to a service queue, counted in the period its
``queued_at`` falls in):

- **offered**: interactions that joined a queue; **answered**: those an agent accepted;
- **abandoned**: the customer left before an answer, after waiting at least
  ``SHORT_ABANDON_SECONDS``; **short abandons** waited less and are left out of abandonment and
  service level (``abandoned (all)`` counts both);
- **service level**: answered within the service's threshold / (answered + abandoned after the
  threshold), as the live figures (``selectors.queue_figures``);
- **ASA**: average wait of answered ones; **AHT**: average of talk or chat time (answer to end)
  plus the wrap-up that followed (end to ``wrap_up_ended_at``), over answered, ended ones;
- **transfers**: hand-overs of the interaction to a service or another agent.

An interaction transferred to another service is reported once, under that service, its wait
measured from the transfer. The **team** of an interaction is a team serving its service.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, ExtractHour, TruncDate
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThan
from django.utils.translation import gettext, gettext_lazy

from contactcenter.db import SecondsBetween

from .models import Channel, Conversation, Interaction
from .permissions import in_scope


class GroupBy:
    SERVICE = "service"
    AGENT = "agent"
    TEAM = "team"
    CHANNEL = "channel"
    DAY = "day"
    HOUR = "hour"
    CHOICES = [
        (SERVICE, gettext_lazy("Service")),
        (AGENT, gettext_lazy("Agent")),
        (TEAM, gettext_lazy("Team")),
        (CHANNEL, gettext_lazy("Channel")),
        (DAY, gettext_lazy("Day")),
        (HOUR, gettext_lazy("Hour of day")),
    ]


@dataclass(frozen=True)
class ReportPeriod:
    """Days ``first`` to ``last`` inclusive, in ``zone``."""

    first: date
    last: date
    zone: zoneinfo.ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.zone)


@dataclass(frozen=True)
class ReportFilters:
    period: ReportPeriod
    group_by: str = GroupBy.SERVICE
    service_id: int | None = None
    channel: str = ""


WAIT_TO_ANSWER = SecondsBetween("answered_at", "queued_at")
WAIT_TO_ABANDON = SecondsBetween("abandoned_at", "queued_at")
HANDLE_TIME = SecondsBetween("ended_at", "answered_at") + Coalesce(
    SecondsBetween("wrap_up_ended_at", "ended_at"), Value(0.0)
)


def _metrics() -> dict:
    short = settings.SHORT_ABANDON_SECONDS
    threshold = F("service__service_level_seconds")
    answered = Q(answered_at__isnull=False)
    abandoned = Q(answered_at__isnull=True, abandoned_at__isnull=False)
    return {
        "offered": Count("id"),
        "answered": Count("id", filter=answered),
        "abandoned": Count("id", filter=abandoned & Q(GreaterThanOrEqual(WAIT_TO_ABANDON, short))),
        "short_abandoned": Count("id", filter=abandoned & Q(LessThan(WAIT_TO_ABANDON, short))),
        "answered_within": Count(
            "id", filter=answered & Q(GreaterThanOrEqual(threshold, WAIT_TO_ANSWER))
        ),
        "abandoned_late": Count(
            "id", filter=abandoned & Q(GreaterThan(WAIT_TO_ABANDON, threshold))
        ),
        "asa": Avg(WAIT_TO_ANSWER, filter=answered),
        "aht": Avg(HANDLE_TIME, filter=answered & Q(ended_at__isnull=False)),
        "transfers": Coalesce(Sum("transfers"), 0),
    }


def _group(queryset: QuerySet, filters: ReportFilters) -> tuple[QuerySet, list[str]]:
    """``queryset`` grouped by the report's dimension, and the ordering of its rows."""
    zone = filters.period.zone
    group_by = filters.group_by
    if group_by == GroupBy.AGENT:
        keys = ["agent_id", "agent__username", "agent__agent_profile__display_name"]
        return queryset.values(*keys), [
            F("agent__agent_profile__display_name").asc(nulls_last=True),
            F("agent__username").asc(nulls_last=True),
            "agent_id",
        ]
    if group_by == GroupBy.TEAM:
        keys = ["service__teams__id", "service__teams__name"]
        return queryset.values(*keys), [
            F("service__teams__name").asc(nulls_last=True),
            "service__teams__id",
        ]
    if group_by == GroupBy.CHANNEL:
        return queryset.values("channel"), ["channel"]
    if group_by == GroupBy.DAY:
        return queryset.annotate(day=TruncDate("queued_at", tzinfo=zone)).values("day"), ["day"]
    if group_by == GroupBy.HOUR:
        return queryset.annotate(hour=ExtractHour("queued_at", tzinfo=zone)).values("hour"), [
            "hour"
        ]
    return queryset.values("service_id", "service__name"), ["service__name", "service_id"]


def report_interactions(*, user: AbstractBaseUser, filters: ReportFilters) -> QuerySet:
    """The interactions the report counts: queued in the period, in the services ``user``
    supervises (administrators: all), narrowed by the filters."""
    period = filters.period
    interactions = in_scope(
        Interaction.objects.filter(
            queued_at__gte=period.start, queued_at__lt=period.end, service__isnull=False
        ),
        user,
    )
    if filters.service_id:
        interactions = interactions.filter(service_id=filters.service_id)
    if filters.channel:
        interactions = interactions.filter(channel=filters.channel)
    return interactions


def report_rows(*, user: AbstractBaseUser, filters: ReportFilters) -> QuerySet:
    """One row (a dict) per group, with every metric; one query, ordered for display."""
    grouped, ordering = _group(report_interactions(user=user, filters=filters), filters)
    return grouped.annotate(**_metrics()).order_by(*ordering)


def report_totals(*, user: AbstractBaseUser, filters: ReportFilters) -> dict:
    """The same metrics over the whole report (one query)."""
    return report_interactions(user=user, filters=filters).aggregate(**_metrics())


def row_label(row: dict, group_by: str) -> str:
    if group_by == GroupBy.AGENT:
        if row["agent_id"] is None:
            return gettext("No agent")
        return row["agent__agent_profile__display_name"] or row["agent__username"]
    if group_by == GroupBy.TEAM:
        return row["service__teams__name"] or gettext("No team")
    if group_by == GroupBy.CHANNEL:
        return str(Channel(row["channel"]).label) if row["channel"] in Channel.values else ""
    if group_by == GroupBy.DAY:
        return row["day"].isoformat() if row["day"] else ""
    if group_by == GroupBy.HOUR:
        return f"{row['hour']:02d}:00" if row["hour"] is not None else ""
    return row["service__name"]


def service_level(row: dict) -> float | None:
    denominator = row["answered"] + row["abandoned_late"]
    return round(100 * row["answered_within"] / denominator, 1) if denominator else None


# --- Dispositions ---------------------------------------------------------------------------


def disposition_rows(*, user: AbstractBaseUser, filters: ReportFilters) -> QuerySet:
    """Conversations closed in the period, counted per service and disposition (one query)."""
    period = filters.period
    conversations = in_scope(
        Conversation.objects.filter(
            status=Conversation.Status.CLOSED,
            closed_at__gte=period.start,
            closed_at__lt=period.end,
        ),
        user,
    )
    if filters.service_id:
        conversations = conversations.filter(service_id=filters.service_id)
    if filters.channel:
        conversations = conversations.filter(
            Exists(Interaction.objects.filter(conversation=OuterRef("pk"), channel=filters.channel))
        )
    return (
        conversations.values("service_id", "service__name", "disposition__name")
        .annotate(conversations=Count("id", distinct=True))
        .order_by("service__name", "service_id", F("disposition__name").asc(nulls_last=True))
    )
