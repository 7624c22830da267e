"""Email on the agent's pages: attachments downloadable and the formatted version viewable only by
those who may see the conversation; the formatted version sanitized and served inert; timelines
show the email's details in a constant number of queries."""

import pytest
from django.urls import reverse

from channels_app.email.services import email_receive
from conversations import services
from conversations.models import Message
from tests.utils import count_queries

from .mail import customer_email

pytestmark = pytest.mark.django_db

HOSTILE_HTML = """
<p onclick="alert('click')" style="color:red;background:url(https://tracker.example/bg.png)">
Hello <b>agent</b>
<script>alert('script')</script>
<a href="javascript:alert('link')">click me</a>
<a href="https://example.com/help">help</a>
<img src="https://tracker.example/pixel.gif" onerror="alert('img')">
<img src="cid:logo@mail.test" alt="logo">
<iframe src="https://evil.example/"></iframe>
<form action="https://evil.example/"><input name="x"></form>
<svg onload="alert('svg')"></svg>
<style>body { background: url(https://tracker.example/css.png) }</style>
</p>"""


@pytest.fixture
def hostile_email(email_entry_point_a, agent_a, run_on_commit):
    message = run_on_commit(
        lambda: email_receive(
            raw=customer_email(
                html=HOSTILE_HTML,
                inline_images=[("logo@mail.test", "image/png", b"\x89PNG\r\n\x1a\nlogo")],
                attachments=[
                    ("booking.pdf", "application/pdf", b"%PDF-1.4"),
                    ("photo.png", "image/png", b"\x89PNG\r\n\x1a\nphoto"),
                    ("drawing.svg", "image/svg+xml", b"<svg onload='alert(1)'/>"),
                ],
            )
        )
    ).message
    offer = message.interaction.offers.get(state="offered")
    services.offer_accept(offer_id=offer.pk, user=agent_a)
    return Message.objects.get(pk=message.pk)


def test_attachments_download_only_for_those_who_may_see_the_conversation(
    client, hostile_email, agent_a, agent_b, outsider, supervisor
):
    pdf = hostile_email.email_attachments.get(filename="booking.pdf")
    url = reverse("email-attachment", args=[pdf.pk])
    for user in (agent_b, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    for user in (agent_a, supervisor):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"%PDF-1.4"
        assert response["Content-Disposition"].startswith('attachment; filename="booking.pdf"')
        assert response["X-Content-Type-Options"] == "nosniff"


def test_images_show_inline_and_anything_scriptable_only_downloads(client, hostile_email, agent_a):
    client.force_login(agent_a)
    photo = hostile_email.email_attachments.get(filename="photo.png")
    response = client.get(reverse("email-attachment", args=[photo.pk]))
    assert response["Content-Type"] == "image/png"
    assert not response["Content-Disposition"].startswith("attachment")
    svg = hostile_email.email_attachments.get(filename="drawing.svg")
    response = client.get(reverse("email-attachment", args=[svg.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_formatted_version_is_inert_and_blocks_remote_images_until_asked(
    client, hostile_email, agent_a, agent_b
):
    url = reverse("email-html", args=[hostile_email.pk])
    client.force_login(agent_b)
    assert client.get(url).status_code == 404
    client.force_login(agent_a)

    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
    assert "img-src data:;" in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    for forbidden in ("<script", "onclick", "onerror", "onload", "javascript:", "<iframe", "<form"):
        assert forbidden not in html, forbidden
    assert "tracker.example" not in html  # no remote image, no CSS url()
    assert "https://example.com/help" in html  # a plain link stays
    assert 'src="data:image/png;base64,' in html  # the inline image, from the email itself

    allowed = client.get(url + "?images=1")
    assert "https://tracker.example/pixel.gif" in allowed.content.decode()
    assert "img-src data: https: http:;" in allowed["Content-Security-Policy"]
    assert "onerror" not in allowed.content.decode()


def test_the_timeline_shows_the_emails_details_with_the_frame_sandboxed(
    client, hostile_email, agent_a
):
    client.force_login(agent_a)
    page = client.get(reverse("conversation-detail", args=[hostile_email.conversation_id]))
    html = page.content.decode()
    assert "email-subject" in html and "My booking" in html
    assert (
        f'src="{reverse("email-html", args=[hostile_email.pk])}" '
        'sandbox="allow-popups allow-popups-to-escape-sandbox"'
    ) in html
    assert "Show remote images" in html
    pdf = hostile_email.email_attachments.get(filename="booking.pdf")
    assert reverse("email-attachment", args=[pdf.pk]) in html
    assert "<script>alert" not in html


def test_a_timeline_of_emails_reads_in_the_same_number_of_queries_for_2_and_20(
    client, email_entry_point_a, agent_a, run_on_commit
):
    first = run_on_commit(lambda: email_receive(raw=customer_email(body="one"))).message
    offer = first.interaction.offers.get(state="offered")
    services.offer_accept(offer_id=offer.pk, user=agent_a)
    run_on_commit(lambda: email_receive(raw=customer_email(body="two", html="<p>two</p>")))
    client.force_login(agent_a)
    url = reverse("conversation-messages", args=[first.conversation_id])
    two = count_queries(lambda: client.get(url))
    for index in range(18):
        email_receive(raw=customer_email(body=f"more {index}", html=f"<b>{index}</b>"))
    assert first.conversation.messages.count() == 20
    assert count_queries(lambda: client.get(url)) == two
    activity = reverse("contact-activity-timeline", args=[first.conversation_id]) + "?partial=1"
    assert "email-details" in client.get(activity).content.decode()


def test_reply_on_offers_email_to_the_contacts_addresses_and_to_another(
    client, agent_a, service_a, email_entry_point_a
):
    from conversations.models import Conversation, Interaction
    from tests.factories import ContactFactory, IdentityFactory

    contact = ContactFactory()
    IdentityFactory(contact=contact, kind="email", value="maria@example.com")
    conversation = Conversation.objects.create(contact=contact, service=service_a, agent=agent_a)
    Interaction.objects.create(
        conversation=conversation,
        channel="chat",
        direction="inbound",
        state="active",
        agent=agent_a,
        service=service_a,
    )
    client.force_login(agent_a)
    page = client.get(reverse("conversation-detail", args=[conversation.pk])).content.decode()
    assert 'value="email|maria@example.com"' in page
    assert "Send an email to maria@example.com" in page
    assert 'data-ask-address="1"' in page and "New email to another address…" in page
    assert 'id="email-composer"' in page
    assert f"[{conversation.number}]" in page  # the default subject carries the case number

    email_entry_point_a.delete()  # a service that cannot send email offers none
    page = client.get(reverse("conversation-detail", args=[conversation.pk])).content.decode()
    assert "email|" not in page and 'id="email-composer"' not in page
