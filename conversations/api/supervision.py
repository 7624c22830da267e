"""Supervisor actions over the API (``/api/v1/supervisor/...``): the same services as the floor
view and the monitor page, for wallboards and workforce tools. Each checks the permission first
(403 for agents), then the supervisor's scope (404 outside it)."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.idempotency import idempotent
from contactcenter.exceptions import NotFound, PermissionDenied, ValidationError

from .. import services
from ..models import Conversation, Interaction, Service
from ..permissions import (
    ASSIGN,
    FORCE_AGENT_STATE,
    MANAGE_CONVERSATIONS,
    MONITOR,
    can_supervise_agent,
    can_supervise_conversation,
    can_supervise_service,
    may,
)
from .serializers import (
    AgentStateInputSerializer,
    AgentStateOutputSerializer,
    ConversationOutputSerializer,
    MessageOutputSerializer,
    OfferOutputSerializer,
    TransferInputSerializer,
)
from .views import _valid


class AssignInputSerializer(serializers.Serializer):
    agent = serializers.IntegerField(help_text="The user id of the agent.")


class WhisperInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=2000)


class BargeInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=100_000)
    channel = serializers.ChoiceField(
        choices=["voice", "chat", "sms", "email"], required=False, allow_null=True
    )


def _require(request: Request, permission: str) -> None:
    if not may(request.user, permission):
        raise PermissionDenied(gettext("Only supervisors may do this."))


def _user(pk: int, field: str | None = None):
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None:
        if field:
            raise ValidationError(gettext("Unknown agent."), field=field)
        raise NotFound(gettext("Agent not found."))
    return user


def _supervised_conversation(request: Request, pk: int, permission: str) -> Conversation:
    """The conversation if the user supervises its service with ``permission``, else 404 (before
    the body is read: objects one may not see are 404 whatever is posted)."""
    conversation = Conversation.objects.filter(pk=pk).first()
    if conversation is None or not can_supervise_conversation(
        request.user, conversation, permission
    ):
        raise NotFound(gettext("Conversation not found."))
    return conversation


class SupervisorAgentStateApi(GenericAPIView):
    """Force an agent's state: Ready, Not Ready (with a reason) or Logged out."""

    serializer_class = AgentStateOutputSerializer

    @extend_schema(request=AgentStateInputSerializer, responses=AgentStateOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        _require(request, FORCE_AGENT_STATE)
        agent = _user(pk)
        if not can_supervise_agent(request.user, agent):
            raise NotFound(gettext("Agent not found."))
        data = _valid(AgentStateInputSerializer, request.data)
        if data["state"] == "logged_out":
            profile = services.supervisor_agent_log_out(supervisor=request.user, agent=agent)
        else:
            profile = services.supervisor_agent_state_force(
                supervisor=request.user, agent=agent, state=data["state"], reason=data["reason"]
            )
        return Response(self.get_serializer(profile).data)


class SupervisorAssignApi(GenericAPIView):
    """Assign a waiting interaction to an agent (their offer, or their conversation per
    ``SUPERVISOR_ASSIGN_MODE``); 409 with the reason when they are over capacity."""

    serializer_class = OfferOutputSerializer

    @extend_schema(request=AssignInputSerializer, responses=OfferOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        _require(request, ASSIGN)
        interaction = Interaction.objects.filter(pk=pk).first()
        if interaction is None or not can_supervise_service(request.user, interaction.service_id):
            raise NotFound(gettext("Interaction not found."))
        data = _valid(AssignInputSerializer, request.data)
        offer = services.interaction_assign(
            supervisor=request.user, interaction=interaction, agent=_user(data["agent"], "agent")
        )
        return Response(self.get_serializer(offer).data)


class SupervisorTransferApi(GenericAPIView):
    serializer_class = ConversationOutputSerializer

    @extend_schema(request=TransferInputSerializer, responses=ConversationOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        _require(request, MANAGE_CONVERSATIONS)
        conversation = _supervised_conversation(request, pk, MANAGE_CONVERSATIONS)
        data = _valid(TransferInputSerializer, request.data)
        if data.get("service"):
            service = Service.objects.filter(pk=data["service"]).first()
            if service is None:
                raise ValidationError(gettext("Unknown service."), field="service")
            conversation = services.supervisor_transfer(
                supervisor=request.user, conversation=conversation, service=service
            )
        else:
            conversation = services.supervisor_transfer(
                supervisor=request.user,
                conversation=conversation,
                agent=_user(data["agent"], "agent"),
            )
        return Response(self.get_serializer(conversation).data)


class SupervisorCloseApi(GenericAPIView):
    serializer_class = ConversationOutputSerializer

    @extend_schema(request=None, responses=ConversationOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        _require(request, MANAGE_CONVERSATIONS)
        conversation = _supervised_conversation(request, pk, MANAGE_CONVERSATIONS)
        conversation = services.supervisor_conversation_close(
            supervisor=request.user, conversation=conversation
        )
        return Response(self.get_serializer(conversation).data)


class SupervisorWhisperApi(GenericAPIView):
    """An internal note that pops up for the agents handling the conversation."""

    serializer_class = MessageOutputSerializer

    @extend_schema(request=WhisperInputSerializer, responses={201: MessageOutputSerializer})
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        _require(request, MONITOR)
        conversation = _supervised_conversation(request, pk, MONITOR)
        data = _valid(WhisperInputSerializer, request.data)
        message = services.conversation_whisper(
            supervisor=request.user, conversation=conversation, body=data["body"]
        )
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)


class SupervisorBargeApi(GenericAPIView):
    """Write to the customer in the conversation, as the supervisor. ``Idempotency-Key`` sends
    once."""

    serializer_class = MessageOutputSerializer

    @extend_schema(request=BargeInputSerializer, responses={201: MessageOutputSerializer})
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        _require(request, MONITOR)
        conversation = _supervised_conversation(request, pk, MONITOR)
        data = _valid(BargeInputSerializer, request.data)
        message = services.conversation_barge(
            supervisor=request.user,
            conversation=conversation,
            body=data["body"],
            channel=data.get("channel"),
            client_token=request.headers.get("Idempotency-Key", "")[:64],
        )
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)
