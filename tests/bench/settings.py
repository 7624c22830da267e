"""Settings of the benchmark's own processes: the project's settings, plus the bare baselines
(``tests.bench.urls``, ``tests.bench.asgi``), a no-op task and a server-timing middleware.

Used only by the processes ``make bench`` starts (``DJANGO_SETTINGS_MODULE=tests.bench.settings``);
nothing here is reachable from the production settings, URLs or ASGI application.
"""

from contactcenter.settings import *  # noqa: F403
from contactcenter.settings import CELERY_TASK_ROUTES, MIDDLEWARE

ROOT_URLCONF = "tests.bench.urls"
ASGI_APPLICATION = "tests.bench.asgi.application"
WSGI_APPLICATION = "tests.bench.wsgi.application"
# Outermost: server time and SQL statements of every request, as response headers.
MIDDLEWARE = ["tests.bench.middleware.ServerTimingMiddleware", *MIDDLEWARE]
CELERY_IMPORTS = ["tests.bench.tasks"]
CELERY_TASK_ROUTES = {**CELERY_TASK_ROUTES, "bench.noop": {"queue": "outbound"}}
