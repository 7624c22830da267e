"""The `make run` path (embedded mode: tasks in the server process, the beat on a thread of the
server, the in-memory channel layer), in Chromium: the close-out jobs really run there."""

import time

import pytest
from playwright.sync_api import expect

from channels_app.models import ChatSession, WebChatSettings
from conversations.models import AgentState, Interaction
from tests.channels_app.webchat.factories import ChatEntryPointFactory
from tests.support.browser import login

from .test_webchat import HostSite, customer, fill_prechat, open_widget  # noqa: F401


@pytest.fixture
def live_server_env(live_server_env):
    """Embedded mode on the test database: no Redis (tasks in-process, in-memory layer), the
    beat on the server's thread ten times as often, short chat timeouts."""
    return {
        **live_server_env,
        "REDIS_URL": "",
        "EMBEDDED_BEAT": "1",
        "EMBEDDED_DELAYED_JOBS": "1",
        "BEAT_INTERVAL_SCALE": "0.1",
        "WEBCHAT_QUEUE_ABANDON_SECONDS": "3",
    }


@pytest.fixture
def celery_worker():
    return None  # embedded mode: no worker


@pytest.fixture
def host_site(asgi_server):
    with HostSite(asgi_server.url) as site:
        yield site


@pytest.fixture
def website_chat(service_a, host_site):
    entry_point = ChatEntryPointFactory(name="Website chat", address="website", service=service_a)
    WebChatSettings.objects.create(
        entry_point=entry_point,
        title="Help",
        allowed_origins=host_site.origin,
        inactivity_timeout_seconds=8,
    )
    return entry_point


def test_a_quiet_chat_is_warned_at_half_the_timeout_then_ended_by_the_embedded_beat(
    page, customer, asgi_server, host_site, website_chat, agent_a, service_a,  # noqa: F811
):  # fmt: skip
    service_a.auto_accept_channels = ["chat"]
    service_a.save()
    login(page, asgi_server.url, agent_a.username)
    assert "embedded mode" in asgi_server.log_text()
    chat = open_widget(customer, host_site)
    fill_prechat(chat, "Hello?")
    expect(chat.locator("#chat-agent")).to_have_text("You are chatting with Agent agent_a")

    # Nobody writes: the beat thread of the server warns at 4 s and ends at 8 s.
    expect(chat.locator("#chat-warning")).to_contain_text("Are you still there?", timeout=15_000)
    expect(chat.locator("#chat-ended")).to_be_visible(timeout=15_000)
    expect(chat.locator(".chat-notice-ended")).to_have_text(
        "The chat ended because there was no activity."
    )
    expect(chat.locator("#chat-agent")).to_have_text("Chat ended")
    session = ChatSession.objects.get()
    assert (session.state, session.end_reason) == ("ended", "inactivity")
    assert "Traceback" not in asgi_server.log_text()


def test_a_waiting_customer_who_closes_the_page_leaves_the_queue_after_the_grace_period(
    customer, asgi_server, host_site, website_chat, agent_a,  # noqa: F811
):  # fmt: skip
    agent_a.agent_profile.state = AgentState.NOT_READY
    agent_a.agent_profile.save()
    chat = open_widget(customer, host_site)
    fill_prechat(chat, "Anyone?")
    expect(chat.locator("#chat-queue")).to_contain_text("You are number 1 in the queue.")
    waiting = Interaction.objects.get(channel="chat")
    assert waiting.state == "queued"

    customer.close()  # the browser goes away: no socket, no heartbeat

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        waiting.refresh_from_db()
        if waiting.state == "ended":
            break
        time.sleep(0.25)
    assert waiting.state == "ended" and waiting.abandoned_at is not None
    assert ChatSession.objects.get().end_reason == "left"
