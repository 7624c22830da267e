"""The CTI API (issue 14): a phone system reports its calls' steps; the caller is recognized by
number, the call is a voice leg of their conversation, the agent whose extension rings gets the
screen-pop, and the history is kept. Repeated events change nothing; late ones are kept and
ignored; a token without the ``cti`` scope gets 403."""

import pytest
from django.contrib.auth.models import Permission

from channels_app.models import CallLeg, CtiEvent, VoiceCall
from contactcenter.models import Event
from contacts.models import Identity
from conversations import services
from conversations.models import Channel, Conversation, Interaction, Message, Offer
from tests.factories import (
    AgentProfileFactory,
    ContactFactory,
    DispositionFactory,
    EntryPointFactory,
    IdentityFactory,
    UserFactory,
)
from tests.support.api import api_for, error_of

EVENTS = "/api/v1/cti/events/"
CALLER = "+14155550123"
DID = "+14155550100"


@pytest.fixture
def voice_number(service_a):
    return EntryPointFactory(
        name="Support line", channel=Channel.VOICE, address=DID, service=service_a
    )


@pytest.fixture
def pbx(db):
    """The phone system's user: may report calls."""
    user = UserFactory(username="asterisk")
    user.user_permissions.add(Permission.objects.get(codename="report_cti_calls"))
    return api_for(user, scopes=["cti"])


@pytest.fixture
def ext_201(agent_a):
    agent_a.agent_profile.extension = "201"
    agent_a.agent_profile.save(update_fields=["extension"])
    return agent_a


@pytest.fixture
def ext_202(service_a):
    return AgentProfileFactory(user__username="agent_c", services=[service_a], extension="202").user


def report(pbx, run_on_commit, event: str, sequence: int, **fields):
    payload = {
        "call_id": "1733412345.42",
        "event": event,
        "sequence": sequence,
        "from": CALLER,
        "to": DID,
        **fields,
    }
    return run_on_commit(lambda: pbx.post(EVENTS, payload, format="json"))


def lines(conversation) -> list[str]:
    return list(
        conversation.messages.filter(kind=Message.Kind.SYSTEM)
        .order_by("id")
        .values_list("body", flat=True)
    )


def pops(user) -> list[dict]:
    return [
        event.payload
        for event in Event.objects.filter(audience=f"agent.{user.pk}", type="voice.screen_pop")
    ]


@pytest.mark.django_db
def test_a_pbx_drives_a_whole_call_with_a_repeated_and_a_late_event(
    pbx, run_on_commit, voice_number, ext_201, ext_202
):
    contact = ContactFactory(first_name="Vera", last_name="Voice")
    IdentityFactory(contact=contact, kind=Identity.Kind.PHONE, value=CALLER)

    response = report(pbx, run_on_commit, "new", 1)
    assert response.status_code == 201, response.content
    call = VoiceCall.objects.get()
    interaction = call.interaction
    conversation = interaction.conversation
    assert conversation.contact == contact and conversation.service == voice_number.service
    assert (call.kind, call.provider, call.state) == ("phone", "cti", "queued")
    assert (interaction.channel, interaction.state, interaction.external_routing) == (
        "voice",
        "queued",
        True,
    )
    # The phone system routes its calls: our router offers it to nobody (agent A is Ready).
    services.route_service(service_id=voice_number.service_id)
    assert not Offer.objects.exists()
    assert response.json()["call"]["contact_name"] == "Vera Voice"

    response = report(pbx, run_on_commit, "ringing", 2, agent="201")
    assert response.status_code == 201, response.content
    call.refresh_from_db()
    interaction.refresh_from_db()
    conversation.refresh_from_db()
    assert call.state == "ringing"
    assert interaction.agent == ext_201 and conversation.agent == ext_201
    assert pops(ext_201) == [
        {
            "conversation_id": conversation.pk,
            "call_id": call.pk,
            "number": CALLER,
            "url": f"/conversations/{conversation.pk}/",
        }
    ]

    answered = report(pbx, run_on_commit, "answered", 3, agent="201")
    assert answered.json()["applied"] is True
    again = report(pbx, run_on_commit, "answered", 3, agent="201")
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["applied"] is False
    call.refresh_from_db()
    assert call.state == "connected" and call.answered_at is not None

    assert report(pbx, run_on_commit, "hold", 4).json()["call"]["state"] == "on_hold"
    assert report(pbx, run_on_commit, "resume", 6).json()["call"]["state"] == "connected"
    # A hold older than the resume arrives late: kept, changes nothing.
    late = report(pbx, run_on_commit, "hold", 5)
    assert late.status_code == 201
    assert late.json()["applied"] is False and late.json()["call"]["state"] == "connected"
    assert CtiEvent.objects.get(event="hold", sequence=5).applied is False

    transferred = report(pbx, run_on_commit, "transferred", 7, agent="202")
    assert transferred.json()["call"]["agent"] == "agent_c"
    assert transferred.json()["call"]["agent_extension"] == "202"
    conversation.refresh_from_db()
    assert conversation.agent == ext_202
    assert len(pops(ext_202)) == 1

    ended = report(pbx, run_on_commit, "hungup", 8, hangup_by="customer")
    assert ended.json()["call"]["state"] == "ended"
    call.refresh_from_db()
    assert call.end_reason == "customer" and call.hold_seconds >= 0
    interaction.refresh_from_db()
    assert interaction.state == Interaction.State.ENDED
    # A ringing that comes after the hang-up changes nothing.
    assert report(pbx, run_on_commit, "ringing", 2, agent="202").json()["duplicate"] is True
    assert report(pbx, run_on_commit, "ringing", 9, agent="201").json()["applied"] is False

    assert [(leg.party, leg.agent_id) for leg in call.legs.order_by("id")] == [
        (CallLeg.Party.CUSTOMER, None),
        (CallLeg.Party.AGENT, ext_201.pk),
        (CallLeg.Party.AGENT, ext_202.pk),
    ]
    assert all(leg.left_at for leg in call.legs.all())
    text = lines(conversation)
    assert text[0] == f"The customer is calling from {CALLER}."
    assert "The call is ringing on Agent agent_a's phone." in text
    assert text.count("Agent agent_a answered the call.") == 1
    assert "Agent agent_a put the customer on hold." in text
    assert "Agent agent_a resumed the call." in text
    assert any(line.startswith("Agent agent_a handed the call to Agent agent_c") for line in text)
    assert text[-1].startswith("The customer hung up. Talk time")
    assert CtiEvent.objects.count() == 9


@pytest.mark.django_db
def test_the_pbx_reads_the_conversation_and_its_disposition(
    pbx, run_on_commit, voice_number, ext_201
):
    report(pbx, run_on_commit, "ringing", 1, agent="201")
    report(pbx, run_on_commit, "answered", 2, agent="201")
    report(pbx, run_on_commit, "hungup", 3, hangup_by="agent")
    conversation = Conversation.objects.get()
    disposition = DispositionFactory(service=conversation.service, name="Resolved")
    run_on_commit(
        lambda: services.conversation_wrap_up(
            conversation=conversation, user=ext_201, disposition=disposition, notes=""
        )
    )

    response = pbx.get("/api/v1/cti/calls/1733412345.42/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["disposition"] == "Resolved"
    assert body["conversation_id"] == conversation.pk
    assert body["conversation_number"] == conversation.number
    assert body["conversation_url"].endswith(f"/conversations/{conversation.pk}/")
    assert (body["state"], body["end_reason"], body["agent"]) == ("ended", "agent", "agent_a")
    assert body["customer_number"] == CALLER and body["direction"] == "inbound"
    assert pbx.get("/api/v1/cti/calls/nope/").status_code == 404


@pytest.mark.django_db
def test_a_call_from_a_customer_whose_chat_is_open_joins_that_conversation(
    pbx, run_on_commit, voice_number, ext_201
):
    """The customer of an open SMS conversation dials the number the agent gave."""
    contact = ContactFactory()
    IdentityFactory(contact=contact, kind=Identity.Kind.PHONE, value=CALLER)
    conversation = run_on_commit(
        lambda: services.inbound_receive(
            record=services.InboundRecord(
                channel=Channel.SMS,
                service=voice_number.service,
                identities=[(Identity.Kind.PHONE, CALLER)],
                provider_id="SM1",
                body="Can I call you?",
                customer_address=CALLER,
            )
        )
    ).message.conversation

    report(pbx, run_on_commit, "answered", 1, agent="201")

    call = VoiceCall.objects.get()
    assert call.interaction.conversation_id == conversation.pk
    assert call.state == "connected"
    assert set(conversation.interactions.values_list("channel", flat=True)) == {"sms", "voice"}


@pytest.mark.django_db
def test_answered_before_ringing_and_an_unknown_caller(pbx, run_on_commit, voice_number, ext_201):
    response = report(pbx, run_on_commit, "answered", 5, agent="201", caller_name="Nina Novak")
    assert response.status_code == 201, response.content
    late = report(pbx, run_on_commit, "ringing", 4, agent="201")
    assert late.json()["applied"] is False
    call = VoiceCall.objects.get()
    assert call.state == "connected"
    contact = call.interaction.conversation.contact
    assert (contact.first_name, contact.last_name) == ("Nina", "Novak")
    assert Identity.objects.get(contact=contact).value == CALLER
    assert len(pops(ext_201)) == 1


@pytest.mark.django_db
def test_an_outbound_call_from_the_agents_phone(pbx, run_on_commit, voice_number, ext_201):
    response = report(
        pbx,
        run_on_commit,
        "new",
        1,
        direction="outbound",
        agent="201",
        **{"from": DID, "to": "(415) 555-0177"},
    )
    assert response.status_code == 201, response.content
    call = VoiceCall.objects.get()
    assert call.interaction.direction == "outbound"
    assert call.interaction.customer_address == "+14155550177"
    assert call.state == "ringing" and call.interaction.agent == ext_201
    report(pbx, run_on_commit, "hungup", 2)
    call.refresh_from_db()
    assert call.state == "ended"
    assert lines(call.interaction.conversation)[-1] == "The customer did not answer the call."


@pytest.mark.django_db
def test_a_token_without_the_cti_scope_gets_403_and_a_user_without_the_permission_404(
    voice_number, ext_201
):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="report_cti_calls"))
    payload = {"call_id": "c1", "event": "new", "sequence": 1, "from": CALLER, "to": DID}

    response = api_for(user, scopes=["read", "write"]).post(EVENTS, payload, format="json")
    assert response.status_code == 403
    assert "cti" in error_of(response)["message"]

    response = api_for(UserFactory(), scopes=["cti"]).post(EVENTS, payload, format="json")
    assert response.status_code == 404
    assert not VoiceCall.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"event": "ringing"}, "agent"),
        ({"event": "ringing", "agent": "999"}, "agent"),
        ({"event": "explode"}, "event"),
        ({"sequence": -1}, "sequence"),
        ({"call_id": "a b"}, "call_id"),
        ({"from": "not a number"}, "from"),
        ({"to": "+14155550999"}, "to"),
    ],
)
def test_bad_events_are_refused_with_the_field_and_store_nothing(
    pbx, run_on_commit, voice_number, fields, field
):
    response = report(pbx, run_on_commit, fields.pop("event", "new"), fields.pop("sequence", 1),
                      **fields)  # fmt: skip
    assert response.status_code == 400, response.content
    assert field in error_of(response)["fields"], response.json()
    assert not VoiceCall.objects.exists() and not CtiEvent.objects.exists()


@pytest.mark.django_db
def test_a_second_call_from_the_same_number_is_a_second_call_of_the_conversation(
    pbx, run_on_commit, voice_number, ext_201
):
    report(pbx, run_on_commit, "answered", 1, agent="201")
    report(pbx, run_on_commit, "new", 1, call_id="second-line")

    first, second = VoiceCall.objects.order_by("id")
    assert first.interaction_id != second.interaction_id
    assert first.interaction.conversation_id == second.interaction.conversation_id
    # The conversation is agent 201's; the phone system says where the second call rings.
    assert (first.state, second.state) == ("connected", "queued")
    assert second.interaction.agent_id == ext_201.pk


def _report_in_thread(user_id: int, event: str, sequence: int, started, results, errors):
    from django.db import connection

    from channels_app.voice import cti

    try:
        started.wait(10)
        outcome = cti.cti_event_report(
            report=cti.CtiReport(
                call_ref="race-1",
                event=event,
                sequence=sequence,
                from_number=CALLER,
                to_number=DID,
                agent="201" if event != "new" else "",
            )
        )
        results.append((event, outcome.duplicate))
    except Exception as exc:  # reported by the test, never swallowed
        errors.append(repr(exc))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_events_of_a_new_call_arriving_at_once_make_one_call(voice_number, ext_201):
    """The same event twice and the next step, all at once (three webhook workers): one call,
    one conversation, each event kept once."""
    import threading

    from tests.contacts.test_merge_concurrency import require_postgres

    require_postgres()
    started = threading.Event()
    results: list[tuple[str, bool]] = []
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=_report_in_thread, args=(ext_201.pk, event, seq, started, results, errors)
        )
        for event, seq in (("new", 1), ("new", 1), ("ringing", 2), ("ringing", 2))
    ]
    for thread in threads:
        thread.start()
    started.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == [("new", False), ("new", True), ("ringing", False), ("ringing", True)]
    call = VoiceCall.objects.get()
    assert call.state == "ringing" and call.interaction.agent_id == ext_201.pk
    assert Conversation.objects.count() == 1
    assert CtiEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_form_encoded_event_as_a_dialplan_curl_posts_it(pbx, run_on_commit, voice_number):
    body = {"call_id": "1733.7", "event": "new", "sequence": "1", "from": CALLER, "to": DID}
    response = run_on_commit(lambda: pbx.post(EVENTS, body))  # application/x-www-form-urlencoded
    assert response.status_code == 201, response.content
    assert response.json()["call"]["customer_number"] == CALLER
