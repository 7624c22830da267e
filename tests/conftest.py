"""Personas and shared fixtures (ARCHITECTURE.md section 7)."""

import os
import time
from urllib.parse import urlencode

import pytest
from celery import current_app as celery_app
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.utils import OperationalError
from twilio.request_validator import RequestValidator

from contactcenter import roles
from contactcenter.roles import user_role_set
from tests.factories import (
    AgentProfileFactory,
    EntryPointFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)

TWILIO_TEST_TOKEN = "test-auth-token-0123456789abcdef"
TWILIO_TEST_SID = "AC" + "0" * 32

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True, scope="session")
def flush_retries_on_deadlock():
    """Between transactional tests the test database is flushed (TRUNCATE of every table) while
    the e2e suites' live server and worker processes may still be answering a last request or
    running a delayed task. PostgreSQL then detects a lock-order deadlock and aborts one side; when
    that is the flush, run it again instead of failing the next test's setup."""
    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        for attempt in range(1, 6):
            try:
                return original(self, sql_list)
            except OperationalError as exc:
                if "deadlock" not in str(exc) or attempt == 5:
                    raise
                time.sleep(0.2 * attempt)
        return None

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def tasks_run_in_process():
    """Unit tests run Celery tasks in-process; the worker is exercised by the e2e suite, whose
    server and worker are separate processes with their own configuration."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def fast_password_hashing(settings):
    """Users made by the dozen hash their password with MD5 (PBKDF2 takes a third of a second
    each). Never in tests whose live server must check those passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run an action, then its on-commit callbacks (routing, delivery, rings run after commit)."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


@pytest.fixture
def service_a(db):
    return ServiceFactory(name="Service A")


@pytest.fixture
def service_b(db):
    return ServiceFactory(name="Service B")


def with_role(user, role: str):
    """Give ``user`` a role the way an administrator does (group + staff status)."""
    user_role_set(actor=None, user=user, role=role)
    user.refresh_from_db()
    return user


@pytest.fixture
def agent_a(service_a):
    return with_role(
        AgentProfileFactory(user__username="agent_a", services=[service_a]).user, roles.AGENT
    )


@pytest.fixture
def agent_b(service_b):
    return with_role(
        AgentProfileFactory(user__username="agent_b", services=[service_b]).user, roles.AGENT
    )


@pytest.fixture
def supervisor(service_a):
    """A Supervisor of team "Team A", which serves service A: supervises service A only (agent B,
    on service B, is outside their scope)."""
    user = with_role(UserFactory(username="supervisor"), roles.SUPERVISOR)
    profile = AgentProfileFactory(user=user, state="not_ready", display_name="Sam Supervisor")
    TeamFactory(name="Team A", services=[service_a], members=[profile])
    return user


@pytest.fixture
def administrator(db):
    """An Administrator: configures everything and supervises every service."""
    user = with_role(UserFactory(username="administrator"), roles.ADMINISTRATOR)
    AgentProfileFactory(user=user, state="not_ready", display_name="Ada Administrator")
    return user


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def sms_entry_point_a(service_a):
    return EntryPointFactory(name="SMS A", address="+15005550006", service=service_a)


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TWILIO_TEST_TOKEN
    settings.TWILIO_ACCOUNT_SID = TWILIO_TEST_SID
    return settings


def twilio_signature(url: str, params: dict) -> str:
    return RequestValidator(TWILIO_TEST_TOKEN).compute_signature(url, params)


@pytest.fixture
def twilio_post(client, twilio_settings):
    """POST form params to a Twilio webhook path, signed like Twilio signs them."""

    def post(path: str, params: dict, *, signature: str | None = None, query: dict | None = None):
        full_path = f"{path}?{urlencode(query)}" if query else path
        url = f"http://testserver{full_path}"
        return client.post(
            full_path,
            data=params,
            HTTP_X_TWILIO_SIGNATURE=signature
            if signature is not None
            else twilio_signature(url, params),
        )

    return post
