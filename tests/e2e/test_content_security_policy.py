"""Issue 16, item 5, in real Chromium: every page is served with a strict Content-Security-Policy
(no inline script or style) and none of them breaks it: no violation is reported while the
desktop, contacts, supervisor, admin, API docs, login and chat pages load and run, nor by the
chat widget embedded on a website of another origin."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from channels_app.models import WebChatSettings
from tests.channels_app.webchat.factories import ChatEntryPointFactory
from tests.factories import ContactFactory, IdentityFactory, InteractionFactory, UserFactory
from tests.support.browser import close_context, login
from tests.support.live_server import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WATCH = """
(() => {
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    const where = `${event.sourceFile}:${event.lineNumber}`;
    window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
  });
})();
"""


class Watcher:
    """Collects CSP violations (events in every frame, and console reports) of a context."""

    def __init__(self, context) -> None:
        self.context = context
        self.console: list[str] = []
        context.add_init_script(WATCH)

    def page(self):
        page = self.context.new_page()
        page.on(
            "console",
            lambda message: (
                self.console.append(message.text)
                if "Content Security Policy" in message.text
                or "Content-Security-Policy" in message.text
                else None
            ),
        )
        return page

    def violations(self, page) -> list[str]:
        found = list(self.console)
        for frame in page.frames:
            try:
                found += frame.evaluate("() => window.__csp || []")
            except Exception as exc:  # a frame that navigated away meanwhile
                found.append(f"(frame {frame.url} unreadable: {exc})")
        return found


def visit(watcher: Watcher, page, url: str, ready: str = "body") -> None:
    response = page.goto(url)
    assert response.status == 200, (url, response.status)
    header = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in header and "unsafe-inline" not in header, (url, header)
    expect(page.locator(ready).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert watcher.violations(page) == [], url


@pytest.fixture
def website_chat(service_a):
    entry_point = ChatEntryPointFactory(name="Website chat", address="website", service=service_a)
    WebChatSettings.objects.create(entry_point=entry_point, allowed_origins="*")
    return entry_point


def test_no_page_of_an_agent_breaks_the_policy(browser, asgi_server, agent_a, website_chat):
    conversation = InteractionFactory(conversation__agent=agent_a, channel="chat").conversation
    contact = ContactFactory(first_name="Ana")
    IdentityFactory(contact=contact)
    watcher = Watcher(browser.new_context())
    page = watcher.page()
    try:
        login(page, asgi_server.url, agent_a.username)
        assert watcher.violations(page) == []
        base = asgi_server.url
        visit(watcher, page, f"{base}/", "#conversation-list")
        visit(watcher, page, f"{base}/conversations/{conversation.pk}/", "#timeline")
        visit(watcher, page, f"{base}/contacts/", "main")
        visit(watcher, page, f"{base}/contacts/{contact.pk}/", "main")
        visit(watcher, page, f"{base}/api/docs/", ".swagger-ui .info")
        visit(watcher, page, f"{base}/chat/website/", "#prechat-form")
    finally:
        close_context(watcher.context)


def test_no_admin_or_supervisor_page_breaks_the_policy(browser, asgi_server):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    watcher = Watcher(browser.new_context())
    page = watcher.page()
    base = asgi_server.url
    try:
        visit(watcher, page, f"{base}/accounts/login/", "#id_username")
        login(page, base, "root")
        visit(watcher, page, f"{base}/supervisor/queues/", "main")
        visit(watcher, page, f"{base}/admin/", "#content")
        visit(watcher, page, f"{base}/admin/conversations/conversation/", "#changelist")
        visit(watcher, page, f"{base}/admin/contactcenter/apitoken/add/", "#apitoken_form")
        visit(
            watcher,
            page,
            f"{base}/admin/contactcenter/webhooksubscription/add/",
            "#webhooksubscription_form",
        )
        visit(watcher, page, f"{base}/admin/conversations/service/add/", "#service_form")
    finally:
        close_context(watcher.context)


HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Shop</h1>
<script src="{server}/static/webchat/widget.js" data-entry-point="website" async></script>
</body></html>"""


@pytest.fixture
def other_origin_site(asgi_server):
    """A customer's website on another origin (http://localhost:<port>), with the widget."""
    body = HOST_PAGE.format(server=asgi_server.url).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_the_widget_on_another_origin_and_the_demo_page_break_no_policy(
    browser, asgi_server, website_chat, other_origin_site
):
    watcher = Watcher(browser.new_context())
    page = watcher.page()
    try:
        page.goto(other_origin_site)
        launcher = page.locator("[data-cc-chat] button.launcher")
        expect(launcher).to_be_visible()
        launcher.click()
        chat = page.frame_locator("[data-cc-chat] iframe")
        expect(chat.locator("body")).to_have_attribute("data-connection", "live")
        page.wait_for_load_state("networkidle")
        assert watcher.violations(page) == []

        visit(watcher, page, f"{asgi_server.url}/chat/website/demo/", "h1")
        launcher = page.locator("[data-cc-chat] button.launcher")
        expect(launcher).to_be_visible()
        launcher.click()
        chat = page.frame_locator("[data-cc-chat] iframe")
        expect(chat.locator("body")).to_have_attribute("data-connection", "live")
        assert watcher.violations(page) == []
    finally:
        close_context(watcher.context)
