from rest_framework import serializers

from ..models import Conversation, Message, Offer


class ConversationOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    contact_name = serializers.CharField(source="contact.display_name", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    agent_username = serializers.CharField(source="agent.username", read_only=True, default=None)

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


class MessageOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = [
            "id",
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
        choices=["voice", "chat", "sms", "email"], required=False, allow_null=True
    )


class OfferOutputSerializer(serializers.ModelSerializer):
    conversation = serializers.IntegerField(source="interaction.conversation_id", read_only=True)
    channel = serializers.CharField(source="interaction.channel", read_only=True)

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
    state = serializers.ChoiceField(choices=["ready", "not_ready"])
    reason = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class AgentStateOutputSerializer(serializers.Serializer):
    state = serializers.CharField()
    reason = serializers.CharField(source="not_ready_reason")
    since = serializers.DateTimeField(source="state_changed_at")


class TransferInputSerializer(serializers.Serializer):
    service = serializers.IntegerField(required=False)
    agent = serializers.IntegerField(required=False)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("service")) == bool(attrs.get("agent")):
            raise serializers.ValidationError("Give exactly one of 'service' or 'agent'.")
        return attrs


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
