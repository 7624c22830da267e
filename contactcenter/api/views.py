"""API of the core: the event feed, outbound webhook subscriptions and their delivery log, and
the schema and docs pages (served offline, from drf-spectacular-sidecar)."""

from django.http import JsonResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import realtime, webhooks
from ..exceptions import DomainError, NotFound
from ..models import WebhookDelivery, WebhookSubscription
from .fields import MAX_ID
from .idempotency import idempotent
from .schema import ERROR_COMPONENT

WEBHOOK_SCOPES = {method: ("webhooks",) for method in ("GET", "POST", "PATCH", "DELETE")}


class JsonErrorsMixin:
    """Pages rendered by other renderers (HTML, YAML) still answer errors in the API's shape."""

    def handle_exception(self, exc: Exception):
        response = super().handle_exception(exc)
        return JsonResponse(response.data, status=response.status_code)


class ApiSchemaView(JsonErrorsMixin, SpectacularAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []


class ApiDocsView(JsonErrorsMixin, SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's static files, its init script a separate file:
    works offline and under the strict Content-Security-Policy."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    url_name = "api-schema"


# --- Event feed -------------------------------------------------------------------------------


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Increasing; resume with ?after=<the last id you got>.")
    type = serializers.CharField(help_text="See GET /api/v1/webhooks/event-types/.")
    payload = serializers.DictField(help_text="Small: ids and states; fetch the rest by id.")
    at = serializers.DateTimeField()


class EventFeedSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    last_event_id = serializers.IntegerField(
        help_text="Pass it as ?after= next time (it moves on even when no event matched ?type=)."
    )
    has_more = serializers.BooleanField(help_text="More events are ready: ask again now.")


class FeedQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, max_value=MAX_ID, default=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=realtime.FEED_LIMIT, default=100)
    type = serializers.ListField(child=serializers.CharField(max_length=60), required=False)


class EventFeedApi(GenericAPIView):
    """The event log as this token's user sees it (supervisors: everything; agents: their own
    work), oldest first. Follow changes without webhooks: keep ``last_event_id`` and ask again
    with ``?after=``; an id is handed out only once no earlier id can still appear."""

    serializer_class = EventFeedSerializer
    pagination_class = None
    schema_tags = ["events"]

    @extend_schema(
        operation_id="events_list",
        parameters=[
            OpenApiParameter("after", int, description="Return events with a larger id."),
            OpenApiParameter("limit", int, description="At most this many events (1-1000)."),
            OpenApiParameter(
                "type", str, many=True, description="Only these event types (repeatable)."
            ),
        ],
        responses={
            200: EventFeedSerializer,
            410: OpenApiResponse(
                response={"$ref": f"#/components/schemas/{ERROR_COMPONENT}"},
                description="Events after `after` were pruned (older than the retention): "
                "re-read what you need through the resources, then continue from the newest.",
            ),
        },
        examples=[
            OpenApiExample(
                "Two events",
                value={
                    "results": [
                        {
                            "id": 1201,
                            "type": "conversation.created",
                            "payload": {
                                "conversation_id": 42,
                                "number": "C-1042",
                                "status": "open",
                                "agent_id": None,
                                "service_id": 1,
                            },
                            "at": "2026-01-05T10:00:00Z",
                        },
                        {
                            "id": 1203,
                            "type": "message.created",
                            "payload": {
                                "conversation_id": 42,
                                "message_id": 77,
                                "interaction_id": 50,
                                "channel": "api",
                                "direction": "inbound",
                                "status": "received",
                            },
                            "at": "2026-01-05T10:00:00Z",
                        },
                    ],
                    "last_event_id": 1203,
                    "has_more": False,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        query = FeedQuerySerializer(
            data={
                "after": request.query_params.get("after", 0),
                "limit": request.query_params.get("limit", 100),
                "type": request.query_params.getlist("type"),
            }
        )
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        if realtime.replay_gap_too_old(after):
            raise EventsPruned(
                gettext("Events after %(after)s were pruned; start again from the newest.")
                % {"after": after},
                field="after",
                latest_event_id=realtime.latest_event_id(),
            )
        events = realtime.feed_events_after(
            audiences=realtime.feed_audiences(request.user), after_id=after, limit=limit
        )
        types = set(query.validated_data.get("type") or [])
        return Response(
            {
                "results": [e.as_public() for e in events if not types or e.type in types],
                "last_event_id": events[-1].id if events else after,
                "has_more": len(events) == limit,
            }
        )


class EventsPruned(DomainError):
    status_code = 410
    code = "events_pruned"


# --- Webhooks ---------------------------------------------------------------------------------


SUBSCRIPTION_EXAMPLE_VALUE = {
    "id": 3,
    "name": "CRM",
    "url": "https://crm.example.com/hooks/contact-center",
    "event_types": ["conversation.created", "message.created"],
    "active": True,
    "created_at": "2026-01-05T10:00:00Z",
}


def _example(name: str, value: object):
    return extend_schema_serializer(
        examples=[OpenApiExample(name, value=value, response_only=True)]
    )


@_example("An event type", {"type": "message.created", "description": "A message was added."})
class EventTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    description = serializers.CharField()


class EventTypesApi(APIView):
    """Every event type (of the feed and of webhook subscriptions), with its description."""

    token_scopes = {"GET": ("read", "webhooks")}
    schema_tags = ["webhooks"]

    @extend_schema(operation_id="webhooks_event_types", responses=EventTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        catalogue = realtime.event_types()
        return Response([{"type": t, "description": d} for t, d in catalogue.items()])


@_example("A subscription", SUBSCRIPTION_EXAMPLE_VALUE)
class WebhookSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=webhooks.NAME_MAX_LENGTH)
    url = serializers.URLField(max_length=webhooks.URL_MAX_LENGTH)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=60), min_length=1, max_length=100
    )
    active = serializers.BooleanField(default=True)
    created_at = serializers.DateTimeField(read_only=True)


@_example("With its secret", {**SUBSCRIPTION_EXAMPLE_VALUE, "secret": "whsec_3q2-7Xw…"})
class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="Shown only now (and after rotate_secret): keep it safe."
    )


class WebhookSubscriptionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=webhooks.NAME_MAX_LENGTH, required=False)
    url = serializers.URLField(max_length=webhooks.URL_MAX_LENGTH, required=False)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=60), min_length=1, max_length=100, required=False
    )
    active = serializers.BooleanField(required=False)


class WebhookAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    response_body = serializers.CharField()
    duration_ms = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["delivered", "retry", "failed"])


@_example(
    "Delivered on the second attempt",
    {
        "id": 81,
        "event_id": 1203,
        "event_type": "message.created",
        "status": "delivered",
        "attempts": 2,
        "next_attempt_at": None,
        "last_status_code": 200,
        "last_error": "",
        "created_at": "2026-01-05T10:00:00Z",
        "delivered_at": "2026-01-05T10:00:06Z",
        "body": {"delivery_id": 81, "subscription_id": 3, "id": 1203, "type": "message.created"},
        "log": [
            {
                "number": 1,
                "attempted_at": "2026-01-05T10:00:00Z",
                "status_code": 503,
                "error": "HTTP 503",
                "response_body": "",
                "duration_ms": 41,
                "outcome": "retry",
            },
            {
                "number": 2,
                "attempted_at": "2026-01-05T10:00:06Z",
                "status_code": 200,
                "error": "",
                "response_body": "ok",
                "duration_ms": 35,
                "outcome": "delivered",
            },
        ],
    },
)
class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    body = serializers.DictField(source="payload", help_text="What was POSTed.")
    log = WebhookAttemptSerializer(many=True)


SUBSCRIPTION_EXAMPLE = OpenApiExample(
    "Replies and new conversations",
    value={
        "name": "CRM",
        "url": "https://crm.example.com/hooks/contact-center",
        "event_types": ["conversation.created", "message.created", "conversation.closed"],
        "active": True,
    },
    request_only=True,
)


def _subscription_for(*, user, pk: int) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.filter(user=user, pk=pk).first()
    if subscription is None:
        raise NotFound(gettext("Webhook subscription not found."))
    return subscription


class WebhookListApi(GenericAPIView):
    """Your webhook subscriptions (a subscription sees the events of the user who made it)."""

    queryset = WebhookSubscription.objects.none()
    serializer_class = WebhookSubscriptionSerializer
    token_scopes = WEBHOOK_SCOPES
    schema_tags = ["webhooks"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # building the schema: no user
            return self.queryset
        return WebhookSubscription.objects.filter(user=self.request.user).order_by("id")

    @extend_schema(operation_id="webhooks_list", responses=WebhookSubscriptionSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookSubscriptionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        request=WebhookSubscriptionSerializer,
        responses={201: WebhookSubscriptionCreatedSerializer},
        examples=[SUBSCRIPTION_EXAMPLE],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = WebhookSubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = webhooks.webhook_subscription_create(
            user=request.user, **serializer.validated_data
        )
        return Response(
            WebhookSubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED
        )


class WebhookDetailApi(GenericAPIView):
    serializer_class = WebhookSubscriptionSerializer
    token_scopes = WEBHOOK_SCOPES
    schema_tags = ["webhooks"]

    @extend_schema(operation_id="webhooks_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.get_serializer(_subscription_for(user=request.user, pk=pk)).data)

    @extend_schema(
        operation_id="webhooks_partial_update", request=WebhookSubscriptionUpdateSerializer
    )
    def patch(self, request: Request, pk: int) -> Response:
        subscription = _subscription_for(user=request.user, pk=pk)
        serializer = WebhookSubscriptionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = webhooks.webhook_subscription_update(
            subscription=subscription, data=serializer.validated_data
        )
        return Response(self.get_serializer(subscription).data)

    @extend_schema(operation_id="webhooks_destroy", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        webhooks.webhook_subscription_delete(
            subscription=_subscription_for(user=request.user, pk=pk)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretApi(GenericAPIView):
    """Issue a new signing secret; the answer is the only place it is shown."""

    serializer_class = WebhookSubscriptionCreatedSerializer
    token_scopes = WEBHOOK_SCOPES
    schema_tags = ["webhooks"]

    @extend_schema(operation_id="webhooks_rotate_secret", request=None)
    def post(self, request: Request, pk: int) -> Response:
        subscription = webhooks.webhook_subscription_rotate_secret(
            subscription=_subscription_for(user=request.user, pk=pk)
        )
        return Response(self.get_serializer(subscription).data)


class WebhookDeliveryListApi(GenericAPIView):
    """The delivery log of a subscription, newest first, each with its attempts."""

    queryset = WebhookDelivery.objects.none()
    serializer_class = WebhookDeliverySerializer
    token_scopes = WEBHOOK_SCOPES
    schema_tags = ["webhooks"]

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        responses=WebhookDeliverySerializer(many=True),
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=WebhookDelivery.Status.values, required=False
            )
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        subscription = _subscription_for(user=request.user, pk=pk)
        deliveries = subscription.deliveries.prefetch_related("log").order_by("-id")
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in WebhookDelivery.Status.values:
                raise serializers.ValidationError({"status": [gettext("Unknown status.")]})
            deliveries = deliveries.filter(status=wanted)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class WebhookRedeliverApi(GenericAPIView):
    serializer_class = WebhookDeliverySerializer
    token_scopes = WEBHOOK_SCOPES
    schema_tags = ["webhooks"]

    @extend_schema(
        operation_id="webhooks_deliveries_redeliver",
        request=None,
        responses={202: WebhookDeliverySerializer},
        examples=[
            OpenApiExample(
                "Queued again",
                value={
                    "id": 81,
                    "event_id": 1203,
                    "event_type": "message.created",
                    "status": "pending",
                    "attempts": 8,
                    "next_attempt_at": "2026-01-05T11:00:00Z",
                    "last_status_code": 503,
                    "last_error": "HTTP 503",
                    "created_at": "2026-01-05T10:00:00Z",
                    "delivered_at": None,
                    "body": {"delivery_id": 81, "type": "message.created"},
                    "log": [],
                },
                response_only=True,
                status_codes=["202"],
            )
        ],
    )
    def post(self, request: Request, pk: int, delivery_pk: int) -> Response:
        subscription = _subscription_for(user=request.user, pk=pk)
        delivery = subscription.deliveries.filter(pk=delivery_pk).first()
        if delivery is None:
            raise NotFound(gettext("Delivery not found."))
        delivery = webhooks.webhook_redeliver(delivery=delivery)
        delivery = WebhookDelivery.objects.prefetch_related("log").get(pk=delivery.pk)
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)
