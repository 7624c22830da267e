import pytest
from django.db import transaction

from contactcenter import jobs, realtime
from contactcenter.exceptions import InvalidState, NotFound, ValidationError
from contactcenter.models import Event
from conversations import ports as outbound
from conversations import services, tasks
from conversations.models import Message, MessageStatus
from tests.factories import InteractionFactory


class RecordingSender:
    """A test double of the outbound port (the real Twilio adapter is exercised end to end)."""

    def __init__(self, *errors):
        self.sent = []
        self.errors = list(errors)

    def send(self, message):
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message.pk)
        return outbound.SendResult(provider_id=f"SM{message.pk:032d}", status=MessageStatus.SENT)


@pytest.fixture
def sender(monkeypatch):
    fake = RecordingSender()
    monkeypatch.setitem(outbound._senders, "sms", fake)
    return fake


@pytest.fixture
def conversation(agent_a):
    return InteractionFactory(conversation__agent=agent_a).conversation


@pytest.fixture
def rings(monkeypatch):
    rung = []
    monkeypatch.setattr(realtime, "ring", lambda audiences: rung.extend(audiences))
    return rung


@pytest.mark.django_db
def test_reply_is_queued_then_delivered_after_commit(
    conversation, agent_a, sender, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = services.message_send(conversation=conversation, user=agent_a, body="Hi there")
    assert message.status == MessageStatus.QUEUED
    assert sender.sent == []

    for callback in callbacks:
        callback()

    message.refresh_from_db()
    assert sender.sent == [message.pk]
    assert (message.status, message.provider_id) == ("sent", f"SM{message.pk:032d}")


@pytest.mark.django_db
def test_rolled_back_transaction_publishes_nothing_and_sends_nothing(
    conversation, agent_a, sender, rings, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: enqueued.append(args))

    with pytest.raises(RuntimeError), transaction.atomic():
        services.message_send(conversation=conversation, user=agent_a, body="never sent")
        raise RuntimeError("rolled back")

    assert Message.objects.count() == 0
    assert Event.objects.count() == 0
    assert rings == []
    assert enqueued == []
    assert sender.sent == []


@pytest.mark.django_db
def test_events_ring_only_after_commit(
    conversation, agent_a, sender, rings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.message_send(conversation=conversation, user=agent_a, body="hello")
        assert rings == []
    for callback in callbacks:
        callback()
    # One ring per audience of the transaction's events (a doorbell: the sockets read the log).
    audiences = Event.objects.filter(type="message.created").values_list("audience", flat=True)
    assert sorted(rings) == sorted(audiences)
    assert rings


@pytest.mark.django_db
def test_double_submit_with_the_same_client_token_sends_once(
    conversation, agent_a, sender, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.message_send(
            conversation=conversation, user=agent_a, body="once", client_token="tok-1"
        )
    with django_capture_on_commit_callbacks(execute=True):
        second = services.message_send(
            conversation=conversation, user=agent_a, body="once", client_token="tok-1"
        )

    assert first.pk == second.pk
    assert Message.objects.filter(direction="outbound").count() == 1
    assert sender.sent == [first.pk]


@pytest.mark.django_db
def test_a_redelivered_task_does_not_send_twice(conversation, agent_a, sender):
    message = services.message_send(conversation=conversation, user=agent_a, body="x")
    services.message_deliver(message_id=message.pk)
    services.message_deliver(message_id=message.pk)

    assert sender.sent == [message.pk]


@pytest.mark.django_db
def test_transient_error_leaves_the_message_queued_for_retry(conversation, agent_a, monkeypatch):
    fake = RecordingSender(outbound.SendError("timeout", transient=True, code="network"))
    monkeypatch.setitem(outbound._senders, "sms", fake)
    message = services.message_send(conversation=conversation, user=agent_a, body="x")

    with pytest.raises(outbound.SendError):
        services.message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 1)

    services.message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "sent"
    assert fake.sent == [message.pk]


@pytest.mark.django_db
def test_permanent_error_fails_with_the_providers_error_and_never_retries(
    conversation, agent_a, monkeypatch
):
    fake = RecordingSender(outbound.SendError("Invalid 'To' number", transient=False, code="21211"))
    monkeypatch.setitem(outbound._senders, "sms", fake)
    message = services.message_send(conversation=conversation, user=agent_a, body="x")

    services.message_deliver(message_id=message.pk)
    services.message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "21211")
    assert message.error_message == "Invalid 'To' number"
    assert fake.sent == []
    assert (
        Event.objects.filter(type="message.status_changed", audience=f"agent.{agent_a.pk}").count()
        == 1
    )


@pytest.mark.django_db
def test_sweeper_requeues_messages_stuck_in_sending(conversation, agent_a, sender, settings):
    settings.OUTBOUND_STUCK_SECONDS = 0
    message = services.message_send(conversation=conversation, user=agent_a, body="x")
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING)

    swept = tasks.sweep_outbound()

    message.refresh_from_db()
    assert swept == 1
    assert message.status == "sent"


@pytest.mark.django_db
def test_empty_reply_is_rejected_naming_the_field(conversation, agent_a):
    with pytest.raises(ValidationError) as error:
        services.message_send(conversation=conversation, user=agent_a, body="   ")
    assert error.value.field == "body"
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_sms_to_an_opted_out_contact_is_refused(conversation, agent_a, sender):
    conversation.contact.do_not_text = True
    conversation.contact.save()

    with pytest.raises(ValidationError, match="opted out"):
        services.message_send(conversation=conversation, user=agent_a, body="promo")
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_another_agent_cannot_reply(conversation, agent_b):
    with pytest.raises(NotFound):
        services.message_send(conversation=conversation, user=agent_b, body="hi")
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_reply_to_a_closed_conversation_is_refused(conversation, agent_a):
    services.conversation_end(conversation=conversation, user=agent_a)
    services.conversation_wrap_up(conversation=conversation, user=agent_a, disposition=None)
    with pytest.raises(InvalidState):
        services.message_send(conversation=conversation, user=agent_a, body="late")


@pytest.mark.django_db
def test_failed_message_can_be_sent_again_once(
    client, conversation, agent_a, monkeypatch, django_capture_on_commit_callbacks
):
    failing = RecordingSender(outbound.SendError("Unreachable", transient=False, code="30003"))
    monkeypatch.setitem(outbound._senders, "sms", failing)
    with django_capture_on_commit_callbacks(execute=True):
        failed = services.message_send(conversation=conversation, user=agent_a, body="Hello")
    failed.refresh_from_db()
    assert failed.status == "failed"
    client.force_login(agent_a)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert f"/messages/{failed.pk}/retry/" in page

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/messages/{failed.pk}/retry/")
        second = client.post(f"/messages/{failed.pk}/retry/")

    assert first.status_code == second.status_code == 201
    assert first.json()["message_id"] == second.json()["message_id"]
    retried = Message.objects.get(pk=first.json()["message_id"])
    assert (retried.body, retried.status, retried.interaction) == (
        "Hello",
        "sent",
        failed.interaction,
    )
    assert failing.sent == [retried.pk]
    failed.refresh_from_db()
    assert failed.status == "failed"  # the failure stays in the timeline


@pytest.mark.django_db
def test_only_failed_messages_can_be_retried_and_only_by_their_agent(
    client, conversation, agent_a, agent_b, sender
):
    message = services.message_send(conversation=conversation, user=agent_a, body="ok")
    client.force_login(agent_a)
    assert client.post(f"/messages/{message.pk}/retry/").status_code == 409
    client.force_login(agent_b)
    assert client.post(f"/messages/{message.pk}/retry/").status_code == 404
