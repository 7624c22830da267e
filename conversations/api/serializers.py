"""Input and output serializers of the conversations API (the services write, never these)."""

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from contactcenter.api.fields import IdField

from ..models import (
    AgentState,
    Channel,
    Conversation,
    ConversationParticipant,
    Disposition,
    Interaction,
    Message,
    Offer,
    Service,
)

CONVERSATION = {
    "id": 42,
    "number": "C-1042",
    "status": "open",
    "contact": 12,
    "contact_name": "Ana Díaz",
    "service": 1,
    "service_name": "Support",
    "agent": 7,
    "agent_username": "maria",
    "opened_at": "2026-01-05T10:00:00Z",
    "closed_at": None,
    "last_message_at": "2026-01-05T10:02:00Z",
}
INTERACTION = {
    "id": 50,
    "conversation": 42,
    "channel": "sms",
    "direction": "inbound",
    "state": "active",
    "customer_address": "+14155550100",
    "service_address": "+15005550006",
    "agent": 7,
    "service": 1,
    "started_at": "2026-01-05T10:00:00Z",
    "queued_at": "2026-01-05T10:00:00Z",
    "answered_at": "2026-01-05T10:00:05Z",
    "ended_at": None,
}
DISPOSITION = {"id": 3, "service": 1, "name": "Resolved", "is_final": True, "active": True}
MESSAGE = {
    "id": 77,
    "conversation": 42,
    "interaction": 50,
    "channel": "sms",
    "direction": "outbound",
    "kind": "text",
    "body": "Your order ships today.",
    "attachments": [],
    "sender": 7,
    "status": "queued",
    "error_code": "",
    "error_message": "",
    "created_at": "2026-01-05T10:02:00Z",
}
OFFER = {
    "id": 9,
    "interaction": 50,
    "conversation": 42,
    "channel": "chat",
    "state": "offered",
    "is_transfer": False,
    "created_at": "2026-01-05T10:00:01Z",
    "expires_at": "2026-01-05T10:00:21Z",
}
QUEUE = {
    "service_id": 1,
    "waiting": 3,
    "longest_wait_seconds": 48,
    "estimated_wait_seconds": 90,
    "agents_by_state": {"ready": 2, "busy": 4, "not_ready": 1},
    "answered": 120,
    "answered_within_threshold": 101,
    "abandoned": 6,
    "abandoned_after_threshold": 4,
    "service_level_percent": 81.5,
    "abandonment_percent": 4.8,
    "average_speed_of_answer_seconds": 14.2,
}
SERVICE = {
    "id": 1,
    "name": "Support",
    "channels": ["voice", "chat", "sms", "email"],
    "priority": 0,
    "service_level_seconds": 20,
    "service_level_percent": 80,
    "offer_timeout_seconds": 20,
    "after_call_work": True,
    "disposition_required": False,
    "time_zone": "Europe/Madrid",
}


def _example(name: str, value: object):
    return extend_schema_serializer(
        examples=[OpenApiExample(name, value=value, response_only=True)]
    )


@_example("A conversation", CONVERSATION)
class ConversationOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True, help_text="Case number, e.g. C-1042.")
    contact_name = serializers.CharField(source="contact.display_name", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    agent_username = serializers.CharField(
        source="agent.username", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Conversation
        fields = [
            "id",
            "number",
            "status",
            "contact",
            "contact_name",
            "service",
            "service_name",
            "agent",
            "agent_username",
            "opened_at",
            "closed_at",
            "last_message_at",
        ]


@_example("An SMS leg", INTERACTION)
class InteractionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Interaction
        fields = [
            "id",
            "conversation",
            "channel",
            "direction",
            "state",
            "customer_address",
            "service_address",
            "agent",
            "service",
            "started_at",
            "queued_at",
            "answered_at",
            "ended_at",
        ]


class ParticipantOutputSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="agent.username")

    class Meta:
        model = ConversationParticipant
        fields = ["agent", "username", "joined_at"]


@_example("A disposition", DISPOSITION)
class DispositionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disposition
        fields = ["id", "service", "name", "is_final", "active"]


@_example(
    "A conversation in detail",
    {
        **CONVERSATION,
        "wrap_up_notes": "",
        "custom_fields": {"crm_case": "CASE-8812"},
        "disposition": None,
        "interactions": [INTERACTION],
        "participants": [{"agent": 8, "username": "luis", "joined_at": "2026-01-05T10:03:00Z"}],
    },
)
class ConversationDetailOutputSerializer(ConversationOutputSerializer):
    interactions = InteractionOutputSerializer(many=True, read_only=True)
    participants = ParticipantOutputSerializer(
        many=True, read_only=True, help_text="Other agents in the conversation (a conference)."
    )
    disposition = DispositionOutputSerializer(read_only=True, allow_null=True)

    class Meta(ConversationOutputSerializer.Meta):
        fields = [
            *ConversationOutputSerializer.Meta.fields,
            "wrap_up_notes",
            "custom_fields",
            "disposition",
            "interactions",
            "participants",
        ]


class ConversationUpdateInputSerializer(serializers.Serializer):
    custom_fields = serializers.JSONField(
        help_text="Replaces the custom fields: an object of names (1-60 characters) to text, "
        "numbers, true/false or null."
    )


@_example("An agent's reply", MESSAGE)
class MessageOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "interaction",
            "channel",
            "direction",
            "kind",
            "body",
            "attachments",
            "sender",
            "status",
            "error_code",
            "error_message",
            "created_at",
        ]


class MessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=100_000, allow_blank=False, trim_whitespace=True)
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        allow_null=True,
        help_text="Reply on the open interaction of this channel (default: the latest one).",
    )
    to = serializers.CharField(
        max_length=320,
        required=False,
        allow_blank=True,
        help_text="Continue on another channel: one of the contact's addresses (e.g. a phone "
        "for an SMS). Starts a new interaction in the same conversation.",
    )
    from_address = serializers.CharField(
        max_length=320,
        required=False,
        allow_blank=True,
        help_text="With `to`: the entry point address to send from (default: the service's).",
    )


@_example("A live offer", OFFER)
class OfferOutputSerializer(serializers.ModelSerializer):
    conversation = serializers.IntegerField(source="interaction.conversation_id", read_only=True)
    channel = serializers.ChoiceField(
        source="interaction.channel", choices=Channel.choices, read_only=True
    )

    class Meta:
        model = Offer
        fields = [
            "id",
            "interaction",
            "conversation",
            "channel",
            "state",
            "is_transfer",
            "created_at",
            "expires_at",
        ]


class AgentStateInputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[AgentState.READY, AgentState.NOT_READY, AgentState.LOGGED_OUT],
        help_text="Agents choose ready or not_ready for themselves; supervisors may also force "
        "logged_out.",
    )
    reason = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


@_example(
    "Not Ready for lunch",
    {
        "state": "not_ready",
        "reason": "Lunch",
        "since": "2026-01-05T12:00:00Z",
        "requested_state": "",
    },
)
class AgentStateOutputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=AgentState.choices)
    reason = serializers.CharField(source="not_ready_reason")
    since = serializers.DateTimeField(source="state_changed_at")
    requested_state = serializers.CharField(
        help_text="Not Ready asked for while busy: applies after the current work."
    )


@_example(
    "An agent",
    {
        "id": 7,
        "username": "maria",
        "name": "María",
        "state": "ready",
        "reason": "",
        "since": "2026-01-05T09:00:00Z",
        "services": [1, 2],
        "last_seen_at": "2026-01-05T10:01:40Z",
    },
)
class AgentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user_id", help_text="The agent's user id.")
    username = serializers.CharField(source="user.username")
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=AgentState.choices)
    reason = serializers.CharField(source="not_ready_reason")
    since = serializers.DateTimeField(source="state_changed_at")
    services = serializers.SerializerMethodField(help_text="Ids of the services they work in.")
    last_seen_at = serializers.DateTimeField(allow_null=True)

    def get_services(self, profile) -> list[int]:
        return [service.pk for service in profile.services.all()]


class TransferInputSerializer(serializers.Serializer):
    service = IdField(required=False)
    agent = IdField(required=False)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("service")) == bool(attrs.get("agent")):
            raise serializers.ValidationError("Give exactly one of 'service' or 'agent'.")
        return attrs


@_example("A busy morning", QUEUE)
class QueueFiguresOutputSerializer(serializers.Serializer):
    service_id = serializers.IntegerField()
    waiting = serializers.IntegerField()
    longest_wait_seconds = serializers.IntegerField()
    estimated_wait_seconds = serializers.IntegerField(allow_null=True)
    agents_by_state = serializers.DictField(child=serializers.IntegerField())
    answered = serializers.IntegerField()
    answered_within_threshold = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    abandoned_after_threshold = serializers.IntegerField()
    service_level_percent = serializers.FloatField(allow_null=True)
    abandonment_percent = serializers.FloatField(allow_null=True)
    average_speed_of_answer_seconds = serializers.FloatField(allow_null=True)


@_example("A service", SERVICE)
class ServiceOutputSerializer(serializers.ModelSerializer):
    channels = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "channels",
            "priority",
            "service_level_seconds",
            "service_level_percent",
            "offer_timeout_seconds",
            "after_call_work",
            "disposition_required",
            "time_zone",
        ]


@_example("A service with its queue", {**SERVICE, "queue": QUEUE, "dispositions": [DISPOSITION]})
class ServiceDetailOutputSerializer(ServiceOutputSerializer):
    queue = QueueFiguresOutputSerializer(help_text="Live figures, as at /services/<id>/queue/.")
    dispositions = DispositionOutputSerializer(many=True)

    class Meta(ServiceOutputSerializer.Meta):
        fields = [*ServiceOutputSerializer.Meta.fields, "queue", "dispositions"]
