import json

import pytest
from django.urls import reverse

from channels_app.models import ChatSession
from channels_app.webchat import services
from tests.utils import count_queries

from .conftest import start_chat
from .factories import ChatEntryPointFactory, ChatSessionFactory

pytestmark = pytest.mark.django_db


def test_chat_page_renders_the_prechat_form_and_the_translated_texts(client, chat_entry_point_a):
    response = client.get("/chat/website/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="prechat-email"' in html and 'name="prechat-question"' in html
    assert 'data-ws-path="/ws/chat/website/"' in html
    strings = json.loads(
        html.split('<script id="webchat-strings" type="application/json">')[1].split("</script>")[0]
    )
    assert strings["agent_joined"] == "%(name)s joined the chat."
    assert "X-Frame-Options" not in response


def test_chat_page_speaks_the_embedding_pages_language(client, chat_entry_point_a):
    response = client.get("/chat/website/?embed=1&lang=es-MX")
    assert '<html lang="es">' in response.content.decode()


def test_chat_page_may_be_framed_only_by_the_allowed_origins(client, chat_entry_point_a):
    response = client.get("/chat/website/?embed=1", HTTP_REFERER="https://shop.example.com/cart")

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://shop.example.com" in policy
    assert "script-src 'self'" in policy


def test_a_disallowed_website_gets_a_visible_refusal(client, chat_entry_point_a):
    response = client.get("/chat/website/?embed=1", HTTP_REFERER="https://evil.example/page")

    assert response.status_code == 403
    assert "not available on this website" in response.content.decode()


def test_unknown_or_inactive_chat_is_a_404_page(client, chat_entry_point_a):
    chat_entry_point_a.active = False
    chat_entry_point_a.save()

    assert client.get("/chat/website/").status_code == 404
    assert client.get("/chat/nope/").status_code == 404


def test_demo_page_embeds_the_widget_with_one_tag(client, chat_entry_point_a):
    html = client.get("/chat/website/demo/").content.decode()
    assert 'src="/static/webchat/widget.js" data-entry-point="website"' in html


def test_widget_script_is_served(client, chat_entry_point_a):
    response = client.get("/static/webchat/widget.js")
    assert response.status_code == 200


def panel_url(conversation_id):
    return reverse("channels-conversation-panel", args=[conversation_id])


def test_panel_shows_the_customers_page_and_prechat_to_the_handling_agent(
    client, chat_entry_point_a, agent_a
):
    _session, message = start_chat(chat_entry_point_a)
    client.force_login(agent_a)

    html = client.get(panel_url(message.conversation_id)).content.decode()

    assert 'data-chat-open="1"' in html
    assert 'href="https://shop.example.com/orders/42"' in html
    assert "Order 42" in html


def test_panel_is_not_shown_to_another_agent_or_an_outsider(
    client, chat_entry_point_a, agent_a, agent_b, outsider
):
    _session, message = start_chat(chat_entry_point_a)
    for user in (agent_b, outsider):
        client.force_login(user)
        assert client.get(panel_url(message.conversation_id)).status_code == 404


def test_panel_escapes_what_the_customer_controls(client, chat_entry_point_a, agent_a):
    session, message = start_chat(chat_entry_point_a)
    services.chat_page_update(
        session_id=session.pk,
        visitor_id=session.visitor_id,
        page=services.Page(url="https://shop.example.com/x", title="<img src=x onerror=alert(1)>"),
    )
    client.force_login(agent_a)

    html = client.get(panel_url(message.conversation_id)).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_panel_query_count_does_not_grow_with_transcript_requests(
    client, chat_entry_point_a, agent_a, django_assert_num_queries
):
    session, message = start_chat(chat_entry_point_a)
    client.force_login(agent_a)
    url = panel_url(message.conversation_id)
    client.get(url)
    services.chat_transcript_request(
        session_id=session.pk, visitor_id=session.visitor_id, email="a@example.com"
    )
    few = count_queries(lambda: client.get(url))
    for n in range(4):
        services.chat_transcript_request(
            session_id=session.pk, visitor_id=session.visitor_id, email=f"b{n}@example.com"
        )
    with django_assert_num_queries(few):
        client.get(url)


@pytest.mark.parametrize("model", ["chatsession", "webchatsettings"])
def test_admin_changelists_query_count_is_the_same_at_2_and_20_rows(
    client, supervisor, django_assert_num_queries, model
):
    supervisor.is_superuser = True
    supervisor.save()
    client.force_login(supervisor)
    url = reverse(f"admin:channels_app_{model}_changelist")

    def add(count):
        for _ in range(count):
            if model == "chatsession":
                ChatSessionFactory()
            else:
                from .factories import WebChatSettingsFactory

                WebChatSettingsFactory(entry_point=ChatEntryPointFactory())

    add(2)
    client.get(url)
    two = count_queries(lambda: client.get(url))
    add(18)
    with django_assert_num_queries(two):
        response = client.get(url)
    assert response.status_code == 200
    if model == "chatsession":
        assert ChatSession.objects.count() == 20
