from django.urls import path

from . import supervision_views, views

urlpatterns = [
    path("", views.desktop, name="desktop"),
    path("agent/state/", views.agent_state, name="agent-state"),
    path(
        "conversations/fragment/list/",
        views.conversation_list_fragment,
        name="conversation-list-fragment",
    ),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation-detail"),
    path(
        "conversations/<int:pk>/messages/",
        views.conversation_messages_fragment,
        name="conversation-messages",
    ),
    path(
        "conversations/<int:pk>/context/",
        views.conversation_context_fragment,
        name="conversation-context",
    ),
    path(
        "conversations/<int:pk>/contact/",
        views.conversation_contact_edit,
        name="conversation-contact-edit",
    ),
    path("conversations/<int:pk>/fields/", views.conversation_fields, name="conversation-fields"),
    path("conversations/<int:pk>/reply/", views.conversation_reply, name="conversation-reply"),
    path("conversations/<int:pk>/end/", views.conversation_end, name="conversation-end"),
    path(
        "conversations/<int:pk>/wrap-up/", views.conversation_wrap_up, name="conversation-wrap-up"
    ),
    path("conversations/<int:pk>/notes/", views.conversation_note, name="conversation-note"),
    path(
        "conversations/<int:pk>/transfer/",
        views.conversation_transfer,
        name="conversation-transfer",
    ),
    path("supervisor/", supervision_views.floor_view, name="floor"),
    path("supervisor/panels/<str:panel>/", supervision_views.floor_panel, name="floor-panel"),
    path("supervisor/queues/", supervision_views.supervisor_queues, name="supervisor-queues"),
    path("supervisor/conversations/<int:pk>/", supervision_views.monitor_view, name="monitor"),
    path(
        "supervisor/conversations/<int:pk>/messages/",
        supervision_views.monitor_messages,
        name="monitor-messages",
    ),
    path(
        "supervisor/conversations/<int:pk>/whisper/",
        supervision_views.conversation_whisper,
        name="supervisor-whisper",
    ),
    path(
        "supervisor/conversations/<int:pk>/barge/",
        supervision_views.conversation_barge,
        name="supervisor-barge",
    ),
    path(
        "supervisor/conversations/<int:pk>/transfer/",
        supervision_views.conversation_transfer,
        name="supervisor-transfer",
    ),
    path(
        "supervisor/conversations/<int:pk>/close/",
        supervision_views.conversation_close,
        name="supervisor-close",
    ),
    path(
        "supervisor/agents/<int:pk>/state/",
        supervision_views.agent_state_force,
        name="supervisor-agent-state",
    ),
    path(
        "supervisor/agents/<int:pk>/log-out/",
        supervision_views.agent_log_out,
        name="supervisor-agent-log-out",
    ),
    path(
        "supervisor/interactions/<int:pk>/assign/",
        supervision_views.interaction_assign,
        name="supervisor-assign",
    ),
    path(
        "conversations/<int:pk>/conference/",
        views.conversation_conference,
        name="conversation-conference",
    ),
    path("conversations/<int:pk>/leave/", views.conversation_leave, name="conversation-leave"),
    path("messages/<int:pk>/retry/", views.message_retry, name="message-retry"),
    path("conversations/fragment/queues/", views.work_queues_fragment, name="work-queues-fragment"),
    path("interactions/<int:pk>/pull/", views.interaction_pull, name="interaction-pull"),
    path("conversations/<int:pk>/case/pending/", views.case_pend, name="case-pend"),
    path("conversations/<int:pk>/case/resolve/", views.case_resolve, name="case-resolve"),
    path("offers/<int:pk>/accept/", views.offer_accept, name="offer-accept"),
    path("offers/<int:pk>/reject/", views.offer_reject, name="offer-reject"),
]
