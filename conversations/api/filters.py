"""Filters of the conversations API lists (django-filter: documented in the schema, bad values
are a 400 naming the parameter)."""

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from contactcenter.api.fields import IdFilter

from ..models import Channel, Conversation, Disposition, Interaction


class ConversationFilter(django_filters.FilterSet):
    contact = IdFilter(field_name="contact_id", help_text="Contact id.")
    service = IdFilter(field_name="service_id", help_text="Service id.")
    agent = IdFilter(field_name="agent_id", help_text="Owner's user id.")
    status = django_filters.ChoiceFilter(choices=Conversation.Status.choices)
    channel = django_filters.ChoiceFilter(
        choices=Channel.choices,
        method="filter_channel",
        help_text="Conversations with an interaction on this channel.",
    )
    updated_since = django_filters.IsoDateTimeFilter(
        method="filter_updated_since",
        help_text="Opened, last message, wrap-up or closed at or after this time (ISO 8601).",
    )

    class Meta:
        model = Conversation
        fields = ["contact", "service", "agent", "status", "channel", "updated_since"]

    def filter_channel(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        legs = Interaction.objects.filter(conversation=OuterRef("pk"), channel=value)
        return queryset.filter(Exists(legs))

    def filter_updated_since(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(
            Q(opened_at__gte=value)
            | Q(last_message_at__gte=value)
            | Q(wrap_up_started_at__gte=value)
            | Q(closed_at__gte=value)
        )


class InteractionFilter(django_filters.FilterSet):
    conversation = IdFilter(field_name="conversation_id")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    state = django_filters.ChoiceFilter(choices=Interaction.State.choices)
    agent = IdFilter(field_name="agent_id")

    class Meta:
        model = Interaction
        fields = ["conversation", "channel", "state", "agent"]


class DispositionFilter(django_filters.FilterSet):
    service = IdFilter(field_name="service_id")
    active = django_filters.BooleanFilter()

    class Meta:
        model = Disposition
        fields = ["service", "active"]
