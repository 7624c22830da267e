"""API of the API channel: inbound customer messages and delivery reports of agents' replies.

Callers need an API token with the ``write`` scope whose user has the permission "Can post
customers' messages into API channels" (admin -> Users or Groups); others get 404."""

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.idempotency import idempotent
from contacts.models import Identity
from conversations.models import MessageStatus

from . import services

PRINTABLE_ID = re.compile(r"^[\x21-\x7e]{1,100}$")
MAX_BODY = 10_000
MAX_ATTACHMENTS = 10


class IdentityInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Identity.Kind.choices)
    value = serializers.CharField(max_length=320)


class AttachmentSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    content_type = serializers.CharField(max_length=100, required=False, default="")
    name = serializers.CharField(max_length=255, required=False, default="")


class InboundMessageSerializer(serializers.Serializer):
    message_id = serializers.CharField(
        max_length=100,
        help_text="Your id of this message (printable ASCII): posting it again stores nothing new.",
    )
    identities = IdentityInputSerializer(
        many=True,
        help_text="Who wrote: the contact is recognized by these (e.g. a messenger id, a phone); "
        "unknown ones are added to the contact.",
    )
    address = serializers.CharField(
        max_length=320,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where replies go (sent back to you as `to`); default: the first identity.",
    )
    first_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=MAX_BODY, required=False, allow_blank=True, default="")
    attachments = AttachmentSerializer(
        many=True, required=False, default=list, max_length=MAX_ATTACHMENTS
    )

    def validate_message_id(self, value: str) -> str:
        if not PRINTABLE_ID.match(value):
            raise serializers.ValidationError(_("Use printable ASCII without spaces."))
        return value

    def validate_identities(self, value: list) -> list:
        if not value:
            raise serializers.ValidationError(_("Give at least one identity."))
        if len(value) > 10:
            raise serializers.ValidationError(_("At most 10 identities."))
        return value


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Stored",
            value={
                "message_id": 77,
                "conversation_id": 42,
                "interaction_id": 50,
                "contact_id": 12,
                "duplicate": False,
            },
            response_only=True,
        )
    ]
)
class InboundResultSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(help_text="Our id of the stored message.")
    conversation_id = serializers.IntegerField()
    interaction_id = serializers.IntegerField()
    contact_id = serializers.IntegerField()
    duplicate = serializers.BooleanField(help_text="True when this message id was posted before.")


class StatusReportSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[s.value for s in services.REPORTED_STATUSES])
    error_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    error_message = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample("Read", value={"message_id": 78, "status": "read"}, response_only=True)
    ]
)
class StatusResultSerializer(serializers.Serializer):
    message_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=MessageStatus.choices)


class ApiChannelView(GenericAPIView):
    schema_tags = ["api channel"]
    pagination_class = None


class ApiChannelInboundApi(ApiChannelView):
    serializer_class = InboundResultSerializer

    @extend_schema(
        operation_id="api_channel_messages_create",
        request=InboundMessageSerializer,
        responses={201: InboundResultSerializer, 200: InboundResultSerializer},
        examples=[
            OpenApiExample(
                "A customer writes on a messenger",
                value={
                    "message_id": "tg-99812",
                    "identities": [{"kind": "messenger", "value": "telegram:48213"}],
                    "first_name": "Ana",
                    "body": "Hi, where is my order?",
                },
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request, slug: str) -> Response:
        entry_point = services.api_entry_point_for(user=request.user, slug=slug)
        serializer = InboundMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.api_inbound_receive(
            entry_point=entry_point,
            message=services.ApiInboundMessage(
                message_id=data["message_id"],
                identities=[(i["kind"], i["value"]) for i in data["identities"]],
                body=data["body"],
                address=data["address"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                attachments=[dict(a) for a in data["attachments"]],
            ),
        )
        message = result.message
        output = {
            "message_id": message.pk,
            "conversation_id": message.conversation_id,
            "interaction_id": message.interaction_id,
            "contact_id": message.conversation.contact_id,
            "duplicate": result.duplicate,
        }
        return Response(
            output, status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED
        )


class ApiChannelStatusApi(ApiChannelView):
    serializer_class = StatusResultSerializer

    @extend_schema(
        operation_id="api_channel_messages_status",
        request=StatusReportSerializer,
        examples=[OpenApiExample("Read", value={"status": "read"}, request_only=True)],
    )
    def post(self, request: Request, slug: str, message_id: int) -> Response:
        entry_point = services.api_entry_point_for(user=request.user, slug=slug)
        serializer = StatusReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message = services.api_reply_status_report(
            entry_point=entry_point,
            message_id=message_id,
            status=data["status"],
            error_code=data["error_code"],
            error=data["error_message"],
        )
        return Response({"message_id": message.pk, "status": message.status})
