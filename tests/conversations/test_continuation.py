"""Continuation: an inbound from a contact with an open conversation, or one closed less than
the channel's window ago, joins it as a new interaction; later ones open a new conversation."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from conversations.models import Conversation
from conversations.services import InboundRecord, inbound_receive

SMS = "/webhooks/twilio/sms/"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_sids = itertools.count(1)


def sms_from(twilio_post, number="+1 (415) 555-0100", body="hi"):
    sid = f"SM{next(_sids):032d}"
    response = twilio_post(
        SMS,
        {
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": number,
            "To": "+15005550006",
            "Body": body,
            "NumMedia": "0",
        },
    )
    assert response.status_code == 200, response.content
    return Conversation.objects.get(messages__provider_id=sid)


def close(conversation):
    """Test setup: the conversation ended now (as wrap-up would leave it)."""
    from django.utils import timezone

    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.CLOSED, closed_at=timezone.now()
    )


@pytest.mark.django_db
def test_sms_two_hours_after_close_joins_that_conversation_as_a_new_interaction(
    twilio_post, sms_entry_point_a
):
    with time_machine.travel(START, tick=False) as clock:
        first = sms_from(twilio_post)
        close(first)
        clock.shift(timedelta(hours=2))
        second = sms_from(twilio_post, body="me again")

    assert second.pk == first.pk
    second.refresh_from_db()
    assert second.status == Conversation.Status.OPEN
    assert second.closed_at is None
    assert second.messages.count() == 2
    assert Conversation.objects.count() == 1


@pytest.mark.django_db
def test_sms_thirteen_hours_after_close_opens_a_new_conversation(twilio_post, sms_entry_point_a):
    with time_machine.travel(START, tick=False) as clock:
        first = sms_from(twilio_post)
        close(first)
        clock.shift(timedelta(hours=13))
        second = sms_from(twilio_post)

    assert second.pk != first.pk
    assert second.contact == first.contact
    first.refresh_from_db()
    assert first.status == Conversation.Status.CLOSED


@pytest.mark.django_db
def test_sms_while_the_conversation_is_still_open_joins_it(twilio_post, sms_entry_point_a):
    with time_machine.travel(START, tick=False) as clock:
        first = sms_from(twilio_post)
        clock.shift(timedelta(days=3))
        second = sms_from(twilio_post)

    assert second.pk == first.pk


@pytest.mark.django_db
def test_a_shorter_configured_window_makes_two_hours_too_late(
    twilio_post, sms_entry_point_a, settings
):
    settings.CONTINUATION_WINDOW_SECONDS = {**settings.CONTINUATION_WINDOW_SECONDS, "sms": 3600}
    with time_machine.travel(START, tick=False) as clock:
        first = sms_from(twilio_post)
        close(first)
        clock.shift(timedelta(minutes=59))
        inside = sms_from(twilio_post)
        close(inside)
        clock.shift(timedelta(hours=2))
        outside = sms_from(twilio_post)

    assert inside.pk == first.pk
    assert outside.pk != first.pk


@pytest.mark.django_db
def test_a_longer_configured_window_makes_thirteen_hours_still_continue(
    twilio_post, sms_entry_point_a, settings
):
    settings.CONTINUATION_WINDOW_SECONDS = {
        **settings.CONTINUATION_WINDOW_SECONDS,
        "sms": 24 * 3600,
    }
    with time_machine.travel(START, tick=False) as clock:
        first = sms_from(twilio_post)
        close(first)
        clock.shift(timedelta(hours=13))
        second = sms_from(twilio_post)

    assert second.pk == first.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("channel", "identities", "inside", "outside"),
    [
        ("voice", [("phone", "+14155550100")], timedelta(minutes=9), timedelta(minutes=11)),
        ("chat", [("webchat", "visitor-1")], timedelta(hours=11), timedelta(hours=13)),
        ("email", [("email", "ana@example.com")], timedelta(days=29), timedelta(days=31)),
    ],
)
def test_default_windows_per_channel_are_honoured_on_both_sides(
    service_a, channel, identities, inside, outside
):
    def receive():
        record = InboundRecord(
            channel=channel,
            service=service_a,
            identities=identities,
            provider_id=f"{channel}-{next(_sids)}",
            body="hello",
        )
        return inbound_receive(record=record).message.conversation

    with time_machine.travel(START, tick=False) as clock:
        first = receive()
        close(first)
        clock.shift(inside)
        joined = receive()
        close(joined)
        clock.shift(outside)
        new = receive()

    assert joined.pk == first.pk
    assert new.pk != first.pk
