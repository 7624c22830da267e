"""E2E fixtures: real Chromium against a live ASGI server (and a Celery worker under Redis).

``DJANGO_ALLOW_ASYNC_UNSAFE`` is set by the ``browser`` fixture for as long as Playwright runs
(its sync API keeps an event loop running in the test thread; the ORM calls of these tests would
otherwise raise ``SynchronousOnlyOperation``). See tests/support/browser.py for why the browser
is package-scoped rather than session-scoped.
"""

import pytest

from tests.support.browser import browser, login, page  # noqa: F401
from tests.support.fixtures import (  # noqa: F401
    asgi_server,
    celery_worker,
    live_server_env,
    live_server_port,
    live_services,
    pytest_runtest_makereport,
    shared_asgi_server,
    shared_live_server,
    shared_twilio_standin,
    twilio_standin,
)

from .desktop import chat_customer, website_chat_a  # noqa: F401


@pytest.fixture
def agent_page(page, asgi_server, agent_a, sms_entry_point_a):  # noqa: F811
    """Agent A (Ready, service A, which owns SMS entry point +15005550006) on the desktop at
    ``/``, logged in through the form, websocket live."""
    login(page, asgi_server.url, agent_a.username)
    return page
