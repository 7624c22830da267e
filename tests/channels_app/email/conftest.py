"""Fixtures of the email tests: a mailbox of service A, real SMTP (aiosmtpd) and IMAP (Dovecot)
servers on loopback ports, files under a temporary MEDIA_ROOT, and raw customer emails."""

import pytest

from channels_app.models import EmailMailbox
from tests.factories import EntryPointFactory
from tests.support.fixtures import require
from tests.support.mail_servers import Dovecot, SmtpStandIn

from .mail import SECRET

SUPPORT = "support@example.com"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def email_settings(settings):
    settings.EMAIL_INBOUND_SECRET = SECRET
    settings.EMAIL_HOST = ""
    return settings


@pytest.fixture
def email_entry_point_a(service_a, email_settings):
    return EntryPointFactory(
        name="Support email", channel="email", address=SUPPORT, service=service_a
    )


@pytest.fixture
def smtp_server():
    with SmtpStandIn() as server:
        yield server


@pytest.fixture
def smtp_settings(email_settings, smtp_server):
    """Outbound email goes to the SMTP stand-in (the server's default SMTP settings)."""
    email_settings.EMAIL_HOST = "127.0.0.1"
    email_settings.EMAIL_PORT = smtp_server.port
    email_settings.EMAIL_USE_TLS = False
    email_settings.EMAIL_USE_SSL = False
    email_settings.EMAIL_HOST_USER = ""
    email_settings.EMAIL_HOST_PASSWORD = ""
    return email_settings


@pytest.fixture
def dovecot():
    require(Dovecot.available(), "Debian's dovecot-imapd is not installed (/usr/sbin/dovecot)")
    with Dovecot() as server:
        yield server


@pytest.fixture
def imap_mailbox(email_entry_point_a, dovecot):
    return EmailMailbox.objects.create(
        entry_point=email_entry_point_a,
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security=EmailMailbox.Security.NONE,
        imap_username=dovecot.username,
        imap_password=dovecot.password,
    )
