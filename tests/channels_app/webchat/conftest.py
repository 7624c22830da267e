import pytest
from django.core.cache import cache

from channels_app.webchat import services
from conversations import services as conversation_services
from conversations.models import AgentState

from .factories import ChatEntryPointFactory, WebChatSettingsFactory


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Rate limits count in Django's cache here (no REDIS_URL in unit tests): start empty."""
    settings.REDIS_URL = ""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def chat_entry_point_a(service_a):
    """Web chat "website" of service A (agent A's service), chats auto-accepted by the agent."""
    service_a.auto_accept_channels = ["chat"]
    service_a.save(update_fields=["auto_accept_channels"])
    entry_point = ChatEntryPointFactory(name="Website chat", address="website", service=service_a)
    WebChatSettingsFactory(entry_point=entry_point, allowed_origins="https://shop.example.com")
    return entry_point


@pytest.fixture
def agent_a_not_ready(agent_a):
    profile = agent_a.agent_profile
    profile.state = AgentState.NOT_READY
    profile.save(update_fields=["state"])
    return agent_a


def start_chat(entry_point, visitor_id="a" * 32, body="Where is my order?", **answers):
    """A visitor fills the pre-chat form and writes, routing runs; returns (session, message)."""
    answers.setdefault("first_name", "Maria")
    answers.setdefault("last_name", "García")
    answers.setdefault("email", "maria@example.com")
    session = services.chat_session_start(
        entry_point=entry_point,
        visitor_id=visitor_id,
        answers=services.PreChatAnswers(**answers),
        page=services.Page(url="https://shop.example.com/orders/42", title="Order 42"),
    )
    message = services.chat_message_receive(
        session_id=session.pk, visitor_id=visitor_id, body=body, client_id="client-0001"
    )
    # What the commit of the inbound triggers (tests in a transaction never commit): routing,
    # which tells the customer through the chat's lifecycle listener.
    conversation_services.route_service(service_id=entry_point.service_id)
    session.refresh_from_db()
    return session, message
