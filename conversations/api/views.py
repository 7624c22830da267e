"""Conversations API: thin adapters over selectors, services and the routing engine.

Every object is fetched through a permission-scoped selector: what the caller may not see is a
404, as if it did not exist. Agents see their own work, supervisors everything."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.api.idempotency import idempotent
from contactcenter.api.pagination import IdCursorPagination
from contactcenter.exceptions import ValidationError

from .. import selectors, services
from ..models import (
    AgentProfile,
    AgentState,
    Conversation,
    Disposition,
    Interaction,
    Message,
    Offer,
    Service,
)
from . import serializers
from .filters import ConversationFilter, DispositionFilter, InteractionFilter
from .serializers import (
    AgentOutputSerializer,
    AgentStateInputSerializer,
    AgentStateOutputSerializer,
    ConversationDetailOutputSerializer,
    ConversationOutputSerializer,
    ConversationUpdateInputSerializer,
    DispositionOutputSerializer,
    InteractionOutputSerializer,
    MessageInputSerializer,
    MessageOutputSerializer,
    OfferOutputSerializer,
    QueueFiguresOutputSerializer,
    ServiceDetailOutputSerializer,
    ServiceOutputSerializer,
    TransferInputSerializer,
)

#: Agent state and offers: what a telephony (CTI) connector needs, without contacts or messages.
CTI_SCOPES = {"GET": ("read", "cti"), "POST": ("write", "cti")}

CONVERSATION_EXAMPLE = {
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


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ApiView(GenericAPIView):
    """``queryset`` names the model for the schema; requests read through ``visible()``, the
    caller's permission-scoped selector."""

    schema_tags = ["conversations"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # building the schema: no user
            return self.queryset
        return self.visible()

    def visible(self):
        raise NotImplementedError


# --- Conversations ----------------------------------------------------------------------------


class ConversationListApi(ApiView):
    """Conversations the caller may see (agents: their own and those they take part in;
    supervisors: all), newest first."""

    queryset = Conversation.objects.none()
    serializer_class = ConversationOutputSerializer
    filterset_class = ConversationFilter

    def visible(self):
        return (
            selectors.conversations_visible_to(user=self.request.user)
            .select_related("contact", "service", "agent")
            .order_by("-opened_at", "-id")
        )

    @extend_schema(
        operation_id="conversations_list",
        responses=ConversationOutputSerializer(many=True),
        examples=[OpenApiExample("A conversation", value=CONVERSATION_EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ConversationDetailApi(ApiView):
    serializer_class = ConversationDetailOutputSerializer

    @extend_schema(operation_id="conversations_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_detail_for_agent(user=request.user, pk=pk)
        return Response(self.get_serializer(conversation).data)

    @extend_schema(
        operation_id="conversations_partial_update",
        request=ConversationUpdateInputSerializer,
        examples=[
            OpenApiExample(
                "Link a CRM case",
                value={"custom_fields": {"crm_case": "CASE-8812", "priority": 2}},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        data = _valid(ConversationUpdateInputSerializer, request.data)
        services.conversation_custom_fields_set(
            conversation=conversation, user=request.user, custom_fields=data["custom_fields"]
        )
        conversation = selectors.conversation_detail_for_agent(user=request.user, pk=pk)
        return Response(self.get_serializer(conversation).data)


class ConversationMessagesApi(ApiView):
    """The conversation's messages, oldest first, one cursor page at a time; POST sends a reply
    on one of its channels (or continues on another with ``to``)."""

    queryset = Message.objects.none()
    serializer_class = MessageOutputSerializer
    pagination_class = IdCursorPagination

    @extend_schema(
        operation_id="conversations_messages_list",
        responses=MessageOutputSerializer(many=True),
        examples=[OpenApiExample("A reply", value=serializers.MESSAGE, response_only=True)],
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        page = self.paginate_queryset(conversation.messages.all())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="conversations_messages_create",
        request=MessageInputSerializer,
        responses={201: MessageOutputSerializer},
        examples=[
            OpenApiExample(
                "Reply on the open interaction", value={"body": "Hello!"}, request_only=True
            ),
            OpenApiExample(
                "Continue by SMS",
                value={"body": "Your order ships today.", "channel": "sms", "to": "+14155550100"},
                request_only=True,
            ),
        ],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        data = _valid(MessageInputSerializer, request.data)
        message = services.message_send(
            conversation=conversation,
            user=request.user,
            body=data["body"],
            channel=data.get("channel"),
            to_address=data.get("to", ""),
            from_address=data.get("from_address", ""),
            client_token=request.headers.get("Idempotency-Key", "")[:64],
        )
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)


class MessageDetailApi(ApiView):
    serializer_class = MessageOutputSerializer

    @extend_schema(operation_id="messages_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            self.get_serializer(selectors.message_get_for_agent(user=request.user, pk=pk)).data
        )


class ConversationTransferApi(ApiView):
    serializer_class = ConversationOutputSerializer

    @extend_schema(
        operation_id="conversations_transfer",
        request=TransferInputSerializer,
        responses={200: ConversationOutputSerializer},
        examples=[OpenApiExample("To a queue", value={"service": 2}, request_only=True)],
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        data = _valid(TransferInputSerializer, request.data)
        if data.get("service"):
            service = Service.objects.filter(pk=data["service"]).first()
            if service is None:
                raise ValidationError(gettext("Unknown service."), field="service")
            services.transfer_to_service(
                conversation=conversation, user=request.user, service=service
            )
        else:
            target = get_user_model().objects.filter(pk=data["agent"]).first()
            if target is None:
                raise ValidationError(gettext("Unknown agent."), field="agent")
            services.transfer_to_agent(conversation=conversation, user=request.user, target=target)
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(self.get_serializer(conversation).data)


# --- Interactions -----------------------------------------------------------------------------


class InteractionListApi(ApiView):
    """Channel legs of the conversations the caller may see."""

    queryset = Interaction.objects.none()
    serializer_class = InteractionOutputSerializer
    filterset_class = InteractionFilter

    def visible(self):
        return selectors.interactions_visible_to(user=self.request.user).order_by("-id")

    @extend_schema(
        operation_id="interactions_list", responses=InteractionOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class InteractionDetailApi(ApiView):
    serializer_class = InteractionOutputSerializer

    @extend_schema(operation_id="interactions_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        interaction = selectors.interaction_get_for_agent(user=request.user, pk=pk)
        return Response(self.get_serializer(interaction).data)


# --- Offers -----------------------------------------------------------------------------------


class OfferListApi(ApiView):
    """The caller's live offers, soonest to expire first."""

    queryset = Offer.objects.none()  # the schema's model; reads go through the selectors
    serializer_class = OfferOutputSerializer
    pagination_class = None
    token_scopes = CTI_SCOPES
    schema_tags = ["agents"]

    @extend_schema(operation_id="offers_list", responses=OfferOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        offers = selectors.pending_offers(user=request.user)
        return Response(self.get_serializer(offers, many=True).data)


class OfferAcceptApi(ApiView):
    serializer_class = OfferOutputSerializer
    token_scopes = CTI_SCOPES
    schema_tags = ["agents"]

    @extend_schema(operation_id="offers_accept", request=None)
    def post(self, request: Request, pk: int) -> Response:
        offer = services.offer_accept(offer_id=pk, user=request.user)
        return Response(self.get_serializer(offer).data)


class OfferRejectApi(ApiView):
    serializer_class = OfferOutputSerializer
    token_scopes = CTI_SCOPES
    schema_tags = ["agents"]

    @extend_schema(operation_id="offers_reject", request=None)
    def post(self, request: Request, pk: int) -> Response:
        offer = services.offer_reject(offer_id=pk, user=request.user)
        return Response(self.get_serializer(offer).data)


# --- Agents -----------------------------------------------------------------------------------

STATE_EXAMPLE = OpenApiExample(
    "Not Ready for lunch", value={"state": "not_ready", "reason": "Lunch"}, request_only=True
)


def _set_state(*, user, agent, data: dict):
    """Agents change their own state; supervisors force anyone's (a 404 for the others)."""
    if agent.pk == user.pk and data["state"] != AgentState.LOGGED_OUT:
        return services.agent_state_set(user=user, state=data["state"], reason=data["reason"])
    return services.agent_state_force(
        supervisor=user, agent=agent, state=data["state"], reason=data["reason"]
    )


class AgentStateApi(ApiView):
    """The caller's own state (as on the desktop's top bar)."""

    serializer_class = AgentStateOutputSerializer
    token_scopes = CTI_SCOPES
    schema_tags = ["agents"]

    @extend_schema(operation_id="agent_state_retrieve")
    def get(self, request: Request) -> Response:
        return Response(self.get_serializer(selectors.agent_profile_for(user=request.user)).data)

    @extend_schema(
        operation_id="agent_state_update",
        request=AgentStateInputSerializer,
        examples=[STATE_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        data = _valid(AgentStateInputSerializer, request.data)
        profile = _set_state(user=request.user, agent=request.user, data=data)
        return Response(self.get_serializer(profile).data)


class AgentListApi(ApiView):
    """Agents with their state (supervisors: every agent; agents: themselves)."""

    queryset = AgentProfile.objects.none()
    serializer_class = AgentOutputSerializer
    token_scopes = CTI_SCOPES
    schema_tags = ["agents"]

    def visible(self):
        return (
            selectors.agent_profiles_visible_to(user=self.request.user)
            .prefetch_related("services")
            .order_by("user__username")
        )

    @extend_schema(operation_id="agents_list", responses=AgentOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class AgentDetailApi(ApiView):
    serializer_class = AgentOutputSerializer
    token_scopes = CTI_SCOPES
    schema_tags = ["agents"]

    @extend_schema(operation_id="agents_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        profile = selectors.agent_profile_get_for_user(user=request.user, agent_id=pk)
        return Response(self.get_serializer(profile).data)


class AgentDetailStateApi(ApiView):
    """An agent's state; supervisors change anyone's (forced), agents their own."""

    serializer_class = AgentStateOutputSerializer
    token_scopes = CTI_SCOPES
    schema_tags = ["agents"]

    @extend_schema(operation_id="agents_state_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        profile = selectors.agent_profile_get_for_user(user=request.user, agent_id=pk)
        return Response(self.get_serializer(profile).data)

    @extend_schema(
        operation_id="agents_state_update",
        request=AgentStateInputSerializer,
        examples=[STATE_EXAMPLE],
    )
    def post(self, request: Request, pk: int) -> Response:
        profile = selectors.agent_profile_get_for_user(user=request.user, agent_id=pk)
        data = _valid(AgentStateInputSerializer, request.data)
        profile = _set_state(user=request.user, agent=profile.user, data=data)
        return Response(self.get_serializer(profile).data)


# --- Services and dispositions ----------------------------------------------------------------


class ServiceListApi(ApiView):
    """Services the caller works in (supervisors: all)."""

    queryset = Service.objects.none()
    serializer_class = ServiceOutputSerializer
    schema_tags = ["services"]

    def visible(self):
        return selectors.services_visible_to(user=self.request.user).order_by("name")

    @extend_schema(operation_id="services_list", responses=ServiceOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ServiceDetailApi(ApiView):
    """A service with its live queue figures and dispositions."""

    serializer_class = ServiceDetailOutputSerializer
    schema_tags = ["services"]

    @extend_schema(operation_id="services_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        service = selectors.service_get_for_user(user=request.user, pk=pk)
        service.queue = selectors.queue_figures(service=service)
        return Response(self.get_serializer(service).data)


class ServiceQueueApi(ApiView):
    """Live figures of a service queue (agents: their services; supervisors: the services they
    supervise; administrators: all)."""

    serializer_class = QueueFiguresOutputSerializer
    schema_tags = ["services"]

    @extend_schema(operation_id="services_queue_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        service = selectors.service_get_for_user(user=request.user, pk=pk)
        return Response(self.get_serializer(selectors.queue_figures(service=service)).data)


class DispositionListApi(ApiView):
    """Outcome codes of the services the caller works in."""

    queryset = Disposition.objects.none()
    serializer_class = DispositionOutputSerializer
    filterset_class = DispositionFilter
    schema_tags = ["services"]

    def visible(self):
        return selectors.dispositions_visible_to(user=self.request.user).order_by(
            "service", "position", "name"
        )

    @extend_schema(
        operation_id="dispositions_list", responses=DispositionOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class DispositionDetailApi(ApiView):
    serializer_class = DispositionOutputSerializer
    schema_tags = ["services"]

    @extend_schema(operation_id="dispositions_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            self.get_serializer(selectors.disposition_get_for_user(user=request.user, pk=pk)).data
        )
