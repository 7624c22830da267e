"""Merging while inbound traffic for both contacts keeps arriving loses no message (PostgreSQL).

Recognition locks the contact it recognized and follows ``merged_into``; the merge locks both
contacts in id order before moving anything. Whatever the interleaving, every message must end up
in a conversation of the survivor, and nothing may deadlock or fail.
"""

import threading
import time

import pytest
from django.db import connection

from contactcenter import roles
from contacts.models import Contact, Identity
from contacts.services import contact_merge
from conversations.models import Conversation, Message
from conversations.services import InboundRecord, inbound_receive
from tests.conftest import IN_CI, with_role
from tests.factories import ContactFactory, IdentityFactory, ServiceFactory, UserFactory

THREADS_PER_CONTACT = 3
MESSAGES_PER_THREAD = 20


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        message = "needs PostgreSQL (set DATABASE_URL); row locks are what this test proves"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def _send(service_id, identities, prefix, started, sent, errors):
    from conversations.models import Service

    try:
        service = Service.objects.get(pk=service_id)
        started.wait(10)
        for i in range(MESSAGES_PER_THREAD):
            result = inbound_receive(
                record=InboundRecord(
                    channel="sms",
                    service=service,
                    identities=identities,
                    provider_id=f"{prefix}-{i}",
                    body=f"{prefix} message {i}",
                )
            )
            sent.append(result.message.pk)
    except Exception as exc:  # reported by the test, never swallowed
        errors.append(f"{prefix}: {exc!r}")
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_merge_under_concurrent_inbound_loses_no_message():
    require_postgres()
    service = ServiceFactory(name="Concurrent merge")
    supervisor = with_role(UserFactory(), roles.SUPERVISOR)
    survivor = ContactFactory(first_name="Survivor")
    IdentityFactory(contact=survivor, kind="email", value="ana@example.com")
    merged = ContactFactory(first_name="Merged")
    IdentityFactory(contact=merged, kind="phone", value="+14155550100")
    started = threading.Event()
    sent: list[int] = []
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=_send,
            args=(service.pk, identities, f"{name}{n}", started, sent, errors),
        )
        for name, identities in [
            ("phone", [("phone", "+14155550100")]),
            ("email", [("email", "ana@example.com")]),
        ]
        for n in range(THREADS_PER_CONTACT)
    ]
    for thread in threads:
        thread.start()
    started.set()
    deadline = time.monotonic() + 30
    while len(sent) < len(threads) * MESSAGES_PER_THREAD // 3 and time.monotonic() < deadline:
        time.sleep(0.005)

    merge = contact_merge(survivor=survivor, merged=merged, user=supervisor)

    for thread in threads:
        thread.join(60)
    assert errors == []
    expected = len(threads) * MESSAGES_PER_THREAD
    assert len(sent) == expected
    assert Message.objects.filter(direction="inbound").count() == expected
    assert set(
        Message.objects.filter(pk__in=sent).values_list("conversation__contact_id", flat=True)
    ) == {survivor.pk}
    assert not Conversation.objects.filter(contact=merged).exists()
    assert not Identity.objects.filter(contact=merged).exists()
    assert Contact.objects.count() == 2  # nobody was recognized as a new contact
    assert merge.identity_ids  # the merge did move the phone
