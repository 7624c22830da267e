"""Spanish in real Chromium (browser locale es-ES): the agent desktop and the customer's chat
widget carry no English, including the text their scripts write (chat notices, queue position,
delivery states, typing, timers, errors, the launcher's label). Each page's live DOM (and the
widget's shadow DOM) is scanned against the message catalogue like the server-rendered pages in
tests/contactcenter/test_i18n.py."""

import re

import pytest
from playwright.sync_api import expect

from channels_app.models import WebChatSettings
from tests.channels_app.webchat.factories import ChatEntryPointFactory
from tests.support.browser import close_context, login, wait_until_live
from tests.support.i18n_scan import english_on_page, visible_texts

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What people typed or configured in this test (not UI text).
DATA = (
    "Agent agent_a",
    "agent_a",
    "Service A",
    "Chat web",
    "Ayuda",
    "Ana Torres",
    "ana@example.es",
    "¿Dónde está mi pedido?",
    "Lo miro ahora mismo, Ana.",
    "Gracias",
)


@pytest.fixture
def spanish(browser):
    """Open Chromium contexts whose language is Spanish (Accept-Language, navigator.language);
    every dialog a page opens is recorded (its text is scanned too) and dismissed."""
    contexts, dialogs = [], []

    def new_page():
        context = browser.new_context(locale="es-ES")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()

        def on_dialog(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    new_page.dialogs = dialogs
    yield new_page
    for context in contexts:
        close_context(context)


@pytest.fixture
def web_chat(service_a):
    entry_point = ChatEntryPointFactory(name="Chat web", address="web", service=service_a)
    WebChatSettings.objects.create(entry_point=entry_point, title="Ayuda")
    return entry_point


def assert_no_english(html: str, where: str) -> None:
    texts = visible_texts(html)
    assert [text for text in texts if text.strip()], f"{where}: nothing to scan"
    assert english_on_page(texts, data=DATA) == [], where


def scan_page(page, where: str) -> None:
    assert_no_english(page.content(), where)


def scan_widget(page, where: str) -> None:
    """The launcher (shadow DOM on the website's page) and the chat in its iframe."""
    launcher = page.evaluate(
        "() => { const host = document.querySelector('[data-cc-chat]');"
        " return host && host.shadowRoot ? host.shadowRoot.innerHTML : ''; }"
    )
    assert_no_english(launcher, f"{where} (launcher)")
    frame = next(frame for frame in page.frames if "/chat/web/" in frame.url)
    assert_no_english(frame.content(), f"{where} (chat)")


def test_desktop_and_chat_widget_speak_spanish_in_chromium(spanish, asgi_server, web_chat, agent_a):
    agent = spanish()
    login(agent, asgi_server.url, agent_a.username)
    expect(agent.locator("html")).to_have_attribute("lang", "es")
    expect(agent.locator("aside h2")).to_have_text("Conversaciones activas")
    scan_page(agent, "desktop, no conversation")

    # The customer opens the widget on a website (the demo page, in the browser's language).
    customer = spanish()
    customer.goto(f"{asgi_server.url}/chat/web/demo/")
    launcher = customer.locator("[data-cc-chat] button.launcher")
    expect(launcher).to_have_text("Chatee con nosotros")
    launcher.click()
    chat = customer.frame_locator("[data-cc-chat] iframe")
    expect(chat.locator("body")).to_have_attribute("data-connection", "live")
    expect(chat.locator("#chat-prechat")).to_be_visible()
    scan_widget(customer, "widget, pre-chat form")

    # Pre-chat errors come from the server, in Spanish.
    chat.locator("#prechat-form button[type=submit]").click()
    expect(chat.locator('[data-error-for="prechat-email"]')).to_be_visible()
    scan_widget(customer, "widget, pre-chat errors")

    chat.locator("#id_prechat-name").fill("Ana Torres")
    chat.locator("#id_prechat-email").fill("ana@example.es")
    chat.locator("#id_prechat-question").fill("¿Dónde está mi pedido?")
    chat.locator("#prechat-form button[type=submit]").click()
    line = chat.locator("#chat-transcript .chat-line-customer").first
    expect(line.locator(".chat-line-who")).to_have_text("Usted")
    expect(line.locator(".chat-line-status")).not_to_be_empty()
    scan_widget(customer, "widget, waiting for an agent")

    # The agent gets the offer (countdown written by the script) and takes it.
    offer = agent.locator("#conversation-list .offer").filter(has_text="Ana Torres")
    expect(offer.locator(".countdown")).to_have_text(re.compile(r"^\d+ s$"))
    scan_page(agent, "desktop, offer")
    offer.locator("button.accept").click()
    agent.wait_for_url(re.compile(rf"{re.escape(asgi_server.url)}/conversations/\d+/"))
    wait_until_live(agent)
    expect(chat.locator(".chat-notice-agent_joined")).to_have_text(
        "Agent agent_a se ha unido al chat."
    )
    expect(chat.locator("#chat-agent")).to_have_text("Está chateando con Agent agent_a")
    expect(line.locator(".chat-line-status")).to_have_text("Leído")

    # Typing both ways, replies both ways.
    chat.locator("#chat-input").press_sequentially("Gra")
    expect(agent.locator("#chat-customer-typing")).to_have_text("El cliente está escribiendo…")
    agent.locator("#composer-body").press_sequentially("Lo miro")
    expect(chat.locator("#chat-typing")).to_have_text("Agent agent_a está escribiendo…")
    scan_widget(customer, "widget, chatting")
    agent.locator("#composer-body").fill("Lo miro ahora mismo, Ana.")
    agent.locator("#composer button[type=submit]").click()
    expect(chat.locator("#chat-transcript .chat-line-agent")).to_have_count(1)
    chat.locator("#chat-input").fill("Gracias")
    chat.locator("#chat-input").press("Enter")
    expect(agent.locator("#timeline .message.inbound")).to_have_count(2)
    expect(agent.locator("#channel-panel .chat-info")).to_be_visible()
    scan_page(agent, "conversation workspace, chatting")

    # An error written by the script: an empty note is refused by the server.
    agent.locator("#composer-target").select_option("note|")
    agent.locator("#composer-body").fill("   ")
    agent.locator("#composer button[type=submit]").click()
    expect(agent.locator("#composer-error")).to_have_text("La nota está vacía.")
    scan_page(agent, "conversation workspace, error")

    # Logging out with work in hand asks first (in Spanish).
    agent.locator("#logout-form button[type=submit]").click()
    assert spanish.dialogs, "no confirmation was asked"
    assert english_on_page(spanish.dialogs, data=DATA) == []

    # The agent ends the chat; the customer sees it ended and asks for the transcript.
    agent.locator("form.js-end button[type=submit]").click()
    expect(chat.locator("#chat-ended")).to_be_visible()
    expect(chat.locator(".chat-notice-ended")).to_have_text("El agente ha finalizado el chat.")
    scan_widget(customer, "widget, chat ended")
    chat.locator("#id_transcript-email").fill("ana@example.es")
    chat.locator("#transcript-form button[type=submit]").click()
    expect(chat.locator("#transcript-done")).to_have_text(
        "Enviaremos la transcripción a ana@example.es."
    )
    scan_widget(customer, "widget, transcript requested")

    # Wrap-up on the desktop.
    expect(agent.locator("#wrap-up")).to_be_visible()
    scan_page(agent, "conversation workspace, wrap-up")
