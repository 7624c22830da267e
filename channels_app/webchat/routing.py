"""Websocket routes of the web chat, mounted under ``/ws/chat/`` by ``contactcenter.asgi``."""

from django.urls import path

from .consumers import CustomerChatConsumer

websocket_urlpatterns = [
    path("<slug:slug>/", CustomerChatConsumer.as_asgi()),
]
