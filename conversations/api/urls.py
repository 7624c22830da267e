from django.urls import path

from . import supervision, views

urlpatterns = [
    path("api/v1/conversations/", views.ConversationListApi.as_view(), name="api-conversations"),
    path(
        "api/v1/conversations/<id:pk>/",
        views.ConversationDetailApi.as_view(),
        name="api-conversation",
    ),
    path(
        "api/v1/conversations/<id:pk>/messages/",
        views.ConversationMessagesApi.as_view(),
        name="api-conversation-messages",
    ),
    path(
        "api/v1/conversations/<id:pk>/transfer/",
        views.ConversationTransferApi.as_view(),
        name="api-conversation-transfer",
    ),
    path("api/v1/messages/<id:pk>/", views.MessageDetailApi.as_view(), name="api-message"),
    path("api/v1/interactions/", views.InteractionListApi.as_view(), name="api-interactions"),
    path(
        "api/v1/interactions/<id:pk>/",
        views.InteractionDetailApi.as_view(),
        name="api-interaction",
    ),
    path("api/v1/offers/", views.OfferListApi.as_view(), name="api-offers"),
    path("api/v1/offers/<id:pk>/accept/", views.OfferAcceptApi.as_view(), name="api-offer-accept"),
    path("api/v1/offers/<id:pk>/reject/", views.OfferRejectApi.as_view(), name="api-offer-reject"),
    path("api/v1/agent/state/", views.AgentStateApi.as_view(), name="api-agent-state"),
    path("api/v1/agents/", views.AgentListApi.as_view(), name="api-agents"),
    path("api/v1/agents/<id:pk>/", views.AgentDetailApi.as_view(), name="api-agent"),
    path(
        "api/v1/agents/<id:pk>/state/",
        views.AgentDetailStateApi.as_view(),
        name="api-agent-detail-state",
    ),
    path("api/v1/services/", views.ServiceListApi.as_view(), name="api-services"),
    path("api/v1/services/<id:pk>/", views.ServiceDetailApi.as_view(), name="api-service"),
    path(
        "api/v1/services/<id:pk>/queue/", views.ServiceQueueApi.as_view(), name="api-service-queue"
    ),
    path("api/v1/dispositions/", views.DispositionListApi.as_view(), name="api-dispositions"),
    path(
        "api/v1/dispositions/<id:pk>/",
        views.DispositionDetailApi.as_view(),
        name="api-disposition",
    ),
    path(
        "api/v1/supervisor/agents/<id:pk>/state/",
        supervision.SupervisorAgentStateApi.as_view(),
        name="api-supervisor-agent-state",
    ),
    path(
        "api/v1/supervisor/interactions/<id:pk>/assign/",
        supervision.SupervisorAssignApi.as_view(),
        name="api-supervisor-assign",
    ),
    path(
        "api/v1/supervisor/conversations/<id:pk>/transfer/",
        supervision.SupervisorTransferApi.as_view(),
        name="api-supervisor-transfer",
    ),
    path(
        "api/v1/supervisor/conversations/<id:pk>/close/",
        supervision.SupervisorCloseApi.as_view(),
        name="api-supervisor-close",
    ),
    path(
        "api/v1/supervisor/conversations/<id:pk>/whisper/",
        supervision.SupervisorWhisperApi.as_view(),
        name="api-supervisor-whisper",
    ),
    path(
        "api/v1/supervisor/conversations/<id:pk>/barge/",
        supervision.SupervisorBargeApi.as_view(),
        name="api-supervisor-barge",
    ),
]
