"""The event feed GET /api/v1/events/?after=<id>: the log the desktops resume from, as the token's
user may see it, each fact once, in id order, resumable by id without ever skipping an event that
committed late."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from contactcenter import realtime
from contactcenter.models import Event
from conversations import events
from tests.factories import ConversationFactory, InteractionFactory
from tests.support.api import api_for, error_of

URL = "/api/v1/events/"


@pytest.fixture(autouse=True)
def no_clock_margin(settings):
    # The test's own open transaction is final for it; the margin covers other servers' clocks.
    settings.EVENT_FEED_CLOCK_MARGIN_SECONDS = 0


def publish_for(conversation, type_=events.MESSAGE_CREATED, **payload):
    from conversations.selectors import conversation_audiences

    return realtime.publish(
        audiences=conversation_audiences(conversation),
        type=type_,
        payload={"conversation_id": conversation.pk, **payload},
    )


def read_all(api, after=0, **params) -> list[dict]:
    return api.get(URL, {"after": after, **params}).json()["results"]


@pytest.mark.django_db
def test_a_supervisor_token_sees_every_fact_once_in_order(supervisor, agent_a):
    mine = ConversationFactory(agent=supervisor)  # a supervisor who also takes conversations
    theirs = ConversationFactory(agent=agent_a)
    publish_for(mine, n=1)
    publish_for(theirs, n=2)
    publish_for(mine, type_=events.CONVERSATION_CLOSED, n=3)
    assert Event.objects.count() == 6  # each fact is one row per audience

    results = read_all(api_for(supervisor))

    assert [(e["type"], e["payload"]["n"]) for e in results] == [
        (events.MESSAGE_CREATED, 1),
        (events.MESSAGE_CREATED, 2),
        (events.CONVERSATION_CLOSED, 3),
    ]
    ids = [e["id"] for e in results]
    assert ids == sorted(ids)
    assert set(results[0]) == {"id", "type", "payload", "at"}  # no internal audience


@pytest.mark.django_db
def test_an_agent_token_sees_exactly_its_own_work(agent_a, agent_b, outsider):
    a = ConversationFactory(agent=agent_a)
    b = ConversationFactory(agent=agent_b)
    publish_for(a, n=1)
    publish_for(b, n=2)
    publish_for(a, n=3)
    realtime.publish(audiences=[realtime.SUPERVISORS], type=events.QUEUE_CHANGED, payload={"n": 4})

    assert [e["payload"]["n"] for e in read_all(api_for(agent_a))] == [1, 3]
    assert [e["payload"]["n"] for e in read_all(api_for(agent_b))] == [2]
    assert read_all(api_for(outsider)) == []


@pytest.mark.django_db
def test_the_feed_resumes_after_the_last_id_without_gaps_or_repeats(supervisor):
    conversation = ConversationFactory(agent=supervisor)
    for n in range(7):
        publish_for(conversation, n=n)
    api = api_for(supervisor)

    seen, after = [], 0
    while True:
        page = api.get(URL, {"after": after, "limit": 3}).json()
        seen += [e["payload"]["n"] for e in page["results"]]
        after = page["last_event_id"]
        if not page["has_more"]:
            break
    assert seen == list(range(7))
    publish_for(conversation, n=7)
    assert [e["payload"]["n"] for e in read_all(api, after=after)] == [7]


@pytest.mark.django_db
def test_a_type_filter_still_moves_the_cursor_on(supervisor):
    conversation = ConversationFactory(agent=supervisor)
    publish_for(conversation, n=1)
    publish_for(conversation, type_=events.CONVERSATION_CLOSED, n=2)
    publish_for(conversation, n=3)
    page = api_for(supervisor).get(URL, {"type": events.CONVERSATION_CLOSED, "after": 0}).json()
    assert [e["payload"]["n"] for e in page["results"]] == [2]
    assert page["last_event_id"] == Event.objects.order_by("-id").first().pk


@pytest.mark.django_db
def test_a_pruned_gap_is_a_410_and_bad_parameters_a_400(supervisor):
    conversation = ConversationFactory(agent=supervisor)
    read = publish_for(conversation, n=1)  # the client got these
    missed = publish_for(conversation, n=2)  # ...then was away longer than the retention
    publish_for(conversation, n=3)
    Event.objects.filter(pk__in=[e.pk for e in read + missed]).delete()  # pruned
    api = api_for(supervisor)

    gone = api.get(URL, {"after": read[-1].pk})
    assert gone.status_code == 410
    assert error_of(gone)["code"] == "events_pruned"
    bad = api.get(URL, {"after": "yesterday"})
    assert bad.status_code == 400 and list(error_of(bad)["fields"]) == ["after"]
    assert api.get(URL, {"limit": 5000}).status_code == 400


@pytest.mark.django_db
def test_the_feed_needs_the_read_scope(supervisor):
    response = api_for(supervisor, scopes=["webhooks"]).get(URL)
    assert response.status_code == 403


@pytest.mark.django_db
def test_real_writers_events_reach_the_feed(agent_a, run_on_commit):
    interaction = InteractionFactory(conversation__agent=agent_a)
    from conversations import services

    message = run_on_commit(
        lambda: services.message_send(
            conversation=interaction.conversation, user=agent_a, body="Hello"
        )
    )
    types = [(e["type"], e["payload"].get("message_id")) for e in read_all(api_for(agent_a))]
    assert (events.MESSAGE_CREATED, message.pk) in types


def _requires_postgresql() -> None:
    from tests.conftest import IN_CI

    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("required under CI: PostgreSQL (DATABASE_URL)")
        pytest.skip("SQLite runs one writing transaction at a time: ids commit in order")


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_is_never_skipped_by_a_reader(supervisor, settings):
    """Two racing writers: the first takes a lower id but commits after the second. A reader
    polling in between must not move past the second's id, or it would never see the first."""
    _requires_postgresql()
    conversation = ConversationFactory(agent=supervisor)
    api = api_for(supervisor)
    inserted, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                publish_for(conversation, n="slow")
                inserted.set()
                release.wait(timeout=30)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert inserted.wait(timeout=30)
        publish_for(conversation, n="fast")  # a larger id, committed first
        while_open = read_all(api)
    finally:
        release.set()
        done.wait(timeout=30)
        thread.join(timeout=30)

    assert while_open == []  # "fast" is held back while an earlier id may still commit
    after = read_all(api)
    assert [e["payload"]["n"] for e in after] == ["slow", "fast"]


@pytest.mark.django_db
def test_without_open_transactions_recent_events_are_final(supervisor, settings):
    settings.EVENT_FEED_CLOCK_MARGIN_SECONDS = 0
    conversation = ConversationFactory(agent=supervisor)
    publish_for(conversation, n=1)
    horizon_events = realtime.feed_events_after(audiences=[realtime.SUPERVISORS], after_id=0)
    assert [e.payload["n"] for e in horizon_events] == [1]
    assert timezone.now() - horizon_events[0].created_at < timedelta(minutes=1)
