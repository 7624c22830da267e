"""IMAP polling against a real Dovecot: every message processed once (UIDVALIDITY + last UID,
re-fetches deduplicated by Message-ID) even when a poll is interrupted or killed, the same email
by webhook and IMAP stored once, IDLE announcing new mail, errors recorded without secrets."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from channels_app.email import imap
from channels_app.email.imap import mailbox_poll, mailbox_wait_for_mail
from channels_app.models import EmailMailbox
from channels_app.tasks import email_poll_mailboxes
from conversations.models import Conversation, Message
from tests.support.live_server import REPO_ROOT, database_env, subprocess_env

from .mail import SECRET, customer_email

pytestmark = pytest.mark.django_db


def emails(count: int, *, prefix: str = "m") -> list[bytes]:
    return [
        customer_email(
            body=f"Message number {index}",
            message_id=f"<{prefix}{index}@mail.test>",
            sender=f"Customer {index} <customer{index}@example.com>",
        )
        for index in range(count)
    ]


def test_a_poll_stores_new_mail_once_and_remembers_where_it_stopped(
    imap_mailbox, dovecot, run_on_commit
):
    for raw in emails(3):
        dovecot.append(raw)

    report = run_on_commit(lambda: mailbox_poll(mailbox_id=imap_mailbox.pk))

    assert (report.stored, report.duplicates, report.error) == (3, 0, "")
    assert sorted(Message.objects.values_list("provider_id", flat=True)) == [
        "m0@mail.test",
        "m1@mail.test",
        "m2@mail.test",
    ]
    assert Conversation.objects.count() == 3
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_last_uid == max(dovecot.uids())
    assert imap_mailbox.imap_uidvalidity is not None
    assert imap_mailbox.poll_lease_until is None and imap_mailbox.last_error == ""

    dovecot.append(emails(4)[3])
    again = mailbox_poll(mailbox_id=imap_mailbox.pk)
    assert (again.fetched, again.stored) == (1, 1)  # only what is new is fetched
    assert Message.objects.count() == 4


def test_the_same_email_by_webhook_and_by_imap_is_stored_once(
    client, imap_mailbox, dovecot, run_on_commit
):
    raw = customer_email(message_id="<both-ways@mail.test>")
    response = client.post(
        "/webhooks/email/inbound/", raw, content_type="message/rfc822", HTTP_X_EMAIL_SECRET=SECRET
    )
    assert response.json()["duplicate"] is False
    dovecot.append(raw)

    report = run_on_commit(lambda: mailbox_poll(mailbox_id=imap_mailbox.pk))

    assert (report.fetched, report.stored, report.duplicates) == (1, 0, 1)
    assert Message.objects.count() == 1


def test_a_poll_interrupted_between_storing_and_remembering_stores_each_message_once(
    imap_mailbox, dovecot, monkeypatch
):
    for raw in emails(5):
        dovecot.append(raw)
    advance = imap.mailbox_cursor_advance
    calls = []

    def crash_on_the_third(**kwargs):
        calls.append(kwargs["uid"])
        if len(calls) == 3:
            raise SystemExit("worker killed")  # after the third email was stored
        return advance(**kwargs)

    monkeypatch.setattr(imap, "mailbox_cursor_advance", crash_on_the_third)
    with pytest.raises(SystemExit):
        mailbox_poll(mailbox_id=imap_mailbox.pk)
    assert Message.objects.count() == 3
    monkeypatch.setattr(imap, "mailbox_cursor_advance", advance)

    report = mailbox_poll(mailbox_id=imap_mailbox.pk)

    assert (report.fetched, report.duplicates, report.stored) == (3, 1, 2)
    assert Message.objects.count() == 5
    assert len(set(Message.objects.values_list("provider_id", flat=True))) == 5


@pytest.mark.django_db(transaction=True)
def test_a_poll_killed_half_way_and_run_again_stores_each_message_once(
    imap_mailbox, dovecot, media_root
):
    total = 120
    for raw in emails(total):
        dovecot.append(raw)
    env = subprocess_env(
        {
            **database_env(connection.settings_dict),
            "REDIS_URL": "",  # the poller runs its jobs in-process
            "MEDIA_ROOT": str(media_root),
        }
    )
    poller = subprocess.Popen(
        [sys.executable, "manage.py", "email_poll", "--address", "support@example.com"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while Message.objects.count() < 5:
            assert poller.poll() is None, poller.stdout.read().decode()
            assert time.monotonic() < deadline, "the poller stored nothing"
            time.sleep(0.05)
    finally:
        os.kill(poller.pid, signal.SIGKILL)
        poller.wait(timeout=10)
    stored_at_kill = Message.objects.count()
    assert 5 <= stored_at_kill < total, "the poll was not killed half-way"
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.poll_lease_until is not None  # the killed poll still holds its lease
    assert mailbox_poll(mailbox_id=imap_mailbox.pk).busy

    with time_machine.travel(timezone.now() + timedelta(seconds=imap.LEASE_SECONDS + 5)):
        report = mailbox_poll(mailbox_id=imap_mailbox.pk, limit=total)

    assert report.error == ""
    assert Message.objects.count() == total
    assert len(set(Message.objects.values_list("provider_id", flat=True))) == total
    assert report.stored == total - stored_at_kill
    assert report.duplicates <= 1  # at most the one stored just before the cursor moved


def test_a_new_uidvalidity_fetches_again_and_stores_nothing_twice(imap_mailbox, dovecot):
    imap_mailbox.imap_folder = "INBOX.Archive"
    imap_mailbox.save()
    dovecot.recreate("INBOX.Archive")
    messages = emails(2)
    for raw in messages:
        dovecot.append(raw, folder="INBOX.Archive")
    mailbox_poll(mailbox_id=imap_mailbox.pk)
    imap_mailbox.refresh_from_db()
    first_validity = imap_mailbox.imap_uidvalidity

    dovecot.recreate("INBOX.Archive")  # the folder was rebuilt: same emails, new UIDs
    for raw in [*messages, emails(3)[2]]:
        dovecot.append(raw, folder="INBOX.Archive")
    report = mailbox_poll(mailbox_id=imap_mailbox.pk)

    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_uidvalidity != first_validity
    assert (report.fetched, report.duplicates, report.stored) == (3, 2, 1)
    assert Message.objects.count() == 3


def test_what_is_not_an_email_is_passed_over_and_the_mailbox_keeps_flowing(imap_mailbox, dovecot):
    dovecot.append(b"Subject: no sender at all\r\n\r\njunk\r\n")
    dovecot.append(emails(1)[0])
    report = mailbox_poll(mailbox_id=imap_mailbox.pk)
    assert (report.rejected, report.stored) == (1, 1)
    imap_mailbox.refresh_from_db()
    assert imap_mailbox.imap_last_uid == 2


def test_a_wrong_password_is_recorded_without_the_password(imap_mailbox, dovecot, caplog):
    EmailMailbox.objects.filter(pk=imap_mailbox.pk).update(imap_password="Wr0ng-passw0rd")
    dovecot.append(emails(1)[0])
    report = mailbox_poll(mailbox_id=imap_mailbox.pk)
    imap_mailbox.refresh_from_db()
    assert report.error and imap_mailbox.last_error == report.error[:500]
    assert "AUTHENTICATIONFAILED" in report.error or "failed" in report.error.lower()
    assert "Wr0ng-passw0rd" not in report.error
    assert "Wr0ng-passw0rd" not in caplog.text
    assert Message.objects.count() == 0
    assert imap_mailbox.poll_lease_until is None


def test_beat_polls_every_mailbox(imap_mailbox, dovecot, run_on_commit):
    dovecot.append(emails(1)[0])
    assert email_poll_mailboxes() == 1
    assert Message.objects.count() == 1


def test_idle_announces_new_mail_and_times_out_without(imap_mailbox, dovecot):
    assert mailbox_wait_for_mail(mailbox_id=imap_mailbox.pk, timeout=0.5) is False

    arrived = threading.Event()
    delivered = []

    def deliver_until_heard() -> None:
        index = 0
        while not arrived.wait(0.3):  # keeps delivering until the waiter heard of one
            dovecot.append(customer_email(message_id=f"<idle{index}@mail.test>"))
            delivered.append(index)
            index += 1

    sender = threading.Thread(target=deliver_until_heard)
    sender.start()
    try:
        heard = mailbox_wait_for_mail(mailbox_id=imap_mailbox.pk, timeout=30)
    finally:
        arrived.set()
        sender.join(timeout=10)
    assert heard is True
    assert delivered


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_the_mailbox_is_read_over_tls_with_the_certificate_verified(
    email_entry_point_a, tmp_path, monkeypatch, security
):
    from tests.support.fixtures import require
    from tests.support.mail_servers import Dovecot, self_signed_certificate

    require(Dovecot.available(), "Debian's dovecot-imapd is not installed (/usr/sbin/dovecot)")
    certificate = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trusted like a real one
    with Dovecot(certificate=certificate) as server:
        server.append(emails(1)[0])
        mailbox = EmailMailbox.objects.create(
            entry_point=email_entry_point_a,
            imap_host="127.0.0.1",
            imap_port=server.ssl_port if security == "ssl" else server.port,
            imap_security=security,
            imap_username=server.username,
            imap_password=server.password,
        )
        report = mailbox_poll(mailbox_id=mailbox.pk)
        assert (report.error, report.stored) == ("", 1)

        # A certificate nobody vouches for is refused.
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nothing.pem"))
        server.append(emails(2)[1])
        refused = mailbox_poll(mailbox_id=mailbox.pk)
        assert "CERTIFICATE_VERIFY_FAILED" in refused.error or "certificate" in refused.error
        assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_idle_watcher_processes_new_mail_as_it_arrives(imap_mailbox, dovecot, settings):
    from channels_app.management.commands.email_idle import watch

    settings.EMAIL_IMAP_IDLE_SECONDS = 2  # how long a stop may wait for the IDLE under way
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(imap_mailbox.pk, stop), daemon=True)
    watcher.start()
    try:
        dovecot.append(customer_email(message_id="<while-idle@mail.test>"))
        deadline = time.monotonic() + 30
        while not Message.objects.filter(provider_id="while-idle@mail.test").exists():
            assert time.monotonic() < deadline, "the watcher did not process the new email"
            time.sleep(0.1)
    finally:
        stop.set()
        watcher.join(timeout=15)
    assert not watcher.is_alive()
    assert Message.objects.count() == 1
