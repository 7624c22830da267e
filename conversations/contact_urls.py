"""Routes for the conversation pieces of the contacts section (included by contactcenter.urls)."""

from django.urls import path

from . import contact_views

urlpatterns = [
    path(
        "contacts/activities/<int:pk>/timeline/",
        contact_views.activity_timeline_view,
        name="contact-activity-timeline",
    ),
    path(
        "contacts/activities/<int:pk>/move/",
        contact_views.conversation_move_view,
        name="contact-activity-move",
    ),
    path(
        "api/v1/conversations/<id:pk>/move/",
        contact_views.ConversationMoveApi.as_view(),
        name="api-conversation-move",
    ),
]
