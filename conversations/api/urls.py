from django.urls import path

from . import supervision, views

urlpatterns = [
    path("api/v1/conversations/", views.ConversationListApi.as_view(), name="api-conversations"),
    path(
        "api/v1/conversations/<int:pk>/",
        views.ConversationDetailApi.as_view(),
        name="api-conversation",
    ),
    path(
        "api/v1/conversations/<int:pk>/messages/",
        views.ConversationMessagesApi.as_view(),
        name="api-conversation-messages",
    ),
    path(
        "api/v1/conversations/<int:pk>/transfer/",
        views.ConversationTransferApi.as_view(),
        name="api-conversation-transfer",
    ),
    path("api/v1/offers/", views.OfferListApi.as_view(), name="api-offers"),
    path("api/v1/offers/<int:pk>/accept/", views.OfferAcceptApi.as_view(), name="api-offer-accept"),
    path("api/v1/offers/<int:pk>/reject/", views.OfferRejectApi.as_view(), name="api-offer-reject"),
    path("api/v1/agent/state/", views.AgentStateApi.as_view(), name="api-agent-state"),
    path(
        "api/v1/services/<int:pk>/queue/", views.ServiceQueueApi.as_view(), name="api-service-queue"
    ),
    path(
        "api/v1/supervisor/agents/<int:pk>/state/",
        supervision.SupervisorAgentStateApi.as_view(),
        name="api-supervisor-agent-state",
    ),
    path(
        "api/v1/supervisor/interactions/<int:pk>/assign/",
        supervision.SupervisorAssignApi.as_view(),
        name="api-supervisor-assign",
    ),
    path(
        "api/v1/supervisor/conversations/<int:pk>/transfer/",
        supervision.SupervisorTransferApi.as_view(),
        name="api-supervisor-transfer",
    ),
    path(
        "api/v1/supervisor/conversations/<int:pk>/close/",
        supervision.SupervisorCloseApi.as_view(),
        name="api-supervisor-close",
    ),
    path(
        "api/v1/supervisor/conversations/<int:pk>/whisper/",
        supervision.SupervisorWhisperApi.as_view(),
        name="api-supervisor-whisper",
    ),
    path(
        "api/v1/supervisor/conversations/<int:pk>/barge/",
        supervision.SupervisorBargeApi.as_view(),
        name="api-supervisor-barge",
    ),
]
