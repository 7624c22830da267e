"""ASGI entry point: Django for HTTP, Channels for /ws/ (same-origin, session-authenticated)."""

import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from channels_app.webchat.routing import (  # noqa: E402
    websocket_urlpatterns as chat_websocket_urlpatterns,
)
from contactcenter.ws import SameOriginValidator  # noqa: E402
from conversations.consumers import AgentConsumer  # noqa: E402

logging.getLogger("contactcenter").info(
    "contact center running in %s mode (database: %s, channel layer: %s, tasks: %s)",
    settings.RUN_MODE,
    settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    "redis" if settings.REDIS_URL else "in-memory",
    "in-process" if settings.CELERY_TASK_ALWAYS_EAGER else "celery worker",
)

if settings.CELERY_TASK_ALWAYS_EAGER and settings.EMBEDDED_BEAT:
    from contactcenter import embedded_beat

    embedded_beat.start()

websocket_urlpatterns = [
    path("ws/agent/", AgentConsumer.as_asgi()),
    path("ws/chat/", URLRouter(chat_websocket_urlpatterns)),
]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
