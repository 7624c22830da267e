"""The CTI API: a phone system (Asterisk, FreeSWITCH, a hosted PBX) reports its calls' steps and
reads back the conversation and its disposition.

Callers need an API token with the ``cti`` scope (403 without it) whose user has the permission
"Can report phone calls (CTI events)" (admin -> Users or Groups); others get 404."""

import re
from collections.abc import Mapping

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.idempotency import idempotent
from contactcenter.exceptions import NotFound
from conversations.models import Interaction

from ..models import CtiEvent, VoiceCall
from . import cti

CALL_REF = re.compile(r"^[\x21-\x2e\x30-\x7e]{1,100}$")  # printable ASCII, no space or slash
CTI_ONLY = {"GET": ("cti",), "POST": ("cti",)}


class CtiEventSerializer(serializers.Serializer):
    call_id = serializers.CharField(
        max_length=100,
        help_text="The phone system's id of the call (Asterisk's Linkedid or Uniqueid, "
        "FreeSWITCH's call UUID): the same for every event of one call.",
    )
    event = serializers.ChoiceField(choices=CtiEvent.Kind.choices)
    sequence = serializers.IntegerField(
        min_value=0,
        max_value=2**62,
        help_text="Grows with each event of the call (a counter, or the time in milliseconds). "
        "An event posted again with the same call id, event and sequence changes nothing; a "
        "hold, resume or transfer older than one applied is ignored.",
    )
    direction = serializers.ChoiceField(
        choices=Interaction.Direction.choices, required=False, default="inbound"
    )
    from_number = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", help_text="Caller's number."
    )
    to_number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="The number dialled (a voice entry point's number chooses the service).",
    )
    agent = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text="The agent's extension (admin -> Agent profiles) or username; required for "
        "ringing and transferred.",
    )
    hangup_by = serializers.ChoiceField(
        choices=[("customer", "customer"), ("agent", "agent")],
        required=False,
        allow_blank=True,
        default="",
    )
    caller_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Caller ID name."
    )

    def to_internal_value(self, data):
        # "from" is a Python keyword: "from" and "to" are accepted as the PBX writes them.
        if isinstance(data, Mapping):
            data = data.dict() if hasattr(data, "dict") else dict(data)
            for short, long in (("from", "from_number"), ("to", "to_number")):
                if short in data and long not in data:
                    data[long] = data.pop(short)
        return super().to_internal_value(data)

    def validate_call_id(self, value: str) -> str:
        if not CALL_REF.match(value):
            raise serializers.ValidationError(_("Use printable ASCII without spaces or slashes."))
        return value


CALL_EXAMPLE = {
    "call_id": "1733412345.42",
    "state": "ended",
    "end_reason": "customer",
    "direction": "inbound",
    "customer_number": "+14155550123",
    "conversation_id": 42,
    "conversation_number": "C-1042",
    "conversation_status": "closed",
    "conversation_url": "https://cc.example.com/conversations/42/",
    "disposition": "Resolved",
    "contact_id": 12,
    "contact_name": "Vera Voice",
    "service": "Support",
    "agent": "agent1",
    "agent_extension": "201",
    "ringing_at": "2026-12-01T10:00:00Z",
    "answered_at": "2026-12-01T10:00:09Z",
    "ended_at": "2026-12-01T10:04:31Z",
    "talk_seconds": 262,
    "hold_seconds": 35,
}


@extend_schema_serializer(
    examples=[OpenApiExample("A call that ended", value=CALL_EXAMPLE, response_only=True)]
)
class CtiCallSerializer(serializers.Serializer):
    call_id = serializers.CharField()
    state = serializers.ChoiceField(choices=VoiceCall.State.choices)
    end_reason = serializers.CharField()
    direction = serializers.CharField()
    customer_number = serializers.CharField()
    conversation_id = serializers.IntegerField()
    conversation_number = serializers.CharField()
    conversation_status = serializers.CharField()
    conversation_url = serializers.CharField()
    disposition = serializers.CharField(allow_null=True)
    contact_id = serializers.IntegerField()
    contact_name = serializers.CharField()
    service = serializers.CharField()
    agent = serializers.CharField(allow_null=True, help_text="Username of the agent on the call.")
    agent_extension = serializers.CharField(allow_null=True)
    ringing_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    talk_seconds = serializers.IntegerField()
    hold_seconds = serializers.IntegerField()


class CtiEventResultSerializer(serializers.Serializer):
    duplicate = serializers.BooleanField(help_text="This event was posted before: nothing changed.")
    applied = serializers.BooleanField(
        help_text="False when the call was already past this step (an event that came late)."
    )
    call = CtiCallSerializer()


def call_view(call: VoiceCall, request: Request) -> dict:
    interaction = call.interaction
    conversation = interaction.conversation
    agent = interaction.agent
    profile = getattr(agent, "agent_profile", None) if agent else None
    return {
        "call_id": call.provider_call_id.removeprefix(f"{cti.PROVIDER}:"),
        "state": call.state,
        "end_reason": call.end_reason,
        "direction": interaction.direction,
        "customer_number": interaction.customer_address,
        "conversation_id": conversation.pk,
        "conversation_number": conversation.number,
        "conversation_status": conversation.status,
        "conversation_url": request.build_absolute_uri(
            reverse("conversation-detail", args=[conversation.pk])
        ),
        "disposition": conversation.disposition.name if conversation.disposition_id else None,
        "contact_id": conversation.contact_id,
        "contact_name": str(conversation.contact),
        "service": conversation.service.name,
        "agent": agent.get_username() if agent else None,
        "agent_extension": (profile.extension or None) if profile else None,
        "ringing_at": call.ringing_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "talk_seconds": call.talk_seconds(),
        "hold_seconds": call.total_hold_seconds(),
    }


class CtiView(GenericAPIView):
    schema_tags = ["cti"]
    pagination_class = None
    token_scopes = CTI_ONLY

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if not cti.cti_may_report(request.user):
            raise NotFound(gettext("Not found."))


class CtiEventApi(CtiView):
    serializer_class = CtiEventResultSerializer

    @extend_schema(
        operation_id="cti_events_create",
        request=CtiEventSerializer,
        responses={201: CtiEventResultSerializer, 200: CtiEventResultSerializer},
        examples=[
            OpenApiExample(
                "A call rings on extension 201",
                value={
                    "call_id": "1733412345.42",
                    "event": "ringing",
                    "sequence": 2,
                    "from": "+14155550123",
                    "to": "+14155550100",
                    "agent": "201",
                },
                request_only=True,
            )
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = CtiEventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        outcome = cti.cti_event_report(
            report=cti.CtiReport(
                call_ref=data["call_id"],
                event=data["event"],
                sequence=data["sequence"],
                from_number=data["from_number"],
                to_number=data["to_number"],
                direction=data["direction"],
                agent=data["agent"].strip(),
                hangup_by=data["hangup_by"],
                caller_name=data["caller_name"],
            )
        )
        call = cti.cti_call_get(call_ref=data["call_id"])
        body = {
            "duplicate": outcome.duplicate,
            "applied": outcome.applied,
            "call": CtiCallSerializer(call_view(call, request)).data,
        }
        code = status.HTTP_200_OK if outcome.duplicate else status.HTTP_201_CREATED
        return Response(body, status=code)


class CtiCallApi(CtiView):
    serializer_class = CtiCallSerializer

    @extend_schema(operation_id="cti_calls_retrieve")
    def get(self, request: Request, call_id: str) -> Response:
        call = cti.cti_call_get(call_ref=call_id)
        return Response(CtiCallSerializer(call_view(call, request)).data)
