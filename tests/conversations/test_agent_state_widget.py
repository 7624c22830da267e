"""The agent's state in the top bar of every agent page (desktop, contacts, the outbox): the
state, its timer, and "then Not Ready: Lunch (pending)" when asked for while busy; not shown to a
user who is not an agent, and never read by the fragments the desktop fetches."""

import pytest
from django.urls import reverse

from conversations import services
from tests.factories import (
    ConversationFactory,
    InteractionFactory,
    NotReadyReasonFactory,
    UserFactory,
)
from tests.utils import count_queries


@pytest.fixture
def busy_agent(agent_a, service_a):
    conversation = ConversationFactory(agent=agent_a, service=service_a)
    InteractionFactory(conversation=conversation, channel="sms")
    services.agent_work_state_sync(user_id=agent_a.pk)
    agent_a.agent_profile.refresh_from_db()
    assert agent_a.agent_profile.state == "busy"
    return agent_a


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["desktop", "contact-list"])
def test_every_agent_page_shows_the_state_with_a_pending_not_ready(client, busy_agent, url_name):
    NotReadyReasonFactory(name="Lunch")
    client.force_login(busy_agent)
    response = client.post(reverse("agent-state"), {"state": "not_ready", "reason": "Lunch"})
    assert response.json() == {
        "state": "busy",
        "reason": "",
        "requested_state": "not_ready",
        "requested_reason": "Lunch",
    }
    html = client.get(reverse(url_name)).content.decode()
    assert 'id="agent-state-form"' in html
    assert '<option value="busy|" selected disabled>Busy</option>' in html
    assert '<option value="not_ready|Lunch">Not Ready: Lunch</option>' in html
    assert "then Not Ready: Lunch (pending)" in html
    assert "js/agent_state.js" in html

    # Ready again before the work ends: the request is dropped.
    response = client.post(reverse("agent-state"), {"state": "ready"})
    assert response.json()["requested_state"] == ""
    assert "(pending)</span>" not in client.get(reverse(url_name)).content.decode()


@pytest.mark.django_db
def test_a_user_without_an_agent_profile_sees_no_state(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    html = client.get(reverse("contact-list")).content.decode()
    assert 'id="agent-state-form"' not in html
    assert "js/agent_state.js" not in html


@pytest.mark.django_db
def test_fragments_do_not_pay_for_the_widget(client, agent_a, settings):
    """The list fragment (fetched on every event) renders with the same context processors; the
    widget is lazy, so the fragment costs the same with it as without it."""
    client.force_login(agent_a)
    url = reverse("conversation-list-fragment")
    client.get(url)
    with_widget = count_queries(lambda: client.get(url))
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                **settings.TEMPLATES[0]["OPTIONS"],
                "context_processors": [
                    name for name in processors if not name.endswith(".agent_state")
                ],
            },
        }
    ]
    client.get(url)
    assert count_queries(lambda: client.get(url)) == with_widget
    assert 'id="agent-state-form"' not in client.get(url).content.decode()


@pytest.mark.django_db
def test_the_local_outbox_shows_the_state_too(client, busy_agent, settings):
    settings.DEMO_MODE = True
    busy_agent.is_staff = True
    busy_agent.save(update_fields=["is_staff"])
    client.force_login(busy_agent)
    response = client.get(reverse("channels-outbox"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="agent-state-form"' in html
    assert '<option value="busy|" selected disabled>Busy</option>' in html
