"""Websocket routes of the web chat, mounted under ``/ws/chat/`` by ``contactcenter.asgi``."""

from django.urls import path

from .consumers import CustomerChatConsumer, DeskChatConsumer

websocket_urlpatterns = [
    path("agent/<int:conversation_id>/", DeskChatConsumer.as_asgi()),
    path("<slug:slug>/", CustomerChatConsumer.as_asgi()),
]
