"""The project's WSGI application under the bench settings (gunicorn in the bench layout)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")

application = get_wsgi_application()
