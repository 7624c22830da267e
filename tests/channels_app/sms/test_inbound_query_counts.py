"""The inbound SMS hot path's SQL statements, pinned (issue 11: `make bench` measures its speed).

Counted with the webhook's whole request (signature, idempotency check, recognition, storage,
events) on PostgreSQL or SQLite alike, inside the test's transaction: the request's own
transaction shows as a savepoint and its release (BEGIN and COMMIT in production); routing runs
after commit and is not counted. A change that adds a statement to every inbound message must
change these numbers on purpose."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contactcenter.webhooks import subscriptions_changed, webhooks_active
from conversations.models import Message
from tests.channels_app.sms.test_webhooks import INBOUND, inbound_params

# The targets are 10 (new contact) and 6 (known contact, open conversation): see README
# "Performance". 20 and 14 before the inbound path became one transaction without savepoints
# (recognition, the twin-delivery check and the SMS keywords inside it), with one INSERT for all
# its events, no reads a new contact cannot need, and the identity and its contact read at once.
NEW_CONTACT_STATEMENTS = 10
KNOWN_CONTACT_STATEMENTS = 10


@pytest.fixture(autouse=True)
def webhooks_remembered(monkeypatch):
    """The steady state remembers for seconds whether webhooks are on: for the whole test here,
    so a slow machine counts the same statements."""
    monkeypatch.setattr("contactcenter.webhooks._ACTIVE_TTL_SECONDS", 3600)
    subscriptions_changed()  # drop a flag an earlier test remembered with the 5 s expiry


def statements_of(twilio_post, **params) -> list[str]:
    webhooks_active()  # remembered per process for seconds: the steady state costs no query
    with CaptureQueriesContext(connection) as queries:
        assert twilio_post(INBOUND, inbound_params(**params)).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.django_db
def test_an_inbound_sms_from_a_new_contact_costs_a_fixed_number_of_statements(
    twilio_post, sms_entry_point_a
):
    statements = statements_of(twilio_post, MessageSid="SM" + "1" * 32, From="+14155550101")
    assert Message.objects.count() == 1
    assert len(statements) == NEW_CONTACT_STATEMENTS, "\n".join(statements)


@pytest.mark.django_db
def test_an_inbound_sms_of_a_known_contact_in_an_open_conversation_costs_fewer(
    twilio_post, sms_entry_point_a
):
    statements_of(twilio_post, MessageSid="SM" + "1" * 32, From="+14155550101")
    statements = statements_of(twilio_post, MessageSid="SM" + "2" * 32, From="+14155550101")
    assert Message.objects.count() == 2
    assert len(statements) == KNOWN_CONTACT_STATEMENTS, "\n".join(statements)
