"""Email in real headless Chromium against the live server (and a Celery worker under Redis),
with a real SMTP server (aiosmtpd, in this process) the worker sends through, and customer
emails posted to the inbound webhook as an email service forwards them.

- Acceptance 4: hostile HTML (script, event handlers, javascript: links, remote images) is shown
  inert on the desktop and in the contact's Activities: no dialog, no request to the remote host
  until the agent asks for remote images.
- Acceptance 5: during a chat the agent emails the customer with an attachment, the customer
  answers by email, and Activities show one conversation with its chat and email interactions.
"""

import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from channels_app.models import EmailMailbox
from conversations.models import Conversation, Interaction, Message
from tests.channels_app.email.mail import SECRET, customer_email
from tests.factories import EntryPointFactory
from tests.support.browser import login, wait_until_live
from tests.support.live_server import free_port
from tests.support.mail_servers import SmtpStandIn

from .test_webchat import HostSite, accept_offer, fill_prechat, open_widget

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class RemoteHost:
    """Stands for the tracker a hostile email points at: records every request it gets."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requests.append(self.path)
                body = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "RemoteHost":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def live_server_env(live_server_env, media_root):
    """The server (and worker) keep files where this test reads them and take the webhook."""
    return {**live_server_env, "MEDIA_ROOT": str(media_root), "EMAIL_INBOUND_SECRET": SECRET}


@pytest.fixture
def smtp_server():
    with SmtpStandIn() as server:
        yield server


@pytest.fixture
def support_mailbox(service_a, smtp_server):
    """support@example.com, service A's mailbox, sending through the SMTP server above."""
    entry_point = EntryPointFactory(
        name="Support email", channel="email", address="support@example.com", service=service_a
    )
    return EmailMailbox.objects.create(
        entry_point=entry_point,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security=EmailMailbox.Security.NONE,
    )


@pytest.fixture
def remote_host():
    with RemoteHost() as host:
        yield host


def post_email(server, raw: bytes) -> dict:
    request = urllib.request.Request(
        f"{server.url}/webhooks/email/inbound/",
        data=raw,
        headers={"Content-Type": "message/rfc822", "X-Email-Secret": SECRET},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        import json

        return json.loads(response.read())


def watch(page, remote_host) -> list[str]:
    """Dialogs opened and requests made to the remote host by the page (and its frames)."""
    seen: list[str] = []
    page.on("dialog", lambda dialog: (seen.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on(
        "request",
        lambda request: (
            seen.append(f"request: {request.url}")
            if request.url.startswith(remote_host.url)
            else None
        ),
    )
    return seen


HOSTILE_HTML = """<div>
<p onmouseover="alert('mouseover')" onclick="alert('click')">Hello, please see <b>below</b>.</p>
<script>alert('script'); document.title = 'pwned';</script>
<a id="evil-link" href="javascript:alert('link')">Click for your refund</a>
<img id="pixel" src="{remote}/pixel.gif" onerror="alert('onerror')">
<img src="x" onerror="alert('broken image')">
<p style="background-image: url({remote}/background.png)">Styled</p>
<svg><script>alert('svg')</script></svg>
<iframe src="javascript:alert('frame')"></iframe>
<form action="{remote}/steal"><input name="card"><button>Pay</button></form>
</div>"""


def expect_inert(frame_locator) -> None:
    """The formatted version shows its text and nothing active is left in it."""
    expect(frame_locator.locator("p").first).to_contain_text("Hello, please see below.")
    for selector in ("script", "iframe", "form", "[onclick]", "[onerror]", "[onmouseover]"):
        expect(frame_locator.locator(selector)).to_have_count(0)
    expect(frame_locator.locator("a", has_text="Click for your refund")).not_to_have_attribute(
        "href", re.compile("javascript", re.IGNORECASE)
    )
    expect(frame_locator.locator("#pixel")).to_have_count(0)  # remote image removed...


def test_hostile_html_email_is_inert_on_the_desktop_and_in_activities(
    page, asgi_server, support_mailbox, agent_a, service_a, remote_host
):
    service_a.auto_accept_channels = ["email"]
    service_a.save(update_fields=["auto_accept_channels"])
    login(page, asgi_server.url, agent_a.username)
    seen = watch(page, remote_host)

    result = post_email(
        asgi_server,
        customer_email(
            subject="Refund <script>alert('subject')</script>",
            body="Hello, please see below.",
            html=HOSTILE_HTML.format(remote=remote_host.url),
        ),
    )
    conversation = Conversation.objects.get(pk=result["conversation_id"])
    item = page.locator(f'#conversation-list [data-conversation-id="{conversation.pk}"] a')
    item.click()
    page.wait_for_url(f"{asgi_server.url}/conversations/{conversation.pk}/")
    wait_until_live(page)

    email_row = page.locator("#timeline .message.inbound").first
    expect(email_row.locator(".email-subject")).to_have_text(
        "Refund <script>alert('subject')</script>"
    )
    email_row.locator("details.email-html summary").click()
    frame = page.frame_locator(f'iframe[name="email-html-{result["message_id"]}"]')
    expect_inert(frame)
    page.mouse.move(0, 0)
    frame.locator("p").first.hover()
    frame.locator("p").first.click()
    assert page.title() != "pwned"

    # The contact's Activities show the same email, as inert.
    page.goto(f"{asgi_server.url}/contacts/{conversation.contact_id}/")
    activity = page.locator(f'li.activity[data-conversation-id="{conversation.pk}"]')
    activity.locator("details.activity-timeline > summary").click()
    activity.locator("details.email-html summary").click()
    expect_inert(activity.frame_locator("iframe.email-frame"))
    assert seen == [], seen
    assert remote_host.requests == []

    # Remote images come only when the agent asks for them.
    activity.locator("a.js-email-images").click()
    expect(activity.frame_locator("iframe.email-frame").locator("img").first).to_be_visible()
    assert any(path == "/pixel.gif" for path in remote_host.requests), remote_host.requests
    assert [entry for entry in seen if entry.startswith("dialog")] == []


def test_during_a_chat_the_agent_emails_an_attachment_and_the_reply_lands_in_the_conversation(
    page, chat_customer, asgi_server, support_mailbox, smtp_server, agent_a, service_a, tmp_path
):
    with HostSite(asgi_server.url) as site:
        from channels_app.models import WebChatSettings
        from tests.channels_app.webchat.factories import ChatEntryPointFactory

        chat_entry = ChatEntryPointFactory(
            name="Website chat", address="website", service=service_a
        )
        WebChatSettings.objects.create(
            entry_point=chat_entry, title="Help", allowed_origins=site.origin
        )
        login(page, asgi_server.url, agent_a.username)
        chat = open_widget(chat_customer, site)
        fill_prechat(chat, "Can you send me my booking?")
        accept_offer(page, asgi_server)
        conversation_url = page.url

        # Reply on: an email to the address the customer gave in the chat.
        target = page.locator("#composer-target")
        target.select_option(label="Send an email to maria@example.com")
        expect(page.locator("#email-composer")).to_be_visible()
        page.locator("#email-subject").fill("Your booking")
        attachment = tmp_path / "booking.pdf"
        attachment.write_bytes(b"%PDF-1.4 booking 42")
        page.locator("#email-attachments").set_input_files(str(attachment))
        page.locator("#composer-body").fill("Here is your booking, **see attached**.")
        page.locator("#composer button[type=submit]").click()

        (sent,) = smtp_server.wait_for(1, timeout=30)
        page.wait_for_url(conversation_url)
        wait_until_live(page)
        conversation = Conversation.objects.get()
        assert sent.rcpt_tos == ["maria@example.com"]
        assert sent.message["Subject"] == f"Your booking [{conversation.number}]"
        (file,) = list(sent.message.iter_attachments())
        assert (file.get_filename(), file.get_content()) == ("booking.pdf", b"%PDF-1.4 booking 42")
        outbound = page.locator("#timeline .message.outbound.kind-text").filter(
            has_text="Here is your booking"
        )
        expect(outbound.locator('.status[data-status="sent"]')).to_be_visible()
        expect(outbound.locator("a.attachment")).to_have_text("booking.pdf")

        # The customer answers from their mail client; it shows up live.
        post_email(
            asgi_server,
            customer_email(
                subject=f"Re: {sent.message['Subject']}",
                body="Got it, thank you!\n\nOn Monday, Support wrote:\n> Here is your booking",
                in_reply_to=f"<{sent.message_id}>",
            ),
        )
        reply = page.locator("#timeline .message.inbound.kind-text").filter(
            has_text="Got it, thank you!"
        )
        expect(reply).to_have_count(1)
        expect(reply.locator(".channel-email")).to_be_visible()

    # One conversation, with its chat and email interactions, in the contact's Activities.
    assert Conversation.objects.count() == 1
    channels = set(conversation.interactions.values_list("channel", flat=True))
    assert channels == {"chat", "email"}
    assert Interaction.objects.filter(conversation=conversation, channel="email").count() == 1
    assert Message.objects.filter(conversation=conversation, channel="email").count() == 2
    page.goto(f"{asgi_server.url}/contacts/{conversation.contact_id}/")
    activities = page.locator("li.activity")
    expect(activities).to_have_count(1)
    activity = activities.first
    expect(activity.locator(".case-number")).to_have_text(conversation.number)
    expect(activity.locator(".activity-header .channel-chat")).to_be_visible()
    expect(activity.locator(".activity-header .channel-email")).to_be_visible()
    activity.locator("details.activity-timeline > summary").click()
    timeline = activity.locator(".timeline-body")
    expect(timeline.locator(".legs .channel-chat")).to_have_count(1)
    expect(timeline.locator(".legs .channel-email")).to_have_count(1)
    expect(
        timeline.locator(".message.kind-text", has_text="Can you send me my booking?")
    ).to_be_visible()
    expect(timeline.locator(".message.kind-text", has_text="Got it, thank you!")).to_be_visible()
    link = timeline.locator("a.attachment", has_text="booking.pdf")
    expect(link).to_be_visible()
    download = page.request.get(f"{asgi_server.url}{link.get_attribute('href')}")
    assert download.status == 200 and download.body() == b"%PDF-1.4 booking 42"
