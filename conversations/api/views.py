"""Conversations API: thin adapters over selectors, services and the routing engine."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from contactcenter.exceptions import NotFound, ValidationError
from contacts.api.idempotency import idempotent

from .. import selectors, services
from ..models import Service
from ..permissions import supervised_services
from .serializers import (
    AgentStateInputSerializer,
    AgentStateOutputSerializer,
    ConversationOutputSerializer,
    MessageInputSerializer,
    MessageOutputSerializer,
    OfferOutputSerializer,
    QueueFiguresOutputSerializer,
    TransferInputSerializer,
)


def _valid(serializer_class: type, data: object) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        field, errors = next(iter(serializer.errors.items()))
        raise ValidationError(
            f"{field}: {' '.join(str(e) for e in errors)}",
            field=None if field == "non_field_errors" else field,
        )
    return serializer.validated_data


class ConversationListApi(GenericAPIView):
    """Conversations the caller may see (agents: their own; supervisors: all). ?status=open."""

    serializer_class = ConversationOutputSerializer

    @extend_schema(operation_id="conversations_list")
    def _unused(self) -> None:  # placeholder removed below
        return None

    def get_queryset(self):
        qs = selectors.conversations_visible_to(user=self.request.user).select_related(
            "contact", "service", "agent"
        )
        state = self.request.query_params.get("status")
        if state:
            qs = qs.filter(status=state)
        return qs.order_by("-opened_at", "-id")

    @extend_schema(operation_id="conversations_list")
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ConversationDetailApi(GenericAPIView):
    serializer_class = ConversationOutputSerializer

    @extend_schema(operation_id="conversations_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        return Response(self.get_serializer(conversation).data)


class ConversationMessagesApi(GenericAPIView):
    """The conversation's messages, oldest first (paginated); POST sends a reply."""

    serializer_class = MessageOutputSerializer

    def get(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        page = self.paginate_queryset(conversation.messages.order_by("id"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=MessageInputSerializer, responses={201: MessageOutputSerializer})
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(MessageInputSerializer, request.data)
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
        message = services.message_send(
            conversation=conversation,
            user=request.user,
            body=data["body"],
            channel=data.get("channel"),
            client_token=request.headers.get("Idempotency-Key", "")[:64],
        )
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)


class ConversationTransferApi(GenericAPIView):
    serializer_class = ConversationOutputSerializer

    @extend_schema(request=TransferInputSerializer, responses={200: ConversationOutputSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(TransferInputSerializer, request.data)
        conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
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


class OfferListApi(GenericAPIView):
    """The caller's live offers."""

    serializer_class = OfferOutputSerializer
    pagination_class = None

    def get(self, request: Request) -> Response:
        offers = selectors.pending_offers(user=request.user)
        return Response(self.get_serializer(offers, many=True).data)


class OfferAcceptApi(GenericAPIView):
    serializer_class = OfferOutputSerializer

    @extend_schema(request=None)
    def post(self, request: Request, pk: int) -> Response:
        offer = services.offer_accept(offer_id=pk, user=request.user)
        return Response(self.get_serializer(offer).data)


class OfferRejectApi(GenericAPIView):
    serializer_class = OfferOutputSerializer

    @extend_schema(request=None)
    def post(self, request: Request, pk: int) -> Response:
        offer = services.offer_reject(offer_id=pk, user=request.user)
        return Response(self.get_serializer(offer).data)


class AgentStateApi(GenericAPIView):
    serializer_class = AgentStateOutputSerializer

    def get(self, request: Request) -> Response:
        return Response(self.get_serializer(selectors.agent_profile_for(user=request.user)).data)

    @extend_schema(request=AgentStateInputSerializer)
    def post(self, request: Request) -> Response:
        data = _valid(AgentStateInputSerializer, request.data)
        profile = services.agent_state_set(
            user=request.user, state=data["state"], reason=data["reason"]
        )
        return Response(self.get_serializer(profile).data)


class ServiceQueueApi(GenericAPIView):
    """Live figures of a service queue (agents: their services; supervisors: the services they
    supervise; administrators: all)."""

    serializer_class = QueueFiguresOutputSerializer

    def get(self, request: Request, pk: int) -> Response:
        services_qs = Service.objects.filter(agents__user=request.user)
        if selectors.is_supervisor(request.user):
            supervised = supervised_services(request.user)
            services_qs = (
                Service.objects.all()
                if supervised is None
                else Service.objects.filter(
                    Q(agents__user=request.user) | Q(pk__in=supervised.values("pk"))
                )
            )
        service = services_qs.filter(pk=pk).first()
        if service is None:
            raise NotFound(gettext("Service not found."))
        return Response(self.get_serializer(selectors.queue_figures(service=service)).data)
