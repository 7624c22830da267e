import pytest

from tests.channels_app.webchat.conftest import (  # noqa: F401
    chat_entry_point_a,
    fresh_rate_limits,
    start_chat,
)


@pytest.fixture
def chat(chat_entry_point_a, agent_a):  # noqa: F811
    """An open chat of service A, accepted by agent A: (session, conversation)."""
    session, message = start_chat(chat_entry_point_a)
    conversation = message.conversation
    conversation.refresh_from_db()
    assert conversation.agent_id == agent_a.pk
    return session, conversation


@pytest.fixture
def tmp_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def agent_a2(service_a):
    """Another agent of service A (not on the call)."""
    from contactcenter import roles
    from tests.conftest import with_role
    from tests.factories import AgentProfileFactory

    return with_role(AgentProfileFactory(services=[service_a]).user, roles.AGENT)
