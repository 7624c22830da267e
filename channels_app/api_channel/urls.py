from django.urls import path

from . import api

urlpatterns = [
    path(
        "api/v1/channels/api/<slug:slug>/messages/",
        api.ApiChannelInboundApi.as_view(),
        name="api-channel-messages",
    ),
    path(
        "api/v1/channels/api/<slug:slug>/messages/<id:message_id>/status/",
        api.ApiChannelStatusApi.as_view(),
        name="api-channel-message-status",
    ),
]
