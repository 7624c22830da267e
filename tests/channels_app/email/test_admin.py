"""Mailboxes in admin (Channels -> Entry points, channel Email): IMAP/SMTP settings with the
passwords write-only, never shown in a list or a form; changelists at a constant query count."""

import pytest
from django.urls import reverse

from channels_app.models import EmailMailbox, EmailReceipt, EmailSignature
from tests.factories import EntryPointFactory, ServiceFactory, UserFactory
from tests.utils import count_queries

pytestmark = pytest.mark.django_db

IMAP_PASSWORD = "imap-Pa55-word!"
SMTP_PASSWORD = "smtp-Pa55-word!"


def inline_data(entry_point, **mailbox) -> dict:
    data = {
        "name": entry_point.name,
        "channel": "email",
        "address": entry_point.address,
        "service": entry_point.service_id,
        "active": "on",
        "mailbox-TOTAL_FORMS": "1",
        "mailbox-INITIAL_FORMS": "1" if EmailMailbox.objects.exists() else "0",
        "mailbox-MIN_NUM_FORMS": "0",
        "mailbox-MAX_NUM_FORMS": "1",
        "mailbox-0-entry_point": entry_point.pk,
        "mailbox-0-from_name": "Support",
        "mailbox-0-language": "",
        "mailbox-0-imap_host": "imap.example.com",
        "mailbox-0-imap_port": "993",
        "mailbox-0-imap_security": "ssl",
        "mailbox-0-imap_username": "support",
        "mailbox-0-imap_password": "",
        "mailbox-0-imap_folder": "INBOX",
        "mailbox-0-smtp_host": "smtp.example.com",
        "mailbox-0-smtp_port": "587",
        "mailbox-0-smtp_security": "starttls",
        "mailbox-0-smtp_username": "support",
        "mailbox-0-smtp_password": "",
    }
    if EmailMailbox.objects.exists():
        data["mailbox-0-id"] = EmailMailbox.objects.get().pk
    data.update({f"mailbox-0-{key}": value for key, value in mailbox.items()})
    return data


def test_mailbox_passwords_are_write_only_and_kept_when_left_empty(admin_client):
    entry_point = EntryPointFactory(channel="email", address="support@example.com")
    url = reverse("admin:channels_app_entrypoint_change", args=[entry_point.pk])

    response = admin_client.post(
        url, inline_data(entry_point, imap_password=IMAP_PASSWORD, smtp_password=SMTP_PASSWORD)
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    mailbox = EmailMailbox.objects.get()
    assert (mailbox.imap_password, mailbox.smtp_password) == (IMAP_PASSWORD, SMTP_PASSWORD)

    page = admin_client.get(url).content.decode()
    assert IMAP_PASSWORD not in page and SMTP_PASSWORD not in page
    assert 'name="mailbox-0-imap_password"' in page  # can be replaced, never read

    assert admin_client.post(url, inline_data(entry_point)).status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.imap_password, mailbox.smtp_password) == (IMAP_PASSWORD, SMTP_PASSWORD)
    assert IMAP_PASSWORD not in repr(mailbox) + str(mailbox)

    listing = admin_client.get(reverse("admin:channels_app_entrypoint_changelist"))
    assert IMAP_PASSWORD not in listing.content.decode()


@pytest.mark.parametrize("model", ["emailsignature", "emailreceipt"])
def test_email_changelists_cost_the_same_with_2_and_20_rows(admin_client, model):
    def create(count):
        for _ in range(count):
            if model == "emailsignature":
                EmailSignature.objects.create(
                    service=ServiceFactory(), agent=UserFactory(), text="{{ agent.name }}"
                )
            else:
                EmailReceipt.objects.create(
                    message_id=f"m{EmailReceipt.objects.count()}@x",
                    kind="ignored",
                    entry_point=EntryPointFactory(channel="email"),
                )

    url = reverse(f"admin:channels_app_{model}_changelist")
    create(2)
    admin_client.get(url)
    two = count_queries(lambda: admin_client.get(url))
    create(18)
    assert admin_client.get(url).status_code == 200
    assert count_queries(lambda: admin_client.get(url)) == two
