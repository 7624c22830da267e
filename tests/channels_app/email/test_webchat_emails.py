"""Acceptance 6: the chat's offline form and "email me the transcript" each deliver exactly one
real email (through SMTP), in Spanish for a Spanish customer."""

import pytest
from django.core.cache import cache

from channels_app.models import ChatTranscriptRequest
from channels_app.webchat import services as webchat
from conversations import services
from conversations.models import Message
from tests.channels_app.webchat.factories import ChatEntryPointFactory, WebChatSettingsFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    settings.REDIS_URL = ""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def website_chat(service_a, email_entry_point_a):
    service_a.auto_accept_channels = ["chat"]
    service_a.save(update_fields=["auto_accept_channels"])
    entry_point = ChatEntryPointFactory(name="Website chat", address="website", service=service_a)
    WebChatSettingsFactory(entry_point=entry_point)
    return entry_point


def text_of(received) -> str:
    return received.message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_the_offline_form_sends_one_acknowledgement_in_the_customers_language(
    website_chat, smtp_settings, smtp_server, run_on_commit
):
    offline = webchat.OfflineMessage(
        first_name="Lucía", last_name="Gómez", email="Lucia@Example.es", message="¿Abren el lunes?"
    )
    for _ in range(2):  # the widget sent it twice
        run_on_commit(
            lambda: webchat.chat_offline_message(
                entry_point=website_chat,
                visitor_id="v" * 32,
                offline=offline,
                client_id="offline-0001",
                language="es-ES",
            )
        )

    (received,) = smtp_server.wait_for(1)
    inbound = Message.objects.get(direction="inbound")
    number = inbound.conversation.number
    assert received.rcpt_tos == ["lucia@example.es"]
    assert received.message["Subject"] == f"Hemos recibido su mensaje [{number}]"
    assert received.message["Auto-Submitted"] == "auto-replied"
    assert received.message["From"] == "Service A <support@example.com>"
    body = text_of(received)
    assert body.startswith("Hola, Lucía:")
    assert f"Su número de caso es {number}." in body
    assert "¿Abren el lunes?" in body
    assert Message.objects.filter(direction="outbound").count() == 1
    assert smtp_server.received == [received]


def test_the_transcript_is_emailed_once_when_the_chat_ends_in_the_customers_language(
    website_chat, smtp_settings, smtp_server, agent_a, run_on_commit
):
    session = webchat.chat_session_start(
        entry_point=website_chat,
        visitor_id="t" * 32,
        answers=webchat.PreChatAnswers(first_name="Lucía", email="lucia@example.es"),
        language="es",
    )
    run_on_commit(
        lambda: webchat.chat_message_receive(
            session_id=session.pk,
            visitor_id=session.visitor_id,
            body="Hola",
            client_id="client-0001",
        )
    )
    session.refresh_from_db()
    conversation = session.interaction.conversation
    run_on_commit(
        lambda: services.message_send(
            conversation=conversation, user=agent_a, body="¡Hola! ¿En qué le ayudo?"
        )
    )
    for _ in range(2):  # asked twice while chatting: nothing is sent before the chat ends
        webchat.chat_transcript_request(
            session_id=session.pk, visitor_id=session.visitor_id, email="lucia@example.es"
        )
    assert ChatTranscriptRequest.objects.get().status == "pending"
    assert smtp_server.received == []

    run_on_commit(lambda: webchat.chat_end(session_id=session.pk, visitor_id=session.visitor_id))

    (received,) = smtp_server.wait_for(1)
    request = ChatTranscriptRequest.objects.get()
    assert request.status == "queued"
    assert request.message.status == "sent"
    assert received.rcpt_tos == ["lucia@example.es"]
    assert received.message["Subject"] == (f"La transcripción de su chat [{conversation.number}]")
    body = text_of(received)
    assert f"La transcripción de su chat ({conversation.number}):" in body
    assert "] Usted: Hola" in body
    assert "] Agent agent_a: ¡Hola! ¿En qué le ayudo?" in body
    # Asking again after the end sends nothing more.
    webchat.chat_transcript_request(
        session_id=session.pk, visitor_id=session.visitor_id, email="lucia@example.es"
    )
    assert len(smtp_server.received) == 1
    assert request.message.conversation_id == conversation.pk
