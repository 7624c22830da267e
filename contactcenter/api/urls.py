from django.urls import path

from . import views

urlpatterns = [
    path("api/schema/", views.ApiSchemaView.as_view(), name="api-schema"),
    path("api/docs/", views.ApiDocsView.as_view(), name="api-docs"),
    path("api/v1/events/", views.EventFeedApi.as_view(), name="api-events"),
    path("api/v1/webhooks/", views.WebhookListApi.as_view(), name="api-webhooks"),
    path(
        "api/v1/webhooks/event-types/",
        views.EventTypesApi.as_view(),
        name="api-webhook-event-types",
    ),
    path("api/v1/webhooks/<id:pk>/", views.WebhookDetailApi.as_view(), name="api-webhook"),
    path(
        "api/v1/webhooks/<id:pk>/rotate-secret/",
        views.WebhookRotateSecretApi.as_view(),
        name="api-webhook-rotate-secret",
    ),
    path(
        "api/v1/webhooks/<id:pk>/deliveries/",
        views.WebhookDeliveryListApi.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "api/v1/webhooks/<id:pk>/deliveries/<id:delivery_pk>/redeliver/",
        views.WebhookRedeliverApi.as_view(),
        name="api-webhook-redeliver",
    ),
]
