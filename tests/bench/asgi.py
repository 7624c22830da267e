"""The project's ASGI application plus the bare consumer at ``/ws/bench/bare/``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from contactcenter.asgi import django_asgi_app, websocket_urlpatterns
from contactcenter.ws import SameOriginValidator

from .consumers import BareConsumer

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(
                URLRouter([path("ws/bench/bare/", BareConsumer.as_asgi()), *websocket_urlpatterns])
            )
        ),
    }
)
