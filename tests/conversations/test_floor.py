"""The floor view (/supervisor/), its panels, the monitor page and the supervisor actions over
HTTP: permission checks, scope, filters, constant query counts, and panels that render as on the
full page (what the page fetches when events arrive is what a fresh page shows)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.models import AgentState, Conversation, Interaction, Message, Offer
from tests.factories import (
    AgentProfileFactory,
    InteractionFactory,
    MessageFactory,
    ServiceFactory,
)
from tests.utils import count_queries

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

JSON = {"HTTP_ACCEPT": "application/json"}


def waiting(service, *, seconds=60, channel="chat"):
    """A conversation whose interaction has waited ``seconds`` in ``service``'s queue."""
    queued = timezone.now() - timedelta(seconds=seconds)
    return InteractionFactory(
        conversation__service=service,
        conversation__agent=None,
        conversation__opened_at=queued,
        service=service,
        channel=channel,
        state=Interaction.State.QUEUED,
        agent=None,
        queued_at=queued,
        started_at=queued,
    )


def handled(service, agent, *, channel="chat"):
    now = timezone.now()
    return InteractionFactory(
        conversation__service=service,
        conversation__agent=agent,
        service=service,
        channel=channel,
        state=Interaction.State.ACTIVE,
        agent=agent,
        queued_at=now - timedelta(seconds=30),
        answered_at=now - timedelta(seconds=20),
    )


def panel_html(html: str, panel: str) -> str:
    start = html.index(f'id="panel-{panel}"')
    start = html.index(">", start) + 1
    end = html.index("</section>", start)
    return normalize(html[start : html.rindex("</div>", start, end)])


def normalize(html: str) -> str:
    """Markup and text, CSRF tokens and timers' text (they tick) left out."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'(<span class="timer[^"]*"[^>]*>)[^<]*(</span>)', r"\1\2", html)
    return re.sub(r"\s+", " ", html).strip()


# --- Who may see it ------------------------------------------------------------------------------


def test_the_floor_view_needs_a_login(client):
    response = client.get(reverse("floor"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["agent_a", "agent_b", "outsider"])
def test_agents_and_outsiders_get_403_on_every_supervisor_page(client, request, persona, service_a):
    user = request.getfixturevalue(persona)
    conversation = waiting(service_a).conversation
    client.force_login(user)
    for url in (
        reverse("floor"),
        reverse("floor-panel", args=["agents"]),
        reverse("supervisor-queues"),
        reverse("monitor", args=[conversation.pk]),
        reverse("monitor-messages", args=[conversation.pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_the_old_queue_page_leads_to_the_floor_view(client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("supervisor-queues"))
    assert response.status_code == 302
    assert response["Location"] == reverse("floor")


def test_a_supervisor_sees_only_their_teams_services_agents_and_conversations(
    client, supervisor, agent_a, agent_b, service_a, service_b
):
    mine = waiting(service_a)
    theirs = waiting(service_b)
    client.force_login(supervisor)

    response = client.get(reverse("floor"))

    assert response.status_code == 200
    services = [row.service for row in response.context["services_page"]]
    assert services == [service_a]
    agents = {row.user_id for row in response.context["agents_page"]}
    assert agent_a.pk in agents and agent_b.pk not in agents
    conversations = {c.pk for c in response.context["conversations_page"]}
    assert conversations == {mine.conversation_id}
    assert theirs.conversation.contact.display_name not in response.content.decode()


def test_an_administrator_sees_every_service(client, administrator, service_a, service_b):
    waiting(service_a)
    waiting(service_b)
    client.force_login(administrator)
    response = client.get(reverse("floor"))
    assert [row.service for row in response.context["services_page"]] == [service_a, service_b]
    assert len(response.context["conversations_page"].object_list) == 2


# --- What it shows -----------------------------------------------------------------------------


def test_service_figures_agents_board_and_conversations(client, supervisor, agent_a, service_a):
    waiting(service_a, seconds=90)
    work = handled(service_a, agent_a)
    AgentProfileFactory(
        user__username="agent_acw", services=[service_a], state=AgentState.AFTER_CALL_WORK
    )
    AgentProfileFactory(
        user__username="agent_nr",
        services=[service_a],
        state=AgentState.NOT_READY,
        not_ready_reason="Lunch",
    )
    client.force_login(supervisor)

    response = client.get(reverse("floor"))

    [row] = response.context["services_page"]
    assert row.figures.waiting == 1
    assert 89 <= row.figures.longest_wait_seconds <= 95
    # agent A (ready) and two more; the supervisor (Not Ready) is a member of the team too.
    assert (row.ready, row.after_call_work, row.not_ready) == (1, 1, 2)
    board = {r.profile.user.username: r for r in response.context["agents_page"]}
    assert board["agent_a"].capacity_used == 25
    assert [w.conversation_id for w in board["agent_a"].work] == [work.conversation_id]
    html = response.content.decode()
    assert "Lunch" in html
    assert f'data-conversation-id="{work.conversation_id}"' in html
    [first, second] = response.context["conversations_page"]
    assert first.waiting_since is not None  # the queued one first (waited longest)
    assert second.pk == work.conversation_id


def test_conversation_filters(client, supervisor, agent_a, service_a):
    old = waiting(service_a, seconds=600, channel="sms")
    fresh = waiting(service_a, seconds=5, channel="chat")
    work = handled(service_a, agent_a)
    MessageFactory(interaction=work, direction=Message.Direction.INBOUND)
    client.force_login(supervisor)

    def listed(**query):
        response = client.get(reverse("floor-panel", args=["conversations"]), query)
        return {c.pk for c in response.context["conversations_page"]}

    assert listed() == {old.conversation_id, fresh.conversation_id, work.conversation_id}
    assert listed(channel="sms") == {old.conversation_id}
    assert listed(agent=agent_a.pk) == {work.conversation_id}
    assert listed(waiting=300) == {old.conversation_id}
    assert listed(service=service_a.pk, waiting=0) == {
        old.conversation_id,
        fresh.conversation_id,
        work.conversation_id,
    }
    assert listed(channel="pigeon") == listed()


@pytest.mark.parametrize("panel", ["services", "agents", "conversations"])
def test_a_panel_fetched_alone_is_the_panel_of_a_fresh_page(
    client, supervisor, agent_a, service_a, panel
):
    waiting(service_a)
    handled(service_a, agent_a)
    client.force_login(supervisor)
    query = {"astate": "", "channel": "chat"}

    page = client.get(reverse("floor"), query).content.decode()
    fragment = client.get(reverse("floor-panel", args=[panel]), query).content.decode()

    assert panel_html(page, panel) == normalize(fragment)


def test_an_unknown_panel_is_a_404(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("floor-panel", args=["weather"])).status_code == 404


def _grow(service, agents_before):
    for n in range(agents_before):
        agent = AgentProfileFactory(services=[service], state=AgentState.READY).user
        handled(service, agent)
        waiting(service)


def test_the_floor_view_runs_the_same_queries_at_2_and_20_rows(client, supervisor, service_a):
    team = supervisor.agent_profile.teams.get()
    client.force_login(supervisor)

    def add(count):
        for _ in range(count):
            service = ServiceFactory()
            team.services.add(service)
            _grow(service, 1)

    add(2)
    urls = [reverse("floor")] + [
        reverse("floor-panel", args=[panel]) for panel in ("services", "agents", "conversations")
    ]
    for url in urls:
        client.get(url)
    two = {url: count_queries(lambda url=url: client.get(url)) for url in urls}
    add(18)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert count_queries(lambda url=url: client.get(url)) == two[url], url
    assert len(client.get(reverse("floor")).context["agents_page"].object_list) == 21


def test_panels_are_paginated(client, administrator, service_a):
    for _ in range(26):
        waiting(service_a)
    client.force_login(administrator)
    first = client.get(reverse("floor-panel", args=["conversations"]))
    second = client.get(reverse("floor-panel", args=["conversations"]), {"cp": 2})
    assert len(first.context["conversations_page"].object_list) == 25
    assert len(second.context["conversations_page"].object_list) == 1
    assert "cp=2" in first.content.decode()


# --- Actions over HTTP ------------------------------------------------------------------------


def test_assign_from_the_floor_view(client, supervisor, agent_a, service_a):
    interaction = waiting(service_a)
    client.force_login(supervisor)

    response = client.post(
        reverse("supervisor-assign", args=[interaction.pk]), {"agent": agent_a.pk}, **JSON
    )

    assert response.status_code == 200, response.content
    assert response.json()["offer_state"] == "offered"
    assert Offer.objects.get(interaction=interaction).agent == agent_a


def test_assign_to_an_agent_over_capacity_answers_409_naming_the_field(
    client, supervisor, agent_a, service_a
):
    for _ in range(4):
        handled(service_a, agent_a)
    interaction = waiting(service_a)
    client.force_login(supervisor)

    response = client.post(
        reverse("supervisor-assign", args=[interaction.pk]), {"agent": agent_a.pk}, **JSON
    )

    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == ["agent"]
    assert "over capacity" in response.json()["error"]["message"]


def test_assign_without_an_agent_is_a_400_naming_the_field(client, supervisor, service_a):
    interaction = waiting(service_a)
    client.force_login(supervisor)
    response = client.post(reverse("supervisor-assign", args=[interaction.pk]), {}, **JSON)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["agent"]


def test_a_plain_form_comes_back_to_the_floor_with_a_message(client, supervisor, agent_a):
    client.force_login(supervisor)
    response = client.post(
        reverse("supervisor-agent-state", args=[agent_a.pk]),
        {"state": "not_ready|Lunch", "next": "/supervisor/?astate=ready"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/supervisor/?astate=ready"
    assert "Agent agent_a is now Not Ready." in response.content.decode()
    agent_a.agent_profile.refresh_from_db()
    assert (agent_a.agent_profile.state, agent_a.agent_profile.not_ready_reason) == (
        "not_ready",
        "Lunch",
    )


def test_a_plain_form_never_redirects_off_site(client, supervisor, agent_a):
    client.force_login(supervisor)
    response = client.post(
        reverse("supervisor-agent-log-out", args=[agent_a.pk]), {"next": "https://evil.test/"}
    )
    assert response["Location"] == reverse("floor")


def test_monitor_page_whisper_and_barge_over_http(client, supervisor, agent_a, service_a):
    interaction = handled(service_a, agent_a)
    conversation = interaction.conversation
    client.force_login(supervisor)

    page = client.get(reverse("monitor", args=[conversation.pk]))
    assert page.status_code == 200
    assert "Send again" not in page.content.decode()
    whisper = client.post(
        reverse("supervisor-whisper", args=[conversation.pk]), {"body": "Psst"}, **JSON
    )
    barge = client.post(
        reverse("supervisor-barge", args=[conversation.pk]), {"body": "Hello there"}, **JSON
    )
    empty = client.post(reverse("supervisor-whisper", args=[conversation.pk]), {}, **JSON)

    assert whisper.status_code == barge.status_code == 200
    assert (empty.status_code, list(empty.json()["error"]["fields"])) == (400, ["body"])
    rows = client.get(reverse("monitor-messages", args=[conversation.pk])).content.decode()
    assert "Psst" in rows and "Hello there" in rows and "is monitoring" in rows
    header = client.get(reverse("monitor", args=[conversation.pk]), {"fragment": "header"})
    assert conversation.number in header.content.decode()


def test_transfer_and_close_over_http(client, supervisor, agent_a, service_a, service_b):
    first = handled(service_a, agent_a).conversation
    second = handled(service_a, agent_a).conversation
    client.force_login(supervisor)

    moved = client.post(
        reverse("supervisor-transfer", args=[first.pk]),
        {"target": f"service:{service_b.pk}"},
        **JSON,
    )
    bad = client.post(reverse("supervisor-transfer", args=[second.pk]), {"target": "x"}, **JSON)
    gone = client.post(reverse("supervisor-close", args=[first.pk]), **JSON)  # now service B's
    closed = client.post(reverse("supervisor-close", args=[second.pk]), **JSON)

    assert moved.status_code == 200
    assert (bad.status_code, list(bad.json()["error"]["fields"])) == (400, ["target"])
    assert closed.status_code == 200
    assert gone.status_code == 404
    assert Conversation.objects.get(pk=second.pk).status == "wrap_up"


@pytest.mark.parametrize("persona", ["agent_a", "agent_b", "outsider"])
def test_every_supervisor_action_is_403_for_agents_and_outsiders(
    client, request, persona, agent_a, service_a
):
    user = request.getfixturevalue(persona)
    conversation = handled(service_a, agent_a).conversation
    queued = waiting(service_a)
    client.force_login(user)
    for url, data in (
        (reverse("supervisor-whisper", args=[conversation.pk]), {"body": "x"}),
        (reverse("supervisor-barge", args=[conversation.pk]), {"body": "x"}),
        (reverse("supervisor-transfer", args=[conversation.pk]), {"target": "x"}),
        (reverse("supervisor-close", args=[conversation.pk]), {}),
        (reverse("supervisor-agent-state", args=[agent_a.pk]), {"state": "ready|"}),
        (reverse("supervisor-agent-log-out", args=[agent_a.pk]), {}),
        (reverse("supervisor-assign", args=[queued.pk]), {"agent": agent_a.pk}),
    ):
        assert client.post(url, data, **JSON).status_code == 403, url
        assert client.post(url, data).status_code == 403, url
    assert conversation.messages.count() == 0


def test_a_supervisor_of_other_services_gets_404_for_their_conversations(
    client, supervisor, agent_b, service_b
):
    conversation = handled(service_b, agent_b).conversation
    client.force_login(supervisor)
    assert client.get(reverse("monitor", args=[conversation.pk])).status_code == 404
    response = client.post(
        reverse("supervisor-whisper", args=[conversation.pk]), {"body": "x"}, **JSON
    )
    assert response.status_code == 404


def test_queue_figures_api_follows_the_supervisors_scope(client, supervisor, service_a, service_b):
    client.force_login(supervisor)
    assert client.get(reverse("api-service-queue", args=[service_a.pk])).status_code == 200
    assert client.get(reverse("api-service-queue", args=[service_b.pk])).status_code == 404


def test_the_top_bar_links_supervisors_to_the_floor_and_not_agents(client, supervisor, agent_a):
    client.force_login(agent_a)
    assert reverse("floor") not in client.get("/").content.decode()
    client.force_login(supervisor)
    assert reverse("floor") in client.get("/").content.decode()


def test_the_desktop_carries_the_whisper_popup_texts_in_the_agents_language(client, agent_a):
    client.force_login(agent_a)
    spanish = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()  # last: leaves English
    assert 'data-title-text="Whisper from %(name)s"' in english
    assert 'data-title-text="Susurro de %(name)s"' in spanish


def test_an_unnamed_customer_is_shown_by_their_number_on_the_floor_and_in_the_monitor(
    client, supervisor, service_a
):
    row = waiting(service_a, channel="sms")
    row.conversation.contact.first_name = row.conversation.contact.last_name = ""
    row.conversation.contact.save()
    client.force_login(supervisor)

    floor = client.get(reverse("floor")).content.decode()
    monitor = client.get(reverse("monitor", args=[row.conversation_id])).content.decode()
    assert '<span class="contact-name">+1 415-555-0100</span>' in floor
    assert '<span class="contact-name">+1 415-555-0100</span>' in monitor


def test_the_agents_board_names_an_unnamed_customer_by_their_number(
    client, supervisor, agent_a, service_a
):
    InteractionFactory(
        conversation__agent=agent_a,
        conversation__service=service_a,
        conversation__contact__first_name="",
        conversation__contact__last_name="",
        service=service_a,
        customer_address="+14155550100",
    )
    client.force_login(supervisor)
    (row,) = [
        r for r in client.get(reverse("floor")).context["agents_page"] if r.user_id == agent_a.pk
    ]
    assert [work.contact_name for work in row.work] == ["+1 415-555-0100"]
