"""One lifecycle for every channel, seen from the customer's widget: every step the agents take
(offer, accept, transfer, conference join and leave, end) reaches the widget at once, with the
right words, though nothing polls — no beat runs here and the widget has no sync loop."""

from playwright.sync_api import expect

from channels_app.models import ChatSession
from conversations.models import AgentProfile, AgentState
from tests.factories import AgentProfileFactory
from tests.support.browser import close_context, login, wait_until_live

from .desktop import open_chat, start_chat

PROMPTLY = 2_000  # ms: an event on commit, not a poll (the old widget re-checked every 3 s)


def agent_desktop(browser, server, username):
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, server.url, username)
    return page


def accept_offer(page, server):
    offer = page.locator("#conversation-list .offer")
    expect(offer).to_have_count(1)
    offer.locator("button.accept").click()
    page.wait_for_url(f"{server.url}/conversations/*/")
    wait_until_live(page)


def post_form(page, form_selector: str) -> None:
    page.locator(f"{form_selector} button[type=submit]").click()


def test_the_widget_is_told_each_step_of_the_conversation_promptly_and_truly(
    browser, page, chat_customer, shared_asgi_server, agent_a, service_a, website_chat_a
):
    server = shared_asgi_server
    blair = AgentProfileFactory(
        user__username="blair", display_name="Blair", services=[service_a], state="not_ready"
    ).user
    AgentProfile.objects.filter(user=agent_a).update(display_name="Alex")
    alex = page
    login(alex, server.url, agent_a.username)
    AgentProfile.objects.filter(user=blair).update(state=AgentState.NOT_READY)
    blair_page = agent_desktop(browser, server, blair.username)

    chat = open_chat(chat_customer, server)
    start_chat(chat, "My order is late", name="Maria García", email="maria@example.com")
    queue = chat.locator("#chat-queue")
    header = chat.locator("#chat-agent")
    notices = chat.locator("#chat-transcript .chat-notice")

    # Offered to Alex (Blair is Not Ready): the customer is being connected.
    expect(queue).to_have_text("Connecting you to an agent…", timeout=PROMPTLY * 3)
    accept_offer(alex, server)
    expect(header).to_have_text("You are chatting with Alex", timeout=PROMPTLY)
    expect(notices.last).to_have_text("Alex joined the chat.", timeout=PROMPTLY)
    expect(queue).to_be_hidden()

    # Transfer to Blair: told as a transfer (not "Alex left, back in the queue").
    blair_page.select_option("#agent-state", label="Ready")
    expect(blair_page.locator("#agent-state")).to_have_attribute("data-state", "ready")
    alex.locator("details.menu:has(#transfer-target) > summary").click()
    alex.select_option("#transfer-target", label="Blair")
    post_form(alex, "form.js-transfer")
    accept_offer(blair_page, server)
    expect(notices.last).to_have_text("Alex transferred you to Blair.", timeout=PROMPTLY)
    expect(header).to_have_text("You are chatting with Blair", timeout=PROMPTLY)
    assert not notices.filter(has_text="back in the queue").count()

    # Conference: Blair invites Alex, Alex joins, then leaves.
    alex.goto(f"{server.url}/")
    wait_until_live(alex)
    blair_page.locator("details.menu:has(#conference-agent) > summary").click()
    blair_page.select_option("#conference-agent", label="Alex")
    post_form(blair_page, "form[action$='/conference/']")
    accept_offer(alex, server)
    expect(notices.last).to_have_text("Alex joined the chat too.", timeout=PROMPTLY)
    # Each desktop shows the other under "Also here", live, and only the guest may leave.
    expect(alex.locator(".participants")).to_have_text("Also here: Blair")
    expect(blair_page.locator(".participants")).to_have_text("Also here: Alex")
    post_form(alex, "form.js-leave")
    expect(notices.last).to_have_text("Alex left the chat.", timeout=PROMPTLY)
    expect(blair_page.locator(".participants")).to_have_count(0)
    expect(blair_page.locator("form.js-leave")).to_have_count(0)

    # Blair ends it: the widget says so, and its header too.
    post_form(blair_page, "form.js-end")
    expect(notices.last).to_have_text("The agent ended the chat.", timeout=PROMPTLY)
    expect(header).to_have_text("Chat ended", timeout=PROMPTLY)
    expect(chat.locator("#chat-ended")).to_be_visible()
    assert ChatSession.objects.get().state == "ended"
    close_context(blair_page.context)


def test_logging_out_is_logged_out_everywhere_and_logging_in_is_the_configured_state(
    browser, page, chat_customer, shared_asgi_server, agent_a, supervisor, website_chat_a
):
    server = shared_asgi_server
    AgentProfile.objects.filter(user=supervisor).update(state=AgentState.LOGGED_OUT)
    login(page, server.url, agent_a.username)
    page.locator("#logout-form button[type=submit]").click()
    page.wait_for_url(f"{server.url}/accounts/login/")

    profile = AgentProfile.objects.get(user=agent_a)
    assert (profile.state, profile.not_ready_reason) == (AgentState.LOGGED_OUT, "")
    # A customer gets the offline message form, not a queue...
    chat = open_chat(chat_customer, server)
    expect(chat.locator("#chat-offline")).to_be_visible()
    expect(chat.locator("#offline-heading")).to_have_text("Nobody is available to chat right now.")
    # ... and the supervisor's floor view shows the agent as logged out (the supervisor, a member
    # of the service's team, logs in after: they would be someone to wait for).
    boss = agent_desktop(browser, server, supervisor.username)
    boss.goto(f"{server.url}/supervisor/")
    row = boss.locator(f'.agent-row[data-agent-id="{agent_a.pk}"]')
    expect(row).to_have_attribute("data-state", "logged_out")
    expect(row.locator(".agent-state")).to_contain_text("Logged out")

    # Logging in again: Not Ready (no default reason configured) ...
    login(page, server.url, agent_a.username)
    expect(page.locator("#agent-state")).to_have_attribute("data-state", "not_ready")
    page.locator("#logout-form button[type=submit]").click()
    page.wait_for_url(f"{server.url}/accounts/login/")
    # ... or Ready, for an agent whose profile says so.
    AgentProfile.objects.filter(user=agent_a).update(ready_on_login=True)
    login(page, server.url, agent_a.username)
    expect(page.locator("#agent-state")).to_have_attribute("data-state", "ready")
    close_context(boss.context)
